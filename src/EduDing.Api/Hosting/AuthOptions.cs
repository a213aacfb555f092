namespace EduDing.Api.Hosting;

internal sealed class AuthOptions : IValidatedOptions
{
    public static string Section => "Auth";

    public string Issuer { get; set; } = "eduding";

    public string Audience { get; set; } = "eduding-miniapp";

    /// <summary>
    /// HMAC-SHA256 key for session tokens, at least 32 bytes, base64. A secret: set it through the environment
    /// (Auth__SigningKey) or user secrets. Required with MySQL (several instances must share it); empty on
    /// SQLite means a random key per process, so sessions end when it restarts.
    /// </summary>
    public string SigningKey { get; set; } = "";

    public IEnumerable<(string Key, string Reason)> Validate()
    {
        if (string.IsNullOrWhiteSpace(Issuer))
        {
            yield return (nameof(Issuer), "is required");
        }

        if (string.IsNullOrWhiteSpace(Audience))
        {
            yield return (nameof(Audience), "is required");
        }

        if (SigningKey.Length > 0 && DecodedKeyLength(SigningKey) is not >= 32)
        {
            yield return (nameof(SigningKey), "must be base64 of at least 32 bytes");
        }
    }

    private static int? DecodedKeyLength(string key)
    {
        var buffer = new byte[key.Length];
        return Convert.TryFromBase64String(key, buffer, out var written) ? written : null;
    }
}
