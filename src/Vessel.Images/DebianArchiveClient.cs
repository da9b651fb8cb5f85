using System.Net;
using System.Security.Cryptography;

namespace Vessel.Images;

/// <summary>
/// Downloads from a Debian archive over HTTP with the verification chain apt uses
/// (https://wiki.debian.org/DebianRepository/Format): InRelease checked with gpgv against the keyring, the Packages
/// index checked against the SHA256 the InRelease gives, and each .deb against the SHA256 in Packages.
/// </summary>
public sealed class DebianArchiveClient : IDisposable
{
    private const int Attempts = 3;
    private static readonly TimeSpan StallTimeout = TimeSpan.FromSeconds(60);
    private readonly HttpClient _http;

    public DebianArchiveClient(DebianMirror mirror, HttpMessageHandler? handler = null)
    {
        Mirror = mirror;
        _http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        _http.Timeout = Timeout.InfiniteTimeSpan; // large downloads; stalls are caught per read instead
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("vessel-guest-kit/1");
    }

    public DebianMirror Mirror { get; }

    /// <summary>Downloads <c>dists/SUITE/InRelease</c>, verifies its signature and returns the signed Release text parsed.</summary>
    public async Task<ReleaseFile> FetchReleaseAsync(string suite, string workDirectory, IProgress<GuestKitProgress>? progress, CancellationToken cancellationToken)
    {
        string relative = $"dists/{suite}/InRelease";
        string path = Path.Combine(workDirectory, "InRelease");
        await DownloadAsync(relative, path, "InRelease", expectedSize: null, expectedSha256: null, progress, cancellationToken).ConfigureAwait(false);
        string text = await OpenPgpVerifier.VerifyClearsignedAsync(path, Mirror.Keyring, $"{relative} from {Mirror}", cancellationToken).ConfigureAwait(false);
        ReleaseFile release = ReleaseFile.Parse(text);
        if (release.Codename != suite && release.Suite != suite)
        {
            throw new GuestKitException($"{relative} from {Mirror} is for suite '{release.Codename ?? release.Suite}', not '{suite}'.");
        }

        return release;
    }

    /// <summary>Downloads <c>COMPONENT/binary-ARCH/Packages.xz</c> (by hash when the archive offers it), checks it against the Release file, and parses it.</summary>
    public async Task<PackageIndex> FetchPackageIndexAsync(
        ReleaseFile release, string suite, string component, string architecture, string workDirectory,
        IProgress<GuestKitProgress>? progress, CancellationToken cancellationToken)
    {
        string indexPath = $"{component}/binary-{architecture}/Packages.xz";
        if (!release.TryGetSha256(indexPath, out string sha256, out long size))
        {
            throw new GuestKitException($"dists/{suite}/InRelease from {Mirror} lists no {indexPath} (is {architecture} in the archive?).");
        }

        string relative = release.AcquireByHash
            ? $"dists/{suite}/{component}/binary-{architecture}/by-hash/SHA256/{sha256}"
            : $"dists/{suite}/{indexPath}";
        string xzPath = Path.Combine(workDirectory, "Packages.xz");
        await DownloadAsync(relative, xzPath, "Packages.xz", size, sha256, progress, cancellationToken).ConfigureAwait(false);

        string plainPath = Path.Combine(workDirectory, "Packages");
        await using (var plain = File.Create(plainPath))
        {
            await XzDecompressor.DecompressAsync(xzPath, plain, cancellationToken).ConfigureAwait(false);
        }

        using var reader = new StreamReader(plainPath);
        return PackageIndex.Parse(reader);
    }

    /// <summary>
    /// Returns the path of <paramref name="package"/>'s .deb in <paramref name="downloadsDirectory"/>, downloading it
    /// unless a file with the right SHA-256 is already there.
    /// </summary>
    public async Task<string> DownloadPackageAsync(DebianPackage package, string downloadsDirectory, IProgress<GuestKitProgress>? progress, CancellationToken cancellationToken)
    {
        string fileName = Path.GetFileName(package.Filename);
        string path = Path.Combine(downloadsDirectory, fileName);
        if (File.Exists(path) && new FileInfo(path).Length == package.Size
            && await FileHash.Sha256Async(path, cancellationToken).ConfigureAwait(false) == package.Sha256)
        {
            progress?.Report(new GuestKitProgress(fileName, package.Size, package.Size, Done: true));
            return path;
        }

        await DownloadAsync(package.Filename, path, fileName, package.Size, package.Sha256, progress, cancellationToken).ConfigureAwait(false);
        return path;
    }

    public void Dispose() => _http.Dispose();

    /// <summary>
    /// Downloads <paramref name="relative"/> to <paramref name="destination"/> (via a temp file and a rename),
    /// checking size and SHA-256 when given; retries transient failures, then throws a one-line error naming the mirror.
    /// </summary>
    private async Task DownloadAsync(
        string relative, string destination, string step, long? expectedSize, string? expectedSha256,
        IProgress<GuestKitProgress>? progress, CancellationToken cancellationToken)
    {
        Uri uri = Mirror.Resolve(relative);
        string partial = destination + ".partial";
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await DownloadOnceAsync(uri, partial, step, expectedSize, expectedSha256, progress, cancellationToken).ConfigureAwait(false);
                File.Move(partial, destination, overwrite: true);
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                File.Delete(partial);
                bool transient = ex is not DownloadRejectedException;
                if (!transient || attempt == Attempts)
                {
                    throw new GuestKitException($"could not download {relative} from {Mirror}: {Describe(ex)}", ex);
                }

                await Task.Delay(TimeSpan.FromSeconds(attempt), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task DownloadOnceAsync(
        Uri uri, string destination, string step, long? expectedSize, string? expectedSha256,
        IProgress<GuestKitProgress>? progress, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            string status = $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}";
            throw (int)response.StatusCode is >= 400 and < 500 and not (int)HttpStatusCode.RequestTimeout and not 429
                ? new DownloadRejectedException(status)
                : new HttpRequestException(status);
        }

        long? total = expectedSize ?? response.Content.Headers.ContentLength;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using var file = new FileStream(destination, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
        byte[] buffer = new byte[1 << 16];
        long done = 0;
        long lastReport = -1;
        progress?.Report(new GuestKitProgress(step, 0, total, Done: false));
        while (true)
        {
            int read;
            using (var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                stall.CancelAfter(StallTimeout);
                try
                {
                    read = await body.ReadAsync(buffer, stall.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new TimeoutException($"no data for {StallTimeout.TotalSeconds:0} s");
                }
            }

            if (read == 0)
            {
                break;
            }

            hash.AppendData(buffer, 0, read);
            await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            done += read;
            if (expectedSize is { } max && done > max)
            {
                throw new IOException($"more data than the {max} bytes the index gives");
            }

            if (done - lastReport >= 1 << 18)
            {
                progress?.Report(new GuestKitProgress(step, done, total, Done: false));
                lastReport = done;
            }
        }

        await file.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (expectedSize is { } size && done != size)
        {
            throw new IOException($"got {done} bytes, the index gives {size}");
        }

        string actual = Convert.ToHexStringLower(hash.GetHashAndReset());
        if (expectedSha256 is not null && actual != expectedSha256)
        {
            throw new IOException($"SHA-256 {actual} does not match the index's {expectedSha256}");
        }

        progress?.Report(new GuestKitProgress(step, done, total ?? done, Done: true));
    }

    private static string Describe(Exception ex)
    {
        // The innermost message usually names the real cause (DNS failure, refused connection, …).
        Exception inner = ex;
        while (inner.InnerException is not null && inner is HttpRequestException)
        {
            inner = inner.InnerException;
        }

        string message = inner == ex || ex.Message.Contains(inner.Message, StringComparison.Ordinal) ? ex.Message : $"{ex.Message} ({inner.Message})";
        return message.Replace('\n', ' ').Replace('\r', ' ');
    }

    /// <summary>A definitive answer from the server (e.g. 404) that retrying will not change.</summary>
    private sealed class DownloadRejectedException(string message) : Exception(message);
}
