using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Net.Http.Headers;

namespace NekkoMetal.BootServer.Assets;

/// <summary>
/// An asset's whole content with <c>sendfile(2)</c>: the kernel hands the page cache to the socket, where
/// ASP.NET Core's file result copies the file through user space on Kestrel (dotnet/aspnetcore#18093; measured by
/// bench/assets.sh at 2.5–5× nginx's CPU per GiB). Taken only when it is plainly safe, otherwise the file result
/// (<paramref name="fallback"/>) answers:
/// <list type="bullet">
/// <item>a plain GET of the whole file over HTTP/1.x without TLS, on Kestrel's socket transport
/// (<see cref="IConnectionSocketFeature"/>), of at least <see cref="MinimumLength"/> bytes;</item>
/// <item>no Range and no conditional header (304, 206 and 416 stay with the file result).</item>
/// </list>
/// The response is written to the socket directly — head, then the file — with <c>Connection: close</c>, and the
/// connection is then closed (Kestrel has written nothing on it for this request, and writes nothing after): the
/// head's Content-Length is the file's, so a client reads exactly the body; a large download pays one TCP handshake.
/// The connection is closed only once the client has closed its side (see <see cref="ExecuteAsync"/>).
/// </summary>
internal sealed class SendFileResult(string path, string contentType, DateTimeOffset? lastModified, EntityTagHeaderValue entityTag, IResult fallback) : IResult
{
    /// <summary>Smaller files keep the connection open (iPXE fetches scripts and small files on one connection).</summary>
    public const long MinimumLength = 256 * 1024;

    /// <summary>How long a client may take to read the last of the body (what the socket still holds) and close.</summary>
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(60);

    private static readonly string[] ConditionalHeaders =
    [
        HeaderNames.Range, HeaderNames.IfMatch, HeaderNames.IfNoneMatch, HeaderNames.IfModifiedSince, HeaderNames.IfUnmodifiedSince, HeaderNames.IfRange,
    ];

    public async Task ExecuteAsync(HttpContext context)
    {
        var socket = DirectSocket(context);
        long length;
        try
        {
            length = socket is null ? 0 : new FileInfo(path).Length;
        }
        catch (IOException)
        {
            length = 0;
        }

        if (socket is null || length < MinimumLength)
        {
            await fallback.ExecuteAsync(context);
            return;
        }

        var head = Encoding.ASCII.GetBytes(Head(length, contentType, lastModified, entityTag, keepAlive: false));
        context.Response.StatusCode = StatusCodes.Status200OK; // for the request log; Kestrel sends nothing itself
        try
        {
            AssetConnectionPath.Cork(socket, true);
            await socket.SendFileAsync(path, head, ReadOnlyMemory<byte>.Empty, TransmitFileOptions.UseDefaultWorkerThread, context.RequestAborted);
            AssetConnectionPath.Cork(socket, false);

            // Our FIN goes after the body; the client closes once it has read it all, which Kestrel sees and reports as
            // RequestAborted. Only then is the connection aborted: Kestrel's abort of a socket with a receive pending
            // is a reset, which would throw away whatever the client had not received yet.
            socket.Shutdown(SocketShutdown.Send);
            await Task.Delay(DrainTimeout, context.RequestAborted);
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The client went away mid-body (or the file did, before anything was sent): the connection is closed below either way.
        }
        finally
        {
            context.Abort();
        }
    }

    /// <summary>The response head of a whole file (also written by <see cref="AssetConnectionPath"/>, which keeps the connection).</summary>
    internal static string Head(long length, string contentType, DateTimeOffset? lastModified, EntityTagHeaderValue entityTag, bool keepAlive)
    {
        var head = new StringBuilder(256)
            .Append("HTTP/1.1 200 OK\r\n")
            .Append("Content-Length: ").Append(length.ToString(CultureInfo.InvariantCulture)).Append("\r\n")
            .Append("Content-Type: ").Append(IsPlainHeaderValue(contentType) ? contentType : "application/octet-stream").Append("\r\n")
            .Append("ETag: ").Append(entityTag.ToString()).Append("\r\n")
            .Append("Accept-Ranges: bytes\r\n")
            .Append("Date: ").Append(DateTimeOffset.UtcNow.ToString("r", CultureInfo.InvariantCulture)).Append("\r\n");
        if (lastModified is { } modified)
        {
            head.Append("Last-Modified: ").Append(modified.ToUniversalTime().ToString("r", CultureInfo.InvariantCulture)).Append("\r\n");
        }

        return (keepAlive ? head : head.Append("Connection: close\r\n")).Append("\r\n").ToString();
    }

    /// <summary>Kestrel refuses control and non-ASCII characters in request headers, where the type comes from; checked again as it goes out raw.</summary>
    private static bool IsPlainHeaderValue(string value) => value.Length > 0 && value.All(c => c is >= ' ' and <= '~');

    private static Socket? DirectSocket(HttpContext context)
    {
        var request = context.Request;
        if (!HttpMethods.IsGet(request.Method) || request.IsHttps || context.Response.HasStarted
            || !(HttpProtocol.IsHttp11(request.Protocol) || HttpProtocol.IsHttp10(request.Protocol)))
        {
            return null;
        }

        foreach (var header in ConditionalHeaders)
        {
            if (request.Headers.ContainsKey(header))
            {
                return null;
            }
        }

        return context.Features.Get<IConnectionSocketFeature>()?.Socket;
    }
}
