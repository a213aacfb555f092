using System.Globalization;

namespace EduDing.Api.Features.Vision;

internal sealed record ResultForParents(string Summary, IReadOnlyList<string> Findings, IReadOnlyList<string> Advice, string Disclaimer,
    string? Referral);

/// <summary>A result in plain words for a child's guardians (domain-rules §1.7, §1.14): what was found, what to do, and never a diagnosis.</summary>
internal static class VisionReport
{
    public const string Disclaimer = "筛查结果不等于诊断。确诊近视需到医疗机构进行散瞳验光等检查。";

    private static string D(decimal? value, string format = "0.0") => value?.ToString(format, CultureInfo.InvariantCulture) ?? "未测";

    private static string Se(decimal? value) => value is { } v ? (v > 0 ? "+" : "") + v.ToString("0.00#", CultureInfo.InvariantCulture) + "D" : "未测";

    private static string Grade(string? code) => code switch
    {
        "low" => "低度",
        "moderate" => "中度",
        "high" => "高度",
        "mild" => "轻度",
        "severe" => "重度",
        _ => "",
    };

    public static ResultForParents For(VisionRecord r)
    {
        var findings = new List<string>
        {
            $"裸眼视力：右眼 {D(r.UcvaR)}，左眼 {D(r.UcvaL)}（五分记录，5.0 及以上为正常）",
        };
        if (r.CvaR is not null || r.CvaL is not null)
        {
            findings.Add($"戴镜视力：右眼 {D(r.CvaR)}，左眼 {D(r.CvaL)}");
        }

        if (r.SeR is not null || r.SeL is not null)
        {
            findings.Add($"等效球镜（电脑验光，未散瞳）：右眼 {Se(r.SeR)}，左眼 {Se(r.SeL)}");
        }

        var advice = new List<string>();
        string summary;
        string? referral = null;
        if (r.NotTestableReason is { } reason)
        {
            summary = $"本次未能完成检查（{reason}）。";
            advice.Add("请与班主任联系，安排补测。");
        }
        else if (r.Glasses == "ok-lens")
        {
            summary = "正在佩戴角膜塑形镜（OK镜）。";
            advice.Add("请遵医嘱定期到医疗机构复查，注意镜片护理。");
        }
        else if (r.Myopic == true)
        {
            summary = $"筛查性近视（{Grade(r.MyopiaGrade)}）。";
            referral = "建议到医疗机构眼科进行散瞳验光，进一步明确诊断，并遵医嘱矫治。";
            advice.Add("每天户外活动 2 小时以上，减少连续近距离用眼，读写姿势端正。");
        }
        else if (r.PoorVision is "mild" or "moderate" or "severe" && (r.SeR is null || r.SeL is null))
        {
            // Refraction was not measured: nothing can be said about myopia either way.
            summary = $"视力不良（{Grade(r.PoorVision)}）。本次未完成电脑验光，尚不能判断是否为近视。";
            advice.Add("请与班主任联系安排补测验光，或直接到医疗机构眼科检查。");
            referral = "建议到医疗机构眼科检查，查明视力下降的原因。";
        }
        else if (r.PoorVision is "mild" or "moderate" or "severe")
        {
            summary = $"视力不良（{Grade(r.PoorVision)}），暂未发现近视性屈光改变。";
            referral = "建议到医疗机构眼科检查，查明视力下降的原因（如远视、散光、弱视等）。";
        }
        else if (r.BelowAgeNorm)
        {
            summary = "裸眼视力低于同龄儿童参考值。";
            referral = "建议到医疗机构眼科检查。";
        }
        else if (r.Myopic is null && r.AgeYears >= 6)
        {
            summary = "本次检查数据不完整，暂不能判断是否近视。";
            advice.Add("请与班主任联系，安排补测。");
        }
        else
        {
            summary = "视力正常。";
            advice.Add("请继续保持每天 2 小时户外活动，控制电子屏幕时间。");
        }

        if (r.FollowUp)
        {
            advice.Add("裸眼视力正常，但验光结果偏近视方向，建议定期复查。");
        }

        if (r.Glasses is "frame" or "contact")
        {
            advice.Add("请定期复查配镜度数是否合适。");
        }

        return new ResultForParents(summary, findings, advice, Disclaimer, referral);
    }

    /// <summary>What a correction changed, in the words of the findings: "裸眼视力右眼 4.8 → 4.6".</summary>
    public static IReadOnlyList<string> Changes(VisionRecord before, VisionRecord after)
    {
        var changes = new List<string>();
        void Compare(string what, string old, string now)
        {
            if (old != now)
            {
                changes.Add($"{what} {old} → {now}");
            }
        }

        Compare("裸眼视力右眼", D(before.UcvaR), D(after.UcvaR));
        Compare("裸眼视力左眼", D(before.UcvaL), D(after.UcvaL));
        Compare("戴镜视力右眼", D(before.CvaR), D(after.CvaR));
        Compare("戴镜视力左眼", D(before.CvaL), D(after.CvaL));
        Compare("等效球镜右眼", Se(before.SeR), Se(after.SeR));
        Compare("等效球镜左眼", Se(before.SeL), Se(after.SeL));
        Compare("筛查日期", before.ScreenedOn.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            after.ScreenedOn.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        Compare("未能检查原因", before.NotTestableReason ?? "无", after.NotTestableReason ?? "无");
        Compare("结论", For(before).Summary, For(after).Summary);
        return changes;
    }
}
