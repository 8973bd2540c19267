namespace NekkoMetal.KubeInstaller.Model;

/// <summary>The programs the installer runs on nodes, each as one systemd unit from one pinned binary.</summary>
public enum ClusterComponent
{
    Etcd,
    ContainerRuntime,
    KubeApiserver,
    KubeControllerManager,
    KubeScheduler,
    Kubelet,
    KubeProxy,
}

public static class ClusterComponents
{
    /// <summary>Control-plane components other than etcd (etcd has a phase of its own).</summary>
    public static IReadOnlyList<ClusterComponent> ControlPlane { get; } =
        [ClusterComponent.KubeApiserver, ClusterComponent.KubeControllerManager, ClusterComponent.KubeScheduler];

    /// <summary>Components of every node that runs a kubelet, in the order they are started.</summary>
    public static IReadOnlyList<ClusterComponent> Node { get; } =
        [ClusterComponent.ContainerRuntime, ClusterComponent.Kubelet, ClusterComponent.KubeProxy];

    /// <summary>The name of the binary, the asset family and the unit (<c>NAME.service</c>).</summary>
    public static string ToWire(this ClusterComponent component) => component switch
    {
        ClusterComponent.Etcd => "etcd",
        ClusterComponent.ContainerRuntime => "containerd",
        ClusterComponent.KubeApiserver => "kube-apiserver",
        ClusterComponent.KubeControllerManager => "kube-controller-manager",
        ClusterComponent.KubeScheduler => "kube-scheduler",
        ClusterComponent.Kubelet => "kubelet",
        ClusterComponent.KubeProxy => "kube-proxy",
        _ => throw new ArgumentOutOfRangeException(nameof(component), component, null),
    };

    public static string UnitName(this ClusterComponent component) => component.ToWire() + ".service";

    public static string BinaryPath(this ClusterComponent component) => "/opt/nekko/bin/" + component.ToWire();

    public static string UnitPath(this ClusterComponent component) => "/etc/systemd/system/" + component.UnitName();
}
