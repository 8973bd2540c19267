namespace NekkoMetal.Tftp.Files;

/// <summary>Where the server finds the files it serves. Implementations must be thread-safe: transfers open files concurrently.</summary>
public interface ITftpFileSource
{
    /// <summary>
    /// Opens <paramref name="path"/>, the file name of a read request exactly as the client sent it
    /// (non-empty valid UTF-8 without NUL, within <c>TftpLimits.MaxFileNameLength</c>; nothing else
    /// checked: confining it is the source's job). Expected outcomes (missing, forbidden) are results,
    /// not exceptions; an exception is logged as a server fault and the client gets error 0.
    /// </summary>
    ValueTask<TftpFileResult> OpenAsync(string path, CancellationToken cancellationToken);
}

public enum TftpFileStatus
{
    /// <summary>The file is open: <see cref="TftpFileResult.File"/> is set.</summary>
    Found,

    /// <summary>Answered with error 1, file not found.</summary>
    NotFound,

    /// <summary>Answered with error 2, access violation.</summary>
    AccessDenied,
}

/// <summary>The outcome of <see cref="ITftpFileSource.OpenAsync"/>.</summary>
public sealed class TftpFileResult
{
    private TftpFileResult(TftpFileStatus status, TftpFile? file)
    {
        Status = status;
        File = file;
    }

    public static TftpFileResult NotFound { get; } = new(TftpFileStatus.NotFound, null);

    public static TftpFileResult AccessDenied { get; } = new(TftpFileStatus.AccessDenied, null);

    public TftpFileStatus Status { get; }

    /// <summary>The open file when <see cref="Status"/> is <see cref="TftpFileStatus.Found"/>; the server disposes it.</summary>
    public TftpFile? File { get; }

    public static TftpFileResult Found(TftpFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        return new TftpFileResult(TftpFileStatus.Found, file);
    }
}

/// <summary>
/// An open file: its content and its length (announced through tsize, and fixing the number of
/// blocks). The stream must be readable and seekable (retransmitted blocks are read again from their
/// offset); the server owns and disposes it.
/// </summary>
public sealed class TftpFile : IAsyncDisposable, IDisposable
{
    public TftpFile(Stream content, long length)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (!content.CanRead || !content.CanSeek)
        {
            throw new ArgumentException("The stream must be readable and seekable.", nameof(content));
        }

        Content = content;
        Length = length;
    }

    public Stream Content { get; }

    public long Length { get; }

    public ValueTask DisposeAsync() => Content.DisposeAsync();

    public void Dispose() => Content.Dispose();
}
