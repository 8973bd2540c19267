using System.Net.Sockets;

namespace NekkoMetal.Tftp.Transport;

/// <summary>
/// The wait for an ACK on a transfer's own thread, kept on the server's <see cref="TimeProvider"/>: the socket's
/// receive blocks in slices (SO_RCVTIMEO) and the clock is looked at between them, so an abort is seen within a
/// slice. On the system clock the wait is a deadline and a slice ends at it (no timer per ACK); on any other
/// provider (a test's fake clock, which moves only when told) the wait is a timer of that provider and the
/// slices are short, so the transfer notices a moved clock at once.
/// </summary>
internal sealed class WaitClock : IDisposable
{
    private const int SystemSliceMilliseconds = 250;
    private const int OtherSliceMilliseconds = 10;

    private readonly TimeProvider _time;
    private readonly Socket _socket;
    private readonly bool _system;
    private long _deadline;
    private ITimer? _timer;
    private Alarm? _alarm;
    private int _receiveTimeout = -1;

    public WaitClock(TimeProvider time, Socket socket)
    {
        _time = time;
        _socket = socket;
        _system = ReferenceEquals(time, TimeProvider.System);
    }

    /// <summary>Starts a wait of <paramref name="timeout"/>.</summary>
    public void Arm(TimeSpan timeout)
    {
        if (_system)
        {
            _deadline = _time.GetTimestamp() + (long)(timeout.TotalSeconds * _time.TimestampFrequency);
            return;
        }

        var alarm = new Alarm();
        _alarm = alarm;
        _timer = _time.CreateTimer(static state => ((Alarm)state!).Rung = true, alarm, timeout, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Ends the wait (an ACK came, or it timed out).</summary>
    public void Disarm()
    {
        _timer?.Dispose();
        _timer = null;
    }

    public bool IsDue => _system ? _time.GetTimestamp() >= _deadline : _alarm?.Rung ?? true;

    /// <summary>Sets the socket's receive timeout for the next slice (a system call only when it changes).</summary>
    public void SetReceiveTimeout()
    {
        var slice = OtherSliceMilliseconds;
        if (_system)
        {
            var remaining = (double)(_deadline - _time.GetTimestamp()) * 1000 / _time.TimestampFrequency;
            slice = (int)Math.Clamp(Math.Ceiling(remaining), 1, SystemSliceMilliseconds);
        }

        if (slice != _receiveTimeout)
        {
            _socket.ReceiveTimeout = slice;
            _receiveTimeout = slice;
        }
    }

    public void Dispose() => Disarm();

    private sealed class Alarm
    {
        public volatile bool Rung;
    }
}
