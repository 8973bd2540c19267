using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using NekkoMetal.NodeAgent.Agent;
using NekkoMetal.NodeAgent.Checks;
using NekkoMetal.NodeAgent.Facts;
using NekkoMetal.NodeAgent.Heartbeat;
using NekkoMetal.NodeAgent.Platform;

namespace NekkoMetal.NodeAgent.Tests;

public class AgentServiceTests
{
    private sealed class RecordingSink : IHeartbeatSink
    {
        public Channel<AgentHeartbeat> Heartbeats { get; } = Channel.CreateUnbounded<AgentHeartbeat>();

        public Task SendAsync(AgentHeartbeat heartbeat, CancellationToken cancellationToken) => Heartbeats.Writer.WriteAsync(heartbeat, cancellationToken).AsTask();
    }

    private sealed class CountingCheck : IHealthCheck
    {
        private int _runs;

        public Task<IReadOnlyList<CheckResult>> RunAsync(CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<CheckResult>>([CheckResult.Ok("count", $"run {Interlocked.Increment(ref _runs)}")]);
    }

    [Fact]
    public async Task Runs_checks_every_interval_on_the_time_provider_and_sends_facts_only_when_new()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-25T09:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var sink = new RecordingSink();
        var options = Options.Create(new AgentOptions { Interval = TimeSpan.FromSeconds(30) });
        var runner = new HealthCheckRunner([new CountingCheck()], time, NullLogger<HealthCheckRunner>.Instance);
        using var service = new AgentService(new FactCollector(Fixtures.Host(Fixtures.Laptop)), runner, sink, options, time, NullLogger<AgentService>.Instance);

        await service.StartAsync(CancellationToken.None);
        var first = await sink.Heartbeats.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotNull(first.Facts);
        Assert.Equal("Intel(R) Core(TM) i5-8250U CPU @ 1.60GHz", first.Facts.Cpu!.Model);
        Assert.Equal("run 1", first.Health.Checks.Single().Message);
        Assert.Equal(time.GetUtcNow(), first.Health.At);
        Assert.False(sink.Heartbeats.Reader.TryRead(out _));

        time.Advance(TimeSpan.FromSeconds(30));
        var second = await sink.Heartbeats.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Null(second.Facts); // unchanged facts are not resent
        Assert.Equal("run 2", second.Health.Checks.Single().Message);

        await service.StopAsync(CancellationToken.None);
    }
}

public class CommandRunnerTests
{
    [Fact]
    public async Task Exit_code_and_output()
    {
        var result = await new CommandRunner().RunAsync("/bin/sh", ["-c", "echo out; echo err >&2; exit 3"], TimeSpan.FromSeconds(10), CancellationToken.None);

        Assert.Equal(new CommandResult(3, "out\n", "err\n", false, null), result);
    }

    [Fact]
    public async Task A_program_that_does_not_exist_is_a_start_error()
    {
        var result = await new CommandRunner().RunAsync("/nonexistent/nekko-check", [], TimeSpan.FromSeconds(10), CancellationToken.None);

        Assert.False(result.Started);
        Assert.Null(result.ExitCode);
    }

    [Fact]
    public async Task A_background_child_holding_stdout_does_not_hang_the_runner()
    {
        // the script exits at once but leaves a child with its stdout open for 5 s; the runner waits 2 s at most
        var result = await new CommandRunner().RunAsync("/bin/sh", ["-c", "sleep 5 & echo done; exit 0"], TimeSpan.FromSeconds(10), CancellationToken.None)
            .WaitAsync(TimeSpan.FromSeconds(4.5));

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("done\n", result.StandardOutput);
    }

    [Fact]
    public void Find_looks_on_path() =>
        Assert.Equal("/bin/sh", new CommandRunner().Find("/bin/sh"));
}
