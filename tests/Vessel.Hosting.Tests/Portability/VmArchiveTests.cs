using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Vessel.Hosting.Portability;
using Vessel.Storage.Qcow2;

namespace Vessel.Hosting.Tests.Portability;

/// <summary>The VM archive format: round trip, and every kind of bad or tampered archive refused with a message.</summary>
public sealed class VmArchiveTests : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "vessel-archive-" + Guid.NewGuid().ToString("N")[..12]);

    public VmArchiveTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private VmDefinition DefinitionWithDisk()
    {
        string disk = Path.Combine(_dir, "disk.qcow2");
        Qcow2Image.Create(disk, 4UL << 20);
        using (var image = Vessel.Storage.DiskImage.Open(disk))
        {
            image.Write(65536, Encoding.ASCII.GetBytes("archived bytes"));
            image.Flush();
        }

        return new VmDefinition { Name = "vm1", MemoryBytes = 128UL << 20, Disks = [new VmDisk(disk, "qcow2")], Nics = ["user,mac=52:54:00:00:00:01"] };
    }

    [Fact]
    public void RoundTripKeepsDefinitionAndDiskContents()
    {
        string archive = Path.Combine(_dir, "vm.vessel");
        VmArchive.Write(DefinitionWithDisk(), archive, Path.Combine(_dir, "work"));
        var (manifest, files) = VmArchive.Read(archive, Path.Combine(_dir, "out"));
        Assert.Equal(VmArchiveManifest.CurrentVersion, manifest.Version);
        Assert.Equal("vm1", manifest.Definition!.Name);
        Assert.Equal("disks/0.qcow2", manifest.Definition.Disks[0].Path);
        Assert.Equal(["user,mac=52:54:00:00:00:01"], manifest.Definition.Nics);
        using var image = Vessel.Storage.DiskImage.Open(files["disks/0.qcow2"], "qcow2", readOnly: true);
        byte[] read = new byte[14];
        image.Read(65536, read);
        Assert.Equal("archived bytes", Encoding.ASCII.GetString(read));
        Assert.False(File.Exists(archive + ".tmp"));
    }

    [Fact]
    public void FlippedByteInADiskIsTampering()
    {
        string archive = Path.Combine(_dir, "vm.vessel");
        VmArchive.Write(DefinitionWithDisk(), archive, Path.Combine(_dir, "work"));
        byte[] bytes = File.ReadAllBytes(archive);
        bytes[bytes.Length / 2] ^= 0x40;
        File.WriteAllBytes(archive, bytes);
        var e = Assert.Throws<VmArchiveException>(() => VmArchive.Read(archive, Path.Combine(_dir, "out")));
        Assert.Contains("tampered", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TruncatedArchiveIsRefused()
    {
        string archive = Path.Combine(_dir, "vm.vessel");
        VmArchive.Write(DefinitionWithDisk(), archive, Path.Combine(_dir, "work"));
        byte[] bytes = File.ReadAllBytes(archive);
        File.WriteAllBytes(archive, bytes[..2048]);
        Assert.Throws<VmArchiveException>(() => VmArchive.Read(archive, Path.Combine(_dir, "out")));
    }

    [Fact]
    public void NotATarFileIsRefused()
    {
        string file = Path.Combine(_dir, "junk.vessel");
        File.WriteAllText(file, "this is not an archive at all, just some text that goes on for a while. " + new string('x', 2000));
        Assert.Throws<VmArchiveException>(() => VmArchive.Read(file, Path.Combine(_dir, "out")));
    }

    [Fact]
    public void NewerFormatVersionIsRefusedByName()
    {
        string archive = Build(m => m with { Version = 2 }, []);
        var e = Assert.Throws<VmArchiveException>(() => VmArchive.Read(archive, Path.Combine(_dir, "out")));
        Assert.Contains("newer Vessel", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EntryNamesOutsideTheLayoutAreRefused()
    {
        byte[] data = [1, 2, 3];
        string archive = Build(
            m => m with
            {
                Definition = m.Definition! with { Disks = [new VmDisk("../../etc/evil", "qcow2")] },
                Files = [new VmArchiveManifest.Entry("../../etc/evil", 3, Hex(data))],
            },
            [("../../etc/evil", data)]);
        Assert.Throws<VmArchiveException>(() => VmArchive.Read(archive, Path.Combine(_dir, "out")));
        Assert.False(File.Exists(Path.Combine(_dir, "..", "etc", "evil")));
    }

    [Fact]
    public void UnlistedAndMissingEntriesAreRefused()
    {
        string extra = Build(m => m, [("disks/5.qcow2", [9])]);
        Assert.Contains("does not list", Assert.Throws<VmArchiveException>(() => VmArchive.Read(extra, Path.Combine(_dir, "a"))).Message, StringComparison.Ordinal);

        string missing = Build(m => m with { Files = [new VmArchiveManifest.Entry("boot/kernel", 1, Hex([7]))], Definition = m.Definition! with { Kernel = "boot/kernel" } }, []);
        Assert.Contains("missing", Assert.Throws<VmArchiveException>(() => VmArchive.Read(missing, Path.Combine(_dir, "b"))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DiskWithABackingFileIsRefused()
    {
        string overlay = Path.Combine(_dir, "overlay.qcow2");
        Qcow2Image.Create(overlay, 1UL << 20, backingFile: "/etc/hostname", backingFormat: "raw");
        byte[] data = File.ReadAllBytes(overlay);
        string archive = Build(
            m => m with { Definition = m.Definition! with { Disks = [new VmDisk("disks/0.qcow2", "qcow2")] }, Files = [new VmArchiveManifest.Entry("disks/0.qcow2", data.Length, Hex(data))] },
            [("disks/0.qcow2", data)]);
        Assert.Contains("self-contained", Assert.Throws<VmArchiveException>(() => VmArchive.Read(archive, Path.Combine(_dir, "out"))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RandomMacsStayInQemusPrefixAndDiffer()
    {
        string a = NicIdentity.WithNewMac("user,mac=52:54:00:00:00:01,hostfwd=tcp::80-:80");
        string b = NicIdentity.WithNewMac("user");
        Assert.Matches("^user,hostfwd=tcp::80-:80,mac=52:54:00:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}$", a);
        Assert.Matches("^user,mac=52:54:00:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}$", b);
        Assert.NotEqual(NicIdentity.RandomMac(), NicIdentity.RandomMac());
    }

    /// <summary>A hand-made archive: an empty-diskless manifest changed by <paramref name="edit"/>, then the given entries.</summary>
    private string Build(Func<VmArchiveManifest, VmArchiveManifest> edit, (string Name, byte[] Data)[] entries)
    {
        var manifest = edit(new VmArchiveManifest
        {
            Format = VmArchiveManifest.FormatName,
            Version = VmArchiveManifest.CurrentVersion,
            Definition = new VmDefinition { Name = "hand" },
            Files = [],
        });
        string path = Path.Combine(_dir, Guid.NewGuid().ToString("N") + ".vessel");
        using var file = File.Create(path);
        using var tar = new TarWriter(file, TarEntryFormat.Pax);
        tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, VmArchive.ManifestEntry) { DataStream = new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(manifest, Json)) });
        foreach (var (name, data) in entries)
        {
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data) });
        }

        return path;
    }

    private static string Hex(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));
}
