namespace NekkoMetal.NodeAgent.Facts;

/// <summary>Everything the agent reports about the machine it runs on. Values it could not read are null and say why in <see cref="Problems"/>.</summary>
/// <remarks>
/// <para><c>Macs</c>: Permanent MACs, on-board NICs before USB ones (the inventory's identity fallback takes the first).</para>
/// </remarks>
internal sealed record NodeFacts(
    SystemFacts System,
    CpuFacts? Cpu,
    MemoryFacts? Memory,
    IReadOnlyList<DiskFacts> Disks,
    IReadOnlyList<NicFacts> Nics,
    IReadOnlyList<string> Macs,
    OsFacts? Os,
    string? Kernel,
    IReadOnlyList<string> Problems);

/// <summary>SMBIOS as the kernel exposes it in /sys/class/dmi/id.</summary>
/// <remarks>
/// <para><c>Serial</c>: product_serial as the firmware reports it, placeholders included ("To be filled by O.E.M."): the inventory decides what is junk.</para>
/// <para><c>ChassisType</c>: SMBIOS chassis type name (DSP0134 §7.4.1), e.g. "Notebook", "Mini PC", "Rack Mount Chassis", "Other".</para>
/// </remarks>
internal sealed record SystemFacts(
    string? Vendor,
    string? Product,
    string? Serial,
    string? Uuid,
    string? BoardVendor,
    string? BoardName,
    string? BiosVendor,
    string? BiosVersion,
    string? ChassisType);

/// <summary>From /proc/cpuinfo.</summary>
/// <remarks>
/// <para><c>Sockets</c>: Distinct <c>physical id</c>s; 1 where cpuinfo has none (most arm64 kernels).</para>
/// <para><c>Cores</c>: Distinct (physical id, core id) pairs; equal to <see cref="Threads"/> where cpuinfo has no core ids.</para>
/// <para><c>Threads</c>: Logical processors (<c>processor</c> entries).</para>
/// </remarks>
internal sealed record CpuFacts(string? Vendor, string? Model, int Sockets, int Cores, int Threads);

/// <summary>From /proc/meminfo.</summary>
internal sealed record MemoryFacts(long TotalBytes, long? AvailableBytes, long? SwapTotalBytes);

/// <summary>A block device from /sys/block (loop, ram, zram, optical, floppy and device-less virtual devices are left out).</summary>
/// <remarks>
/// <para><c>Serial</c>: NVMe <c>device/serial</c>, virtio-blk <c>serial</c>, or the SCSI/SATA unit serial from VPD page 0x80; null where none is exposed.</para>
/// </remarks>
internal sealed record DiskFacts(string Name, long SizeBytes, bool Rotational, bool Removable, string? Vendor, string? Model, string? Serial);

/// <summary>A network interface backed by a device (virtual interfaces — lo, bridges, veth, ifb, tunnels — are left out).</summary>
/// <remarks>
/// <para><c>Mac</c>: The current address (<c>address</c>).</para>
/// <para><c>PermanentMac</c>: 
/// The burned-in address: <c>permaddr</c> from <c>ip -j link</c> (the kernel's IFLA_PERM_ADDRESS) where it differs from the
/// current one, else the current address when <c>addr_assign_type</c> is 0 (NET_ADDR_PERM); null when the address was
/// set, stolen (bond slaves) or random and no permaddr was reported.
/// </para>
/// <para><c>AddressAssignType</c>: perm, random, stolen, set, or unknown (<c>addr_assign_type</c> 0–3).</para>
/// <para><c>Link</c>: carrier: true/false, null when the interface is down (the kernel refuses the read).</para>
/// <para><c>CarrierUpCount</c>: how often the link came up since boot (<c>carrier_up_count</c>); 0 = a port never cabled.</para>
/// <para><c>SpeedMbps</c>: null when unknown (down links, virtio and Wi-Fi report -1 or refuse the read).</para>
/// <para><c>Bus</c>: Subsystem of the backing device: pci, usb, virtio, platform, ….</para>
/// </remarks>
internal sealed record NicFacts(
    string Name,
    string? Mac,
    string? PermanentMac,
    string AddressAssignType,
    bool? Link,
    int? CarrierUpCount,
    string? OperState,
    int? SpeedMbps,
    string? Driver,
    string? Bus,
    bool Wireless);

/// <summary>From /etc/os-release (os-release(5)).</summary>
internal sealed record OsFacts(string? Id, string? Name, string? VersionId, string? PrettyName);
