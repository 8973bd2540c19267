namespace NekkoMetal.KubeInstaller.Planning;

/// <summary>What an operation does. Every kind is idempotent: running it again after success changes nothing.</summary>
public enum OperationKind
{
    /// <summary>Snapshot etcd (through a healthy member) and record the target versions it was taken for.</summary>
    BackupEtcd,

    /// <summary>Issue a certificate from the named CA and write certificate and key to the node (key 0600).</summary>
    IssueCertificate,

    /// <summary>Issue a client certificate from the Kubernetes CA and write a kubeconfig embedding it.</summary>
    IssueKubeconfig,

    /// <summary>Write the cluster's one service-account key pair (created once, kept by the boot servers).</summary>
    WriteServiceAccountKey,

    /// <summary>Upload a binary from the asset store; verify its SHA-256 on the node before moving it into place.</summary>
    WriteBinary,

    /// <summary>Write etcd's initial-cluster environment file (read by etcd only while its data directory is empty).</summary>
    WriteEtcdInitialCluster,

    /// <summary>Write a systemd unit file, then <c>systemctl daemon-reload</c> and <c>enable</c>.</summary>
    WriteUnit,

    /// <summary><c>systemctl start</c> (no-op when active).</summary>
    StartUnit,

    /// <summary><c>systemctl restart</c>.</summary>
    RestartUnit,

    /// <summary><c>systemctl disable --now</c> for each listed unit.</summary>
    StopUnits,

    /// <summary>Poll the component's health check until healthy or the executor's timeout.</summary>
    WaitHealthy,

    /// <summary><c>MemberAddAsLearner</c> (no-op when a member with that peer URL exists).</summary>
    AddEtcdLearner,

    /// <summary><c>MemberPromote</c> (no-op when already voting).</summary>
    PromoteEtcdMember,

    /// <summary><c>MemberRemove</c> (no-op when gone).</summary>
    RemoveEtcdMember,

    /// <summary>Mark the Node unschedulable and annotate that the installer did it.</summary>
    CordonNode,

    /// <summary>Evict the Node's pods (respecting PodDisruptionBudgets, skipping DaemonSet pods).</summary>
    DrainNode,

    /// <summary>Mark the Node schedulable and remove the installer's annotation.</summary>
    UncordonNode,

    /// <summary>Delete the Node object.</summary>
    DeleteNode,

    /// <summary>Set labels on the Node object.</summary>
    LabelNode,
}
