using System.Collections.Concurrent;
using System.Net;
using System.Net.NetworkInformation;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using NekkoMetal.Dhcp.Protocol;
using NekkoMetal.Dhcp.Server;

namespace NekkoMetal.Dhcp.Tests.Server;

/// <summary>
/// A handler on the link where the golden packets were captured (we are 10.215.0.1/24, pool .100–.150), a second
/// subnet behind a relay at 10.216.0.1, an in-memory lease store on fake time, and a recording progress sink.
/// </summary>
internal sealed class HandlerHarness
{
    public static readonly IPAddress Server = IPAddress.Parse("10.215.0.1");
    public static readonly IPAddress Relay = IPAddress.Parse("10.216.0.1");

    public static readonly InMemorySubnet Lab = InMemorySubnet.Parse("10.215.0.0/24", "10.215.0.100", "10.215.0.150", "10.215.0.1", "10.215.0.1,10.215.0.2", "lab.example");
    public static readonly InMemorySubnet Remote = InMemorySubnet.Parse("10.216.0.0/24", "10.216.0.100", "10.216.0.110", "10.216.0.1", "10.215.0.1");

    public HandlerHarness(DhcpServerOptions? options = null, IDhcpLeaseStore? store = null, params InMemorySubnet[] subnets)
    {
        Options = options ?? new DhcpServerOptions { LeaseTime = TimeSpan.FromSeconds(600) };
        Store = new InMemoryLeaseStore(Time, Options, subnets.Length > 0 ? subnets : [Lab, Remote]);
        Handler = new DhcpHandler(Microsoft.Extensions.Options.Options.Create(Options), Logs.CreateLogger<DhcpHandler>(), store ?? Store, Progress, Time);
    }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    public DhcpServerOptions Options { get; }

    public InMemoryLeaseStore Store { get; }

    public RecordingProgressSink Progress { get; } = new();

    public TestLoggerFactory Logs { get; } = new();

    public DhcpHandler Handler { get; }

    public static DhcpMessage Golden(string name) => TestPackets.Parse(TestPackets.Golden(name));

    public static DhcpLink Link(DhcpMode mode) => new("br0", mode, Server);

    public async Task<DhcpReply?> SendAsync(DhcpMessage request, DhcpMode mode = DhcpMode.Authoritative, DhcpListenerKind on = DhcpListenerKind.Server, IPEndPoint? source = null, IPAddress? local = null)
    {
        var context = new DhcpRequestContext(
            request,
            Link(mode),
            on,
            source ?? new IPEndPoint(request.RelayAgentIPAddress.Equals(IPAddress.Any) ? IPAddress.Any : request.RelayAgentIPAddress, on == DhcpListenerKind.Proxy ? 68 : 68),
            local ?? IPAddress.Broadcast);
        var reply = await Handler.HandleAsync(context, CancellationToken.None);
        if (reply is not null)
        {
            // Every reply encodes and decodes to the same message.
            var decoded = TestPackets.Parse(TestPackets.Encode(reply.Message));
            MessageAssert.Equal(reply.Message, decoded);
            Assert.Equal(DhcpOpCode.BootReply, decoded.Op);
            Assert.Equal(request.TransactionId, decoded.TransactionId);
            Assert.Equal(request.ClientHardwareAddressField.ToArray(), decoded.ClientHardwareAddressField.ToArray());
        }

        return reply;
    }

    /// <summary>DISCOVER then REQUEST (selecting) for the client of <paramref name="discover"/>: its ACK.</summary>
    public async Task<DhcpReply> LeaseAsync(DhcpMessage discover)
    {
        var offer = await SendAsync(discover) ?? throw new InvalidOperationException("no OFFER");
        var request = Clone(discover);
        request.Options.MessageType = DhcpMessageType.Request;
        request.Options.ServerIdentifier = offer.Message.Options.ServerIdentifier;
        request.Options.RequestedIPAddress = offer.Message.YourIPAddress;
        var ack = await SendAsync(request) ?? throw new InvalidOperationException("no ACK");
        Assert.Equal(DhcpMessageType.Ack, ack.Type);
        return ack;
    }

    public static DhcpMessage Clone(DhcpMessage message) => TestPackets.Parse(TestPackets.Encode(message));
}

internal sealed class RecordingProgressSink : IBootProgressSink
{
    public ConcurrentQueue<(PhysicalAddress Mac, Guid? Uuid, string Stage)> Seen { get; } = new();

    public void DhcpSeen(PhysicalAddress mac, Guid? uuid, string stage) => Seen.Enqueue((mac, uuid, stage));
}

/// <summary>Collects log entries (level, event id, text) for assertions.</summary>
internal sealed class TestLoggerFactory : ILoggerFactory
{
    public ConcurrentQueue<(LogLevel Level, EventId Id, string Message)> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public ILogger<T> CreateLogger<T>() => new Logger<T>(this);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private sealed class Logger(TestLoggerFactory owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Entries.Enqueue((logLevel, eventId, formatter(state, exception)));
    }
}
