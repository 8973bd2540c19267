namespace NekkoMetal.KubeInstaller.Execution.Execution;

/// <summary>Limits of the executor.</summary>
public sealed record ExecutorOptions
{
    /// <summary>Nodes worked on at the same time within one batch.</summary>
    public int Parallelism { get; init; } = 4;

    /// <summary>Lifetime requested for issued certificates (the planner renews at two thirds).</summary>
    public TimeSpan CertificateLifetime { get; init; } = TimeSpan.FromDays(365);

    /// <summary>How long <c>WaitHealthy</c> polls before it fails the batch.</summary>
    public TimeSpan HealthTimeout { get; init; } = TimeSpan.FromSeconds(90);

    public TimeSpan HealthPollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a promotion is retried while etcd says the learner is not in sync yet.</summary>
    public TimeSpan PromoteTimeout { get; init; } = TimeSpan.FromSeconds(60);
}
