namespace Vessel.Images;

/// <summary>The state of one kit folder in the cache.</summary>
/// <param name="Name">Folder name, e.g. "debian-trixie-riscv64".</param>
/// <param name="Directory">Its full path.</param>
/// <param name="Manifest">The parsed manifest, if there is one.</param>
/// <param name="Problem">Why the kit is not usable as is (missing manifest, a file missing or changed, stale); null when it is.</param>
/// <param name="SizeBytes">Total size of the files in the folder.</param>
public sealed record GuestKitStatus(string Name, string Directory, GuestKitManifest? Manifest, string? Problem, long SizeBytes)
{
    public bool IsValid => Problem is null;
}
