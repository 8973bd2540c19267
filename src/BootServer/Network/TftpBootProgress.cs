using System.Buffers.Binary;
using System.Net;
using NekkoMetal.Inventory.Boot;
using NekkoMetal.Inventory.Machines;
using NekkoMetal.Inventory.Storage;
using NekkoMetal.Tftp.Transport;

namespace NekkoMetal.BootServer.Network;

/// <summary>
/// Records the "nbp" boot stage when a network-boot program is sent over TFTP. TFTP knows only the client's
/// address, so the MAC comes from the DHCP lease of that address, or from the machine that owns it in IPAM.
/// </summary>
public sealed class TftpBootProgress(InventoryCache cache, BootProgressRecorder progress) : ITftpTransferObserver
{
    public void TransferStarted(IPEndPoint client, string path)
    {
        ArgumentNullException.ThrowIfNull(client);
        Span<byte> b = stackalloc byte[4];
        var ip = client.Address.IsIPv4MappedToIPv6 ? client.Address.MapToIPv4() : client.Address;
        if (!ip.TryWriteBytes(b, out var n) || n != 4)
        {
            return;
        }

        var address = BinaryPrimitives.ReadUInt32BigEndian(b);
        var mac = cache.Lease(address)?.Mac
            ?? (cache.OwnerOfAddress(address) is { } serial ? cache.GetMachine(serial)?.Macs is [var first, ..] ? first : null : null);
        if (mac is not null)
        {
            progress.Record(mac, BootStages.Nbp);
        }
    }
}
