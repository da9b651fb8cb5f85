using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Vessel.Storage.Vmdk;

/// <summary>
/// A VMDK disk (VMware Virtual Disk Format 1.1): either one hosted sparse file (monolithicSparse, streamOptimized)
/// or a text descriptor naming FLAT, SPARSE and ZERO extents stored next to it (monolithicFlat, twoGbMaxExtent*).
/// A delta link's parent (parentFileNameHint) is opened read-only through the backing chain.
/// </summary>
public sealed class VmdkImage : IBlockBackend
{
    private readonly VmdkExtent[] _extents;
    private readonly ulong[] _starts;
    private readonly List<SafeFileHandle> _handles;
    private readonly IBlockBackend? _parent;
    private readonly VmdkDescriptor? _descriptor;
    private readonly SafeFileHandle? _descriptorFile;
    private readonly long _descriptorOffset;
    private readonly long _descriptorRoom;
    private bool _cidUpdated;
    private bool _disposed;

    private VmdkImage(
        string path,
        string createType,
        VmdkDescriptor? descriptor,
        (SafeFileHandle File, long Offset, long Room) descriptorAt,
        VmdkExtent[] extents,
        List<SafeFileHandle> handles,
        IBlockBackend? parent,
        bool readOnly)
    {
        Path = path;
        CreateType = createType;
        Cid = descriptor?.Cid ?? 0;
        _descriptor = descriptor;
        (_descriptorFile, _descriptorOffset, _descriptorRoom) = descriptorAt;
        _extents = extents;
        _handles = handles;
        _parent = parent;
        IsReadOnly = readOnly;
        _starts = new ulong[extents.Length];
        ulong at = 0;
        for (int i = 0; i < extents.Length; i++)
        {
            _starts[i] = at;
            at += extents[i].Length;
        }

        Size = at;
    }

    public string Path { get; }

    /// <summary>
    /// True if every byte of this image (descriptor and extents) is in the file at <see cref="Path"/>, as with
    /// monolithicSparse and streamOptimized; false when extents live in files of their own (VMDK 1.1 §2: flat and
    /// split images), so copying <see cref="Path"/> alone would not copy the disk.
    /// </summary>
    public bool IsSingleFile => _extents.All(e => e is VmdkZeroExtent || System.IO.Path.GetFullPath(e.Path) == System.IO.Path.GetFullPath(Path));

    public ulong Size { get; }

    public bool IsReadOnly { get; }

    /// <summary>The descriptor's createType: monolithicSparse, streamOptimized, monolithicFlat, ...</summary>
    public string CreateType { get; }

    /// <summary>Content ID from the descriptor; a child's parentCID must match it.</summary>
    public uint Cid { get; private set; }

    /// <summary>Grain size in bytes of the first sparse extent, or null for a disk of flat extents only.</summary>
    public int? GrainSize => _extents.OfType<VmdkSparseExtent>().FirstOrDefault()?.GrainSize;

    public IBlockBackend? Parent => _parent;

    internal IEnumerable<VmdkSparseExtent> SparseExtents => _extents.OfType<VmdkSparseExtent>();

    public static VmdkImage Open(string path, bool readOnly) => Open(path, readOnly, new BackingChain());

    /// <summary>Checks the grain tables of every sparse extent (flat extents have no metadata to check).</summary>
    public static ImageCheckResult Check(string path)
    {
        using var image = Open(path, readOnly: true);
        var tally = new ImageCheckTally();
        foreach (var extent in image._extents)
        {
            if (extent is VmdkSparseExtent sparse)
            {
                sparse.Check(tally);
            }
        }

        return tally.ToResult();
    }


    internal static VmdkImage Open(string path, bool readOnly, BackingChain chain, bool openParent = true)
    {
        var handles = new List<SafeFileHandle>();
        var extents = new List<VmdkExtent>();
        IBlockBackend? parent = null;
        try
        {
            var file = DiskImage.OpenHandle(path, readOnly);
            handles.Add(file);
            long length = RandomAccess.GetLength(file);
            byte[] head = new byte[512];
            int n = RandomAccess.Read(file, head, 0);
            VmdkDescriptor? descriptor;
            string createType;
            (SafeFileHandle File, long Offset, long Room) descriptorAt = (file, 0, VmdkDescriptor.MaxLength);
            if (VmdkSparseHeader.HasMagic(head.AsSpan(0, n)))
            {
                var sparse = VmdkSparseExtent.Open(path, file, readOnly);
                extents.Add(sparse);
                descriptor = sparse.ReadEmbeddedDescriptor();
                descriptorAt = (file, (long)sparse.Header.DescriptorOffset * 512, (long)Math.Min(sparse.Header.DescriptorSize * 512, VmdkDescriptor.MaxLength));
                createType = sparse.Header.IsCompressed ? "streamOptimized" : "monolithicSparse";
            }
            else if (head.AsSpan(0, n).StartsWith("COWD"u8))
            {
                throw new DiskImageException($"{path}: VMware 3 / ESX \"COWD\" sparse extents are not supported");
            }
            else if (VmdkDescriptor.LooksLikeDescriptor(head.AsSpan(0, n)))
            {
                if (length > VmdkDescriptor.MaxLength)
                {
                    throw new DiskImageException($"{path}: {length} bytes is too large for a VMDK descriptor file");
                }

                byte[] text = new byte[length];
                RandomAccess.Read(file, text, 0);
                descriptor = VmdkDescriptor.Parse(text, path, requireExtents: true);
                createType = descriptor.CreateType;
                foreach (var line in descriptor.Extents)
                {
                    extents.Add(OpenExtent(path, line, readOnly, handles));
                }
            }
            else
            {
                throw new DiskImageException($"{path}: not a VMDK image (no \"KDMV\" sparse header and no text descriptor)");
            }

            ulong total = 0;
            foreach (var extent in extents)
            {
                total += extent.Length;
                if (total > (ulong)long.MaxValue)
                {
                    throw new DiskImageException($"{path}: VMDK extents add up to more than {long.MaxValue} bytes");
                }
            }

            if (openParent && descriptor is { ParentCid: not VmdkDescriptor.NoParent, ParentFileNameHint: { } hint })
            {
                parent = OpenParent(path, hint, descriptor.ParentCid, chain);
                ulong offset = 0;
                foreach (var extent in extents)
                {
                    if (extent is VmdkSparseExtent sparse)
                    {
                        sparse.Parent = parent;
                        sparse.DiskOffset = offset;
                    }

                    offset += extent.Length;
                }
            }

            return new VmdkImage(path, createType, descriptor, descriptorAt, [.. extents], handles, parent, readOnly);
        }
        catch
        {
            parent?.Dispose();
            foreach (var handle in handles)
            {
                handle.Dispose();
            }

            throw;
        }
    }

    /// <summary>
    /// Creates an empty image. monolithicSparse: one file laid out as QEMU and VMware do (header, descriptor,
    /// redundant directory and tables, directory and tables, first grain aligned). monolithicFlat: the descriptor at
    /// <paramref name="path"/> plus "NAME-flat.EXT" next to it. streamOptimized: an image with no grains.
    /// A monolithicSparse image may be a delta link on <paramref name="backingFile"/> (a VMDK, relative to the new
    /// image's folder unless absolute), stored as parentFileNameHint with the parent's current CID.
    /// </summary>
    public static void Create(string path, ulong size, VmdkSubformat subformat = VmdkSubformat.MonolithicSparse, string? backingFile = null)
    {
        VmdkImageWriter.Create(path, size, subformat, backingFile);
    }

    /// <summary>Copies <paramref name="source"/> into a new image at <paramref name="path"/>, sparse (all-zero grains are skipped).</summary>
    public static void CreateCopy(
        IBlockBackend source,
        string path,
        VmdkSubformat subformat,
        Action<ulong, ulong>? progress = null,
        CancellationToken cancellationToken = default)
    {
        VmdkImageWriter.Copy(source, path, subformat, progress, cancellationToken);
    }

    /// <summary>What <c>img info</c> shows: virtual size and grain size, without opening a parent.</summary>
    public static DiskImageInfo Inspect(string path)
    {
        using var image = Open(path, readOnly: true, new BackingChain(), openParent: false);
        using var file = DiskImage.OpenHandle(path, readOnly: true);
        return new DiskImageInfo
        {
            Path = path,
            Format = ImageFormat.Vmdk,
            VirtualSize = image.Size,
            FileLength = (ulong)RandomAccess.GetLength(file),
            ClusterSize = image.GrainSize,
        };
    }

    public void Read(ulong offset, Span<byte> buffer)
    {
        CheckRange(offset, (ulong)buffer.Length);
        while (buffer.Length > 0)
        {
            int i = ExtentAt(offset);
            ulong within = offset - _starts[i];
            int n = (int)Math.Min((ulong)buffer.Length, _extents[i].Length - within);
            _extents[i].Read(within, buffer[..n]);
            buffer = buffer[n..];
            offset += (ulong)n;
        }
    }

    public void Write(ulong offset, ReadOnlySpan<byte> data)
    {
        CheckWritable();
        CheckRange(offset, (ulong)data.Length);
        UpdateCid();
        while (data.Length > 0)
        {
            int i = ExtentAt(offset);
            ulong within = offset - _starts[i];
            int n = (int)Math.Min((ulong)data.Length, _extents[i].Length - within);
            _extents[i].Write(within, data[..n]);
            data = data[n..];
            offset += (ulong)n;
        }
    }

    public void Flush()
    {
        CheckOpen();
        foreach (var extent in _extents)
        {
            extent.Flush();
        }
    }

    public void Discard(ulong offset, ulong length)
    {
        CheckWritable();
        CheckRange(offset, length);
        UpdateCid();
        ForEachExtent(offset, length, (extent, within, n) => extent.Discard(within, n));
    }

    public void WriteZeroes(ulong offset, ulong length)
    {
        CheckWritable();
        CheckRange(offset, length);
        UpdateCid();
        ForEachExtent(offset, length, (extent, within, n) => extent.WriteZeroes(within, n));
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        try
        {
            if (!IsReadOnly)
            {
                Flush();
            }
        }
        finally
        {
            _disposed = true;
            foreach (var extent in _extents)
            {
                extent.Dispose();
            }

            foreach (var handle in _handles)
            {
                handle.Dispose();
            }

            _parent?.Dispose();
        }
    }

    private static VmdkExtent OpenExtent(string descriptorPath, VmdkExtentLine line, bool readOnly, List<SafeFileHandle> handles)
    {
        if (line.Access == VmdkExtentAccess.NoAccess)
        {
            throw new DiskImageException($"{descriptorPath}: VMDK NOACCESS extents are not supported");
        }

        if (line.Type == VmdkExtentType.Zero)
        {
            return new VmdkZeroExtent(descriptorPath, line.Sectors);
        }

        string extentPath = ResolveExtentPath(descriptorPath, line.FileName!);
        bool extentReadOnly = readOnly || line.Access == VmdkExtentAccess.ReadOnly;
        SafeFileHandle file;
        try
        {
            file = DiskImage.OpenHandle(extentPath, extentReadOnly);
        }
        catch (DiskImageException e)
        {
            throw new DiskImageException($"{descriptorPath}: cannot open VMDK extent '{line.FileName}': {e.Message}", e);
        }

        handles.Add(file);
        if (line.Type == VmdkExtentType.Flat)
        {
            ulong needed = (line.Offset + line.Sectors) * 512;
            ulong actual = (ulong)RandomAccess.GetLength(file);
            if (actual < needed)
            {
                throw new DiskImageException($"{descriptorPath}: VMDK flat extent '{line.FileName}' has {actual} bytes, but the descriptor needs {needed}");
            }

            return new VmdkFlatExtent(extentPath, file, line.Sectors, line.Offset, extentReadOnly);
        }

        var sparse = VmdkSparseExtent.Open(extentPath, file, extentReadOnly);
        if (sparse.Header.Capacity != line.Sectors)
        {
            throw new DiskImageException($"{descriptorPath}: VMDK extent '{line.FileName}' holds {sparse.Header.Capacity} sectors, but the descriptor says {line.Sectors}");
        }

        return sparse;
    }

    /// <summary>
    /// Extent file names are relative to the descriptor's folder (spec "Extent Descriptions"). Absolute names and
    /// names that climb out of that folder are refused, so an image cannot make Vessel open arbitrary host files.
    /// </summary>
    private static string ResolveExtentPath(string descriptorPath, string fileName)
    {
        if (System.IO.Path.IsPathRooted(fileName) || fileName.Contains('\\', StringComparison.Ordinal))
        {
            throw new DiskImageException($"{descriptorPath}: VMDK extent path '{fileName}' is absolute; only names relative to the descriptor's folder are allowed");
        }

        string folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(descriptorPath)) ?? ".";
        string full = System.IO.Path.GetFullPath(System.IO.Path.Combine(folder, fileName));
        string prefix = folder.EndsWith(System.IO.Path.DirectorySeparatorChar) ? folder : folder + System.IO.Path.DirectorySeparatorChar;
        if (!full.StartsWith(prefix, StringComparison.Ordinal))
        {
            throw new DiskImageException($"{descriptorPath}: VMDK extent path '{fileName}' leaves the descriptor's folder");
        }

        if (string.Equals(full, System.IO.Path.GetFullPath(descriptorPath), StringComparison.Ordinal))
        {
            throw new DiskImageException($"{descriptorPath}: VMDK extent '{fileName}' is the descriptor file itself");
        }

        // A symbolic link inside the folder must not lead out of it either.
        FileSystemInfo? target = null;
        try
        {
            target = File.ResolveLinkTarget(full, returnFinalTarget: true);
        }
        catch (IOException)
        {
            // Not a link, or missing: opening it reports the problem.
        }

        if (target is not null && !System.IO.Path.GetFullPath(target.FullName).StartsWith(prefix, StringComparison.Ordinal))
        {
            throw new DiskImageException($"{descriptorPath}: VMDK extent '{fileName}' is a link that leaves the descriptor's folder");
        }

        return full;
    }

    private static IBlockBackend OpenParent(string path, string hint, uint parentCid, BackingChain chain)
    {
        string parentPath = Qcow2.Qcow2Image.ResolveBackingPath(path, hint);
        IBlockBackend parent;
        try
        {
            parent = DiskImage.Open(parentPath, null, readOnly: true, chain);
        }
        catch (DiskImageException e)
        {
            throw new DiskImageException($"{path}: cannot open VMDK parent '{hint}': {e.Message}", e);
        }

        if (parent is VmdkImage vmdk && vmdk.Cid != parentCid)
        {
            parent.Dispose();
            throw new DiskImageException($"{path}: VMDK parent '{hint}' has CID {vmdk.Cid:x8}, but this image expects {parentCid:x8} (the parent was changed)");
        }

        return parent;
    }

    /// <summary>On the first change after opening, gives the disk a new content ID (spec "Content ID").</summary>
    private void UpdateCid()
    {
        if (_cidUpdated || _descriptor is null || _descriptorFile is null)
        {
            return;
        }

        _cidUpdated = true;
        uint cid;
        do
        {
            cid = (uint)Random.Shared.NextInt64(0, uint.MaxValue);
        }
        while (cid == _descriptor.Cid);

        byte[] text = Encoding.ASCII.GetBytes(_descriptor.TextWithCid(cid));
        if (text.Length > _descriptorRoom)
        {
            return; // cannot happen for a well-formed descriptor: the CID keeps its length
        }

        if (_descriptorOffset == 0)
        {
            RandomAccess.Write(_descriptorFile, text, 0);
            RandomAccess.SetLength(_descriptorFile, text.Length); // a descriptor file holds nothing else
        }
        else
        {
            byte[] region = new byte[_descriptorRoom]; // embedded: zero-padded to its sectors
            text.CopyTo(region, 0);
            RandomAccess.Write(_descriptorFile, region, _descriptorOffset);
        }

        Cid = cid;
    }

    private int ExtentAt(ulong offset)
    {
        int index = Array.BinarySearch(_starts, offset);
        if (index < 0)
        {
            index = ~index - 1;
        }

        return index;
    }

    private void ForEachExtent(ulong offset, ulong length, Action<VmdkExtent, ulong, ulong> action)
    {
        while (length > 0)
        {
            int i = ExtentAt(offset);
            ulong within = offset - _starts[i];
            ulong n = Math.Min(length, _extents[i].Length - within);
            action(_extents[i], within, n);
            offset += n;
            length -= n;
        }
    }

    private void CheckOpen() => ObjectDisposedException.ThrowIf(_disposed, this);

    private void CheckWritable()
    {
        CheckOpen();
        if (IsReadOnly)
        {
            throw new IOException($"{Path}: the image is open read-only");
        }
    }

    private void CheckRange(ulong offset, ulong length)
    {
        CheckOpen();
        if (offset > Size || length > Size - offset)
        {
            throw new IOException($"{Path}: access at {offset}+{length} is beyond the disk's end ({Size})");
        }
    }
}
