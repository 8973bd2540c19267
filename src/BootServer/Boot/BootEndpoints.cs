using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using NekkoMetal.BootServer.Configuration;
using NekkoMetal.Inventory;
using NekkoMetal.Inventory.Boot;
using NekkoMetal.Inventory.Machines;
using NekkoMetal.Inventory.Storage;

namespace NekkoMetal.BootServer.Boot;

/// <summary>
/// The plain-HTTP paths firmware and iPXE use (no token: firmware cannot send one): the chain script, the
/// per-machine script (discovery for an unknown machine, its profile's install for a machine due for one, else local
/// boot), the discovery image and the iPXE binaries. Every file path is a fixed name or a name
/// matched against a strict pattern inside one directory.
/// </summary>
public static class BootEndpoints
{
    public static IEndpointRouteBuilder MapBootEndpoints(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/boot").WithTags("Boot").AllowAnonymous();
        g.MapGet("/boot.ipxe", ChainScript).WithSummary("The first iPXE script: chains to the per-machine script");
        g.MapGet("/ipxe", MachineScript).WithSummary("The iPXE script for the machine identified by serial, uuid or mac")
            .RequireRateLimiting(BootRateLimiting.Policy);
        g.MapGet("/discovery/{file}", DiscoveryFile).WithSummary("The discovery kernel (vmlinuz) and initramfs (initrd.img)");
        // HEAD too: OVMF's HTTP boot asks for the size with HEAD before the GET (a 405 there ends the boot).
        g.MapMethods("/{file}", ["GET", "HEAD"], IpxeBinary).WithSummary("iPXE binaries (ipxe.efi, undionly.kpxe, …) for UEFI HTTP boot");
        return app;
    }

    private static string BaseUrl(HttpRequest request) => $"{request.Scheme}://{request.Host.Value}";

    private static ContentHttpResult Script(string text) => TypedResults.Text(text, "text/plain; charset=utf-8");

    private static ContentHttpResult ChainScript(HttpRequest request, IpxeScripts scripts) =>
        Script(scripts.Render("boot.ipxe", new Dictionary<string, string> { ["base"] = BaseUrl(request) }));

    private static async Task<ContentHttpResult> MachineScript(
        HttpRequest request, IpxeScripts scripts, InventoryCache cache, BootstrapTokenRepository bootstrap,
        BootProgressRecorder progress, Profiles.InstallScript install, IOptions<BootServerOptions> options, CancellationToken ct)
    {
        var q = request.Query;
        var mac = MachineValidator.TryNormalizeMac(q["mac"].ToString(), out var m) ? m : null;
        Guid? uuid = Guid.TryParse(q["uuid"].ToString(), out var u) ? u : null;
        var serial = q["serial"].ToString();
        if (mac is null && MachineIdentity.IsJunkUuid(uuid) && MachineIdentity.IsJunkSerial(serial))
        {
            throw new ValidationException("mac", "the machine must be identified by mac, uuid or serial (iPXE: ${net0/mac:hexhyp}, ${uuid}, ${serial})");
        }

        await cache.WhenReady.WaitAsync(TimeSpan.FromSeconds(10), ct);
        var known = FindMachine(cache, serial, uuid, mac);
        if (mac is not null)
        {
            progress.Record(mac, BootStages.Script, known?.Serial);
        }

        var values = new Dictionary<string, string> { ["base"] = BaseUrl(request) };
        if (known is not null)
        {
            // Due for an install (role with a profile, not installed or a reinstall requested): boot the profile.
            if (await install.RenderAsync(known, BaseUrl(request), ct) is { } installScript)
            {
                if (mac is not null)
                {
                    progress.Record(mac, BootStages.Install, known.Serial);
                }

                return Script(installScript);
            }

            values["serial"] = known.Serial;
            if (mac is not null)
            {
                progress.Record(mac, BootStages.LocalBoot, known.Serial);
            }

            return Script(scripts.Render("localboot.ipxe", values));
        }

        var o = options.Value;
        values["cmdline"] = o.DiscoveryKernelArgs;
        values["mac"] = mac ?? "";
        values["token"] = await bootstrap.IssueAsync(BootstrapTokenRepository.Discovery, TimeSpan.FromMinutes(o.DiscoveryTokenMinutes), mac, ct);
        return Script(scripts.Render("discovery.ipxe", values));
    }

    /// <summary>A machine by its derived identity, by the MAC it booted from, or by its SMBIOS UUID.</summary>
    internal static Machine? FindMachine(InventoryCache cache, string? serial, Guid? uuid, string? mac)
    {
        var identity = MachineIdentity.Derive(serial, uuid, mac is null ? [] : [mac]);
        if (identity is not null && cache.GetMachine(identity) is { } byIdentity)
        {
            return byIdentity;
        }

        if (mac is not null && cache.OwnerOfMac(mac) is { } owner && cache.GetMachine(owner) is { } byMac)
        {
            return byMac;
        }

        return MachineIdentity.IsJunkUuid(uuid) ? null : cache.Machines.FirstOrDefault(x => x.Uuid == uuid);
    }

    private static PhysicalFileHttpResult DiscoveryFile(string file, HttpRequest request, BootProgressRecorder progress, IOptions<BootServerOptions> options)
    {
        if (file is not ("vmlinuz" or "initrd.img"))
        {
            throw new NotFoundException("discovery file", file);
        }

        var path = Path.Combine(options.Value.EffectiveDiscoveryDir, file);
        if (!File.Exists(path))
        {
            throw new NotFoundException("discovery file", $"{file} (build the discovery image with scripts/build-discovery-image.sh into {options.Value.EffectiveDiscoveryDir})");
        }

        if (MachineValidator.TryNormalizeMac(request.Query["mac"].ToString(), out var mac))
        {
            progress.Record(mac, file == "vmlinuz" ? BootStages.Kernel : BootStages.Initrd);
        }

        return TypedResults.PhysicalFile(path, "application/octet-stream", enableRangeProcessing: true);
    }

    private static PhysicalFileHttpResult IpxeBinary(string file, IOptions<BootServerOptions> options)
    {
        var path = Path.Combine(options.Value.EffectiveTftpRoot, file);
        if (!IpxeBinaries.Name().IsMatch(file) || !File.Exists(path))
        {
            throw new NotFoundException("boot file", file);
        }

        return TypedResults.PhysicalFile(path, "application/octet-stream", enableRangeProcessing: true);
    }
}
