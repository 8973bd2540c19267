using NekkoMetal.NodeAgent.Checks;

namespace NekkoMetal.NodeAgent.Tests;

public class MemoryPressureCheckTests
{
    [Fact]
    public void Ok_on_a_quiet_machine()
    {
        var result = MemoryPressureCheck.Evaluate(Fixtures.Host(Fixtures.Laptop).ReadText("/proc/pressure/memory"), Fixtures.Defaults);

        Assert.Equal(new CheckResult("memory-pressure", CheckStatus.Ok, "memory pressure some avg60=0.12%, full avg60=0%"), result);
    }

    [Fact]
    public void Warning_when_some_tasks_stall_on_memory()
    {
        // the mini-PC fixture: some avg60=24.87, full avg60=3.11
        var result = MemoryPressureCheck.Evaluate(Fixtures.Host(Fixtures.MiniPc).ReadText("/proc/pressure/memory"), Fixtures.Defaults);

        Assert.Equal(CheckStatus.Warning, result.Status);
        Assert.Equal("memory pressure some avg60=24.87%, full avg60=3.11% (some ≥ 20%)", result.Message);
    }

    [Fact]
    public void Critical_when_the_machine_thrashes()
    {
        const string psi = "some avg10=81.20 avg60=64.02 avg300=30.11 total=912355208\nfull avg10=52.00 avg60=41.50 avg300=20.02 total=501204771\n";
        var result = MemoryPressureCheck.Evaluate(psi, Fixtures.Defaults);

        Assert.Equal(CheckStatus.Critical, result.Status);
        Assert.Contains("thrashing", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_when_the_kernel_has_no_psi()
    {
        var result = MemoryPressureCheck.Evaluate(Fixtures.Host(Fixtures.Laptop).ReadText("/proc/pressure/absent"), Fixtures.Defaults);

        Assert.Equal(CheckStatus.Unknown, result.Status);
        Assert.Contains("CONFIG_PSI", result.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n")]
    [InlineData("some avg10=x avg60=y avg300=z total=w\n")]
    [InlineData("some avg10=-1.00 avg60=0.00 avg300=0.00 total=0\n")]
    public void Unknown_when_the_file_is_malformed(string psi) =>
        Assert.Equal(CheckStatus.Unknown, MemoryPressureCheck.Evaluate(psi, Fixtures.Defaults).Status);

    [Fact]
    public void Older_kernels_without_a_full_line_still_judge_some()
    {
        var result = MemoryPressureCheck.Evaluate("some avg10=0.00 avg60=1.00 avg300=0.00 total=10\n", Fixtures.Defaults);

        Assert.Equal(CheckStatus.Ok, result.Status);
        Assert.Contains("full avg60=n/a", result.Message, StringComparison.Ordinal);
    }
}
