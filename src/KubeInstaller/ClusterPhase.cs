namespace NekkoMetal.KubeInstaller;

/// <summary>The phases of a cluster plan, in the order the planner works through them.</summary>
public enum ClusterPhase
{
    EtcdCluster,
    Certificates,
    ControlPlane,
    Nodes,
    Upgrade,
}
