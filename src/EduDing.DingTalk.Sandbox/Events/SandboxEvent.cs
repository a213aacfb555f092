using System.Globalization;
using System.Text.Json.Nodes;
using EduDing.DingTalk.Sandbox.Model;

namespace EduDing.DingTalk.Sandbox.Events;

/// <summary>
/// One event as DingTalk would deliver it. The business fields differ by mode (contract §8): Stream carries them as
/// <see cref="StreamData"/> (camelCase for edu events), HTTP push flattens <see cref="HttpData"/> (snake_case for some
/// edu events) next to EventType, EventTime, CorpId and eventId.
/// </summary>
public sealed record SandboxEvent(string EventId, string EventType, string CorpId, long BornTime, JsonObject StreamData,
    JsonObject HttpData)
{
    /// <summary>The decrypted HTTP push body (current-doc shape).</summary>
    public JsonObject HttpPayload()
    {
        var payload = new JsonObject
        {
            ["EventType"] = EventType,
            ["EventTime"] = BornTime,
            ["CorpId"] = CorpId,
            ["eventId"] = EventId,
        };
        foreach (var (key, value) in HttpData)
        {
            payload[key] = value?.DeepClone();
        }

        return payload;
    }

    /// <summary>An item of get_call_back_failed_result: the data under a key named for the event (bpms under bpmsCallBackData).</summary>
    public JsonObject FailedListItem()
    {
        var data = (JsonObject)HttpData.DeepClone();
        data["corpid"] = CorpId;
        data["eventId"] = EventId;
        var key = EventType.StartsWith("bpms_", StringComparison.Ordinal) ? "bpmsCallBackData" : EventType;
        return new JsonObject { ["call_back_tag"] = EventType, ["event_time"] = BornTime, [key] = data };
    }
}

/// <summary>Builds each event type with the fields contract §8 lists.</summary>
public static class SandboxEvents
{
    private static long _sequence;

    private static SandboxEvent Create(string type, SandboxCorp corp, long bornTime, JsonObject stream, JsonObject? http = null) =>
        new($"evt-{Interlocked.Increment(ref _sequence):D10}-{Guid.NewGuid():N}"[..36], type, corp.CorpId, bornTime, stream,
            http ?? (JsonObject)stream.DeepClone());

    private static JsonArray Strings(IEnumerable<string> values) => new(values.Select(v => (JsonNode)JsonValue.Create(v)!).ToArray());

    private static JsonArray Longs(IEnumerable<long> values) => new(values.Select(v => (JsonNode)JsonValue.Create(v)!).ToArray());

    private static string Ms(long bornTime) => bornTime.ToString(CultureInfo.InvariantCulture);

    public static SandboxEvent User(string type, SandboxCorp corp, long at, params string[] userIds) =>
        Create(type, corp, at, new JsonObject { ["timeStamp"] = Ms(at), ["userId"] = Strings(userIds) });

    public static SandboxEvent Dept(string type, SandboxCorp corp, long at, params long[] deptIds) =>
        Create(type, corp, at, new JsonObject { ["timeStamp"] = Ms(at), ["deptId"] = Longs(deptIds) });

    public static SandboxEvent EduDept(string type, SandboxCorp corp, long at, SandboxEduNode node, string chain, string feature) =>
        Create(type, corp, at,
            new JsonObject
            {
                ["deptId"] = node.Id, ["name"] = node.Name, ["nick"] = node.Nick, ["chain"] = chain, ["feature"] = feature,
                ["contactType"] = "classic", ["deptType"] = EduNodeTypes.Name(node.Type),
            },
            new JsonObject
            {
                ["dept_id"] = node.Id, ["name"] = node.Name, ["nick"] = node.Nick, ["chain"] = chain, ["feature"] = feature,
                ["contact_type"] = "classic", ["dept_type"] = EduNodeTypes.Name(node.Type),
            });

    public static SandboxEvent EduDeptDelete(SandboxCorp corp, long at, long deptId, bool graduate) =>
        Create("edu_dept_delete", corp, at,
            new JsonObject { ["deptId"] = deptId, ["isGraduate"] = graduate ? 1 : 0 },
            new JsonObject { ["dept_id"] = deptId, ["is_graduate"] = graduate ? 1 : 0 });

    public static SandboxEvent EduUserInsert(SandboxCorp corp, long at, long classId, string role, SandboxEduMember member) =>
        Create("edu_user_insert", corp, at,
            new JsonObject
            {
                ["classId"] = classId, ["role"] = role, ["userid"] = member.UserId, ["unionid"] = member.UnionId,
                ["name"] = member.Name, ["feature"] = MemberFeature(member), ["studentNo"] = member.StudentNo,
            },
            new JsonObject
            {
                ["class_id"] = classId, ["role"] = role, ["userid"] = member.UserId, ["unionid"] = member.UnionId,
                ["name"] = member.Name, ["feature"] = MemberFeature(member), ["student_no"] = member.StudentNo,
            });

    public static SandboxEvent EduUserUpdate(SandboxCorp corp, long at, long classId, string role, SandboxEduMember member) =>
        Create("edu_user_update", corp, at, new JsonObject
        {
            ["classId"] = classId, ["role"] = role, ["userid"] = member.UserId, ["unionid"] = member.UnionId,
            ["name"] = member.Name, ["feature"] = MemberFeature(member),
        });

    public static SandboxEvent EduUserDelete(SandboxCorp corp, long at, long classId, string role, SandboxEduMember member,
        bool graduate) =>
        Create("edu_user_delete", corp, at,
            new JsonObject
            {
                ["classId"] = classId, ["role"] = role, ["userid"] = member.UserId,
                ["isAdviser"] = member.IsAdviser ? "1" : "0", ["isGraduate"] = graduate ? "1" : "0",
            },
            new JsonObject
            {
                ["class_id"] = classId, ["role"] = role, ["userid"] = member.UserId,
                ["is_adviser"] = member.IsAdviser ? "1" : "0", ["is_graduate"] = graduate ? "1" : "0",
            });

    public static SandboxEvent EduRelation(string type, SandboxCorp corp, long at, long classId, SandboxRelation relation) =>
        Create(type, corp, at, new JsonObject
        {
            ["classId"] = classId, ["fromUserid"] = relation.GuardianUserId, ["toUserid"] = relation.StudentUserId,
            ["relationCode"] = relation.RelationCode,
            ["relationName"] = EduDing.DingTalk.Models.EduRelationCodes.Names.GetValueOrDefault(relation.RelationCode, "家长"),
        });

    public static SandboxEvent Bpms(string type, SandboxCorp corp, long at, JsonObject fields) => Create(type, corp, at, fields);

    private static string MemberFeature(SandboxEduMember member) =>
        member.StudentNo is null ? "{}" : new JsonObject { ["student_no"] = member.StudentNo }.ToJsonString();
}

public static class EduNodeTypes
{
    public static string Name(EduNodeType type) => type switch
    {
        EduNodeType.Campus => "campus",
        EduNodeType.Period => "period",
        EduNodeType.Grade => "grade",
        _ => "class",
    };
}
