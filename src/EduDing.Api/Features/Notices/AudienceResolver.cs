using Dapper;
using EduDing.Api.Data;

namespace EduDing.Api.Features.Notices;

/// <summary>
/// Turns an audience into DingTalk userids per corp from the org mirror, at the moment of sending, each person once
/// (the first selector and class that reached them gives the recorded reason).
/// </summary>
internal sealed class AudienceResolver(Database db)
{
    public async Task<IReadOnlyList<NoticeRecipient>> ResolveAsync(IReadOnlyList<AudienceSelector> audience, CancellationToken ct)
    {
        var recipients = new Dictionary<(string, string), NoticeRecipient>();
        await using var connection = await db.OpenConnectionAsync(ct);
        var schools = (await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT corp_id FROM corps WHERE kind = 'School' ORDER BY corp_id", cancellationToken: ct))).ToList();
        foreach (var selector in audience)
        {
            foreach (var corpId in selector.CorpId is { } one ? [one] : schools)
            {
                var roles = selector.Roles ?? [];
                if (roles.Contains(AudienceRole.Staff))
                {
                    var corpName = await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
                        "SELECT name FROM corps WHERE corp_id = @corpId", new { corpId }, cancellationToken: ct)) ?? corpId;
                    foreach (var (userId, unionId, name) in await connection.QueryAsync<(string, string?, string)>(new CommandDefinition(
                                 "SELECT user_id, union_id, name FROM staff WHERE corp_id = @corpId AND removed_at IS NULL ORDER BY user_id",
                                 new { corpId }, cancellationToken: ct)))
                    {
                        recipients.TryAdd((corpId, userId),
                            new NoticeRecipient(corpId, userId, unionId, name, AudienceRole.Staff, null, $"staff of {corpName}"));
                    }
                }

                var classRoles = roles.Where(r => r != AudienceRole.Staff).ToList();
                if (classRoles.Count == 0)
                {
                    continue;
                }

                var classes = (await ClassesAsync(connection, corpId, selector, ct)).ToDictionary(c => c.NodeId, c => c.Name);
                if (classes.Count == 0)
                {
                    continue;
                }

                var classIds = classes.Keys.ToList();
                if (classRoles.Contains(AudienceRole.Teachers) || classRoles.Contains(AudienceRole.Advisers))
                {
                    var advisersOnly = !classRoles.Contains(AudienceRole.Teachers);
                    foreach (var (classId, userId, unionId, name, isAdviser) in await connection.QueryAsync<(long, string, string?, string?, bool)>(
                                 new CommandDefinition("""
                                     SELECT m.class_id, m.user_id, s.union_id, s.name, m.is_adviser
                                     FROM class_members m
                                     LEFT JOIN staff s ON s.corp_id = m.corp_id AND s.user_id = m.user_id
                                     WHERE m.corp_id = @corpId AND m.role = 'teacher' AND m.class_id IN @classIds
                                       AND (s.user_id IS NULL OR s.removed_at IS NULL)
                                     ORDER BY m.class_id, m.user_id
                                     """, new { corpId, classIds }, cancellationToken: ct)))
                    {
                        if (advisersOnly && !isAdviser)
                        {
                            continue;
                        }

                        var role = isAdviser ? AudienceRole.Advisers : AudienceRole.Teachers;
                        recipients.TryAdd((corpId, userId), new NoticeRecipient(corpId, userId, unionId, name ?? userId, role, classId,
                            $"{(isAdviser ? "adviser" : "teacher")} of {classes[classId]}"));
                    }
                }

                if (classRoles.Contains(AudienceRole.Guardians))
                {
                    foreach (var (classId, userId, unionId, name) in await connection.QueryAsync<(long, string, string?, string)>(
                                 new CommandDefinition("""
                                     SELECT m.class_id, m.user_id, g.union_id, g.name
                                     FROM class_members m
                                     JOIN guardians g ON g.corp_id = m.corp_id AND g.user_id = m.user_id
                                     WHERE m.corp_id = @corpId AND m.role = 'guardian' AND m.class_id IN @classIds AND g.removed_at IS NULL
                                     ORDER BY m.class_id, m.user_id
                                     """, new { corpId, classIds }, cancellationToken: ct)))
                    {
                        recipients.TryAdd((corpId, userId), new NoticeRecipient(corpId, userId, unionId, name, AudienceRole.Guardians, classId,
                            $"guardian in {classes[classId]}"));
                    }
                }
            }
        }

        return recipients.Values.ToList();
    }

    /// <summary>The corp's current classes the selector reaches: every class, or those matching any narrowing given.</summary>
    private static async Task<IEnumerable<(long NodeId, string Name)>> ClassesAsync(System.Data.Common.DbConnection connection,
        string corpId, AudienceSelector selector, CancellationToken ct)
    {
        var narrowing = new List<string>();
        if (selector.ClassIds is { Count: > 0 })
        {
            narrowing.Add("c.node_id IN @classIds");
        }

        if (selector.GradeIds is { Count: > 0 })
        {
            narrowing.Add("c.parent_node_id IN @gradeIds");
        }

        if (selector.PeriodIds is { Count: > 0 })
        {
            narrowing.Add("g.parent_node_id IN @periodIds");
        }

        if (selector.GradeLevels is { Count: > 0 })
        {
            narrowing.Add("c.grade_level IN @gradeLevels");
        }

        var where = narrowing.Count == 0 ? "" : $"AND ({string.Join(" OR ", narrowing)})";
        return await connection.QueryAsync<(long, string)>(new CommandDefinition($"""
            SELECT c.node_id, c.name FROM edu_nodes c
            LEFT JOIN edu_nodes g ON g.corp_id = c.corp_id AND g.node_id = c.parent_node_id
            WHERE c.corp_id = @corpId AND c.node_type = 'class' AND c.removed_at IS NULL {where}
            ORDER BY c.node_id
            """, new
        {
            corpId,
            classIds = selector.ClassIds ?? [],
            gradeIds = selector.GradeIds ?? [],
            periodIds = selector.PeriodIds ?? [],
            gradeLevels = selector.GradeLevels ?? [],
        }, cancellationToken: ct));
    }

    /// <summary>Which of <paramref name="nodeIds"/> are current nodes of <paramref name="nodeType"/> in the corp.</summary>
    public async Task<IReadOnlySet<long>> ExistingNodesAsync(string corpId, string nodeType, IReadOnlyCollection<long> nodeIds,
        CancellationToken ct)
    {
        if (nodeIds.Count == 0)
        {
            return new HashSet<long>();
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<long>(new CommandDefinition("""
            SELECT node_id FROM edu_nodes WHERE corp_id = @corpId AND node_type = @nodeType AND node_id IN @nodeIds AND removed_at IS NULL
            """, new { corpId, nodeType, nodeIds = nodeIds.ToList() }, cancellationToken: ct))).ToHashSet();
    }
}
