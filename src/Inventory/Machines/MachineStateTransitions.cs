using System.Collections.Frozen;

namespace NekkoMetal.Inventory.Machines;

/// <summary>
/// The lifecycle transition table: the one place that says which state may follow which.
/// It follows sabakan's table, with three additions a home lab needs:
/// a freshly provisioned machine may go straight to unhealthy/unreachable (it never became healthy),
/// an unreachable machine may come back unhealthy, and an update may end healthy.
/// Setting a machine to the state it is already in is a no-op, not a transition.
/// </summary>
public static class MachineStateTransitions
{
    private static readonly FrozenDictionary<MachineState, MachineState[]> Table = new Dictionary<MachineState, MachineState[]>
    {
        [MachineState.Uninitialized] = [MachineState.Healthy, MachineState.Unhealthy, MachineState.Unreachable, MachineState.Retiring],
        [MachineState.Healthy] = [MachineState.Unhealthy, MachineState.Unreachable, MachineState.Updating, MachineState.Retiring],
        [MachineState.Unhealthy] = [MachineState.Healthy, MachineState.Unreachable, MachineState.Retiring],
        [MachineState.Unreachable] = [MachineState.Healthy, MachineState.Unhealthy, MachineState.Retiring],
        [MachineState.Updating] = [MachineState.Uninitialized, MachineState.Healthy, MachineState.Retiring],
        [MachineState.Retiring] = [MachineState.Retired],
        [MachineState.Retired] = [MachineState.Uninitialized],
    }.ToFrozenDictionary();

    public static IReadOnlyList<MachineState> AllowedFrom(MachineState from) => Table[from];

    public static bool IsAllowed(MachineState from, MachineState to) => Array.IndexOf(Table[from], to) >= 0;

    /// <summary>Only retired machines can be deleted.</summary>
    public static bool CanDelete(MachineState state) => state == MachineState.Retired;
}
