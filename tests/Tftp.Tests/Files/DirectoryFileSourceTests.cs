using NekkoMetal.Tftp.Files;
using NekkoMetal.Tftp.Tests.Infrastructure;

namespace NekkoMetal.Tftp.Tests.Files;

/// <summary>Confinement to the root, checked against a real directory tree with symbolic links in and out.</summary>
public sealed class DirectoryFileSourceTests : IDisposable
{
    private readonly TempRoot _outside = new();
    private readonly TempRoot _root = new();
    private readonly DirectoryFileSource _source;

    public DirectoryFileSourceTests()
    {
        _root.AddFile("file.bin", 100);
        _root.AddFile("sub/inner.bin", 10);
        _root.AddFile("dots..name", 3);
        _outside.AddFile("secret", 42);
        File.CreateSymbolicLink(_root["link-in"], "file.bin");
        File.CreateSymbolicLink(_root["link-in-abs"], _root["sub/inner.bin"]);
        File.CreateSymbolicLink(_root["sub/link-up-in"], "../file.bin");
        File.CreateSymbolicLink(_root["link-out"], "/etc/passwd");
        File.CreateSymbolicLink(_root["link-out-relative"], Path.GetRelativePath(_root.Path, _outside["secret"]));
        File.CreateSymbolicLink(_root["link-chain"], "link-out");
        File.CreateSymbolicLink(_root["dangling-out"], "/nonexistent/nekko");
        File.CreateSymbolicLink(_root["loop-a"], "loop-b");
        File.CreateSymbolicLink(_root["loop-b"], "loop-a");
        File.CreateSymbolicLink(_root["link-root"], ".");
        Directory.CreateSymbolicLink(_root["dir-out"], "/etc");
        Directory.CreateSymbolicLink(_root["dir-in"], "sub");
        _source = new DirectoryFileSource(_root.Path);
    }

    [Theory]
    [InlineData("file.bin", 100)]
    [InlineData("/file.bin", 100)] // one leading slash: relative to the root (PXE ROMs send /pxelinux.0)
    [InlineData("sub/inner.bin", 10)]
    [InlineData("/sub/inner.bin", 10)]
    [InlineData("sub//inner.bin", 10)]
    [InlineData("./sub/./inner.bin", 10)]
    [InlineData("dots..name", 3)] // ".." only matters as a whole segment
    [InlineData("link-in", 100)]
    [InlineData("link-in-abs", 10)] // an absolute link that stays inside the root
    [InlineData("sub/link-up-in", 100)] // a link with ".." that stays inside
    [InlineData("dir-in/inner.bin", 10)]
    public async Task OpenAsync_InsideTheRoot_Found(string name, long length)
    {
        var result = await _source.OpenAsync(name, CancellationToken.None);
        Assert.Equal(TftpFileStatus.Found, result.Status);
        await using var file = result.File!;
        Assert.Equal(length, file.Length);
        Assert.True(file.Content.CanSeek);
    }

    [Theory]
    [InlineData("../etc/passwd")]
    [InlineData("a/../../x")]
    [InlineData("sub/../file.bin")] // ".." is refused anywhere, even when it would stay inside
    [InlineData("..")]
    [InlineData("//etc/passwd")] // still absolute once the one leading slash is dropped
    [InlineData("..\\etc\\passwd")]
    [InlineData("sub\\inner.bin")]
    [InlineData("file.bin\u0001")]
    [InlineData("a\nb")]
    [InlineData("a\rb")]
    [InlineData("a\tb")]
    [InlineData("a\u007fb")]
    [InlineData("a\u0085b")] // C1 control
    [InlineData("link-out")] // symlink to /etc/passwd
    [InlineData("link-out-relative")] // ../<outside>/secret
    [InlineData("link-chain")] // link to a link that leaves
    [InlineData("dir-out/passwd")] // a directory link leading out
    public async Task OpenAsync_Escapes_AccessDenied(string name)
    {
        var result = await _source.OpenAsync(name, CancellationToken.None);
        Assert.Equal(TftpFileStatus.AccessDenied, result.Status);
        Assert.Null(result.File);
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("/etc/passwd")] // = <root>/etc/passwd, which does not exist
    [InlineData("sub")] // a directory
    [InlineData("sub/")]
    [InlineData("/")]
    [InlineData(".")]
    [InlineData("link-root")]
    [InlineData("dir-in")]
    [InlineData("file.bin/x")]
    [InlineData("dangling-out")]
    [InlineData("loop-a")]
    public async Task OpenAsync_NothingToServe_NotFound(string name)
    {
        var result = await _source.OpenAsync(name, CancellationToken.None);
        Assert.Equal(TftpFileStatus.NotFound, result.Status);
        Assert.Null(result.File);
    }

    [Fact]
    public async Task OpenAsync_ComponentOverNameMax_NotFound()
    {
        var result = await _source.OpenAsync(new string('x', 300), CancellationToken.None);
        Assert.Equal(TftpFileStatus.NotFound, result.Status);
    }

    [Fact]
    public async Task RootThroughASymbolicLink_IsResolved()
    {
        using var holder = new TempRoot();
        var link = holder["root-link"];
        Directory.CreateSymbolicLink(link, _root.Path);
        var source = new DirectoryFileSource(link);
        Assert.Equal(_source.Root, source.Root);
        var result = await source.OpenAsync("file.bin", CancellationToken.None);
        Assert.Equal(TftpFileStatus.Found, result.Status);
        await result.File!.DisposeAsync();
        Assert.Equal(TftpFileStatus.AccessDenied, (await source.OpenAsync("link-out", CancellationToken.None)).Status);
    }

    [Fact]
    public void Constructor_RefusesRelativeOrMissingRoots()
    {
        Assert.Throws<ArgumentException>(() => new DirectoryFileSource("relative/dir"));
        Assert.Throws<DirectoryNotFoundException>(() => new DirectoryFileSource("/nonexistent/nekko-tftp"));
    }

    public void Dispose()
    {
        _root.Dispose();
        _outside.Dispose();
    }
}
