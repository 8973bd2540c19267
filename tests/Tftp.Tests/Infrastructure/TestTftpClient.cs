using System.Globalization;
using System.Net;
using System.Net.Sockets;
using NekkoMetal.Tftp.Protocol;

namespace NekkoMetal.Tftp.Tests.Infrastructure;

/// <summary>
/// A TFTP client over a real UDP socket on 127.0.0.1, for what curl and atftp cannot show: sending
/// exact bytes, withholding or repeating ACKs, windowsize with chosen losses, block-number rollover.
/// </summary>
public sealed class TestTftpClient : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private readonly byte[] _buffer = new byte[65536];

    public TestTftpClient(IPEndPoint server)
    {
        Server = server;
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
    }

    /// <summary>The listener.</summary>
    public IPEndPoint Server { get; }

    public IPEndPoint LocalEndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    public static TftpRequest ReadRequest(string file, params (string Name, string Value)[] options) =>
        new(TftpOpcode.ReadRequest, file, TftpTransferMode.Octet, options.Select(o => new TftpOption(o.Name, o.Value)).ToList());

    public void Send(TftpPacket packet, IPEndPoint? to = null)
    {
        var bytes = new byte[packet.GetEncodedLength()];
        Assert.True(packet.TryWrite(bytes, out _));
        SendRaw(bytes, to);
    }

    public void SendRaw(ReadOnlySpan<byte> datagram, IPEndPoint? to = null) => _socket.SendTo(datagram, SocketFlags.None, to ?? Server);

    /// <summary>The next datagram, parsed; null when nothing comes within <paramref name="timeout"/> (real time, default 10 s).</summary>
    public async Task<(TftpPacket Packet, IPEndPoint From)?> ReceiveAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        try
        {
            var result = await _socket.ReceiveFromAsync(_buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), cts.Token);
            Assert.True(TftpPacket.TryParse(_buffer.AsSpan(0, result.ReceivedBytes), TftpLimits.Default, out var packet, out var error), $"the server sent an unparsable datagram: {error}");
            return (packet, (IPEndPoint)result.RemoteEndPoint);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>The next packet, which must be a <typeparamref name="T"/>.</summary>
    public async Task<(T Packet, IPEndPoint From)> ExpectAsync<T>(TimeSpan? timeout = null)
        where T : TftpPacket
    {
        var received = await ReceiveAsync(timeout);
        Assert.True(received is not null, $"expected a {typeof(T).Name}, nothing came");
        var (packet, from) = received.Value;
        if (packet is TftpError error && typeof(T) != typeof(TftpError))
        {
            Assert.Fail($"expected a {typeof(T).Name}, got ERROR {error.Code}: {error.Message}");
        }

        return (Assert.IsType<T>(packet), from);
    }

    /// <summary>Asserts that nothing arrives for <paramref name="quiet"/> (real time).</summary>
    public async Task ExpectNothingAsync(TimeSpan quiet)
    {
        var received = await ReceiveAsync(quiet);
        Assert.True(received is null, $"expected silence, got {received?.Packet.GetType().Name}");
    }

    /// <summary>
    /// Downloads <paramref name="file"/> like an RFC 7440 client: ACK at the end of each window and on the
    /// last block; an out-of-order block is answered with an ACK of the last block received in order.
    /// Returns the content and the OACK (null without options).
    /// </summary>
    public async Task<(byte[] Content, TftpOptionAck? OptionAck)> DownloadAsync(string file, params (string Name, string Value)[] options)
    {
        Send(ReadRequest(file, options));
        var (first, peer) = (await ReceiveAsync()) ?? throw new TimeoutException("no answer to the read request");
        var blockSize = 512;
        var window = 1;
        TftpOptionAck? optionAck = null;
        var content = new MemoryStream();
        long expected = 1;
        var inWindow = 0;
        TftpPacket? packet = first;
        var silentRounds = 0;
        while (true)
        {
            switch (packet)
            {
                case TftpError error:
                    throw new TftpErrorException(error.Code, error.Message);
                case TftpOptionAck oack when optionAck is null && expected == 1:
                    optionAck = oack;
                    foreach (var o in oack.Options)
                    {
                        if (o.Name == TftpOptionNames.BlockSize)
                        {
                            blockSize = int.Parse(o.Value, CultureInfo.InvariantCulture);
                        }
                        else if (o.Name == TftpOptionNames.WindowSize)
                        {
                            window = int.Parse(o.Value, CultureInfo.InvariantCulture);
                        }
                    }

                    Send(new TftpAck(0), peer);
                    break;
                case TftpData data when data.Block == (ushort)expected:
                    content.Write(data.Payload.Span);
                    if (data.Payload.Length < blockSize)
                    {
                        Send(new TftpAck(data.Block), peer);
                        return (content.ToArray(), optionAck);
                    }

                    expected++;
                    if (++inWindow == window)
                    {
                        Send(new TftpAck(data.Block), peer);
                        inWindow = 0;
                    }

                    break;
                case TftpData data when (ushort)(data.Block - (ushort)expected) < 32768:
                    // A block ahead of the expected one: one was lost. Acknowledge what arrived in order.
                    Send(new TftpAck((ushort)(expected - 1)), peer);
                    inWindow = 0;
                    break;
            }

            (TftpPacket Packet, IPEndPoint From)? next;
            do
            {
                next = await ReceiveAsync(TimeSpan.FromSeconds(5));
                if (next is null)
                {
                    if (++silentRounds > 5)
                    {
                        throw new TimeoutException($"the server went quiet at block {expected}");
                    }

                    Send(new TftpAck((ushort)(expected - 1)), peer);
                    inWindow = 0;
                }
            }
            while (next is null || !next.Value.From.Equals(peer));

            silentRounds = 0;
            packet = next.Value.Packet;
        }
    }

    public void Dispose() => _socket.Dispose();
}

public sealed class TftpErrorException(TftpErrorCode code, string message) : Exception($"TFTP error {code}: {message}")
{
    public TftpErrorCode Code { get; } = code;
}
