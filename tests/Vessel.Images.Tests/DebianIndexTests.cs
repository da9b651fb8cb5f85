namespace Vessel.Images.Tests;

public sealed class DebianIndexTests
{
    private const string Release = """
        Origin: Debian
        Suite: stable
        Codename: trixie
        Acquire-By-Hash: yes
        Architectures: all amd64 riscv64
        Components: main contrib
        MD5Sum:
         3e498904a30e240573dac8ddac594e6f  1961125 main/binary-riscv64/Packages.xz
        SHA256:
         69f526a2fdf8eb1e37480991f4102f67ad16b868c5597e40a946d0af0828792f 54338128 main/binary-riscv64/Packages
         F60294DC64D700AFA90C1833CDA096D8B8DE1F033E99AB2969A99FB9EA4AFF1B  9387120 main/binary-riscv64/Packages.xz
        """;

    private const string Packages = """
        Package: linux-image-riscv64
        Source: linux
        Version: 6.12.117-1
        Architecture: riscv64
        Depends: linux-image-6.12.117+deb13-riscv64 (= 6.12.117-1)
        Description: Linux for 64-bit RISC-V platforms (meta-package)
         continuation line
        Filename: pool/main/l/linux/linux-image-riscv64_6.12.117-1_riscv64.deb
        Size: 1444
        SHA256: c1685361464fce280b85273c0914696c4167ab4d94a335c22401b52a1f7f9959

        Package: linux-image-6.12.117+deb13-riscv64
        Version: 6.12.117-1
        Architecture: riscv64
        Depends: kmod, initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool
        Filename: pool/main/l/linux/linux-image-6.12.117+deb13-riscv64_6.12.117-1_riscv64.deb
        Size: 112593968
        SHA256: F5D9424B6F6A4518197202EFFC7E8EEAA90F8D73466C2DBA2470F6EA7FB4F55C

        Package: opensbi
        Version: 1.6-1
        Architecture: all
        Filename: pool/main/o/opensbi/opensbi_1.6-1_all.deb
        Size: 204072
        SHA256: dc4a43bd21a0ca11771ed8b19ee6fa8476d1d0f4976bd0b27c0357c699d27e1e

        Package: opensbi
        Version: 0.1-1
        Architecture: all
        Filename: pool/main/o/opensbi/opensbi_0.1-1_all.deb
        Size: 1
        SHA256: 00

        Package: broken-without-filename
        Version: 1
        """;

    [Fact]
    public void ReleaseFile_ReadsFieldsAndSha256List()
    {
        ReleaseFile release = ReleaseFile.Parse(Release);

        Assert.Equal("trixie", release.Codename);
        Assert.Equal("stable", release.Suite);
        Assert.True(release.AcquireByHash);
        Assert.Contains("riscv64", release.Architectures);
        Assert.True(release.TryGetSha256("main/binary-riscv64/Packages.xz", out string sha, out long size));
        Assert.Equal("f60294dc64d700afa90c1833cda096d8b8de1f033e99ab2969a99fb9ea4aff1b", sha);
        Assert.Equal(9387120, size);
        Assert.False(release.TryGetSha256("main/binary-amd64/Packages.xz", out _, out _));
    }

    [Fact]
    public void PackageIndex_ParsesStanzas_FirstVersionWins_IncompleteOnesDropped()
    {
        PackageIndex index = PackageIndex.Parse(new StringReader(Packages));

        Assert.Equal(3, index.Count);
        DebianPackage opensbi = index.Get("opensbi");
        Assert.Equal("1.6-1", opensbi.Version);
        Assert.Equal(204072, opensbi.Size);
        Assert.False(index.TryGet("broken-without-filename", out _));
        Assert.Throws<GuestKitException>(() => index.Get("no-such-package"));
    }

    [Fact]
    public void PackageIndex_ResolvesKernelMetapackageToConcretePackage()
    {
        PackageIndex index = PackageIndex.Parse(new StringReader(Packages));

        DebianPackage kernel = index.ResolveKernelPackage("linux-image-riscv64");

        Assert.Equal("linux-image-6.12.117+deb13-riscv64", kernel.Name);
        Assert.Equal("f5d9424b6f6a4518197202effc7e8eeaa90f8d73466c2dba2470f6ea7fb4f55c", kernel.Sha256);
        Assert.Equal(["kmod", "initramfs-tools"], kernel.DependencyNames);
    }

    [Fact]
    public void PackageIndex_MetapackageWithoutKernelDependencyIsAnError()
    {
        PackageIndex index = PackageIndex.Parse(new StringReader(
            "Package: linux-image-riscv64\nVersion: 1\nDepends: foo:any\nFilename: f.deb\nSize: 1\nSHA256: 00\n"));

        Assert.Throws<GuestKitException>(() => index.ResolveKernelPackage("linux-image-riscv64"));
    }
}
