using Microsoft.Extensions.Options;

namespace EduDing.Api.Hosting;

/// <summary>
/// An options class bound from one configuration section and checked at start. <see cref="Validate"/> yields the
/// offending key (relative to the section) and the reason, so a bad value stops the process with a message such as
/// "Database:Provider: must be one of Sqlite, MySql (was 'Oracle')".
/// </summary>
internal interface IValidatedOptions
{
    static abstract string Section { get; }

    IEnumerable<(string Key, string Reason)> Validate();
}

internal static class ValidatedOptionsExtensions
{
    public static OptionsBuilder<T> AddValidatedOptions<T>(this IServiceCollection services)
        where T : class, IValidatedOptions
    {
        services.AddSingleton<IValidateOptions<T>, SectionValidator<T>>();
        return services.AddOptions<T>().BindConfiguration(T.Section).ValidateOnStart();
    }

    private sealed class SectionValidator<T> : IValidateOptions<T> where T : class, IValidatedOptions
    {
        public ValidateOptionsResult Validate(string? name, T options)
        {
            var failures = options.Validate().Select(f => $"{T.Section}:{f.Key}: {f.Reason}").ToList();
            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }
}
