using NekkoMetal.Cli.Tests.TestKit;

namespace NekkoMetal.Cli.Tests;

/// <summary><c>nekkoctl cluster get | set | status | history</c>: what is sent and how answers are shown.</summary>
public sealed class ClusterCommandsTests : IDisposable
{
    private const string Definition = """
        {"name":"lab","kubernetesVersion":"1.31.2","etcdVersion":"3.5.16","containerRuntimeVersion":"1.7.22","controlPlaneCount":3,
         "podCidr":"10.244.0.0/16","serviceCidr":"10.96.0.0/12","dnsDomain":"cluster.local",
         "controlPlaneSelector":{"role":"control-plane","labels":{}},"workerSelector":{"role":"worker","labels":{"zone":"a"}},
         "binaries":[{"component":"etcd","version":"3.5.16","assetName":"etcd-3.5.16","sha256":"aaaa"},
                     {"component":"kubelet","version":"1.31.2","assetName":"kubelet-1.31.2","sha256":"bbbb"}],
         "extraFlags":{"kube-apiserver":["--v=2","--audit-log-maxage=7"]},"controlPlaneRunsKubelet":false}
        """;

    private readonly CliHarness _cli = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("nekkoctl-cluster-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string WriteFile(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public async Task Get_shows_the_definition_and_its_pins()
    {
        _cli.Handler.Body = Definition;

        var result = await _cli.RunAsync("cluster", "get");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("/api/v1/cluster", _cli.Handler.Single.Target);
        Assert.Equal(
            """
            cluster lab: kubernetes 1.31.2, etcd 3.5.16, containerd 1.7.22
            control plane: 3 node(s) selected by role control-plane; runs kubelet: no
            workers: selected by role worker, labels zone=a
            pods 10.244.0.0/16, services 10.96.0.0/12, DNS domain cluster.local, API endpoint the first control-plane node
            extra flags of kube-apiserver: --v=2 --audit-log-maxage=7

            COMPONENT   VERSION   ASSET            SHA256
            etcd        3.5.16    etcd-3.5.16      aaaa
            kubelet     1.31.2    kubelet-1.31.2   bbbb

            """,
            result.Stdout);
    }

    [Fact]
    public async Task Set_sends_the_file_as_is_with_put()
    {
        _cli.Handler.Body = Definition;
        var file = WriteFile("cluster.json", Definition);

        var result = await _cli.RunAsync("cluster", "set", "-f", file);

        Assert.Equal(0, result.ExitCode);
        var request = _cli.Handler.Single;
        Assert.Equal(HttpMethod.Put, request.Method);
        Assert.Equal("/api/v1/cluster", request.Target);
        Assert.Equal("application/json", request.MediaType);
        Assert.Equal(Definition, request.Body);
        Assert.StartsWith("cluster lab saved: kubernetes 1.31.2, etcd 3.5.16", result.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[1]", "must hold an object")]
    [InlineData("{oops", "is not valid JSON")]
    public async Task Set_refuses_a_file_that_is_not_a_json_object_without_a_request(string content, string message)
    {
        var result = await _cli.RunAsync("cluster", "set", "-f", WriteFile("bad.json", content));

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
        Assert.Empty(_cli.Handler.Requests);
    }

    [Fact]
    public async Task Set_without_a_file_is_a_usage_error()
    {
        var result = await _cli.RunAsync("cluster", "set");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Empty(_cli.Handler.Requests);
    }

    [Fact]
    public async Task Set_shows_every_problem_the_server_found()
    {
        _cli.Handler.Status = System.Net.HttpStatusCode.BadRequest;
        _cli.Handler.ContentType = "application/problem+json";
        _cli.Handler.Body = """{"title":"Invalid request","status":400,"detail":"invalid input","errors":{"definition":["controlPlaneCount: must be at least 1","podCidr: 'x' is not an IPv4 CIDR"]}}""";

        var result = await _cli.RunAsync("cluster", "set", "-f", WriteFile("c.json", "{}"));

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("controlPlaneCount: must be at least 1", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("podCidr: 'x' is not an IPv4 CIDR", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_of_the_leader_shows_nodes_components_members_and_what_is_held_back()
    {
        _cli.Handler.Body = """
            {"defined":true,"revision":7,"clusterName":"lab","kubernetesVersion":"1.31.2","etcdVersion":"3.5.16",
             "installerEnabled":true,"leader":true,"leaderId":"bs-1","observedAt":"2026-03-01T11:59:58Z",
             "phase":"etcd-cluster","converged":false,
             "blockers":["etcd: cp-3 unreachable"],"definitionErrors":[],
             "nextOperations":[{"phase":"etcd-cluster","kind":"AddEtcdLearner","nodes":["cp-4"],"description":"etcd: add learner cp-4 https://10.0.0.4:2380"}],
             "nodes":[
               {"serial":"CP-1","name":"cp-1","address":"10.0.0.1","role":"control-plane","machineState":"healthy","reachable":true,"etcdDataPresent":true,
                "components":[{"component":"etcd","state":"active","healthy":true,"version":"3.5.16","desiredVersion":"3.5.16"}]},
               {"serial":"CP-3","name":"cp-3","address":"10.0.0.3","role":"control-plane","machineState":"unreachable","reachable":false,"etcdDataPresent":false,"components":[]}],
             "etcdMembers":[{"id":"8e9e05c52164694d","name":"cp-1","peerUrl":"https://10.0.0.1:2380","learner":false,"healthy":true}],
             "apiServerReady":false,
             "lastBackup":{"name":"etcd-backup-x.db","kubernetesVersion":"1.31.2","etcdVersion":"3.5.16","takenAt":"2026-03-01T10:00:00Z","sha256":"ab","size":10,"member":"cp-1","revision":5},
             "lastOperation":{"phase":"etcdCluster","kind":"startUnit","nodes":["cp-1"],"description":"cp-1: start etcd.service","startedAt":"2026-03-01T11:00:00Z","finishedAt":"2026-03-01T11:00:01Z","outcome":"succeeded"},
             "recentErrors":[{"description":"cp-3: write etcd","finishedAt":"2026-03-01T10:30:00Z","outcome":"failed","error":"node unreachable"}]}
            """;

        var result = await _cli.RunAsync("cluster", "status");

        Assert.Equal("/api/v1/cluster/status", _cli.Handler.Single.Target);
        Assert.Equal(
            """
            cluster lab (kubernetes 1.31.2, etcd 3.5.16): not converged, phase etcd-cluster
            installer: on; this boot server leads
            observed: 2026-03-01T11:59:58Z; API server ready: no

            NODE   SERIAL   ADDRESS    ROLE            MACHINE       REACHABLE   COMPONENT   UNIT     HEALTHY   VERSION   WANTED
            cp-1   CP-1     10.0.0.1   control-plane   healthy       yes         etcd        active   yes       3.5.16    3.5.16
            cp-3   CP-3     10.0.0.3   control-plane   unreachable   no          <none>      <none>   <none>    <none>    <none>

            ETCD MEMBER   ID                 PEER URL                LEARNER   HEALTHY
            cp-1          8e9e05c52164694d   https://10.0.0.1:2380   no        yes

            held back:
              etcd: cp-3 unreachable

            next operations:
              etcd: add learner cp-4 https://10.0.0.4:2380

            last operation: 2026-03-01T11:00:01Z cp-1: start etcd.service: succeeded
            last etcd backup: 2026-03-01T10:00:00Z etcd-backup-x.db (for kubernetes 1.31.2, etcd 3.5.16)
            recent errors:
              2026-03-01T10:30:00Z cp-3: write etcd: node unreachable

            """,
            result.Stdout);
    }

    [Fact]
    public async Task Status_on_a_server_that_does_not_lead_says_where_to_ask()
    {
        _cli.Handler.Body = """
            {"defined":true,"clusterName":"lab","kubernetesVersion":"1.31.2","etcdVersion":"3.5.16","installerEnabled":true,"leader":false,"leaderId":"bs-2",
             "blockers":[],"definitionErrors":[],"nextOperations":[],"nodes":[],"etcdMembers":[],"recentErrors":[],
             "note":"this boot server does not lead the installer (leader: bs-2)"}
            """;

        var result = await _cli.RunAsync("cluster", "status");

        Assert.Equal(
            """
            cluster lab (kubernetes 1.31.2, etcd 3.5.16): state unknown here, no work planned
            installer: on; leader: bs-2

            last operation: none
            last etcd backup: none
            (this boot server does not lead the installer (leader: bs-2))

            """,
            result.Stdout);
    }

    [Fact]
    public async Task History_passes_the_limit_and_shows_one_row_per_operation()
    {
        _cli.Handler.Body = """
            [{"phase":"etcd-cluster","kind":"write-binary","nodes":["cp-1"],"description":"cp-1: write etcd","startedAt":"2026-03-01T10:00:00Z","finishedAt":"2026-03-01T10:00:04Z","outcome":"succeeded"},
             {"phase":"etcd-cluster","kind":"start-unit","nodes":["cp-1","cp-2"],"description":"start etcd","finishedAt":"2026-03-01T10:00:05Z","outcome":"failed","error":"exit 1"}]
            """;

        var result = await _cli.RunAsync("cluster", "history", "--limit", "5");

        Assert.Equal("/api/v1/cluster/history?limit=5", _cli.Handler.Single.Target);
        Assert.Equal(
            """
            FINISHED               PHASE          KIND           NODES       OUTCOME     DESCRIPTION        ERROR
            2026-03-01T10:00:04Z   etcd-cluster   write-binary   cp-1        succeeded   cp-1: write etcd   <none>
            2026-03-01T10:00:05Z   etcd-cluster   start-unit     cp-1,cp-2   failed      start etcd         exit 1

            """,
            result.Stdout);
    }

    [Fact]
    public async Task History_refuses_a_limit_below_one()
    {
        var result = await _cli.RunAsync("cluster", "history", "--limit", "0");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("--limit must be a whole number of at least 1", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(_cli.Handler.Requests);
    }
}
