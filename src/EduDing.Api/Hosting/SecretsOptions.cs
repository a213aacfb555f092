namespace EduDing.Api.Hosting;

/// <summary>
/// Where secrets come from besides the environment: a directory of key-per-file secrets, each file named after its
/// configuration key with "__" for ":" (DingTalk__Corps__12__AppSecret) and holding the value. Suits a mounted
/// container secret or a root-only directory when ~100 corps bring ~200 secrets.
/// </summary>
internal sealed class SecretsOptions : IValidatedOptions
{
    public static string Section => "Secrets";

    /// <summary>The directory; empty reads no files.</summary>
    public string Directory { get; set; } = "";

    public IEnumerable<(string Key, string Reason)> Validate()
    {
        if (Directory.Length > 0 && !System.IO.Directory.Exists(Directory))
        {
            yield return (nameof(Directory), $"is not an existing directory ({Directory})");
        }
    }
}
