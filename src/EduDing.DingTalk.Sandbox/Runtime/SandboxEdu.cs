using System.Text.Json.Nodes;
using EduDing.DingTalk.Sandbox.Model;

namespace EduDing.DingTalk.Sandbox.Runtime;

/// <summary>How 家校 nodes are written on the wire: chain and feature as JSON inside strings (§4a).</summary>
public static class SandboxEdu
{
    public static string Chain(SandboxCorp corp, SandboxEduNode node)
    {
        var ancestors = new List<long>();
        for (var parent = node.ParentId; parent is { } id && corp.EduNodes.TryGetValue(id, out var p); parent = p.ParentId)
        {
            ancestors.Insert(0, id);
        }

        return "[" + string.Join(", ", ancestors) + "]";
    }

    public static string Feature(SandboxEduNode node)
    {
        var feature = new JsonObject();
        if (node.GradeLevel is { } level)
        {
            feature["grade_level"] = level;
        }

        if (node.StartYear is { } start)
        {
            feature["start_year"] = start;
        }

        return feature.ToJsonString();
    }

    public static JsonObject Node(SandboxCorp corp, SandboxEduNode node) => new()
    {
        ["dept_id"] = node.Id,
        ["name"] = node.Name,
        ["nick"] = node.Nick ?? "",
        ["chain"] = Chain(corp, node),
        ["feature"] = Feature(node),
        ["contact_type"] = "classic",
        ["dept_type"] = Events.EduNodeTypes.Name(node.Type),
    };
}
