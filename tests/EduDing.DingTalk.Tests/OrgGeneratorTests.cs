using EduDing.DingTalk.Sandbox.Generation;
using EduDing.DingTalk.Sandbox.Model;

namespace EduDing.DingTalk.Tests;

public sealed class OrgGeneratorTests
{
    [Fact]
    public void Generate_SameSeed_IsIdentical_OtherSeed_Differs()
    {
        var first = OrgFingerprint.Compute(new OrgGenerator(42, SandboxPreset.Demo).Generate());
        var again = OrgFingerprint.Compute(new OrgGenerator(42, SandboxPreset.Demo).Generate());
        var other = OrgFingerprint.Compute(new OrgGenerator(43, SandboxPreset.Demo).Generate());

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public void Demo_IsABureauAndFiveSchoolsWithAbout1500Students()
    {
        var corps = new OrgGenerator(1, SandboxPreset.Demo).Generate();

        Assert.Single(corps, c => c.Kind == CorpKind.Bureau);
        Assert.Equal(5, corps.Count(c => c.Kind == CorpKind.School));
        Assert.Equal(1500, corps.Sum(c => c.Classes.Values.Sum(r => r.Students.Count)));
        Assert.Equal(corps.Count, corps.Select(c => c.AppKey).Distinct().Count());
        Assert.All(corps, c => Assert.Equal(43, c.CallbackAesKey.Length));
    }

    [Fact]
    public void Haining_HasTheCitysSizeAndTheAwkwardCases()
    {
        var corps = new OrgGenerator(20260901, SandboxPreset.Haining).Generate();
        var schools = corps.Where(c => c.Kind == CorpKind.School).ToList();
        var rosters = schools.SelectMany(s => s.Classes.Values).ToList();
        var guardianPersons = schools.SelectMany(s => s.Classes.Values.SelectMany(r => r.Guardians).Select(g => g.UnionId)).Distinct().Count();
        var staff = corps.Sum(c => c.Users.Count);

        Assert.Equal(100, schools.Count);
        Assert.Equal(3000, rosters.Count);
        Assert.Equal(120_000, rosters.Sum(r => r.Students.Count));
        Assert.InRange(guardianPersons, 190_000, 215_000);
        Assert.InRange(staff, 9_500, 10_500);

        // Guardians with children in two schools: one unionid, a userid in each corp.
        var corpsPerGuardian = schools
            .SelectMany(s => s.Classes.Values.SelectMany(r => r.Guardians).Select(g => (g.UnionId, s.CorpId)))
            .Distinct().GroupBy(x => x.UnionId).Count(g => g.Count() > 1);
        Assert.True(corpsPerGuardian > 100, $"{corpsPerGuardian} guardians in two schools");
        // Siblings in one school: a guardian related to two students there.
        Assert.Contains(schools, s => s.Classes.Values.SelectMany(c => c.Relations).GroupBy(x => x.GuardianUserId).Any(g => g.Count() > 1));
        // Students without a unionid, advisers, staff in several departments, teachers who are parents.
        Assert.InRange(rosters.SelectMany(r => r.Students).Count(s => s.UnionId == ""), 10_000, 20_000);
        Assert.All(rosters, r => Assert.Single(r.Teachers, t => t.IsAdviser));
        Assert.True(corps.SelectMany(c => c.Users.Values).Count(u => u.DeptIds.Count > 1) > 1000);
        var staffUnionIds = corps.SelectMany(c => c.Users.Values).Select(u => u.UnionId).ToHashSet();
        Assert.Contains(rosters.SelectMany(r => r.Guardians), g => staffUnionIds.Contains(g.UnionId));
        Assert.All(rosters.SelectMany(r => r.Relations), r => Assert.Contains(r.RelationCode, EduDing.DingTalk.Models.EduRelationCodes.Names.Keys));
        // A guardian is the same relation (father, grandmother, …) to each of their children.
        Assert.All(schools, s => Assert.All(s.Classes.Values.SelectMany(c => c.Relations).GroupBy(r => r.GuardianUserId),
            g => Assert.Single(g.Select(r => r.RelationCode).Distinct())));
    }
}
