using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;

namespace EduDing.DingTalk.Callbacks;

/// <summary>
/// The HTTP-push crypto of contract §7c: SHA1 signature over the sorted token, timestamp, nonce and ciphertext, and
/// AES-256-CBC over random(16) ‖ BE uint32 length ‖ message ‖ owner key, padded to 32-byte blocks. The owner key is the
/// app's AppKey for a subscription configured in the developer console.
/// </summary>
public sealed class DingTalkCallbackCrypto
{
    private const int BlockSize = 32;
    private static readonly char[] RandomAlphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".ToCharArray();

    private readonly string _token;
    private readonly byte[] _key;
    private readonly byte[] _iv;
    private readonly string _ownerKey;

    public DingTalkCallbackCrypto(string token, string aesKey, string ownerKey)
    {
        if (aesKey is not { Length: 43 })
        {
            throw new DingTalkCallbackException("900004", "The AES key must be 43 characters (base64 of 32 bytes without '=').");
        }

        try
        {
            _key = Convert.FromBase64String(aesKey + "=");
        }
        catch (FormatException)
        {
            throw new DingTalkCallbackException("900004", "The AES key is not base64.");
        }

        _token = token;
        _iv = _key[..16];
        _ownerKey = ownerKey;
    }

    /// <summary>Lower-case hex SHA1 of the four values sorted ordinally and concatenated.</summary>
    public string Sign(string timestamp, string nonce, string encrypt)
    {
        string[] parts = [_token, timestamp, nonce, encrypt];
        Array.Sort(parts, StringComparer.Ordinal);
        return Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(string.Concat(parts))));
    }

    /// <summary>Checks the signature in constant time, decrypts, and checks the owner key; returns the JSON text.</summary>
    public string Decrypt(string signature, string timestamp, string nonce, string encrypt)
    {
        var expected = Encoding.ASCII.GetBytes(Sign(timestamp, nonce, encrypt));
        var given = Encoding.ASCII.GetBytes(signature ?? "");
        if (!CryptographicOperations.FixedTimeEquals(expected, given))
        {
            throw new DingTalkCallbackException("900005", "The signature does not match.");
        }

        byte[] cipher;
        try
        {
            cipher = Convert.FromBase64String(encrypt);
        }
        catch (FormatException)
        {
            throw new DingTalkCallbackException("900008", "The ciphertext is not base64.");
        }

        if (cipher.Length == 0 || cipher.Length % 16 != 0)
        {
            throw new DingTalkCallbackException("900008", "The ciphertext is not a whole number of AES blocks.");
        }

        using var aes = Aes.Create();
        aes.Key = _key;
        var plain = aes.DecryptCbc(cipher, _iv, PaddingMode.None);
        var pad = plain[^1];
        if (pad is < 1 or > BlockSize || pad > plain.Length || plain.AsSpan(plain.Length - pad).ContainsAnyExcept(pad))
        {
            throw new DingTalkCallbackException("900008", "The padding is invalid.");
        }

        var content = plain.AsSpan(0, plain.Length - pad);
        if (content.Length < 20)
        {
            throw new DingTalkCallbackException("900008", "The plaintext is too short.");
        }

        var length = BinaryPrimitives.ReadUInt32BigEndian(content[16..20]);
        if (length > content.Length - 20)
        {
            throw new DingTalkCallbackException("900008", "The message length is larger than the plaintext.");
        }

        var message = Encoding.UTF8.GetString(content.Slice(20, (int)length));
        var owner = Encoding.UTF8.GetString(content[(20 + (int)length)..]);
        if (!string.Equals(owner, _ownerKey, StringComparison.Ordinal))
        {
            throw new DingTalkCallbackException("900010", "The owner key in the message is not this app's.");
        }

        return message;
    }

    /// <summary>Encrypts <paramref name="message"/>; <paramref name="randomPrefix"/> (16 ASCII chars) is for test vectors only.</summary>
    public string Encrypt(string message, string? randomPrefix = null)
    {
        var random = randomPrefix is null
            ? Encoding.ASCII.GetBytes(RandomNumberGenerator.GetItems<char>(RandomAlphabet, 16))
            : Encoding.ASCII.GetBytes(randomPrefix);
        if (random.Length != 16)
        {
            throw new ArgumentException("The random prefix must be 16 bytes.", nameof(randomPrefix));
        }

        var body = Encoding.UTF8.GetBytes(message);
        var owner = Encoding.UTF8.GetBytes(_ownerKey);
        var unpadded = 16 + 4 + body.Length + owner.Length;
        var pad = BlockSize - unpadded % BlockSize;
        var buffer = new byte[unpadded + pad];
        random.CopyTo(buffer, 0);
        BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(16, 4), (uint)body.Length);
        body.CopyTo(buffer, 20);
        owner.CopyTo(buffer, 20 + body.Length);
        buffer.AsSpan(unpadded).Fill((byte)pad);

        using var aes = Aes.Create();
        aes.Key = _key;
        return Convert.ToBase64String(aes.EncryptCbc(buffer, _iv, PaddingMode.None));
    }

    /// <summary>The reply DingTalk requires for every push (§7d): the encrypted "success", signed.</summary>
    public EncryptedReply CreateSuccessReply(string timestamp, string nonce, string? randomPrefix = null) =>
        CreateReply("success", timestamp, nonce, randomPrefix);

    public EncryptedReply CreateReply(string message, string timestamp, string nonce, string? randomPrefix = null)
    {
        var encrypt = Encrypt(message, randomPrefix);
        return new EncryptedReply(Sign(timestamp, nonce, encrypt), timestamp, nonce, encrypt);
    }

    public static string NewNonce() => new(RandomNumberGenerator.GetItems<char>(RandomAlphabet, 16));
}

/// <summary>The callback reply body; note DingTalk's camel-case "timeStamp" here.</summary>
public sealed record EncryptedReply(
    [property: JsonPropertyName("msg_signature")] string MsgSignature,
    [property: JsonPropertyName("timeStamp")] string TimeStamp,
    [property: JsonPropertyName("nonce")] string Nonce,
    [property: JsonPropertyName("encrypt")] string Encrypt);

/// <summary>A push that fails the crypto: 900004 key, 900005 signature, 900008 ciphertext, 900010 owner key.</summary>
public sealed class DingTalkCallbackException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}
