namespace NekkoMetal.NodeAgent;

/// <summary>
/// Log event ids of the node agent, 5000–5199, one range per area: 5000–5049 agent loop and checks, 5050–5099 heartbeat, 5100–5149 enrolment (client certificate).
/// (Inventory uses 1000–1999, the boot server 2000–2999, TFTP and DHCP 3000–3199, PKI 4000–4299.)
/// </summary>
internal static class EventIds
{
    public const int AgentStarted = 5000;
    public const int CheckFailed = 5001;
    public const int RoundCompleted = 5002;
    public const int RoundFailed = 5003;

    public const int HeartbeatLogged = 5050;
    public const int NoBootServers = 5051;
    public const int HeartbeatNotSent = 5052;
    public const int HeartbeatServerFailed = 5053;
    public const int HeartbeatRefused = 5054;
    public const int HeartbeatNoServer = 5055;
    public const int HeartbeatServerSwitched = 5056;
    public const int HeartbeatBadAnswer = 5057;

    public const int CredentialsObtained = 5100;
    public const int CredentialsRefused = 5101;
    public const int CredentialsServerFailed = 5102;
    public const int CredentialsBadAnswer = 5103;
    public const int CredentialsMissing = 5104;
    public const int CredentialsUnreadable = 5105;
    public const int CredentialsUnusable = 5106;
    public const int ActionRunning = 5200;
    public const int ActionFailed = 5201;
    public const int ActionNotAllowed = 5202;
    public const int ActionUnknown = 5203;
}
