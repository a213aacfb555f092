namespace EduDing.DingTalk.Sandbox.Model;

public enum CorpKind
{
    Bureau,
    School,
}

/// <summary>One DingTalk organization with its one internal app and event subscription settings.</summary>
public sealed class SandboxCorp
{
    public required string CorpId { get; init; }

    public required string Name { get; set; }

    public required CorpKind Kind { get; init; }

    public required string AppKey { get; init; }

    public required string AppSecret { get; init; }

    public required long AgentId { get; init; }

    /// <summary>The event subscription's signing token (3–32 letters and digits).</summary>
    public required string CallbackToken { get; init; }

    /// <summary>The 43-character EncodingAESKey.</summary>
    public required string CallbackAesKey { get; init; }

    /// <summary>Where HTTP push goes; null means no HTTP subscription.</summary>
    public Uri? CallbackUrl { get; set; }

    public Dictionary<long, SandboxDept> Departments { get; } = new();

    public Dictionary<string, SandboxUser> Users { get; } = new(StringComparer.Ordinal);

    public Dictionary<long, SandboxEduNode> EduNodes { get; } = new();

    public Dictionary<long, SandboxClassRoster> Classes { get; } = new();

    public DingTalkApp App => new(CorpId, AppKey, AppSecret, AgentId);

    /// <summary>The mini-app of this corp's own app: every separately created app has its own (contract §12).</summary>
    public string MiniAppId => $"5{AgentId:D15}";
}

public sealed class SandboxDept
{
    public required long Id { get; init; }

    public required string Name { get; set; }

    /// <summary>0 for the root (id 1).</summary>
    public required long ParentId { get; set; }

    public long Order { get; set; }

    public List<string> ManagerUserIds { get; } = [];
}

/// <summary>An employee (通讯录 user). Guardians and students live only in the 家校 rosters.</summary>
public sealed class SandboxUser
{
    public required string UserId { get; init; }

    /// <summary>As this corp's app sees it: scoped to the corp's developer account (SandboxWorld.ScopeUnionId).</summary>
    public required string UnionId { get; set; }

    public required string Name { get; set; }

    public string? Mobile { get; set; }

    public string? JobNumber { get; set; }

    public string? Title { get; set; }

    public bool Admin { get; set; }

    public bool Boss { get; set; }

    public long HiredDate { get; set; }

    /// <summary>Departments in DingTalk's order; a user may be in several.</summary>
    public List<long> DeptIds { get; } = [];

    public HashSet<long> LeaderOf { get; } = [];
}

public enum EduNodeType
{
    Campus,
    Period,
    Grade,
    Class,
}

/// <summary>A 家校 node. <see cref="ParentId"/> is null for first-level nodes (campuses).</summary>
public sealed class SandboxEduNode
{
    public required long Id { get; init; }

    public required string Name { get; set; }

    public string? Nick { get; set; }

    public long? ParentId { get; set; }

    public required EduNodeType Type { get; init; }

    /// <summary>For grades and classes: the grade level (1–12).</summary>
    public int? GradeLevel { get; set; }

    /// <summary>For classes: the year the class started, as DingTalk writes it (a string).</summary>
    public string? StartYear { get; set; }
}

/// <summary>The people of one class and the guardian-to-student relations in it.</summary>
public sealed class SandboxClassRoster
{
    public List<SandboxEduMember> Teachers { get; } = [];

    public List<SandboxEduMember> Students { get; } = [];

    public List<SandboxEduMember> Guardians { get; } = [];

    public List<SandboxRelation> Relations { get; } = [];

    public List<SandboxEduMember> ByRole(string role) => role switch
    {
        "teacher" => Teachers,
        "student" => Students,
        "guardian" => Guardians,
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, "teacher, guardian or student"),
    };
}

public sealed class SandboxEduMember
{
    public required string UserId { get; init; }

    public required string Name { get; set; }

    /// <summary>Empty for students without a phone number, as DingTalk sends it; otherwise scoped like a staff unionId.</summary>
    public required string UnionId { get; set; }

    public bool IsAdviser { get; set; }

    public string? StudentNo { get; set; }
}

public sealed record SandboxRelation(string GuardianUserId, string StudentUserId, string RelationCode);
