namespace NekkoMetal.Inventory.Ipam;

/// <summary>
/// Picks the lowest free address of a subnet's range. Pure: the caller says which addresses are taken
/// (etcd's view from the cache plus what this process has in flight); etcd's create-if-absent transaction
/// on the address key is what makes an address unique across boot servers.
/// </summary>
public static class AddressAllocator
{
    public static uint? FindFree(ResolvedSubnet subnet, Func<uint, bool> isTaken)
    {
        for (var a = subnet.RangeStart; a <= subnet.RangeEnd && a >= subnet.RangeStart; a++)
        {
            if (a == subnet.Gateway)
            {
                continue;
            }

            if (!isTaken(a))
            {
                return a;
            }
        }

        return null;
    }
}
