using System.Buffers.Binary;
using System.Security.Cryptography;
using Vessel.Machine.Abstractions;
using Vessel.Machine.Abstractions.State;

namespace Vessel.Machine;

/// <summary>
/// The machine-state file (DESIGN.md §5). Layout, all little-endian:
/// <code>
/// 0   magic "VESLSTAT"          8   format version (u32)     12  hart count (u32)
/// 16  device state length (u64) 24  RAM offset (u64, 4 KiB aligned)  32  RAM size (u64)
/// 40  SHA-256 of the device state (32 bytes)                 72  device state (StateWriter sections)
/// RAM offset: guest RAM, RAM size bytes, with all-zero pages left as holes (a sparse file), so one
/// MAP_PRIVATE mapping of that range restores RAM copy-on-write.
/// </code>
/// </summary>
public static class MachineStateFile
{
    public const uint FormatVersion = 1;
    private const int HeaderSize = 72;
    private const long MaxDeviceState = 64L << 20;
    private static ReadOnlySpan<byte> Magic => "VESLSTAT"u8;

    /// <summary>What <see cref="ReadHeader"/> found; the device state is verified against its checksum.</summary>
    public sealed record Contents(int HartCount, byte[] DeviceState, long RamOffset, ulong RamSize);

    /// <summary>Writes atomically: a temp file beside <paramref name="path"/>, fsync, rename. Zero pages are not written.</summary>
    public static unsafe void Write(string path, int hartCount, byte[] deviceState, GuestMemory ram)
    {
        long ramOffset = (HeaderSize + deviceState.Length + (long)GuestMemory.PageSize - 1) & ~((long)GuestMemory.PageSize - 1);
        Span<byte> header = stackalloc byte[HeaderSize];
        Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], FormatVersion);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], (uint)hartCount);
        BinaryPrimitives.WriteUInt64LittleEndian(header[16..], (ulong)deviceState.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(header[24..], (ulong)ramOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(header[32..], ram.Size);
        SHA256.HashData(deviceState, header[40..]);

        string temp = path + ".tmp";
        try
        {
            using (var file = File.OpenHandle(temp, FileMode.Create, FileAccess.Write))
            {
                RandomAccess.Write(file, header, 0);
                RandomAccess.Write(file, deviceState, HeaderSize);

                // Runs of non-zero pages go out in one write each; zero pages become holes.
                byte* host = ram.HostBase;
                ulong pages = ram.Size / GuestMemory.PageSize;
                ulong page = 0;
                while (page < pages)
                {
                    if (IsZeroPage(host + (page * GuestMemory.PageSize)))
                    {
                        page++;
                        continue;
                    }

                    ulong start = page;
                    while (page < pages && page - start < 2048 && !IsZeroPage(host + (page * GuestMemory.PageSize)))
                    {
                        page++;
                    }

                    var run = new ReadOnlySpan<byte>(host + (start * GuestMemory.PageSize), (int)((page - start) * GuestMemory.PageSize));
                    RandomAccess.Write(file, run, ramOffset + (long)(start * GuestMemory.PageSize));
                }

                RandomAccess.SetLength(file, ramOffset + (long)ram.Size);
                RandomAccess.FlushToDisk(file);
            }

            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>Reads and checks the header and device state; throws <see cref="MachineStateException"/> for anything wrong.</summary>
    public static Contents Read(string path)
    {
        using var file = OpenForRead(path);
        long length = RandomAccess.GetLength(file);
        Span<byte> header = stackalloc byte[HeaderSize];
        if (length < HeaderSize || RandomAccess.Read(file, header, 0) != HeaderSize)
        {
            throw new MachineStateException($"{path}: too short to be a machine state ({length} bytes); the file is truncated.");
        }

        if (!header[..8].SequenceEqual(Magic))
        {
            throw new MachineStateException($"{path}: not a Vessel machine state (bad magic).");
        }

        uint version = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        if (version != FormatVersion)
        {
            throw new MachineStateException($"{path}: machine-state format version {version}; this build reads version {FormatVersion}.");
        }

        uint harts = BinaryPrimitives.ReadUInt32LittleEndian(header[12..]);
        ulong stateLength = BinaryPrimitives.ReadUInt64LittleEndian(header[16..]);
        ulong ramOffset = BinaryPrimitives.ReadUInt64LittleEndian(header[24..]);
        ulong ramSize = BinaryPrimitives.ReadUInt64LittleEndian(header[32..]);
        if (harts is 0 or > 1024 || stateLength > MaxDeviceState || ramOffset < HeaderSize + stateLength
            || (ramOffset & (GuestMemory.PageSize - 1)) != 0 || ramSize == 0 || (ramSize & (GuestMemory.PageSize - 1)) != 0
            || ramOffset > (ulong)long.MaxValue - ramSize)
        {
            throw new MachineStateException($"{path}: the header is corrupt.");
        }

        if ((ulong)length < ramOffset + ramSize)
        {
            throw new MachineStateException($"{path}: truncated: {length} bytes where the RAM section ends at {ramOffset + ramSize}.");
        }

        byte[] state = new byte[stateLength];
        if (RandomAccess.Read(file, state, HeaderSize) != state.Length)
        {
            throw new MachineStateException($"{path}: the device state is truncated.");
        }

        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(state, digest);
        if (!digest.SequenceEqual(header[40..72]))
        {
            throw new MachineStateException($"{path}: the device state does not match its checksum; the file is corrupt.");
        }

        return new Contents((int)harts, state, (long)ramOffset, ramSize);
    }

    private static Microsoft.Win32.SafeHandles.SafeFileHandle OpenForRead(string path)
    {
        try
        {
            return File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new MachineStateException($"{path}: cannot open the machine state: {e.Message}");
        }
    }

    private static unsafe bool IsZeroPage(byte* page) =>
        new ReadOnlySpan<byte>(page, (int)GuestMemory.PageSize).IndexOfAnyExcept((byte)0) < 0;
}
