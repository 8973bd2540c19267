using NekkoMetal.BootServer.Configuration;
using NekkoMetal.BootServer.Tls;
using NekkoMetal.Pki;
using NekkoMetal.Pki.Vault;

namespace NekkoMetal.BootServer.Tests;

/// <summary>The TLS settings, the Vault mapping and the plain-HTTP allow-list (no server started).</summary>
public sealed class TlsSettingsTests
{
    private static readonly Dictionary<string, string?> NoEnv = [];

    [Fact]
    public void InsecureHttpApi_IsASwitch_AndTakesAValueToo()
    {
        Assert.Equal("true", BootServerSettings.Parse(["--insecure-http-api", "--data-dir", "/d"], NoEnv).Values["insecureHttpApi"]);
        Assert.Equal("false", BootServerSettings.Parse(["--insecure-http-api=false"], NoEnv).Values["insecureHttpApi"]);
        Assert.Empty(BootServerSettings.Parse(["--insecure-http-api"], NoEnv).Errors);
    }

    [Fact]
    public void Defaults_AreValid_AndHttpsListensBesideHttp()
    {
        var o = new BootServerOptions();
        Assert.Equal("https://0.0.0.0:8443", o.HttpsUrl);
        Assert.True(new TlsOptionsValidator().Validate(null, o).Succeeded);
        Assert.Null(VaultSettings.ToVaultOptions(o));
    }

    [Fact]
    public void Validation_ListsEveryTlsProblem()
    {
        var result = new TlsOptionsValidator().Validate(null, new BootServerOptions
        {
            HttpsUrl = "http://0.0.0.0:8443",
            HttpUrl = "https://0.0.0.0:8080",
            HttpsNames = "ok.lab,bad name",
            HttpsCertificateDays = 0,
            VaultAddress = "https://vault:8200",
            VaultAuth = "approle",
            VaultMounts = "nope=x",
        });
        Assert.True(result.Failed);
        var failures = result.Failures!.ToList();
        Assert.Contains(failures, f => f.Contains("--https-url", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("--http-url", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("'bad name'", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("--https-certificate-days", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("'nope=x'", StringComparison.Ordinal));
    }

    [Fact]
    public void SamePortForHttpAndHttps_IsRefused()
    {
        var result = new TlsOptionsValidator().Validate(null, new BootServerOptions { HttpUrl = "http://0.0.0.0:8080", HttpsUrl = "https://127.0.0.1:8080" });
        Assert.Contains(result.Failures!, f => f.Contains("cannot share port 8080", StringComparison.Ordinal));
    }

    [Fact]
    public void VaultSettings_MapToTheLibrarysOptions()
    {
        var options = new BootServerOptions
        {
            VaultAddress = "https://vault.lab:8200",
            VaultAuth = "approle",
            VaultRoleId = "role-1",
            VaultSecretIdFile = "/etc/nekko/secret-id",
            VaultNamespace = "lab",
            VaultMounts = "boot-server-https=pki_https, agent-client = pki_agents",
            VaultRole = "bootservers",
        };
        Assert.Empty(VaultSettings.Validate(options));
        var vault = VaultSettings.ToVaultOptions(options)!;
        Assert.Equal(new Uri("https://vault.lab:8200"), vault.Address);
        Assert.Equal(VaultAuthMethod.AppRole, vault.Auth);
        Assert.Equal("role-1", vault.RoleId);
        Assert.Equal("/etc/nekko/secret-id", vault.SecretIdFile);
        Assert.Null(vault.SecretId);
        Assert.Equal("lab", vault.Namespace);
        Assert.Equal("pki_https", vault.BindingFor(CaKind.BootServerHttps).Mount);
        Assert.Equal("pki_agents", vault.BindingFor(CaKind.AgentClient).Mount);
        Assert.Equal("nekko-kubernetes", vault.BindingFor(CaKind.Kubernetes).Mount);
        Assert.All(CaKinds.All, k => Assert.Equal("bootservers", vault.BindingFor(k).Role));
    }

    [Fact]
    public void VaultTokenAuth_NeedsExactlyOneToken()
    {
        var errors = VaultSettings.Validate(new BootServerOptions { VaultAddress = "https://vault:8200" });
        Assert.Contains(errors, e => e.Contains("exactly one of a token and a token file", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("GET", "/boot/boot.ipxe", true)]
    [InlineData("GET", "/boot/assets/vmlinuz", true)]
    [InlineData("POST", "/boot/config/SN1/installed", true)]
    [InlineData("GET", "/health/ready", true)]
    [InlineData("POST", "/api/v1/discovery", true)]
    [InlineData("GET", "/internal/v1/assets/sha256/ab", true)]
    [InlineData("GET", "/", true)]
    [InlineData("GET", "/api/v1/discovery/pending", false)]
    [InlineData("GET", "/api/v1/discovery", false)]
    [InlineData("GET", "/api/v1/machines", false)]
    [InlineData("POST", "/api/v1/pki/issue", false)]
    [InlineData("GET", "/openapi/v1.json", false)]
    [InlineData("GET", "/bootx", false)]
    [InlineData("GET", "/healthz", false)]
    public void PlainHttp_ServesOnlyTheFirmwarePaths(string method, string path, bool allowed) =>
        Assert.Equal(allowed, PlainHttpGuard.IsAllowedOnPlainHttp(method, path));

    [Theory]
    [InlineData("http://0.0.0.0:8080", "0.0.0.0", 8080, true)]
    [InlineData("http://127.0.0.1:18080", "127.0.0.1", 18080, false)]
    [InlineData("http://[::]:8080", "[::]", 8080, true)]
    [InlineData("http://*:8080", "*", 8080, true)]
    [InlineData("http://localhost:8080", "localhost", 8080, false)]
    public void ListenUrls_Parse(string text, string host, int port, bool wildcard)
    {
        Assert.True(ListenUrl.TryParse(text, "http", out var url));
        Assert.Equal(host, url!.Host);
        Assert.Equal(port, url.Port);
        Assert.Equal(wildcard, url.IsWildcard);
    }

    [Fact]
    public void CertificateNames_IncludeTheAdvertisedHosts_AndLoopback()
    {
        var profile = HttpsCertificateNames.Profile(
            new BootServerOptions { AdvertiseUrls = "http://10.0.0.5:8080,http://boot.lab:8080", HttpsNames = "api.lab,192.168.1.9" }, "bs-1");
        Assert.Equal("bs-1", profile.CommonName);
        Assert.Contains("boot.lab", profile.DnsNames);
        Assert.Contains("api.lab", profile.DnsNames);
        Assert.Contains("localhost", profile.DnsNames);
        Assert.Contains(System.Net.IPAddress.Parse("10.0.0.5"), profile.IpAddresses);
        Assert.Contains(System.Net.IPAddress.Parse("192.168.1.9"), profile.IpAddresses);
        Assert.Contains(System.Net.IPAddress.Loopback, profile.IpAddresses);
        Assert.Contains(System.Net.IPAddress.IPv6Loopback, profile.IpAddresses);
        Assert.Equal(CertificateUsage.Server, profile.Usage);
        profile.Validate();
    }
}
