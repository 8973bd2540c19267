using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using NekkoMetal.Dhcp.Protocol;
using NekkoMetal.TestKit;

namespace NekkoMetal.EndToEnd.Tests.Dhcp;

/// <summary>How one simulated client's DORA ended: its address and the server that acknowledged it, or why not.</summary>
internal sealed record DoraResult(
    int Index,
    string Mac,
    uint TransactionId,
    IPAddress PreferredServer,
    IPAddress? Address,
    IPAddress? Server,
    IReadOnlySet<IPAddress> ServersRequested,
    int MostOffers,
    int Discovers,
    int Requests,
    IReadOnlyList<string> Naks,
    TimeSpan Elapsed,
    string? Failure)
{
    public bool Leased => Address is not null;
}

/// <summary>Retransmission and concurrency of a <see cref="DhcpClientSimulator"/> run.</summary>
internal sealed record DoraOptions
{
    /// <summary>Clients in flight at once.</summary>
    public int Concurrency { get; init; } = 32;

    /// <summary>A DISCOVER or REQUEST unanswered this long is sent again.</summary>
    public TimeSpan Retransmit { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Sends of one message before the phase gives up.</summary>
    public int SendsPerPhase { get; init; } = 4;

    /// <summary>After the first OFFER, how long to wait for the other servers' offers.</summary>
    public TimeSpan MoreOffersWait { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Whole DISCOVER…ACK attempts per client (a NAK or an unanswered REQUEST starts over).</summary>
    public int Rounds { get; init; } = 3;
}

/// <summary>
/// Simulated DHCP clients on the real broadcast path, in process: one UDP socket on port 68, opened inside the
/// clients' namespace and bound to its interface, shared by every client; replies are told apart by xid. Each
/// client is one MAC doing a full DORA (RFC 2131 §3.1) with the broadcast flag set: DISCOVER to
/// 255.255.255.255:67, collect the OFFERs, pick the preferred server's (clients alternate between servers), REQUEST
/// naming it in option 54 with the offered address in option 50, wait for its ACK. Every ACK and NAK seen is kept
/// per xid, so a server answering a REQUEST that named another server shows up even after the client finished.
/// </summary>
internal sealed class DhcpClientSimulator : IAsyncDisposable
{
    private const int SolSocket = 1;
    private const int SoBindToDevice = 25;
    private static readonly IPEndPoint ServerPort = new(IPAddress.Broadcast, 67);

    private readonly Socket _socket;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<uint, Channel<DhcpMessage>> _inFlight = new();
    private readonly ConcurrentDictionary<uint, ConcurrentQueue<(DhcpMessageType Type, IPAddress? Server)>> _answers = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _receiving;
    private int _strayReplies;
    private int _undecodable;

    private DhcpClientSimulator(Socket socket, TimeProvider time)
    {
        _socket = socket;
        _time = time;
        _receiving = Task.Run(ReceiveLoopAsync);
    }

    /// <summary>Replies whose xid belonged to no client in flight (late OFFERs after a client finished, mostly).</summary>
    public int StrayReplies => Volatile.Read(ref _strayReplies);

    public int UndecodableReplies => Volatile.Read(ref _undecodable);

    /// <summary>Opens the clients' socket inside <paramref name="networkNamespace"/>, bound to <paramref name="interfaceName"/>.</summary>
    public static DhcpClientSimulator Open(string networkNamespace, string interfaceName, TimeProvider time)
    {
        var socket = NetworkNamespaces.Run(networkNamespace, () =>
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            try
            {
                s.SetRawSocketOption(SolSocket, SoBindToDevice, Encoding.ASCII.GetBytes(interfaceName + "\0"));
                s.EnableBroadcast = true;
                s.ReceiveBufferSize = 1 << 20;
                s.Bind(new IPEndPoint(IPAddress.Any, 68));
                return s;
            }
            catch
            {
                s.Dispose();
                throw;
            }
        });
        return new DhcpClientSimulator(socket, time);
    }

    /// <summary>Every ACK and NAK received for <paramref name="xid"/>, with the server identifier it carried.</summary>
    public IReadOnlyList<(DhcpMessageType Type, IPAddress? Server)> AnswersTo(uint xid) =>
        _answers.TryGetValue(xid, out var q) ? [.. q] : [];

    /// <summary>
    /// Runs <paramref name="clients"/> clients, <see cref="DoraOptions.Concurrency"/> at a time; client <c>i</c>
    /// prefers <c>servers[i % servers.Count]</c>. Always returns one result per client: when
    /// <paramref name="ct"/> fires, the unfinished ones fail with "deadline".
    /// </summary>
    public async Task<IReadOnlyList<DoraResult>> RunAsync(int clients, IReadOnlyList<IPAddress> servers, DoraOptions options, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(servers);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(clients, 1 << 16);
        var macByte = (byte)Random.Shared.Next(256);
        var xidBase = (uint)Random.Shared.Next() << 16; // the low 16 bits are the client's index: every xid distinct
        var results = new DoraResult[clients];
        var next = -1;
        var workers = Enumerable.Range(0, options.Concurrency).Select(_ => Task.Run(async () =>
        {
            for (var i = Interlocked.Increment(ref next); i < clients; i = Interlocked.Increment(ref next))
            {
                byte[] mac = [0x02, 0x4e, 0x4b, macByte, (byte)(i >> 8), (byte)i]; // locally administered
                results[i] = await DoraAsync(i, mac, xidBase | (uint)i, servers[i % servers.Count], servers.Count, options, ct);
            }
        }, CancellationToken.None));
        await Task.WhenAll(workers);
        return results;
    }

    private async Task<DoraResult> DoraAsync(int index, byte[] mac, uint xid, IPAddress preferred, int serverCount, DoraOptions o, CancellationToken ct)
    {
        var started = _time.GetTimestamp();
        var channel = Channel.CreateUnbounded<DhcpMessage>(new UnboundedChannelOptions { SingleReader = true });
        if (!_inFlight.TryAdd(xid, channel))
        {
            throw new InvalidOperationException($"xid 0x{xid:x8} is already in flight");
        }

        var macText = string.Join(':', mac.Select(b => b.ToString("x2", CultureInfo.InvariantCulture)));
        var requested = new HashSet<IPAddress>();
        int discovers = 0, requests = 0, mostOffers = 0;
        var naks = new List<string>();
        string failure;
        DoraResult Failed(string why) =>
            new(index, macText, xid, preferred, null, null, requested, mostOffers, discovers, requests, naks, _time.GetElapsedTime(started), why);

        try
        {
            failure = "no attempt";
            for (var round = 0; round < o.Rounds; round++)
            {
                // SELECTING: broadcast DISCOVER until an OFFER comes, then give the other servers a moment to offer too.
                var offers = new Dictionary<IPAddress, DhcpMessage>();
                for (var send = 0; send < o.SendsPerPhase && offers.Count == 0; send++)
                {
                    await SendAsync(NewMessage(DhcpMessageType.Discover, mac, xid, started), ct);
                    discovers++;
                    var deadline = _time.GetUtcNow() + o.Retransmit;
                    while (offers.Count < serverCount && await ReceiveAsync(channel.Reader, deadline, ct) is { } reply)
                    {
                        if (reply.Options.MessageType == DhcpMessageType.Offer && reply.Options.ServerIdentifier is { } id &&
                            !reply.YourIPAddress.Equals(IPAddress.Any) && offers.TryAdd(id, reply) && offers.Count == 1)
                        {
                            var soon = _time.GetUtcNow() + o.MoreOffersWait;
                            deadline = soon < deadline ? soon : deadline;
                        }
                    }
                }

                mostOffers = Math.Max(mostOffers, offers.Count);
                if (offers.Count == 0)
                {
                    failure = "no OFFER";
                    continue;
                }

                var server = offers.ContainsKey(preferred) ? preferred : offers.Keys.First();
                var offered = offers[server].YourIPAddress;
                requested.Add(server);

                // REQUESTING: option 54 names the chosen server, option 50 the address it offered.
                var nak = false;
                for (var send = 0; send < o.SendsPerPhase && !nak; send++)
                {
                    var request = NewMessage(DhcpMessageType.Request, mac, xid, started);
                    request.Options.ServerIdentifier = server;
                    request.Options.RequestedIPAddress = offered;
                    await SendAsync(request, ct);
                    requests++;
                    var deadline = _time.GetUtcNow() + o.Retransmit;
                    while (await ReceiveAsync(channel.Reader, deadline, ct) is { } reply)
                    {
                        var type = reply.Options.MessageType;
                        if (type is not (DhcpMessageType.Ack or DhcpMessageType.Nak) || !server.Equals(reply.Options.ServerIdentifier))
                        {
                            continue; // a late OFFER, or another server's answer (kept per xid by the receive loop)
                        }

                        if (type == DhcpMessageType.Nak)
                        {
                            var reason = reply.Options.TryGet(DhcpOptionCode.Message, out var text) ? Encoding.Latin1.GetString(text.Span) : "(no message)";
                            naks.Add($"{server} refused {offered}: {reason}");
                            nak = true;
                            break;
                        }

                        return reply.YourIPAddress.Equals(offered)
                            ? new(index, macText, xid, preferred, offered, server, requested, mostOffers, discovers, requests, naks, _time.GetElapsedTime(started), null)
                            : Failed($"ACK from {server} for {reply.YourIPAddress}, but {offered} was offered and requested");
                    }
                }

                failure = nak ? $"NAK from {server}" : $"no ACK from {server}";
            }

            return Failed(failure);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return Failed("deadline");
        }
        finally
        {
            _inFlight.TryRemove(xid, out _);
        }
    }

    private DhcpMessage NewMessage(DhcpMessageType type, byte[] mac, uint xid, long started)
    {
        var m = new DhcpMessage
        {
            Op = DhcpOpCode.BootRequest,
            TransactionId = xid,
            Seconds = (ushort)Math.Min(ushort.MaxValue, _time.GetElapsedTime(started).TotalSeconds),
            IsBroadcast = true, // replies come to 255.255.255.255:68: we have no address yet
        };
        m.SetClientHardwareAddress(mac);
        m.Options.MessageType = type;
        m.Options.Set(DhcpOptionCode.ParameterRequestList, [1, 3, 6, 15, 51, 54]);
        return m;
    }

    private async Task SendAsync(DhcpMessage message, CancellationToken ct)
    {
        var buffer = new byte[message.GetEncodedLength()];
        if (!message.TryWrite(buffer, out var written))
        {
            throw new InvalidOperationException("a client message did not encode");
        }

        await _socket.SendToAsync(buffer.AsMemory(0, written), SocketFlags.None, ServerPort, ct);
    }

    /// <summary>The next reply for this client, or null at <paramref name="deadline"/>.</summary>
    private async Task<DhcpMessage?> ReceiveAsync(ChannelReader<DhcpMessage> reader, DateTimeOffset deadline, CancellationToken ct)
    {
        var remaining = deadline - _time.GetUtcNow();
        if (remaining <= TimeSpan.Zero)
        {
            return reader.TryRead(out var ready) ? ready : null;
        }

        using var timeout = new CancellationTokenSource(remaining, _time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, ct);
        try
        {
            return await reader.ReadAsync(either.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return null;
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[4096];
        var any = new IPEndPoint(IPAddress.Any, 0);
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, any, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (SocketException)
            {
                continue; // e.g. an ICMP error of an earlier send; the socket stays usable
            }

            if (!DhcpMessage.TryParse(buffer.AsSpan(0, received.ReceivedBytes), DhcpLimits.Default, out var reply, out _) || reply.Op != DhcpOpCode.BootReply)
            {
                Interlocked.Increment(ref _undecodable);
                continue;
            }

            if (reply.Options.MessageType is { } type && type is DhcpMessageType.Ack or DhcpMessageType.Nak)
            {
                _answers.GetOrAdd(reply.TransactionId, _ => new()).Enqueue((type, reply.Options.ServerIdentifier));
            }

            if (_inFlight.TryGetValue(reply.TransactionId, out var channel))
            {
                channel.Writer.TryWrite(reply);
            }
            else
            {
                Interlocked.Increment(ref _strayReplies);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _receiving;
        _socket.Dispose();
        _stop.Dispose();
    }
}
