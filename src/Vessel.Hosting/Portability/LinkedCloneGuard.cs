using Vessel.Storage;

namespace Vessel.Hosting.Portability;

/// <summary>
/// A linked clone's disks are qcow2 overlays whose backing files are the source VM's disks, so those disks must never
/// change again (a write under an overlay silently corrupts what the clone sees). Vessel enforces it: a VM whose
/// writable disk backs another VM's disk is refused start (and delete) while that clone exists.
/// </summary>
public static class LinkedCloneGuard
{
    /// <summary>Names of the VMs (among <paramref name="others"/>) with a disk backed, at any depth, by one of <paramref name="vm"/>'s writable disks.</summary>
    public static IReadOnlyList<string> Dependents(VmDefinition vm, IEnumerable<VmDefinition> others)
    {
        var writable = vm.Disks.Where(d => !d.ReadOnly).Select(d => Path.GetFullPath(d.Path)).ToHashSet(StringComparer.Ordinal);
        if (writable.Count == 0)
        {
            return [];
        }

        return [.. others.Where(o => o.Name != vm.Name && o.Disks.Any(d => BackingFiles(d.Path).Any(writable.Contains))).Select(o => o.Name)];
    }

    /// <summary>Throws <see cref="VmConflictException"/> naming the linked clones when <paramref name="vm"/>'s disks back any.</summary>
    public static void EnsureNone(VmDefinition vm, IEnumerable<VmDefinition> others, string action)
    {
        if (Dependents(vm, others) is { Count: > 0 } clones)
        {
            throw new VmConflictException(
                $"VM '{vm.Name}' cannot {action}: its disks are the backing files of linked clone{(clones.Count > 1 ? "s" : string.Empty)} {string.Join(", ", clones.Select(c => $"'{c}'"))}, " +
                "which any change would corrupt; delete the clones first (or make full clones instead)");
        }
    }

    /// <summary>
    /// Names of the VMs (among <paramref name="others"/>, except <paramref name="owner"/>) with a disk backed, at any
    /// depth, by a file inside one of <paramref name="directories"/>: a VM's snapshot bases and snapshot disk copies.
    /// </summary>
    public static IReadOnlyList<string> DependentsOnFilesUnder(IEnumerable<string> directories, IEnumerable<VmDefinition> others, string owner)
    {
        var prefixes = directories.Select(d => Path.TrimEndingDirectorySeparator(Path.GetFullPath(d)) + Path.DirectorySeparatorChar).ToList();
        return [.. others.Where(o => o.Name != owner && o.Disks.Any(d => BackingFiles(d.Path).Any(f => prefixes.Any(p => f.StartsWith(p, StringComparison.Ordinal))))).Select(o => o.Name)];
    }

    /// <summary>The backing chain of a disk image as absolute paths (empty for an unreadable image or one without a backing file).</summary>
    public static IEnumerable<string> BackingFiles(string path)
    {
        string current = path;
        for (int depth = 0; depth < DiskImage.MaxBackingChainDepth; depth++)
        {
            string? backing;
            try
            {
                backing = DiskImageInspector.Inspect(current, shareWithWriter: true).BackingFile; // clones may be running
            }
            catch (Exception e) when (e is DiskImageException or IOException or UnauthorizedAccessException)
            {
                yield break;
            }

            if (backing is null)
            {
                yield break;
            }

            current = Path.GetFullPath(backing, Path.GetDirectoryName(Path.GetFullPath(current))!);
            yield return current;
        }
    }
}
