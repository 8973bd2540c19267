using NekkoMetal.NodeAgent.Checks;

namespace NekkoMetal.NodeAgent.Tests;

public class CpuTemperatureCheckTests
{
    private static CheckResult Evaluate(string machine, HealthThresholds? thresholds = null) =>
        CpuTemperatureCheck.Evaluate(CpuTemperatureCheck.Read(Fixtures.Host(machine)), thresholds ?? Fixtures.Defaults);

    [Fact]
    public void Ok_on_the_laptop_hottest_core_package()
    {
        Assert.Equal(new CheckResult("cpu-temperature", CheckStatus.Ok, "CPU 53 °C (x86_pkg_temp)"), Evaluate(Fixtures.Laptop));
    }

    [Fact]
    public void Ok_on_the_server_over_both_sockets()
    {
        Assert.Equal(new CheckResult("cpu-temperature", CheckStatus.Ok, "CPU 62 °C (coretemp Package id 0)"), Evaluate(Fixtures.Server));
    }

    [Fact]
    public void Warning_on_the_fanless_mini_pc_at_88_degrees()
    {
        var result = Evaluate(Fixtures.MiniPc);

        Assert.Equal(CheckStatus.Warning, result.Status);
        Assert.Equal("CPU 88 °C (x86_pkg_temp) ≥ warning 85 °C", result.Message);
    }

    [Fact]
    public void Critical_at_the_configured_limit()
    {
        var result = Evaluate(Fixtures.MiniPc, new HealthThresholds { CpuTemperatureWarningCelsius = 70, CpuTemperatureCriticalCelsius = 80 });

        Assert.Equal(CheckStatus.Critical, result.Status);
        Assert.Equal("CPU 88 °C (x86_pkg_temp) ≥ critical 80 °C", result.Message);
    }

    [Fact]
    public void Critical_at_the_sensors_own_critical_limit_when_it_is_lower()
    {
        TemperatureReading[] readings = [new("hwmon", "/sys/class/hwmon/hwmon1/temp1_input", "k10temp", "Tctl", "91000", "90000")];

        Assert.Equal(new CheckResult("cpu-temperature", CheckStatus.Critical, "CPU 91 °C (k10temp Tctl) ≥ critical 90 °C"), CpuTemperatureCheck.Evaluate(readings, Fixtures.Defaults));
    }

    [Fact]
    public void Acpi_zone_is_used_when_there_is_no_cpu_sensor()
    {
        TemperatureReading[] readings = [new("thermal", "/sys/class/thermal/thermal_zone0", "acpitz", null, "47000", null), new("thermal", "/sys/class/thermal/thermal_zone1", "iwlwifi_1", null, "99000", null)];

        Assert.Equal(new CheckResult("cpu-temperature", CheckStatus.Ok, "CPU 47 °C (acpitz)"), CpuTemperatureCheck.Evaluate(readings, Fixtures.Defaults));
    }

    [Theory]
    [InlineData(Fixtures.QemuVm)]
    [InlineData(Fixtures.FirecrackerVm)]
    public void Unknown_in_virtual_machines_without_sensors(string machine)
    {
        Assert.Equal(new CheckResult("cpu-temperature", CheckStatus.Unknown, "no thermal zone or hwmon sensor (virtual machines have none)"), Evaluate(machine));
    }

    [Fact]
    public void Unknown_when_cpu_sensors_are_unreadable()
    {
        TemperatureReading[] readings = [new("hwmon", "/sys/class/hwmon/hwmon1/temp1_input", "coretemp", "Package id 0", null, null), new("hwmon", "/sys/class/hwmon/hwmon1/temp2_input", "coretemp", "Core 0", "garbage", null)];

        var result = CpuTemperatureCheck.Evaluate(readings, Fixtures.Defaults);

        Assert.Equal(CheckStatus.Unknown, result.Status);
        Assert.StartsWith("CPU sensors unreadable", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_when_only_other_sensors_exist()
    {
        TemperatureReading[] readings = [new("hwmon", "/sys/class/hwmon/hwmon0/temp1_input", "nvme", "Composite", "38850", null)];

        Assert.Equal(new CheckResult("cpu-temperature", CheckStatus.Unknown, "no CPU temperature sensor among nvme"), CpuTemperatureCheck.Evaluate(readings, Fixtures.Defaults));
    }
}
