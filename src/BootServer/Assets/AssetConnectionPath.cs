using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Net.Http.Headers;
using NekkoMetal.Inventory.Assets;

namespace NekkoMetal.BootServer.Assets;

/// <summary>
/// Keep-alive downloads with <c>sendfile(2)</c> on the plain-HTTP listener: a connection middleware that runs before
/// Kestrel's HTTP layer and answers, itself, each plain whole-file <c>GET</c> of a large asset this server holds —
/// head and body written to the socket, the body by the kernel from the page cache — and then reads the next request
/// on the same connection. <see cref="SendFileResult"/> does the same from inside Kestrel but must close the
/// connection after each body (Kestrel cannot be told that bytes went out past it): a client fetching one asset after
/// another paid a TCP handshake and a cold congestion window each time (bench/README.md: 0.81× nginx with one client;
/// nginx itself runs at 0.76× when it closes after each response).
/// <para>
/// Taken only for the plainest requests, which it reads strictly: <c>GET /boot/assets/{name}</c> or a peer's
/// <c>GET /internal/v1/assets/sha256/{sha256}</c>, HTTP/1.1, a Host header, no query, no percent-encoding, no body,
/// no Range, no conditional, no Upgrade or Expect, a head of at most <see cref="MaxHeadBytes"/>; an asset whose
/// content is on this disk and at least <see cref="SendFileResult.MinimumLength"/> long. Anything else — other paths,
/// small files, a missing asset (404), a malformed head (400), 304/206, HEAD, HTTP/1.0 — is left untouched in the
/// connection's input and the connection handed to Kestrel, which answers it and every later request on that
/// connection as before. <c>Connection: close</c> from the client is honoured (the server closes after the body).
/// </para>
/// Idle connections are closed after Kestrel's keep-alive timeout, slow heads after its request-headers timeout, and
/// all of them when the server stops (after the body in flight).
/// </summary>
internal sealed partial class AssetConnectionPath(AssetCatalog catalog, AssetFiles files, KestrelServerLimits limits, ILogger<AssetConnectionPath> logger)
{
    /// <summary>Longer heads go to Kestrel (firmware and download tools send a few hundred bytes).</summary>
    public const int MaxHeadBytes = 4096;

    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(60);

    private static ReadOnlySpan<byte> EndOfHead => "\r\n\r\n"u8;

    /// <summary>Adds the middleware to a plain-HTTP listener; it needs Kestrel's socket transport (else it steps aside).</summary>
    public static void Use(ListenOptions listen, IServiceProvider services)
    {
        AssetConnectionPath? path = null;
        listen.Use(next => connection =>
        {
            path ??= new AssetConnectionPath(
                services.GetRequiredService<AssetCatalog>(), services.GetRequiredService<AssetFiles>(), listen.KestrelServerOptions.Limits,
                services.GetRequiredService<ILogger<AssetConnectionPath>>());
            return path.HandleAsync(connection, next);
        });
    }

    public async Task HandleAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        var socket = connection.Features.Get<IConnectionSocketFeature>()?.Socket;
        if (socket is null)
        {
            await next(connection);
            return;
        }

        var input = connection.Transport.Input;
        var stopping = connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? CancellationToken.None;
        using var closed = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed, stopping);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(closed.Token);
        try
        {
            while (true)
            {
                var request = await ReadHeadAsync(input, timeout, closed.Token);
                if (request is null)
                {
                    return; // the client closed, went quiet, or the server stops: nothing is pending
                }

                if (request.Value.Send is not { } send)
                {
                    await next(connection); // Kestrel reads the untouched head and answers it, and the rest
                    return;
                }

                input.AdvanceTo(request.Value.End);
                var keepAlive = !request.Value.Close && !stopping.IsCancellationRequested;
                var head = Encoding.ASCII.GetBytes(SendFileResult.Head(send.Length, send.ContentType, send.LastModified, send.ETag, keepAlive));
                Cork(socket, true);
                await socket.SendFileAsync(send.Path, head, ReadOnlyMemory<byte>.Empty, TransmitFileOptions.UseDefaultWorkerThread, connection.ConnectionClosed);
                Cork(socket, false);
                if (!keepAlive)
                {
                    await DrainAsync(socket, input, connection.ConnectionClosed);
                    return;
                }
            }
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException or OperationCanceledException or ConnectionResetException)
        {
            LogDropped(logger, connection.ConnectionId, e.GetType().Name);
        }
    }

    /// <summary>
    /// The next request's head: to send (its end past the head; the caller advances) or to hand over (nothing
    /// consumed, nothing examined); null when the connection is done.
    /// </summary>
    private async Task<(SequencePosition End, bool Close, Send? Send)?> ReadHeadAsync(PipeReader input, CancellationTokenSource timeout, CancellationToken closed)
    {
        while (true)
        {
            timeout.CancelAfter(limits.KeepAliveTimeout);
            ReadResult read;
            try
            {
                read = await input.ReadAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (!closed.IsCancellationRequested)
            {
                return null; // idle or slow past Kestrel's own limits
            }

            var buffer = read.Buffer;
            if (buffer.IsEmpty && read.IsCompleted)
            {
                input.AdvanceTo(buffer.End);
                return null;
            }

            var reader = new SequenceReader<byte>(buffer);
            if (reader.TryReadTo(out ReadOnlySequence<byte> head, EndOfHead) && head.Length + EndOfHead.Length <= MaxHeadBytes)
            {
                var (close, send) = Parse(head);
                if (send is null)
                {
                    input.AdvanceTo(buffer.Start);
                }

                return (reader.Position, close, send);
            }

            if (buffer.Length >= MaxHeadBytes || read.IsCompleted)
            {
                input.AdvanceTo(buffer.Start); // Kestrel's limits and errors apply
                return (buffer.Start, false, null);
            }

            input.AdvanceTo(buffer.Start, buffer.End); // wait for the rest of the head
            timeout.CancelAfter(limits.RequestHeadersTimeout);
        }
    }

    /// <summary>Whether the client asked to close, and the file to send when the request qualifies.</summary>
    private (bool Close, Send? Send) Parse(ReadOnlySequence<byte> head)
    {
        Span<byte> bytes = stackalloc byte[MaxHeadBytes];
        head.CopyTo(bytes);
        var text = bytes[..(int)head.Length];
        var lineEnd = text.IndexOf("\r\n"u8);
        var requestLine = lineEnd < 0 ? text : text[..lineEnd];
        if (!TryTarget(requestLine, out var target))
        {
            return (false, null);
        }

        var close = false;
        var host = false;
        var rest = lineEnd < 0 ? [] : text[(lineEnd + 2)..];
        while (!rest.IsEmpty)
        {
            var end = rest.IndexOf("\r\n"u8);
            var line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? [] : rest[(end + 2)..];
            var colon = line.IndexOf((byte)':');
            if (colon <= 0 || line[0] is (byte)' ' or (byte)'\t' || line.IndexOfAnyInRange((byte)0, (byte)8) >= 0 || line.IndexOf((byte)0x7f) >= 0)
            {
                return (false, null); // malformed or folded: Kestrel answers 400
            }

            var name = Encoding.ASCII.GetString(line[..colon]);
            var value = Encoding.ASCII.GetString(line[(colon + 1)..]).Trim();
            if (name.Equals(HeaderNames.Host, StringComparison.OrdinalIgnoreCase))
            {
                if (host || value.Length == 0)
                {
                    return (false, null);
                }

                host = true;
            }
            else if (name.Equals(HeaderNames.Connection, StringComparison.OrdinalIgnoreCase))
            {
                foreach (var token in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                {
                    if (token.Equals("close", StringComparison.OrdinalIgnoreCase))
                    {
                        close = true;
                    }
                    else if (!token.Equals("keep-alive", StringComparison.OrdinalIgnoreCase))
                    {
                        return (false, null); // e.g. Upgrade
                    }
                }
            }
            else if (!IsHarmless(name) || (name.Equals(HeaderNames.ContentLength, StringComparison.OrdinalIgnoreCase) && value != "0"))
            {
                return (false, null);
            }
        }

        return host ? (close, Lookup(target)) : (false, null);
    }

    /// <summary>Headers that change nothing in a whole-file answer; any other (Range, If-*, Transfer-Encoding, Expect, Upgrade, …) goes to Kestrel.</summary>
    private static bool IsHarmless(string name) =>
        name.Equals(HeaderNames.UserAgent, StringComparison.OrdinalIgnoreCase)
        || name.Equals(HeaderNames.Accept, StringComparison.OrdinalIgnoreCase)
        || name.Equals(HeaderNames.AcceptEncoding, StringComparison.OrdinalIgnoreCase)
        || name.Equals(HeaderNames.AcceptLanguage, StringComparison.OrdinalIgnoreCase)
        || name.Equals(HeaderNames.CacheControl, StringComparison.OrdinalIgnoreCase)
        || name.Equals(HeaderNames.Pragma, StringComparison.OrdinalIgnoreCase)
        || name.Equals(HeaderNames.ContentLength, StringComparison.OrdinalIgnoreCase)
        || name.Equals("Keep-Alive", StringComparison.OrdinalIgnoreCase);

    private static bool TryTarget(ReadOnlySpan<byte> requestLine, out string target)
    {
        target = "";
        if (!requestLine.StartsWith("GET "u8) || !requestLine.EndsWith(" HTTP/1.1"u8))
        {
            return false;
        }

        var path = requestLine[4..^9];
        if (path.IsEmpty || path.IndexOfAny("%? \t"u8) >= 0 || path.IndexOfAnyExceptInRange((byte)0x21, (byte)0x7e) >= 0)
        {
            return false;
        }

        target = Encoding.ASCII.GetString(path);
        return true;
    }

    private Send? Lookup(string target)
    {
        if (target.StartsWith(AssetEndpoints.BootPath, StringComparison.Ordinal))
        {
            var name = target[AssetEndpoints.BootPath.Length..];
            return AssetName.IsValid(name) && catalog.Get(name) is { } asset
                ? Local(asset.Sha256, asset.ContentType, asset.CreatedAt)
                : null;
        }

        if (target.StartsWith(AssetReplicator.InternalContentPath, StringComparison.Ordinal))
        {
            var sha256 = target[AssetReplicator.InternalContentPath.Length..];
            return AssetName.IsSha256(sha256) ? Local(sha256, "application/octet-stream", null) : null;
        }

        return null;
    }

    private Send? Local(string sha256, string contentType, DateTimeOffset? lastModified)
    {
        if (!files.Has(sha256))
        {
            return null; // Kestrel redirects to a peer or answers 503
        }

        var path = files.PathOf(sha256);
        try
        {
            var length = new FileInfo(path).Length;
            return length >= SendFileResult.MinimumLength ? new Send(path, length, contentType, lastModified, new EntityTagHeaderValue($"\"{sha256}\"")) : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>
    /// TCP_CORK around head and body, as nginx's <c>tcp_nopush</c>: only full segments leave while it is set (Kestrel
    /// sets TCP_NODELAY, which would push each <c>sendfile</c> call's tail as a short segment); clearing it sends the rest.
    /// </summary>
    internal static void Cork(Socket socket, bool on)
    {
        if (OperatingSystem.IsLinux())
        {
            socket.SetRawSocketOption(TcpLevel, TcpCork, BitConverter.GetBytes(on ? 1 : 0));
        }
    }

    private const int TcpLevel = 6; // IPPROTO_TCP

    private const int TcpCork = 3; // TCP_CORK, linux/tcp.h

    /// <summary>After the last body: our FIN, then wait for the client's (a close with unread input would be a reset).</summary>
    private static async Task DrainAsync(Socket socket, PipeReader input, CancellationToken closed)
    {
        socket.Shutdown(SocketShutdown.Send);
        using var drain = CancellationTokenSource.CreateLinkedTokenSource(closed);
        drain.CancelAfter(DrainTimeout);
        while (true)
        {
            var read = await input.ReadAsync(drain.Token);
            input.AdvanceTo(read.Buffer.End);
            if (read.IsCompleted)
            {
                return;
            }
        }
    }

    [LoggerMessage(EventId = EventIds.AssetConnectionDropped, Level = LogLevel.Debug, Message = "Asset download connection {ConnectionId} ended early ({Reason})")]
    private static partial void LogDropped(ILogger logger, string connectionId, string reason);

    private sealed record Send(string Path, long Length, string ContentType, DateTimeOffset? LastModified, EntityTagHeaderValue ETag);
}
