using System.Text;

namespace NekkoMetal.Tftp.Tests.Protocol;

/// <summary>Packets written as Latin-1 strings in test tables: "\0\u0001file\0octet\0" is an RRQ for "file".</summary>
internal static class Wire
{
    public static byte[] Of(string latin1) => Encoding.Latin1.GetBytes(latin1);

    public static string Rrq(string name, string mode = "octet", params string[] options) =>
        "\0\u0001" + name + "\0" + mode + "\0" + string.Concat(options.Select(o => o + "\0"));
}
