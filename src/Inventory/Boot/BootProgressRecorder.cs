using System.Collections.Concurrent;
using System.Globalization;
using Etcdserverpb;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NekkoMetal.Inventory.Machines;
using NekkoMetal.Inventory.Storage;

namespace NekkoMetal.Inventory.Boot;

/// <summary>
/// Records boot progress (<c>progress/{mac}/{stage}</c> → time) off the hot path: DHCP, TFTP and HTTP handlers
/// only enqueue; a background loop writes what accumulated in one transaction every 250 ms. These are
/// observations (last seen), so a later write simply replaces an earlier one.
/// </summary>
public sealed partial class BootProgressRecorder(InventoryContext ctx, ILogger<BootProgressRecorder> logger) : BackgroundService
{
    private const int MaxOpsPerTxn = 100;
    private readonly ConcurrentDictionary<(string Mac, string Stage), (DateTimeOffset At, string? Serial)> _pending = new();
    private readonly ILogger<BootProgressRecorder> _logger = logger;

    private string Prefix(string mac) => ctx.Keys.ProgressPrefix + mac + "/";

    /// <summary>Notes that the machine with <paramref name="mac"/> reached <paramref name="stage"/> now. Never blocks.</summary>
    public void Record(string mac, string stage, string? serial = null)
    {
        if (!MachineValidator.TryNormalizeMac(mac, out var normalized))
        {
            return;
        }

        _pending[(normalized, stage)] = (ctx.Time.GetUtcNow(), serial);
    }

    /// <summary>The boot progress of the machine with <paramref name="mac"/>, from the cache.</summary>
    public BootProgress? Get(string mac)
    {
        if (!MachineValidator.TryNormalizeMac(mac, out var normalized) || ctx.Cache.ProgressOf(normalized) is not { Count: > 0 } stages)
        {
            return null;
        }

        var last = stages.MaxBy(s => s.Value.At);
        return new BootProgress
        {
            Mac = normalized,
            Serial = stages.Values.Select(v => v.Serial).LastOrDefault(v => v is not null),
            Stages = stages.ToDictionary(s => s.Key, s => s.Value.At, StringComparer.Ordinal),
            LastStage = last.Key,
            LastSeen = last.Value.At,
        };
    }

    /// <summary>Writes everything recorded so far (also used by tests and at shutdown).</summary>
    public Task FlushAsync(CancellationToken ct) => FlushAsync(int.MaxValue, ct);

    /// <summary>
    /// Writes at most <paramref name="budget"/> records. The periodic flush writes what was pending when it started:
    /// under steady traffic, chasing what arrives meanwhile would send a stream of tiny transactions instead of a few
    /// full ones every tick (each etcd transaction costs far more than each key in it).
    /// </summary>
    private async Task FlushAsync(int budget, CancellationToken ct)
    {
        while (budget > 0 && !_pending.IsEmpty)
        {
            var batch = _pending.Take(Math.Min(MaxOpsPerTxn, budget)).ToList();
            budget -= batch.Count;
            var txn = new TxnRequest();
            foreach (var ((mac, stage), (at, serial)) in batch)
            {
                txn.Success.Add(Txn.Put(Prefix(mac) + stage, at.ToString("O", CultureInfo.InvariantCulture) + " " + serial));
            }

            var response = await ctx.Store.TxnAsync(txn, ct);
            await ctx.ReadBackAsync(response.Header.Revision, ct);
            foreach (var item in batch)
            {
                _pending.TryRemove(new KeyValuePair<(string, string), (DateTimeOffset, string?)>(item.Key, item.Value));
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(250), ctx.Time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await FlushAsync(_pending.Count, stoppingToken);
                }
                catch (StoreUnavailableException e)
                {
                    LogFlushFailed(_pending.Count, e.Message); // kept; written on a later tick
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(EventIds.ProgressFlushFailed, LogLevel.Warning, "Could not record boot progress of {Count} machines yet: {Reason}")]
    private partial void LogFlushFailed(int count, string reason);
}
