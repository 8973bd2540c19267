using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace NekkoMetal.Dhcp.Transport;

/// <summary>
/// Linux <c>recvmmsg(2)</c> / <c>sendmmsg(2)</c> for the DHCP sockets: many datagrams per system call, each with its
/// source address and its IP_PKTINFO (interface index, destination address), into and out of native buffers owned by
/// this object (one per receive thread; not thread-safe). Under load the receive queue is deep and one call takes up
/// to <see cref="Capacity"/> datagrams; the replies given at once are sent together after the batch.
/// .NET has no API for these calls; the structures are the LP64 Linux ABI (x86-64 and arm64).
/// </summary>
internal sealed unsafe partial class UdpBatch : IDisposable
{
    public const int Capacity = 32;

    private const int MsgWaitForOne = 0x10000;
    private const int MsgTrunc = 0x20;
    private const int IpProtocolLevel = 0; // IPPROTO_IP
    private const int IpPktInfo = 8; // IP_PKTINFO
    private const int ControlBytes = 64; // CMSG_SPACE(sizeof(in_pktinfo)) = 32, with room to spare
    private const short PollIn = 1;
    private const int EAgain = 11;
    private const int EIntr = 4;

    private readonly int _bufferSize;
    private readonly byte* _memory;
    private readonly MMsgHdr* _receive;
    private readonly MMsgHdr* _send;
    private readonly IoVec* _receiveIov;
    private readonly IoVec* _sendIov;
    private readonly SockAddrIn* _receiveNames;
    private readonly SockAddrIn* _sendNames;
    private readonly byte* _control;
    private readonly byte* _receiveBuffers;
    private readonly byte* _sendBuffers;
    private int _received;
    private int _queued;

    public UdpBatch(int bufferSize)
    {
        _bufferSize = (bufferSize + 63) & ~63;
        var headers = sizeof(MMsgHdr) * Capacity;
        var iovs = sizeof(IoVec) * Capacity;
        var names = sizeof(SockAddrIn) * Capacity;
        var total = (2 * (headers + iovs + names)) + (ControlBytes * Capacity) + (2 * _bufferSize * Capacity);
        _memory = (byte*)NativeMemory.AlignedAlloc((nuint)total, 64);
        NativeMemory.Clear(_memory, (nuint)total);
        var p = _memory;
        _receive = (MMsgHdr*)p;
        p += headers;
        _send = (MMsgHdr*)p;
        p += headers;
        _receiveIov = (IoVec*)p;
        p += iovs;
        _sendIov = (IoVec*)p;
        p += iovs;
        _receiveNames = (SockAddrIn*)p;
        p += names;
        _sendNames = (SockAddrIn*)p;
        p += names;
        _control = p;
        p += ControlBytes * Capacity;
        _receiveBuffers = p;
        p += _bufferSize * Capacity;
        _sendBuffers = p;
        for (var i = 0; i < Capacity; i++)
        {
            _receiveIov[i] = new IoVec { Base = _receiveBuffers + (i * _bufferSize), Length = (nuint)_bufferSize };
            _sendIov[i] = new IoVec { Base = _sendBuffers + (i * _bufferSize), Length = 0 };
            _send[i].Header = new MsgHdr { Name = &_sendNames[i], NameLength = (uint)sizeof(SockAddrIn), Iov = &_sendIov[i], IovLength = 1 };
        }
    }

    /// <summary>Datagrams taken by the last <see cref="Receive"/>.</summary>
    public int Count => _received;

    /// <summary>Replies waiting for <see cref="Flush"/>.</summary>
    public int Queued => _queued;

    /// <summary>
    /// Waits up to <paramref name="idleMilliseconds"/> for datagrams and takes those queued (at most <see cref="Capacity"/>).
    /// Returns 0 when none came; a socket error is returned as <paramref name="error"/> with -1.
    /// </summary>
    public int Receive(SafeHandle socket, int idleMilliseconds, out SocketError error)
    {
        error = SocketError.Success;
        _received = 0;
        for (var i = 0; i < Capacity; i++)
        {
            _receive[i].Header = new MsgHdr
            {
                Name = &_receiveNames[i],
                NameLength = (uint)sizeof(SockAddrIn),
                Iov = &_receiveIov[i],
                IovLength = 1,
                Control = _control + (i * ControlBytes),
                ControlLength = ControlBytes,
            };
            _receive[i].Length = 0;
        }

        var added = false;
        socket.DangerousAddRef(ref added);
        try
        {
            var fd = (int)socket.DangerousGetHandle();
            for (var attempt = 0; attempt < 2; attempt++)
            {
                var n = RecvMMsg(fd, _receive, Capacity, MsgWaitForOne, null);
                if (n >= 0)
                {
                    _received = n;
                    return n;
                }

                var errno = Marshal.GetLastPInvokeError();
                if (errno == EIntr)
                {
                    return 0;
                }

                if (errno != EAgain || attempt > 0)
                {
                    error = errno == EAgain ? SocketError.TimedOut : ToSocketError(errno);
                    return errno == EAgain ? 0 : -1;
                }

                // Nothing queued (a non-blocking descriptor, or the receive timeout passed): wait for one.
                var poll = new PollFd { Fd = fd, Events = PollIn };
                if (Poll(&poll, 1, idleMilliseconds) <= 0)
                {
                    return 0;
                }
            }

            return 0;
        }
        finally
        {
            if (added)
            {
                socket.DangerousRelease();
            }
        }
    }

    public ReadOnlySpan<byte> Datagram(int i) => new(_receiveBuffers + (i * _bufferSize), (int)Math.Min(_receive[i].Length, (uint)_bufferSize));

    /// <summary>The datagram was longer than the buffer (cut).</summary>
    public bool Truncated(int i) => (_receive[i].Header.Flags & MsgTrunc) != 0;

    public IPEndPoint Source(int i)
    {
        var name = _receiveNames[i];
        return new IPEndPoint(new IPAddress(name.Address), BinaryPrimitives.ReverseEndianness(name.Port));
    }

    /// <summary>IP_PKTINFO of datagram <paramref name="i"/>: the interface it came in on and its destination address.</summary>
    public (int Interface, IPAddress? Destination) PacketInformation(int i)
    {
        var header = _receive[i].Header;
        var offset = 0;
        var length = (int)header.ControlLength;
        while (offset + sizeof(CMsgHdr) <= length)
        {
            var cmsg = (CMsgHdr*)((byte*)header.Control + offset);
            if (cmsg->Length < (nuint)sizeof(CMsgHdr))
            {
                break;
            }

            if (cmsg->Level == IpProtocolLevel && cmsg->Type == IpPktInfo && cmsg->Length >= (nuint)(sizeof(CMsgHdr) + sizeof(InPktInfo)))
            {
                var info = (InPktInfo*)((byte*)cmsg + sizeof(CMsgHdr));
                return (info->InterfaceIndex, new IPAddress(info->Address));
            }

            offset += (int)((cmsg->Length + 7) & ~(nuint)7);
        }

        return (0, null);
    }

    /// <summary>Room for one more reply's bytes (<see cref="Queue"/> then says how many were written), or an empty span when the batch is full.</summary>
    public Span<byte> NextSendBuffer() => _queued < Capacity ? new Span<byte>(_sendBuffers + (_queued * _bufferSize), _bufferSize) : default;

    /// <summary>Queues the <paramref name="length"/> bytes written into <see cref="NextSendBuffer"/> for <paramref name="destination"/>.</summary>
    public void Queue(int length, IPEndPoint destination)
    {
        var i = _queued++;
        _sendIov[i].Length = (nuint)length;
        Span<byte> address = stackalloc byte[4];
        destination.Address.TryWriteBytes(address, out _);
        _sendNames[i] = new SockAddrIn
        {
            Family = (ushort)AddressFamily.InterNetwork,
            Port = BinaryPrimitives.ReverseEndianness((ushort)destination.Port),
            Address = BinaryPrimitives.ReadUInt32LittleEndian(address),
        };
    }

    /// <summary>Sends the queued replies; <paramref name="failed"/> is told of each one the kernel refused (index, error).</summary>
    public void Flush(SafeHandle socket, Action<int, SocketError>? failed)
    {
        if (_queued == 0)
        {
            return;
        }

        var added = false;
        socket.DangerousAddRef(ref added);
        try
        {
            var fd = (int)socket.DangerousGetHandle();
            var next = 0;
            while (next < _queued)
            {
                var n = SendMMsg(fd, _send + next, (uint)(_queued - next), 0);
                if (n > 0)
                {
                    next += n;
                    continue;
                }

                var errno = Marshal.GetLastPInvokeError();
                if (errno == EIntr)
                {
                    continue;
                }

                failed?.Invoke(next, ToSocketError(errno)); // the first one failed: skip it, send the rest
                next++;
            }
        }
        finally
        {
            _queued = 0;
            if (added)
            {
                socket.DangerousRelease();
            }
        }
    }

    /// <summary>The errno values the DHCP transport tells apart (<see cref="DhcpSockets.Classify"/>).</summary>
    internal static SocketError ToSocketError(int errno) => errno switch
    {
        EAgain => SocketError.WouldBlock,
        EIntr => SocketError.Interrupted,
        9 => SocketError.OperationAborted, // EBADF: closed under us
        13 => SocketError.AccessDenied,
        19 => SocketError.NetworkDown, // ENODEV: the interface went away
        90 => SocketError.MessageSize,
        100 => SocketError.NetworkDown,
        101 => SocketError.NetworkUnreachable,
        105 => SocketError.NoBufferSpaceAvailable,
        111 => SocketError.ConnectionRefused,
        112 => SocketError.HostDown,
        113 => SocketError.HostUnreachable,
        _ => SocketError.SocketError,
    };

    public void Dispose() => NativeMemory.AlignedFree(_memory);

    [LibraryImport("libc", EntryPoint = "recvmmsg", SetLastError = true)]
    private static partial int RecvMMsg(int fd, MMsgHdr* messages, uint count, int flags, void* timeout);

    [LibraryImport("libc", EntryPoint = "sendmmsg", SetLastError = true)]
    private static partial int SendMMsg(int fd, MMsgHdr* messages, uint count, int flags);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static partial int Poll(PollFd* fds, nuint count, int timeoutMilliseconds);

    [StructLayout(LayoutKind.Sequential)]
    private struct IoVec
    {
        public byte* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MsgHdr
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MMsgHdr
    {
        public MsgHdr Header;
        public uint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct SockAddrIn
    {
        public ushort Family;
        public ushort Port; // network order
        public uint Address; // network order, as read from memory
        public ulong Zero;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct CMsgHdr
    {
        public nuint Length;
        public int Level;
        public int Type;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct InPktInfo
    {
        public int InterfaceIndex;
        public uint LocalAddress;
        public uint Address;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Returned;
    }
}
