using System.Security.Cryptography;
using EduDing.DingTalk.Sandbox.Generation;
using EduDing.DingTalk.Sandbox.Model;

namespace EduDing.DingTalk.Sandbox.Runtime;

/// <summary>
/// The organizations and everything DingTalk keeps about them, behind one lock (<see cref="Sync"/>): reads and
/// writes are short, and a sandbox values obvious consistency over throughput.
/// </summary>
public sealed class SandboxWorld
{
    private readonly Dictionary<string, SandboxCorp> _byCorpId;
    private readonly Dictionary<string, SandboxCorp> _byAppKey;
    private readonly Dictionary<string, (SandboxCorp Corp, DateTimeOffset ExpiresAt)> _tokens = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _tokenByAppKey = new(StringComparer.Ordinal);
    private readonly Dictionary<string, AuthCode> _authCodes = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly SandboxOptions _options;
    private long _nextEnterpriseDeptId = 900_001;
    private long _nextEduNodeId = 800_000_001;
    private int _nextUserSequence;

    public SandboxWorld(IReadOnlyList<SandboxCorp> corps, SandboxOptions options, TimeProvider time)
    {
        Corps = corps;
        _options = options;
        _time = time;
        _byCorpId = corps.ToDictionary(c => c.CorpId);
        _byAppKey = corps.ToDictionary(c => c.AppKey);
    }

    public static SandboxWorld Generate(SandboxOptions options, TimeProvider time)
    {
        var world = new SandboxWorld(new OrgGenerator(options.Seed, SandboxPreset.Parse(options.Preset)).Generate(), options, time);
        world.ScopeGeneratedUnionIds();
        return world;
    }

    private readonly Dictionary<(string CorpId, string UnionId), string> _personOf = new();

    /// <summary>
    /// The unionId a corp's app sees for a person: the person's own key when every app shares one developer account,
    /// otherwise one derived from the corp (its own account). Empty stays empty (a student without a phone).
    /// </summary>
    public string ScopeUnionId(SandboxCorp corp, string person)
    {
        if (person.Length == 0 || _options.SharedDeveloperAccount)
        {
            return person;
        }

        var scoped = "u" + Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{corp.CorpId}:{person}")))[..19];
        lock (_personOf)
        {
            _personOf[(corp.CorpId, scoped)] = person;
        }

        return scoped;
    }

    /// <summary>Who a corp's unionId belongs to, across developer accounts: the person key tests use to find the same person elsewhere.</summary>
    public string PersonOf(string corpId, string unionId)
    {
        lock (_personOf)
        {
            return _personOf.GetValueOrDefault((corpId, unionId), unionId);
        }
    }

    private void ScopeGeneratedUnionIds()
    {
        foreach (var corp in Corps)
        {
            foreach (var user in corp.Users.Values)
            {
                user.UnionId = ScopeUnionId(corp, user.UnionId);
            }

            // A person in several classes of one corp is one object; scope each once.
            var members = corp.Classes.Values.SelectMany(r => r.Students.Concat(r.Guardians).Concat(r.Teachers)).Distinct();
            foreach (var member in members.ToList())
            {
                member.UnionId = ScopeUnionId(corp, member.UnionId);
            }
        }
    }

    public object Sync { get; } = new();

    public IReadOnlyList<SandboxCorp> Corps { get; }

    public SandboxCorp Bureau => Corps.First(c => c.Kind == CorpKind.Bureau);

    public IEnumerable<SandboxCorp> Schools => Corps.Where(c => c.Kind == CorpKind.School);

    public SandboxCorp? FindCorp(string corpId) => _byCorpId.GetValueOrDefault(corpId);

    public SandboxCorp? FindByAppKey(string appKey) => _byAppKey.GetValueOrDefault(appKey);

    public SandboxCorp GetCorp(string corpId) =>
        FindCorp(corpId) ?? throw new SandboxRequestException(60020, "NotFound", $"No corp {corpId} in the sandbox.");

    /// <summary>§1d: calling again while a token is valid returns the same token and extends it.</summary>
    public (string Token, long ExpiresIn) IssueToken(SandboxCorp corp)
    {
        lock (Sync)
        {
            var now = _time.GetUtcNow();
            if (!_tokenByAppKey.TryGetValue(corp.AppKey, out var token) || _tokens[token].ExpiresAt <= now)
            {
                if (token is not null)
                {
                    _tokens.Remove(token);
                }

                token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
                _tokenByAppKey[corp.AppKey] = token;
            }

            _tokens[token] = (corp, now + _options.TokenLifetime);
            return (token, (long)_options.TokenLifetime.TotalSeconds);
        }
    }

    /// <summary>The corp whose token this is; null with the reason when it is unknown or expired.</summary>
    public (SandboxCorp? Corp, bool Expired) ResolveToken(string? token)
    {
        lock (Sync)
        {
            if (token is null || !_tokens.TryGetValue(token, out var entry))
            {
                return (null, false);
            }

            return entry.ExpiresAt <= _time.GetUtcNow() ? (null, true) : (entry.Corp, false);
        }
    }

    /// <summary>Ends every token at once, as an expiry would (tests of the client's refresh).</summary>
    public void ExpireAllTokens()
    {
        lock (Sync)
        {
            _tokens.Clear();
            _tokenByAppKey.Clear();
        }
    }

    /// <summary>What dd.getAuthCode gives the mini-app: a single-use code valid for 5 minutes.</summary>
    public string IssueAuthCode(string corpId, string userId)
    {
        lock (Sync)
        {
            var corp = GetCorp(corpId);
            if (!corp.Users.ContainsKey(userId) && !corp.Classes.Values.Any(r =>
                    r.Guardians.Any(g => g.UserId == userId) || r.Students.Any(s => s.UserId == userId)))
            {
                throw new SandboxRequestException(60121, "NotFound", $"No user {userId} in {corpId}.");
            }

            var code = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            _authCodes[code] = new AuthCode(corp.CorpId, userId, _time.GetUtcNow() + _options.AuthCodeLifetime);
            return code;
        }
    }

    /// <summary>Consumes a code; null when it never existed, was used, expired or belongs to another corp.</summary>
    public string? RedeemAuthCode(SandboxCorp corp, string code)
    {
        lock (Sync)
        {
            if (!_authCodes.Remove(code, out var entry) || entry.CorpId != corp.CorpId || entry.ExpiresAt <= _time.GetUtcNow())
            {
                return null;
            }

            return entry.UserId;
        }
    }

    public long NewEnterpriseDeptId() => Interlocked.Increment(ref _nextEnterpriseDeptId);

    public long NewEduNodeId() => Interlocked.Increment(ref _nextEduNodeId);

    public string NewUserId(string prefix) => $"{prefix}{Interlocked.Increment(ref _nextUserSequence):D7}";

    /// <summary>A class's roster or a 60003-style error.</summary>
    public static SandboxClassRoster Roster(SandboxCorp corp, long classId) =>
        corp.Classes.TryGetValue(classId, out var roster)
            ? roster
            : throw new SandboxRequestException(60003, "NotFound", $"班级不存在 ({classId}).");

    private sealed record AuthCode(string CorpId, string UserId, DateTimeOffset ExpiresAt);
}

/// <summary>A refusal the sandbox answers in the family's own shape (errcode on oapi, status + code on v1.0).</summary>
public sealed class SandboxRequestException(long errCode, string apiCode, string message, int httpStatus = 400)
    : Exception(message)
{
    public long ErrCode { get; } = errCode;

    public string ApiCode { get; } = apiCode;

    public int HttpStatus { get; } = httpStatus;
}
