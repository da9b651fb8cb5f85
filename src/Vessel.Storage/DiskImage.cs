using Microsoft.Win32.SafeHandles;
using Vessel.Storage.Qcow2;
using Vessel.Storage.Vdi;
using Vessel.Storage.Vhd;
using Vessel.Storage.Vmdk;

namespace Vessel.Storage;

/// <summary>Opens disk images of any supported format, probing the format from the content when none is given.</summary>
public static class DiskImage
{
    /// <summary>Longest backing chain followed (an image plus this many backing files).</summary>
    public const int MaxBackingChainDepth = 32;

    /// <summary>
    /// Opens <paramref name="path"/> as <paramref name="format"/> ("raw", "qcow2", "vpc", "vmdk", "vdi"), or probes the content when null.
    /// Backing files are opened read-only. Throws <see cref="DiskImageException"/> with a message for the user.
    /// </summary>
    public static IBlockBackend Open(string path, string? format = null, bool readOnly = false) =>
        Open(path, format, readOnly, new BackingChain());

    internal static IBlockBackend Open(string path, string? format, bool readOnly, BackingChain chain)
    {
        chain.Enter(path);
        ImageFormat kind;
        if (format is null)
        {
            kind = ImageFormatDetector.Detect(path);
            if (kind is not (ImageFormat.Raw or ImageFormat.Qcow2 or ImageFormat.Vhd or ImageFormat.Vmdk or ImageFormat.Vdi))
            {
                throw new DiskImageException($"{path}: image format '{kind.ToName()}' is not supported yet (supported: raw, qcow2, vpc, vmdk, vdi)");
            }
        }
        else
        {
            kind = ImageFormatNames.ParseSupported(format);
        }

        return kind switch
        {
            ImageFormat.Qcow2 => Qcow2Image.Open(path, readOnly, chain),
            ImageFormat.Vhd => VhdImage.Open(path, readOnly, chain),
            ImageFormat.Vmdk => VmdkImage.Open(path, readOnly, chain),
            ImageFormat.Vdi => VdiImage.Open(path, readOnly),
            _ => RawImage.Open(path, readOnly),
        };
    }

    /// <summary>Opens the host file, turning the usual failures into <see cref="DiskImageException"/>s.</summary>
    internal static SafeFileHandle OpenHandle(string path, bool readOnly)
    {
        try
        {
            if (Directory.Exists(path))
            {
                throw new DiskImageException($"{path}: is a directory");
            }

            return File.OpenHandle(
                path,
                FileMode.Open,
                readOnly ? FileAccess.Read : FileAccess.ReadWrite,
                readOnly ? FileShare.Read : FileShare.None);
        }
        catch (FileNotFoundException e)
        {
            throw new DiskImageException($"{path}: no such file", e);
        }
        catch (DirectoryNotFoundException e)
        {
            throw new DiskImageException($"{path}: no such file", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new DiskImageException($"{path}: permission denied{(readOnly ? string.Empty : " (try read-only)")}", e);
        }
        catch (IOException e) when (e is not FileNotFoundException)
        {
            throw new DiskImageException($"{path}: {e.Message}", e);
        }
    }
}
