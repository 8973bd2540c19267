using NekkoMetal.NodeAgent.Platform;

namespace NekkoMetal.NodeAgent.Checks;

/// <summary>What asking the kubelet's health endpoint gave.</summary>
/// <remarks>
/// <para><c>Installed</c>: whether this node has a kubelet at all (its config or unit file exists).</para>
/// <para><c>Error</c>: connection refused, timeout, …; null when an HTTP answer came back.</para>
/// </remarks>
internal sealed record KubeletProbe(bool Installed, int? StatusCode, string? Body, string? Error);

/// <summary>
/// The kubelet's own health endpoint (<c>GET http://127.0.0.1:10248/healthz</c>, the kubelet's healthzPort) when the
/// node has a kubelet: 200 "ok" → ok; any other answer or no answer → critical. No kubelet → ok, not applicable.
/// </summary>
internal sealed class KubeletCheck(HostRoot host, HttpClient http, Uri healthzUrl) : IHealthCheck
{
    public const string Name = "kubelet";

    private static readonly string[] InstalledMarkers =
    [
        "/var/lib/kubelet/config.yaml", "/etc/kubernetes/kubelet.conf", "/etc/systemd/system/kubelet.service",
        "/lib/systemd/system/kubelet.service", "/usr/lib/systemd/system/kubelet.service",
    ];

    public async Task<IReadOnlyList<CheckResult>> RunAsync(CancellationToken cancellationToken) => [Evaluate(await ProbeAsync(cancellationToken))];

    private async Task<KubeletProbe> ProbeAsync(CancellationToken cancellationToken)
    {
        if (!InstalledMarkers.Any(host.Exists))
        {
            return new KubeletProbe(false, null, null, null);
        }

        try
        {
            using var response = await http.GetAsync(healthzUrl, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            return new KubeletProbe(true, (int)response.StatusCode, body.Length > 512 ? body[..512] : body, null);
        }
        catch (HttpRequestException e)
        {
            return new KubeletProbe(true, null, null, e.Message);
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new KubeletProbe(true, null, null, $"no answer within {http.Timeout.TotalSeconds:0} s");
        }
    }

    /// <summary>Pure: the probe → the verdict.</summary>
    public static CheckResult Evaluate(KubeletProbe probe)
    {
        ArgumentNullException.ThrowIfNull(probe);
        if (!probe.Installed)
        {
            return CheckResult.Ok(Name, "no kubelet on this node (not applicable)");
        }

        if (probe.Error is not null || probe.StatusCode is null)
        {
            return CheckResult.Critical(Name, $"kubelet healthz unreachable: {probe.Error ?? "no answer"}");
        }

        var body = probe.Body?.Trim() ?? "";
        if (probe.StatusCode == 200 && body == "ok")
        {
            return CheckResult.Ok(Name, "kubelet healthz ok");
        }

        var shown = body.Length > 200 ? body[..200] + "…" : body;
        return CheckResult.Critical(Name, $"kubelet healthz answered {probe.StatusCode}: {(shown.Length == 0 ? "(empty body)" : shown)}");
    }
}
