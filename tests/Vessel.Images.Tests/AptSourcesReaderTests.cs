namespace Vessel.Images.Tests;

public sealed class AptSourcesReaderTests
{
    [Fact]
    public void OneLineFormat_ReadsEntriesOptionsAndSkipsComments()
    {
        const string text = """
            # a comment line
            deb http://mirror.example/debian bookworm main contrib # trailing comment
            deb-src http://mirror.example/debian bookworm main

            deb [arch=amd64 signed-by=/usr/share/keyrings/other.gpg] https://repo.example/apt stable main
            deb [ signed-by=/usr/share/keyrings/debian-archive-keyring.gpg ] http://second.example/debian/ trixie main
            #deb http://commented.example/debian sid main
            """;

        IReadOnlyList<AptSourceEntry> entries = AptSourcesReader.ParseOneLine(text, "sources.list");

        Assert.Equal(4, entries.Count);
        Assert.Equal(["deb"], entries[0].Types);
        Assert.Equal(["http://mirror.example/debian"], entries[0].Uris);
        Assert.Equal(["bookworm"], entries[0].Suites);
        Assert.Equal(["main", "contrib"], entries[0].Components);
        Assert.Null(entries[0].SignedBy);
        Assert.Equal("sources.list:2", entries[0].Origin);
        Assert.False(entries[1].IsBinary);
        Assert.Equal("/usr/share/keyrings/other.gpg", entries[2].SignedBy);
        Assert.Equal(["https://repo.example/apt"], entries[2].Uris);
        Assert.Equal("/usr/share/keyrings/debian-archive-keyring.gpg", entries[3].SignedBy);
        Assert.Equal(["trixie"], entries[3].Suites);
    }

    [Fact]
    public void Deb822Format_ReadsStanzasWithSeveralUrisAndSuites()
    {
        const string text = """
            # leading comment
            Types: deb deb-src
            URIs: http://mirror.example/debian http://backup.example/debian
            Suites: bookworm bookworm-updates
            Components: main
            Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

            Types: deb
            # a comment inside a stanza
            URIs: http://mirror.example/debian-security
            Suites: bookworm-security
            Components: main

            types: deb
            uris: http://disabled.example/debian
            suites: sid
            components: main
            enabled: no
            """;

        IReadOnlyList<AptSourceEntry> entries = AptSourcesReader.ParseDeb822(text, "debian.sources");

        Assert.Equal(3, entries.Count);
        Assert.Equal(["deb", "deb-src"], entries[0].Types);
        Assert.Equal(["http://mirror.example/debian", "http://backup.example/debian"], entries[0].Uris);
        Assert.Equal(["bookworm", "bookworm-updates"], entries[0].Suites);
        Assert.Equal("/usr/share/keyrings/debian-archive-keyring.gpg", entries[0].SignedBy);
        Assert.True(entries[0].IsBinary);
        Assert.Equal(["bookworm-security"], entries[1].Suites);
        Assert.False(entries[2].Enabled);
        Assert.False(entries[2].IsBinary);
        Assert.Equal("debian.sources:2", entries[0].Origin);
    }

    [Fact]
    public void Deb822Format_EmbeddedKeyContinuationLinesAreSkipped()
    {
        const string text = """
            Types: deb
            URIs: http://mirror.example/debian
            Suites: trixie
            Components: main
            Signed-By:
             -----BEGIN PGP PUBLIC KEY BLOCK-----
             .
             mQINBGQ...
             -----END PGP PUBLIC KEY BLOCK-----
            """;

        var entry = Assert.Single(AptSourcesReader.ParseDeb822(text, "x.sources"));
        Assert.Null(entry.SignedBy);
        Assert.Equal(["main"], entry.Components);
    }

    [Fact]
    public void ReadAll_FollowsAptFileOrderAndIgnoresOtherExtensions()
    {
        using var dir = new TempDirectory();
        dir.Write("sources.list", "deb http://first.example/debian trixie main\n");
        dir.Write("sources.list.d/b.sources", "Types: deb\nURIs: http://third.example/debian\nSuites: trixie\nComponents: main\n");
        dir.Write("sources.list.d/a.list", "deb http://second.example/debian trixie main\n");
        dir.Write("sources.list.d/c.list.disabled", "deb http://ignored.example/debian trixie main\n");
        dir.Write("sources.list.d/d.sources.save", "Types: deb\nURIs: http://ignored.example/debian\nSuites: trixie\nComponents: main\n");

        var uris = AptSourcesReader.ReadAll(dir.Path).SelectMany(e => e.Uris).ToArray();

        Assert.Equal(["http://first.example/debian", "http://second.example/debian", "http://third.example/debian"], uris);
    }

    [Fact]
    public void ReadAll_MissingFolderGivesNothing()
    {
        using var dir = new TempDirectory();
        Assert.Empty(AptSourcesReader.ReadAll(dir.Combine("nope")));
    }
}
