namespace Vessel.Storage;

/// <summary>The images opened so far along one backing chain: refuses loops and chains deeper than the limit.</summary>
internal sealed class BackingChain
{
    private readonly HashSet<string> _paths = new(StringComparer.Ordinal);

    public int Depth => _paths.Count;

    public void Enter(string path)
    {
        string full = Canonical(path);
        if (!_paths.Add(full))
        {
            throw new DiskImageException($"{path}: backing chain loop (the file is its own backing file)");
        }

        if (_paths.Count > DiskImage.MaxBackingChainDepth + 1)
        {
            throw new DiskImageException($"{path}: backing chain is deeper than {DiskImage.MaxBackingChainDepth} files");
        }
    }

    private static string Canonical(string path)
    {
        string full = Path.GetFullPath(path);
        try
        {
            var target = File.ResolveLinkTarget(full, returnFinalTarget: true);
            return target is null ? full : Path.GetFullPath(target.FullName);
        }
        catch (IOException)
        {
            return full;
        }
    }
}
