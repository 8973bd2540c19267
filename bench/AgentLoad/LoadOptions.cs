using System.Globalization;

namespace NekkoMetal.AgentLoad;

/// <summary>Command line of the load tool (see <see cref="Usage"/>).</summary>
internal sealed class LoadOptions
{
    public const string Usage = """
        NekkoMetal.AgentLoad: N simulated node agents against a running boot server (driven by bench/agents-load.sh).

        Registers N machines through the admin API, takes each one's agent bootstrap token from its rendered cloud-init
        user-data (GET /boot/config/{serial}/user-data, as a machine does), enrols each one like nekko-agent (bootstrap
        token + PKCS#10 CSR of an ECDSA P-256 key -> client certificate), measures the boot server idle for the window,
        then sends mTLS heartbeats for every machine every INTERVAL s, spread evenly over the interval (one
        SocketsHttpHandler per machine certificate, connections kept alive as the agent does), and measures the window
        after the warm-up.

        --https URL          the boot server's HTTPS URL (admin and agent API), e.g. https://127.0.0.1:18443 (required)
        --http URL           its plain-HTTP URL (/boot/config), e.g. http://127.0.0.1:18080 (required)
        --data-dir DIR       its data directory: admin.token and ca.pem are read from it (required)
        --server-pid PID     the boot server's process: CPU time of it and all its descendants (embedded etcd) (required)
        --agents N           simulated agents (default 1000)
        --interval SECONDS   heartbeat period of each agent (default 10)
        --warmup SECONDS     heartbeats before the measured window (default 30)
        --window SECONDS     measured window, loaded and idle alike (default 120)
        --settle SECONDS     pause after enrolment, before the idle window (default 10)
        --setup-parallel N   concurrent requests while registering and enrolling (default 8)
        --prefix P           serial prefix (default AL): serials P00001…
        --out FILE           also write the results as key value lines to FILE
        """;

    public required Uri Https { get; init; }
    public required Uri Http { get; init; }
    public required string DataDir { get; init; }
    public required int ServerPid { get; init; }
    public int Agents { get; init; } = 1000;
    public double Interval { get; init; } = 10;
    public double Warmup { get; init; } = 30;
    public double Window { get; init; } = 120;
    public double Settle { get; init; } = 10;
    public int SetupParallel { get; init; } = 8;
    public string Prefix { get; init; } = "AL";
    public string? Out { get; init; }

    /// <summary>Null (after printing why) when the arguments are not usable.</summary>
    public static LoadOptions? Parse(string[] args)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] is "-h" or "--help")
            {
                Console.WriteLine(Usage);
                return null;
            }

            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                Console.Error.WriteLine($"bad argument '{args[i]}' (--help lists them)");
                return null;
            }

            map[args[i][2..]] = args[++i];
        }

        string? Get(string key) => map.TryGetValue(key, out var v) ? v : null;
        double Num(string key, double fallback) => Get(key) is { } v ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;
        if (Get("https") is not { } https || Get("http") is not { } http || Get("data-dir") is not { } dataDir || Get("server-pid") is not { } pid)
        {
            Console.Error.WriteLine("--https, --http, --data-dir and --server-pid are required (--help)");
            return null;
        }

        return new LoadOptions
        {
            Https = new Uri(https),
            Http = new Uri(http),
            DataDir = dataDir,
            ServerPid = int.Parse(pid, CultureInfo.InvariantCulture),
            Agents = (int)Num("agents", 1000),
            Interval = Num("interval", 10),
            Warmup = Num("warmup", 30),
            Window = Num("window", 120),
            Settle = Num("settle", 10),
            SetupParallel = (int)Num("setup-parallel", 8),
            Prefix = Get("prefix") ?? "AL",
            Out = Get("out"),
        };
    }
}
