using System.Collections.Concurrent;
using System.Data.Common;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapper;
using EduDing.Api.Hosting;

namespace EduDing.Api.Data;

/// <summary>
/// Encryption at rest of children's identifiers and health fields (docs/encryption.md). Master keys come from
/// configuration or the environment (<c>Encryption__MasterKeys__{id}</c>); they only wrap the data keys stored in
/// <c>data_keys</c>, which encrypt the fields.
/// </summary>
internal sealed class EncryptionOptions : IValidatedOptions
{
    public static string Section => "Encryption";

    /// <summary>Master keys by id (letters, digits, '-' and '_'): base64 of 32 random bytes. Keep retired ones until rotation is done.</summary>
    public Dictionary<string, string> MasterKeys { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The master key new values are encrypted under; with one master key it may be left out.</summary>
    public string? ActiveKey { get; set; }

    /// <summary>Off only to measure what encryption costs (bench): values are then written in the clear, and read either way.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Where an embedded (SQLite) installation with no master key configured keeps the one it generates, relative to
    /// the content root. A MySQL installation must configure its keys: instances share the database, not a file.
    /// </summary>
    public string KeyFile { get; set; } = "data/eduding.keys.json";

    /// <summary>Whether this instance re-encrypts stored values under the active key in the background.</summary>
    public bool RunReencryption { get; set; } = true;

    /// <summary>Pause between passes of the background re-encryption once nothing is left to do.</summary>
    public TimeSpan ReencryptionInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Rows read and rewritten per transaction by the re-encryption.</summary>
    public int ReencryptionBatch { get; set; } = 500;

    public IEnumerable<(string Key, string Reason)> Validate()
    {
        if (ReencryptionBatch is < 1 or > 10_000)
        {
            yield return (nameof(ReencryptionBatch), "must be 1 to 10000 rows");
        }

        if (ReencryptionInterval <= TimeSpan.Zero)
        {
            yield return (nameof(ReencryptionInterval), "must be positive");
        }
    }

    /// <summary>
    /// The master keys this instance works with. With none configured: on SQLite the key file's (generated on first
    /// start); on MySQL an error saying what to set.
    /// </summary>
    internal FieldKeys Resolve(DatabaseProvider provider, string contentRoot, ILogger log)
    {
        var configured = MasterKeys.Where(k => !string.IsNullOrWhiteSpace(k.Value)).ToDictionary(k => k.Key, k => k.Value, StringComparer.Ordinal);
        if (configured.Count == 0)
        {
            if (provider != DatabaseProvider.Sqlite)
            {
                throw new InvalidOperationException(
                    "Encryption:MasterKeys is empty: set at least one master key (Encryption__MasterKeys__<id>=<base64 of 32 random bytes>) "
                    + "on every instance; see docs/encryption.md.");
            }

            var path = Path.Combine(contentRoot, KeyFile);
            configured = FieldKeys.LoadOrCreateFile(path);
            log.LogWarning("No master key configured: using the key file {KeyFile} (fine for a local run; configure Encryption:MasterKeys in production)",
                path);
        }

        return FieldKeys.From(configured, ActiveKey, Enabled);
    }
}

/// <summary>The master keys of one instance, decoded and checked.</summary>
internal sealed record FieldKeys(IReadOnlyDictionary<string, byte[]> Masters, string ActiveId, bool Enabled)
{
    internal static FieldKeys From(IReadOnlyDictionary<string, string> masters, string? activeId, bool enabled)
    {
        var decoded = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var (id, value) in masters)
        {
            if (id.Length is 0 or > 32 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                throw new InvalidOperationException($"Encryption:MasterKeys:{id}: a key id is 1–32 letters, digits, '-' or '_'.");
            }

            byte[] key;
            try
            {
                key = Convert.FromBase64String(value);
            }
            catch (FormatException)
            {
                key = [];
            }

            if (key.Length != 32)
            {
                // The value itself is never repeated in a message.
                throw new InvalidOperationException($"Encryption:MasterKeys:{id} must be base64 of exactly 32 bytes.");
            }

            decoded[id] = key;
        }

        var active = string.IsNullOrWhiteSpace(activeId) ? (decoded.Count == 1 ? decoded.Keys.Single() : null) : activeId;
        if (active is null || !decoded.ContainsKey(active))
        {
            throw new InvalidOperationException(decoded.Count > 1 && active is null
                ? "Encryption:ActiveKey must name one of Encryption:MasterKeys when there are several."
                : $"Encryption:ActiveKey '{activeId}' is not among Encryption:MasterKeys.");
        }

        return new FieldKeys(decoded, active, enabled);
    }

    /// <summary>One fresh master key as configuration takes it.</summary>
    internal static string NewMasterKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    internal static Dictionary<string, string> LoadOrCreateFile(string path)
    {
        if (File.Exists(path))
        {
            return JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(path)) ?? [];
        }

        var keys = new Dictionary<string, string> { ["local-1"] = NewMasterKey() };
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllText(path, JsonSerializer.Serialize(keys));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        return keys;
    }
}

/// <summary>
/// Encrypts and decrypts single fields: <c>ed1.{keyId}.{base64(nonce ‖ tag ‖ ciphertext)}</c>, AES-256-GCM under the
/// data key of master key <c>keyId</c>. A stored value without the prefix is a value from before encryption (or written
/// with encryption off) and reads as it is, until the background re-encryption seals it. Equality searches use
/// <see cref="KeyedHash"/>, whose key is a data key of its own that rotation re-wraps and never changes.
/// </summary>
internal sealed class FieldProtector(FieldKeys keys, DbDataSource dataSource, SqlDialect dialect)
{
    internal const string Prefix = "ed1.";
    internal const string HashKeyId = "hash";
    private const int NonceSize = 12;
    private const int TagSize = 16;

    // An AesGcm keeps its key schedule but is not safe to share between threads: one per thread and data key, made once
    // rather than per value (a 4,000-row import seals 4,000 values and reads 4,000 学号).
    [ThreadStatic]
    private static ConditionalWeakTable<byte[], AesGcm>? t_ciphers;

    private readonly ConcurrentDictionary<string, byte[]> _dataKeys = new(StringComparer.Ordinal);
    private readonly Lock _loading = new();

    public string ActiveKeyId => keys.ActiveId;

    public bool Enabled => keys.Enabled;

    /// <summary>What every value written now starts with (with encryption on).</summary>
    public string ActivePrefix => $"{Prefix}{keys.ActiveId}.";

    public static bool IsSealed([NotNullWhen(true)] string? stored) => stored?.StartsWith(Prefix, StringComparison.Ordinal) == true;

    /// <summary>The master key a stored value was sealed under; null for a value in the clear.</summary>
    public static string? KeyIdOf(string? stored) =>
        IsSealed(stored) && stored.IndexOf('.', Prefix.Length) is var end and > 0 ? stored[Prefix.Length..end] : null;

    /// <summary>Whether a stored value is as the active configuration would write it (nothing for the re-encryption to do).</summary>
    public bool IsCurrent(string? stored) => stored is null || (keys.Enabled ? stored.StartsWith(ActivePrefix, StringComparison.Ordinal) : !IsSealed(stored));

    [return: NotNullIfNotNull(nameof(plaintext))]
    public string? Protect(string? plaintext)
    {
        if (plaintext is null || !keys.Enabled)
        {
            return plaintext;
        }

        var input = Encoding.UTF8.GetBytes(plaintext);
        var sealedBytes = new byte[NonceSize + TagSize + input.Length];
        var nonce = sealedBytes.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        Cipher(DataKey(keys.ActiveId)).Encrypt(nonce, input, sealedBytes.AsSpan(NonceSize + TagSize), sealedBytes.AsSpan(NonceSize, TagSize));

        return ActivePrefix + Convert.ToBase64String(sealedBytes);
    }

    [return: NotNullIfNotNull(nameof(stored))]
    public string? Unprotect(string? stored)
    {
        if (!IsSealed(stored))
        {
            return stored;
        }

        var keyId = KeyIdOf(stored) ?? throw new CryptographicException("A sealed value without a key id.");
        var sealedBytes = Convert.FromBase64String(stored[(Prefix.Length + keyId.Length + 1)..]);
        if (sealedBytes.Length < NonceSize + TagSize)
        {
            throw new CryptographicException($"A sealed value under key {keyId} is too short.");
        }

        var plain = new byte[sealedBytes.Length - NonceSize - TagSize];
        Cipher(DataKey(keyId)).Decrypt(sealedBytes.AsSpan(0, NonceSize), sealedBytes.AsSpan(NonceSize + TagSize), sealedBytes.AsSpan(NonceSize, TagSize),
            plain);

        return Encoding.UTF8.GetString(plain);
    }

    /// <summary>Sealed again under the active key (or in the clear with encryption off); null when it already is.</summary>
    public string? Reprotect(string? stored) => IsCurrent(stored) ? null : Protect(Unprotect(stored));

    /// <summary>HMAC-SHA256 under the hash key, in hex: equal values give equal hashes, and nobody without the key can test a guess.</summary>
    public string KeyedHash(string value) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(DataKey(HashKeyId), Encoding.UTF8.GetBytes(value)));

    /// <summary>
    /// Makes sure the active master key has its data key and the hash key exists (run at startup, after the
    /// migrations, so that no write transaction ever has to create one). Two instances creating at once agree: the
    /// first insert wins and both read it.
    /// </summary>
    public async Task EnsureKeysAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        foreach (var id in new[] { keys.ActiveId, HashKeyId })
        {
            if (await connection.ExecuteScalarAsync<int>(new CommandDefinition(
                    "SELECT COUNT(*) FROM data_keys WHERE id = @id", new { id }, cancellationToken: ct)) > 0)
            {
                continue;
            }

            try
            {
                var key = RandomNumberGenerator.GetBytes(32);
                await connection.ExecuteAsync(new CommandDefinition(
                    "INSERT INTO data_keys (id, master_key_id, wrapped, created_at) VALUES (@id, @master, @wrapped, @now)",
                    new { id, master = keys.ActiveId, wrapped = Wrap(id, key, keys.ActiveId), now = DateTime.UtcNow }, cancellationToken: ct));
            }
            catch (DbException ex) when (dialect.IsUniqueViolation(ex))
            {
                // Another instance created it first: theirs is the one.
            }
        }

        // Every data key this instance can unwrap, loaded now: a key first needed inside a write transaction would
        // otherwise be read on a second connection, which SQLite's single writer can make wait for the first.
        foreach (var (id, master, wrapped) in await connection.QueryAsync<(string, string, string)>(new CommandDefinition(
                     "SELECT id, master_key_id, wrapped FROM data_keys", cancellationToken: ct)))
        {
            if (keys.Masters.TryGetValue(master, out var masterKey))
            {
                _dataKeys.TryAdd(id, Unwrap(id, wrapped, masterKey));
            }
        }
    }

    /// <summary>
    /// Re-wraps the data keys still wrapped by a retired master key under the active one (the keys themselves do not
    /// change); returns how many were re-wrapped. The hash key lives on this way through every rotation.
    /// </summary>
    public async Task<int> RewrapDataKeysAsync(CancellationToken ct)
    {
        if (!keys.Enabled)
        {
            return 0;
        }

        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var rewrapped = 0;
        foreach (var (id, master) in await connection.QueryAsync<(string, string)>(new CommandDefinition(
                     "SELECT id, master_key_id FROM data_keys WHERE master_key_id <> @active", new { active = keys.ActiveId }, cancellationToken: ct)))
        {
            if (!keys.Masters.ContainsKey(master))
            {
                continue;
            }

            rewrapped += await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE data_keys SET master_key_id = @active, wrapped = @wrapped WHERE id = @id AND master_key_id = @master",
                new { id, master, active = keys.ActiveId, wrapped = Wrap(id, DataKey(id), keys.ActiveId) }, cancellationToken: ct));
        }

        return rewrapped;
    }

    private static AesGcm Cipher(byte[] dataKey) => (t_ciphers ??= []).GetValue(dataKey, static key => new AesGcm(key, TagSize));

    private byte[] DataKey(string id)
    {
        if (_dataKeys.TryGetValue(id, out var key))
        {
            return key;
        }

        lock (_loading)
        {
            if (_dataKeys.TryGetValue(id, out key))
            {
                return key;
            }

            // Once per key and process; a read on its own connection, so it takes no lock a caller's transaction holds.
            using var connection = dataSource.OpenConnection();
            var row = connection.QuerySingleOrDefault<(string Master, string Wrapped)?>(
                "SELECT master_key_id, wrapped FROM data_keys WHERE id = @id", new { id });
            if (row is not { } found)
            {
                throw new CryptographicException($"There is no data key '{id}': the service creates it at startup (see docs/encryption.md).");
            }

            if (!keys.Masters.TryGetValue(found.Master, out var master))
            {
                throw new CryptographicException(
                    $"Data key '{id}' is wrapped by master key '{found.Master}', which this instance is not configured with (Encryption:MasterKeys).");
            }

            key = Unwrap(id, found.Wrapped, master);
            _dataKeys[id] = key;
            return key;
        }
    }

    private string Wrap(string id, byte[] dataKey, string masterId)
    {
        var wrapped = new byte[NonceSize + TagSize + dataKey.Length];
        RandomNumberGenerator.Fill(wrapped.AsSpan(0, NonceSize));
        using var aes = new AesGcm(keys.Masters[masterId], TagSize);
        aes.Encrypt(wrapped.AsSpan(0, NonceSize), dataKey, wrapped.AsSpan(NonceSize + TagSize), wrapped.AsSpan(NonceSize, TagSize),
            Encoding.UTF8.GetBytes(id));
        return Convert.ToBase64String(wrapped);
    }

    private static byte[] Unwrap(string id, string wrapped, byte[] master)
    {
        var bytes = Convert.FromBase64String(wrapped);
        var key = new byte[bytes.Length - NonceSize - TagSize];
        using var aes = new AesGcm(master, TagSize);
        aes.Decrypt(bytes.AsSpan(0, NonceSize), bytes.AsSpan(NonceSize + TagSize), bytes.AsSpan(NonceSize, TagSize), key, Encoding.UTF8.GetBytes(id));
        return key;
    }
}
