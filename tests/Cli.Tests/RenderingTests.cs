using System.Text.Json.Nodes;
using NekkoMetal.Cli.Output;
using NekkoMetal.Cli.Tests.TestKit;

namespace NekkoMetal.Cli.Tests;

public sealed class RenderingTests
{
    private const string Machines = """
        [
          {"serial":"SN1","uuid":null,"macs":["52:54:00:12:34:56","52:54:00:12:34:57"],"role":"worker",
           "labels":{"zone":"a","gpu":"true"},"site":null,"rack":null,"index":null,"ipv4":["10.0.0.10","10.0.1.10"],
           "hardware":null,"power":{"wolMac":null,"bmc":null},"state":"healthy","createdAt":"2026-01-01T00:00:00Z",
           "updatedAt":"2026-01-02T03:04:05.1234567Z","stateChangedAt":"2026-01-02T03:04:05Z","revision":12},
          {"serial":"SN10","uuid":null,"macs":[],"role":null,"labels":{},"ipv4":[],"state":"uninitialized",
           "updatedAt":"2026-01-03T09:00:00+09:00"}
        ]
        """;

    private readonly CliHarness _cli = new();

    [Fact]
    public async Task MachinesList_Table()
    {
        _cli.Handler.Body = Machines;

        var result = await _cli.RunAsync("machines", "list");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(
            """
            SERIAL   ROLE     STATE           IPV4                  MACS                                  LABELS            UPDATED
            SN1      worker   healthy         10.0.0.10,10.0.1.10   52:54:00:12:34:56,52:54:00:12:34:57   gpu=true,zone=a   2026-01-02T03:04:05Z
            SN10     <none>   uninitialized   <none>                <none>                                <none>            2026-01-03T00:00:00Z

            """,
            result.Stdout);
        Assert.Empty(result.Stderr);
    }

    [Fact]
    public async Task MachinesList_Empty_PrintsTheHeader()
    {
        var result = await _cli.RunAsync("machines", "list");

        Assert.Equal("SERIAL   ROLE   STATE   IPV4   MACS   LABELS   UPDATED\n", result.Stdout);
    }

    [Fact]
    public async Task MachinesList_Json_IsTheServersJsonIndented()
    {
        _cli.Handler.Body = """[{"serial":"SN1","labels":{"名前":"値"},"future":{"x":1}}]""";

        var result = await _cli.RunAsync("machines", "list", "-o", "json");

        Assert.Equal(
            """
            [
              {
                "serial": "SN1",
                "labels": {
                  "名前": "値"
                },
                "future": {
                  "x": 1
                }
              }
            ]

            """,
            result.Stdout);
    }

    [Fact]
    public async Task MachinesGet_FlattensEveryField_IncludingUnknownOnes()
    {
        _cli.Handler.Body = """
            {"serial":"SN1","uuid":null,"macs":["52:54:00:12:34:56"],"labels":{"zone":"a"},
             "hardware":{"cpu":{"model":"Intel N100","cores":4},"disks":[{"name":"nvme0n1","sizeBytes":512110190592},{"name":"sda","sizeBytes":1000}],"flags":[]},
             "power":{"wolMac":null,"bmc":null},"bootProgress":{"stage":"installing","percent":42.5},
             "futureField":true,"matrix":[[1,2],[3]],"state":"healthy","revision":7}
            """;

        var result = await _cli.RunAsync("machines", "get", "SN1");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(
            """
            serial = SN1
            uuid = <none>
            macs = 52:54:00:12:34:56
            labels.zone = a
            hardware.cpu.model = Intel N100
            hardware.cpu.cores = 4
            hardware.disks[0].name = nvme0n1
            hardware.disks[0].sizeBytes = 512110190592
            hardware.disks[1].name = sda
            hardware.disks[1].sizeBytes = 1000
            hardware.flags = <none>
            power.wolMac = <none>
            power.bmc = <none>
            bootProgress.stage = installing
            bootProgress.percent = 42.5
            futureField = true
            matrix[0] = 1,2
            matrix[1] = 3
            state = healthy
            revision = 7

            """,
            result.Stdout);
    }

    [Fact]
    public void Flatten_EmptyObjectAndScalarArrays()
    {
        var pairs = JsonFlattener.Flatten(JsonNode.Parse("""{"labels":{},"dns":["1.1.1.1","8.8.8.8"],"n":null,"b":false}"""));

        Assert.Equal(
            [new("labels", "<none>"), new("dns", "1.1.1.1,8.8.8.8"), new("n", "<none>"), new("b", "false")],
            pairs);
    }

    [Fact]
    public async Task ServerText_CannotInjectTerminalEscapesOrRows()
    {
        _cli.Handler.Body = """[{"serial":"SN1\nFAKE   row","role":"\u001b[31mred","labels":{"k":"\u202eevil"},"state":"healthy"}]""";

        var result = await _cli.RunAsync("machines", "list");

        Assert.DoesNotContain("\u001b", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("\u202e", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("SN1\\nFAKE   row", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("\\u001b[31mred", result.Stdout, StringComparison.Ordinal);
        Assert.Equal(2, result.Stdout.Count(c => c == '\n'));
    }

    [Fact]
    public async Task IpamGet_Table()
    {
        _cli.Handler.Body = """
            {"subnets":[
              {"name":"lab","cidr":"10.0.0.0/24","rangeStart":"10.0.0.100","rangeEnd":"10.0.0.199","gateway":"10.0.0.1","dns":["10.0.0.1","1.1.1.1"]},
              {"name":"storage","cidr":"10.1.0.0/16","dns":[]}
            ],"revision":9}
            """;

        var result = await _cli.RunAsync("ipam", "get");

        Assert.Equal(
            """
            NAME      CIDR          RANGE                   GATEWAY    DNS
            lab       10.0.0.0/24   10.0.0.100-10.0.0.199   10.0.0.1   10.0.0.1,1.1.1.1
            storage   10.1.0.0/16   <none>                  <none>     <none>

            """,
            result.Stdout);
    }

    [Fact]
    public async Task Audit_Table_SummarisesEachAction()
    {
        _cli.Handler.Body = """
            [
              {"id":"1","time":"2026-03-01T10:00:00Z","actor":"admin","action":"machine.create","serial":"SN1","before":null,"after":{"serial":"SN1","role":"worker","revision":1}},
              {"id":"2","time":"2026-03-01T10:05:00Z","actor":"state-setter","action":"machine.state","serial":"SN1","before":{"state":"uninitialized"},"after":{"state":"healthy"}},
              {"id":"3","time":"2026-03-01T10:06:00Z","actor":"alice","action":"machine.state","serial":"SN1","before":{"state":"healthy"},"after":{"state":"retiring","reason":"disk errors"}},
              {"id":"4","time":"2026-03-01T10:07:00Z","actor":"alice","action":"machine.update","serial":"SN1","before":{"role":"worker","labels":{"a":"1","old":"x"},"revision":2,"updatedAt":"t1"},"after":{"role":"control-plane","labels":{"a":"2","new":"y"},"revision":3,"updatedAt":"t2"}},
              {"id":"5","time":"2026-03-01T10:08:00Z","actor":"alice","action":"ipam.update","serial":null,"before":{"subnets":[{"name":"lab"}]},"after":{"subnets":[{"name":"lab"}]}},
              {"id":"6","time":"2026-03-01T10:09:00Z","actor":"admin","action":"token.create","serial":null,"before":null,"after":{"name":"ci","role":"viewer"}},
              {"id":"7","time":"2026-03-01T10:10:00Z","actor":"admin","action":"machine.delete","serial":"SN1","before":{"serial":"SN1"},"after":null}
            ]
            """;

        var result = await _cli.RunAsync("audit");

        Assert.Equal(
            """
            TIME                   ACTOR          ACTION           SERIAL   SUMMARY
            2026-03-01T10:00:00Z   admin          machine.create   SN1      created, role=worker
            2026-03-01T10:05:00Z   state-setter   machine.state    SN1      uninitialized → healthy
            2026-03-01T10:06:00Z   alice          machine.state    SN1      healthy → retiring (disk errors)
            2026-03-01T10:07:00Z   alice          machine.update   SN1      role: worker → control-plane, labels.a: 1 → 2, labels.new=y (+1 more)
            2026-03-01T10:08:00Z   alice          ipam.update      <none>   no change
            2026-03-01T10:09:00Z   admin          token.create     <none>   created, role=viewer
            2026-03-01T10:10:00Z   admin          machine.delete   SN1      deleted

            """,
            result.Stdout);
    }

    [Fact]
    public async Task Replacements_Table_AndWhatIsHeldBack()
    {
        _cli.Handler.Body = """
            {"replacements":[
              {"failed":"W1","role":"worker","controlPlane":false,"phase":"waking","reason":"unreachable for 6 min","startedAt":"2026-03-01T10:00:00Z","spare":"S1","wakePackets":3,"gaveUpOn":[]},
              {"failed":"W0","role":"worker","phase":"completed","startedAt":"2026-02-01T08:00:00Z","spare":"S0","wakePackets":1,"completedAt":"2026-02-01T08:02:00Z","gaveUpOn":[]}],
             "held":[{"failed":"CP2","why":"a control-plane machine is already being replaced (one at a time)"}],
             "leader":true,"limits":{"enabled":true}}
            """;

        var result = await _cli.RunAsync("replacements");

        Assert.Equal("/api/v1/replacements", _cli.Handler.Single.Target);
        Assert.Equal(
            """
            FAILED   ROLE     PHASE       SPARE   STARTED                WAKE PACKETS   COMPLETED
            W1       worker   waking      S1      2026-03-01T10:00:00Z   3              <none>
            W0       worker   completed   S0      2026-02-01T08:00:00Z   1              2026-02-01T08:02:00Z

            HELD BACK   WHY
            CP2         a control-plane machine is already being replaced (one at a time)

            """,
            result.Stdout);
    }

    [Fact]
    public async Task TokensList_Table()
    {
        _cli.Handler.Body = """[{"name":"admin","role":"admin","createdAt":"2026-01-01T00:00:00Z"},{"name":"ci","role":"viewer","createdAt":"2026-02-01T08:30:00Z"}]""";

        var result = await _cli.RunAsync("tokens", "list");

        Assert.Equal(
            """
            NAME    ROLE     CREATED
            admin   admin    2026-01-01T00:00:00Z
            ci      viewer   2026-02-01T08:30:00Z

            """,
            result.Stdout);
    }

    [Fact]
    public async Task MachinesAdd_Bulk_ShowsEveryCreatedMachine()
    {
        _cli.Stdin = """[{"serial":"SN1"},{"serial":"SN2"}]""";
        _cli.Handler.Body = """[{"serial":"SN1","state":"uninitialized"},{"serial":"SN2","state":"uninitialized"}]""";

        var result = await _cli.RunAsync("machines", "add", "-f", "-");

        Assert.Equal(
            """
            SERIAL   ROLE     STATE           IPV4     MACS     LABELS   UPDATED
            SN1      <none>   uninitialized   <none>   <none>   <none>   <none>
            SN2      <none>   uninitialized   <none>   <none>   <none>   <none>

            """,
            result.Stdout);
    }
}
