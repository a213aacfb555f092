namespace EduDing.Api.Hosting;

/// <summary>Authorization policy names. Role-scoped policies for bureau, schools, teachers and guardians come with login.</summary>
internal static class Policies
{
    /// <summary>Operators of the deployment: sync runs, the raw org mirror. A session token with role=system-admin, given at sign-in to configured staff.</summary>
    public const string SystemAdmin = "system-admin";

    public const string RoleClaim = "role";

    /// <summary>The Prometheus scrape endpoint: a system-admin session, or the scraper's configured token (Telemetry:ScrapeToken).</summary>
    public const string MetricsScrape = "metrics-scrape";
}
