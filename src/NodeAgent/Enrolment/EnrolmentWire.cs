using System.Text.Json;
using System.Text.Json.Serialization;

namespace NekkoMetal.NodeAgent.Enrolment;

/// <summary>
/// Body of <c>POST /api/v1/agent/enrol</c> and <c>/renew</c> (docs/agent-api.md; the boot server's copy is
/// <c>NekkoMetal.BootServer.Agents.AgentCertificateRequest</c>): the PKCS#10 request of the key the agent keeps.
/// </summary>
internal sealed record CertificateRequestBody(string? Serial, string Csr);

/// <summary>The answer: the certificate bound to the machine serial and the agent CA chain.</summary>
internal sealed record CertificateResponseBody(
    string Serial, string CertificatePem, string CaChainPem, DateTimeOffset NotBefore, DateTimeOffset NotAfter, DateTimeOffset RenewAfter);

/// <summary>Source-generated (Native AOT: no reflection).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(CertificateRequestBody))]
[JsonSerializable(typeof(CertificateResponseBody))]
internal sealed partial class EnrolmentJson : JsonSerializerContext;
