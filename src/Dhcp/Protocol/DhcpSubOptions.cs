using System.Collections;

namespace NekkoMetal.Dhcp.Protocol;

/// <summary>
/// The code/length/value list inside an encapsulating option: 43 (vendor-specific, RFC 2132
/// §8.4), 82 (relay agent information, RFC 3046 §2.0) and 175 (iPXE). Code 0 is read as a pad and
/// 255 as the end, as in PXE and iPXE encapsulation. Each value is at most 255 bytes. Order kept.
/// </summary>
public sealed class DhcpSubOptions : IReadOnlyList<DhcpSubOption>
{
    private readonly List<DhcpSubOption> _items = [];

    public int Count => _items.Count;

    public DhcpSubOption this[int index] => _items[index];

    /// <summary>
    /// Decodes a sub-option list. Returns false (never throws) when a sub-option runs past the
    /// end or there are more than <see cref="DhcpLimits.MaxSubOptionCount"/>.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> value, DhcpLimits limits, out DhcpSubOptions? subOptions)
    {
        ArgumentNullException.ThrowIfNull(limits);
        subOptions = null;
        var result = new DhcpSubOptions();
        var i = 0;
        while (i < value.Length)
        {
            var code = value[i];
            if (code == 0)
            {
                i++;
                continue;
            }

            if (code == 255)
            {
                break;
            }

            if (i + 1 >= value.Length)
            {
                return false;
            }

            int length = value[i + 1];
            if (i + 2 + length > value.Length || result._items.Count >= limits.MaxSubOptionCount)
            {
                return false;
            }

            result._items.Add(new DhcpSubOption(code, value.Slice(i + 2, length).ToArray()));
            i += 2 + length;
        }

        subOptions = result;
        return true;
    }

    public bool Contains(byte code) => IndexOf(code) >= 0;

    public bool TryGet(byte code, out ReadOnlyMemory<byte> value)
    {
        var index = IndexOf(code);
        value = index >= 0 ? _items[index].Value : default;
        return index >= 0;
    }

    /// <summary>Appends a sub-option (duplicates allowed, as on the wire).</summary>
    public DhcpSubOptions Add(byte code, ReadOnlySpan<byte> value)
    {
        if (code is 0 or 255)
        {
            throw new ArgumentOutOfRangeException(nameof(code), code, "Codes 0 and 255 are pad and end.");
        }

        if (value.Length > 255)
        {
            throw new ArgumentException("A sub-option value is at most 255 bytes.", nameof(value));
        }

        _items.Add(new DhcpSubOption(code, value.ToArray()));
        return this;
    }

    public int GetEncodedLength()
    {
        var length = 0;
        foreach (var item in _items)
        {
            length += 2 + item.Value.Length;
        }

        return length;
    }

    public bool TryWrite(Span<byte> destination, out int bytesWritten)
    {
        bytesWritten = 0;
        if (destination.Length < GetEncodedLength())
        {
            return false;
        }

        var i = 0;
        foreach (var item in _items)
        {
            destination[i] = item.Code;
            destination[i + 1] = (byte)item.Value.Length;
            item.Value.Span.CopyTo(destination[(i + 2)..]);
            i += 2 + item.Value.Length;
        }

        bytesWritten = i;
        return true;
    }

    public byte[] ToArray()
    {
        var bytes = new byte[GetEncodedLength()];
        TryWrite(bytes, out _);
        return bytes;
    }

    public List<DhcpSubOption>.Enumerator GetEnumerator() => _items.GetEnumerator();

    IEnumerator<DhcpSubOption> IEnumerable<DhcpSubOption>.GetEnumerator() => GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private int IndexOf(byte code)
    {
        for (var i = 0; i < _items.Count; i++)
        {
            if (_items[i].Code == code)
            {
                return i;
            }
        }

        return -1;
    }
}
