using System.Globalization;
using Microsoft.Extensions.Logging;
using NekkoMetal.KubeInstaller.Execution.HostKeys;
using NekkoMetal.KubeInstaller.Model;
using Renci.SshNet;
using Renci.SshNet.Common;

namespace NekkoMetal.KubeInstaller.Execution.Ssh;

/// <summary>
/// One SSH connection to one node (commands on an <see cref="SshClient"/>, files over a lazily opened
/// <see cref="SftpClient"/>), with the host key checked against the pin of the node's serial on every connect.
/// Commands may run concurrently (one channel each).
/// </summary>
public sealed partial class NodeConnection : IAsyncDisposable
{
    private readonly InventoryNode _node;
    private readonly SshOptions _options;
    private readonly ConnectionInfo _info;
    private readonly SshClient _ssh;
    private readonly SemaphoreSlim _sftpLock = new(1, 1);
    private readonly ILogger _logger;
    private SftpClient? _sftp;

    private NodeConnection(InventoryNode node, SshOptions options, ConnectionInfo info, ILogger logger)
    {
        _node = node;
        _options = options;
        _info = info;
        _logger = logger;
        _ssh = new SshClient(info);
    }

    public InventoryNode Node => _node;

    public bool IsConnected => _ssh.IsConnected;

    /// <summary>Connects, checks (or on first contact pins) the host key, and authenticates with the key.</summary>
    public static async Task<NodeConnection> ConnectAsync(
        InventoryNode node, SshOptions options, IHostKeyStore hostKeys, ILogger logger, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(hostKeys);
        var (host, port) = options.Endpoint(node);
        var key = new PrivateKeyFile(options.PrivateKeyPath);
        var info = new ConnectionInfo(host, port, options.User, new PrivateKeyAuthenticationMethod(options.User, key))
        {
            Timeout = options.ConnectTimeout,
        };
        var connection = new NodeConnection(node, options, info, logger);
        try
        {
            await connection.OpenAsync(connection._ssh, hostKeys, ct);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private async Task OpenAsync(BaseClient client, IHostKeyStore hostKeys, CancellationToken ct)
    {
        var pinned = await hostKeys.GetAsync(_node.Serial, ct);
        string? presented = null;
        client.HostKeyReceived += (_, e) =>
        {
            presented = e.FingerPrintSHA256;
            e.CanTrust = pinned is null || string.Equals(pinned, presented, StringComparison.Ordinal);
        };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.ConnectTimeout);
        try
        {
            await client.ConnectAsync(timeout.Token);
        }
        catch (Exception) when (presented is not null && pinned is not null && presented != pinned)
        {
            LogHostKeyMismatch(_logger, _node.Serial, _node.Address, pinned, presented);
            throw new HostKeyMismatchException(_node.Serial, _node.Address, pinned, presented);
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new NodeUnreachableException(_node.Serial, _node.Address, $"no answer within {_options.ConnectTimeout.TotalSeconds:0.#} s", e);
        }
        catch (Exception e) when (e is SshException or System.Net.Sockets.SocketException or IOException or InvalidOperationException)
        {
            throw new NodeUnreachableException(_node.Serial, _node.Address, e.Message, e);
        }

        if (pinned is null && presented is not null)
        {
            var winner = await hostKeys.PinAsync(_node.Serial, presented, ct);
            if (winner != presented)
            {
                client.Disconnect();
                throw new HostKeyMismatchException(_node.Serial, _node.Address, winner, presented);
            }

            LogHostKeyPinned(_logger, _node.Serial, _node.Address, presented);
        }

        Fingerprint ??= presented;
    }

    /// <summary>Runs <paramref name="command"/> through the login shell; a timeout cancels it and throws <see cref="RemoteCommandException"/>.</summary>
    public async Task<CommandResult> RunAsync(string command, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        using var cmd = _ssh.CreateCommand(command);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout ?? _options.CommandTimeout);
        try
        {
            await cmd.ExecuteAsync(limit.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new RemoteCommandException(_node.Name, command, null, "", timedOut: true);
        }
        catch (SshException e)
        {
            throw new NodeUnreachableException(_node.Serial, _node.Address, e.Message, e);
        }

        return new CommandResult(cmd.ExitStatus ?? -1, cmd.Result, cmd.Error);
    }

    /// <summary>Runs <paramref name="command"/> and throws <see cref="RemoteCommandException"/> unless it exits 0; returns its output.</summary>
    public async Task<string> RunCheckedAsync(string command, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        var r = await RunAsync(command, timeout, ct);
        return r.Succeeded ? r.Output : throw new RemoteCommandException(_node.Name, command, r.ExitCode, r.Error + r.Output, timedOut: false);
    }

    /// <summary>
    /// Writes a file atomically: into a temporary file beside <paramref name="path"/> (SFTP), mode set, then renamed
    /// over it, so a reader sees the old or the new content, never a part.
    /// </summary>
    public async Task WriteFileAsync(string path, ReadOnlyMemory<byte> content, int mode, CancellationToken ct)
    {
        using var stream = new MemoryStream(content.ToArray(), writable: false);
        await UploadAsync(stream, path, expectedSha256: null, mode, ct);
    }

    /// <summary>
    /// Uploads <paramref name="content"/> to a temporary file beside <paramref name="path"/>, checks its SHA-256
    /// <b>on the node</b> (when given), sets <paramref name="mode"/>, and renames it into place.
    /// </summary>
    public async Task UploadAsync(Stream content, string path, string? expectedSha256, int mode, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(content);
        var directory = Path.GetDirectoryName(path) ?? "/";
        var temp = $"{directory}/.{Path.GetFileName(path)}.nekko-{Guid.NewGuid():N}";
        await RunCheckedAsync("mkdir -p " + ShellQuoting.Quote(directory), ct: ct);
        var sftp = await SftpAsync(ct);
        try
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
            limit.CancelAfter(_options.CommandTimeout + TimeSpan.FromSeconds(content.CanSeek ? content.Length / (1 << 20) : 60));
            await sftp.UploadFileAsync(content, temp, limit.Token);
            sftp.ChangePermissions(temp, short.Parse(Convert.ToString(mode, 8), CultureInfo.InvariantCulture));
            if (expectedSha256 is not null)
            {
                var sum = (await RunCheckedAsync("sha256sum " + ShellQuoting.Quote(temp), ct: ct)).Split(' ', 2)[0].Trim();
                if (!string.Equals(sum, expectedSha256, StringComparison.OrdinalIgnoreCase))
                {
                    throw new OperationFailedException($"{_node.Name}: {path}: SHA-256 on the node is {sum}, expected {expectedSha256}; not installed");
                }
            }

            await RunCheckedAsync($"mv -f {ShellQuoting.Quote(temp)} {ShellQuoting.Quote(path)}", ct: ct);
        }
        catch
        {
            try
            {
                await RunAsync("rm -f " + ShellQuoting.Quote(temp), TimeSpan.FromSeconds(10), CancellationToken.None);
            }
            catch (KubeExecutionException)
            {
                // the connection broke: the temporary file stays (a dot file beside the target); the original error matters
            }

            throw;
        }
    }

    private async Task<SftpClient> SftpAsync(CancellationToken ct)
    {
        await _sftpLock.WaitAsync(ct);
        try
        {
            if (_sftp is { IsConnected: true })
            {
                return _sftp;
            }

            _sftp?.Dispose();
            // same pinned key: the SFTP connection is checked against the key the command connection just accepted
            var sftp = new SftpClient(_info);
            await OpenAsync(sftp, new PinnedOnly(this), ct);
            _sftp = sftp;
            return sftp;
        }
        finally
        {
            _sftpLock.Release();
        }
    }

    /// <summary>The host-key store of a second connection to the same node: only the fingerprint the first one saw.</summary>
    private sealed class PinnedOnly(NodeConnection owner) : IHostKeyStore
    {
        public Task<string?> GetAsync(string serial, CancellationToken ct) => Task.FromResult(owner.Fingerprint);

        public Task<string> PinAsync(string serial, string fingerprint, CancellationToken ct) => Task.FromResult(owner.Fingerprint ?? fingerprint);

        public Task<bool> ForgetAsync(string serial, CancellationToken ct) => Task.FromResult(false);
    }

    internal string? Fingerprint { get; private set; }

    public async ValueTask DisposeAsync()
    {
        await _sftpLock.WaitAsync();
        try
        {
            _sftp?.Dispose();
            _sftp = null;
        }
        finally
        {
            _sftpLock.Release();
        }

        _ssh.Dispose();
    }

    [LoggerMessage(EventIds.HostKeyPinned, LogLevel.Information, "Pinned the SSH host key of {Serial} ({Address}): SHA256:{Fingerprint}")]
    private static partial void LogHostKeyPinned(ILogger logger, string serial, string address, string fingerprint);

    [LoggerMessage(EventIds.HostKeyMismatch, LogLevel.Error, "SSH host key of {Serial} ({Address}) does not match its pin SHA256:{Pinned} (presented SHA256:{Presented}); refusing to connect")]
    private static partial void LogHostKeyMismatch(ILogger logger, string serial, string address, string pinned, string presented);
}
