namespace Vessel.Storage.Qcow2;

/// <summary>Refcount repair for <see cref="Qcow2Repairer"/> (what <c>qemu-img check -r</c> fixes).</summary>
public sealed partial class Qcow2Image
{
    /// <summary>
    /// Opens an image without its backing chain (unallocated clusters read as zeroes), writable even when marked
    /// corrupt or dirty: for repairs and commits, which touch only this file's own clusters.
    /// </summary>
    internal static Qcow2Image OpenDetached(string path, bool readOnly)
    {
        var file = DiskImage.OpenHandle(path, readOnly);
        try
        {
            var header = ReadHeader(file, path);
            if (!readOnly && header.RefcountOrder != 4)
            {
                throw new DiskImageException($"{path}: refcount_order {header.RefcountOrder} can only be opened read-only (Vessel writes 16-bit refcounts)");
            }

            return new Qcow2Image(path, file, header, readOnly, backing: null);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Sets stored refcounts to the counted <paramref name="references"/>: too high ones (leaks) when
    /// <paramref name="fixLeaks"/>, too low ones (corruptions) and COPIED flags when <paramref name="fixCorruptions"/>.
    /// Returns one "Repairing cluster" line per changed refcount, like qemu-img.
    /// </summary>
    internal List<string> RepairRefcounts(int[] references, bool fixLeaks, bool fixCorruptions, out int leaksFixed, out int corruptionsFixed)
    {
        CheckWritable();
        var messages = new List<string>();
        leaksFixed = 0;
        corruptionsFixed = 0;

        // Raise too-low refcounts first so that nothing in use is ever counted as free on disk, even after a crash.
        for (ulong c = 0; c < (ulong)references.Length; c++)
        {
            int stored = StoredRefcount(c);
            bool leak = stored > references[c] && fixLeaks;
            bool corrupt = stored < references[c] && fixCorruptions;
            if (corrupt)
            {
                messages.Add($"Repairing cluster {c} refcount={stored} reference={references[c]}");
                ChangeRefcount(c, references[c] - stored);
                corruptionsFixed++;
            }
            else if (leak)
            {
                leaksFixed++;
            }
        }

        WriteBackMetadata(applyFrees: false);
        RandomAccess.FlushToDisk(_file);
        if (fixLeaks)
        {
            for (ulong c = 0; c < (ulong)references.Length; c++)
            {
                int stored = StoredRefcount(c);
                if (stored > references[c])
                {
                    messages.Add($"Repairing cluster {c} refcount={stored} reference={references[c]}");
                    ChangeRefcount(c, references[c] - stored);
                }
            }

            WriteBackMetadata(applyFrees: false);
            RandomAccess.FlushToDisk(_file);
        }

        if (fixCorruptions)
        {
            corruptionsFixed += RefreshCopiedFlags();
            WriteBackMetadata(applyFrees: false);
            RandomAccess.FlushToDisk(_file);
        }

        return messages;
    }

    /// <summary>Clears the dirty and corrupt bits (spec "Header", incompatible bits 0 and 1) once the metadata is consistent.</summary>
    internal void ClearDirtyAndCorrupt()
    {
        ulong features = _header.IncompatibleFeatures & ~(Qcow2Header.IncompatibleDirty | Qcow2Header.IncompatibleCorrupt);
        if (_header.Version >= 3 && features != _header.IncompatibleFeatures)
        {
            WriteHeaderField(72, features);
            RandomAccess.FlushToDisk(_file);
            _header = _header with { IncompatibleFeatures = features };
        }
    }
}
