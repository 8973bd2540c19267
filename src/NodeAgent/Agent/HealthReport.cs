using NekkoMetal.NodeAgent.Checks;

namespace NekkoMetal.NodeAgent.Agent;

/// <summary>One round of checks: when it ran, each result, and the worst status among them.</summary>
internal sealed record HealthReport(DateTimeOffset At, CheckStatus Overall, IReadOnlyList<CheckResult> Checks);
