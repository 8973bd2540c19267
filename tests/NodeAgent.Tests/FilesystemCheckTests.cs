using NekkoMetal.NodeAgent.Checks;
using NekkoMetal.NodeAgent.Platform;

namespace NekkoMetal.NodeAgent.Tests;

public class FilesystemCheckTests
{
    private const ulong GiB = 1UL << 30;

    private static Dictionary<string, FilesystemUsage> Usage(params (string Mount, double FreePercent, double InodesFreePercent)[] mounts) =>
        mounts.ToDictionary(m => m.Mount, m => new FilesystemUsage(100 * GiB, (ulong)(m.FreePercent * GiB), 1_000_000, (ulong)(m.InodesFreePercent * 10_000), false));

    private static string Mountinfo(string machine) => Fixtures.Host(machine).ReadText("/proc/self/mountinfo")!;

    [Fact]
    public void Ok_when_every_disk_filesystem_is_writable_with_space()
    {
        var result = FilesystemCheck.Evaluate(Mountinfo(Fixtures.Laptop), Usage(("/", 40, 80), ("/boot/efi", 70, 90), ("/media/nekko/SANDISK 16G", 50, 50)), Fixtures.Defaults);

        Assert.Equal(CheckStatus.Ok, result.Status);
        Assert.Equal("3 filesystem(s) writable with enough free space", result.Message); // snaps (squashfs, ro) are not disk filesystems
    }

    [Fact]
    public void Warning_when_free_space_is_below_the_warning_threshold()
    {
        var result = FilesystemCheck.Evaluate(Mountinfo(Fixtures.MiniPc), Usage(("/", 12, 80), ("/boot/efi", 70, 90)), Fixtures.Defaults);

        Assert.Equal(CheckStatus.Warning, result.Status);
        Assert.Equal("/ 12% free (12 GiB of 100 GiB)", result.Message);
    }

    [Fact]
    public void Warning_when_inodes_run_low()
    {
        var result = FilesystemCheck.Evaluate(Mountinfo(Fixtures.MiniPc), Usage(("/", 50, 8), ("/boot/efi", 70, 90)), Fixtures.Defaults);

        Assert.Equal(CheckStatus.Warning, result.Status);
        Assert.Contains("inodes free", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Critical_when_free_space_is_below_the_critical_threshold()
    {
        var result = FilesystemCheck.Evaluate(Mountinfo(Fixtures.QemuVm), Usage(("/", 2, 80)), Fixtures.Defaults);

        Assert.Equal(CheckStatus.Critical, result.Status);
        Assert.StartsWith("/ 2% free", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Critical_when_a_disk_filesystem_was_remounted_read_only()
    {
        var usage = Usage(("/", 60, 80), ("/boot", 80, 99), ("/var/lib/data", 40, 90), ("/var/lib/containerd", 70, 90));
        var result = FilesystemCheck.Evaluate(Mountinfo(Fixtures.Server), usage, Fixtures.Defaults);

        Assert.Equal(CheckStatus.Critical, result.Status);
        Assert.Equal("/var/lib/data (/dev/md0, xfs) is mounted read-only (remounted after errors?)", result.Message);
    }

    [Fact]
    public void A_read_only_bind_of_a_writable_filesystem_is_deliberate_not_an_error()
    {
        // As systemd-nspawn binds host files into a container (seen on the test nodes): the mount is ro, the ext4 under it rw.
        const string mountinfo = """
            291 270 254:0 /var/tmp/nodes/n0/merged / rw,relatime - ext4 /dev/vda rw
            296 291 254:0 /usr/lib/os-release /run/host/os-release ro,nosuid,nodev,noexec,relatime - ext4 /dev/vda rw
            297 291 254:0 /run/systemd/nspawn/propagate/n0 /run/host/incoming ro,relatime master:1 - ext4 /dev/vda rw
            """;

        var result = FilesystemCheck.Evaluate(mountinfo, Usage(("/", 60, 80), ("/run/host/os-release", 60, 80), ("/run/host/incoming", 60, 80)), Fixtures.Defaults);

        Assert.Equal(CheckStatus.Ok, result.Status);
    }

    [Fact]
    public void Read_only_mounts_listed_as_expected_are_fine()
    {
        var usage = Usage(("/", 60, 80), ("/boot", 80, 99), ("/var/lib/data", 40, 90), ("/var/lib/containerd", 70, 90));
        var thresholds = new HealthThresholds { ExpectedReadOnlyMounts = ["/var/lib/data"] };

        Assert.Equal(CheckStatus.Ok, FilesystemCheck.Evaluate(Mountinfo(Fixtures.Server), usage, thresholds).Status);
    }

    [Fact]
    public void Unknown_when_mountinfo_is_unreadable()
    {
        var result = FilesystemCheck.Evaluate(null, Usage(), Fixtures.Defaults);

        Assert.Equal(new CheckResult("filesystem", CheckStatus.Unknown, "/proc/self/mountinfo is unreadable"), result);
    }

    [Fact]
    public void Unknown_when_statvfs_failed_everywhere()
    {
        var result = FilesystemCheck.Evaluate(Mountinfo(Fixtures.QemuVm), Usage(), Fixtures.Defaults);

        Assert.Equal(CheckStatus.Unknown, result.Status);
        Assert.Equal("/: statvfs failed", result.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("garbage\n1 2 3\n")]
    [InlineData("36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - tmpfs tmpfs rw\n")]
    public void Unknown_when_mountinfo_has_no_disk_filesystem(string mountinfo) =>
        Assert.Equal(CheckStatus.Unknown, FilesystemCheck.Evaluate(mountinfo, Usage(), Fixtures.Defaults).Status);

    [Fact]
    public void Mountinfo_parsing_decodes_octal_escapes_and_optional_fields()
    {
        var entries = FilesystemCheck.ParseMountInfo("36 35 98:0 /mnt1 /mnt\\0402 ro,noatime master:1 shared:2 - ext3 /dev/root rw,errors=continue\n");

        Assert.Equal([new MountEntry("98:0", "/mnt 2", "ext3", "/dev/root", true)], entries);
    }

    [Fact]
    public void Bind_mounts_of_one_filesystem_count_its_space_once()
    {
        // the captured VM: / and a bind mount of /run/netns, both /dev/vda
        var result = FilesystemCheck.Evaluate(Mountinfo(Fixtures.FirecrackerVm), Usage(("/", 50, 50)), Fixtures.Defaults);

        Assert.Equal(CheckStatus.Ok, result.Status);
        Assert.Equal("1 filesystem(s) writable with enough free space", result.Message);
    }

    [Fact]
    public void Live_statvfs_of_the_root_filesystem()
    {
        var usage = StatVfs.TryGet("/");

        Assert.NotNull(usage);
        Assert.True(usage.TotalBytes > 0 && usage.AvailableBytes <= usage.TotalBytes);
        Assert.Null(StatVfs.TryGet("/nonexistent/nekko"));
    }
}
