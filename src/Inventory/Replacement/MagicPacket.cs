using System.Globalization;

namespace NekkoMetal.Inventory.Replacement;

/// <summary>
/// The Wake-on-LAN magic packet (AMD's "Magic Packet" white paper): six bytes 0xFF, then the target's MAC sixteen
/// times — 102 bytes, sent as a UDP broadcast (port 9, "discard", by convention; 7 also common). NICs look for the
/// pattern anywhere in the frame, so the UDP wrapping only has to reach the segment.
/// </summary>
public static class MagicPacket
{
    public const int Length = 6 + 16 * 6;

    /// <summary>The packet for <paramref name="mac"/> (<c>aa:bb:cc:dd:ee:ff</c> or with '-'); <see cref="FormatException"/> otherwise.</summary>
    public static byte[] Build(string mac)
    {
        var address = ParseMac(mac);
        var packet = new byte[Length];
        packet.AsSpan(0, 6).Fill(0xFF);
        for (var i = 0; i < 16; i++)
        {
            address.CopyTo(packet.AsSpan(6 + i * 6, 6));
        }

        return packet;
    }

    /// <summary>Whether <paramref name="packet"/> is exactly the magic packet for <paramref name="mac"/>.</summary>
    public static bool IsFor(ReadOnlySpan<byte> packet, string mac) => packet.SequenceEqual(Build(mac));

    private static byte[] ParseMac(string mac)
    {
        ArgumentNullException.ThrowIfNull(mac);
        var parts = mac.Split(':', '-');
        if (parts.Length != 6 || parts.Any(p => p.Length != 2))
        {
            throw new FormatException($"'{mac}' is not a MAC address (aa:bb:cc:dd:ee:ff)");
        }

        var bytes = new byte[6];
        for (var i = 0; i < 6; i++)
        {
            if (!byte.TryParse(parts[i], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out bytes[i]))
            {
                throw new FormatException($"'{mac}' is not a MAC address (aa:bb:cc:dd:ee:ff)");
            }
        }

        return bytes;
    }
}
