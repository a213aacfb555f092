using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace EduDing.Api.Features.AfterSchool;

/// <summary>One application in an elective's draw: whether it claims a priority category (留守儿童, 随迁子女).</summary>
internal sealed record LotteryEntry(long ApplicationId, bool Priority);

/// <summary>
/// The recorded, reproducible lottery (摇号) of an elective (docs/after-school.md): priority claims first, then everyone
/// by the SHA-256 of the seed and the application id, so the same seed and the same applications always give the
/// same order, and anyone holding the seed can check it. Pure: the seed is recorded with the draw.
/// </summary>
internal static class CareLottery
{
    public static IReadOnlyList<long> Draw(IEnumerable<LotteryEntry> entries, string seed) =>
        entries.OrderByDescending(e => e.Priority)
            .ThenBy(e => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes($"{seed}:{e.ApplicationId.ToString(CultureInfo.InvariantCulture)}"))),
                StringComparer.Ordinal)
            .ThenBy(e => e.ApplicationId)
            .Select(e => e.ApplicationId)
            .ToList();

    public static string NewSeed() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
}
