using System.Reflection;
using System.Text.Json;
using EduDing.Api.Data;
using EduDing.Api.Hosting;
using EduDing.Api.Tests.Infrastructure;

namespace EduDing.Api.Tests.Hosting;

public sealed class ConfigurationTests
{
    [Theory]
    [InlineData("Oracle")]
    [InlineData("")]
    [InlineData("1")]
    public void DatabaseOptions_UnknownProvider_NamesTheKeyAndTheChoices(string provider)
    {
        var failures = new DatabaseOptions { Provider = provider }.Validate().ToList();

        var (key, reason) = Assert.Single(failures);
        Assert.Equal("Provider", key);
        Assert.Contains("Sqlite, MySql", reason);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("MySql")]
    [InlineData("MYSQL")]
    public void DatabaseOptions_KnownProviderInAnyCase_IsAccepted(string provider)
    {
        Assert.Empty(new DatabaseOptions { Provider = provider }.Validate());
    }

    [Fact]
    public void AuthOptions_ShortSigningKey_IsRefused()
    {
        var failures = new AuthOptions { SigningKey = Convert.ToBase64String(new byte[16]) }.Validate();

        Assert.Equal("SigningKey", Assert.Single(failures).Key);
    }

    /// <summary>appsettings.sample.json documents every key of every options class, section by section.</summary>
    [Fact]
    public void SampleSettings_ListEveryOptionsKey()
    {
        var sample = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "appsettings.sample.json")),
            new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        var optionsTypes = typeof(DatabaseOptions).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IValidatedOptions).IsAssignableFrom(t))
            .ToList();

        var missing = new List<string>();
        foreach (var type in optionsTypes)
        {
            var section = (string)type.GetProperty(nameof(IValidatedOptions.Section), BindingFlags.Public | BindingFlags.Static)!
                .GetValue(null)!;
            if (!sample.RootElement.TryGetProperty(section, out var element))
            {
                missing.Add(section);
                continue;
            }

            missing.AddRange(type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .Where(p => p.CanWrite)
                .Where(p => !element.TryGetProperty(p.Name, out _))
                .Select(p => $"{section}:{p.Name}"));
        }

        Assert.NotEmpty(optionsTypes);
        Assert.Empty(missing);
    }
}
