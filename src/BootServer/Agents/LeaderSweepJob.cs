using Microsoft.Extensions.Options;
using NekkoMetal.Inventory;
using NekkoMetal.Inventory.Leadership;
using Quartz;

namespace NekkoMetal.BootServer.Agents;

/// <summary>
/// The Quartz job of a leader-elected controller (<see cref="ILeaderSweep"/>): one sweep every
/// <see cref="HealthOptions.StateSweepSeconds"/> on every boot server; only the leader's sweep does anything. Never two
/// sweeps of one controller at once in one process.
/// </summary>
[DisallowConcurrentExecution]
internal sealed class LeaderSweepJob<TSweep>(TSweep controller, ILogger<TSweep> logger) : IJob
    where TSweep : ILeaderSweep
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await controller.SweepAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // leadership lost or shutting down mid-sweep: the next leader's sweep starts over (every step is idempotent)
        }
        catch (StoreUnavailableException e)
        {
            LeaderSweepLog.SweepFailed(logger, context.JobDetail.Key.Name, e.Message);
        }
    }
}

internal static partial class LeaderSweepLog
{
    [LoggerMessage(EventIds.StateSweepFailed, LogLevel.Warning, "Sweep of {Controller} failed; the next one retries: {Reason}")]
    public static partial void SweepFailed(ILogger logger, string controller, string reason);
}

internal static class LeaderSweepScheduling
{
    /// <summary>Schedules <typeparamref name="TSweep"/>'s sweep as job <paramref name="name"/> every state-sweep interval, the first one interval after start.</summary>
    public static void ScheduleLeaderSweep<TSweep>(this IQuartzBuilder quartz, string name)
        where TSweep : ILeaderSweep =>
        quartz.ScheduleJob<LeaderSweepJob<TSweep>>(
            (sp, trigger) =>
            {
                var interval = TimeSpan.FromSeconds(sp.GetRequiredService<IOptions<HealthOptions>>().Value.StateSweepSeconds);
                trigger.WithIdentity(name)
                    .StartAt(sp.GetRequiredService<TimeProvider>().GetUtcNow() + interval)
                    .WithSimpleSchedule(s => s.WithInterval(interval).RepeatForever());
            },
            (_, job) => job.WithIdentity(name));
}
