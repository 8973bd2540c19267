using System.Diagnostics.Metrics;

namespace NekkoMetal.Tftp.Transport;

/// <summary>How a transfer (or a request that never became one) ended: the <c>result</c> tag of <c>nekkometal.tftp.transfers</c>.</summary>
internal enum TransferResult
{
    Completed,
    NotFound,
    AccessDenied,
    TooLarge,
    Refused,
    Busy,
    TimedOut,
    ClientError,
    ClientUnreachable,
    Superseded,
    Shutdown,
    Failed,
}

/// <summary>The <c>NekkoMetal.Tftp</c> meter.</summary>
internal sealed class TftpMetrics
{
    public const string MeterName = "NekkoMetal.Tftp";

    private readonly Counter<long> _transfers;
    private readonly Counter<long> _bytesSent;
    private readonly Counter<long> _retransmissions;
    private readonly UpDownCounter<long> _active;
    private readonly Counter<long> _dropped;

    public TftpMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _transfers = meter.CreateCounter<long>("nekkometal.tftp.transfers", "{transfer}", "Read requests handled, by result");
        _bytesSent = meter.CreateCounter<long>("nekkometal.tftp.sent", "By", "File bytes sent in DATA packets, retransmissions included");
        _retransmissions = meter.CreateCounter<long>("nekkometal.tftp.retransmissions", "{packet}", "Windows or OACKs sent again after a timeout");
        _active = meter.CreateUpDownCounter<long>("nekkometal.tftp.active_transfers", "{transfer}", "Transfers in progress");
        _dropped = meter.CreateCounter<long>("nekkometal.tftp.dropped_datagrams", "{datagram}", "Datagrams the listener dropped as junk");
    }

    public void TransferEnded(TransferResult result) => _transfers.Add(1, new KeyValuePair<string, object?>("result", Tag(result)));

    public void Sent(int bytes) => _bytesSent.Add(bytes);

    public void Retransmitted() => _retransmissions.Add(1);

    public void ActiveChanged(int delta) => _active.Add(delta);

    public void Dropped() => _dropped.Add(1);

    private static string Tag(TransferResult result) => result switch
    {
        TransferResult.Completed => "completed",
        TransferResult.NotFound => "not_found",
        TransferResult.AccessDenied => "access_denied",
        TransferResult.TooLarge => "too_large",
        TransferResult.Refused => "refused",
        TransferResult.Busy => "busy",
        TransferResult.TimedOut => "timed_out",
        TransferResult.ClientError => "client_error",
        TransferResult.ClientUnreachable => "client_unreachable",
        TransferResult.Superseded => "superseded",
        TransferResult.Shutdown => "shutdown",
        _ => "failed",
    };
}
