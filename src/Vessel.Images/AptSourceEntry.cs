namespace Vessel.Images;

/// <summary>
/// One apt source as sources.list(5) describes it: a one-line <c>deb URI SUITE COMPONENT…</c> entry or one
/// deb822 stanza of a <c>.sources</c> file (which may name several URIs and suites at once).
/// </summary>
/// <param name="Types">"deb" and/or "deb-src".</param>
/// <param name="Uris">Archive roots, in the order written.</param>
/// <param name="Suites">Suites (codenames or "stable"...), or exact paths ending in "/".</param>
/// <param name="Components">Components such as "main".</param>
/// <param name="SignedBy">The <c>Signed-By</c> option: a keyring path or fingerprints; null when absent.</param>
/// <param name="Enabled">False when a deb822 stanza says <c>Enabled: no</c>.</param>
/// <param name="Origin">The file (and line) the entry came from, for messages.</param>
public sealed record AptSourceEntry(
    IReadOnlyList<string> Types,
    IReadOnlyList<string> Uris,
    IReadOnlyList<string> Suites,
    IReadOnlyList<string> Components,
    string? SignedBy,
    bool Enabled,
    string Origin)
{
    /// <summary>True for a binary-package ("deb") entry that is enabled.</summary>
    public bool IsBinary => Enabled && Types.Contains("deb", StringComparer.Ordinal);
}
