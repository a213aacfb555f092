using System.Text.Json.Serialization;

namespace EduDing.DingTalk.Models;

/// <summary>家校通讯录 roles; DingTalk spells them in lower case (§4c).</summary>
public static class EduRoles
{
    public const string Teacher = "teacher";
    public const string Guardian = "guardian";
    public const string Student = "student";
}

/// <summary>
/// A 家校 node (§4a): campus, period, grade, class or a custom dept. DingTalk sends <see cref="Chain"/> and
/// <see cref="Feature"/> as JSON inside strings; <see cref="Ancestors"/> and <see cref="ParsedFeature"/> read them.
/// </summary>
public sealed record EduDept(long DeptId, string Name, string? Nick, string? Chain, string? Feature, string? ContactType,
    string DeptType)
{
    [JsonIgnore]
    public IReadOnlyList<long> Ancestors => DingTalkJson.ParseEmbedded<List<long>>(Chain) ?? [];

    [JsonIgnore]
    public EduFeature ParsedFeature => DingTalkJson.ParseEmbedded<EduFeature>(Feature) ?? new EduFeature(null, null, null);
}

/// <summary>What a node's or a person's feature string may hold; start_year comes as a string.</summary>
public sealed record EduFeature(int? GradeLevel, string? StartYear, string? StudentNo);

public sealed record EduDeptPage(IReadOnlyList<EduDept> Details, bool HasMore, long? SuperId);

/// <summary>
/// A person in a class (§4c). <see cref="IsAdviser"/> is meaningful for teachers only; the student number may come
/// top-level or inside <see cref="Feature"/>, and one documented variant spells the class id "classId".
/// </summary>
public sealed record EduUser(
    [property: JsonPropertyName("userid")] string UserId,
    string Name,
    [property: JsonPropertyName("unionid")] string? UnionId,
    [property: JsonPropertyName("class_id")] long? ClassId,
    string Role,
    string? Feature,
    bool IsAdviser,
    string? StudentNo)
{
    [JsonPropertyName("classId")]
    public long? ClassIdVariant { get; init; }

    [JsonIgnore]
    public long ClassIdOrVariant => ClassId ?? ClassIdVariant ?? 0;

    [JsonIgnore]
    public string? StudentNumber => !string.IsNullOrEmpty(StudentNo)
        ? StudentNo
        : DingTalkJson.ParseEmbedded<EduFeature>(Feature)?.StudentNo;
}

public sealed record EduUserPage(bool HasMore, IReadOnlyList<EduUser> Details);

/// <summary>A guardian (from) to student (to) relation in a class (§4e).</summary>
public sealed record EduRelation(long ClassId, [property: JsonPropertyName("from_userid")] string FromUserId,
    [property: JsonPropertyName("to_userid")] string ToUserId, string RelationCode, string? RelationName);

public sealed record EduRelationPage(bool HasMore, IReadOnlyList<EduRelation> Relations);

/// <summary>relation_code values (§4e).</summary>
public static class EduRelationCodes
{
    public static IReadOnlyDictionary<string, string> Names { get; } = new Dictionary<string, string>
    {
        ["F"] = "爸爸", ["M"] = "妈妈", ["GF"] = "爷爷", ["GM"] = "奶奶", ["GFA"] = "外公", ["GMA"] = "外婆",
        ["U"] = "叔叔", ["A"] = "阿姨", ["B"] = "哥哥", ["S"] = "姐姐", ["O"] = "家长",
    };
}
