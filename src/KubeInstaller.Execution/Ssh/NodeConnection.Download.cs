namespace NekkoMetal.KubeInstaller.Execution.Ssh;

public sealed partial class NodeConnection
{
    /// <summary>
    /// Copies the remote file <paramref name="path"/> into <paramref name="destination"/> over SFTP (the pinned
    /// host key, as uploads); the limit is the command timeout plus one second per MiB of <paramref name="expectedSize"/>.
    /// </summary>
    public async Task DownloadAsync(string path, Stream destination, long expectedSize, CancellationToken ct)
    {
        var sftp = await SftpAsync(ct);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(_options.CommandTimeout + TimeSpan.FromSeconds(expectedSize / (1 << 20)));
        try
        {
            await sftp.DownloadFileAsync(path, destination, limit.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new RemoteCommandException(_node.Name, "sftp get " + path, null, "", timedOut: true);
        }
        catch (Renci.SshNet.Common.SshException e)
        {
            throw new NodeUnreachableException(_node.Serial, _node.Address, e.Message, e);
        }
    }
}
