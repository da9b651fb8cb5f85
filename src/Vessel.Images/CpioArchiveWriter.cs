using System.Globalization;
using System.Text;

namespace Vessel.Images;

/// <summary>
/// Writes a cpio archive in the "newc" (SVR4, no CRC) format, the one the Linux kernel unpacks as an initramfs
/// (Documentation/driver-api/early-userspace/buffer-format.rst; cpio(5)): per entry a 110-byte ASCII header —
/// magic "070701" and thirteen 8-digit hex fields — then the NUL-terminated name, padded to 4 bytes, then the data,
/// padded to 4 bytes; the archive ends with an entry named "TRAILER!!!". Entries are owned by root; parent
/// directories are added automatically before their contents, since the kernel does not create them.
/// </summary>
public sealed class CpioArchiveWriter : IDisposable
{
    public const UnixFileMode DirectoryMode = (UnixFileMode)0x1ED; // 0755
    public const UnixFileMode FileMode = (UnixFileMode)0x1A4; // 0644
    public const UnixFileMode ExecutableMode = (UnixFileMode)0x1ED; // 0755

    private const uint TypeDirectory = 0x4000; // S_IFDIR  0040000
    private const uint TypeCharacterDevice = 0x2000; // S_IFCHR 0020000
    private const uint TypeRegular = 0x8000; // S_IFREG  0100000
    private const uint TypeSymbolicLink = 0xA000; // S_IFLNK 0120000
    private const string Trailer = "TRAILER!!!";

    private readonly Stream _output;
    private readonly bool _leaveOpen;
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private uint _nextInode = 1;
    private long _position;
    private bool _finished;

    public CpioArchiveWriter(Stream output, bool leaveOpen = false)
    {
        _output = output;
        _leaveOpen = leaveOpen;
    }

    /// <summary>Modification time of every entry, in seconds since the Unix epoch (fixed, so builds are reproducible).</summary>
    public uint ModificationTime { get; init; }

    /// <summary>Paths written so far (relative, without a leading '/').</summary>
    public IReadOnlyCollection<string> Names => _names;

    public void AddDirectory(string path, UnixFileMode mode = DirectoryMode)
    {
        string name = Normalize(path);
        if (_names.Contains(name))
        {
            return; // directories may be named more than once (e.g. added implicitly as a parent first)
        }

        AddParents(name);
        WriteEntry(name, TypeDirectory | (uint)mode, nlink: 2, ReadOnlySpan<byte>.Empty);
    }

    public void AddFile(string path, ReadOnlySpan<byte> contents, UnixFileMode mode = FileMode)
    {
        string name = Normalize(path);
        AddParents(name);
        WriteEntry(name, TypeRegular | (uint)mode, nlink: 1, contents);
    }

    public void AddFile(string path, string text, UnixFileMode mode = FileMode) =>
        AddFile(path, Encoding.UTF8.GetBytes(text), mode);

    /// <summary>Adds a symbolic link; its data is the target path, without a terminating NUL.</summary>
    public void AddSymbolicLink(string path, string target)
    {
        string name = Normalize(path);
        AddParents(name);
        WriteEntry(name, TypeSymbolicLink | 0x1FF /* 0777 */, nlink: 1, Encoding.UTF8.GetBytes(target));
    }

    public void AddCharacterDevice(string path, int major, int minor, UnixFileMode mode = (UnixFileMode)0x180 /* 0600 */)
    {
        string name = Normalize(path);
        AddParents(name);
        WriteEntry(name, TypeCharacterDevice | (uint)mode, nlink: 1, ReadOnlySpan<byte>.Empty, (uint)major, (uint)minor);
    }

    /// <summary>Writes the trailer. Nothing can be added afterwards; the stream is left positioned after it.</summary>
    public void Finish()
    {
        if (_finished)
        {
            return;
        }

        WriteHeader(Trailer, inode: 0, mode: 0, nlink: 1, size: 0, rdevMajor: 0, rdevMinor: 0);
        _finished = true;
        _output.Flush();
    }

    public void Dispose()
    {
        Finish();
        if (!_leaveOpen)
        {
            _output.Dispose();
        }
    }

    private void AddParents(string name)
    {
        int slash = name.LastIndexOf('/');
        if (slash > 0)
        {
            AddDirectory(name[..slash]);
        }
    }

    private void WriteEntry(string name, uint mode, uint nlink, ReadOnlySpan<byte> data, uint rdevMajor = 0, uint rdevMinor = 0)
    {
        if (_finished)
        {
            throw new InvalidOperationException("The archive is already finished.");
        }

        if (!_names.Add(name))
        {
            throw new InvalidOperationException($"'{name}' is already in the archive.");
        }

        WriteHeader(name, _nextInode++, mode, nlink, (uint)data.Length, rdevMajor, rdevMinor);
        _output.Write(data);
        _position += data.Length;
        Pad();
    }

    private void WriteHeader(string name, uint inode, uint mode, uint nlink, uint size, uint rdevMajor, uint rdevMinor)
    {
        byte[] nameBytes = Encoding.UTF8.GetBytes(name);
        var header = new StringBuilder(110, 110);
        header.Append("070701");
        foreach (uint field in (ReadOnlySpan<uint>)[
            inode, mode, 0 /* uid */, 0 /* gid */, nlink, ModificationTime, size,
            0 /* devmajor */, 0 /* devminor */, rdevMajor, rdevMinor, (uint)nameBytes.Length + 1, 0 /* check */])
        {
            header.Append(field.ToString("X8", CultureInfo.InvariantCulture));
        }

        _output.Write(Encoding.ASCII.GetBytes(header.ToString()));
        _output.Write(nameBytes);
        _output.WriteByte(0);
        _position += 110 + nameBytes.Length + 1;
        Pad();
    }

    private void Pad()
    {
        int padding = (int)((4 - (_position % 4)) % 4);
        for (int i = 0; i < padding; i++)
        {
            _output.WriteByte(0);
        }

        _position += padding;
    }

    private static string Normalize(string path)
    {
        string name = path.Replace('\\', '/').TrimStart('/');
        while (name.StartsWith("./", StringComparison.Ordinal))
        {
            name = name[2..].TrimStart('/');
        }

        name = name.TrimEnd('/');
        if (name.Length == 0 || name == Trailer || name.Split('/').Any(part => part is "" or "." or ".."))
        {
            throw new ArgumentException($"'{path}' is not a valid archive path.", nameof(path));
        }

        return name;
    }
}
