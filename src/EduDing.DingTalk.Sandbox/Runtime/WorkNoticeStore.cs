using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using EduDing.DingTalk.Sandbox.Model;

namespace EduDing.DingTalk.Sandbox.Runtime;

/// <summary>
/// Work notices (§5) as DingTalk treats them: errcode 0 for every accepted call, while recipients over a limit are
/// dropped and appear only in getsendresult's forbidden_list (143104 per-minute recipients, 143105 500 a day,
/// 143106 the identical message twice a day). Delivered messages are recorded per recipient and can be marked read.
/// </summary>
public sealed class WorkNoticeStore(SandboxOptions options, TimeProvider time)
{
    public const string PerMinuteExceeded = "143104";
    public const string DailyLimitExceeded = "143105";
    public const string IdenticalMessage = "143106";

    private readonly object _sync = new();
    private readonly Dictionary<long, NoticeTask> _tasks = new();
    private readonly Dictionary<string, Queue<(long Ticks, int Count)>> _recipientWindow = new();
    private readonly Dictionary<string, int> _recipientWindowTotal = new();
    private readonly Dictionary<(string AppKey, string UserId, DateOnly Day), int> _perUserPerDay = new();
    private readonly Dictionary<(string AppKey, string UserId, DateOnly Day, string Hash), int> _identical = new();
    private readonly Dictionary<(string CorpId, string UserId), int> _deliveredPerRecipient = new();
    private long _nextTaskId = 256_271_667_000;

    public long Send(SandboxCorp corp, IReadOnlyList<string> userIds, JsonObject message, Func<string, bool> userExists)
    {
        var now = time.GetUtcNow();
        var day = DateOnly.FromDateTime(now.ToOffset(TimeSpan.FromHours(8)).DateTime);
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(message.ToJsonString())));
        lock (_sync)
        {
            var task = new NoticeTask(Interlocked.Increment(ref _nextTaskId), corp.AppKey, corp.CorpId, now, message, userIds.Count);
            _tasks[task.TaskId] = task;
            foreach (var userId in userIds.Distinct(StringComparer.Ordinal))
            {
                if (!userExists(userId))
                {
                    task.Invalid.Add(userId);
                    continue;
                }

                if (!FitsPerMinute(corp.AppKey, now))
                {
                    task.Forbidden.Add((PerMinuteExceeded, userId));
                    continue;
                }

                var dayKey = (corp.AppKey, userId, day);
                if (_perUserPerDay.GetValueOrDefault(dayKey) >= options.MessagesPerUserPerDay)
                {
                    task.Forbidden.Add((DailyLimitExceeded, userId));
                    continue;
                }

                var identicalKey = (corp.AppKey, userId, day, hash);
                if (_identical.GetValueOrDefault(identicalKey) >= options.IdenticalMessagesPerUserPerDay)
                {
                    task.Forbidden.Add((IdenticalMessage, userId));
                    continue;
                }

                _perUserPerDay[dayKey] = _perUserPerDay.GetValueOrDefault(dayKey) + 1;
                _identical[identicalKey] = _identical.GetValueOrDefault(identicalKey) + 1;
                _deliveredPerRecipient[(corp.CorpId, userId)] = _deliveredPerRecipient.GetValueOrDefault((corp.CorpId, userId)) + 1;
                task.Delivered.Add(userId);
            }

            return task.TaskId;
        }
    }

    public NoticeTask? Find(SandboxCorp corp, long taskId)
    {
        lock (_sync)
        {
            return _tasks.TryGetValue(taskId, out var task) && task.AppKey == corp.AppKey ? task : null;
        }
    }

    /// <summary>A consistent copy of a task's per-recipient outcome.</summary>
    public (List<string> Invalid, List<(string Code, string UserId)> Forbidden, List<string> Read, List<string> Unread)
        Outcome(NoticeTask task)
    {
        lock (_sync)
        {
            return (task.Invalid.ToList(), task.Forbidden.ToList(), task.Delivered.Where(task.Read.Contains).ToList(),
                task.Delivered.Where(u => !task.Read.Contains(u)).ToList());
        }
    }

    /// <summary>A parent opening the notice: it moves from unread to read in getsendresult.</summary>
    public bool MarkRead(long taskId, string userId)
    {
        lock (_sync)
        {
            return _tasks.TryGetValue(taskId, out var task) && task.Delivered.Contains(userId) && task.Read.Add(userId);
        }
    }

    public bool Recall(SandboxCorp corp, long taskId)
    {
        lock (_sync)
        {
            if (!_tasks.TryGetValue(taskId, out var task) || task.AppKey != corp.AppKey ||
                time.GetUtcNow() - task.CreatedAt > TimeSpan.FromHours(24))
            {
                return false;
            }

            task.Recalled = true;
            return true;
        }
    }

    /// <summary>Messages delivered to one recipient so far (duplicates included): the "exactly one" check.</summary>
    public int DeliveredTo(string corpId, string userId)
    {
        lock (_sync)
        {
            return _deliveredPerRecipient.GetValueOrDefault((corpId, userId));
        }
    }

    /// <summary>Every message sent through a corp's app, oldest first.</summary>
    public IReadOnlyList<NoticeTask> TasksOf(string corpId)
    {
        lock (_sync)
        {
            return _tasks.Values.Where(t => t.CorpId == corpId).OrderBy(t => t.TaskId).ToList();
        }
    }

    public IReadOnlyList<NoticeTask> RecalledTasks()
    {
        lock (_sync)
        {
            return _tasks.Values.Where(t => t.Recalled).ToList();
        }
    }

    /// <summary>Messages delivered so far, to everyone.</summary>
    public int DeliveredTotal()
    {
        lock (_sync)
        {
            return _deliveredPerRecipient.Values.Sum();
        }
    }

    /// <summary>How many recipients were refused per forbidden code (143104 per minute, 143105 per day, 143106 identical).</summary>
    public IReadOnlyDictionary<string, int> ForbiddenByCode()
    {
        lock (_sync)
        {
            return _tasks.Values.SelectMany(t => t.Forbidden).GroupBy(f => f.Code).ToDictionary(g => g.Key, g => g.Count());
        }
    }

    public int DroppedCount()
    {
        lock (_sync)
        {
            return _tasks.Values.Sum(t => t.Forbidden.Count);
        }
    }

    /// <summary>Exact sliding 60 s: a recipient counts against the minute that follows it, wherever it falls.</summary>
    private bool FitsPerMinute(string appKey, DateTimeOffset now)
    {
        if (!_recipientWindow.TryGetValue(appKey, out var window))
        {
            _recipientWindow[appKey] = window = new Queue<(long, int)>();
        }

        var total = _recipientWindowTotal.GetValueOrDefault(appKey);
        var start = now.UtcTicks - TimeSpan.FromMinutes(1).Ticks;
        while (window.Count > 0 && window.Peek().Ticks <= start)
        {
            total -= window.Dequeue().Count;
        }

        if (total >= options.RecipientsPerMinute)
        {
            _recipientWindowTotal[appKey] = total;
            return false;
        }

        window.Enqueue((now.UtcTicks, 1));
        _recipientWindowTotal[appKey] = total + 1;
        return true;
    }

    public sealed class NoticeTask(long taskId, string appKey, string corpId, DateTimeOffset createdAt, JsonObject message, int recipientCount)
    {
        public long TaskId { get; } = taskId;

        public string AppKey { get; } = appKey;

        public string CorpId { get; } = corpId;

        public DateTimeOffset CreatedAt { get; } = createdAt;

        public JsonObject Message { get; } = message;

        public int RecipientCount { get; } = recipientCount;

        public List<string> Delivered { get; } = [];

        public HashSet<string> Read { get; } = new(StringComparer.Ordinal);

        public List<string> Invalid { get; } = [];

        public List<(string Code, string UserId)> Forbidden { get; } = [];

        public bool Recalled { get; set; }
    }
}
