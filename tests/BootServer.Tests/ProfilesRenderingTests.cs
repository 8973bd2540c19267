using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using NekkoMetal.Inventory;
using NekkoMetal.Inventory.Profiles;
using YamlDotNet.RepresentationModel;

namespace NekkoMetal.BootServer.Tests;

/// <summary>
/// Profiles rendered for a machine: golden files per template (UPDATE_GOLDEN=1 rewrites them), Ignition validated
/// against the Ignition 3.4.0 schema (a subset, TestData/ignition-v3_4-subset.schema.json), cloud-init parsed as YAML.
/// </summary>
public sealed class ProfilesRenderingTests
{
    private static readonly ProfileRenderer Renderer = new(TimeProvider.System);

    private static readonly Lazy<JsonSchema> IgnitionSchema = new(() =>
        JsonSchema.FromText(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "ignition-v3_4-subset.schema.json"))));

    private static BootProfile CloudInit => Renderer.Validate("worker", ProfilesSamples.CloudInit()) with { Version = 3 };

    private static BootProfile Ignition => Renderer.Validate("worker", ProfilesSamples.IgnitionProfile()) with { Version = 3 };

    public static TheoryData<string> GoldenFiles() => new(
        "profile-cloud-init.user-data", "profile-cloud-init.meta-data", "profile-cloud-init.cmdline", "profile-ignition.json", "profile-ignition.cmdline");

    private static string Render(string golden) => golden switch
    {
        "profile-cloud-init.user-data" => Renderer.RenderUserData(CloudInit, ProfilesSamples.Input()),
        "profile-cloud-init.meta-data" => Renderer.RenderMetaData(CloudInit, ProfilesSamples.Input()),
        "profile-cloud-init.cmdline" => Renderer.RenderCmdline(CloudInit, ProfilesSamples.Input()) + "\n",
        "profile-ignition.json" => Renderer.RenderIgnition(Ignition, ProfilesSamples.Input()),
        "profile-ignition.cmdline" => Renderer.RenderCmdline(Ignition, ProfilesSamples.Input()) + "\n",
        _ => throw new ArgumentOutOfRangeException(nameof(golden)),
    };

    [Theory]
    [MemberData(nameof(GoldenFiles))]
    public void Rendering_MatchesTheGoldenFile(string name)
    {
        var rendered = Render(name);
        Assert.DoesNotContain("{{", rendered, StringComparison.Ordinal);
        Assert.DoesNotContain("{%", rendered, StringComparison.Ordinal);
        if (Environment.GetEnvironmentVariable("UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(Path.Combine(AppContext.BaseDirectory, "../../../Golden", name), rendered);
            return;
        }

        var golden = Path.Combine(AppContext.BaseDirectory, "Golden", name);
        Assert.True(File.Exists(golden), $"no golden file for {name}: run the tests once with UPDATE_GOLDEN=1 and review the result");
        Assert.Equal(File.ReadAllText(golden), rendered);
    }

    internal static EvaluationResults Validate(string ignitionJson)
    {
        using var doc = JsonDocument.Parse(ignitionJson);
        return IgnitionSchema.Value.Evaluate(doc.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
    }

    internal static string Errors(EvaluationResults results) =>
        string.Join("; ", (results.Details ?? []).Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Key} {e.Value}")));

    [Fact]
    public void Ignition_IsValidAgainstTheIgnition34Schema()
    {
        var text = Renderer.RenderIgnition(Ignition, ProfilesSamples.Input());
        var results = Validate(text);
        Assert.True(results.IsValid, Errors(results));

        var json = JsonNode.Parse(text)!;
        Assert.Equal("3.4.0", json["ignition"]!["version"]!.GetValue<string>());
        Assert.Equal(ProfilesSamples.SshKey, json["passwd"]!["users"]![0]!["sshAuthorizedKeys"]![0]!.GetValue<string>());
        var agentSource = json["storage"]!["files"]![1]!["contents"]!["source"]!.GetValue<string>();
        var agent = JsonNode.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(agentSource["data:;base64,".Length..])))!;
        Assert.Equal("SN-0001", agent["serial"]!.GetValue<string>());
        Assert.Equal("nekkoboot_AbCdEf0123456789-_", agent["bootstrapToken"]!.GetValue<string>());
        Assert.Equal("http://10.69.0.254:8080", agent["server"]!.GetValue<string>());
    }

    [Fact]
    public void Ignition_WithACaBundle_AddsTheCaAndStaysValid()
    {
        var text = Renderer.RenderIgnition(Ignition, ProfilesSamples.Input() with { CaBundle = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n" });
        var results = Validate(text);
        Assert.True(results.IsValid, Errors(results));
        Assert.NotNull(JsonNode.Parse(text)!["ignition"]!["security"]!["tls"]!["certificateAuthorities"]![0]!["source"]);
    }

    [Theory]
    [InlineData("""{"storage": {}}""")]                                                        // no ignition.version
    [InlineData("""{"ignition": {"version": "2.2.0"}}""")]                                     // spec 2
    [InlineData("""{"ignition": {"version": "3.4.0"}, "storage": {"files": [{"path": "/x", "mode": "420"}]}}""")]
    [InlineData("""{"ignition": {"version": "3.4.0"}, "passwd": {"users": [{"sshAuthorizedKeys": []}]}}""")] // user without name
    [InlineData("""{"ignition": {"version": "3.4.0"}, "systemd": {"units": [{"name": "a", "enable": true}]}}""")] // typo
    public void TheSchema_RejectsInvalidConfigs(string json) => Assert.False(Validate(json).IsValid);

    [Fact]
    public void IgnitionThatTheSchemaRejects_IsRefusedAtSave_WhenItsVersionIsWrong()
    {
        var spec = ProfilesSamples.IgnitionProfile() with { Config = new ConfigTemplate { Kind = ConfigTemplate.IgnitionKind, Ignition = """{"ignition": {"version": "2.2.0"}}""" } };
        Assert.Throws<ValidationException>(() => Renderer.Validate("worker", spec));
    }

    private static YamlMappingNode Yaml(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        return Assert.IsType<YamlMappingNode>(Assert.Single(stream.Documents).RootNode);
    }

    [Fact]
    public void CloudInit_UserData_IsCloudConfigYamlWithTheExpectedKeys()
    {
        var text = Renderer.RenderUserData(CloudInit, ProfilesSamples.Input());
        Assert.Equal("#cloud-config", text.Split('\n')[0]);
        var root = Yaml(text);
        Assert.Equal(["hostname", "fqdn", "manage_etc_hosts", "users", "write_files", "runcmd"], root.Children.Keys.Select(k => k.ToString()));
        Assert.Equal("sn-0001", root["hostname"].ToString());
        Assert.Equal("sn-0001.lab.internal", root["fqdn"].ToString());
        var user = (YamlMappingNode)((YamlSequenceNode)root["users"]).Children.Single();
        Assert.Equal(ProfilesSamples.SshKey, ((YamlSequenceNode)user["ssh_authorized_keys"]).Children.Single().ToString());

        var files = ((YamlSequenceNode)root["write_files"]).Children.Cast<YamlMappingNode>().ToDictionary(f => f["path"].ToString(), f => f["content"].ToString());
        var agent = JsonNode.Parse(files["/etc/nekko/agent.json"])!;
        Assert.Equal("SN-0001", agent["serial"]!.GetValue<string>());
        Assert.Equal("worker", agent["role"]!.GetValue<string>());
        Assert.Equal("nekkoboot_AbCdEf0123456789-_", agent["bootstrapToken"]!.GetValue<string>());
        Assert.Equal("", files["/etc/nekko/ca.pem"]); // the CA bundle is empty until the PKI issue
    }

    [Fact]
    public void CloudInit_MetaData_HasInstanceIdAndHostname()
    {
        var root = Yaml(Renderer.RenderMetaData(CloudInit, ProfilesSamples.Input()));
        Assert.Equal("SN-0001-v3", root["instance-id"].ToString());
        Assert.Equal("sn-0001", root["local-hostname"].ToString());
    }
}
