using EduDing.DingTalk.Models;
using EduDing.DingTalk.Sandbox.Events;
using EduDing.DingTalk.Sandbox.Model;
using EduDing.DingTalk.Sandbox.Runtime;

namespace EduDing.DingTalk.Sandbox;

/// <summary>
/// The emulated DingTalk: organizations, tokens, limits and faults, work notices, approvals and event delivery. An
/// event reaches an app by HTTP push when it has a callback URL, otherwise by Stream once the app has opened a stream
/// connection; with neither subscription DingTalk sends nothing, and neither does the sandbox.
/// </summary>
public sealed class DingTalkSandbox : IAsyncDisposable
{
    public DingTalkSandbox(SandboxOptions options, TimeProvider? time = null, ILoggerFactory? loggers = null,
        HttpMessageHandler? pushHandler = null)
    {
        Options = options;
        Time = time ?? TimeProvider.System;
        var log = (loggers ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance).CreateLogger("DingTalkSandbox");
        World = SandboxWorld.Generate(options, Time);
        Limits = new SandboxLimits(options, Time);
        Notices = new WorkNoticeStore(options, Time);
        Approvals = new ApprovalStore(Time);
        Push = new HttpPushDelivery(options, Time, Counters, log, pushHandler);
        Stream = new StreamGateway(options, Time, Counters, log);
        Mutate = new SandboxMutations(this);
        AddDefaultApprovalTemplates();
    }

    public SandboxOptions Options { get; }

    public TimeProvider Time { get; }

    public SandboxWorld World { get; }

    public SandboxLimits Limits { get; }

    public WorkNoticeStore Notices { get; }

    public ApprovalStore Approvals { get; }

    public SandboxCounters Counters { get; } = new();

    public HttpPushDelivery Push { get; }

    public StreamGateway Stream { get; }

    public SandboxMutations Mutate { get; }

    private readonly HashSet<string> _streamSubscribers = new(StringComparer.Ordinal);

    public void SubscribeStream(SandboxCorp corp)
    {
        lock (_streamSubscribers)
        {
            _streamSubscribers.Add(corp.AppKey);
        }
    }

    private readonly Dictionary<(string CorpId, string Month), long> _pushesUsed = new();

    private string Month => Time.GetUtcNow().ToOffset(TimeSpan.FromHours(8)).ToString("yyyyMM", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Whether the corp's pushes for this month are used up (its message service is paused until the month turns).</summary>
    public bool PushQuotaExhausted(string corpId)
    {
        lock (_pushesUsed)
        {
            return Options.MonthlyPushQuota is { } quota && _pushesUsed.GetValueOrDefault((corpId, Month)) >= quota;
        }
    }

    /// <summary>Counts a counted event; false (not delivered) once the quota is used up, and the corp's Stream is cut then.</summary>
    private bool TakePush(SandboxCorp corp, SandboxEvent ev)
    {
        if (Options.MonthlyPushQuota is not { } quota)
        {
            return true;
        }

        bool exhaustedNow;
        lock (_pushesUsed)
        {
            var key = (corp.CorpId, Month);
            var used = _pushesUsed.GetValueOrDefault(key);
            if (used >= quota)
            {
                return false;
            }

            if (EduDing.DingTalk.Models.EventQuota.CountsAsPush(ev.EventType))
            {
                _pushesUsed[key] = ++used;
            }

            exhaustedNow = used >= quota;
        }

        if (exhaustedNow)
        {
            // The pushes already counted are still delivered; then the message service stops: the connection is closed
            // and a new one is refused with 20001 until the month turns.
            Counters.Increment("push_quota.exhausted");
            _ = Task.Run(async () =>
            {
                var until = Time.GetUtcNow() + TimeSpan.FromSeconds(30);
                while (Stream.Pending(corp.AppKey) > 0 && Time.GetUtcNow() < until)
                {
                    await Task.Delay(50);
                }

                Stream.ForceDisconnect(corp.AppKey);
            });
        }

        return true;
    }

    public void Publish(IEnumerable<SandboxEvent> events)
    {
        foreach (var ev in events)
        {
            var corp = World.GetCorp(ev.CorpId);
            Counters.Increment("events.published");
            if (!TakePush(corp, ev))
            {
                Counters.Increment("events.push_quota_dropped");
                continue;
            }

            bool streaming;
            lock (_streamSubscribers)
            {
                streaming = _streamSubscribers.Contains(corp.AppKey);
            }

            if (corp.CallbackUrl is not null)
            {
                Push.Enqueue(corp, ev);
            }
            else if (streaming)
            {
                Stream.Enqueue(corp, ev);
            }
            else
            {
                Counters.Increment("events.unsubscribed");
            }
        }
    }

    /// <summary>True when no event is waiting to be pushed, retried or ACKed.</summary>
    public bool EventsDrained => Push.Pending == 0 && World.Corps.All(c => Stream.Pending(c.AppKey) == 0);

    public async Task RegisterCallbackAsync(string corpId, Uri url, bool verify, CancellationToken ct)
    {
        var corp = World.GetCorp(corpId);
        if (verify)
        {
            await Push.VerifyUrlAsync(corp, url, ct);
        }

        corp.CallbackUrl = url;
    }

    public async ValueTask DisposeAsync()
    {
        await Push.DisposeAsync();
        await Stream.DisposeAsync();
    }

    /// <summary>Process codes EduDing uses, each approved by the corp's admins by default.</summary>
    private void AddDefaultApprovalTemplates()
    {
        foreach (var corp in World.Corps)
        {
            var admins = corp.Users.Values.Where(u => u.Admin).Select(u => u.UserId).Take(1).ToList();
            if (admins.Count == 0)
            {
                continue;
            }

            var approvers = new List<ProcessApprover> { new("NONE", admins) };
            Approvals.AddTemplate(corp, "PROC-EDUDING-NOTICE", "通知审批", approvers);
            Approvals.AddTemplate(corp, "PROC-EDUDING-AFTERSCHOOL", "课后服务报名审批", approvers);
            Approvals.AddTemplate(corp, "PROC-EDUDING-CREDIT", "培训学分认定", approvers);
        }
    }
}
