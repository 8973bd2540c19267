using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Fluid;
using NekkoMetal.Inventory.Machines;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace NekkoMetal.Inventory.Profiles;

/// <summary>What a profile is rendered with besides the profile: the machine and this boot server's view of the world.</summary>
public sealed record ProfileRenderInput
{
    public required Machine Machine { get; init; }

    /// <summary>The boot server's base URL as the machine reaches it, e.g. <c>http://10.69.0.254:8080</c>.</summary>
    public required string BootServerUrl { get; init; }

    /// <summary>A bootstrap token for the node agent; empty when the templates do not use one.</summary>
    public string BootstrapToken { get; init; } = "";

    /// <summary>PEM CA bundle. Empty until the PKI issue gives the boot servers a CA.</summary>
    public string CaBundle { get; init; } = "";
}

/// <summary>A template failed for a real machine (it rendered for the sample machine when it was saved).</summary>
public sealed class ProfileRenderException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Renders boot profiles with Liquid (Fluid): the kernel command line, cloud-init user-data and meta-data, Ignition.
/// Strict: an unknown variable or filter is an error (a missing label is nil), loops are bounded. <see cref="Validate"/> is what a save runs:
/// field rules, then every template parsed and rendered for <see cref="SampleInput"/>, and each output checked
/// (user-data: <c>#cloud-config</c> YAML mapping; meta-data: YAML mapping; Ignition: JSON with <c>ignition.version</c> 3.x;
/// command line: one line of at most <see cref="MaxCmdlineBytes"/>).
/// </summary>
public sealed partial class ProfileRenderer
{
    public const int MaxTemplateChars = 64 * 1024;
    public const int MaxOutputChars = 1024 * 1024;
    public const int MaxCmdlineBytes = 2048; // COMMAND_LINE_SIZE on x86
    public const int MaxInitrds = 8;
    public const int MaxSshKeys = 32;
    public const int MaxSshKeyChars = 16 * 1024;
    public const string CloudConfigHeader = "#cloud-config";

    /// <summary>The variable whose use makes the config endpoints mint a bootstrap token.</summary>
    public const string BootstrapTokenVariable = "bootstrap_token";

    /// <summary>The variables every template sees, for documentation and error messages.</summary>
    public static readonly IReadOnlyList<string> Variables =
    [
        "serial", "hostname", "role", "ipv4", "macs", "labels", "subnet", "ssh_authorized_keys", BootstrapTokenVariable,
        "boot_server_url", "config_url", "assets_url", "ca_bundle", "profile_version",
    ];

    private static readonly FluidParser Parser = new();
    private static readonly JsonSerializerOptions QuoteOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly TemplateOptions _options;

    public ProfileRenderer(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _options = new TemplateOptions
        {
            // Unknown top-level variables are errors (typos caught at save); a missing label is nil, so templates can test for it.
            Undefined = name => throw new InvalidOperationException($"unknown variable '{name}'; known: {string.Join(", ", Variables)}"),
            StrictFilters = true,
            MaxSteps = 100_000,
            MaxRecursion = 20,
            CultureInfo = CultureInfo.InvariantCulture,
            TimeZone = TimeZoneInfo.Utc,
            Now = time.GetUtcNow,
        };
    }

    [GeneratedRegex("^(ssh-[a-z0-9-]+|ecdsa-sha2-[a-z0-9-]+|sk-[a-z0-9@.-]+) [A-Za-z0-9+/=]+( [^\\r\\n]*)?$", RegexOptions.CultureInvariant)]
    private static partial Regex SshKeyPattern();

    [GeneratedRegex("^3\\.[0-9]+\\.[0-9]+(-experimental)?$", RegexOptions.CultureInvariant)]
    private static partial Regex IgnitionVersionPattern();

    /// <summary><c>{base}/boot/config/{serial}/</c>: the NoCloud seed URL; Ignition's config is <c>ignition.json</c> under it.</summary>
    public static string ConfigUrl(string bootServerUrl, string serial) =>
        $"{bootServerUrl.TrimEnd('/')}/boot/config/{Uri.EscapeDataString(serial)}/";

    /// <summary>The kernel argument that points the OS at its configuration.</summary>
    public static string DatasourceArgument(BootProfile profile, string configUrl)
    {
        ArgumentNullException.ThrowIfNull(profile);
        return profile.Config.Kind == ConfigTemplate.IgnitionKind
            ? $"ignition.config.url={configUrl}ignition.json"
            : $"ds=nocloud;s={configUrl}";
    }

    /// <summary>True when a template of <paramref name="profile"/> mentions the bootstrap token, so one must be minted.</summary>
    public static bool UsesBootstrapToken(BootProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        return new[] { profile.Cmdline, profile.Config.UserData, profile.Config.MetaData, profile.Config.Ignition }
            .Any(t => t?.Contains(BootstrapTokenVariable, StringComparison.Ordinal) == true);
    }

    /// <summary>
    /// The host name a machine gets: its <c>hostname</c> label when that is a valid DNS label, otherwise its serial
    /// lowercased with every character other than a-z, 0-9 and '-' made '-' (at most 63 characters).
    /// </summary>
    public static string HostnameOf(Machine machine)
    {
        ArgumentNullException.ThrowIfNull(machine);
        if (machine.Labels.TryGetValue("hostname", out var label) && IsDnsLabel(label))
        {
            return label;
        }

        var sb = new StringBuilder(machine.Serial.Length);
        foreach (var c in machine.Serial.ToLowerInvariant())
        {
            sb.Append(c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' ? c : '-');
        }

        var name = sb.ToString();
        name = name[..Math.Min(name.Length, 63)].Trim('-');
        return name.Length == 0 ? "node" : name;
    }

    private static bool IsDnsLabel(string s) =>
        s.Length is > 0 and <= 63 && s[0] != '-' && s[^1] != '-' && s.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-');

    /// <summary>The machine every profile is rendered for when it is saved.</summary>
    public static ProfileRenderInput SampleInput(string role) => new()
    {
        Machine = new Machine
        {
            Serial = "SAMPLE-0001",
            Role = role,
            Macs = ["52:54:00:00:00:01"],
            Ipv4 = ["192.0.2.10"],
            Subnet = "sample",
            Labels = new Dictionary<string, string>(StringComparer.Ordinal) { ["rack"] = "1" },
        },
        BootServerUrl = "http://192.0.2.1:8080",
        BootstrapToken = "nekkoboot_SAMPLEtokenSAMPLEtokenSAMPLEtok",
        CaBundle = "",
    };

    /// <summary>
    /// Whether <paramref name="cmdline"/> can go on an iPXE <c>kernel</c> line as it is: one line, no <c>$</c> (settings
    /// expansion), quotes or <c>#</c>, and no word iPXE reads as a command separator (<c>;</c>, <c>&amp;&amp;</c>, <c>||</c>).
    /// Checked when a profile is saved, and again by the iPXE script renderer.
    /// </summary>
    public static bool IsIpxeSafeCmdline(string cmdline)
    {
        ArgumentNullException.ThrowIfNull(cmdline);
        return cmdline.All(c => !char.IsControl(c) && c is not ('$' or '"' or '\'' or '#')) &&
            !cmdline.Split(' ', StringSplitOptions.RemoveEmptyEntries).Any(w => w is ";" or "&&" or "||");
    }

    public string RenderCmdline(BootProfile profile, ProfileRenderInput input)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(input);
        var rendered = Render(profile.Cmdline, profile, input, "cmdline").Trim();
        var datasource = DatasourceArgument(profile, ConfigUrl(input.BootServerUrl, input.Machine.Serial));
        var marker = profile.Config.Kind == ConfigTemplate.IgnitionKind ? "ignition.config.url=" : "ds=nocloud";
        var cmdline = rendered.Contains(marker, StringComparison.Ordinal) ? rendered : (rendered.Length == 0 ? datasource : rendered + " " + datasource);
        if (cmdline.Any(char.IsControl))
        {
            throw new ProfileRenderException("the kernel command line must be one line without control characters");
        }

        if (!IsIpxeSafeCmdline(cmdline))
        {
            throw new ProfileRenderException("the kernel command line goes on an iPXE kernel line: it cannot hold $, quotes or #, or a lone ;, && or ||");
        }

        if (Encoding.UTF8.GetByteCount(cmdline) > MaxCmdlineBytes)
        {
            throw new ProfileRenderException($"the kernel command line is longer than {MaxCmdlineBytes} bytes");
        }

        return cmdline;
    }

    public string RenderUserData(BootProfile profile, ProfileRenderInput input)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var text = Render(Require(profile, profile.Config.UserData, ConfigTemplate.CloudInit, "userData"), profile, input, "config.userData");
        var firstLine = text.AsSpan()[..Math.Max(0, text.IndexOf('\n', StringComparison.Ordinal) is var nl && nl < 0 ? text.Length : nl)].TrimEnd();
        if (!firstLine.SequenceEqual(CloudConfigHeader))
        {
            throw new ProfileRenderException($"user-data must start with a '{CloudConfigHeader}' line");
        }

        CheckYamlMapping(text, "user-data");
        return text;
    }

    public string RenderMetaData(BootProfile profile, ProfileRenderInput input)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(input);
        _ = Require(profile, profile.Config.UserData, ConfigTemplate.CloudInit, "userData");
        var text = profile.Config.MetaData is { } template
            ? Render(template, profile, input, "config.metaData")
            : $"instance-id: {Quote($"{input.Machine.Serial}-v{profile.Version}")}\nlocal-hostname: {Quote(HostnameOf(input.Machine))}\n";
        CheckYamlMapping(text, "meta-data");
        return text;
    }

    public string RenderIgnition(BootProfile profile, ProfileRenderInput input)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var text = Render(Require(profile, profile.Config.Ignition, ConfigTemplate.IgnitionKind, "ignition"), profile, input, "config.ignition");
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw new ProfileRenderException($"the Ignition config is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1})", e);
        }

        if (root is not JsonObject obj || obj["ignition"] is not JsonObject ignition ||
            ignition["version"] is not JsonValue version || !version.TryGetValue<string>(out var v))
        {
            throw new ProfileRenderException("the Ignition config must be a JSON object with a string ignition.version");
        }

        if (!IgnitionVersionPattern().IsMatch(v))
        {
            throw new ProfileRenderException($"ignition.version must be a 3.x spec version such as 3.4.0, not '{v}'");
        }

        return text;
    }

    /// <summary>
    /// Checks <paramref name="spec"/> for <paramref name="role"/> and renders every template of it for the sample
    /// machine; returns the profile it would store (version, times and author still to be set). Throws one
    /// <see cref="ValidationException"/> with every problem.
    /// </summary>
    public BootProfile Validate(string role, BootProfileSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var errors = new MachineValidator.Errors();
        if (string.IsNullOrEmpty(role))
        {
            errors.Add("role", "is required");
        }
        else
        {
            MachineValidator.CheckRole(role, "role", errors);
        }

        if (spec.Kernel is null)
        {
            errors.Add("kernel", "is required (an asset name)");
        }
        else if (!Assets.AssetName.IsValid(spec.Kernel))
        {
            errors.Add("kernel", "must be an asset name");
        }

        var initrds = spec.Initrds ?? [];
        if (initrds.Count > MaxInitrds)
        {
            errors.Add("initrds", $"at most {MaxInitrds}");
        }

        for (var i = 0; i < initrds.Count; i++)
        {
            if (!Assets.AssetName.IsValid(initrds[i]))
            {
                errors.Add($"initrds[{i}]", "must be an asset name");
            }
        }

        var keys = spec.SshAuthorizedKeys ?? [];
        if (keys.Count > MaxSshKeys)
        {
            errors.Add("sshAuthorizedKeys", $"at most {MaxSshKeys}");
        }

        for (var i = 0; i < keys.Count; i++)
        {
            if (keys[i] is null || keys[i].Length > MaxSshKeyChars || !SshKeyPattern().IsMatch(keys[i]))
            {
                errors.Add($"sshAuthorizedKeys[{i}]", "must be one OpenSSH public key line (type, base64 key, optional comment)");
            }
        }

        CheckTemplate(spec.Cmdline, "cmdline", errors);
        var config = spec.Config;
        if (config is null)
        {
            errors.Add("config", "is required: {\"kind\":\"cloud-init\",\"userData\":…} or {\"kind\":\"ignition\",\"ignition\":…}");
        }
        else if (config.Kind == ConfigTemplate.CloudInit)
        {
            if (config.UserData is null)
            {
                errors.Add("config.userData", "is required for kind cloud-init");
            }

            if (config.Ignition is not null)
            {
                errors.Add("config.ignition", "is for kind ignition");
            }

            CheckTemplate(config.UserData, "config.userData", errors);
            CheckTemplate(config.MetaData, "config.metaData", errors);
        }
        else if (config.Kind == ConfigTemplate.IgnitionKind)
        {
            if (config.Ignition is null)
            {
                errors.Add("config.ignition", "is required for kind ignition");
            }

            if (config.UserData is not null || config.MetaData is not null)
            {
                errors.Add("config", "userData and metaData are for kind cloud-init");
            }

            CheckTemplate(config.Ignition, "config.ignition", errors);
        }
        else
        {
            errors.Add("config.kind", "must be cloud-init or ignition");
        }

        errors.ThrowIfAny();
        var profile = new BootProfile
        {
            Role = role,
            Version = Math.Max(1, spec.Version ?? 0),
            Kernel = spec.Kernel!,
            Initrds = [.. initrds],
            Cmdline = spec.Cmdline ?? "",
            Config = config!,
            SshAuthorizedKeys = [.. keys],
        };

        // The real test: render everything for the sample machine.
        var input = SampleInput(role);
        Try(() => RenderCmdline(profile, input), "cmdline", errors);
        if (config!.Kind == ConfigTemplate.CloudInit)
        {
            Try(() => RenderUserData(profile, input), "config.userData", errors);
            Try(() => RenderMetaData(profile, input), config.MetaData is null ? "config" : "config.metaData", errors);
        }
        else
        {
            Try(() => RenderIgnition(profile, input), "config.ignition", errors);
        }

        errors.ThrowIfAny();
        return profile;
    }

    private static void CheckTemplate(string? template, string field, MachineValidator.Errors errors)
    {
        if (template is null)
        {
            return;
        }

        if (template.Length > MaxTemplateChars)
        {
            errors.Add(field, $"must be at most {MaxTemplateChars} characters");
            return;
        }

        if (!Parser.TryParse(template, out _, out var error))
        {
            errors.Add(field, $"the template does not parse: {error}");
        }
    }

    private static void Try(Func<string> render, string field, MachineValidator.Errors errors)
    {
        try
        {
            render();
        }
        catch (ProfileRenderException e)
        {
            errors.Add(field, e.Message + " (rendered for the sample machine SAMPLE-0001)");
        }
    }

    private static string Require(BootProfile profile, string? template, string kind, string field) =>
        profile.Config.Kind == kind && template is not null
            ? template
            : throw new ProfileRenderException($"profile '{profile.Role}' is of kind {profile.Config.Kind}: it has no {field}");

    private string Render(string template, BootProfile profile, ProfileRenderInput input, string field)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (!Parser.TryParse(template, out var parsed, out var error))
        {
            throw new ProfileRenderException($"the {field} template does not parse: {error}");
        }

        var context = new TemplateContext(_options);
        foreach (var (name, value) in Model(profile, input))
        {
            context.SetValue(name, value);
        }

        string text;
        try
        {
            text = parsed.Render(context, NullEncoder.Default);
        }
        catch (Exception e) when (e is InvalidOperationException or FluidException or ArgumentException or FormatException)
        {
            throw new ProfileRenderException($"the {field} template failed to render: {e.Message}", e);
        }

        return text.Length > MaxOutputChars
            ? throw new ProfileRenderException($"the {field} template rendered more than {MaxOutputChars} characters")
            : text;
    }

    private static IEnumerable<(string Name, object Value)> Model(BootProfile profile, ProfileRenderInput input)
    {
        var m = input.Machine;
        var baseUrl = input.BootServerUrl.TrimEnd('/');
        yield return ("serial", m.Serial);
        yield return ("hostname", HostnameOf(m));
        yield return ("role", m.Role ?? profile.Role);
        yield return ("ipv4", m.Ipv4.ToArray());
        yield return ("macs", m.Macs.ToArray());
        yield return ("labels", m.Labels.ToDictionary(kv => kv.Key, kv => (object)kv.Value, StringComparer.Ordinal));
        yield return ("subnet", m.Subnet ?? "");
        yield return ("ssh_authorized_keys", profile.SshAuthorizedKeys.ToArray());
        yield return (BootstrapTokenVariable, input.BootstrapToken);
        yield return ("boot_server_url", baseUrl);
        yield return ("config_url", ConfigUrl(baseUrl, m.Serial));
        yield return ("assets_url", baseUrl + "/boot/assets/");
        yield return ("ca_bundle", input.CaBundle);
        yield return ("profile_version", profile.Version);
    }

    private static void CheckYamlMapping(string text, string what)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new ProfileRenderException($"{what} is not valid YAML: line {e.Start.Line}, column {e.Start.Column}: {e.InnerException?.Message ?? e.Message}", e);
        }

        if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode)
        {
            throw new ProfileRenderException($"{what} must be one YAML document whose root is a mapping");
        }
    }

    /// <summary>A YAML double-quoted scalar (JSON string syntax is valid YAML).</summary>
    private static string Quote(string s) => JsonSerializer.Serialize(s, QuoteOptions);
}
