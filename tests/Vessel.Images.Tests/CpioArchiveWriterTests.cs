using System.Runtime.Versioning;
using System.Text;

namespace Vessel.Images.Tests;

public sealed class CpioArchiveWriterTests
{
    private static byte[] SampleArchive(out Dictionary<string, byte[]> files)
    {
        var random = new Random(42);
        files = new Dictionary<string, byte[]>
        {
            ["init"] = Encoding.ASCII.GetBytes("#!/bin/sh\necho hi\n"),
            ["bin/busybox"] = new byte[100_003],
            ["etc/empty"] = [],
            ["a/b/c/deep.txt"] = Encoding.UTF8.GetBytes("three levels, names of every length"),
            ["x"] = [1],
            ["xy"] = [1, 2],
            ["xyz"] = [1, 2, 3],
        };
        random.NextBytes(files["bin/busybox"]);

        using var output = new MemoryStream();
        using (var cpio = new CpioArchiveWriter(output, leaveOpen: true) { ModificationTime = 1_700_000_000 })
        {
            cpio.AddDirectory("etc");
            cpio.AddDirectory("tmp", (UnixFileMode)0x3FF);
            foreach (var (name, data) in files)
            {
                cpio.AddFile("/" + name, data, name == "init" ? CpioArchiveWriter.ExecutableMode : CpioArchiveWriter.FileMode);
            }

            cpio.AddSymbolicLink("bin/sh", "busybox");
            cpio.AddSymbolicLink("./bin/[", "busybox");
        }

        return output.ToArray();
    }

    [Fact]
    public void Headers_AreNewcWithAlignmentParentsFirstAndTrailer()
    {
        byte[] archive = SampleArchive(out var files);
        var entries = NewcTestReader.Read(archive);
        var names = entries.Select(e => e.Name).ToList();

        // Parents come before their children, each once.
        Assert.True(names.IndexOf("a") < names.IndexOf("a/b") && names.IndexOf("a/b") < names.IndexOf("a/b/c"));
        Assert.True(names.IndexOf("bin") < names.IndexOf("bin/busybox"));
        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.Equal(entries.Count, entries.Select(e => e.Inode).Distinct().Count());

        var init = entries.Single(e => e.Name == "init");
        Assert.Equal(0x8000u, init.Type);
        Assert.Equal(0x1EDu, init.Permissions);
        Assert.Equal(1_700_000_000u, init.MTime);
        Assert.Equal(0u, init.Uid);
        Assert.Equal(files["init"], init.Data);

        var tmp = entries.Single(e => e.Name == "tmp");
        Assert.Equal(0x4000u, tmp.Type);
        Assert.Equal(0x3FFu, tmp.Permissions);
        Assert.Equal(2u, tmp.Nlink);

        var sh = entries.Single(e => e.Name == "bin/sh");
        Assert.Equal(0xA000u, sh.Type);
        Assert.Equal("busybox", sh.Text);
        Assert.Contains(entries, e => e.Name == "bin/[");
        foreach (var (name, data) in files)
        {
            Assert.Equal(data, entries.Single(e => e.Name == name).Data);
        }
    }

    [Fact]
    public void CharacterDevice_RecordsRdev()
    {
        using var output = new MemoryStream();
        using (var cpio = new CpioArchiveWriter(output, leaveOpen: true))
        {
            cpio.AddCharacterDevice("dev/console", 5, 1);
        }

        var console = NewcTestReader.Read(output.ToArray()).Single(e => e.Name == "dev/console");
        Assert.Equal(0x2000u, console.Type);
        Assert.Equal(0x180u, console.Permissions);
        Assert.Equal((5u, 1u), (console.RdevMajor, console.RdevMinor));
    }

    [Fact]
    public void InvalidOrDuplicatePaths_AreRejected()
    {
        using var cpio = new CpioArchiveWriter(new MemoryStream());
        cpio.AddFile("a", "x");
        Assert.Throws<InvalidOperationException>(() => cpio.AddFile("a", "y"));
        Assert.Throws<ArgumentException>(() => cpio.AddFile("../escape", "x"));
        Assert.Throws<ArgumentException>(() => cpio.AddFile("/", "x"));
        Assert.Throws<ArgumentException>(() => cpio.AddFile("TRAILER!!!", "x"));
        cpio.AddDirectory("d");
        cpio.AddDirectory("d"); // directories may repeat
    }

    [RequiresToolFact("cpio")]
    [UnsupportedOSPlatform("windows")]
    public void HostCpio_ExtractsWhatWeWrote_ByteForByte()
    {
        byte[] archive = SampleArchive(out var files);
        using var dir = new TempDirectory();

        var (exitCode, output) = HostTools.Run("cpio", ["-idv", "--no-absolute-filenames"], dir.Path, archive);

        Assert.True(exitCode == 0, output);
        foreach (var (name, data) in files)
        {
            Assert.Equal(data, File.ReadAllBytes(dir.Combine(name)));
        }

        Assert.Equal("busybox", new FileInfo(dir.Combine("bin", "sh")).LinkTarget);
        Assert.Equal("busybox", new FileInfo(dir.Combine("bin", "[")).LinkTarget);
        Assert.True(Directory.Exists(dir.Combine("a", "b", "c")));
        Assert.Equal((UnixFileMode)0x1ED, File.GetUnixFileMode(dir.Combine("init")));
        Assert.Equal((UnixFileMode)0x3FF, File.GetUnixFileMode(dir.Combine("tmp")));
    }

    [RequiresToolFact("cpio")]
    public void HostCpio_ListsTheSameNames()
    {
        byte[] archive = SampleArchive(out _);
        var (exitCode, output) = HostTools.Run("cpio", ["-t", "--quiet"], input: archive);

        Assert.Equal(0, exitCode);
        var listed = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(NewcTestReader.Read(archive).Select(e => e.Name), listed);
    }
}
