namespace EduDing.Api.Hosting;

/// <summary>This process among the N instances over one database: the holder name on leases and sync runs.</summary>
internal sealed class ServiceInstance
{
    public string Id { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..8]}";
}
