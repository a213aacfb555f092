using EduDing.Api.Features.Training;

namespace EduDing.Api.Tests.Features.Training;

/// <summary>The credit and registration rules: the domain-rules §5 H examples and the boundaries beyond them.</summary>
public sealed class CreditComplianceTests
{
    private static readonly TrainingOptions Rules = new() { CycleStartYear = 2022 };

    private static List<CreditEntry> Yearly(params decimal[] perYear) =>
        perYear.Select((credits, i) => new CreditEntry(new DateOnly(2022 + i, 6, 1), credits, CreditKind.Regular, 1 + i % 7, "basic", "city")).ToList();

    private static List<AppraisalResult> Passed(params int[] failedYears) =>
        Enumerable.Range(2022, 5).Select(y => new AppraisalResult(y, !failedYears.Contains(y))).ToList();

    [Fact]
    public void EightyAYear_AllAppraisalsPassed_CompletesAndPasses()
    {
        var result = CreditCompliance.Evaluate(2022, Yearly(80, 80, 80, 80, 80), Passed(), Rules);
        Assert.Equal(400m, result.Total);
        Assert.True(result.TrainingComplete);
        Assert.All(result.Years, y => Assert.True(y.MeetsMinimum));
        Assert.Equal(RegistrationOutcome.Pass, result.Registration);
        Assert.Empty(result.Reasons);
    }

    [Fact]
    public void ThreeHundredFiftyNine_IsAShortfall_AndDefers()
    {
        var result = CreditCompliance.Evaluate(2022, Yearly(72, 72, 72, 72, 71), Passed(), Rules);
        Assert.Equal(359m, result.Total);
        Assert.False(result.TrainingComplete);
        Assert.Equal(RegistrationOutcome.Deferred, result.Registration);
        Assert.Contains(result.Reasons, r => r.Contains("359") && r.Contains("360"));
        // The boundary: exactly 360 completes.
        Assert.Equal(RegistrationOutcome.Pass, CreditCompliance.Evaluate(2022, Yearly(72, 72, 72, 72, 72), Passed(), Rules).Registration);
    }

    [Fact]
    public void OneFailedAppraisal_Defers_TwoConsecutive_Fail_TwoApart_Defer()
    {
        Assert.Equal(RegistrationOutcome.Deferred, CreditCompliance.Evaluate(2022, Yearly(80, 80, 80, 80, 80), Passed(2024), Rules).Registration);
        var two = CreditCompliance.Evaluate(2022, Yearly(80, 80, 80, 80, 80), Passed(2024, 2025), Rules);
        Assert.Equal(RegistrationOutcome.Fail, two.Registration);
        Assert.Contains(two.Reasons, r => r.Contains("consecutive"));
        Assert.Equal(RegistrationOutcome.Deferred, CreditCompliance.Evaluate(2022, Yearly(80, 80, 80, 80, 80), Passed(2022, 2024), Rules).Registration);
        // Failed appraisals outside the cycle do not count.
        Assert.Equal(RegistrationOutcome.Pass, CreditCompliance.Evaluate(2022, Yearly(80, 80, 80, 80, 80),
            [new AppraisalResult(2020, false), new AppraisalResult(2021, false)], Rules).Registration);
    }

    [Fact]
    public void NewTeacherCredits_NeverCountTowardTheCycle_AndTheirProbationRuleIsCheckedApart()
    {
        var probation = new List<CreditEntry>
        {
            new(new DateOnly(2022, 3, 1), 100, CreditKind.NewTeacher, 2, "basic", "city"),
            new(new DateOnly(2022, 9, 1), 80, CreditKind.NewTeacher, 4, "basic", "school-based", Practical: true),
        };
        var result = CreditCompliance.Evaluate(2022, probation, Passed(), Rules);
        Assert.Equal(0m, result.Total);
        Assert.Equal(180m, result.NewTeacherCredits);
        Assert.True(CreditCompliance.NewTeacherComplete(result, Rules));
        // 79 practical is not enough.
        probation[1] = probation[1] with { Credits = 79 };
        probation.Add(new CreditEntry(new DateOnly(2022, 10, 1), 1, CreditKind.NewTeacher, 4, "basic", "city"));
        Assert.False(CreditCompliance.NewTeacherComplete(CreditCompliance.Evaluate(2022, probation, Passed(), Rules), Rules));
    }

    [Fact]
    public void PrincipalQualificationCredits_CountAtHalf()
    {
        var credits = Yearly(60, 60, 60, 60, 60);
        credits.Add(new CreditEntry(new DateOnly(2023, 5, 1), 100, CreditKind.PrincipalQualification, 5, "advanced", "provincial", Concentrated: true));
        var result = CreditCompliance.Evaluate(2022, credits, Passed(), Rules);
        Assert.Equal(350m, result.Total);
        Assert.Equal(110m, result.Years.Single(y => y.Year == 2023).Credits);
        Assert.Equal(100m, result.PrincipalCredits);
        Assert.False(CreditCompliance.PrincipalComplete(result, Rules));
    }

    [Fact]
    public void AnEmptyYear_Defers_EvenWithEnoughCredits()
    {
        var result = CreditCompliance.Evaluate(2022, Yearly(100, 100, 0, 100, 100), Passed(), Rules);
        Assert.Equal(400m, result.Total);
        Assert.False(result.Years.Single(y => y.Year == 2024).MeetsMinimum);
        Assert.Equal(RegistrationOutcome.Deferred, result.Registration);
        Assert.Contains(result.Reasons, r => r.StartsWith("2024"));
    }

    [Fact]
    public void CreditsOutsideTheCycle_DoNotCount()
    {
        var credits = Yearly(80, 80, 80, 80, 80);
        credits.Add(new CreditEntry(new DateOnly(2021, 12, 31), 50, CreditKind.Regular, 1, "basic", "city"));
        credits.Add(new CreditEntry(new DateOnly(2027, 1, 1), 50, CreditKind.Regular, 1, "basic", "city"));
        Assert.Equal(400m, CreditCompliance.Evaluate(2022, credits, Passed(), Rules).Total);
    }

    [Fact]
    public void DomainAndSourceCaps_LimitWhatCounts_AndDomainMinimumsAreListed()
    {
        var rules = new TrainingOptions
        {
            CycleStartYear = 2022, DomainCaps = new() { ["1"] = 50 }, DomainMinimums = new() { ["6"] = 10 },
            SourceCaps = new() { ["school-based"] = 120 },
        };
        var credits = Enumerable.Range(0, 5).SelectMany(i => new[]
        {
            new CreditEntry(new DateOnly(2022 + i, 3, 1), 20, CreditKind.Regular, 1, "basic", "city"),
            new CreditEntry(new DateOnly(2022 + i, 9, 1), 40, CreditKind.Regular, 3, "intermediate", "school-based"),
            new CreditEntry(new DateOnly(2022 + i, 11, 1), 20, CreditKind.Regular, 4, "basic", "city"),
        }).ToList();
        var result = CreditCompliance.Evaluate(2022, credits, Passed(), rules);
        // Domain 1: 100 earned, 50 counted; school-based: 200 earned, 120 counted; the larger cut (80) applies once.
        Assert.Equal(100m, result.Domains.Single(d => d.Domain == 1).Earned);
        Assert.Equal(50m, result.Domains.Single(d => d.Domain == 1).Counted);
        Assert.Equal(400m - 80m, result.Total);
        Assert.Contains(result.Reasons, r => r.StartsWith("domain 6"));
        Assert.Equal(RegistrationOutcome.Deferred, result.Registration);
    }

    [Fact]
    public void LevelMinimums_AHigherLevelStandsInForALowerOne_NeverTheReverse()
    {
        var rules = new TrainingOptions { CycleStartYear = 2022, LevelMinimums = new() { ["advanced"] = 30, ["intermediate"] = 60, ["basic"] = 100 } };
        List<CreditEntry> Of(decimal advanced, decimal intermediate, decimal basic) => Enumerable.Range(0, 5).SelectMany(i => new[]
        {
            new CreditEntry(new DateOnly(2022 + i, 3, 1), advanced / 5, CreditKind.Regular, 3, "advanced", "city"),
            new CreditEntry(new DateOnly(2022 + i, 6, 1), intermediate / 5, CreditKind.Regular, 3, "intermediate", "city"),
            new CreditEntry(new DateOnly(2022 + i, 9, 1), basic / 5, CreditKind.Regular, 3, "basic", "city"),
        }).ToList();

        // Advanced 50 (20 beyond its 30) makes up intermediate's 40 of 60; intermediate has nothing left for basic's 100.
        var upward = CreditCompliance.Evaluate(2022, Of(50, 40, 300), Passed(), rules);
        Assert.DoesNotContain(upward.Reasons, r => r.StartsWith("level"));
        Assert.Equal(20m, upward.Levels.Single(l => l.Level == "intermediate").FromHigherLevels);
        Assert.Equal(RegistrationOutcome.Pass, upward.Registration);

        // Exactly at the boundary: 30 advanced and 60 intermediate meet both; 29.5 advanced does not, whatever is below.
        Assert.DoesNotContain(CreditCompliance.Evaluate(2022, Of(30, 60, 300), Passed(), rules).Reasons, r => r.StartsWith("level"));
        var reverse = CreditCompliance.Evaluate(2022, Of(29.5m, 200, 200), Passed(), rules);
        Assert.Contains(reverse.Reasons, r => r.StartsWith("level advanced"));
        Assert.False(reverse.Levels.Single(l => l.Level == "advanced").Met);
        Assert.True(reverse.Levels.Single(l => l.Level == "basic").Met);
        Assert.Equal(RegistrationOutcome.Deferred, reverse.Registration);

        // A chain: advanced's surplus passes through intermediate to basic.
        var chain = CreditCompliance.Evaluate(2022, Of(130, 60, 250), Passed(), rules);
        Assert.True(chain.Levels.All(l => l.Met));
        Assert.Equal(100m, chain.Levels.Single(l => l.Level == "basic").FromHigherLevels);
    }

    [Fact]
    public void RoleAndMandatoryRequirements_InProgressUntilTheyEnd_ThenMetOrMissed_AMissedOneDefers()
    {
        var today = new DateOnly(2025, 3, 1);
        var principal = new List<CreditEntry>(Yearly(80, 80, 80, 80, 80))
        {
            new(new DateOnly(2023, 5, 1), 200m, CreditKind.PrincipalQualification, 1, "basic", "city", Concentrated: true),
        };
        var situation = new TeacherSituation(
            [new TeacherRole(TeacherRoleKind.NewPrincipal, new DateOnly(2023, 1, 1), new DateOnly(2024, 12, 31))],
            [
                new MandatoryAttendance(1, "师德", new DateOnly(2024, 6, 1), Completed: true),
                new MandatoryAttendance(2, "安全", new DateOnly(2024, 7, 1), Completed: false),
                new MandatoryAttendance(3, "心理", new DateOnly(2025, 6, 1), Completed: false),
                new MandatoryAttendance(4, "上一周期", new DateOnly(2021, 6, 1), Completed: false),
            ],
            today);

        var result = CreditCompliance.Evaluate(2022, principal, Passed(), Rules, situation);

        // 200 of the new principal's 300 by the end of the period: missed. The mandatory trainings by their end; another cycle's not at all.
        Assert.Equal(["missed", "met", "missed", "in-progress"], result.Requirements!.Select(r => r.Status).ToArray());
        Assert.Equal(2, result.Reasons.Count(r => r.StartsWith("principal qualification", StringComparison.Ordinal) || r.StartsWith("mandatory training 安全", StringComparison.Ordinal)));
        Assert.Equal(RegistrationOutcome.Deferred, result.Registration);
        // Half the principal credits count toward the cycle, and the total alone would pass.
        Assert.Equal(500m, result.Total);
        Assert.Equal(RegistrationOutcome.Pass, CreditCompliance.Evaluate(2022, principal, Passed(), Rules).Registration);
    }

    [Fact]
    public void SplitCredit_CountsPartByPart_AgainstDomainCapsAndLevelMinimums()
    {
        var rules = new TrainingOptions { CycleStartYear = 2022, DomainCaps = { ["3"] = 20m }, LevelMinimums = { ["intermediate"] = 10m } };
        var split = new TrainingCredit(1, "c", "u", CreditKind.Regular, "city", 3, "basic", 40m, null, new DateOnly(2024, 5, 1), "研修", "机构", false, false,
            null, CreditStatus.Approved, DateTime.UtcNow, "c", "a", DateTime.UtcNow)
        {
            Parts = [new CreditPart(3, "basic", 30m), new CreditPart(4, "intermediate", 10m)],
        };

        var result = CreditCompliance.Evaluate(2022, split.AsEntries().ToList(), Passed(), rules);

        // Domain 3 holds 30 of the 40 and is capped at 20; domain 4's 10 meet the intermediate minimum.
        Assert.Equal((30m, 20m), (result.Domains[2].Earned, result.Domains[2].Counted));
        Assert.Equal(10m, result.Domains[3].Earned);
        Assert.True(result.Levels.Single(l => l.Level == "intermediate").Met);
        Assert.Equal(30m, result.Total);
        Assert.Equal(40m, CreditCompliance.Evaluate(2022, (split with { Parts = null }).AsEntries().ToList(), Passed(), Rules).Total);
    }
}
