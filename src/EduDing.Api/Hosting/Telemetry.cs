using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using System.Text;
using EduDing.DingTalk;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace EduDing.Api.Hosting;

/// <summary>
/// Where traces and metrics go (docs/operations.md "Metrics and traces"). Both are always collected; nothing leaves the
/// process unless an OTLP endpoint is set (here or in the standard OTEL_EXPORTER_OTLP_ENDPOINT) or the Prometheus
/// scrape endpoint is turned on.
/// </summary>
internal sealed class TelemetryOptions : IValidatedOptions
{
    public static string Section => "Telemetry";

    /// <summary>The OTLP collector, e.g. http://otel-collector:4317; empty exports nothing (unless OTEL_EXPORTER_OTLP_ENDPOINT is set).</summary>
    public string OtlpEndpoint { get; set; } = "";

    /// <summary>grpc (port 4317) or http/protobuf (port 4318).</summary>
    public string OtlpProtocol { get; set; } = "grpc";

    /// <summary>Serve the metrics for a Prometheus scraper at <see cref="PrometheusPath"/>.</summary>
    public bool PrometheusEnabled { get; set; }

    public string PrometheusPath { get; set; } = "/metrics";

    /// <summary>Secret: the bearer token the scraper sends; empty lets only system-admin session tokens read the metrics.</summary>
    public string ScrapeToken { get; set; } = "";

    /// <summary>How often the backlog gauges (inbox, outbox, monthly DingTalk quota) are read from the database while metrics are exported.</summary>
    public TimeSpan SampleInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Metrics leave the process, so the gauges are worth sampling.</summary>
    public bool Exported => OtlpEndpoint.Length > 0 || PrometheusEnabled ||
                            !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT"));

    public IEnumerable<(string Key, string Reason)> Validate()
    {
        if (OtlpEndpoint.Length > 0 && !Uri.TryCreate(OtlpEndpoint, UriKind.Absolute, out _))
        {
            yield return (nameof(OtlpEndpoint), $"must be an absolute URL such as http://otel-collector:4317 (was '{OtlpEndpoint}')");
        }

        if (OtlpProtocol is not ("grpc" or "http/protobuf"))
        {
            yield return (nameof(OtlpProtocol), $"must be grpc or http/protobuf (was '{OtlpProtocol}')");
        }

        if (!PrometheusPath.StartsWith('/') || PrometheusPath.StartsWith("/api/", StringComparison.Ordinal))
        {
            yield return (nameof(PrometheusPath), $"must start with / and lie outside /api/ (was '{PrometheusPath}')");
        }

        if (ScrapeToken.Length is > 0 and < 32)
        {
            yield return (nameof(ScrapeToken), "must be at least 32 characters when set");
        }

        if (SampleInterval < TimeSpan.FromSeconds(1))
        {
            yield return (nameof(SampleInterval), $"must be at least one second (was {SampleInterval})");
        }
    }
}

/// <summary>EduDing's own meter and activity source (the DingTalk client has its own: <see cref="DingTalkClient.TelemetryName"/>).</summary>
internal static class EduDingTelemetry
{
    public const string Name = "EduDing";

    public static readonly ActivitySource Activities = new(Name);

    public static readonly Meter Meter = new(Name);

    public static readonly Histogram<double> SyncDuration = Meter.CreateHistogram<double>("eduding.org.sync.duration", "s",
        "How long one corp's full reconcile took, by outcome.");

    public static readonly Counter<long> TransactionRetries = Meter.CreateCounter<long>("eduding.db.transaction.retries", "{retry}",
        "Transactions re-run after a transient database error (a MySQL deadlock or lock wait timeout, SQLite busy), by error.");

    public static readonly Counter<long> NoticeRecipientsSent = Meter.CreateCounter<long>("eduding.notices.recipients.sent", "{recipient}",
        "Recipients handed to DingTalk in work-notice batches (the send rate), by purpose.");
}

internal static class TelemetrySetup
{
    /// <summary>The connector's own activity source and meter: a span and timings for every MySQL command.</summary>
    private const string MySqlConnectorName = "MySqlConnector";

    public static WebApplicationBuilder AddEduDingTelemetry(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<TelemetryOptions>();
        var options = builder.Configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions();

        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("eduding", autoGenerateServiceInstanceId: true))
            .WithTracing(t => t
                .AddAspNetCoreInstrumentation(o => o.Filter = context => !IsQuietPath(context.Request.Path, options))
                .AddHttpClientInstrumentation()
                .AddSource(EduDingTelemetry.Name, DingTalkClient.TelemetryName, MySqlConnectorName))
            .WithMetrics(m => m
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(EduDingTelemetry.Name, DingTalkClient.TelemetryName, MySqlConnectorName));

        if (options.OtlpEndpoint.Length > 0)
        {
            telemetry.UseOtlpExporter(options.OtlpProtocol == "grpc" ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf,
                new Uri(options.OtlpEndpoint));
        }
        else if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT")))
        {
            telemetry.UseOtlpExporter();
        }

        if (options.PrometheusEnabled)
        {
            telemetry.WithMetrics(m => m.AddPrometheusExporter());
        }

        services.AddAuthorizationBuilder().AddPolicy(Policies.MetricsScrape, p => p.RequireAssertion(context =>
            context.User.HasClaim(Policies.RoleClaim, Policies.SystemAdmin) ||
            (context.Resource is HttpContext http && CarriesScrapeToken(http))));
        services.AddSingleton<OperationsGauges>();
        services.AddHostedService<OperationsGaugeWorker>();
        return builder;
    }

    /// <summary>The Prometheus scrape endpoint, when turned on: for the scraper's token or a system-admin.</summary>
    public static WebApplication MapEduDingTelemetry(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<TelemetryOptions>>().Value;
        if (options.PrometheusEnabled)
        {
            app.MapPrometheusScrapingEndpoint(options.PrometheusPath)
                .RequireAudience(Audience.MetricsScraper)
                .WithName("Telemetry_Prometheus")
                .ExcludeFromDescription();
        }

        return app;
    }

    /// <summary>Requests that say nothing worth a span or a log line: health probes every few seconds, and the scrapes.</summary>
    public static bool IsQuietPath(PathString path, TelemetryOptions options) =>
        path.StartsWithSegments(HealthEndpoints.AlivePath) || path.StartsWithSegments(HealthEndpoints.ReadyPath) ||
        (options.PrometheusEnabled && path.StartsWithSegments(options.PrometheusPath));

    private static bool CarriesScrapeToken(HttpContext http)
    {
        var expected = http.RequestServices.GetRequiredService<IOptions<TelemetryOptions>>().Value.ScrapeToken;
        var header = http.Request.Headers.Authorization.ToString();
        const string bearer = "Bearer ";
        return expected.Length > 0 && header.StartsWith(bearer, StringComparison.OrdinalIgnoreCase) &&
               CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[bearer.Length..].Trim()),
                   Encoding.UTF8.GetBytes(expected));
    }
}
