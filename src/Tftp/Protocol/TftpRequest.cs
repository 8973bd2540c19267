using System.Text;
using System.Text.Unicode;

namespace NekkoMetal.Tftp.Protocol;

/// <summary>
/// RRQ or WRQ (RFC 1350 §5): opcode, file name, NUL, mode, NUL, then option name/value pairs
/// (RFC 2347). The file name is UTF-8; options are kept in wire order, unknown ones included.
/// </summary>
public sealed class TftpRequest : TftpPacket
{
    public TftpRequest(TftpOpcode opcode, string fileName, TftpTransferMode mode, IReadOnlyList<TftpOption>? options = null)
    {
        if (opcode is not (TftpOpcode.ReadRequest or TftpOpcode.WriteRequest))
        {
            throw new ArgumentOutOfRangeException(nameof(opcode), opcode, "A request is an RRQ or a WRQ.");
        }

        ArgumentException.ThrowIfNullOrEmpty(fileName);
        if (fileName.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("A file name cannot contain NUL.", nameof(fileName));
        }

        if (!Enum.IsDefined(mode))
        {
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown mode.");
        }

        options ??= [];
        ValidateOptions(options, nameof(options));
        Opcode = opcode;
        FileName = fileName;
        Mode = mode;
        Options = options;
    }

    public override TftpOpcode Opcode { get; }

    public string FileName { get; }

    public TftpTransferMode Mode { get; }

    public IReadOnlyList<TftpOption> Options { get; }

    /// <summary>The value of an option, matched case-insensitively; null when absent.</summary>
    public string? GetOption(string name)
    {
        foreach (var o in Options)
        {
            if (string.Equals(o.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return o.Value;
            }
        }

        return null;
    }

    public override int GetEncodedLength() =>
        2 + Encoding.UTF8.GetByteCount(FileName) + 1 + ModeName(Mode).Length + 1 + OptionsLength(Options);

    private protected override void WriteBody(Span<byte> body)
    {
        var n = Encoding.UTF8.GetBytes(FileName, body);
        body[n] = 0;
        body = WriteLatin1(body[(n + 1)..], ModeName(Mode));
        WriteOptions(body, Options);
    }

    private static string ModeName(TftpTransferMode mode) => mode switch
    {
        TftpTransferMode.NetAscii => "netascii",
        TftpTransferMode.Mail => "mail",
        _ => "octet",
    };

    internal static TftpParseError Parse(TftpOpcode opcode, ReadOnlySpan<byte> body, TftpLimits limits, out TftpPacket? packet)
    {
        packet = null;
        if (!TryReadString(ref body, out var name) || !TryReadString(ref body, out var mode))
        {
            return TftpParseError.UnterminatedString;
        }

        if (name.IsEmpty)
        {
            return TftpParseError.EmptyFileName;
        }

        if (name.Length > limits.MaxFileNameLength)
        {
            return TftpParseError.FileNameTooLong;
        }

        if (!Utf8.IsValid(name))
        {
            return TftpParseError.FileNameNotUtf8;
        }

        TftpTransferMode parsedMode;
        if (Ascii.EqualsIgnoreCase(mode, "octet"u8))
        {
            parsedMode = TftpTransferMode.Octet;
        }
        else if (Ascii.EqualsIgnoreCase(mode, "netascii"u8))
        {
            parsedMode = TftpTransferMode.NetAscii;
        }
        else if (Ascii.EqualsIgnoreCase(mode, "mail"u8))
        {
            parsedMode = TftpTransferMode.Mail;
        }
        else
        {
            return TftpParseError.UnknownMode;
        }

        var error = ParseOptions(body, limits, out var options);
        if (error != TftpParseError.None)
        {
            return error;
        }

        packet = new TftpRequest(opcode, Encoding.UTF8.GetString(name), parsedMode, options);
        return TftpParseError.None;
    }
}
