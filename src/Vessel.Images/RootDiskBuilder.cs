using System.IO.Compression;

namespace Vessel.Images;

/// <summary>
/// Builds an ext4 root disk (raw image) holding the guest kit's userland — busybox, /etc and the kernel
/// modules — by unpacking the kit's initramfs and running <c>mke2fs -d</c> (Debian's e2fsprogs, no root
/// needed). The kit's /init mounts it and switches root when the kernel command line says <c>root=</c>.
/// </summary>
public static class RootDiskBuilder
{
    public static async Task BuildAsync(GuestKitPaths kit, string output, ulong size, CancellationToken cancellationToken)
    {
        if (size < (16UL << 20))
        {
            throw new GuestKitException("a root disk needs at least 16M.");
        }

        string staging = Path.Combine(Path.GetTempPath(), $"vessel-rootfs-{Guid.NewGuid():N}");
        string temporary = output + ".partial";
        try
        {
            await using (var file = File.OpenRead(kit.Initramfs))
            await using (var gzip = new GZipStream(file, CompressionMode.Decompress))
            await using (var buffered = new BufferedStream(gzip, 1 << 16))
            {
                CpioArchiveReader.ExtractTo(buffered, staging);
            }

            // The disk's own init is busybox init (the initramfs /init already set up /proc, /sys and /dev).
            string sbinInit = Path.Combine(staging, "sbin", "init");
            Directory.CreateDirectory(Path.GetDirectoryName(sbinInit)!);
            File.Delete(sbinInit);
            File.CreateSymbolicLink(sbinInit, "/bin/busybox");
            foreach (string dir in new[] { "proc", "sys", "dev", "tmp", "mnt", "root" })
            {
                Directory.CreateDirectory(Path.Combine(staging, dir));
            }

            File.Delete(temporary);
            await HostTool.RunCheckedAsync(
                "mke2fs",
                ["-q", "-F", "-t", "ext4", "-L", "vessel-root", "-d", staging, temporary, $"{size / 1024}k"],
                "e2fsprogs",
                cancellationToken).ConfigureAwait(false);
            File.Move(temporary, output, overwrite: true);
        }
        finally
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }

            File.Delete(temporary);
        }
    }
}
