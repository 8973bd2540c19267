using System.Text;

namespace NekkoMetal.Dhcp.Protocol;

/// <summary>
/// Option 119 domain search list (RFC 3397 §2): a sequence of RFC 1035 names, which may use
/// compression pointers relative to the start of the (concatenated) option value.
/// </summary>
internal static class DomainSearchList
{
    private const int MaxNameLength = 255;
    private const int MaxLabelLength = 63;

    /// <summary>
    /// Decodes all names. Every compression pointer must point before the start of the segment
    /// that is being read, so the walk strictly moves backwards and always ends.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> data, out List<string>? names)
    {
        names = null;
        var result = new List<string>();
        var position = 0;
        var name = new StringBuilder(64);
        while (position < data.Length)
        {
            name.Clear();
            if (!TryReadName(data, position, name, out var next))
            {
                return false;
            }

            result.Add(name.ToString());
            position = next;
        }

        names = result;
        return true;
    }

    private static bool TryReadName(ReadOnlySpan<byte> data, int start, StringBuilder name, out int next)
    {
        next = -1;
        var position = start;
        var lowestSegmentStart = start;
        var wireLength = 1;
        while (true)
        {
            if (position >= data.Length)
            {
                return false;
            }

            int length = data[position];
            if (length == 0)
            {
                if (next < 0)
                {
                    next = position + 1;
                }

                return true;
            }

            switch (length & 0xC0)
            {
                case 0xC0:
                    if (position + 1 >= data.Length)
                    {
                        return false;
                    }

                    var target = ((length & 0x3F) << 8) | data[position + 1];
                    if (target >= lowestSegmentStart)
                    {
                        return false;
                    }

                    if (next < 0)
                    {
                        next = position + 2;
                    }

                    lowestSegmentStart = target;
                    position = target;
                    continue;
                case 0x00:
                    break;
                default:
                    return false;
            }

            if (position + 1 + length > data.Length)
            {
                return false;
            }

            wireLength += 1 + length;
            if (wireLength > MaxNameLength)
            {
                return false;
            }

            var label = data.Slice(position + 1, length);
            if (label.Contains((byte)'.'))
            {
                return false;
            }

            if (name.Length > 0)
            {
                name.Append('.');
            }

            foreach (var b in label)
            {
                name.Append((char)b);
            }

            position += 1 + length;
        }
    }

    /// <summary>Encodes names without compression. Throws on a name that cannot be encoded.</summary>
    public static byte[] Encode(IEnumerable<string> names)
    {
        var buffer = new List<byte>();
        foreach (var name in names)
        {
            ArgumentNullException.ThrowIfNull(name, nameof(names));
            var trimmed = name.EndsWith('.') ? name[..^1] : name;
            var start = buffer.Count;
            if (trimmed.Length > 0)
            {
                foreach (var label in trimmed.Split('.'))
                {
                    if (label.Length is 0 or > MaxLabelLength)
                    {
                        throw new ArgumentException("A domain label is 1 to 63 characters long.", nameof(names));
                    }

                    buffer.Add((byte)label.Length);
                    foreach (var c in label)
                    {
                        buffer.Add(c <= 0x7F ? (byte)c : throw new ArgumentException("Domain names are ASCII.", nameof(names)));
                    }
                }
            }

            buffer.Add(0);
            if (buffer.Count - start > MaxNameLength)
            {
                throw new ArgumentException("A domain name is at most 255 bytes long.", nameof(names));
            }
        }

        return [.. buffer];
    }
}
