using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Vessel.Machine.Abstractions;

/// <summary>
/// Guest RAM: one zeroed native block mapped at <see cref="BaseAddress"/>. Guest physical address to host
/// pointer is one subtraction (DESIGN.md §4). Devices get bounds-checked spans; the hart uses the raw pointer.
/// </summary>
public sealed unsafe class GuestMemory : IDisposable
{
    public const int PageShift = 12;
    public const ulong PageSize = 1UL << PageShift;

    private byte* _host;
    private bool _mapped;

    public GuestMemory(ulong baseAddress, ulong size)
    {
        if (size == 0 || (size & (PageSize - 1)) != 0)
        {
            throw new ArgumentException($"RAM size must be a non-zero multiple of {PageSize} bytes, not {size}.", nameof(size));
        }

        if (baseAddress + size < baseAddress)
        {
            throw new ArgumentException("RAM would wrap around the physical address space.", nameof(size));
        }

        BaseAddress = baseAddress;
        Size = size;
        if (OperatingSystem.IsLinux())
        {
            // An anonymous mapping is page-aligned and zero-filled on first touch, so RAM is committed lazily and
            // ReleasePages can hand whole host pages back (virtio-balloon).
            const int ProtReadWrite = 3, MapPrivateAnonymous = 0x22;
            void* host = Mmap(null, (nuint)size, ProtReadWrite, MapPrivateAnonymous, -1, 0);
            if (host == (void*)-1)
            {
                throw new OutOfMemoryException($"cannot map {size >> 20} MiB of guest RAM: error {Marshal.GetLastPInvokeError()}.");
            }

            _host = (byte*)host;
            _mapped = true;
        }
        else
        {
            _host = (byte*)NativeMemory.AllocZeroed((nuint)size);
        }
    }

    private GuestMemory(ulong baseAddress, ulong size, byte* host)
    {
        BaseAddress = baseAddress;
        Size = size;
        _host = host;
        _mapped = true;
    }

    /// <summary>
    /// RAM mapped copy-on-write (mmap MAP_PRIVATE) from <paramref name="size"/> bytes of <paramref name="path"/> at
    /// <paramref name="offset"/>: restoring a snapshot costs only the pages the guest touches, and the file is never
    /// written. Holes in a sparse file read as zero pages.
    /// </summary>
    public static GuestMemory MapPrivate(ulong baseAddress, ulong size, string path, long offset)
    {
        if (size == 0 || (size & (PageSize - 1)) != 0 || (offset & (long)(PageSize - 1)) != 0)
        {
            throw new ArgumentException($"RAM size {size} and file offset {offset} must be multiples of {PageSize}.", nameof(size));
        }

        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        if (RandomAccess.GetLength(file) < offset + (long)size)
        {
            throw new IOException($"{path} is shorter than the {size >> 20} MiB of RAM it should hold.");
        }

        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            var copy = new GuestMemory(baseAddress, size);
            RandomAccess.Read(file, new Span<byte>(copy._host, checked((int)Math.Min(size, int.MaxValue))), offset);
            return copy;
        }

        const int ProtReadWrite = 3, MapPrivate = 2;
        void* host = Mmap(null, (nuint)size, ProtReadWrite, MapPrivate, (int)file.DangerousGetHandle(), offset);
        if (host == (void*)-1)
        {
            throw new IOException($"cannot map {path}: error {Marshal.GetLastPInvokeError()}.");
        }

        return new GuestMemory(baseAddress, size, (byte*)host);
    }

    [DllImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static extern void* Mmap(void* address, nuint length, int protection, int flags, int fd, long offset);

    [DllImport("libc", EntryPoint = "munmap", SetLastError = true)]
    private static extern int Munmap(void* address, nuint length);

    [DllImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static extern int Madvise(void* address, nuint length, int advice);

    /// <summary>
    /// Gives the host memory behind the whole host pages inside [<paramref name="address"/>, +<paramref name="length"/>)
    /// back to the OS (madvise MADV_DONTNEED), for virtio-balloon. The guest may touch the range again later: it reads
    /// zeros (anonymous RAM) or the snapshot file's content (RAM mapped from a snapshot). Returns the bytes released;
    /// 0 where the range is outside RAM or the platform cannot release.
    /// </summary>
    public ulong ReleasePages(ulong address, ulong length)
    {
        if (!_mapped || !OperatingSystem.IsLinux() || !Contains(address, length) || length == 0)
        {
            return 0;
        }

        // Only whole host pages can be dropped; a host page larger than the guest's 4 KiB shrinks the range inward.
        ulong hostPage = (ulong)Environment.SystemPageSize;
        ulong start = (ulong)_host + (address - BaseAddress);
        ulong first = (start + hostPage - 1) & ~(hostPage - 1);
        ulong end = (start + length) & ~(hostPage - 1);
        if (end <= first)
        {
            return 0;
        }

        const int MadviseDontNeed = 4;
        return Madvise((void*)first, (nuint)(end - first), MadviseDontNeed) == 0 ? end - first : 0;
    }

    public ulong BaseAddress { get; }

    public ulong Size { get; }

    public ulong EndAddress => BaseAddress + Size;

    /// <summary>Host address of guest physical <see cref="BaseAddress"/>. Valid until <see cref="Dispose"/>.</summary>
    public byte* HostBase => _host;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Contains(ulong address, ulong length) =>
        address >= BaseAddress && length <= Size && address - BaseAddress <= Size - length;

    /// <summary>A span over guest RAM, or false when any byte of the range is outside RAM.</summary>
    public bool TryGetSpan(ulong address, int length, out Span<byte> span)
    {
        if (length < 0 || !Contains(address, (ulong)length))
        {
            span = default;
            return false;
        }

        span = new Span<byte>(_host + (address - BaseAddress), length);
        return true;
    }

    /// <summary>A span over guest RAM; throws when the range is outside RAM (host-side loaders, not guest-driven paths).</summary>
    public Span<byte> GetSpan(ulong address, int length)
    {
        if (!TryGetSpan(address, length, out var span))
        {
            throw new ArgumentOutOfRangeException(nameof(address), $"0x{address:x}+0x{length:x} is outside RAM 0x{BaseAddress:x}-0x{EndAddress:x}.");
        }

        return span;
    }

    public void Write(ulong address, ReadOnlySpan<byte> data) => data.CopyTo(GetSpan(address, data.Length));

    public ulong ReadUInt64(ulong address) => Unsafe.ReadUnaligned<ulong>(ref GetSpan(address, 8)[0]);

    public void WriteUInt64(ulong address, ulong value) => Unsafe.WriteUnaligned(ref GetSpan(address, 8)[0], value);

    public void Dispose()
    {
        if (_host != null && _mapped)
        {
            _ = Munmap(_host, (nuint)Size);
            _host = null;
        }
        else if (_host != null)
        {
            NativeMemory.Free(_host);
            _host = null;
        }

        GC.SuppressFinalize(this);
    }

    ~GuestMemory()
    {
        Dispose();
    }
}
