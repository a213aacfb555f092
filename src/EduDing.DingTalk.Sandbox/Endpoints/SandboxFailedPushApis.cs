using System.Text.Json.Nodes;

namespace EduDing.DingTalk.Sandbox.Endpoints;

/// <summary>The list of events whose HTTP push failed (contract §7e).</summary>
internal static class SandboxFailedPushApis
{
    public static void Map(SandboxApi api)
    {
        var sandbox = api.Sandbox;
        api.Oapi(DingTalkApis.GetFailedCallbacks, (corp, _) =>
        {
            var (events, hasMore) = sandbox.Push.TakeFailed(corp.CorpId);
            return new JsonObject
            {
                ["has_more"] = hasMore,
                ["failed_list"] = new JsonArray(events.Select(e => (JsonNode)e.FailedListItem()).ToArray()),
            };
        });
    }
}
