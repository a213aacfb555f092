using System.Collections.Concurrent;

namespace EduDing.DingTalk.Sandbox.Runtime;

/// <summary>Named counters for tests and benches (pushes, redeliveries, duplicates, …).</summary>
public sealed class SandboxCounters
{
    private readonly ConcurrentDictionary<string, long> _values = new();

    public void Increment(string name, long by = 1) => _values.AddOrUpdate(name, by, (_, n) => n + by);

    public long Get(string name) => _values.GetValueOrDefault(name);

    public IReadOnlyDictionary<string, long> Snapshot() => new SortedDictionary<string, long>(_values);
}
