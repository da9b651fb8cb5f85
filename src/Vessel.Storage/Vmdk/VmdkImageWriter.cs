using System.Buffers.Binary;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Vessel.Storage.Vmdk;

/// <summary>
/// Creates VMDK images, empty or as a copy of another disk. Every file is written under a temporary name, fsynced
/// and renamed into place (a flat extent before the descriptor that names it), so a crash never leaves a
/// half-written image under the target name.
/// </summary>
internal static class VmdkImageWriter
{
    private const ulong GrainSectors = 128; // 64 KiB grains, as VMware and QEMU create them
    private const uint TableEntries = 512;
    private const ulong DescriptorSectors = 20;
    private const int CopyChunk = 1 << 20;

    /// <summary>Grain table entries are 32-bit sectors: a sparse extent file stays below 2 TiB.</summary>
    private const ulong MaxSparseSize = 2UL << 40;

    public static void Create(string path, ulong size, VmdkSubformat subformat, string? backingFile)
    {
        (uint Cid, string Hint)? parent = null;
        if (backingFile is not null)
        {
            if (subformat != VmdkSubformat.MonolithicSparse)
            {
                throw new DiskImageException($"{path}: only monolithicSparse VMDK images can have a backing file");
            }

            if (backingFile.AsSpan().IndexOfAny("\"\r\n\0") >= 0)
            {
                throw new DiskImageException($"{path}: backing file name '{backingFile}' cannot be stored in a VMDK descriptor");
            }

            // The parent must open (with its own chain) and be a VMDK: the child records its CID.
            string parentPath = Qcow2.Qcow2Image.ResolveBackingPath(path, backingFile);
            using var disk = DiskImage.Open(parentPath, null, readOnly: true);
            if (disk is not VmdkImage vmdk)
            {
                throw new DiskImageException($"{path}: the backing file of a VMDK must be a VMDK image ('{backingFile}' is not)");
            }

            parent = (vmdk.Cid, backingFile);
        }

        Copy(null, path, size, subformat, parent, progress: null, CancellationToken.None);
    }

    public static void Copy(IBlockBackend source, string path, VmdkSubformat subformat, Action<ulong, ulong>? progress, CancellationToken cancellationToken) =>
        Copy(source, path, source.Size, subformat, parent: null, progress, cancellationToken);

    private static void Copy(
        IBlockBackend? source,
        string path,
        ulong size,
        VmdkSubformat subformat,
        (uint Cid, string Hint)? parent,
        Action<ulong, ulong>? progress,
        CancellationToken cancellationToken)
    {
        if (size == 0)
        {
            // An extent of 0 sectors is not valid in a descriptor (and QEMU cannot open such an image either).
            throw new DiskImageException($"{path}: a VMDK image needs a size of at least 512 bytes");
        }

        if (size > (ulong)long.MaxValue - 511)
        {
            throw new DiskImageException($"{path}: size {size} is too large");
        }

        if (subformat != VmdkSubformat.MonolithicFlat && size > MaxSparseSize)
        {
            throw new DiskImageException($"{path}: size {size} is too large for a sparse VMDK (at most 2 TiB)");
        }

        string full = System.IO.Path.GetFullPath(path);
        string folder = System.IO.Path.GetDirectoryName(full) ?? ".";
        string temp = TempName(full);
        string? flatTemp = null;
        try
        {
            switch (subformat)
            {
                case VmdkSubformat.MonolithicSparse:
                    WriteEmptySparse(temp, System.IO.Path.GetFileName(full), size, parent);
                    if (source is not null)
                    {
                        using var target = VmdkImage.Open(temp, readOnly: false);
                        CopyData(source, (offset, data) => target.Write(offset, data), target.GrainSize ?? CopyChunk, progress, cancellationToken);
                        target.Flush();
                    }

                    break;
                case VmdkSubformat.StreamOptimized:
                    using (var stream = new VmdkStreamWriter(temp, System.IO.Path.GetFileName(full), size))
                    {
                        if (source is not null)
                        {
                            CopyGrains(source, stream, progress, cancellationToken);
                        }

                        stream.Finish();
                    }

                    break;
                default:
                    string flatName = FlatExtentName(full);
                    string flatFull = System.IO.Path.Combine(folder, flatName);
                    if (source is not null && SourcePath(source) is { } sourcePath &&
                        string.Equals(System.IO.Path.GetFullPath(sourcePath), flatFull, StringComparison.Ordinal))
                    {
                        throw new DiskImageException($"{path}: its flat extent '{flatName}' would replace the source image");
                    }

                    flatTemp = TempName(flatFull);
                    ulong capacity = (size + 511) / 512;
                    using (var flat = File.OpenHandle(flatTemp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None))
                    {
                        RandomAccess.SetLength(flat, (long)(capacity * 512));
                        if (source is not null)
                        {
                            CopyData(source, (offset, data) => RandomAccess.Write(flat, data, (long)offset), 64 << 10, progress, cancellationToken);
                        }

                        RandomAccess.FlushToDisk(flat);
                    }

                    var descriptor = new VmdkDescriptor
                    {
                        CreateType = "monolithicFlat",
                        Cid = NewCid(),
                        Extents = [new VmdkExtentLine(VmdkExtentAccess.ReadWrite, capacity, VmdkExtentType.Flat, flatName, 0)],
                    };
                    using (var text = File.OpenHandle(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None))
                    {
                        RandomAccess.Write(text, Encoding.ASCII.GetBytes(descriptor.ToText(capacity * 512)), 0);
                        RandomAccess.FlushToDisk(text);
                    }

                    File.Move(flatTemp, flatFull, overwrite: true);
                    flatTemp = null;
                    break;
            }

            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Cleanup(temp, flatTemp);
            throw new DiskImageException($"{path}: cannot create VMDK image: {e.Message}", e);
        }
        catch
        {
            Cleanup(temp, flatTemp);
            throw;
        }
    }

    /// <summary>QEMU's naming for a monolithicFlat extent: "disk.vmdk" keeps its data in "disk-flat.vmdk".</summary>
    public static string FlatExtentName(string descriptorPath)
    {
        string name = System.IO.Path.GetFileName(descriptorPath);
        int dot = name.LastIndexOf('.');
        return dot <= 0 ? name + "-flat" : name[..dot] + "-flat" + name[dot..];
    }

    /// <summary>
    /// The monolithicSparse layout (spec "Hosted Sparse Extent Header" and "Grain Directories and Grain Tables"):
    /// header | descriptor (20 sectors) | redundant directory | redundant tables | directory | tables | grains.
    /// Every grain table is preallocated (zeroed), so writes only ever append grains.
    /// </summary>
    private static void WriteEmptySparse(string path, string fileName, ulong size, (uint Cid, string Hint)? parent)
    {
        ulong capacity = (size + 511) / 512;
        ulong grains = (capacity + GrainSectors - 1) / GrainSectors;
        ulong tableSectors = (TableEntries * 4) / 512;
        ulong tables = (grains + TableEntries - 1) / TableEntries;
        ulong directorySectors = ((tables * 4) + 511) / 512;
        ulong redundantDirectory = 1 + DescriptorSectors;
        ulong directory = redundantDirectory + directorySectors + (tables * tableSectors);
        ulong overhead = (directory + directorySectors + (tables * tableSectors) + GrainSectors - 1) / GrainSectors * GrainSectors;
        var header = new VmdkSparseHeader
        {
            Version = 1,
            Flags = VmdkSparseHeader.FlagNewlineDetection | VmdkSparseHeader.FlagRedundantGrainTable,
            Capacity = capacity,
            GrainSize = GrainSectors,
            DescriptorOffset = 1,
            DescriptorSize = DescriptorSectors,
            GrainTableEntries = TableEntries,
            RedundantGrainDirectoryOffset = redundantDirectory,
            GrainDirectoryOffset = directory,
            Overhead = overhead,
        };
        var descriptor = new VmdkDescriptor
        {
            CreateType = "monolithicSparse",
            Cid = NewCid(),
            ParentCid = parent?.Cid ?? VmdkDescriptor.NoParent,
            ParentFileNameHint = parent?.Hint,
            Extents = [new VmdkExtentLine(VmdkExtentAccess.ReadWrite, capacity, VmdkExtentType.Sparse, fileName, 0)],
        };
        byte[] text = Encoding.UTF8.GetBytes(descriptor.ToText(capacity * 512));
        if (text.Length > (int)(DescriptorSectors * 512))
        {
            throw new DiskImageException($"{path}: the VMDK descriptor does not fit in {DescriptorSectors} sectors (backing file name too long?)");
        }

        using var file = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);
        RandomAccess.SetLength(file, (long)(overhead * 512));
        RandomAccess.Write(file, header.ToBytes(), 0);
        RandomAccess.Write(file, text, 512);
        WriteDirectory(file, redundantDirectory, directorySectors, tables, tableSectors);
        WriteDirectory(file, directory, directorySectors, tables, tableSectors);
        RandomAccess.FlushToDisk(file);
    }

    /// <summary>A directory at <paramref name="sector"/> whose tables follow it back to back.</summary>
    private static void WriteDirectory(SafeFileHandle file, ulong sector, ulong directorySectors, ulong tables, ulong tableSectors)
    {
        byte[] entries = new byte[directorySectors * 512];
        for (ulong i = 0; i < tables; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(entries.AsSpan((int)(i * 4)), (uint)(sector + directorySectors + (i * tableSectors)));
        }

        RandomAccess.Write(file, entries, (long)(sector * 512));
    }

    private static void CopyData(IBlockBackend source, Action<ulong, ArraySegment<byte>> write, int granule, Action<ulong, ulong>? progress, CancellationToken cancellationToken)
    {
        int chunk = Math.Max(granule, CopyChunk);
        byte[] buffer = new byte[chunk];
        for (ulong offset = 0; offset < source.Size; offset += (ulong)chunk)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int length = (int)Math.Min((ulong)chunk, source.Size - offset);
            source.Read(offset, buffer.AsSpan(0, length));
            for (int at = 0; at < length; at += granule)
            {
                int n = Math.Min(granule, length - at);
                if (buffer.AsSpan(at, n).ContainsAnyExcept((byte)0))
                {
                    write(offset + (ulong)at, new ArraySegment<byte>(buffer, at, n));
                }
            }

            progress?.Invoke(offset + (ulong)length, source.Size);
        }
    }

    private static void CopyGrains(IBlockBackend source, VmdkStreamWriter stream, Action<ulong, ulong>? progress, CancellationToken cancellationToken)
    {
        int grainBytes = VmdkStreamWriter.GrainBytes;
        byte[] grain = new byte[grainBytes];
        ulong capacityBytes = stream.Capacity * 512;
        for (ulong offset = 0, index = 0; offset < capacityBytes; offset += (ulong)grainBytes, index++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int length = (int)Math.Min((ulong)grainBytes, capacityBytes - offset);
            var data = grain.AsSpan(0, length);
            data.Clear();
            if (offset < source.Size)
            {
                source.Read(offset, data[..(int)Math.Min((ulong)length, source.Size - offset)]);
            }

            if (data.ContainsAnyExcept((byte)0))
            {
                stream.WriteGrain(index, data);
            }

            if (index % 16 == 15 || offset + (ulong)length >= capacityBytes)
            {
                progress?.Invoke(Math.Min(source.Size, offset + (ulong)length), source.Size);
            }
        }
    }

    private static string? SourcePath(IBlockBackend source) => source switch
    {
        RawImage raw => raw.Path,
        VmdkImage vmdk => vmdk.Path,
        Qcow2.Qcow2Image qcow => qcow.Path,
        _ => null,
    };

    private static uint NewCid() => (uint)Random.Shared.NextInt64(0, uint.MaxValue);

    private static string TempName(string full) =>
        System.IO.Path.Combine(
            System.IO.Path.GetDirectoryName(full) ?? ".",
            $".{System.IO.Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");

    private static void Cleanup(string temp, string? flatTemp)
    {
        File.Delete(temp);
        if (flatTemp is not null)
        {
            File.Delete(flatTemp);
        }
    }
}
