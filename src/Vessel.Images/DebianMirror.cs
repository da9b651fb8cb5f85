namespace Vessel.Images;

/// <summary>
/// The Debian archive the guest kit downloads from, and the keyring its Release files are checked against.
/// By default it is the first "deb" entry of the host's main Debian archive in its apt sources (security archives
/// skipped); the environment variable <see cref="MirrorVariable"/> overrides it. No archive host name is built in.
/// </summary>
/// <param name="BaseUri">The archive root (the folder holding <c>dists/</c> and <c>pool/</c>), ending in '/'.</param>
/// <param name="Keyring">An OpenPGP keyring file (binary format, as gpgv(1) reads it).</param>
/// <param name="Source">Where the URI came from, e.g. an apt sources file and line, or the environment variable.</param>
public sealed record DebianMirror(Uri BaseUri, string Keyring, string Source)
{
    /// <summary>Environment variable overriding the mirror URI, e.g. a local mirror or a snapshot.</summary>
    public const string MirrorVariable = "VESSEL_DEBIAN_MIRROR";

    /// <summary>Environment variable overriding the keyring used to verify the archive's InRelease file.</summary>
    public const string KeyringVariable = "VESSEL_DEBIAN_KEYRING";

    /// <summary>The keyring that package debian-archive-keyring installs.</summary>
    public const string DefaultKeyring = "/usr/share/keyrings/debian-archive-keyring.gpg";

    // Codenames and aliases of Debian suites, used to tell the Debian archive from third-party repositories.
    private static readonly string[] DebianSuites =
    [
        "stable", "testing", "unstable", "experimental", "oldstable", "oldoldstable", "sid",
        "buster", "bullseye", "bookworm", "trixie", "forky", "duke",
    ];

    /// <summary>The mirror from the process environment and the host's <c>/etc/apt</c>.</summary>
    public static DebianMirror FromHost() => Resolve(Environment.GetEnvironmentVariable, "/etc/apt");

    /// <summary>
    /// Resolves the mirror: <see cref="MirrorVariable"/> if set, else the host's apt sources under
    /// <paramref name="etcAptDirectory"/>. Throws <see cref="GuestKitException"/> when neither gives one.
    /// </summary>
    public static DebianMirror Resolve(Func<string, string?> getEnvironmentVariable, string etcAptDirectory)
    {
        string? keyringOverride = NullIfEmpty(getEnvironmentVariable(KeyringVariable));
        string? overrideUri = NullIfEmpty(getEnvironmentVariable(MirrorVariable));
        if (overrideUri is not null)
        {
            if (!TryParseHttpUri(overrideUri, out Uri? uri))
            {
                throw new GuestKitException($"{MirrorVariable}='{overrideUri}' is not an absolute http(s) URI.");
            }

            return new DebianMirror(uri, keyringOverride ?? DefaultKeyring, MirrorVariable);
        }

        foreach (AptSourceEntry entry in AptSourcesReader.ReadAll(etcAptDirectory))
        {
            if (!IsMainDebianArchive(entry))
            {
                continue;
            }

            foreach (string candidate in entry.Uris)
            {
                if (TryParseHttpUri(candidate, out Uri? uri) && !IsSecurityUri(uri))
                {
                    return new DebianMirror(uri, keyringOverride ?? KeyringFrom(entry.SignedBy), entry.Origin);
                }
            }
        }

        throw new GuestKitException(
            $"no Debian archive found in the apt sources under {etcAptDirectory}; set {MirrorVariable} to a Debian mirror URI.");
    }

    /// <summary>
    /// True for a binary entry of the main Debian archive: component "main", a Debian suite name or an archive path
    /// ending in "/debian", signed (if it says) with a Debian archive keyring, and not the security archive.
    /// </summary>
    public static bool IsMainDebianArchive(AptSourceEntry entry)
    {
        if (!entry.IsBinary || !entry.Components.Contains("main", StringComparer.Ordinal))
        {
            return false;
        }

        if (entry.Suites.Any(s => s.EndsWith("-security", StringComparison.Ordinal) || s.EndsWith("/updates", StringComparison.Ordinal)))
        {
            return false;
        }

        if (entry.SignedBy is { } signedBy && signedBy.StartsWith('/') && !signedBy.Contains("debian-archive", StringComparison.Ordinal))
        {
            return false;
        }

        bool debianSuite = entry.Suites.Any(s => DebianSuites.Contains(s.Split('-')[0], StringComparer.Ordinal));
        bool debianPath = entry.Uris.Any(u => TryParseHttpUri(u, out Uri? uri) && uri.AbsolutePath.TrimEnd('/').EndsWith("/debian", StringComparison.Ordinal));
        return debianSuite || debianPath;
    }

    /// <summary>The URI of a file under the archive root, e.g. "dists/trixie/InRelease".</summary>
    public Uri Resolve(string relativePath) => new(BaseUri, relativePath);

    public override string ToString() => BaseUri.ToString();

    private static bool IsSecurityUri(Uri uri) => uri.AbsolutePath.Contains("-security", StringComparison.Ordinal);

    private static string KeyringFrom(string? signedBy) =>
        // gpgv reads binary keyrings; an armored (.asc) file, fingerprints or an inline key fall back to the default.
        signedBy is not null && signedBy.StartsWith('/') && signedBy.EndsWith(".gpg", StringComparison.Ordinal) && File.Exists(signedBy)
            ? signedBy
            : DefaultKeyring;

    private static bool TryParseHttpUri(string text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Uri? uri)
    {
        if (Uri.TryCreate(text.EndsWith('/') ? text : text + "/", UriKind.Absolute, out Uri? parsed)
            && (parsed.Scheme == Uri.UriSchemeHttp || parsed.Scheme == Uri.UriSchemeHttps))
        {
            uri = parsed;
            return true;
        }

        uri = null;
        return false;
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
