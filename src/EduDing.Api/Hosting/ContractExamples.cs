using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace EduDing.Api.Hosting;

/// <summary>
/// Examples of the main requests and answers, by operation, so that a mini-app developer sees a filled-in body beside
/// each schema (Scalar shows them; generated clients ignore them). Values are the demo org's kind of data; a test checks
/// every example against its schema (fields, required fields, types, enums).
/// </summary>
internal static class ContractExamples
{
    public static readonly IReadOnlyDictionary<string, (string? Request, string? Response)> ByOperation =
        new Dictionary<string, (string?, string?)>
        {
            ["Auth_SignInWithDingTalk"] = (
                """{ "corpId": "ding5qva0oae7cke7vd1", "authCode": "7f3c0b1e9a2d4c6e8f0a1b2c3d4e5f60" }""",
                """
                {
                  "accessToken": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIuLi4ifQ.c2lnbmF0dXJl",
                  "accessTokenExpiresAt": "2026-12-02T09:15:00+08:00",
                  "refreshToken": "rt_4mKq9ZbV2xN8pLw3Yc7TgH1sD5fJ0aE6",
                  "sessionExpiresAt": "2026-12-16T09:00:00+08:00",
                  "roles": [ { "role": "adviser", "corpId": "ding5qva0oae7cke7vd1" }, { "role": "teacher", "corpId": "ding5qva0oae7cke7vd1" },
                             { "role": "school-staff", "corpId": "ding5qva0oae7cke7vd1" } ]
                }
                """),
            ["Auth_Refresh"] = ("""{ "refreshToken": "rt_4mKq9ZbV2xN8pLw3Yc7TgH1sD5fJ0aE6" }""", null),
            ["Me_Get"] = (null, """
                {
                  "corpId": "ding5qva0oae7cke7vd1", "userId": "t0103", "name": "王丽", "unionId": "iPiiR3ZxXnJt2LhJwjXGWQiEiE",
                  "roles": [ { "role": "adviser", "corpId": "ding5qva0oae7cke7vd1", "corpName": "海宁市许村镇中心小学" } ],
                  "schools": [],
                  "classesTaught": [ { "corpId": "ding5qva0oae7cke7vd1", "classId": 400000091, "className": "三年级(1)班", "isAdviser": true } ],
                  "children": []
                }
                """),
            ["Notices_Compose"] = ("""
                {
                  "corpId": "ding5qva0oae7cke7vd1",
                  "title": "关于寒假视力筛查的通知",
                  "body": "各位家长：\n\n本周四上午进行**寒假离校视力筛查**，请孩子佩戴日常眼镜到校。",
                  "links": [ { "title": "近视防控小知识", "url": "https://www.nhc.gov.cn/" } ],
                  "audience": [ { "roles": [ "guardians" ], "classIds": [ 400000091 ] } ]
                }
                """, null),
            ["Vision_EnterStudent"] = ("""
                {
                  "studentUserId": "s0301", "sex": "male", "birthDate": "2017-04-12", "screenedOn": "2026-12-01", "glasses": "none",
                  "ucvaRight": 4.8, "ucvaLeft": 4.9, "sphereRight": -0.75, "cylinderRight": -0.5, "axisRight": 180,
                  "sphereLeft": -0.25, "cylinderLeft": 0, "axialLengthRight": 23.85, "axialLengthLeft": 23.7
                }
                """, """{ "created": 1, "updated": 0, "unchanged": 0 }"""),
            ["MyCare_Apply"] = ("""
                {
                  "programId": 12, "corpId": "ding5qva0oae7cke7vd1", "studentUserId": "s0301", "offeringIds": [ 31, 35 ],
                  "weekdays": [ 1, 2, 3, 4, 5 ],
                  "pickup": [ { "name": "张伟", "relation": "父亲", "phone": "13800000000" }, { "name": "李芳", "relation": "祖母", "phone": "13900000000" } ],
                  "termsVersion": 2
                }
                """, null),
            ["MyTraining_Claim"] = ("""
                {
                  "corpId": "ding5qva0oae7cke7vd1", "title": "2026年浙江省小学数学骨干教师培训", "organiser": "浙江师范大学",
                  "earnedOn": "2026-07-20", "kind": "regular", "source": "provincial", "domain": 3, "level": "intermediate", "credits": 24,
                  "hours": 48, "practical": false, "concentrated": true
                }
                """, null),
        };

    public static Task DescribeAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken ct)
    {
        if (operation.OperationId is not { } id || !ByOperation.TryGetValue(id, out var example))
        {
            return Task.CompletedTask;
        }

        if (example.Request is { } request && operation.RequestBody?.Content?.TryGetValue("application/json", out var body) == true)
        {
            body.Example = JsonNode.Parse(request);
        }

        if (example.Response is { } response && operation.Responses?.FirstOrDefault(r => r.Key.StartsWith('2')).Value?.Content is { } content
            && content.TryGetValue("application/json", out var answer))
        {
            answer.Example = JsonNode.Parse(response);
        }

        return Task.CompletedTask;
    }
}
