using NekkoMetal.Inventory.Machines;
using NekkoMetal.Inventory.Profiles;
using YamlDotNet.RepresentationModel;

namespace NekkoMetal.Inventory.Tests;

/// <summary>Rendering and save-time validation of boot profiles; no etcd, no network.</summary>
public sealed class ProfileRendererTests
{
    private static readonly ProfileRenderer Renderer = new(TimeProvider.System);

    internal const string UserData = """
        #cloud-config
        hostname: {{ hostname }}
        ssh_authorized_keys:
        {%- for key in ssh_authorized_keys %}
          - {{ key | json }}
        {%- endfor %}
        write_files:
          - path: /etc/nekko/agent.json
            content: |
              {"server": {{ boot_server_url | json }}, "serial": {{ serial | json }}, "token": {{ bootstrap_token | json }}}
        runcmd:
          - [echo, {{ ipv4 | first | json }}, {{ role | json }}, {{ labels.rack | json }}]

        """;

    internal const string Ignition = """
        {"ignition": {"version": "3.4.0"},
         "passwd": {"users": [{"name": "core", "sshAuthorizedKeys": {{ ssh_authorized_keys | json }}}]},
         "storage": {"files": [{"path": "/etc/hostname", "mode": 420, "overwrite": true,
           "contents": {"source": "data:,{{ hostname | url_encode }}"}}]}}
        """;

    internal const string Key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl admin@lab";

    internal static BootProfileSpec CloudInitSpec(string? userData = null, string? metaData = null, string cmdline = "console=ttyS0 hostname={{ hostname }}") => new()
    {
        Kernel = "debian-vmlinuz",
        Initrds = ["debian-initrd.img"],
        Cmdline = cmdline,
        Config = new ConfigTemplate { Kind = ConfigTemplate.CloudInit, UserData = userData ?? UserData, MetaData = metaData },
        SshAuthorizedKeys = [Key],
    };

    internal static BootProfileSpec IgnitionSpec(string? ignition = null) => new()
    {
        Kernel = "fcos-kernel",
        Initrds = ["fcos-initramfs.img", "fcos-rootfs.img"],
        Cmdline = "ignition.firstboot ignition.platform.id=metal",
        Config = new ConfigTemplate { Kind = ConfigTemplate.IgnitionKind, Ignition = ignition ?? Ignition },
        SshAuthorizedKeys = [Key],
    };

    private static ProfileRenderInput Input(string serial = "SN-0001") => new()
    {
        Machine = new Machine
        {
            Serial = serial,
            Role = "worker",
            Macs = ["52:54:00:12:34:56"],
            Ipv4 = ["10.69.0.7"],
            Labels = new Dictionary<string, string> { ["rack"] = "3" },
        },
        BootServerUrl = "http://10.69.0.254:8080/",
        BootstrapToken = "nekkoboot_TOKEN",
    };

    private static YamlMappingNode Yaml(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        return (YamlMappingNode)stream.Documents.Single().RootNode;
    }

    [Fact]
    public void CloudInit_UserDataAndMetaData_CarryTheMachinesFields()
    {
        var profile = Renderer.Validate("worker", CloudInitSpec()) with { Version = 4 };
        var userData = Renderer.RenderUserData(profile, Input());
        Assert.StartsWith("#cloud-config\n", userData, StringComparison.Ordinal);
        var root = Yaml(userData);
        Assert.Equal("sn-0001", root["hostname"].ToString());
        Assert.Equal(Key, ((YamlSequenceNode)root["ssh_authorized_keys"]).Children.Single().ToString());
        Assert.Contains("\"token\": \"nekkoboot_TOKEN\"", userData, StringComparison.Ordinal);
        Assert.Contains("\"server\": \"http://10.69.0.254:8080\"", userData, StringComparison.Ordinal);
        Assert.Equal(["echo", "10.69.0.7", "worker", "3"], ((YamlSequenceNode)((YamlSequenceNode)root["runcmd"]).Children[0]).Children.Select(n => n.ToString()));

        var meta = Yaml(Renderer.RenderMetaData(profile, Input()));
        Assert.Equal("SN-0001-v4", meta["instance-id"].ToString());
        Assert.Equal("sn-0001", meta["local-hostname"].ToString());
    }

    [Fact]
    public void Cmdline_GetsTheDatasourceAppended_UnlessTheTemplateHasIt()
    {
        var cloud = Renderer.Validate("worker", CloudInitSpec());
        Assert.Equal("console=ttyS0 hostname=sn-0001 ds=nocloud;s=http://10.69.0.254:8080/boot/config/SN-0001/", Renderer.RenderCmdline(cloud, Input()));

        var own = Renderer.Validate("worker", CloudInitSpec(cmdline: "ds=nocloud;s={{ config_url }} quiet"));
        Assert.Equal("ds=nocloud;s=http://10.69.0.254:8080/boot/config/SN-0001/ quiet", Renderer.RenderCmdline(own, Input()));

        var ign = Renderer.Validate("worker", IgnitionSpec());
        Assert.Equal("ignition.firstboot ignition.platform.id=metal ignition.config.url=http://10.69.0.254:8080/boot/config/SN-0001/ignition.json",
            Renderer.RenderCmdline(ign, Input()));
    }

    [Fact]
    public void Ignition_RendersJsonWithVersion3()
    {
        var profile = Renderer.Validate("worker", IgnitionSpec());
        var json = System.Text.Json.Nodes.JsonNode.Parse(Renderer.RenderIgnition(profile, Input()))!;
        Assert.Equal("3.4.0", json["ignition"]!["version"]!.GetValue<string>());
        Assert.Equal(Key, json["passwd"]!["users"]![0]!["sshAuthorizedKeys"]![0]!.GetValue<string>());
        Assert.Equal("data:,sn-0001", json["storage"]!["files"]![0]!["contents"]!["source"]!.GetValue<string>());
    }

    [Fact]
    public void OtherKindsFile_IsNotRendered()
    {
        var profile = Renderer.Validate("worker", IgnitionSpec());
        Assert.Throws<ProfileRenderException>(() => Renderer.RenderUserData(profile, Input()));
        Assert.Throws<ProfileRenderException>(() => Renderer.RenderMetaData(profile, Input()));
    }

    public static TheoryData<string, BootProfileSpec> BadSpecs() => new()
    {
        { "config.userData", CloudInitSpec(userData: "#cloud-config\nhostname: {{ hostname ") },            // does not parse
        { "config.userData", CloudInitSpec(userData: "#cloud-config\nhostname: {% if %}") },               // does not parse
        { "config.userData", CloudInitSpec(userData: "#cloud-config\nhostname: {{ no_such_variable }}\n") }, // unknown variable
        { "config.userData", CloudInitSpec(userData: "#cloud-config\nhostname: {{ hostname | no_such_filter }}\n") },
        { "config.userData", CloudInitSpec(userData: "hostname: {{ hostname }}\n") },                       // no #cloud-config line
        { "config.userData", CloudInitSpec(userData: "#cloud-config\nhostname: [unclosed\n") },             // not YAML
        { "config.userData", CloudInitSpec(userData: "#cloud-config\n- a list\n") },                        // not a mapping
        { "config.userData", CloudInitSpec(userData: "#cloud-config\n{% for i in (1..1000000) %}x{% endfor %}") }, // too many steps
        { "config.metaData", CloudInitSpec(metaData: "instance-id: [\n") },
        { "config.ignition", IgnitionSpec("""{"ignition": {"version": "2.2.0"}}""") },                        // spec 2
        { "config.ignition", IgnitionSpec("""{"ignition": {"version": "3.4.0"}, "passwd": {{ hostname }}}""") }, // not JSON
        { "config.ignition", IgnitionSpec("""{"storage": {}}""") },                                         // no version
        { "cmdline", CloudInitSpec(cmdline: "quiet\nshell") },
        { "cmdline", CloudInitSpec(cmdline: "{% for i in (1..300) %}0123456789{% endfor %}") },            // > 2048 bytes
        { "kernel", CloudInitSpec() with { Kernel = "../vmlinuz" } },
        { "kernel", CloudInitSpec() with { Kernel = null } },
        { "initrds[1]", CloudInitSpec() with { Initrds = ["ok", "a/b"] } },
        { "sshAuthorizedKeys[0]", CloudInitSpec() with { SshAuthorizedKeys = ["not a key"] } },
        { "config.kind", CloudInitSpec() with { Config = new ConfigTemplate { Kind = "kickstart", UserData = "x" } } },
        { "config.ignition", CloudInitSpec() with { Config = new ConfigTemplate { Kind = ConfigTemplate.IgnitionKind } } },
        { "config", CloudInitSpec() with { Config = null } },
    };

    [Theory]
    [MemberData(nameof(BadSpecs))]
    public void BadProfile_IsRejected_NamingTheField(string field, BootProfileSpec spec)
    {
        var e = Assert.Throws<ValidationException>(() => Renderer.Validate("worker", spec));
        Assert.True(e.Errors.ContainsKey(field), $"expected an error for {field}, got: {e.Message}");
    }

    [Fact]
    public void BadRole_IsRejected()
    {
        var e = Assert.Throws<ValidationException>(() => Renderer.Validate("Not A Role", CloudInitSpec()));
        Assert.True(e.Errors.ContainsKey("role"));
    }

    [Theory]
    [InlineData("SN-0001", null, "sn-0001")]
    [InlineData("To.Be_Filled", null, "to-be-filled")]
    [InlineData("SN-0001", "node-7", "node-7")]
    [InlineData("SN-0001", "Bad_Name", "sn-0001")]
    public void Hostname_IsTheLabelOrTheSerialMadeADnsLabel(string serial, string? label, string expected)
    {
        var labels = label is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["hostname"] = label };
        Assert.Equal(expected, ProfileRenderer.HostnameOf(new Machine { Serial = serial, Labels = labels }));
    }

    [Fact]
    public void BootstrapToken_IsMintedOnlyWhenATemplateUsesIt()
    {
        Assert.True(ProfileRenderer.UsesBootstrapToken(Renderer.Validate("worker", CloudInitSpec())));
        Assert.False(ProfileRenderer.UsesBootstrapToken(Renderer.Validate("worker", IgnitionSpec())));
    }

    [Fact]
    public void MissingLabel_IsEmpty_SoTemplatesCanTestForIt()
    {
        var spec = CloudInitSpec(userData: "#cloud-config\nzone: {% if labels.zone %}{{ labels.zone }}{% else %}none{% endif %}\n");
        var profile = Renderer.Validate("worker", spec);
        Assert.Contains("zone: none", Renderer.RenderUserData(profile, Input()), StringComparison.Ordinal);
    }
}
