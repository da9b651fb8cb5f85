using Vessel.Storage.Qcow2;
using Vessel.Storage.Vdi;
using Vessel.Storage.Vhd;
using Vessel.Storage.Vmdk;

namespace Vessel.Storage;

/// <summary>
/// Copies a disk's contents into a new image of another format (<c>img convert</c>). All-zero clusters are skipped,
/// so the result is sparse. The target is written under a temporary name and renamed when complete and fsynced.
/// </summary>
public static class ImageConverter
{
    private const int ChunkSize = 1 << 20;

    /// <param name="progress">Called with (bytes done, total bytes) after each chunk.</param>
    /// <param name="options">vpc target options in qemu-img's <c>-o</c> syntax (<see cref="VhdCreateOptions"/>).</param>
    /// <param name="vmdkSubformat">Layout of a vmdk target (qemu-img's <c>-o subformat=</c>).</param>
    public static void Convert(
        string sourcePath,
        string? sourceFormat,
        string targetPath,
        ImageFormat targetFormat,
        bool compress = false,
        int clusterBits = 16,
        Action<ulong, ulong>? progress = null,
        CancellationToken cancellationToken = default,
        string? options = null,
        VmdkSubformat vmdkSubformat = VmdkSubformat.MonolithicSparse)
    {
        if (targetFormat is not (ImageFormat.Raw or ImageFormat.Qcow2 or ImageFormat.Vhd or ImageFormat.Vmdk or ImageFormat.Vdi))
        {
            throw new DiskImageException($"cannot write images in format '{targetFormat.ToName()}' (supported: raw, qcow2, vpc, vmdk, vdi)");
        }

        if (!string.IsNullOrWhiteSpace(options) && targetFormat != ImageFormat.Vhd)
        {
            throw new DiskImageException($"output options ('{options}') are only understood for vpc");
        }

        var vhdOptions = VhdCreateOptions.Parse(options);

        if (compress && targetFormat != ImageFormat.Qcow2)
        {
            throw new DiskImageException("compression (-c) needs the qcow2 output format");
        }

        string fullTarget = Path.GetFullPath(targetPath);
        if (string.Equals(Path.GetFullPath(sourcePath), fullTarget, StringComparison.Ordinal))
        {
            throw new DiskImageException($"{targetPath}: source and target are the same file");
        }

        using var source = DiskImage.Open(sourcePath, sourceFormat, readOnly: true);
        if (targetFormat == ImageFormat.Vmdk)
        {
            VmdkImage.CreateCopy(source, fullTarget, vmdkSubformat, progress, cancellationToken); // writes its own temp files
            return;
        }

        string temp = Path.Combine(Path.GetDirectoryName(fullTarget) ?? ".", $".{Path.GetFileName(fullTarget)}.{Guid.NewGuid():N}.tmp");
        try
        {
            if (targetFormat == ImageFormat.Qcow2)
            {
                Qcow2Image.Create(temp, source.Size, clusterBits);
                using var target = Qcow2Image.Open(temp, readOnly: false);
                Copy(source, target, compress, progress, cancellationToken);
                target.Flush();
            }
            else if (targetFormat == ImageFormat.Vhd)
            {
                VhdImage.Create(temp, source.Size, vhdOptions.Type, forceSize: vhdOptions.ForceSize);
                using var target = VhdImage.Open(temp, readOnly: false);
                Copy(source, target, compress: false, progress, cancellationToken);
                target.Flush();
            }
            else if (targetFormat == ImageFormat.Vdi)
            {
                VdiImage.Create(temp, source.Size);
                using var target = VdiImage.Open(temp, readOnly: false);
                Copy(source, target, compress: false, progress, cancellationToken);
                target.Flush();
            }
            else
            {
                RawImage.Create(temp, source.Size);
                using var target = RawImage.Open(temp, readOnly: false);
                Copy(source, target, compress: false, progress, cancellationToken);
                target.Flush();
            }

            File.Move(temp, fullTarget, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    private static void Copy(IBlockBackend source, IBlockBackend target, bool compress, Action<ulong, ulong>? progress, CancellationToken cancellationToken)
    {
        int granule = target is Qcow2Image q ? q.ClusterSize : 64 << 10;
        int chunk = Math.Max(granule, ChunkSize);
        byte[] buffer = new byte[chunk];
        for (ulong offset = 0; offset < source.Size; offset += (ulong)chunk)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int length = (int)Math.Min((ulong)chunk, source.Size - offset);
            var data = buffer.AsSpan(0, length);
            source.Read(offset, data);
            for (int at = 0; at < length; at += granule)
            {
                var piece = data.Slice(at, Math.Min(granule, length - at));
                if (!piece.ContainsAnyExcept((byte)0))
                {
                    continue; // holes stay holes
                }

                if (compress && target is Qcow2Image qcow)
                {
                    qcow.WriteCompressedCluster(offset + (ulong)at, piece);
                }
                else
                {
                    target.Write(offset + (ulong)at, piece);
                }
            }

            progress?.Invoke(offset + (ulong)length, source.Size);
        }
    }
}
