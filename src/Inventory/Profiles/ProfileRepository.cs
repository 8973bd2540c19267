using Etcdserverpb;
using Microsoft.Extensions.Logging;
using NekkoMetal.Inventory.Machines;
using NekkoMetal.Inventory.Storage;

namespace NekkoMetal.Inventory.Profiles;

/// <summary>
/// Boot profiles (<c>profiles/{role}</c>) and install records (<c>installs/{serial}</c>) in etcd. A save is validated
/// first (every template rendered for the sample machine, see <see cref="ProfileRenderer.Validate"/>), so a bad template
/// never reaches etcd; then one transaction guarded by compare-and-swap on the key (absent, or the mod_revision read)
/// writes the profile with the next version and its audit entry. A lost race is retried on fresh data, or reported as
/// <see cref="ConflictException"/> when the caller named the version it expected. Reads go to etcd (profiles are
/// read when a machine fetches its configuration, not on the DHCP path).
/// </summary>
public sealed partial class ProfileRepository(InventoryContext ctx, ProfileRenderer renderer, ILogger<ProfileRepository> logger)
{
    public const string ActionCreate = "profile.create";
    public const string ActionUpdate = "profile.update";
    public const string ActionDelete = "profile.delete";
    public const string ActionInstallConfig = "install.config";
    public const string ActionInstalled = "install.installed";
    public const string ActionReinstall = "install.reinstall";

    private readonly ILogger<ProfileRepository> _logger = logger;

    private EtcdKeys Keys => ctx.Keys;

    public async Task<IReadOnlyList<BootProfile>> ListAsync(CancellationToken ct)
    {
        var response = await ctx.Store.GetPrefixAsync(Keys.ProfilesPrefix, ct);
        return response.Kvs
            .Select(kv => InventoryJson.FromBytes<BootProfile>(kv.Value) with { Revision = kv.ModRevision })
            .OrderBy(p => p.Role, StringComparer.Ordinal)
            .ToList();
    }

    public async Task<BootProfile> GetAsync(string role, CancellationToken ct)
    {
        CheckRole(role);
        return await ReadAsync(role, ct) ?? throw new NotFoundException("profile", role);
    }

    /// <summary>The profile of <paramref name="role"/>, or null when it has none.</summary>
    public async Task<BootProfile?> FindAsync(string role, CancellationToken ct)
    {
        CheckRole(role);
        return await ReadAsync(role, ct);
    }

    /// <summary>
    /// Creates or replaces the profile of <paramref name="role"/> with version one more than the stored one (1 when new).
    /// A save that changes nothing writes nothing and keeps the version. Returns the stored profile and whether it is new.
    /// </summary>
    public async Task<(BootProfile Profile, bool Created)> PutAsync(string role, BootProfileSpec spec, string actor, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var draft = renderer.Validate(role, spec);
        var key = Keys.Profile(role);
        for (var attempt = 0; ; attempt++)
        {
            var current = await ReadAsync(role, ct);
            if (spec.Version is { } expected && expected != (current?.Version ?? 0))
            {
                throw new ConflictException(current is null
                    ? $"profile '{role}' does not exist (expected version {expected}); save it without a version to create it"
                    : $"profile '{role}' is at version {current.Version}, not {expected}; read it again and retry");
            }

            if (current is not null && SameContent(current, draft))
            {
                return (current, false);
            }

            var stored = draft with
            {
                Version = (current?.Version ?? 0) + 1,
                UpdatedAt = ctx.Time.GetUtcNow(),
                UpdatedBy = actor,
                Revision = 0,
            };
            var txn = new TxnRequest();
            txn.Compare.Add(current is null ? Txn.Absent(key) : Txn.ModRevisionIs(key, current.Revision));
            txn.Success.Add(Txn.Put(key, InventoryJson.ToBytes(stored)));
            txn.Success.AddRange(ctx.Audit.Ops(ctx.Audit.Create(
                actor, current is null ? ActionCreate : ActionUpdate, null, current is null ? null : current with { Revision = 0 }, stored)));
            var response = await ctx.Store.TxnAsync(txn, ct);
            if (response.Succeeded)
            {
                LogSaved(role, stored.Version, actor);
                return (stored with { Revision = response.Header.Revision }, current is null);
            }

            if (spec.Version is not null)
            {
                throw new ConflictException($"profile '{role}' changed while it was being saved; read it again and retry");
            }

            if (attempt >= ctx.Options.MaxCasRetries)
            {
                throw new ConflictException($"profile '{role}' kept changing; try again");
            }
        }
    }

    public async Task<BootProfile> DeleteAsync(string role, string actor, CancellationToken ct)
    {
        CheckRole(role);
        var key = Keys.Profile(role);
        for (var attempt = 0; ; attempt++)
        {
            var current = await ReadAsync(role, ct) ?? throw new NotFoundException("profile", role);
            var txn = new TxnRequest();
            txn.Compare.Add(Txn.ModRevisionIs(key, current.Revision));
            txn.Success.Add(Txn.Delete(key));
            txn.Success.AddRange(ctx.Audit.Ops(ctx.Audit.Create(actor, ActionDelete, null, current with { Revision = 0 }, null)));
            var response = await ctx.Store.TxnAsync(txn, ct);
            if (response.Succeeded)
            {
                LogDeleted(role, current.Version, actor);
                return current;
            }

            if (attempt >= ctx.Options.MaxCasRetries)
            {
                throw new ConflictException($"profile '{role}' kept changing; try again");
            }
        }
    }

    public async Task<InstallRecord?> GetInstallAsync(string serial, CancellationToken ct)
    {
        var response = await ctx.Store.GetAsync(Keys.Install(serial), ct);
        return response.Kvs.Count == 0
            ? null
            : InventoryJson.FromBytes<InstallRecord>(response.Kvs[0].Value) with { Revision = response.Kvs[0].ModRevision };
    }

    /// <summary>
    /// Records that <paramref name="machine"/> fetched the configuration of <paramref name="profile"/>: the version it
    /// installs with. A record of the same role and version is kept as is (a machine fetches several files).
    /// </summary>
    public async Task<InstallRecord> RecordConfigFetchAsync(Machine machine, BootProfile profile, string actor, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(machine);
        ArgumentNullException.ThrowIfNull(profile);
        var key = Keys.Install(machine.Serial);
        for (var attempt = 0; ; attempt++)
        {
            var current = await GetInstallAsync(machine.Serial, ct);
            if (current is not null && current.Role == profile.Role && current.ProfileVersion == profile.Version &&
                current.InstalledAt is null && current.ReinstallRequestedAt is null)
            {
                return current;
            }

            var record = new InstallRecord
            {
                Serial = machine.Serial,
                Role = profile.Role,
                ProfileVersion = profile.Version,
                ConfigFetchedAt = ctx.Time.GetUtcNow(),
            };
            var txn = new TxnRequest();
            txn.Compare.Add(current is null ? Txn.Absent(key) : Txn.ModRevisionIs(key, current.Revision));
            txn.Success.Add(Txn.Put(key, InventoryJson.ToBytes(record)));
            txn.Success.AddRange(ctx.Audit.Ops(ctx.Audit.Create(actor, ActionInstallConfig, machine.Serial, current is null ? null : current with { Revision = 0 }, record)));
            var response = await ctx.Store.TxnAsync(txn, ct);
            if (response.Succeeded)
            {
                LogInstallRecorded(machine.Serial, profile.Role, profile.Version);
                return record with { Revision = response.Header.Revision };
            }

            if (attempt >= ctx.Options.MaxCasRetries)
            {
                throw new ConflictException($"the install record of machine '{machine.Serial}' kept changing; try again");
            }
        }
    }

    /// <summary>
    /// The install report: <paramref name="machine"/> installed the profile version it fetched the configuration of.
    /// Sets <see cref="InstallRecord.InstalledAt"/> (CAS + audit <c>install.installed</c>); a second report of the same
    /// install changes nothing. No record for the machine's current role (it never fetched its configuration) is a
    /// <see cref="ConflictException"/> and nothing is written.
    /// </summary>
    public async Task<(InstallRecord Record, bool Changed)> RecordInstalledAsync(Machine machine, string actor, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(machine);
        var key = Keys.Install(machine.Serial);
        for (var attempt = 0; ; attempt++)
        {
            var current = await GetInstallAsync(machine.Serial, ct);
            if (current is null || machine.Role is null || current.Role != machine.Role)
            {
                throw new ConflictException(
                    $"machine '{machine.Serial}' has not fetched the configuration of its role{(machine.Role is null ? "" : $" '{machine.Role}'")}; there is no install to report");
            }

            if (current.InstalledAt is not null)
            {
                return (current, false);
            }

            var record = current with { InstalledAt = ctx.Time.GetUtcNow(), ReinstallRequestedAt = null, Revision = 0 };
            if (await WriteInstallAsync(key, current, record, actor, ActionInstalled, ct) is { } revision)
            {
                LogInstallReported(machine.Serial, record.Role, record.ProfileVersion);
                return (record with { Revision = revision }, true);
            }

            if (attempt >= ctx.Options.MaxCasRetries)
            {
                throw new ConflictException($"the install record of machine '{machine.Serial}' kept changing; try again");
            }
        }
    }

    /// <summary>
    /// A reinstall request: clears <see cref="InstallRecord.InstalledAt"/> so the machine's next network boot installs its
    /// role's profile again (CAS + audit <c>install.reinstall</c>, the record before it kept in the audit entry). A machine
    /// that is not installed is due already: nothing is written. Returns the record (null when there is none) and whether it changed.
    /// </summary>
    public async Task<(InstallRecord? Record, bool Changed)> RequestReinstallAsync(string serial, string actor, CancellationToken ct)
    {
        var key = Keys.Install(serial);
        for (var attempt = 0; ; attempt++)
        {
            var current = await GetInstallAsync(serial, ct);
            if (current?.InstalledAt is null)
            {
                return (current, false);
            }

            var record = current with { InstalledAt = null, ReinstallRequestedAt = ctx.Time.GetUtcNow(), Revision = 0 };
            if (await WriteInstallAsync(key, current, record, actor, ActionReinstall, ct) is { } revision)
            {
                LogReinstallRequested(serial, record.Role, actor);
                return (record with { Revision = revision }, true);
            }

            if (attempt >= ctx.Options.MaxCasRetries)
            {
                throw new ConflictException($"the install record of machine '{serial}' kept changing; try again");
            }
        }
    }

    /// <summary>One CAS transaction replacing <paramref name="current"/> with <paramref name="record"/> and its audit entry; the new revision, or null when the record changed meanwhile.</summary>
    private async Task<long?> WriteInstallAsync(string key, InstallRecord current, InstallRecord record, string actor, string action, CancellationToken ct)
    {
        var txn = new TxnRequest();
        txn.Compare.Add(Txn.ModRevisionIs(key, current.Revision));
        txn.Success.Add(Txn.Put(key, InventoryJson.ToBytes(record)));
        txn.Success.AddRange(ctx.Audit.Ops(ctx.Audit.Create(actor, action, record.Serial, current with { Revision = 0 }, record)));
        var response = await ctx.Store.TxnAsync(txn, ct);
        return response.Succeeded ? response.Header.Revision : null;
    }

    private static void CheckRole(string role)
    {
        var errors = new MachineValidator.Errors();
        if (string.IsNullOrEmpty(role))
        {
            errors.Add("role", "is required");
        }

        MachineValidator.CheckRole(role, "role", errors);
        errors.ThrowIfAny();
    }

    private static bool SameContent(BootProfile a, BootProfile b) =>
        a.Kernel == b.Kernel && a.Initrds.SequenceEqual(b.Initrds, StringComparer.Ordinal) && a.Cmdline == b.Cmdline &&
        a.Config == b.Config && a.SshAuthorizedKeys.SequenceEqual(b.SshAuthorizedKeys, StringComparer.Ordinal);

    private async Task<BootProfile?> ReadAsync(string role, CancellationToken ct)
    {
        var response = await ctx.Store.GetAsync(Keys.Profile(role), ct);
        return response.Kvs.Count == 0
            ? null
            : InventoryJson.FromBytes<BootProfile>(response.Kvs[0].Value) with { Revision = response.Kvs[0].ModRevision };
    }

    [LoggerMessage(EventIds.ProfileSaved, LogLevel.Information, "Boot profile {Role} saved as version {Version} by {Actor}")]
    private partial void LogSaved(string role, long version, string actor);

    [LoggerMessage(EventIds.ProfileDeleted, LogLevel.Information, "Boot profile {Role} (version {Version}) deleted by {Actor}")]
    private partial void LogDeleted(string role, long version, string actor);

    [LoggerMessage(EventIds.InstallRecorded, LogLevel.Information, "Machine {Serial} fetched its configuration from profile {Role} version {Version}")]
    private partial void LogInstallRecorded(string serial, string role, long version);

    [LoggerMessage(EventIds.InstallReported, LogLevel.Information, "Machine {Serial} reported the install of profile {Role} version {Version}")]
    private partial void LogInstallReported(string serial, string role, long version);

    [LoggerMessage(EventIds.ReinstallRequested, LogLevel.Information, "Reinstall of machine {Serial} (role {Role}) requested by {Actor}")]
    private partial void LogReinstallRequested(string serial, string role, string actor);
}
