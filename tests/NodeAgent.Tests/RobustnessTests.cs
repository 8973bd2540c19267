using NekkoMetal.NodeAgent.Checks;
using NekkoMetal.NodeAgent.Facts;
using NekkoMetal.NodeAgent.Platform;

namespace NekkoMetal.NodeAgent.Tests;

/// <summary>Missing and garbage inputs give unknown (or an honest ok) with a message — never an exception.</summary>
public sealed class RobustnessTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("nekko-agent-garbage-");

    /// <summary>Every command "succeeds" with the same junk output.</summary>
    private sealed class JunkCommands(string output, int exitCode) : ICommandRunner
    {
        public Task<CommandResult> RunAsync(string fileName, IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancellationToken) =>
            Task.FromResult(new CommandResult(exitCode, output, output, false, null));

        public string? Find(string program) => "/usr/bin/" + program;
    }

    /// <summary>No program exists.</summary>
    private sealed class NoCommands : ICommandRunner
    {
        public Task<CommandResult> RunAsync(string fileName, IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("nothing should run");

        public string? Find(string program) => null;
    }

    public void Dispose() => _root.Delete(recursive: true);

    private void Write(string path, string content)
    {
        var full = Path.Join(_root.FullName, path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, content);
    }

    private void FillWithGarbage()
    {
        const string junk = "\0\u0001garbage: = : \n-1\n\u00ff\u00fe{[\n";
        foreach (var path in new[]
        {
            "proc/cpuinfo", "proc/meminfo", "proc/pressure/memory", "proc/self/mountinfo", "proc/sys/kernel/osrelease", "etc/os-release",
            "sys/class/dmi/id/product_serial", "sys/class/dmi/id/chassis_type", "sys/block/sda/size", "sys/block/sda/device/vpd_pg80",
            "sys/block/sda/queue/rotational", "sys/class/net/eth0/address", "sys/class/net/eth0/carrier", "sys/class/net/eth0/speed",
            "sys/class/net/eth0/type", "sys/class/net/eth0/device/uevent", "sys/class/thermal/thermal_zone0/temp", "sys/class/thermal/thermal_zone0/type",
            "sys/class/hwmon/hwmon0/name", "sys/class/hwmon/hwmon0/temp1_input", "sys/class/power_supply/BAT0/uevent",
        })
        {
            Write(path, junk);
        }
    }

    private IEnumerable<IHealthCheck> Checks(ICommandRunner commands)
    {
        var host = new HostRoot(_root.FullName);
        var thresholds = new HealthThresholds();
        yield return new FilesystemCheck(host, thresholds);
        yield return new MemoryPressureCheck(host, thresholds);
        yield return new DiskKernelLogCheck(host, commands, thresholds);
        yield return new SmartCheck(host, commands);
        yield return new NicLinkCheck(host, thresholds);
        yield return new CpuTemperatureCheck(host, thresholds);
        yield return new PowerSupplyCheck(host, thresholds);
        yield return new SystemdUnitsCheck(commands, thresholds);
    }

    [Fact]
    public async Task Empty_root_and_no_programs_give_unknown_with_messages()
    {
        var results = new List<CheckResult>();
        foreach (var check in Checks(new NoCommands()))
        {
            results.AddRange(await check.RunAsync(CancellationToken.None));
        }

        Assert.Equal(
            [
                new CheckResult("filesystem", CheckStatus.Unknown, "/proc/self/mountinfo is unreadable"),
                new CheckResult("memory-pressure", CheckStatus.Unknown, "/proc/pressure/memory is unreadable (kernel without CONFIG_PSI, or booted with psi=0)"),
                new CheckResult("disk-kernel-log", CheckStatus.Unknown, "dmesg is not installed"),
                new CheckResult("disk-smart", CheckStatus.Unknown, "smartctl is not installed (Debian: smartmontools)"),
                new CheckResult("nic-link", CheckStatus.Unknown, "no NIC backed by a device in /sys/class/net"),
                new CheckResult("cpu-temperature", CheckStatus.Unknown, "no thermal zone or hwmon sensor (virtual machines have none)"),
                new CheckResult("power", CheckStatus.Ok, "no battery or AC adapter: not a laptop"),
                new CheckResult("systemd-units", CheckStatus.Unknown, "systemctl not found (not a systemd system)"),
            ],
            results);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public async Task Garbage_files_and_garbage_command_output_never_throw(int exitCode)
    {
        FillWithGarbage();
        var results = new List<CheckResult>();
        foreach (var check in Checks(new JunkCommands("\0garbage {[ \n● x\n", exitCode)))
        {
            results.AddRange(await check.RunAsync(CancellationToken.None));
        }

        Assert.Equal(8, results.Count);
        Assert.All(results, r => Assert.False(string.IsNullOrWhiteSpace(r.Message)));
        Assert.All(results.Where(r => r.Name is not ("power" or "disk-kernel-log")), r => Assert.Equal(CheckStatus.Unknown, r.Status));

        var facts = new FactCollector(new HostRoot(_root.FullName)).Collect("\0garbage");
        Assert.Null(facts.Cpu);
        Assert.Null(facts.Memory);
        Assert.Empty(facts.Disks);
        Assert.Empty(facts.Nics);
    }
}
