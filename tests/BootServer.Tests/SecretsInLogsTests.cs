using System.Net;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using NekkoMetal.BootServer.Agents;
using NekkoMetal.TestKit;
using Xunit.Abstractions;

using static NekkoMetal.BootServer.Tests.AgentCredentialsKit;
using static NekkoMetal.BootServer.Tests.HttpExpect;

namespace NekkoMetal.BootServer.Tests;

/// <summary>
/// Issue 5 must-show 4: a real boot server (in process, real Kestrel, real TLS) whose every log entry — every category
/// down to Debug, formatted message, structured state and scopes, exceptions — is captured, driven through a flow
/// that hands out and uses every kind of secret: the admin token, a created API token, an agent bootstrap token
/// (rendered configuration), enrolment and renewal (the agent's private keys), heartbeats over mTLS, a certificate
/// and key from <c>/api/v1/pki/issue</c>, and misuse (a bootstrap token as an API token, the admin token as a
/// bootstrap token, a used token again). No secret, nor the base64 body of a key, appears in any log entry, nor in
/// any API answer other than the one that hands it out.
/// </summary>
[Collection(EtcdCollection.Name)]
public sealed partial class SecretsInLogsTests(EtcdFixture etcd, ITestOutputHelper output)
{
    private const string Serial = "SN-SECRETS-1";

    [Fact]
    public async Task No_secret_appears_in_the_logs_or_in_answers_other_than_the_one_handing_it_out()
    {
        await using var server = await KestrelBootServer.StartAsync(etcd.Endpoint, EtcdFixture.NewPrefix());
        var secrets = new Dictionary<string, string>();
        var answers = new List<(string What, string Body)>();

        var adminToken = await server.AdminTokenAsync();
        secrets["admin token"] = adminToken;
        using var admin = server.Client(adminToken);
        using var anonymous = server.Client();

        var created = await Expect(await admin.PostAsync("/api/v1/tokens", JsonOf(new { name = "viewer-1", role = "viewer" })), HttpStatusCode.Created);
        var viewerToken = created.GetProperty("token").GetString()!;
        secrets["viewer token"] = viewerToken;
        using var viewer = server.Client(viewerToken);

        await Expect(await admin.PutAsync("/api/v1/profiles/node", JsonOf(new
        {
            kernel = "vmlinuz",
            initrds = Array.Empty<string>(),
            cmdline = "console=ttyS0",
            config = new { kind = "cloud-init", userData = "#cloud-config\nnekko:\n  token: {{ bootstrap_token | json }}\n" },
        })), HttpStatusCode.Created);
        await Expect(await admin.PostAsync("/api/v1/machines", JsonOf(new { serial = Serial, macs = new[] { "52:54:00:05:04:01" }, role = "node" })), HttpStatusCode.Created);
        using var plain = new HttpClient { BaseAddress = new Uri(server.HttpUrl) };
        var userData = await plain.GetStringAsync($"/boot/config/{Serial}/user-data"); // hands out the bootstrap token
        var bootstrapToken = TokenLine().Match(userData).Groups[1].Value;
        Assert.StartsWith("nekkoboot_", bootstrapToken);
        secrets["bootstrap token"] = bootstrapToken;

        // Misuse: each secret where another belongs.
        using (var wrong = server.Client(bootstrapToken))
        {
            answers.Add(("machines with the bootstrap token", await (await wrong.GetAsync("/api/v1/machines")).Content.ReadAsStringAsync()));
        }

        using (var enrolWithAdmin = EnrolRequest(adminToken, NewCsr().Csr))
        {
            answers.Add(("enrol with the admin token", (await Expect(await anonymous.SendAsync(enrolWithAdmin), HttpStatusCode.Unauthorized)).ToString()));
        }

        // Enrolment: the agent's key stays with it; only the CSR travels.
        var (key, csr) = NewCsr();
        AddKey(secrets, "agent key", key);
        using var enrol = EnrolRequest(bootstrapToken, csr);
        var enrolled = await Expect(await anonymous.SendAsync(enrol), HttpStatusCode.OK);
        using var certificate = WithKey(enrolled, key);
        answers.Add(("enrolment", enrolled.ToString()));
        using (var again = EnrolRequest(bootstrapToken, NewCsr().Csr))
        {
            answers.Add(("enrolment again", (await Expect(await anonymous.SendAsync(again), HttpStatusCode.Unauthorized)).ToString()));
        }

        using var mtls = server.Client(clientCertificate: certificate);
        for (var i = 0; i < 3; i++)
        {
            answers.Add(("heartbeat", (await Expect(await mtls.PostAsync(AgentApi.HeartbeatPath, Beat(Serial)), HttpStatusCode.OK)).ToString()));
        }

        var (renewKey, renewCsr) = NewCsr();
        AddKey(secrets, "renewed agent key", renewKey);
        var renewed = await Expect(await mtls.PostAsync(AgentApi.RenewPath, JsonOf(new { csr = renewCsr })), HttpStatusCode.OK);
        answers.Add(("renewal", renewed.ToString()));
        renewKey.Dispose();

        // An admin's certificate and key: handed out by /pki/issue, and there only.
        var issued = await Expect(await admin.PostAsync("/api/v1/pki/issue", JsonOf(new { commonName = "ops.lab", dnsNames = new[] { "ops.lab" } })), HttpStatusCode.OK);
        var privateKeyPem = issued.GetProperty("privateKeyPem").GetString()!;
        secrets["issued private key"] = privateKeyPem.Trim();
        AddPemBody(secrets, "issued private key", privateKeyPem);

        // What admins and viewers read afterwards.
        foreach (var path in new[]
        {
            $"/api/v1/machines/{Serial}", "/api/v1/machines", $"/api/v1/machines/{Serial}/health", "/api/v1/audit?limit=500",
            "/api/v1/tokens", "/api/v1/pki/ca/agent-client", "/api/v1/pki/ca/https", "/api/v1/discovery/pending",
        })
        {
            answers.Add((path, await (await viewer.GetAsync(path)).Content.ReadAsStringAsync()));
        }

        answers.Add(("admin CLI audit", (await Expect(await admin.GetAsync($"/api/v1/audit?serial={Serial}"), HttpStatusCode.OK)).ToString()));

        var logs = server.Logs.Entries;
        output.WriteLine($"{logs.Count} log entries captured, {secrets.Count} secret values, {answers.Count} answers checked");
        Assert.True(logs.Count > 50, $"the capture saw only {logs.Count} entries");
        Assert.Contains(logs, e => e.Contains($"Machine {Serial} enrolled its agent", StringComparison.Ordinal)); // the capture works
        Assert.Contains(logs, e => e.Contains("Request starting", StringComparison.Ordinal)); // framework request logs included

        var leaks = new List<string>();
        foreach (var (what, secret) in secrets)
        {
            leaks.AddRange(server.Logs.Containing(secret).Select(e => $"{what} in a log entry: {e}"));
            leaks.AddRange(answers.Where(a => a.Body.Contains(secret, StringComparison.Ordinal)).Select(a => $"{what} in the answer to {a.What}"));
        }

        Assert.True(leaks.Count == 0, string.Join("\n", leaks));
    }

    /// <summary>The key's PKCS#8 PEM, its base64 body, each PEM line and the private scalar in base64 and hex.</summary>
    private static void AddKey(Dictionary<string, string> secrets, string what, ECDsa key)
    {
        var pem = key.ExportPkcs8PrivateKeyPem();
        secrets[what] = pem;
        AddPemBody(secrets, what, pem);
        var d = key.ExportParameters(includePrivateParameters: true).D!;
        secrets[what + " scalar (base64)"] = Convert.ToBase64String(d);
        secrets[what + " scalar (hex)"] = Convert.ToHexString(d);
        secrets[what + " scalar (hex, lower)"] = Convert.ToHexStringLower(d);
    }

    private static void AddPemBody(Dictionary<string, string> secrets, string what, string pem)
    {
        var lines = pem.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => !l.StartsWith("-----", StringComparison.Ordinal)).ToList();
        secrets[what + " base64"] = string.Concat(lines);
        for (var i = 0; i < lines.Count; i++)
        {
            if (lines[i].Length >= 24)
            {
                secrets[$"{what} line {i}"] = lines[i];
            }
        }
    }

    [GeneratedRegex("token: \"([^\"]+)\"")]
    private static partial Regex TokenLine();
}
