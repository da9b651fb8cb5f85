namespace Vessel.Api;

/// <summary>The dashboard bundle that Vessel.Api.csproj builds with esbuild and embeds as <c>dashboard/&lt;file&gt;</c>.</summary>
public sealed class DashboardAssets
{
    private const string Prefix = "dashboard/";
    private readonly Dictionary<string, byte[]> _files = [];

    public DashboardAssets()
    {
        var assembly = typeof(DashboardAssets).Assembly;
        foreach (string resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            _files[resource[Prefix.Length..]] = copy.ToArray();
        }
    }

    public IReadOnlyCollection<string> Names => _files.Keys;

    public byte[] Get(string name) => _files[name];

    public static string ContentType(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        _ => "application/octet-stream",
    };
}
