using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NekkoMetal.Tftp.Protocol;

namespace NekkoMetal.Tftp.Tests.Protocol;

/// <summary>Random and mutated datagrams never make the codec throw; whatever parses re-encodes and parses again.</summary>
public class TftpFuzzTests
{
    private static readonly byte[][] Seeds =
    [
        Wire.Of(Wire.Rrq("pxelinux.0", "octet", "tsize", "0", "blksize", "1468", "windowsize", "8")),
        Wire.Of(Wire.Rrq("boot/grub/x86_64-efi/normal.mod")),
        Wire.Of("\0\u0003\0\u0001hello"),
        Wire.Of("\0\u0004\0\u0001"),
        Wire.Of("\0\u0005\0\u0001File not found\0"),
        Wire.Of("\0\u0006blksize\01468\0tsize\0123\0"),
    ];

    [Property(MaxTest = 3000)]
    public void RandomDatagrams_NeverThrow(byte[] datagram) => ParseAndReencode(datagram ?? []);

    [Property(MaxTest = 3000)]
    public void RandomDatagramsWithValidOpcode_NeverThrow(byte opcode, byte[] body) =>
        ParseAndReencode([0, (byte)(opcode % 7), .. body ?? []]);

    [Property(MaxTest = 5000)]
    public Property MutatedValidPackets_NeverThrow() =>
        Prop.ForAll(
            Gen.Choose(0, Seeds.Length - 1).ToArbitrary(),
            ArbMap.Default.ArbFor<(int Position, byte Value)[]>(),
            Gen.Choose(0, 64).ToArbitrary(),
            (seed, mutations, cut) =>
            {
                var datagram = (byte[])Seeds[seed].Clone();
                foreach (var (position, value) in mutations ?? [])
                {
                    datagram[Math.Abs(position % datagram.Length)] = value;
                }

                ParseAndReencode(datagram.AsSpan(0, Math.Max(0, datagram.Length - cut)).ToArray());
            });

    private static void ParseAndReencode(byte[] datagram)
    {
        var limits = new TftpLimits { MaxOptions = 4, MaxFileNameLength = 32, MaxOptionLength = 16, MaxBlockSize = 512 };
        if (!TftpPacket.TryParse(datagram, limits, out var packet, out var error))
        {
            Assert.NotEqual(TftpParseError.None, error);
            return;
        }

        var buffer = new byte[packet.GetEncodedLength()];
        Assert.True(packet.TryWrite(buffer, out _));
        // Re-encoding may lengthen an ERROR (U+FFFD for bad UTF-8, the final NUL): parse it back with the default limits.
        Assert.True(TftpPacket.TryParse(buffer, TftpLimits.Default, out var again, out var error2), error2.ToString());
        Assert.Equal(packet.Opcode, again.Opcode);
    }
}
