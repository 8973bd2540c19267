namespace NekkoMetal.KubeInstaller.Execution;

/// <summary>
/// Log event ids of the KubeInstaller executor, 6000–6199: 6000–6049 SSH and host keys, 6050–6099 operations and
/// batches, 6100–6149 probes, 6150–6199 the controller loop. (Inventory 1000–1999, boot server 2000–2999,
/// TFTP/DHCP 3000–3199, PKI 4000–4299, agent 5000–5199.)
/// </summary>
internal static class EventIds
{
    public const int SshConnected = 6000;
    public const int HostKeyPinned = 6001;
    public const int HostKeyMismatch = 6002;
    public const int OperationStarted = 6050;
    public const int OperationSucceeded = 6051;
    public const int OperationFailed = 6052;
    public const int ProbeFailed = 6100;
    public const int LoopIteration = 6150;
    public const int LoopConverged = 6151;
    public const int LoopBlocked = 6152;
    public const int LoopTermEnded = 6153;
    public const int LoopRoundFailed = 6154;
}
