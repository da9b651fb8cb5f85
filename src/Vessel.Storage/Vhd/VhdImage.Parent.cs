using System.Text;

namespace Vessel.Storage.Vhd;

/// <summary>Finding and opening a differencing disk's parent (VHD specification, "Parent Locator Entries").</summary>
public sealed partial class VhdImage
{
    /// <summary>Opens the parent read-only through <paramref name="chain"/>, so parent loops and deep chains are refused.</summary>
    private static (IBlockBackend Parent, string Path) OpenParent(VhdImage child, BackingChain chain)
    {
        var candidates = ParentCandidates(child);
        if (candidates.Count == 0)
        {
            throw new DiskImageException($"{child.Path}: malformed VHD image: the differencing disk names no parent (no parent locator and no parent name)");
        }

        string? found = candidates.FirstOrDefault(File.Exists);
        if (found is null)
        {
            throw new DiskImageException($"{child.Path}: cannot find the parent disk (tried {string.Join(", ", candidates.Select(c => $"'{c}'"))})");
        }

        IBlockBackend parent;
        try
        {
            parent = DiskImage.Open(found, format: null, readOnly: true, chain);
        }
        catch (DiskImageException e)
        {
            throw new DiskImageException($"{child.Path}: cannot open parent disk: {e.Message}", e);
        }

        var expected = child._header!.ParentUniqueId;
        if (parent is VhdImage vhd && expected != Guid.Empty && vhd.UniqueId != expected)
        {
            parent.Dispose();
            throw new DiskImageException($"{child.Path}: parent disk '{found}' has unique id {vhd.UniqueId} but the differencing disk was made from {expected} (the parent was replaced)");
        }

        return (parent, found);
    }

    /// <summary>Host paths the parent may be at, best first: the relative locator, the absolute one, a Mac URL, the name.</summary>
    private static List<string> ParentCandidates(VhdImage child)
    {
        var header = child._header!;
        string folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(child.Path)) ?? ".";
        var candidates = new List<string>();
        foreach (uint code in new[] { VhdParentLocator.WindowsRelative, VhdParentLocator.WindowsAbsolute, VhdParentLocator.MacOsXUrl })
        {
            foreach (var locator in header.Locators.Where(l => l.PlatformCode == code && l.DataLength > 0))
            {
                byte[] data = ReadExactly(child._file, locator.DataOffset, (int)locator.DataLength);
                string? text = code == VhdParentLocator.MacOsXUrl ? FromFileUrl(Encoding.UTF8.GetString(data)) : Encoding.Unicode.GetString(data);
                if (text is not null)
                {
                    AddCandidate(candidates, folder, text);
                }
            }
        }

        AddCandidate(candidates, folder, header.ParentName);
        return candidates;
    }

    private static void AddCandidate(List<string> candidates, string folder, string windowsOrHostPath)
    {
        string text = windowsOrHostPath.TrimEnd('\0').Trim();
        if (text.Length == 0 || text.Contains('\0', StringComparison.Ordinal))
        {
            return;
        }

        // Windows separators become host ones; a relative path is relative to the differencing disk's folder.
        string host = text.Replace('\\', '/');
        string full = System.IO.Path.GetFullPath(System.IO.Path.IsPathRooted(host) ? host : System.IO.Path.Combine(folder, host));
        if (!candidates.Contains(full))
        {
            candidates.Add(full);
        }
    }

    /// <summary>"MacX" locators hold a file URL ("file://localhost/path" or "file:///path").</summary>
    private static string? FromFileUrl(string url)
    {
        url = url.TrimEnd('\0');
        if (!url.StartsWith("file://", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        string rest = url["file://".Length..];
        if (rest.StartsWith("localhost/", StringComparison.OrdinalIgnoreCase))
        {
            rest = rest["localhost".Length..];
        }

        return Uri.UnescapeDataString(rest);
    }

    /// <summary>The W2ru text for <paramref name="parentFull"/> seen from <paramref name="childFull"/>'s folder (".\name").</summary>
    private static string RelativeWindowsPath(string childFull, string parentFull)
    {
        string folder = System.IO.Path.GetDirectoryName(childFull) ?? ".";
        string relative = System.IO.Path.GetRelativePath(folder, parentFull).Replace('/', '\\');
        return relative.StartsWith("..", StringComparison.Ordinal) || System.IO.Path.IsPathRooted(relative) ? relative : ".\\" + relative;
    }
}
