using NekkoMetal.NodeAgent.Checks;

namespace NekkoMetal.NodeAgent.Tests;

public class PowerSupplyCheckTests
{
    private static List<PowerSupplyFiles> Supplies(string machine)
    {
        var host = Fixtures.Host(machine);
        return host.List("/sys/class/power_supply").Select(n => new PowerSupplyFiles(n, host.ReadText($"/sys/class/power_supply/{n}/uevent"))).ToList();
    }

    /// <summary>The laptop's supplies with BAT0's and AC's uevent lines replaced.</summary>
    private static List<PowerSupplyFiles> Laptop(string? acOnline = null, Func<string, string>? battery = null) =>
        Supplies(Fixtures.Laptop).Select(s => s.Name switch
        {
            "AC" when acOnline is not null => s with { Uevent = s.Uevent!.Replace("ONLINE=1", "ONLINE=" + acOnline, StringComparison.Ordinal) },
            "BAT0" when battery is not null => s with { Uevent = battery(s.Uevent!) },
            _ => s,
        }).ToList();

    [Fact]
    public void Ok_on_ac_with_a_healthy_battery()
    {
        var result = PowerSupplyCheck.Evaluate(Laptop(), Fixtures.Defaults);

        // the mouse's battery (scope Device) is not the laptop's
        Assert.Equal(new CheckResult("power", CheckStatus.Ok, "on AC: BAT0 77% Charging"), result);
    }

    [Theory]
    [InlineData(Fixtures.Server)]
    [InlineData(Fixtures.MiniPc)]
    [InlineData(Fixtures.QemuVm)]
    public void Ok_without_battery_or_adapter(string machine) =>
        Assert.Equal(new CheckResult("power", CheckStatus.Ok, "no battery or AC adapter: not a laptop"), PowerSupplyCheck.Evaluate(Supplies(machine), Fixtures.Defaults));

    [Fact]
    public void Warning_on_battery()
    {
        var result = PowerSupplyCheck.Evaluate(Laptop("0", b => b.Replace("STATUS=Charging", "STATUS=Discharging", StringComparison.Ordinal)), Fixtures.Defaults);

        Assert.Equal(new CheckResult("power", CheckStatus.Warning, "on battery, AC adapter unplugged or without power: BAT0 77% Discharging"), result);
    }

    [Fact]
    public void Warning_when_the_battery_is_worn()
    {
        var result = PowerSupplyCheck.Evaluate(Laptop(battery: b => b.Replace("ENERGY_FULL=19180000", "ENERGY_FULL=9620000", StringComparison.Ordinal)), Fixtures.Defaults);

        Assert.Equal(new CheckResult("power", CheckStatus.Warning, "on AC; BAT0 worn: 40% of design capacity"), result);
    }

    [Fact]
    public void Critical_on_battery_nearly_empty()
    {
        var result = PowerSupplyCheck.Evaluate(Laptop("0", b => b.Replace("STATUS=Charging", "STATUS=Discharging", StringComparison.Ordinal).Replace("CAPACITY=77", "CAPACITY=9", StringComparison.Ordinal)), Fixtures.Defaults);

        Assert.Equal(new CheckResult("power", CheckStatus.Critical, "on battery at 9% (≤ 15%): BAT0 9% Discharging"), result);
    }

    [Fact]
    public void Without_an_adapter_entry_the_battery_status_tells_whether_ac_is_there()
    {
        PowerSupplyFiles[] discharging = [new("BAT1", "POWER_SUPPLY_NAME=BAT1\nPOWER_SUPPLY_TYPE=Battery\nPOWER_SUPPLY_STATUS=Discharging\nPOWER_SUPPLY_CAPACITY=50\n")];
        PowerSupplyFiles[] full = [new("BAT1", "POWER_SUPPLY_NAME=BAT1\nPOWER_SUPPLY_TYPE=Battery\nPOWER_SUPPLY_STATUS=Full\nPOWER_SUPPLY_CAPACITY=100\n")];

        Assert.Equal(CheckStatus.Warning, PowerSupplyCheck.Evaluate(discharging, Fixtures.Defaults).Status);
        Assert.Equal(CheckStatus.Ok, PowerSupplyCheck.Evaluate(full, Fixtures.Defaults).Status);
    }

    [Fact]
    public void Usb_c_charging_counts_as_ac()
    {
        PowerSupplyFiles[] supplies =
        [
            new("BAT0", "POWER_SUPPLY_TYPE=Battery\nPOWER_SUPPLY_STATUS=Charging\nPOWER_SUPPLY_CAPACITY=60\n"),
            new("ucsi-source-psy-USBC000:001", "POWER_SUPPLY_TYPE=USB\nPOWER_SUPPLY_ONLINE=1\n"),
        ];

        Assert.Equal(CheckStatus.Ok, PowerSupplyCheck.Evaluate(supplies, Fixtures.Defaults).Status);
    }

    [Fact]
    public void Unknown_when_every_uevent_is_unreadable()
    {
        PowerSupplyFiles[] supplies = [new("BAT0", null), new("AC", null)];

        Assert.Equal(new CheckResult("power", CheckStatus.Unknown, "power supply uevent unreadable (BAT0, AC)"), PowerSupplyCheck.Evaluate(supplies, Fixtures.Defaults));
    }
}

public class SystemdUnitsCheckTests
{
    [Fact]
    public void Ok_when_nothing_failed() =>
        Assert.Equal(new CheckResult("systemd-units", CheckStatus.Ok, "no failed units"), SystemdUnitsCheck.Evaluate(Fixtures.Command(Fixtures.Laptop, "systemctl-failed.json"), null, Fixtures.Defaults));

    [Fact]
    public void Warning_for_an_ordinary_failed_unit_from_the_plain_listing()
    {
        var result = SystemdUnitsCheck.Evaluate(Fixtures.Command(Fixtures.MiniPc, "systemctl-failed.txt"), null, Fixtures.Defaults);

        Assert.Equal(new CheckResult("systemd-units", CheckStatus.Warning, "failed: fwupd-refresh.service"), result);
    }

    [Fact]
    public void Critical_when_a_critical_unit_failed()
    {
        var result = SystemdUnitsCheck.Evaluate(Fixtures.Command(Fixtures.Server, "systemctl-failed.json"), null, Fixtures.Defaults);

        Assert.Equal(new CheckResult("systemd-units", CheckStatus.Critical, "failed: dnf-makecache.service, containerd.service (critical: containerd.service)"), result);
    }

    [Fact]
    public void Plain_listing_of_older_systemd_with_bullets()
    {
        const string text = "● kubelet.service loaded failed failed kubelet: The Kubernetes Node Agent\n● nginx.service   loaded failed failed A high performance web server\n";

        Assert.Equal(["kubelet.service", "nginx.service"], SystemdUnitsCheck.ParseFailedUnits(text));
        Assert.Equal(CheckStatus.Critical, SystemdUnitsCheck.Evaluate(text, null, Fixtures.Defaults).Status);
    }

    [Fact]
    public void Unknown_when_systemd_is_not_running()
    {
        var result = SystemdUnitsCheck.Evaluate(null, "systemctl failed: System has not been booted with systemd as init system (PID 1). Can't operate.", Fixtures.Defaults);

        Assert.Equal(CheckStatus.Unknown, result.Status);
        Assert.Contains("not been booted with systemd", result.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[{\"name\":\"x\"}]")]
    [InlineData("[1,2]")]
    [InlineData("[not json")]
    [InlineData("Failed to connect to bus: No such file or directory")]
    public void Unknown_for_output_that_is_not_a_unit_listing(string output) =>
        Assert.Equal(CheckStatus.Unknown, SystemdUnitsCheck.Evaluate(output, null, Fixtures.Defaults).Status);
}

public class KubeletCheckTests
{
    [Fact]
    public void Ok_when_healthz_says_ok() =>
        Assert.Equal(new CheckResult("kubelet", CheckStatus.Ok, "kubelet healthz ok"), KubeletCheck.Evaluate(new KubeletProbe(true, 200, "ok", null)));

    [Fact]
    public void Ok_not_applicable_without_a_kubelet() =>
        Assert.Equal(new CheckResult("kubelet", CheckStatus.Ok, "no kubelet on this node (not applicable)"), KubeletCheck.Evaluate(new KubeletProbe(false, null, null, null)));

    [Fact]
    public void Critical_when_healthz_fails()
    {
        var result = KubeletCheck.Evaluate(new KubeletProbe(true, 500, "[+]ping ok\n[-]syncloop failed: reason withheld\nhealthz check failed", null));

        Assert.Equal(CheckStatus.Critical, result.Status);
        Assert.StartsWith("kubelet healthz answered 500: [+]ping ok", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Critical_when_the_kubelet_does_not_answer() =>
        Assert.Equal(new CheckResult("kubelet", CheckStatus.Critical, "kubelet healthz unreachable: Connection refused (127.0.0.1:10248)"), KubeletCheck.Evaluate(new KubeletProbe(true, null, null, "Connection refused (127.0.0.1:10248)")));

    [Fact]
    public async Task Probe_against_a_closed_loopback_port_is_critical_not_an_exception()
    {
        var root = Directory.CreateTempSubdirectory("nekko-agent-kubelet-");
        try
        {
            Directory.CreateDirectory(Path.Join(root.FullName, "var/lib/kubelet"));
            await File.WriteAllTextAsync(Path.Join(root.FullName, "var/lib/kubelet/config.yaml"), "kind: KubeletConfiguration\n");
            using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
            listener.Start();
            var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop(); // nothing listens there now
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };

            var results = await new KubeletCheck(new Platform.HostRoot(root.FullName), http, new Uri($"http://127.0.0.1:{port}/healthz")).RunAsync(CancellationToken.None);

            var result = Assert.Single(results);
            Assert.Equal(CheckStatus.Critical, result.Status);
            Assert.StartsWith("kubelet healthz unreachable", result.Message, StringComparison.Ordinal);
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }
}
