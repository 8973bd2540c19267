namespace NekkoMetal.NodeAgent.Checks;

/// <summary>Where each check turns warning or critical (configuration section <c>agent:thresholds</c>).</summary>
public sealed class HealthThresholds
{
    /// <summary>Free space (for unprivileged users, statvfs f_bavail) below this percentage of a filesystem → warning.</summary>
    public double FilesystemFreeWarningPercent { get; set; } = 15;

    /// <summary>Free space below this percentage → critical.</summary>
    public double FilesystemFreeCriticalPercent { get; set; } = 5;

    /// <summary>Free inodes below this percentage → warning (filesystems without an inode count, such as btrfs, are skipped).</summary>
    public double InodesFreeWarningPercent { get; set; } = 10;

    /// <summary>Free inodes below this percentage → critical.</summary>
    public double InodesFreeCriticalPercent { get; set; } = 3;

    /// <summary>Mount points that are read-only on purpose (an image-based /usr, a read-only /boot); any other disk filesystem mounted ro is critical.</summary>
    public IList<string> ExpectedReadOnlyMounts { get; set; } = [];

    /// <summary>PSI memory "some avg60" (share of the last minute some task stalled on memory) at or above this → warning.</summary>
    public double MemoryPressureSomeWarningPercent { get; set; } = 20;

    /// <summary>PSI memory "full avg60" (share of the last minute all non-idle tasks stalled) at or above this → critical.</summary>
    public double MemoryPressureFullCriticalPercent { get; set; } = 10;

    /// <summary>CPU temperature at or above this → warning.</summary>
    public double CpuTemperatureWarningCelsius { get; set; } = 85;

    /// <summary>CPU temperature at or above this (or at the sensor's own critical limit, when lower) → critical.</summary>
    public double CpuTemperatureCriticalCelsius { get; set; } = 95;

    /// <summary>Running on battery at or below this charge → critical (on battery above it → warning).</summary>
    public int BatteryCriticalPercent { get; set; } = 15;

    /// <summary>Battery full capacity below this percentage of its design capacity → warning (a worn battery is a short UPS).</summary>
    public int BatteryHealthWarningPercent { get; set; } = 50;

    /// <summary>
    /// Kernel log lines older than this are not judged (the ring buffer keeps a transient link reset forever). Timestamps
    /// are seconds since boot without suspended time, so on a laptop that slept lines look older than they are.
    /// </summary>
    public TimeSpan KernelLogWindow { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Failed systemd units that make the node critical; any other failed unit is a warning.</summary>
    /// <remarks>Null until configured: the configuration binder appends to a list it finds, so the defaults live in <see cref="EffectiveCriticalUnits"/>.</remarks>
    public IList<string>? CriticalUnits { get; set; }

    /// <summary>The critical units configured, or by default kubelet, containerd and the agent itself.</summary>
    public IReadOnlyList<string> EffectiveCriticalUnits => CriticalUnits is { } configured ? [.. configured] : ["kubelet.service", "containerd.service", "nekko-agent.service"];

    /// <summary>Interfaces that must have carrier; empty = every wired NIC that is administratively up.</summary>
    public IList<string> RequiredInterfaces { get; set; } = [];

    /// <summary>Validation messages for out-of-range or inconsistent values.</summary>
    internal IEnumerable<string> Validate()
    {
        static bool Percent(double v) => v is >= 0 and <= 100;
        if (!Percent(FilesystemFreeWarningPercent) || !Percent(FilesystemFreeCriticalPercent) || FilesystemFreeCriticalPercent > FilesystemFreeWarningPercent)
        {
            yield return $"thresholds: filesystem free percentages must be 0–100 with critical ≤ warning, got warning {FilesystemFreeWarningPercent}, critical {FilesystemFreeCriticalPercent}";
        }

        if (!Percent(InodesFreeWarningPercent) || !Percent(InodesFreeCriticalPercent) || InodesFreeCriticalPercent > InodesFreeWarningPercent)
        {
            yield return $"thresholds: inode free percentages must be 0–100 with critical ≤ warning, got warning {InodesFreeWarningPercent}, critical {InodesFreeCriticalPercent}";
        }

        if (!Percent(MemoryPressureSomeWarningPercent) || !Percent(MemoryPressureFullCriticalPercent))
        {
            yield return $"thresholds: memory pressure percentages must be 0–100, got some {MemoryPressureSomeWarningPercent}, full {MemoryPressureFullCriticalPercent}";
        }

        if (CpuTemperatureWarningCelsius > CpuTemperatureCriticalCelsius || CpuTemperatureCriticalCelsius > 150)
        {
            yield return $"thresholds: CPU temperature warning must be ≤ critical ≤ 150 °C, got {CpuTemperatureWarningCelsius} and {CpuTemperatureCriticalCelsius}";
        }

        if (KernelLogWindow <= TimeSpan.Zero)
        {
            yield return $"thresholds: kernelLogWindow must be positive, got {KernelLogWindow}";
        }

        if (BatteryCriticalPercent is < 0 or > 100 || BatteryHealthWarningPercent is < 0 or > 100)
        {
            yield return $"thresholds: battery percentages must be 0–100, got critical {BatteryCriticalPercent}, health {BatteryHealthWarningPercent}";
        }
    }
}
