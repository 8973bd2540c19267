using System.Diagnostics;
using FsCheck;
using FsCheck.Xunit;
using NekkoMetal.Dhcp.Boot;
using NekkoMetal.Dhcp.Protocol;

namespace NekkoMetal.Dhcp.Tests;

/// <summary>
/// Kind 4: random and mutated datagrams never throw past <see cref="DhcpMessage.TryParse"/>, return
/// quickly, and whatever parses re-encodes and re-parses to an equal message. Findings live in
/// <see cref="FuzzRegressionTests"/>.
/// </summary>
public class DhcpCodecPropertyTests
{
    /// <summary>Re-encoding may move overloaded options into the options field: allow the largest datagram.</summary>
    private static readonly DhcpLimits Roomy = DhcpLimits.Default with { MaxDatagramSize = DhcpLimits.MaxDatagramSizeCap };

    private static readonly BootDecisionTable Table = new(new BootDecisionOptions());

    /// <summary>The whole contract for one input; also used by the regression tests.</summary>
    internal static void Check(byte[] datagram)
    {
        var stopwatch = Stopwatch.StartNew();
        _ = DhcpMessage.PeekMessageType(datagram); // the transport's shortcut under load: never throws either
        var ok = DhcpMessage.TryParse(datagram, DhcpLimits.Default, out var message, out var error);
        stopwatch.Stop();

        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(1), $"parse took {stopwatch.Elapsed}");
        Assert.Equal(ok, error == DhcpParseError.None);
        Assert.Equal(ok, message is not null);
        if (message is null)
        {
            return;
        }

        TouchEveryAccessor(message);
        var encoded = TestPackets.Encode(message);
        Assert.True(DhcpMessage.TryParse(encoded, Roomy, out var reparsed, out var reparseError), $"re-parse failed: {reparseError}");
        MessageAssert.Equal(message, reparsed);
        Assert.Equal(encoded, TestPackets.Encode(reparsed));
    }

    private static void TouchEveryAccessor(DhcpMessage m)
    {
        _ = m.ClientMacAddress;
        _ = m.ClientHardwareAddress.Length;
        _ = m.ServerName;
        _ = m.BootFileName;
        _ = m.IsBroadcast;
        var o = m.Options;
        _ = (o.MessageType, o.ServerIdentifier, o.LeaseTimeSeconds, o.RenewalTimeSeconds, o.RebindingTimeSeconds);
        _ = (o.SubnetMask, o.Routers, o.DomainNameServers, o.HostName, o.DomainName, o.VendorSpecificInformation);
        _ = (o.RequestedIPAddress, o.ParameterRequestList, o.MaxMessageSize, o.VendorClassIdentifier, o.ClientIdentifier);
        _ = (o.TftpServerName, o.BootFileName, o.UserClasses, o.RelayAgentInformation, o.IpxeEncapsulated);
        _ = (o.ClientArchitectures, o.ClientNetworkInterfaceId, o.ClientMachineId, o.DomainSearch);
        _ = o.GetSubOptions(DhcpOptionCode.VendorSpecificInformation);
        _ = o.HasUserClass("iPXE");
        _ = Table.Decide(o);
        _ = DhcpMessage.CreateReply(m);
    }

    [Property(MaxTest = 300)]
    public void Random_datagrams(byte[] datagram) => Check(datagram);

    [Property(MaxTest = 500, EndSize = 400)]
    public void Random_options_after_a_valid_header(byte[] options) => Check(TestPackets.Request(options));

    [Property(MaxTest = 500, EndSize = 60)]
    public void Well_framed_random_options_with_overload(byte[] codes, byte[][] values, byte overload, byte[] file, byte[] sname)
    {
        static List<byte> Frame(byte[] codes, byte[][] values, int from, int step)
        {
            var area = new List<byte>();
            for (var i = from; i < values.Length; i += step)
            {
                var code = codes.Length == 0 ? (byte)200 : codes[i % codes.Length];
                if (code is 0 or 255 or 52)
                {
                    area.Add(code);
                    continue;
                }

                var value = values[i] ?? [];
                area.Add(code);
                area.Add((byte)Math.Min(value.Length, 255));
                area.AddRange(value.Take(255));
            }

            return area;
        }

        var mode = overload % 4;
        var main = Frame(codes, values, 0, mode == 0 ? 1 : 3);
        if (mode != 0)
        {
            main.InsertRange(0, [52, 1, (byte)mode]);
        }

        var datagram = TestPackets.Request([.. main, 255]);
        if (datagram.Length > 1500)
        {
            datagram = datagram[..1500];
        }

        var fileArea = mode != 0 ? Frame(codes, values, 1, 3) : [.. file];
        var snameArea = mode != 0 ? Frame(codes, values, 2, 3) : [.. sname];
        fileArea.Take(128).ToArray().CopyTo(datagram, 108);
        snameArea.Take(64).ToArray().CopyTo(datagram, 44);

        Check(datagram);
    }

    [Property(MaxTest = 1000)]
    public void Mutated_golden_packets(NonNegativeInt pick, NonNegativeInt[] flips, NonNegativeInt cut, byte lengthValue, NonNegativeInt lengthIndex)
    {
        var golden = TestPackets.AllGolden;
        var datagram = golden[pick.Get % golden.Count];

        foreach (var flip in flips)
        {
            var bit = flip.Get % (datagram.Length * 8);
            datagram[bit / 8] ^= (byte)(1 << (bit % 8));
        }

        var lengthPositions = OptionLengthPositions(datagram);
        if (lengthPositions.Count > 0 && lengthIndex.Get % 3 != 0)
        {
            datagram[lengthPositions[lengthIndex.Get % lengthPositions.Count]] = lengthValue;
        }

        if (cut.Get % 4 == 0)
        {
            datagram = datagram[..(cut.Get % (datagram.Length + 1))];
        }

        Check(datagram);
    }

    /// <summary>Where the length bytes of the options field are, as far as the walk goes.</summary>
    internal static List<int> OptionLengthPositions(byte[] datagram)
    {
        var positions = new List<int>();
        var i = DhcpMessage.OptionsOffset;
        while (i + 1 < datagram.Length && datagram[i] != 255)
        {
            if (datagram[i] == 0)
            {
                i++;
                continue;
            }

            positions.Add(i + 1);
            i += 2 + datagram[i + 1];
        }

        return positions;
    }
}
