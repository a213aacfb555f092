using System.Diagnostics;
using System.Net;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Notices;
using EduDing.Api.Features.Org;
using EduDing.Api.Hosting;
using EduDing.Api.Tests.Features.Org;
using EduDing.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace EduDing.Api.Tests.Hosting;

/// <summary>
/// Traces of requests, DingTalk calls and syncs; metrics of DingTalk calls, syncs and the shared queues; the Prometheus
/// scrape endpoint for its token or an operator only. Meters are process-wide and tests run side by side, so metric
/// assertions look for this test's own points among others' (never an exact total across the process).
/// </summary>
public sealed class TelemetryTests : IAsyncLifetime
{
    private const string ScrapeToken = "scrape-token-0123456789abcdef0123456789";
    private readonly List<Activity> _spans = [];
    private readonly List<Metric> _metrics = [];
    private LiveOrg _live = null!;

    public async ValueTask InitializeAsync()
    {
        _live = await LiveOrg.StartAsync(EventDelivery.Http,
            extraSettings: new Dictionary<string, string>
            {
                ["Telemetry:PrometheusEnabled"] = "true",
                ["Telemetry:ScrapeToken"] = ScrapeToken,
            },
            services: s => s
                .ConfigureOpenTelemetryTracerProvider(t => t.AddInMemoryExporter(_spans))
                .ConfigureOpenTelemetryMeterProvider(m => m.AddInMemoryExporter(_metrics)));
        await _live.WaitForInitialSyncAsync();
    }

    public ValueTask DisposeAsync() => _live.DisposeAsync();

    [Fact]
    public async Task SyncAndRequests_AreTraced_DingTalkCallsAndSyncsMeasured()
    {
        var operatorClient = _live.Client(TestTokens.SystemAdmin());
        Assert.Equal(HttpStatusCode.OK, (await operatorClient.GetAsync("/api/org/corps")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _live.Client().GetAsync(HealthEndpoints.AlivePath)).StatusCode);
        Flush();

        List<Activity> spans;
        lock (_spans)
        {
            spans = _spans.ToList();
        }

        // Each corp's full sync is one span, with its DingTalk calls (and their HTTP requests) inside its trace.
        // Other tests' services run in this process at the same time and their spans reach this listener too: only this
        // test's corps count.
        var corps = _live.Factory.Services.GetRequiredService<CorpDirectory>().All;
        var ours = corps.Select(c => c.CorpId).ToHashSet();
        var syncs = spans.Where(s => s.Source.Name == EduDingTelemetry.Name && s.DisplayName == "org full sync"
                                     && ours.Contains((string)s.GetTagItem("dingtalk.corp_id")!)).ToList();
        Assert.Equal(corps.Select(c => c.CorpId).Order(), syncs.Select(s => (string)s.GetTagItem("dingtalk.corp_id")!).Distinct().Order());
        // Another test's service syncs demo corps of the same ids; one of its syncs may have begun before this listener,
        // its calls unseen: look at a sync whose calls were seen (this test's own syncs all began after it).
        var sync = syncs.FirstOrDefault(y => spans.Any(s => s.Source.Name == "EduDing.DingTalk" && s.TraceId == y.TraceId));
        Assert.NotNull(sync);
        var calls = spans.Where(s => s.Source.Name == "EduDing.DingTalk" && s.TraceId == sync.TraceId).ToList();
        Assert.All(calls, c =>
        {
            Assert.Equal(sync.GetTagItem("dingtalk.corp_id"), c.GetTagItem("dingtalk.corp_id"));
            Assert.Equal("ok", c.GetTagItem("dingtalk.outcome"));
            Assert.False(string.IsNullOrEmpty((string?)c.GetTagItem("dingtalk.api")));
        });
        Assert.Contains(spans, s => s.Kind == ActivityKind.Client && s.ParentSpanId == calls[0].SpanId);

        // The request is a server span with its route; the health probe is not traced.
        Assert.Contains(spans, s => s.Kind == ActivityKind.Server && (string?)s.GetTagItem("http.route") == "/api/org/corps");
        Assert.DoesNotContain(spans, s => s.Kind == ActivityKind.Server && (string?)s.GetTagItem("url.path") == HealthEndpoints.AlivePath);

        var points = Points("eduding.dingtalk.calls");
        Assert.Contains(points, p => Tag(p, "outcome") == "ok" && p.GetSumLong() > 0 && Tag(p, "api")!.Length > 0);
        Assert.NotEmpty(Points("eduding.dingtalk.call.duration"));
        Assert.Contains(Points("eduding.org.sync.duration"), p => Tag(p, "outcome") == "succeeded" && p.GetHistogramCount() > 0);
    }

    [Fact]
    public async Task QueueGauges_ReportTheInboxOutboxAndQuota()
    {
        var services = _live.Factory.Services;
        var corpId = services.GetRequiredService<CorpDirectory>().All[0].CorpId;
        var inbox = services.GetRequiredService<EventInbox>();
        var usage = services.GetRequiredService<CallUsageTracker>();
        var gauges = services.GetRequiredService<OperationsGauges>();
        // The service's background work may still make metered calls while this runs: the sample lies between two reads.
        var before = await usage.MeteredThisMonthAsync(corpId, CancellationToken.None);
        var sample = await gauges.SampleAsync(inbox, services.GetRequiredService<NoticeOutbox>(), usage,
            services.GetRequiredService<IOptions<OrgSyncOptions>>().Value, TimeProvider.System, CancellationToken.None);
        var after = await usage.MeteredThisMonthAsync(corpId, CancellationToken.None);

        Assert.InRange(sample.MeteredCallsByCorp.GetValueOrDefault(corpId), before, after);
        Assert.True(sample.MeteredCallsByCorp.Values.Sum() > 0, "the initial syncs made metered calls");
        Assert.Equal(1_000_000, sample.MonthlyCallBudget);
        Assert.True(sample.InboxPending >= 0 && sample.InboxLagSeconds >= 0 && sample.OutboxBatches >= 0);

        Flush();
        // The gauge reports the last sample, this one or the periodic sampler's.
        var latest = await usage.MeteredThisMonthAsync(corpId, CancellationToken.None);
        Assert.Contains(Points("eduding.dingtalk.quota.used"), p => Tag(p, "corp") == corpId &&
                                                                   p.GetGaugeLastValueLong() >= before && p.GetGaugeLastValueLong() <= latest);
        Assert.Contains(Points("eduding.dingtalk.quota.budget"), p => p.GetGaugeLastValueLong() == 1_000_000);
        Assert.NotEmpty(Points("eduding.inbox.lag"));
        Assert.NotEmpty(Points("eduding.outbox.batches"));
    }

    [Fact]
    public async Task PrometheusScrape_OnlyForTheScrapeTokenOrAnOperator()
    {
        const string path = "/metrics";
        Assert.Equal(HttpStatusCode.Unauthorized, (await _live.Client().GetAsync(path)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _live.Client(ScrapeToken + "x").GetAsync(path)).StatusCode);
        var corp = _live.Factory.Services.GetRequiredService<CorpDirectory>().All[0];
        var person = TestTokens.Person(corp.CorpId, "someone", "teacher");
        Assert.Equal(HttpStatusCode.Forbidden, (await _live.Client(person).GetAsync(path)).StatusCode);

        foreach (var token in new[] { ScrapeToken, TestTokens.SystemAdmin() })
        {
            var response = await _live.Client(token).GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var text = await response.Content.ReadAsStringAsync();
            Assert.Contains("eduding_dingtalk_calls_total{", text);
            Assert.Contains("eduding_org_sync_duration_seconds_bucket{", text);
        }
    }

    private void Flush()
    {
        Assert.True(_live.Factory.Services.GetRequiredService<TracerProvider>().ForceFlush(10_000));
        // The Prometheus reader is pulled, so the provider's flush reports false; the in-memory reader is flushed all the same.
        _live.Factory.Services.GetRequiredService<MeterProvider>().ForceFlush(10_000);
    }

    private List<MetricPoint> Points(string name)
    {
        var points = new List<MetricPoint>();
        lock (_metrics)
        {
            foreach (var metric in _metrics.Where(m => m.Name == name))
            {
                foreach (ref readonly var point in metric.GetMetricPoints())
                {
                    points.Add(point);
                }
            }
        }

        return points;
    }

    private static string? Tag(MetricPoint point, string key)
    {
        foreach (var tag in point.Tags)
        {
            if (tag.Key == key)
            {
                return tag.Value?.ToString();
            }
        }

        return null;
    }
}

/// <summary>On MySQL every database command is a span in the request's trace (MySqlConnector's own activity source).</summary>
public sealed class MySqlTelemetryTests
{
    [Fact]
    public async Task DatabaseCommands_AreSpansOfTheRequest()
    {
        await using var db = new EmptyMySqlTestDb();
        await db.InitializeAsync();
        db.SkipUnlessAvailable();
        var spans = new List<Activity>();
        await using var factory = new ApiFactory
        {
            ExtraServices = s => s.ConfigureOpenTelemetryTracerProvider(t => t.AddInMemoryExporter(spans)),
        };
        factory.Settings["Database:Provider"] = "MySql";
        factory.Settings["Database:ConnectionString"] = db.ConnectionString;
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", TestTokens.SystemAdmin());

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/org/sync-runs")).StatusCode);
        Assert.True(factory.Services.GetRequiredService<TracerProvider>().ForceFlush(10_000));

        List<Activity> all;
        lock (spans)
        {
            all = spans.ToList();
        }

        var request = Assert.Single(all, s => s.Kind == ActivityKind.Server && (string?)s.GetTagItem("http.route") == "/api/org/sync-runs");
        var commands = all.Where(s => s.Source.Name == "MySqlConnector" && s.TraceId == request.TraceId).ToList();
        Assert.Contains(commands, c => ((string?)c.GetTagItem("db.query.text") ?? (string?)c.GetTagItem("db.statement") ?? "")
            .Contains("sync_runs", StringComparison.Ordinal));
    }
}
