using System.Diagnostics;
using NekkoMetal.KubeInstaller.Execution.Ssh;

namespace NekkoMetal.KubeInstaller.Execution.Tests;

public sealed class ShellQuotingTests
{
    [Theory]
    [InlineData("etcd.service", "etcd.service")]
    [InlineData("/etc/nekko/pki/etcd/ca.crt", "/etc/nekko/pki/etcd/ca.crt")]
    [InlineData("--peer-urls=https://10.0.0.1:2380", "--peer-urls=https://10.0.0.1:2380")]
    [InlineData("", "''")]
    [InlineData("a b", "'a b'")]
    [InlineData("it's", "'it'\\''s'")]
    [InlineData("$(reboot)", "'$(reboot)'")]
    [InlineData("a;rm -rf /", "'a;rm -rf /'")]
    public void Quote_leaves_plain_words_and_single_quotes_the_rest(string value, string expected) =>
        Assert.Equal(expected, ShellQuoting.Quote(value));

    [Theory]
    [InlineData("plain")]
    [InlineData("with space and 'quotes' and \"double\"")]
    [InlineData("$HOME `id` $(id) ; | & > < * ? [ ] { } ~ # !")]
    [InlineData("new\nline\ttab")]
    [InlineData("'")]
    [InlineData("''''")]
    public async Task A_real_shell_reads_the_quoted_word_back_unchanged(string value)
    {
        var psi = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("printf %s " + ShellQuoting.Quote(value));
        using var p = Process.Start(psi)!;
        var text = await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.Equal(value, text);
    }
}
