using System.Text.Json.Nodes;
using NekkoMetal.NodeAgent.Checks;

namespace NekkoMetal.NodeAgent.Tests;

public class DiskKernelLogCheckTests
{
    private static readonly TimeSpan Day = TimeSpan.FromHours(24);

    [Fact]
    public void Errors_older_than_the_window_are_not_judged()
    {
        var log = Fixtures.Command(Fixtures.Server, "dmesg.txt");

        // the server's errors are at 7302 s after boot; a day and a bit later they are history
        Assert.Equal(new CheckResult("disk-kernel-log", CheckStatus.Ok, "no disk or filesystem errors in the kernel log of the last 24 h"), DiskKernelLogCheck.Evaluate(log, null, 7302 + 90_000, Day));
        var recent = DiskKernelLogCheck.Evaluate(log, null, 7400, Day);
        Assert.Equal(CheckStatus.Critical, recent.Status);
        Assert.Contains("in the kernel log since boot", recent.Message, StringComparison.Ordinal); // booted less than a window ago
        Assert.Equal(CheckStatus.Critical, DiskKernelLogCheck.Evaluate("I/O error, dev sda, sector 8 op 0x0:(READ)\n", null, 1e9, Day).Status); // no stamp: always judged
    }

    [Theory]
    [InlineData("350735.47 234388.90\n", 350735.47)]
    [InlineData("12 3", 12.0)]
    [InlineData("", null)]
    [InlineData(null, null)]
    [InlineData("x y", null)]
    public void Uptime_parsing(string? text, double? expected) => Assert.Equal(expected, DiskKernelLogCheck.Uptime(text));

    [Fact]
    public void Ok_when_the_log_has_no_disk_errors()
    {
        var result = DiskKernelLogCheck.Evaluate(Fixtures.Command(Fixtures.Laptop, "dmesg.txt"), null, null, Day);

        Assert.Equal(new CheckResult("disk-kernel-log", CheckStatus.Ok, "no disk or filesystem errors in the kernel log since boot"), result);
    }

    [Fact]
    public void Ok_when_only_floppy_and_optical_drives_complain()
    {
        // QEMU's empty fd0 and sr0 log I/O errors on every boot
        var result = DiskKernelLogCheck.Evaluate(Fixtures.Command(Fixtures.QemuVm, "dmesg.txt"), null, null, Day);

        Assert.Equal(CheckStatus.Ok, result.Status);
    }

    [Fact]
    public void Warning_on_sata_link_resets()
    {
        var result = DiskKernelLogCheck.Evaluate(Fixtures.Command(Fixtures.MiniPc, "dmesg.txt"), null, null, Day);

        Assert.Equal(CheckStatus.Warning, result.Status);
        Assert.StartsWith("4 disk warning line(s)", result.Message, StringComparison.Ordinal);
        Assert.Contains("ata1.00: exception Emask 0x10", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Critical_on_medium_errors_and_filesystem_corruption()
    {
        var result = DiskKernelLogCheck.Evaluate(Fixtures.Command(Fixtures.Server, "dmesg.txt"), null, null, Day);

        Assert.Equal(CheckStatus.Critical, result.Status);
        Assert.StartsWith("5 disk error line(s) in the kernel log since boot, first: [ 7302.118238] sd 0:0:1:0: [sdb] tag#412 Sense Key : Medium Error", result.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[ 12.3] blk_update_request: I/O error, dev sda, sector 2048 op 0x0:(READ) flags 0x0 phys_seg 1 prio class 0")]
    [InlineData("[ 12.3] Buffer I/O error on dev sda1, logical block 0, async page read")]
    [InlineData("[ 12.3] EXT4-fs error (device nvme0n1p2): ext4_find_entry:1683: inode #2: comm ls: reading directory lblock 0")]
    [InlineData("[ 12.3] EXT4-fs (sda1): Remounting filesystem read-only")]
    [InlineData("[ 12.3] BTRFS error (device sdb1): bdev /dev/sdb1 errs: wr 0, rd 1, flush 0, corrupt 0, gen 0")]
    [InlineData("[ 12.3] ata3.00: error: { UNC }")]
    [InlineData("[ 12.3] nvme0n1: I/O Cmd(0x2) @ LBA 1000, 8 blocks, I/O Error (sct 0x2 / sc 0x81) DNR")]
    public void Critical_kernel_messages(string line) =>
        Assert.Equal(CheckStatus.Critical, DiskKernelLogCheck.Evaluate(line + "\n", null, null, Day).Status);

    [Fact]
    public void Unknown_when_dmesg_is_unavailable()
    {
        var result = DiskKernelLogCheck.Evaluate(null, "dmesg failed: dmesg: read kernel buffer failed: Operation not permitted", null, Day);

        Assert.Equal(CheckStatus.Unknown, result.Status);
        Assert.Equal("dmesg failed: dmesg: read kernel buffer failed: Operation not permitted", result.Message);
    }
}

public class SmartCheckTests
{
    private static SmartReport Report(string machine, string disk) => new("/dev/" + disk, Fixtures.Command(machine, $"smartctl-{disk}.json"), null);

    [Fact]
    public void Ok_when_every_disk_passes()
    {
        var result = SmartCheck.Evaluate([Report(Fixtures.MiniPc, "sda")]);

        Assert.Equal(new CheckResult("disk-smart", CheckStatus.Ok, "/dev/sda: SMART passed"), result);
    }

    [Fact]
    public void Warning_on_grown_defects_of_a_sas_disk()
    {
        var server = new[] { "sda", "sdb", "sdc", "nvme0n1" }.Select(d => Report(Fixtures.Server, d)).ToList();

        var result = SmartCheck.Evaluate(server);

        Assert.Equal(new CheckResult("disk-smart", CheckStatus.Warning, "/dev/sdb: SCSI grown defect list = 12"), result);
    }

    [Fact]
    public void Warning_on_reallocated_sectors()
    {
        var document = JsonNode.Parse(Fixtures.Command(Fixtures.MiniPc, "smartctl-sda.json")!)!;
        var reallocated = document["ata_smart_attributes"]!["table"]!.AsArray().Single(a => (int)a!["id"]! == 5)!;
        reallocated["raw"]!["value"] = 8;
        var json = document.ToJsonString();
        var result = SmartCheck.Evaluate([new SmartReport("/dev/sda", json, null)]);

        Assert.Equal(CheckStatus.Warning, result.Status);
        Assert.Contains("Reallocated_Sector_Ct = 8", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Critical_when_the_overall_assessment_failed()
    {
        const string json = """{"smartctl":{"version":[7,3],"exit_status":8},"device":{"name":"/dev/sda"},"smart_status":{"passed":false}}""";

        var result = SmartCheck.Evaluate([new SmartReport("/dev/sda", json, null), Report(Fixtures.MiniPc, "sda")]);

        Assert.Equal(new CheckResult("disk-smart", CheckStatus.Critical, "/dev/sda: SMART overall-health self-assessment FAILED"), result);
    }

    [Fact]
    public void Critical_on_an_nvme_critical_warning_or_spare_below_threshold()
    {
        const string json = """{"smart_status":{"passed":true},"nvme_smart_health_information_log":{"critical_warning":4,"available_spare":5,"available_spare_threshold":10,"percentage_used":97,"media_errors":3}}""";

        var result = SmartCheck.Evaluate([new SmartReport("/dev/nvme0n1", json, null)]);

        Assert.Equal(CheckStatus.Critical, result.Status);
        Assert.Equal("/dev/nvme0n1: NVMe critical_warning 0x04, NVMe available spare 5% below threshold 10%, NVMe media errors = 3, NVMe wear 97% of rated endurance used", result.Message);
    }

    [Fact]
    public void Critical_when_an_attribute_is_failing_now()
    {
        const string json = """{"smart_status":{"passed":true},"ata_smart_attributes":{"table":[{"id":3,"name":"Spin_Up_Time","when_failed":"now","raw":{"value":0}}]}}""";

        Assert.Equal(CheckStatus.Critical, SmartCheck.Evaluate([new SmartReport("/dev/sda", json, null)]).Status);
    }

    [Fact]
    public void Unknown_when_smartctl_is_not_installed() =>
        Assert.Equal(new CheckResult("disk-smart", CheckStatus.Unknown, "smartctl is not installed (Debian: smartmontools)"), SmartCheck.Evaluate(null));

    [Fact]
    public void Unknown_for_a_virtio_disk_without_smart()
    {
        var result = SmartCheck.Evaluate([Report(Fixtures.QemuVm, "vda")]);

        Assert.Equal(new CheckResult("disk-smart", CheckStatus.Unknown, "/dev/vda: no SMART status (/dev/vda: Unable to detect device type)"), result);
    }

    [Theory]
    [InlineData("")]
    [InlineData("smartctl 6.6 2017-11-05 r4594 [x86_64-linux] (local build)\n=== START OF READ SMART DATA SECTION ===")]
    [InlineData("[1,2,3]")]
    [InlineData("{\"smart_status\":{\"passed\":\"yes\"}}")]
    public void Unknown_for_output_that_is_not_smartctl_json(string output) =>
        Assert.Equal(CheckStatus.Unknown, SmartCheck.Evaluate([new SmartReport("/dev/sda", output, null)]).Status);

    [Fact]
    public void Unknown_when_smartctl_timed_out() =>
        Assert.Equal(new CheckResult("disk-smart", CheckStatus.Unknown, "/dev/sda: smartctl timed out"), SmartCheck.Evaluate([new SmartReport("/dev/sda", null, "smartctl timed out")]));
}
