namespace NekkoMetal.KubeInstaller.Execution.HostKeys;

/// <summary>
/// Pinned SSH host keys by machine serial (SHA-256 fingerprint, base64 without padding as OpenSSH prints it after
/// <c>SHA256:</c>). First contact pins; afterwards only that key is accepted. Removing a pin is a deliberate
/// administrator action (a reinstalled machine has new host keys).
/// </summary>
public interface IHostKeyStore
{
    /// <summary>The pinned fingerprint of <paramref name="serial"/>, or null when none is pinned yet.</summary>
    Task<string?> GetAsync(string serial, CancellationToken ct);

    /// <summary>
    /// Pins <paramref name="fingerprint"/> if nothing is pinned yet (compare-and-swap on absence). Returns the
    /// fingerprint pinned afterwards: <paramref name="fingerprint"/>, or another one that won a race.
    /// </summary>
    Task<string> PinAsync(string serial, string fingerprint, CancellationToken ct);

    /// <summary>Removes the pin (the next contact pins again). Returns false when none was there.</summary>
    Task<bool> ForgetAsync(string serial, CancellationToken ct);
}
