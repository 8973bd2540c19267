namespace NekkoMetal.KubeInstaller;

/// <summary>
/// The phases of a cluster plan, in the order the planner works through them. A plan holds the operations of the
/// first phase that has work, and nothing of later phases (as CKE's <c>DecideOps</c>).
/// </summary>
public enum ClusterPhase
{
    /// <summary>etcd: bootstrap, repair, add (learner → promote), remove, and configuration changes of members.</summary>
    EtcdCluster,

    /// <summary>Missing, expiring or mismatched certificates and kubeconfigs of every node in the cluster.</summary>
    Certificates,

    /// <summary>kube-apiserver, kube-controller-manager and kube-scheduler, one running node at a time.</summary>
    ControlPlane,

    /// <summary>The container runtime, kubelet and kube-proxy on every node that runs a kubelet.</summary>
    Kubelets,

    /// <summary>Kubernetes Node objects: role labels, uncordon after maintenance, drain and delete of departed nodes.</summary>
    Nodes,

    /// <summary>Rolling upgrade: etcd backup, then etcd members, control plane and kubelets one node at a time.</summary>
    Upgrade,
}
