using System.Net;
using System.Security.Cryptography;

namespace Vessel.Images.Tests;

public sealed class DebianArchiveClientTests
{
    private static readonly DebianMirror Mirror = new(new Uri("http://mirror.example/debian/"), DebianMirror.DefaultKeyring, "test");

    /// <summary>Serves fixed responses by path and counts requests.</summary>
    private sealed class FakeArchive(Dictionary<string, (HttpStatusCode Status, byte[] Body)> files) : HttpMessageHandler
    {
        public int Requests { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests++;
            var (status, body) = files.TryGetValue(request.RequestUri!.AbsolutePath, out var file) ? file : (HttpStatusCode.NotFound, []);
            return Task.FromResult(new HttpResponseMessage(status) { Content = new ByteArrayContent(body) });
        }
    }

    private static DebianPackage Package(byte[] content, string? sha256 = null) =>
        new("opensbi", "1.6-1", "all", string.Empty, "pool/main/o/opensbi/opensbi_1.6-1_all.deb", content.Length,
            sha256 ?? Convert.ToHexStringLower(SHA256.HashData(content)));

    [Fact]
    public async Task DownloadPackage_VerifiesHash_ReportsProgress_AndReusesTheFile()
    {
        byte[] deb = RandomNumberGenerator.GetBytes(700_000);
        using var handler = new FakeArchive(new() { ["/debian/pool/main/o/opensbi/opensbi_1.6-1_all.deb"] = (HttpStatusCode.OK, deb) });
        using var client = new DebianArchiveClient(Mirror, handler);
        using var dir = new TempDirectory();
        var reports = new List<GuestKitProgress>();
        var progress = new SyncProgress(reports.Add);

        string path = await client.DownloadPackageAsync(Package(deb), dir.Path, progress, CancellationToken.None);

        Assert.Equal(deb, File.ReadAllBytes(path));
        Assert.Equal("opensbi_1.6-1_all.deb", Path.GetFileName(path));
        Assert.True(reports[^1].Done);
        Assert.Equal(deb.Length, reports[^1].Completed);
        Assert.Contains(reports, r => !r.Done && r.Completed > 0 && r.Completed < deb.Length);

        await client.DownloadPackageAsync(Package(deb), dir.Path, null, CancellationToken.None);
        Assert.Equal(1, handler.Requests);
        Assert.Single(Directory.GetFiles(dir.Path)); // no .partial left behind
    }

    [Fact]
    public async Task DownloadPackage_HashMismatch_FailsNamingMirrorAndFile_LeavesNothing()
    {
        byte[] deb = [1, 2, 3, 4];
        using var handler = new FakeArchive(new() { ["/debian/pool/main/o/opensbi/opensbi_1.6-1_all.deb"] = (HttpStatusCode.OK, deb) });
        using var client = new DebianArchiveClient(Mirror, handler);
        using var dir = new TempDirectory();

        var ex = await Assert.ThrowsAsync<GuestKitException>(
            () => client.DownloadPackageAsync(Package(deb, sha256: new string('0', 64)), dir.Path, null, CancellationToken.None));

        Assert.Contains("http://mirror.example/debian/", ex.Message, StringComparison.Ordinal);
        Assert.Contains("opensbi_1.6-1_all.deb", ex.Message, StringComparison.Ordinal);
        Assert.Contains("SHA-256", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
        Assert.Empty(Directory.GetFiles(dir.Path));
        Assert.Equal(3, handler.Requests); // retried: a mirror can be caught mid-sync
    }

    [Fact]
    public async Task NotFound_FailsAtOnceWithTheHttpStatus()
    {
        using var handler = new FakeArchive([]);
        using var client = new DebianArchiveClient(Mirror, handler);
        using var dir = new TempDirectory();

        var ex = await Assert.ThrowsAsync<GuestKitException>(
            () => client.FetchReleaseAsync("trixie", dir.Path, null, CancellationToken.None));

        Assert.Equal("could not download dists/trixie/InRelease from http://mirror.example/debian/: HTTP 404 Not Found", ex.Message);
        Assert.Equal(1, handler.Requests);
    }

    [Fact]
    public async Task UnreachableMirror_GivesOneLineError()
    {
        var closed = new DebianMirror(new Uri("http://127.0.0.1:9/debian/"), DebianMirror.DefaultKeyring, "test");
        using var client = new DebianArchiveClient(closed);
        using var dir = new TempDirectory();

        var ex = await Assert.ThrowsAsync<GuestKitException>(
            () => client.FetchReleaseAsync("trixie", dir.Path, null, CancellationToken.None));

        Assert.StartsWith("could not download dists/trixie/InRelease from http://127.0.0.1:9/debian/: ", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
    }
}
