using NekkoMetal.NodeAgent.Facts;

namespace NekkoMetal.NodeAgent.Tests;

public class FactParserTests
{
    [Theory]
    [MemberData(nameof(Fixtures.All), MemberType = typeof(Fixtures))]
    public void Every_fixture_machine_yields_cpu_memory_a_disk_a_nic_os_and_kernel(string machine)
    {
        var facts = Fixtures.Facts(machine);

        Assert.NotNull(facts.Cpu);
        Assert.True(facts.Cpu.Threads >= facts.Cpu.Cores && facts.Cpu.Cores >= facts.Cpu.Sockets);
        Assert.NotNull(facts.Memory);
        Assert.True(facts.Memory.TotalBytes > 1L << 30);
        Assert.NotEmpty(facts.Disks);
        Assert.DoesNotContain(facts.Disks, d => d.Name.StartsWith("loop", StringComparison.Ordinal) || d.Name.StartsWith("zram", StringComparison.Ordinal));
        Assert.NotEmpty(facts.Nics);
        Assert.DoesNotContain(facts.Nics, n => n.Name == "lo");
        Assert.NotEmpty(facts.Macs);
        Assert.NotNull(facts.Os);
        Assert.NotNull(facts.Kernel);
    }

    [Fact]
    public void Laptop_ThinkPad_T480()
    {
        var facts = Fixtures.Facts(Fixtures.Laptop);

        Assert.Equal(new SystemFacts("LENOVO", "20L5CTO1WW", "PF1KX2Y7", "3a9c8e41-2f6b-11b2-a85c-e3b1f0d27c19", "LENOVO", "20L5CTO1WW", "LENOVO", "N24ET76W (1.51 )", "Notebook"), facts.System);
        Assert.Equal(new CpuFacts("GenuineIntel", "Intel(R) Core(TM) i5-8250U CPU @ 1.60GHz", 1, 4, 8), facts.Cpu);
        Assert.Equal(16231088L * 1024, facts.Memory!.TotalBytes);
        Assert.Equal(2097148L * 1024, facts.Memory.SwapTotalBytes);

        var nvme = Assert.Single(facts.Disks, d => d.Name == "nvme0n1");
        Assert.Equal(new DiskFacts("nvme0n1", 976773168L * 512, false, false, null, "Samsung SSD 970 EVO Plus 500GB", "S4EVNX0N716342W"), nvme);
        var stick = Assert.Single(facts.Disks, d => d.Name == "sda");
        Assert.True(stick.Removable);
        Assert.Equal("SanDisk", stick.Vendor);
        Assert.Equal("Cruzer Blade", stick.Model);
        Assert.Null(stick.Serial);

        var wifi = Assert.Single(facts.Nics, n => n.Name == "wlp3s0");
        Assert.True(wifi.Wireless);
        Assert.Equal("set", wifi.AddressAssignType);
        Assert.Equal("6a:2e:51:c0:3d:9b", wifi.Mac);
        Assert.Equal("e4:a7:a0:3f:12:6c", wifi.PermanentMac); // from ip -j link permaddr
        Assert.Null(wifi.SpeedMbps);
        Assert.Equal("iwlwifi", wifi.Driver);
        var wired = Assert.Single(facts.Nics, n => n.Name == "enp0s31f6");
        Assert.Equal(new NicFacts("enp0s31f6", "8c:16:45:5e:a1:07", "8c:16:45:5e:a1:07", "perm", false, 0, "down", null, "e1000e", "pci", false), wired);
        Assert.Equal(["8c:16:45:5e:a1:07", "e4:a7:a0:3f:12:6c"], facts.Macs);

        Assert.Equal(new OsFacts("ubuntu", "Ubuntu", "24.04", "Ubuntu 24.04.1 LTS"), facts.Os);
        Assert.Equal("6.8.0-49-generic", facts.Kernel);
        Assert.Empty(facts.Problems);
    }

    [Fact]
    public void Mini_pc_with_placeholder_smbios_a_sata_ssd_and_a_usb_nic()
    {
        var facts = Fixtures.Facts(Fixtures.MiniPc);

        Assert.Equal("Default string", facts.System.Serial); // reported as is: the inventory decides it is junk
        Assert.Equal("03000200-0400-0500-0006-000700080009", facts.System.Uuid);
        Assert.Equal("Mini PC", facts.System.ChassisType);
        Assert.Equal(new CpuFacts("GenuineIntel", "Intel(R) N100", 1, 4, 4), facts.Cpu);

        var ssd = Assert.Single(facts.Disks);
        Assert.Equal(new DiskFacts("sda", 1000215216L * 512, false, false, "ATA", "NGFF 2280 512GB", "AA000000000000004161"), ssd); // serial from VPD page 0x80

        Assert.Equal(["enp1s0", "enx00e04c680001", "wlo1"], facts.Nics.Select(n => n.Name));
        var wifi = facts.Nics.Single(n => n.Name == "wlo1");
        Assert.Null(wifi.Link); // administratively down: carrier unreadable
        Assert.Equal("usb", facts.Nics.Single(n => n.Name == "enx00e04c680001").Bus);
        Assert.Equal(1000, facts.Nics.Single(n => n.Name == "enp1s0").SpeedMbps);
        // on-board first, Wi-Fi next, the USB dongle last: a dongle must never become the identity
        Assert.Equal(["7c:83:34:b9:20:4e", "f4:6d:3f:22:90:5a", "00:e0:4c:68:00:01"], facts.Macs);
        Assert.Equal("debian", facts.Os!.Id);
    }

    [Fact]
    public void Server_with_two_sockets_sas_disks_nvme_and_a_bond()
    {
        var facts = Fixtures.Facts(Fixtures.Server);

        Assert.Equal("7XK2M93", facts.System.Serial);
        Assert.Equal("Rack Mount Chassis", facts.System.ChassisType);
        Assert.Equal(new CpuFacts("GenuineIntel", "Intel(R) Xeon(R) Silver 4214 CPU @ 2.20GHz", 2, 24, 48), facts.Cpu);
        Assert.Equal(197588476L * 1024, facts.Memory!.TotalBytes);

        Assert.Equal(["nvme0n1", "sda", "sdb", "sdc"], facts.Disks.Select(d => d.Name)); // dm-0 and md0 have no device
        Assert.Equal("ZC1A2B3C0000C9283F1A", facts.Disks.Single(d => d.Name == "sda").Serial);
        Assert.True(facts.Disks.Single(d => d.Name == "sda").Rotational);
        Assert.Equal("SEAGATE", facts.Disks.Single(d => d.Name == "sda").Vendor);
        Assert.Equal(7814037168L * 512, facts.Disks.Single(d => d.Name == "sdb").SizeBytes);
        Assert.Equal("PHYF914501BK960CGN", facts.Disks.Single(d => d.Name == "sdc").Serial);
        Assert.Equal("PHLN012345671P6AGN", facts.Disks.Single(d => d.Name == "nvme0n1").Serial);
        Assert.Equal("Dell Express Flash NVMe P4610 1.6TB SFF", facts.Disks.Single(d => d.Name == "nvme0n1").Model);

        Assert.Equal(["eno1", "eno2", "eno3", "eno4"], facts.Nics.Select(n => n.Name)); // bond0 is virtual
        var eno2 = facts.Nics.Single(n => n.Name == "eno2");
        Assert.Equal("b4:96:91:3c:5a:e0", eno2.Mac); // the bond's address
        Assert.Equal("b4:96:91:3c:5a:e1", eno2.PermanentMac); // its own, from permaddr
        Assert.Equal(10000, facts.Nics.Single(n => n.Name == "eno1").SpeedMbps);
        Assert.Equal(["b4:96:91:3c:5a:e0", "b4:96:91:3c:5a:e1", "b4:96:91:3c:5a:e2", "b4:96:91:3c:5a:e3"], facts.Macs);
        Assert.Equal(new OsFacts("rocky", "Rocky Linux", "9.4", "Rocky Linux 9.4 (Blue Onyx)"), facts.Os);
    }

    [Fact]
    public void Qemu_vm_with_virtio_and_default_smbios()
    {
        var facts = Fixtures.Facts(Fixtures.QemuVm);

        Assert.Equal("QEMU", facts.System.Vendor);
        Assert.Equal("Standard PC (i440FX + PIIX, 1996)", facts.System.Product);
        Assert.Null(facts.System.Serial); // QEMU sets none without -smbios type=1,serial=
        Assert.Null(facts.System.BoardVendor);
        Assert.Equal("Other", facts.System.ChassisType);
        Assert.Equal(new CpuFacts("AuthenticAMD", "QEMU Virtual CPU version 2.5+", 1, 2, 2), facts.Cpu);

        var vda = Assert.Single(facts.Disks); // sr0 and fd0 are left out
        Assert.Equal(new DiskFacts("vda", 20L << 30, true, false, null, null, "nekko-vm-disk0"), vda);
        var nic = Assert.Single(facts.Nics);
        Assert.Equal(new NicFacts("ens3", "52:54:00:12:34:56", "52:54:00:12:34:56", "perm", true, 1, "up", null, "virtio_net", "virtio", false), nic);
    }

    [Fact]
    public void Firecracker_vm_captured_from_this_machine_has_no_smbios_and_says_so()
    {
        var facts = Fixtures.Facts(Fixtures.FirecrackerVm);

        Assert.Equal(new SystemFacts(null, null, null, null, null, null, null, null, null), facts.System);
        Assert.Contains(facts.Problems, p => p.Contains("no SMBIOS", StringComparison.Ordinal));
        Assert.Equal(new CpuFacts("AuthenticAMD", "AMD EPYC", 1, 2, 2), facts.Cpu);
        var vda = Assert.Single(facts.Disks);
        Assert.Equal("vda", vda.Name);
        Assert.Null(vda.Vendor); // virtio's 0x1af4 is an id, not a name
        var eth0 = Assert.Single(facts.Nics); // ifb0/ifb1/lo are virtual
        Assert.Equal("virtio_net", eth0.Driver);
        Assert.Null(eth0.SpeedMbps); // virtio reports -1
        Assert.Equal("debian", facts.Os!.Id);
    }

    [Fact]
    public void Empty_root_gives_nulls_and_problems_never_an_exception()
    {
        var empty = Directory.CreateTempSubdirectory("nekko-agent-empty-");
        try
        {
            var facts = new FactCollector(new Platform.HostRoot(empty.FullName)).Collect();

            Assert.Null(facts.Cpu);
            Assert.Null(facts.Memory);
            Assert.Null(facts.Os);
            Assert.Null(facts.Kernel);
            Assert.Empty(facts.Disks);
            Assert.Empty(facts.Nics);
            Assert.Equal(6, facts.Problems.Count);
        }
        finally
        {
            empty.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("garbage without colons\n\n")]
    [InlineData("vendor_id\t: GenuineIntel\n")]
    public void Cpuinfo_without_processors_is_null(string? text) => Assert.Null(CpuInfoParser.Parse(text));

    [Fact]
    public void Arm64_cpuinfo_without_model_name_or_topology_counts_threads()
    {
        const string text = "processor\t: 0\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm crc32 cpuid\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: 0xd08\nCPU revision\t: 3\n\n" +
                            "processor\t: 1\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm crc32 cpuid\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: 0xd08\nCPU revision\t: 3\n\n";
        Assert.Equal(new CpuFacts("0x41", null, 1, 2, 2), CpuInfoParser.Parse(text));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("MemFree: 12 kB\n")]
    [InlineData("MemTotal: lots kB\n")]
    [InlineData("MemTotal: 99999999999999999999 kB\n")]
    public void Meminfo_without_a_usable_total_is_null(string? text) => Assert.Null(MemInfoParser.Parse(text));

    [Fact]
    public void Os_release_quoting_and_comments()
    {
        const string text = "# comment\nNAME='Single Quoted'\nID=plain\nPRETTY_NAME=\"A \\\"quoted\\\" \\$name\"\nVERSION_ID=\"1.0\"\nbroken line\n";
        Assert.Equal(new OsFacts("plain", "Single Quoted", "1.0", "A \"quoted\" $name"), OsReleaseParser.Parse(text));
        Assert.Null(OsReleaseParser.Parse(""));
        Assert.Null(OsReleaseParser.Parse(null));
    }

    [Theory]
    [InlineData("3", "Desktop")]
    [InlineData("10", "Notebook")]
    [InlineData("35", "Mini PC")]
    [InlineData("23", "Rack Mount Chassis")]
    [InlineData("138", "Notebook")] // lock bit set (the kernel masks it already; a raw byte would carry it)
    [InlineData("99", "type 99")]
    [InlineData("x", null)]
    [InlineData(null, null)]
    public void Chassis_types_follow_smbios(string? raw, string? expected) => Assert.Equal(expected, DmiParser.ChassisName(raw));

    [Theory]
    [InlineData(new byte[] { 0x00, 0x80, 0x00, 0x04, (byte)'A', (byte)'B', (byte)'C', (byte)' ' }, "ABC")]
    [InlineData(new byte[] { 0x00, 0x80, 0x00, 0x40, (byte)'A', (byte)'B' }, "AB")] // length beyond the buffer is clamped
    [InlineData(new byte[] { 0x00, 0x83, 0x00, 0x02, (byte)'A', (byte)'B' }, null)] // not page 0x80
    [InlineData(new byte[] { 0x00, 0x80 }, null)]
    [InlineData(new byte[] { 0x00, 0x80, 0x00, 0x00 }, null)]
    public void Vpd_page_80_serial(byte[] page, string? expected) => Assert.Equal(expected, BlockDeviceParser.UnitSerial(page));

    [Fact]
    public void Disk_with_unreadable_size_is_left_out()
    {
        Assert.Null(BlockDeviceParser.Parse(new BlockDeviceFiles("sda", true, null, "1", "0", null, null, null, null, null)));
        Assert.Null(BlockDeviceParser.Parse(new BlockDeviceFiles("sda", true, "-5", "1", "0", null, null, null, null, null)));
        Assert.Null(BlockDeviceParser.Parse(new BlockDeviceFiles("sda", true, "99999999999999999999", "1", "0", null, null, null, null, null)));
    }

    [Theory]
    [InlineData("AA:BB:CC:DD:EE:FF\n", "aa:bb:cc:dd:ee:ff")]
    [InlineData("00:00:00:00:00:00", null)]
    [InlineData("aa:bb:cc:dd:ee", null)]
    [InlineData("aa-bb-cc-dd-ee-ff", null)]
    [InlineData("zz:bb:cc:dd:ee:ff", null)]
    [InlineData(null, null)]
    public void Mac_normalization(string? raw, string? expected) => Assert.Equal(expected, NetworkInterfaceParser.NormalizeMac(raw));

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("{\"ifname\":\"eth0\"}")]
    [InlineData("[1, \"x\", {\"ifname\": 3, \"permaddr\": \"aa:bb:cc:dd:ee:ff\"}]")]
    public void Ip_link_json_that_is_not_ips_gives_no_permanent_addresses(string json) =>
        Assert.Empty(NetworkInterfaceParser.ParsePermanentAddresses(json));

    [Fact]
    public void Nic_with_a_set_address_and_no_permaddr_has_no_permanent_mac()
    {
        var nic = NetworkInterfaceParser.Parse(new NetworkInterfaceFiles("eth0", true, "02:00:00:00:00:01\n", "3\n", "1\n", "1\n", "up\n", "1000\n", "1\n", "e1000e", "pci", "INTERFACE=eth0\n", false, null));
        Assert.NotNull(nic);
        Assert.Null(nic.PermanentMac);
        Assert.Equal("set", nic.AddressAssignType);
    }

    [Fact]
    public void Non_ethernet_links_are_left_out() =>
        Assert.Null(NetworkInterfaceParser.Parse(new NetworkInterfaceFiles("ib0", true, "80:00:00:48:fe:80:00:00:00:00:00:00:00:02:c9:03:00:0f:0c:d1", "0", "1", "1", "up", "40000", "32", "mlx4_core", "pci", null, false, null)));
}
