using System.Diagnostics;
using System.Diagnostics.Metrics;
using NekkoMetal.Dhcp.Protocol;

namespace NekkoMetal.Dhcp.Transport;

/// <summary>The DHCP server's instruments, on the meter <c>NekkoMetal.Dhcp</c>.</summary>
public sealed class DhcpMetrics : IDisposable
{
    public const string MeterName = "NekkoMetal.Dhcp";

    private readonly Meter _meter;
    private readonly Counter<long> _received;
    private readonly Counter<long> _dropped;
    private readonly Counter<long> _sent;
    private readonly Histogram<double> _duration;

    public DhcpMetrics(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _received = _meter.CreateCounter<long>("nekko.dhcp.datagrams.received", "{datagram}", "Datagrams received on the DHCP ports");
        _dropped = _meter.CreateCounter<long>("nekko.dhcp.datagrams.dropped", "{datagram}", "Datagrams dropped before the handler: undecodable, or from the wrong interface");
        _sent = _meter.CreateCounter<long>("nekko.dhcp.replies.sent", "{reply}", "Replies sent, by message type");
        _duration = _meter.CreateHistogram<double>("nekko.dhcp.request.duration", "s", "Time from receiving a request to sending its reply or deciding on silence");
    }

    internal void Received(string interfaceName) => _received.Add(1, new KeyValuePair<string, object?>("interface", interfaceName));

    internal void Dropped(string interfaceName, string reason) =>
        _dropped.Add(1, new KeyValuePair<string, object?>("interface", interfaceName), new KeyValuePair<string, object?>("reason", reason));

    internal void Sent(string interfaceName, DhcpMessageType type) =>
        _sent.Add(1, new KeyValuePair<string, object?>("interface", interfaceName), new KeyValuePair<string, object?>("message_type", type.ToString()));

    internal void Handled(TimeSpan elapsed, bool replied)
    {
        var tags = new TagList { { "replied", replied } };
        _duration.Record(elapsed.TotalSeconds, tags);
    }

    public void Dispose() => _meter.Dispose();
}
