namespace Vessel.Images.Tests;

public sealed class DebianMirrorTests
{
    private static Func<string, string?> Env(params (string Name, string Value)[] vars) =>
        name => vars.FirstOrDefault(v => v.Name == name).Value;

    [Fact]
    public void Resolve_TakesFirstMainArchive_SkippingSecurityAndThirdPartyRepositories()
    {
        using var dir = new TempDirectory();
        dir.Write("sources.list", """
            deb https://packages.example/apt cloud-sdk-bookworm main
            deb http://security.example/debian-security bookworm-security main
            deb [signed-by=/usr/share/keyrings/docker.gpg] https://download.example/linux/debian bookworm stable
            """);
        dir.Write("sources.list.d/debian.sources", """
            Types: deb
            URIs: http://security.example/debian-security
            Suites: trixie-security
            Components: main

            Types: deb
            URIs: http://mirror.example/debian
            Suites: trixie trixie-updates
            Components: main
            Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
            """);
        dir.Write("sources.list.d/later.list", "deb http://later.example/debian trixie main\n");

        DebianMirror mirror = DebianMirror.Resolve(Env(), dir.Path);

        Assert.Equal(new Uri("http://mirror.example/debian/"), mirror.BaseUri);
        Assert.EndsWith("debian.sources:6", mirror.Source, StringComparison.Ordinal);
        Assert.Equal(new Uri("http://mirror.example/debian/dists/trixie/InRelease"), mirror.Resolve("dists/trixie/InRelease"));
    }

    [Fact]
    public void Resolve_OneLineSourcesListWorksToo()
    {
        using var dir = new TempDirectory();
        dir.Write("sources.list", """
            deb-src http://src.example/debian bookworm main
            deb http://security.example/debian-security/ bookworm-security main
            deb http://ftp.example/debian/ bookworm main non-free-firmware
            """);

        DebianMirror mirror = DebianMirror.Resolve(Env(), dir.Path);

        Assert.Equal(new Uri("http://ftp.example/debian/"), mirror.BaseUri);
        Assert.Equal(DebianMirror.DefaultKeyring, mirror.Keyring);
    }

    [Fact]
    public void Resolve_EnvironmentOverridesAptSources()
    {
        using var dir = new TempDirectory();
        dir.Write("sources.list", "deb http://ftp.example/debian bookworm main\n");

        DebianMirror mirror = DebianMirror.Resolve(
            Env((DebianMirror.MirrorVariable, "https://local.example/mirror/debian"), (DebianMirror.KeyringVariable, "/tmp/k.gpg")),
            dir.Path);

        Assert.Equal(new Uri("https://local.example/mirror/debian/"), mirror.BaseUri);
        Assert.Equal("/tmp/k.gpg", mirror.Keyring);
        Assert.Equal(DebianMirror.MirrorVariable, mirror.Source);
    }

    [Fact]
    public void Resolve_RejectsOverrideThatIsNotHttp()
    {
        using var dir = new TempDirectory();
        var ex = Assert.Throws<GuestKitException>(() => DebianMirror.Resolve(Env((DebianMirror.MirrorVariable, "ftp://x/debian")), dir.Path));
        Assert.Contains(DebianMirror.MirrorVariable, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_NoDebianArchive_SaysHowToSetOne()
    {
        using var dir = new TempDirectory();
        dir.Write("sources.list.d/debian.sources", "Types: deb\nURIs: http://security.example/debian-security\nSuites: trixie-security\nComponents: main\n");

        var ex = Assert.Throws<GuestKitException>(() => DebianMirror.Resolve(Env(), dir.Path));

        Assert.Contains(DebianMirror.MirrorVariable, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_SkipsDisabledStanzasAndNonHttpUris()
    {
        using var dir = new TempDirectory();
        dir.Write("sources.list.d/a.sources", """
            Types: deb
            URIs: http://off.example/debian
            Suites: trixie
            Components: main
            Enabled: no

            Types: deb
            URIs: cdrom:[Debian GNU/Linux]/ http://on.example/debian
            Suites: trixie
            Components: main
            """);

        Assert.Equal(new Uri("http://on.example/debian/"), DebianMirror.Resolve(Env(), dir.Path).BaseUri);
    }
}
