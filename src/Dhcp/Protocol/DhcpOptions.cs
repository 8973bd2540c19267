using System.Buffers.Binary;
using System.Collections;
using System.Net;
using System.Text;

namespace NekkoMetal.Dhcp.Protocol;

/// <summary>
/// The options of a message, in wire order, one entry per code. Every option is kept, unknown
/// ones byte-exact. On decode, repeated occurrences of a code are concatenated (RFC 3396 §7) at the
/// position of the first one; on encode, values longer than 255 bytes are split. Pad (0), end (255)
/// and option overload (52) are framing and never stored.
/// </summary>
/// <remarks>
/// Typed accessors return null when the option is absent or its value is malformed (wrong length,
/// bad encoding); setting null removes the option. A newly added option goes last, but before
/// option 82, which RFC 3046 §2.2 wants last in a reply.
/// </remarks>
public sealed class DhcpOptions : IReadOnlyList<DhcpOption>
{
    private readonly List<DhcpOption> _items = [];

    public int Count => _items.Count;

    public DhcpOption this[int index] => _items[index];

    public bool Contains(DhcpOptionCode code) => IndexOf(code) >= 0;

    public bool TryGet(DhcpOptionCode code, out ReadOnlyMemory<byte> value)
    {
        var index = IndexOf(code);
        value = index >= 0 ? _items[index].Value : default;
        return index >= 0;
    }

    /// <summary>The value of an option, or an empty span when absent (see <see cref="Contains"/>).</summary>
    public ReadOnlySpan<byte> GetSpan(DhcpOptionCode code)
    {
        var index = IndexOf(code);
        return index >= 0 ? _items[index].Value.Span : default;
    }

    /// <summary>Sets an option (the value is copied): replaced where it is, or added.</summary>
    public void Set(DhcpOptionCode code, ReadOnlySpan<byte> value) => SetOwned(code, value.ToArray());

    public bool Remove(DhcpOptionCode code)
    {
        var index = IndexOf(code);
        if (index < 0)
        {
            return false;
        }

        _items.RemoveAt(index);
        return true;
    }

    public void Clear() => _items.Clear();

    public List<DhcpOption>.Enumerator GetEnumerator() => _items.GetEnumerator();

    IEnumerator<DhcpOption> IEnumerable<DhcpOption>.GetEnumerator() => GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Option 53 (RFC 2132 §9.6).</summary>
    public DhcpMessageType? MessageType
    {
        get => GetSpan(DhcpOptionCode.DhcpMessageType) is [var b] ? (DhcpMessageType)b : null;
        set => SetOrRemove(DhcpOptionCode.DhcpMessageType, value is { } v ? [(byte)v] : null);
    }

    /// <summary>Option 54 (RFC 2132 §9.7).</summary>
    public IPAddress? ServerIdentifier
    {
        get => GetAddress(DhcpOptionCode.ServerIdentifier);
        set => SetAddress(DhcpOptionCode.ServerIdentifier, value);
    }

    /// <summary>Option 51 in seconds (RFC 2132 §9.2); <see cref="uint.MaxValue"/> is infinite.</summary>
    public uint? LeaseTimeSeconds
    {
        get => GetUInt32(DhcpOptionCode.IPAddressLeaseTime);
        set => SetUInt32(DhcpOptionCode.IPAddressLeaseTime, value);
    }

    /// <summary>Option 58, T1, in seconds (RFC 2132 §9.11).</summary>
    public uint? RenewalTimeSeconds
    {
        get => GetUInt32(DhcpOptionCode.RenewalTimeValue);
        set => SetUInt32(DhcpOptionCode.RenewalTimeValue, value);
    }

    /// <summary>Option 59, T2, in seconds (RFC 2132 §9.12).</summary>
    public uint? RebindingTimeSeconds
    {
        get => GetUInt32(DhcpOptionCode.RebindingTimeValue);
        set => SetUInt32(DhcpOptionCode.RebindingTimeValue, value);
    }

    /// <summary>Option 1 (RFC 2132 §3.3).</summary>
    public IPAddress? SubnetMask
    {
        get => GetAddress(DhcpOptionCode.SubnetMask);
        set => SetAddress(DhcpOptionCode.SubnetMask, value);
    }

    /// <summary>Option 3 (RFC 2132 §3.5).</summary>
    public IReadOnlyList<IPAddress>? Routers
    {
        get => GetAddresses(DhcpOptionCode.Router);
        set => SetAddresses(DhcpOptionCode.Router, value);
    }

    /// <summary>Option 6 (RFC 2132 §3.8).</summary>
    public IReadOnlyList<IPAddress>? DomainNameServers
    {
        get => GetAddresses(DhcpOptionCode.DomainNameServer);
        set => SetAddresses(DhcpOptionCode.DomainNameServer, value);
    }

    /// <summary>Option 12 (RFC 2132 §3.14).</summary>
    public string? HostName
    {
        get => GetString(DhcpOptionCode.HostName);
        set => SetString(DhcpOptionCode.HostName, value);
    }

    /// <summary>Option 15 (RFC 2132 §3.17).</summary>
    public string? DomainName
    {
        get => GetString(DhcpOptionCode.DomainName);
        set => SetString(DhcpOptionCode.DomainName, value);
    }

    /// <summary>Option 43, raw (RFC 2132 §8.4). See <see cref="GetSubOptions"/> for its sub-options.</summary>
    public ReadOnlyMemory<byte>? VendorSpecificInformation
    {
        get => TryGet(DhcpOptionCode.VendorSpecificInformation, out var v) ? v : (ReadOnlyMemory<byte>?)null;
        set => SetOrRemove(DhcpOptionCode.VendorSpecificInformation, value?.ToArray());
    }

    /// <summary>Option 50 (RFC 2132 §9.1).</summary>
    public IPAddress? RequestedIPAddress
    {
        get => GetAddress(DhcpOptionCode.RequestedIPAddress);
        set => SetAddress(DhcpOptionCode.RequestedIPAddress, value);
    }

    /// <summary>Option 55 (RFC 2132 §9.8), in the client's order.</summary>
    public IReadOnlyList<DhcpOptionCode>? ParameterRequestList
    {
        get
        {
            if (!TryGet(DhcpOptionCode.ParameterRequestList, out var v))
            {
                return null;
            }

            var codes = new DhcpOptionCode[v.Length];
            for (var i = 0; i < codes.Length; i++)
            {
                codes[i] = (DhcpOptionCode)v.Span[i];
            }

            return codes;
        }

        set
        {
            if (value is null)
            {
                Remove(DhcpOptionCode.ParameterRequestList);
                return;
            }

            var bytes = new byte[value.Count];
            for (var i = 0; i < bytes.Length; i++)
            {
                bytes[i] = (byte)value[i];
            }

            SetOwned(DhcpOptionCode.ParameterRequestList, bytes);
        }
    }

    /// <summary>Option 57 (RFC 2132 §9.10).</summary>
    public ushort? MaxMessageSize
    {
        get => GetSpan(DhcpOptionCode.MaximumMessageSize) is { Length: 2 } s ? BinaryPrimitives.ReadUInt16BigEndian(s) : null;
        set => SetOrRemove(DhcpOptionCode.MaximumMessageSize, value is { } v ? [(byte)(v >> 8), (byte)v] : null);
    }

    /// <summary>Option 60 (RFC 2132 §9.13), e.g. <c>PXEClient:Arch:00000:UNDI:002001</c> or <c>HTTPClient</c>.</summary>
    public string? VendorClassIdentifier
    {
        get => GetString(DhcpOptionCode.VendorClassIdentifier);
        set => SetString(DhcpOptionCode.VendorClassIdentifier, value);
    }

    /// <summary>Option 61, raw (RFC 2132 §9.14): usually hardware type 1 followed by the MAC.</summary>
    public ReadOnlyMemory<byte>? ClientIdentifier
    {
        get => TryGet(DhcpOptionCode.ClientIdentifier, out var v) ? v : (ReadOnlyMemory<byte>?)null;
        set => SetOrRemove(DhcpOptionCode.ClientIdentifier, value?.ToArray());
    }

    /// <summary>Option 66 (RFC 2132 §9.4).</summary>
    public string? TftpServerName
    {
        get => GetString(DhcpOptionCode.TftpServerName);
        set => SetString(DhcpOptionCode.TftpServerName, value);
    }

    /// <summary>Option 67 (RFC 2132 §9.5).</summary>
    public string? BootFileName
    {
        get => GetString(DhcpOptionCode.BootFileName);
        set => SetString(DhcpOptionCode.BootFileName, value);
    }

    /// <summary>
    /// Option 77 as a list of classes. RFC 3004 §4 encodes length-prefixed instances; iPXE (and
    /// other pre-RFC clients) send one plain string such as <c>iPXE</c>. A value that is not a
    /// well-formed RFC 3004 list is read as one plain string.
    /// </summary>
    public IReadOnlyList<string>? UserClasses
    {
        get
        {
            if (!TryGet(DhcpOptionCode.UserClass, out var memory) || memory.IsEmpty)
            {
                return null;
            }

            var v = memory.Span;
            var classes = new List<string>();
            var i = 0;
            while (i < v.Length)
            {
                int length = v[i];
                if (length == 0 || i + 1 + length > v.Length)
                {
                    return [Encoding.Latin1.GetString(v)];
                }

                classes.Add(Encoding.Latin1.GetString(v.Slice(i + 1, length)));
                i += 1 + length;
            }

            return classes;
        }
    }

    /// <summary>True when option 77 carries <paramref name="userClass"/> (ordinal), in either format.</summary>
    public bool HasUserClass(string userClass)
    {
        ArgumentNullException.ThrowIfNull(userClass);
        if (UserClasses is not { } classes)
        {
            return false;
        }

        foreach (var c in classes)
        {
            if (string.Equals(c, userClass, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Sets option 77 in RFC 3004 format (each class length-prefixed).</summary>
    public void SetUserClasses(IEnumerable<string> userClasses)
    {
        ArgumentNullException.ThrowIfNull(userClasses);
        var bytes = new List<byte>();
        foreach (var c in userClasses)
        {
            var encoded = EncodeLatin1(c);
            if (encoded.Length is 0 or > 255)
            {
                throw new ArgumentException("A user class is 1 to 255 bytes long.", nameof(userClasses));
            }

            bytes.Add((byte)encoded.Length);
            bytes.AddRange(encoded);
        }

        SetOwned(DhcpOptionCode.UserClass, [.. bytes]);
    }

    /// <summary>Sets option 77 to one plain string, as iPXE sends it.</summary>
    public void SetPlainUserClass(string userClass) => SetOwned(DhcpOptionCode.UserClass, EncodeLatin1(userClass));

    /// <summary>Option 82 sub-options (RFC 3046 §2.0), e.g. circuit id (1) and remote id (2).</summary>
    public DhcpSubOptions? RelayAgentInformation => GetSubOptions(DhcpOptionCode.RelayAgentInformation);

    /// <summary>Option 175 sub-options (iPXE), see <see cref="IpxeOptionCode"/>.</summary>
    public DhcpSubOptions? IpxeEncapsulated => GetSubOptions(DhcpOptionCode.IpxeEncapsulated);

    /// <summary>Option 93 (RFC 4578 §2.1): one or more 16-bit architecture types.</summary>
    public IReadOnlyList<ClientArchitecture>? ClientArchitectures
    {
        get
        {
            var v = GetSpan(DhcpOptionCode.ClientSystemArchitecture);
            if (v.Length == 0 || v.Length % 2 != 0)
            {
                return null;
            }

            var list = new ClientArchitecture[v.Length / 2];
            for (var i = 0; i < list.Length; i++)
            {
                list[i] = (ClientArchitecture)BinaryPrimitives.ReadUInt16BigEndian(v[(2 * i)..]);
            }

            return list;
        }

        set
        {
            if (value is null)
            {
                Remove(DhcpOptionCode.ClientSystemArchitecture);
                return;
            }

            var bytes = new byte[value.Count * 2];
            for (var i = 0; i < value.Count; i++)
            {
                BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(2 * i), (ushort)value[i]);
            }

            SetOwned(DhcpOptionCode.ClientSystemArchitecture, bytes);
        }
    }

    /// <summary>Option 94 (RFC 4578 §2.2).</summary>
    public ClientNetworkInterfaceIdentifier? ClientNetworkInterfaceId
    {
        get => GetSpan(DhcpOptionCode.ClientNetworkInterfaceIdentifier) is [var type, var major, var minor]
            ? new ClientNetworkInterfaceIdentifier(type, major, minor)
            : null;
        set => SetOrRemove(DhcpOptionCode.ClientNetworkInterfaceIdentifier, value is { } v ? [v.Type, v.Major, v.Minor] : null);
    }

    /// <summary>
    /// Option 97 (RFC 4578 §2.3): type 0 followed by a 16-byte UUID. PXE firmware copies the
    /// SMBIOS bytes, whose first three fields are little-endian, which is exactly how
    /// <see cref="Guid(ReadOnlySpan{byte})"/> reads them: the returned Guid prints as Linux prints
    /// <c>/sys/class/dmi/id/product_uuid</c>.
    /// </summary>
    public Guid? ClientMachineId
    {
        get => GetSpan(DhcpOptionCode.ClientMachineIdentifier) is { Length: 17 } v && v[0] == 0 ? new Guid(v[1..]) : null;
        set
        {
            if (value is not { } guid)
            {
                Remove(DhcpOptionCode.ClientMachineIdentifier);
                return;
            }

            var bytes = new byte[17];
            guid.TryWriteBytes(bytes.AsSpan(1));
            SetOwned(DhcpOptionCode.ClientMachineIdentifier, bytes);
        }
    }

    /// <summary>Option 119 (RFC 3397): decoded with compression pointers, encoded without.</summary>
    public IReadOnlyList<string>? DomainSearch
    {
        get => TryGet(DhcpOptionCode.DomainSearch, out var v) && DomainSearchList.TryDecode(v.Span, out var names) ? names : null;
        set => SetOrRemove(DhcpOptionCode.DomainSearch, value is null ? null : DomainSearchList.Encode(value));
    }

    /// <summary>Decodes the sub-options of an encapsulating option (43, 82, 175), or null when absent or malformed.</summary>
    public DhcpSubOptions? GetSubOptions(DhcpOptionCode code, DhcpLimits? limits = null) =>
        TryGet(code, out var v) && DhcpSubOptions.TryParse(v.Span, limits ?? DhcpLimits.Default, out var subOptions) ? subOptions : null;

    public void SetSubOptions(DhcpOptionCode code, DhcpSubOptions subOptions)
    {
        ArgumentNullException.ThrowIfNull(subOptions);
        SetOwned(code, subOptions.ToArray());
    }

    /// <summary>Adds the option list in wire order, as the decoder does; a repeated code is appended to the existing value.</summary>
    internal void AppendDecoded(DhcpOptionCode code, ReadOnlyMemory<byte> value)
    {
        var index = IndexOf(code);
        if (index < 0)
        {
            _items.Add(new DhcpOption(code, value));
            return;
        }

        var existing = _items[index].Value;
        var combined = new byte[existing.Length + value.Length];
        existing.Span.CopyTo(combined);
        value.Span.CopyTo(combined.AsSpan(existing.Length));
        _items[index] = new DhcpOption(code, combined);
    }

    /// <summary>Bytes the options take on the wire, without the end option (each ≤255-byte piece has a 2-byte header).</summary>
    internal int GetEncodedLength()
    {
        var length = 0;
        foreach (var item in _items)
        {
            length += GetEncodedLength(item.Value.Length);
        }

        return length;
    }

    internal static int GetEncodedLength(int valueLength) =>
        valueLength == 0 ? 2 : valueLength + 2 * ((valueLength + 254) / 255);

    /// <summary>Writes the options in order, splitting long values (RFC 3396 §5). The destination is large enough.</summary>
    internal int WriteTo(Span<byte> destination)
    {
        var i = 0;
        foreach (var item in _items)
        {
            var value = item.Value.Span;
            do
            {
                var chunk = Math.Min(value.Length, 255);
                destination[i] = (byte)item.Code;
                destination[i + 1] = (byte)chunk;
                value[..chunk].CopyTo(destination[(i + 2)..]);
                i += 2 + chunk;
                value = value[chunk..];
            }
            while (!value.IsEmpty);
        }

        return i;
    }

    private void SetOwned(DhcpOptionCode code, byte[] value)
    {
        if (code is DhcpOptionCode.Pad or DhcpOptionCode.End or DhcpOptionCode.OptionOverload)
        {
            throw new ArgumentOutOfRangeException(nameof(code), code, "Pad, end and option overload are framing, not options.");
        }

        var option = new DhcpOption(code, value);
        var index = IndexOf(code);
        if (index >= 0)
        {
            _items[index] = option;
        }
        else if (code != DhcpOptionCode.RelayAgentInformation && _items.Count > 0 && _items[^1].Code == DhcpOptionCode.RelayAgentInformation)
        {
            _items.Insert(_items.Count - 1, option);
        }
        else
        {
            _items.Add(option);
        }
    }

    private void SetOrRemove(DhcpOptionCode code, byte[]? value)
    {
        if (value is null)
        {
            Remove(code);
        }
        else
        {
            SetOwned(code, value);
        }
    }

    private int IndexOf(DhcpOptionCode code)
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

    private IPAddress? GetAddress(DhcpOptionCode code) =>
        GetSpan(code) is { Length: 4 } v ? new IPAddress(v) : null;

    private void SetAddress(DhcpOptionCode code, IPAddress? address) =>
        SetOrRemove(code, address is null ? null : DhcpMessage.GetIPv4Bytes(address));

    private List<IPAddress>? GetAddresses(DhcpOptionCode code)
    {
        var v = GetSpan(code);
        if (v.Length == 0 || v.Length % 4 != 0)
        {
            return null;
        }

        var list = new List<IPAddress>(v.Length / 4);
        for (var i = 0; i < v.Length; i += 4)
        {
            list.Add(new IPAddress(v.Slice(i, 4)));
        }

        return list;
    }

    private void SetAddresses(DhcpOptionCode code, IReadOnlyList<IPAddress>? addresses)
    {
        if (addresses is null)
        {
            Remove(code);
            return;
        }

        var bytes = new byte[addresses.Count * 4];
        for (var i = 0; i < addresses.Count; i++)
        {
            DhcpMessage.GetIPv4Bytes(addresses[i]).CopyTo(bytes, 4 * i);
        }

        SetOwned(code, bytes);
    }

    private uint? GetUInt32(DhcpOptionCode code) =>
        GetSpan(code) is { Length: 4 } v ? BinaryPrimitives.ReadUInt32BigEndian(v) : null;

    private void SetUInt32(DhcpOptionCode code, uint? value)
    {
        if (value is not { } v)
        {
            Remove(code);
            return;
        }

        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, v);
        SetOwned(code, bytes);
    }

    /// <summary>Latin-1 (byte per char, lossless); trailing NULs, which some clients add, are dropped.</summary>
    private string? GetString(DhcpOptionCode code)
    {
        if (!TryGet(code, out var v))
        {
            return null;
        }

        var span = v.Span.TrimEnd((byte)0);
        return Encoding.Latin1.GetString(span);
    }

    private void SetString(DhcpOptionCode code, string? value) =>
        SetOrRemove(code, value is null ? null : EncodeLatin1(value));

    internal static byte[] EncodeLatin1(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        foreach (var c in value)
        {
            if (c > 0xFF)
            {
                throw new ArgumentException("Only characters U+0000 to U+00FF fit in a DHCP string option.", nameof(value));
            }
        }

        return Encoding.Latin1.GetBytes(value);
    }
}

/// <summary>Option 94 (RFC 4578 §2.2): interface type (1 = UNDI) and its major/minor version.</summary>
public readonly record struct ClientNetworkInterfaceIdentifier(byte Type, byte Major, byte Minor);
