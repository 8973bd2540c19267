using NekkoMetal.Inventory.Health;
using NekkoMetal.Inventory.Machines;
using NekkoMetal.Inventory.Replacement;

namespace NekkoMetal.Inventory.Tests;

/// <summary>The replacement controller's rules (<see cref="ReplacementDecision"/>): no I/O, no clock.</summary>
public sealed class ReplacementDecisionTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
    private static readonly ReplacementSettings Settings = new()
    {
        ReplaceAfter = TimeSpan.FromMinutes(5),
        MaxConcurrent = 2,
        Cooldown = TimeSpan.FromMinutes(30),
        WakeTimeout = TimeSpan.FromMinutes(10),
        WakeInterval = TimeSpan.FromSeconds(30),
        AwakeWithin = TimeSpan.FromSeconds(90),
    };

    private static Machine M(string serial, string? role, MachineState state, TimeSpan? stateAge = null, string? wol = "52:54:00:00:00:01",
        long? memory = null, int? threads = null, Dictionary<string, string>? labels = null) => new()
        {
            Serial = serial,
            Role = role,
            State = state,
            StateChangedAt = Now - (stateAge ?? TimeSpan.FromHours(1)),
            Power = new PowerInfo { WolMac = wol },
            Hardware = memory is null && threads is null ? null : new HardwareFacts { MemoryBytes = memory, Cpu = new CpuFacts { Threads = threads } },
            Labels = labels ?? [],
        };

    private static MachineHealth Beat(string serial, TimeSpan ago) => new() { Serial = serial, LastHeartbeatAt = Now - ago };

    private static ReplacementPlan Decide(IEnumerable<Machine> machines, IEnumerable<MachineHealth>? health = null, IEnumerable<MachineReplacement>? records = null, ReplacementSettings? settings = null) =>
        ReplacementDecision.Decide([.. machines], (health ?? []).ToDictionary(h => h.Serial), [.. records ?? []], Now, settings ?? Settings);

    private static MachineReplacement Active(string failed, string role, string? spare, TimeSpan chosenAgo, bool asleep = true, DateTimeOffset? lastWake = null, bool controlPlane = false) => new()
    {
        Failed = failed,
        Role = role,
        ControlPlane = controlPlane,
        StartedAt = Now - chosenAgo,
        Spare = spare,
        SpareChosenAt = spare is null ? null : Now - chosenAgo,
        SpareWasAsleep = asleep,
        LastWakeAt = lastWake,
    };

    [Theory]
    [InlineData(MachineState.Unhealthy, 300, true)]
    [InlineData(MachineState.Unreachable, 301, true)]
    [InlineData(MachineState.Unreachable, 299, false)] // within the grace
    [InlineData(MachineState.Healthy, 3600, false)]
    [InlineData(MachineState.Updating, 3600, false)]
    [InlineData(MachineState.Retiring, 3600, false)]
    [InlineData(MachineState.Uninitialized, 3600, false)]
    public void A_failed_machine_with_a_role_is_replaced_after_the_grace(MachineState state, int seconds, bool replaced)
    {
        var plan = Decide([M("W1", "worker", state, TimeSpan.FromSeconds(seconds)), M("S1", "spare", MachineState.Unreachable)]);
        if (replaced)
        {
            var start = Assert.IsType<StartReplacement>(Assert.Single(plan.Actions));
            Assert.Equal(("W1", "worker", "S1", true, false), (start.Failed, start.Role, start.Spare, start.SpareAsleep, start.ControlPlane));
            Assert.Contains(state.ToWire(), start.Reason, StringComparison.Ordinal);
        }
        else
        {
            Assert.Empty(plan.Actions);
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData("spare")]
    public void Machines_without_a_role_and_spares_are_never_replaced(string? role)
    {
        var plan = Decide([M("X1", role, MachineState.Unreachable), M("S1", "spare", MachineState.Healthy)], [Beat("S1", TimeSpan.FromSeconds(5))]);
        Assert.Empty(plan.Actions);
        Assert.Empty(plan.Held);
    }

    [Fact]
    public void An_awake_spare_is_preferred_and_needs_no_wake()
    {
        var plan = Decide(
            [M("W1", "worker", MachineState.Unhealthy), M("S-A", "spare", MachineState.Unreachable), M("S-B", "spare", MachineState.Healthy)],
            [Beat("S-B", TimeSpan.FromSeconds(10))]);
        var start = Assert.IsType<StartReplacement>(Assert.Single(plan.Actions));
        Assert.Equal("S-B", start.Spare);
        Assert.False(start.SpareAsleep);
    }

    [Fact]
    public void A_healthy_spare_whose_heartbeat_is_stale_counts_as_asleep()
    {
        var plan = Decide([M("W1", "worker", MachineState.Unhealthy), M("S1", "spare", MachineState.Healthy)], [Beat("S1", TimeSpan.FromMinutes(5))]);
        Assert.True(Assert.IsType<StartReplacement>(Assert.Single(plan.Actions)).SpareAsleep);
    }

    [Theory]
    [InlineData(MachineState.Unhealthy)]
    [InlineData(MachineState.Updating)]
    [InlineData(MachineState.Retiring)]
    [InlineData(MachineState.Retired)]
    public void Spares_in_other_states_are_not_chosen_and_the_failure_is_held(MachineState spareState)
    {
        var plan = Decide([M("W1", "worker", MachineState.Unhealthy), M("S1", "spare", spareState)]);
        Assert.Empty(plan.Actions);
        Assert.Contains("no free spare", Assert.Single(plan.Held).Why, StringComparison.Ordinal);
    }

    [Fact]
    public void An_asleep_spare_without_a_wake_on_lan_mac_cannot_be_woken_so_is_not_chosen()
    {
        var plan = Decide([M("W1", "worker", MachineState.Unhealthy), M("S1", "spare", MachineState.Unreachable, wol: null)]);
        Assert.Empty(plan.Actions);
        Assert.Single(plan.Held);
    }

    [Fact]
    public void Role_constraints_filter_spares()
    {
        var settings = Settings with
        {
            Constraints = new Dictionary<string, RoleConstraints>
            {
                ["db"] = new() { MinMemoryBytes = 16L << 30, MinCpuThreads = 8, Labels = new Dictionary<string, string> { ["disk"] = "ssd" } },
            },
        };
        var small = M("S-SMALL", "spare", MachineState.Unreachable, memory: 8L << 30, threads: 8, labels: new() { ["disk"] = "ssd" });
        var hdd = M("S-HDD", "spare", MachineState.Unreachable, memory: 32L << 30, threads: 16, labels: new() { ["disk"] = "hdd" });
        var unknown = M("S-UNKNOWN", "spare", MachineState.Unreachable);
        var good = M("S-GOOD", "spare", MachineState.Unreachable, memory: 32L << 30, threads: 8, labels: new() { ["disk"] = "ssd" });

        Assert.Single(Decide([M("D1", "db", MachineState.Unhealthy), small, hdd, unknown], settings: settings).Held);
        var start = Assert.IsType<StartReplacement>(Assert.Single(Decide([M("D1", "db", MachineState.Unhealthy), small, hdd, unknown, good], settings: settings).Actions));
        Assert.Equal("S-GOOD", start.Spare);

        // other roles demand nothing
        Assert.IsType<StartReplacement>(Assert.Single(Decide([M("W1", "worker", MachineState.Unhealthy), small], settings: settings).Actions));
    }

    [Fact]
    public void At_most_MaxConcurrent_replacements_oldest_failure_first()
    {
        var plan = Decide([
            M("W1", "worker", MachineState.Unhealthy, TimeSpan.FromMinutes(10)),
            M("W2", "worker", MachineState.Unhealthy, TimeSpan.FromMinutes(30)),
            M("W3", "worker", MachineState.Unreachable, TimeSpan.FromMinutes(20)),
            M("S1", "spare", MachineState.Unreachable), M("S2", "spare", MachineState.Unreachable), M("S3", "spare", MachineState.Unreachable),
        ]);
        Assert.Equal(["W2", "W3"], plan.Actions.Select(a => a.Failed));
        Assert.Equal(["S1", "S2"], plan.Actions.Cast<StartReplacement>().Select(a => a.Spare)); // one spare each
        Assert.Contains("limit 2", Assert.Single(plan.Held).Why, StringComparison.Ordinal);

        // one already in progress counts against the limit, and its spare is taken
        plan = Decide(
            [M("W1", "worker", MachineState.Unhealthy), M("W2", "worker", MachineState.Unhealthy), M("W9", "worker", MachineState.Retiring),
             M("S1", "spare", MachineState.Unreachable), M("S2", "spare", MachineState.Unreachable)],
            records: [Active("W9", "worker", "S1", TimeSpan.FromSeconds(10), lastWake: Now)]);
        var start = Assert.IsType<StartReplacement>(Assert.Single(plan.Actions));
        Assert.Equal("S2", start.Spare);
        Assert.Single(plan.Held);
    }

    [Fact]
    public void Never_more_than_one_control_plane_machine_at_a_time()
    {
        var settings = Settings with { MaxConcurrent = 5 };
        var plan = Decide([
            M("CP1", "control-plane", MachineState.Unreachable, TimeSpan.FromMinutes(20)),
            M("CP2", "control-plane", MachineState.Unreachable, TimeSpan.FromMinutes(10)),
            M("W1", "worker", MachineState.Unhealthy),
            M("S1", "spare", MachineState.Unreachable), M("S2", "spare", MachineState.Unreachable), M("S3", "spare", MachineState.Unreachable),
        ], settings: settings);
        Assert.Equal(["CP1", "W1"], plan.Actions.Select(a => a.Failed).Order());
        Assert.True(plan.Actions.OfType<StartReplacement>().Single(a => a.Failed == "CP1").ControlPlane);
        Assert.Equal("CP2", Assert.Single(plan.Held).Failed);
        Assert.Contains("control-plane", plan.Held[0].Why, StringComparison.Ordinal);

        plan = Decide([M("CP2", "control-plane", MachineState.Unreachable), M("S1", "spare", MachineState.Unreachable)],
            records: [Active("CP1", "control-plane", null, TimeSpan.FromMinutes(1), controlPlane: true)], settings: settings);
        Assert.DoesNotContain(plan.Actions, a => a is StartReplacement);
    }

    [Fact]
    public void A_machine_that_took_its_role_by_replacement_is_not_replaced_again_within_the_cooldown()
    {
        MachineReplacement Done(TimeSpan ago) => new()
        {
            Failed = "W-OLD",
            Role = "worker",
            Spare = "W-NEW",
            Phase = ReplacementPhase.Completed,
            StartedAt = Now - ago - TimeSpan.FromMinutes(1),
            CompletedAt = Now - ago,
        };
        var machines = new[] { M("W-NEW", "worker", MachineState.Unreachable), M("S1", "spare", MachineState.Unreachable) };
        var plan = Decide(machines, records: [Done(TimeSpan.FromMinutes(20))]);
        Assert.Empty(plan.Actions);
        Assert.Contains("cooldown", Assert.Single(plan.Held).Why, StringComparison.Ordinal);

        plan = Decide(machines, records: [Done(TimeSpan.FromMinutes(31))]);
        Assert.Equal("W-NEW", Assert.IsType<StartReplacement>(Assert.Single(plan.Actions)).Failed);
    }

    [Fact]
    public void A_completed_record_does_not_stop_a_later_replacement_of_the_same_machine()
    {
        var done = new MachineReplacement
        {
            Failed = "W1",
            Role = "worker",
            Spare = "S0",
            Phase = ReplacementPhase.Completed,
            StartedAt = Now - TimeSpan.FromDays(2),
            CompletedAt = Now - TimeSpan.FromDays(2),
        };
        var plan = Decide([M("W1", "worker", MachineState.Unhealthy), M("S1", "spare", MachineState.Unreachable)], records: [done]);
        Assert.IsType<StartReplacement>(Assert.Single(plan.Actions));
    }

    [Fact]
    public void While_waiting_an_asleep_spare_is_woken_every_interval()
    {
        var machines = new[] { M("W1", "worker", MachineState.Retiring), M("S1", "spare", MachineState.Unreachable) };
        var wake = Assert.IsType<WakeSpare>(Assert.Single(Decide(machines, records: [Active("W1", "worker", "S1", TimeSpan.FromSeconds(1))]).Actions));
        Assert.Equal(("S1", "52:54:00:00:00:01"), (wake.Spare, wake.Mac));
        Assert.Empty(Decide(machines, records: [Active("W1", "worker", "S1", TimeSpan.FromSeconds(40), lastWake: Now - TimeSpan.FromSeconds(29))]).Actions);
        Assert.IsType<WakeSpare>(Assert.Single(Decide(machines, records: [Active("W1", "worker", "S1", TimeSpan.FromSeconds(40), lastWake: Now - TimeSpan.FromSeconds(30))]).Actions));

        // an awake spare is not sent packets: its next heartbeat is awaited
        Assert.Empty(Decide(machines, records: [Active("W1", "worker", "S1", TimeSpan.FromSeconds(5), asleep: false)]).Actions);
    }

    [Fact]
    public void The_spares_first_heartbeat_after_it_was_chosen_completes_the_replacement()
    {
        var machines = new[] { M("W1", "worker", MachineState.Retiring), M("S1", "spare", MachineState.Unreachable) };
        var record = Active("W1", "worker", "S1", TimeSpan.FromSeconds(60), lastWake: Now - TimeSpan.FromSeconds(5));

        // a heartbeat from before it was chosen proves nothing
        Assert.Empty(Decide(machines, [Beat("S1", TimeSpan.FromSeconds(61))], [record]).Actions);

        var take = Assert.IsType<TakeRole>(Assert.Single(Decide(machines, [Beat("S1", TimeSpan.FromSeconds(2))], [record]).Actions));
        Assert.Equal(("W1", "S1", "worker", Now - TimeSpan.FromSeconds(2)), (take.Failed, take.Spare, take.Role, take.HeartbeatAt));

        // a controller that stopped halfway (role already taken) finishes the same way
        machines = [M("W1", "worker", MachineState.Retiring), M("S1", "worker", MachineState.Healthy)];
        Assert.IsType<TakeRole>(Assert.Single(Decide(machines, [Beat("S1", TimeSpan.FromSeconds(2))], [record]).Actions));
    }

    [Fact]
    public void A_spare_that_does_not_come_up_is_given_up_on_and_another_is_chosen()
    {
        var machines = new[] { M("W1", "worker", MachineState.Retiring), M("S1", "spare", MachineState.Unreachable), M("S2", "spare", MachineState.Unreachable) };
        var giveUp = Assert.IsType<GiveUpSpare>(Assert.Single(Decide(machines, records: [Active("W1", "worker", "S1", TimeSpan.FromMinutes(10), lastWake: Now)]).Actions));
        Assert.Equal("S1", giveUp.Spare);
        Assert.Contains("wake timeout", giveUp.Reason, StringComparison.Ordinal);

        var next = Active("W1", "worker", null, TimeSpan.FromMinutes(11)) with { GaveUpOn = ["S1"] };
        var choose = Assert.IsType<ChooseSpare>(Assert.Single(Decide(machines, records: [next]).Actions));
        Assert.Equal(("S2", true), (choose.Spare, choose.SpareAsleep));

        next = next with { GaveUpOn = ["S1", "S2"] };
        var plan = Decide(machines, records: [next]);
        Assert.Empty(plan.Actions);
        Assert.Contains("waiting for a free spare", Assert.Single(plan.Held).Why, StringComparison.Ordinal);
    }

    [Fact]
    public void A_spare_deleted_or_given_another_role_is_given_up_on()
    {
        var record = Active("W1", "worker", "S1", TimeSpan.FromSeconds(10), lastWake: Now);
        Assert.Contains("deleted", Assert.IsType<GiveUpSpare>(Assert.Single(Decide([M("W1", "worker", MachineState.Retiring)], records: [record]).Actions)).Reason, StringComparison.Ordinal);
        Assert.Contains("'db'", Assert.IsType<GiveUpSpare>(Assert.Single(Decide([M("W1", "worker", MachineState.Retiring), M("S1", "db", MachineState.Healthy)], records: [record]).Actions)).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_replacement_whose_failed_machine_is_not_retiring_yet_retires_it_first()
    {
        var actions = Decide([M("W1", "worker", MachineState.Unreachable), M("S1", "spare", MachineState.Unreachable)],
            records: [Active("W1", "worker", "S1", TimeSpan.FromSeconds(1))]).Actions;
        Assert.IsType<RetireFailed>(actions[0]);
        Assert.IsType<WakeSpare>(actions[1]);
        Assert.Equal(2, actions.Count);
    }

    [Fact]
    public void Completed_replacements_are_forgotten_after_the_retention()
    {
        var done = new MachineReplacement { Failed = "W1", Role = "worker", Spare = "S1", Phase = ReplacementPhase.Completed, CompletedAt = Now - TimeSpan.FromDays(7) };
        Assert.IsType<ForgetReplacement>(Assert.Single(Decide([], records: [done]).Actions));
        Assert.Empty(Decide([], records: [done with { CompletedAt = Now - TimeSpan.FromDays(6) }]).Actions);
    }

    [Fact]
    public void Turned_to_zero_concurrency_nothing_starts()
    {
        var plan = Decide([M("W1", "worker", MachineState.Unhealthy), M("S1", "spare", MachineState.Unreachable)], settings: Settings with { MaxConcurrent = 0 });
        Assert.Empty(plan.Actions);
        Assert.Single(plan.Held);
    }

    [Fact]
    public void The_magic_packet_is_six_FF_bytes_and_sixteen_copies_of_the_MAC()
    {
        var packet = MagicPacket.Build("52:54:00:AB:cd:0f");
        Assert.Equal(102, packet.Length);
        Assert.All(packet[..6], b => Assert.Equal(0xFF, b));
        for (var i = 0; i < 16; i++)
        {
            Assert.Equal(new byte[] { 0x52, 0x54, 0x00, 0xab, 0xcd, 0x0f }, packet[(6 + i * 6)..(12 + i * 6)]);
        }

        Assert.True(MagicPacket.IsFor(packet, "52-54-00-ab-cd-0f"));
        Assert.False(MagicPacket.IsFor(packet, "52:54:00:ab:cd:0e"));
        Assert.False(MagicPacket.IsFor(packet.AsSpan(0, 101), "52:54:00:ab:cd:0f"));
        Assert.Throws<FormatException>(() => MagicPacket.Build("52:54:00:ab:cd"));
        Assert.Throws<FormatException>(() => MagicPacket.Build("52:54:00:ab:cd:zz"));
    }
}
