using NekkoMetal.KubeInstaller.Execution.Execution;
using NekkoMetal.KubeInstaller.Execution.Probing;

namespace NekkoMetal.KubeInstaller.Execution.Tests;

/// <summary>etcdctl command lines and the JSON etcdctl 3.4 prints (captured from the test nodes' etcd 3.4.23).</summary>
public sealed class EtcdCtlTests
{
    [Fact]
    public void Command_uses_the_v3_api_tls_with_the_nodes_client_certificate_and_timeouts()
    {
        Assert.Equal(
            "ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/etc/nekko/pki/etcd/ca.crt --cert=/etc/nekko/pki/etcd/server.crt " +
            "--key=/etc/nekko/pki/etcd/server.key --dial-timeout=2s --command-timeout=5s member add sn-1 --peer-urls=https://10.0.0.1:2380 --learner",
            EtcdCtl.Local("member", "add", "sn-1", "--peer-urls=https://10.0.0.1:2380", "--learner"));
    }

    [Fact]
    public void Member_names_with_shell_characters_stay_one_argument() =>
        Assert.EndsWith("member add 'a b;reboot'", EtcdCtl.Local("member", "add", "a b;reboot"), StringComparison.Ordinal);

    // IDs above 2^53 must survive (a double would round them)
    private const string MemberList =
        """{"header":{"cluster_id":17237436991929493444,"member_id":9372538179322589801,"raft_term":2},"members":[{"ID":9372538179322589801,"name":"sn-a","peerURLs":["https://10.1.1.40:2380"],"clientURLs":["https://10.1.1.40:2379"]},{"ID":10501334649042878790,"peerURLs":["https://10.1.1.43:2380"],"isLearner":true}]}""";

    [Fact]
    public void Member_list_keeps_64_bit_ids_learners_and_unstarted_members()
    {
        var members = EtcdCtl.ParseMemberList(MemberList);
        Assert.Equal(2, members.Count);
        Assert.Equal(9372538179322589801UL, members[0].Id);
        Assert.Equal("8211f1d0f64f3269", members[0].HexId);
        Assert.False(members[0].IsLearner);
        Assert.Equal(["https://10.1.1.40:2379"], members[0].ClientUrls);
        Assert.Equal("", members[1].Name); // added, never started
        Assert.True(members[1].IsLearner);
        Assert.Empty(members[1].ClientUrls);
    }

    [Fact]
    public void Member_add_output_names_the_added_member()
    {
        var added = EtcdCtl.ParseAddedMember(
            """{"header":{"cluster_id":1,"member_id":2,"raft_term":2},"member":{"ID":10501334649042878790,"peerURLs":["https://10.1.1.43:2380"],"isLearner":true},"members":[]}""");
        Assert.Equal(10501334649042878790UL, added.Id);
        Assert.True(added.IsLearner);
    }

    private const string Status =
        """[{"Endpoint":"https://10.1.1.41:2379","Status":{"header":{"cluster_id":1,"member_id":11,"revision":5,"raft_term":2},"version":"3.4.23","dbSize":20480,"leader":11,"raftIndex":1000,"raftTerm":2,"raftAppliedIndex":1000,"dbSizeInUse":20480}},{"Endpoint":"https://10.1.1.43:2379","Status":{"header":{"cluster_id":1,"member_id":13,"revision":5,"raft_term":2},"version":"3.4.23","dbSize":20480,"leader":11,"raftIndex":950,"raftTerm":2,"raftAppliedIndex":950,"dbSizeInUse":20480,"isLearner":true}}]""";

    [Fact]
    public void Endpoint_status_reports_learners_and_raft_indexes()
    {
        var status = EtcdCtl.ParseStatus(Status);
        Assert.Equal(2, status.Count);
        Assert.False(status[0].IsLearner);
        Assert.True(status[1].IsLearner);
        Assert.Equal(950UL, status[1].RaftIndex);
        Assert.Equal("3.4.23", status[0].Version);
    }

    [Fact]
    public void Endpoint_health_maps_each_endpoint()
    {
        var health = EtcdCtl.ParseHealth(
            """[{"endpoint":"https://10.1.1.41:2379","health":true,"took":"9.1ms"},{"endpoint":"https://10.1.1.40:2379","health":false,"took":"5s","error":"context deadline exceeded"}]""");
        Assert.True(health["https://10.1.1.41:2379"]);
        Assert.False(health["https://10.1.1.40:2379"]);
    }

    [Theory]
    [InlineData("Error: etcdserver: can only promote a learner member which is in sync with leader", true)]
    [InlineData("Error: etcdserver: learner member is not ready", true)]
    [InlineData("Error: etcdserver: member not found", false)]
    public void Promotion_is_retried_only_while_the_learner_catches_up(string output, bool retry) =>
        Assert.Equal(retry, EtcdCtl.IsLearnerNotReady(output));

    [Fact]
    public void Members_are_healthy_by_endpoint_health_and_learners_by_catching_up()
    {
        var members = EtcdCtl.ParseMemberList(
            """{"members":[{"ID":11,"name":"a","peerURLs":["https://10.1.1.41:2380"],"clientURLs":["https://10.1.1.41:2379"]},{"ID":12,"name":"b","peerURLs":["https://10.1.1.42:2380"],"clientURLs":["https://10.1.1.42:2379"]},{"ID":13,"name":"d","peerURLs":["https://10.1.1.43:2380"],"clientURLs":["https://10.1.1.43:2379"],"isLearner":true},{"ID":14,"peerURLs":["https://10.1.1.44:2380"],"isLearner":true}]}""");
        var status = EtcdCtl.ParseStatus(Status.Replace("\"member_id\":13", "\"member_id\":13", StringComparison.Ordinal));
        var health = new Dictionary<string, bool> { ["https://10.1.1.41:2379"] = true, ["https://10.1.1.42:2379"] = false };
        var joined = ClusterProber.Join(members, status, health);
        Assert.Equal([true, false, true, false], joined.Select(m => m.Healthy));
        Assert.Equal("https://10.1.1.44:2380", joined[3].PeerUrl);

        var behind = EtcdCtl.ParseStatus(Status.Replace("\"raftIndex\":950", "\"raftIndex\":800", StringComparison.Ordinal));
        Assert.False(ClusterProber.Join(members, behind, health)[2].Healthy); // 80% of the leader's index: not caught up
    }
}
