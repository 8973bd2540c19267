using NekkoMetal.Inventory.Machines;

namespace NekkoMetal.Inventory;

/// <summary>
/// Base of the inventory's small exception taxonomy. <see cref="IsTransient"/> drives retries;
/// the admin API maps each subtype to a status code in exactly one place.
/// </summary>
public abstract class InventoryException : Exception
{
    protected InventoryException(string message, Exception? inner = null) : base(message, inner) { }

    /// <summary>True when the same call may succeed if tried again later.</summary>
    public virtual bool IsTransient => false;
}

/// <summary>The named object does not exist.</summary>
public sealed class NotFoundException(string kind, string name)
    : InventoryException($"{kind} '{name}' was not found")
{
    public string Kind { get; } = kind;
    public string Name { get; } = name;
}

/// <summary>The request is well-formed but collides with the current state (exists already, CAS lost, in use).</summary>
public sealed class ConflictException(string message) : InventoryException(message);

/// <summary>One or more fields are invalid. <see cref="Errors"/> maps a field path to its messages.</summary>
public sealed class ValidationException : InventoryException
{
    public ValidationException(IReadOnlyDictionary<string, string[]> errors)
        : base("invalid input: " + string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}")))
    {
        Errors = errors;
    }

    public ValidationException(string field, string message)
        : this(new Dictionary<string, string[]> { [field] = [message] })
    {
    }

    public IReadOnlyDictionary<string, string[]> Errors { get; }
}

/// <summary>A lifecycle move the transition table does not allow.</summary>
public sealed class ForbiddenTransitionException(string serial, MachineState from, MachineState to)
    : InventoryException($"machine '{serial}' cannot go from {from.ToWire()} to {to.ToWire()}; allowed from {from.ToWire()}: " +
        (MachineStateTransitions.AllowedFrom(from) is { Count: > 0 } allowed
            ? string.Join(", ", allowed.Select(s => s.ToWire()))
            : "none"))
{
    public string Serial { get; } = serial;
    public MachineState From { get; } = from;
    public MachineState To { get; } = to;
}

/// <summary>No free address is left in the configured IPAM ranges.</summary>
public sealed class AddressPoolExhaustedException(string message) : InventoryException(message);

/// <summary>etcd could not be reached or did not answer in time.</summary>
public sealed class StoreUnavailableException(string message, Exception? inner = null) : InventoryException(message, inner)
{
    public override bool IsTransient => true;
}

/// <summary>
/// A write fenced on a leadership key was refused: this process is no longer (or never was) the leader it claimed to be.
/// Not transient: the caller must stop acting as leader.
/// </summary>
public sealed class NotLeaderException(string message) : InventoryException(message);
