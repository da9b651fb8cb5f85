using System.Globalization;
using System.Text;

namespace Vessel.Images;

/// <summary>
/// Extracts a "newc" cpio archive (the initramfs format, Linux Documentation/driver-api/early-userspace/
/// buffer-format.rst) into a directory: directories, regular files and symlinks. Device nodes are skipped
/// (devtmpfs provides them) and any path that would leave the target directory is refused.
/// </summary>
public static class CpioArchiveReader
{
    private const int HeaderLength = 110;

    public static void ExtractTo(Stream archive, string directory)
    {
        string root = Path.GetFullPath(directory);
        Directory.CreateDirectory(root);
        var header = new byte[HeaderLength];
        while (true)
        {
            archive.ReadExactly(header);
            string text = Encoding.ASCII.GetString(header);
            if (!text.StartsWith("070701", StringComparison.Ordinal) && !text.StartsWith("070702", StringComparison.Ordinal))
            {
                throw new GuestKitException("initramfs: not a newc cpio archive.");
            }

            uint mode = Field(text, 2);
            long fileSize = Field(text, 7);
            int nameSize = (int)Field(text, 12);
            if (nameSize is < 1 or > 4096 || fileSize > (1L << 31))
            {
                throw new GuestKitException("initramfs: corrupt cpio header.");
            }

            var nameBytes = new byte[nameSize];
            archive.ReadExactly(nameBytes);
            Skip(archive, Pad(HeaderLength + nameSize));
            string name = Encoding.UTF8.GetString(nameBytes, 0, nameSize - 1);
            if (name == "TRAILER!!!")
            {
                return;
            }

            var data = new byte[fileSize];
            archive.ReadExactly(data);
            Skip(archive, Pad((int)fileSize));

            string path = Path.GetFullPath(Path.Combine(root, name.TrimStart('/')));
            if (!path.StartsWith(root, StringComparison.Ordinal))
            {
                throw new GuestKitException($"initramfs: entry '{name}' points outside the archive.");
            }

            switch (mode & 0xF000)
            {
                case 0x4000:
                    Directory.CreateDirectory(path);
                    break;
                case 0x8000:
                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    File.WriteAllBytes(path, data);
                    if (!OperatingSystem.IsWindows())
                    {
                        File.SetUnixFileMode(path, (UnixFileMode)(mode & 0xFFF));
                    }
                    break;
                case 0xA000:
                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    File.CreateSymbolicLink(path, Encoding.UTF8.GetString(data));
                    break;
            }
        }
    }

    // Fields after the magic, 8 hex digits each: 1 ino, 2 mode, 3 uid, 4 gid, 5 nlink, 6 mtime, 7 filesize,
    // 8-11 device numbers, 12 namesize, 13 check.
    private static uint Field(string header, int index) =>
        uint.Parse(header.AsSpan(6 + (8 * (index - 1)), 8), NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    private static int Pad(int length) => (4 - (length % 4)) % 4;

    private static void Skip(Stream s, int count)
    {
        Span<byte> pad = stackalloc byte[4];
        s.ReadExactly(pad[..count]);
    }
}
