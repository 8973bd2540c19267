using NekkoMetal.BootServer.Boot;
using NekkoMetal.Inventory;
using NekkoMetal.Inventory.Boot;
using NekkoMetal.Inventory.Machines;
using NekkoMetal.Inventory.Profiles;

namespace NekkoMetal.BootServer.Profiles;

/// <summary>
/// The iPXE script of a known machine that is due for an install (<see cref="InstallRecord.IsInstallDue"/>): its role's
/// profile kernel and initrds from <c>/boot/assets/</c> with the profile's command line rendered for the machine
/// (<c>ipxe/install.ipxe</c>). Reads the profile and the install record from etcd: one script per network boot.
/// </summary>
public sealed partial class InstallScript(
    IpxeScripts scripts, ProfileRepository profiles, ProfileRenderer renderer, BootstrapTokenRepository bootstrap,
    Microsoft.Extensions.Options.IOptions<Agents.AgentEnrolmentOptions> enrolment, ILogger<InstallScript> logger)
{
    public const string Template = "install.ipxe";

    private readonly ILogger<InstallScript> _logger = logger;

    /// <summary>
    /// The install script for <paramref name="machine"/>, or null when it has nothing to install (no role, no profile
    /// for its role, or installed). A profile that cannot be rendered for this machine is a <see cref="ConflictException"/>
    /// (the boot script's retry loop asks again until the profile is fixed).
    /// </summary>
    public async Task<string?> RenderAsync(Machine machine, string baseUrl, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(machine);
        if (machine.Role is not { } role || await profiles.FindAsync(role, ct) is not { } profile)
        {
            return null;
        }

        var record = await profiles.GetInstallAsync(machine.Serial, ct);
        if (!InstallRecord.IsInstallDue(record, role))
        {
            return null;
        }

        var token = "";
        if (profile.Cmdline.Contains(ProfileRenderer.BootstrapTokenVariable, StringComparison.Ordinal))
        {
            token = await bootstrap.IssueForMachineAsync(
                ConfigEndpoints.AgentBootstrapPurpose, enrolment.Value.BootstrapTokenTtl, machine.Macs.Count > 0 ? machine.Macs[0] : null, machine.Serial, ct);
        }

        try
        {
            var cmdline = renderer.RenderCmdline(profile, new ProfileRenderInput { Machine = machine, BootServerUrl = baseUrl, BootstrapToken = token });
            var values = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["base"] = baseUrl,
                ["serial"] = machine.Serial,
                ["role"] = role,
                ["version"] = profile.Version.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["kernel"] = profile.Kernel,
                ["cmdline"] = string.Join(' ', profile.Initrds.Select(i => "initrd=" + i).Append(cmdline)),
            };
            var lists = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal) { ["initrd"] = profile.Initrds };
            var script = scripts.Render(Template, values, lists);
            LogInstallScript(machine.Serial, role, profile.Version);
            return script;
        }
        catch (Exception e) when (e is ProfileRenderException or ArgumentException)
        {
            LogNotBootable(e, machine.Serial, role, profile.Version);
            throw new ConflictException($"profile '{role}' version {profile.Version} cannot be booted by machine '{machine.Serial}': {e.Message}");
        }
    }

    [LoggerMessage(EventIds.InstallScript, LogLevel.Information, "Machine {Serial} is due for an install: booting profile {Role} version {Version}")]
    private partial void LogInstallScript(string serial, string role, long version);

    [LoggerMessage(EventIds.ProfileNotBootable, LogLevel.Error, "Machine {Serial} cannot boot profile {Role} version {Version}")]
    private partial void LogNotBootable(Exception exception, string serial, string role, long version);
}
