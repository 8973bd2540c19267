using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using NekkoMetal.NodeAgent.Agent;
using NekkoMetal.NodeAgent.Checks;

namespace NekkoMetal.NodeAgent.Tests;

public class AgentOptionsValidatorTests
{
    [Fact]
    public void Defaults_are_valid() =>
        Assert.True(new AgentOptionsValidator().Validate(null, new AgentOptions()).Succeeded);

    [Fact]
    public void Configured_critical_checks_and_units_replace_the_defaults()
    {
        var bound = new Microsoft.Extensions.Configuration.ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["agent:criticalChecks:0"] = "script:*", ["agent:thresholds:criticalUnits:0"] = "etcd.service" })
            .Build().GetSection(AgentOptions.Section).Get<AgentOptions>()!;

        Assert.Equal(["script:*"], bound.EffectiveCriticalChecks);
        Assert.Equal(["filesystem", "disk-smart", "disk-kernel-log", "kubelet"], new AgentOptions().EffectiveCriticalChecks);
        Assert.Equal(["etcd.service"], bound.Thresholds.EffectiveCriticalUnits);
        Assert.Equal(["kubelet.service", "containerd.service", "nekko-agent.service"], new HealthThresholds().EffectiveCriticalUnits);
    }

    [Fact]
    public void Every_problem_is_reported_at_once()
    {
        var options = new AgentOptions
        {
            BootServers = ["https://boot1:8443", "ftp://boot2", "not a url"],
            Interval = TimeSpan.Zero,
            ChecksDirectory = "relative/checks",
            KubeletHealthzUrl = "nope",
            HostRoot = "/nonexistent/root",
            TokenFile = "agent.token",
            StateDirectory = "state",
            CaFile = "ca.pem",
            Serial = " ",
            Thresholds = new HealthThresholds { FilesystemFreeWarningPercent = 5, FilesystemFreeCriticalPercent = 10, CpuTemperatureWarningCelsius = 99 },
        };

        var result = new AgentOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Equal(15, result.Failures!.Count()); // heartbeatTimeout (10 s) is also over the zero interval
        Assert.Contains(result.Failures!, f => f.Contains("tokenFile must be an absolute path", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.Contains("stateDirectory must be an absolute path", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.Contains("'ftp://boot2'", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.Contains("filesystem free percentages", StringComparison.Ordinal));
    }
}

public class HealthCheckRunnerTests
{
    private sealed class FixedCheck(params CheckResult[] results) : IHealthCheck
    {
        public Task<IReadOnlyList<CheckResult>> RunAsync(CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<CheckResult>>(results);
    }

    private sealed class ThrowingCheck : IHealthCheck
    {
        public Task<IReadOnlyList<CheckResult>> RunAsync(CancellationToken cancellationToken) => throw new InvalidOperationException("bug");
    }

    [Fact]
    public async Task A_check_that_throws_is_unknown_and_the_others_still_run()
    {
        var runner = new HealthCheckRunner(
            [new FixedCheck(CheckResult.Ok("a", "fine")), new ThrowingCheck(), new FixedCheck(CheckResult.Warning("b", "meh"))],
            TimeProvider.System,
            NullLogger<HealthCheckRunner>.Instance);

        var report = await runner.RunAsync(CancellationToken.None);

        Assert.Equal(CheckStatus.Warning, report.Overall);
        Assert.Equal([CheckStatus.Ok, CheckStatus.Unknown, CheckStatus.Warning], report.Checks.Select(c => c.Status));
        Assert.Equal("check failed: InvalidOperationException", report.Checks[1].Message);
    }

    [Theory]
    [InlineData("ok ok", "ok")]
    [InlineData("ok unknown", "unknown")]
    [InlineData("unknown warning", "warning")]
    [InlineData("critical warning unknown", "critical")]
    [InlineData("", "ok")]
    public void Worst_status(string statuses, string expected) =>
        Assert.Equal(Enum.Parse<CheckStatus>(expected, ignoreCase: true), CheckResult.Worst(statuses.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(s => Enum.Parse<CheckStatus>(s, ignoreCase: true))));
}

public class AgentCommandTests
{
    [Theory]
    [MemberData(nameof(Fixtures.All), MemberType = typeof(Fixtures))]
    public async Task Discovery_prints_the_facts_of_a_fixture_tree_as_json(string machine)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var code = await AgentCommand.RunAsync(["--discovery", $"--agent:hostRoot={Path.Join(Fixtures.Directory, machine)}"], stdout, stderr);

        Assert.Equal(0, code);
        Assert.Equal("", stderr.ToString());
        using var json = JsonDocument.Parse(stdout.ToString());
        Assert.True(json.RootElement.GetProperty("cpu").GetProperty("threads").GetInt32() > 0);
        Assert.True(json.RootElement.GetProperty("nics").GetArrayLength() > 0);
    }

    [Fact]
    public async Task Invalid_configuration_is_reported_with_exit_code_64()
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var code = await AgentCommand.RunAsync(["--once", "--agent:interval=00:00:00", "--agent:bootServers:0=nope"], stdout, stderr);

        Assert.Equal(AgentCommand.ConfigurationError, code);
        Assert.Equal("", stdout.ToString());
        Assert.Contains("agent interval must be between", stderr.ToString(), StringComparison.Ordinal);
        Assert.Contains("'nope'", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Once_prints_a_report_and_exits_with_its_nagios_code()
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var checks = Directory.CreateTempSubdirectory("nekko-agent-once-");
        try
        {
            var code = await AgentCommand.RunAsync(["--once", $"--agent:checksDirectory={checks.FullName}"], stdout, stderr);

            using var json = JsonDocument.Parse(stdout.ToString());
            var overall = json.RootElement.GetProperty("overall").GetString();
            Assert.Contains(overall, new[] { "ok", "warning", "critical", "unknown" });
            Assert.Equal((int)Enum.Parse<CheckStatus>(overall!, ignoreCase: true), code);
            var names = json.RootElement.GetProperty("checks").EnumerateArray().Select(c => c.GetProperty("name").GetString()).ToList();
            Assert.Equal(["filesystem", "memory-pressure", "disk-kernel-log", "disk-smart", "nic-link", "cpu-temperature", "power", "systemd-units", "kubelet"], names);
        }
        finally
        {
            checks.Delete(recursive: true);
        }
    }
}
