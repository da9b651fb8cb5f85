namespace Vessel.Images.Tests;

/// <summary>
/// A fact skipped (at discovery) unless the host's Debian mirror answers for dists/trixie/InRelease within a few
/// seconds and the named host programs are installed. VESSEL_SKIP_NETWORK_TESTS=1 skips it always.
/// </summary>
public sealed class RequiresMirrorFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> MirrorProblem = new(Probe);

    public RequiresMirrorFactAttribute(params string[] tools)
    {
        string[] missing = tools.Where(t => !HostTools.Exists(t)).ToArray();
        if (missing.Length > 0)
        {
            Skip = $"not installed: {string.Join(", ", missing)}";
        }
        else if (MirrorProblem.Value is { } problem)
        {
            Skip = problem;
        }
    }

    private static string? Probe()
    {
        if (Environment.GetEnvironmentVariable("VESSEL_SKIP_NETWORK_TESTS") == "1")
        {
            return "VESSEL_SKIP_NETWORK_TESTS=1";
        }

        try
        {
            DebianMirror mirror = DebianMirror.FromHost();
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            using var request = new HttpRequestMessage(HttpMethod.Head, mirror.Resolve("dists/trixie/InRelease"));
            using HttpResponseMessage response = http.Send(request);
            return response.IsSuccessStatusCode ? null : $"Debian mirror answered HTTP {(int)response.StatusCode}";
        }
        catch (Exception ex) when (ex is GuestKitException or HttpRequestException or TaskCanceledException or IOException)
        {
            return $"Debian mirror unreachable: {ex.Message}";
        }
    }
}
