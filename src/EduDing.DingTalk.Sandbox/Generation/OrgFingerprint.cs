using System.Security.Cryptography;
using System.Text;
using EduDing.DingTalk.Sandbox.Model;

namespace EduDing.DingTalk.Sandbox.Generation;

/// <summary>A SHA-256 over every corp, department, person, node, roster and relation, in a canonical order.</summary>
public static class OrgFingerprint
{
    public static string Compute(IEnumerable<SandboxCorp> corps)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Line(string text) => hash.AppendData(Encoding.UTF8.GetBytes(text + "\n"));
        foreach (var corp in corps.OrderBy(c => c.CorpId, StringComparer.Ordinal))
        {
            Line($"corp|{corp.CorpId}|{corp.Name}|{corp.Kind}|{corp.AppKey}|{corp.AppSecret}|{corp.AgentId}|{corp.CallbackToken}|{corp.CallbackAesKey}");
            foreach (var d in corp.Departments.Values.OrderBy(d => d.Id))
            {
                Line($"dept|{d.Id}|{d.Name}|{d.ParentId}|{string.Join(',', d.ManagerUserIds)}");
            }

            foreach (var u in corp.Users.Values.OrderBy(u => u.UserId, StringComparer.Ordinal))
            {
                Line($"user|{u.UserId}|{u.UnionId}|{u.Name}|{u.Title}|{u.Mobile}|{u.Admin}|{u.Boss}|{string.Join(',', u.DeptIds)}|{string.Join(',', u.LeaderOf.Order())}");
            }

            foreach (var n in corp.EduNodes.Values.OrderBy(n => n.Id))
            {
                Line($"node|{n.Id}|{n.Name}|{n.Nick}|{n.ParentId}|{n.Type}|{n.GradeLevel}|{n.StartYear}");
            }

            foreach (var (classId, roster) in corp.Classes.OrderBy(c => c.Key))
            {
                foreach (var m in roster.Teachers.Concat(roster.Students).Concat(roster.Guardians))
                {
                    Line($"member|{classId}|{m.UserId}|{m.Name}|{m.UnionId}|{m.IsAdviser}|{m.StudentNo}");
                }

                foreach (var r in roster.Relations)
                {
                    Line($"relation|{classId}|{r.GuardianUserId}|{r.StudentUserId}|{r.RelationCode}");
                }
            }
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
