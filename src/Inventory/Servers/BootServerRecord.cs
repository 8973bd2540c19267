namespace NekkoMetal.Inventory.Servers;

/// <summary>
/// A live boot server as stored under <c>servers/{id}</c>, attached to the server's etcd lease: the key vanishes when
/// the server stops or stops renewing. <see cref="Urls"/> are the HTTP base URLs its peers reach it at.
/// </summary>
public sealed record BootServerRecord
{
    public required string Id { get; init; }
    public IReadOnlyList<string> Urls { get; init; } = [];
    public DateTimeOffset StartedAt { get; init; }
}
