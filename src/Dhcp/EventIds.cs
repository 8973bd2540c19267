namespace NekkoMetal.Dhcp;

/// <summary>
/// Log event ids of the DHCP library (3100–3199): 3100–3139 transport (sockets, datagrams, start-up), 3140–3179 the
/// handler (what was answered and why not), 3180–3199 IPv6 router advertisements. Inventory uses 1000–1999, the boot
/// server 2000–2999.
/// </summary>
internal static class EventIds
{
    public const int DhcpOff = 3100;
    public const int Serving = 3101;
    public const int InterfaceNotFound = 3102;
    public const int InterfaceWithoutAddress = 3103;
    public const int OpenFailed = 3104;
    public const int ListenerStopped = 3105;
    public const int ReceiveBackOff = 3106;
    public const int ReceiveTransient = 3107;
    public const int SendFailed = 3108;
    public const int BadDatagram = 3110;
    public const int NotARequest = 3111;
    public const int HandlerFailed = 3112;
    public const int ListenerReopened = 3113;
    public const int WrongInterface = 3114;

    public const int Offered = 3140;
    public const int Acked = 3141;
    public const int Nakked = 3142;
    public const int NoAddress = 3143;
    public const int Declined = 3144;
    public const int Released = 3145;
    public const int Informed = 3146;
    public const int ProxyReplied = 3147;
    public const int NotBootClient = 3148;
    public const int OtherServer = 3149;
    public const int Ignored = 3150;
    public const int Silent = 3151;

    public const int RouterAdvertisementsOn = 3180;
    public const int RouterAdvertisementFailed = 3181;
    public const int RouterSolicitation = 3182;
}
