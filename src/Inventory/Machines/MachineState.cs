using System.Text.Json.Serialization;

namespace NekkoMetal.Inventory.Machines;

/// <summary>Lifecycle states of a machine (as sabakan's). Allowed moves are in <see cref="MachineStateTransitions"/>.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<MachineState>))]
public enum MachineState
{
    /// <summary>Registered, not yet provisioned or not yet reporting.</summary>
    [JsonStringEnumMemberName("uninitialized")] Uninitialized,

    /// <summary>Provisioned and passing its health checks.</summary>
    [JsonStringEnumMemberName("healthy")] Healthy,

    /// <summary>Reporting, but a critical check fails.</summary>
    [JsonStringEnumMemberName("unhealthy")] Unhealthy,

    /// <summary>No heartbeat within the timeout.</summary>
    [JsonStringEnumMemberName("unreachable")] Unreachable,

    /// <summary>Being updated or reinstalled on purpose.</summary>
    [JsonStringEnumMemberName("updating")] Updating,

    /// <summary>Being taken out of service; its data is being released.</summary>
    [JsonStringEnumMemberName("retiring")] Retiring,

    /// <summary>Out of service; the only state from which a machine can be deleted.</summary>
    [JsonStringEnumMemberName("retired")] Retired,
}

public static class MachineStateNames
{
    private static readonly string[] Names =
        ["uninitialized", "healthy", "unhealthy", "unreachable", "updating", "retiring", "retired"];

    /// <summary>The wire name of a state, as in JSON and on the command line.</summary>
    public static string ToWire(this MachineState state) => Names[(int)state];

    public static IReadOnlyList<string> All => Names;

    public static bool TryParse(string? text, out MachineState state)
    {
        var i = Array.IndexOf(Names, text?.Trim().ToLowerInvariant());
        state = i < 0 ? default : (MachineState)i;
        return i >= 0;
    }
}
