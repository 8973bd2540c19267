using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;

namespace NekkoMetal.Tftp.Tests.Infrastructure;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that reports every timer the server arms (its due time), so a test
/// advances the clock only once the server waits on it: no race between the server and the test.
/// </summary>
public sealed class RecordingTimeProvider : FakeTimeProvider
{
    private readonly Channel<TimeSpan> _timers = Channel.CreateUnbounded<TimeSpan>();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        _timers.Writer.TryWrite(dueTime);
        return timer;
    }

    /// <summary>The due time of the next timer the server creates (waits up to 10 s of real time).</summary>
    public async Task<TimeSpan> NextTimerAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await _timers.Reader.ReadAsync(cts.Token);
    }

    /// <summary>Forgets timers armed so far.</summary>
    public void ClearTimers()
    {
        while (_timers.Reader.TryRead(out _))
        {
        }
    }
}
