using NekkoMetal.Tftp.Protocol;
using NekkoMetal.Tftp.Transfers;

namespace NekkoMetal.Tftp.Tests.Transfers;

public class RequestScreeningTests
{
    [Theory]
    [InlineData(TftpOpcode.ReadRequest, TftpTransferMode.Octet, "None", null)]
    [InlineData(TftpOpcode.ReadRequest, TftpTransferMode.NetAscii, "UnsupportedMode", TftpErrorCode.IllegalOperation)]
    [InlineData(TftpOpcode.ReadRequest, TftpTransferMode.Mail, "UnsupportedMode", TftpErrorCode.IllegalOperation)]
    [InlineData(TftpOpcode.WriteRequest, TftpTransferMode.Octet, "WriteRequest", TftpErrorCode.AccessViolation)]
    [InlineData(TftpOpcode.WriteRequest, TftpTransferMode.NetAscii, "WriteRequest", TftpErrorCode.AccessViolation)]
    public void Screen_Table(TftpOpcode opcode, TftpTransferMode mode, string expected, TftpErrorCode? code)
    {
        var refusal = Enum.Parse<RequestRefusal>(expected);
        var request = new TftpRequest(opcode, "secret-name", mode);
        Assert.Equal(refusal, RequestScreening.Screen(request));
        var reply = RequestScreening.Reply(refusal);
        Assert.Equal(code, reply?.Code);
        Assert.DoesNotContain("secret-name", reply?.Message ?? "", StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(TftpParseError.FileNameTooLong, TftpErrorCode.FileNotFound)]
    [InlineData(TftpParseError.UnknownMode, TftpErrorCode.IllegalOperation)]
    [InlineData(TftpParseError.UnterminatedString, TftpErrorCode.IllegalOperation)]
    [InlineData(TftpParseError.TooManyOptions, TftpErrorCode.IllegalOperation)]
    public void ReplyToMalformed_Table(TftpParseError error, TftpErrorCode code) =>
        Assert.Equal(code, RequestScreening.ReplyToMalformed(error).Code);

    [Theory]
    [InlineData(new byte[] { 0, 1, 0 }, true)]
    [InlineData(new byte[] { 0, 2 }, true)]
    [InlineData(new byte[] { 0, 3, 0, 1 }, false)]
    [InlineData(new byte[] { 1, 1 }, false)]
    [InlineData(new byte[] { 0 }, false)]
    public void IsRequestOpcode_Table(byte[] datagram, bool expected) =>
        Assert.Equal(expected, RequestScreening.IsRequestOpcode(datagram));
}
