namespace NekkoMetal.Tftp;

/// <summary>
/// Log event ids of the TFTP server, 3000–3099, one range per area: 3000–3009 listener lifecycle and
/// socket, 3010–3029 requests at the listener, 3030–3059 transfers. (Inventory uses 1000–1999, the boot server 2000–2999.)
/// </summary>
internal static class EventIds
{
    public const int Listening = 3000;
    public const int ListenerStopped = 3001;
    public const int ListenerSocketError = 3002;
    public const int ListenerBackOff = 3003;
    public const int ListenerFatal = 3004;

    public const int JunkDatagram = 3010;
    public const int MalformedRequest = 3011;
    public const int WriteRequestRefused = 3012;
    public const int ModeRefused = 3013;
    public const int ServerBusy = 3014;
    public const int DuplicateRequest = 3015;
    public const int TransferSuperseded = 3016;
    public const int DatagramHandlingFailed = 3017;

    public const int TransferStarted = 3030;
    public const int TransferCompleted = 3031;
    public const int FileNotFound = 3032;
    public const int AccessDenied = 3033;
    public const int FileTooLarge = 3034;
    public const int TransferTimedOut = 3035;
    public const int FinalAckLost = 3036;
    public const int ClientAborted = 3037;
    public const int Retransmitting = 3038;
    public const int TransferFailed = 3039;
    public const int TransferSocketFailed = 3040;
    public const int ClientUnreachable = 3041;
    public const int FileChanged = 3042;
    public const int TransferStoppedByShutdown = 3043;
    public const int IgnoredTransferDatagram = 3044;
    public const int FileSourceFailed = 3045;
}
