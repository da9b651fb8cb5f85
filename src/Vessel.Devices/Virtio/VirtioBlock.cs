using System.Buffers.Binary;
using System.Text;
using Vessel.Machine.Abstractions;
using Vessel.Machine.Abstractions.State;
using Vessel.Storage;

namespace Vessel.Devices.Virtio;

/// <summary>
/// virtio-blk (virtio 1.2 §5.2): read, write, flush, get-id, discard and write-zeroes on an
/// <see cref="IBlockBackend"/>. Data moves straight between the backend and guest RAM, without a copy.
/// Requests run on the thread that notifies (the hart), in order; flush reaches stable storage before it completes.
/// </summary>
public sealed class VirtioBlock : IVirtioDevice
{
    public const uint BlockDeviceId = 2;
    private const int SectorSize = 512;
    private const uint MaxSegments = 126;
    private const uint MaxDiscardSectors = 1 << 22;

    private const ulong FeatureSegMax = 1UL << 2;
    private const ulong FeatureReadOnly = 1UL << 5;
    private const ulong FeatureBlockSize = 1UL << 6;
    private const ulong FeatureFlush = 1UL << 9;
    private const ulong FeatureDiscard = 1UL << 13;
    private const ulong FeatureWriteZeroes = 1UL << 14;

    private const uint RequestIn = 0;
    private const uint RequestOut = 1;
    private const uint RequestFlush = 4;
    private const uint RequestGetId = 8;
    private const uint RequestDiscard = 11;
    private const uint RequestWriteZeroes = 13;
    private const byte StatusOk = 0;
    private const byte StatusIoError = 1;
    private const byte StatusUnsupported = 2;

    private readonly IBlockBackend _backend;
    private readonly GuestMemory _memory;
    private readonly byte[] _config = new byte[60];
    private readonly byte[] _serial = new byte[20];

    public VirtioBlock(IBlockBackend backend, GuestMemory memory, string serial)
    {
        _backend = backend;
        _memory = memory;
        Encoding.ASCII.GetBytes(serial.Length > 20 ? serial[..20] : serial).CopyTo(_serial, 0);
        Span<byte> c = _config;
        BinaryPrimitives.WriteUInt64LittleEndian(c[0..], backend.Size / SectorSize); // capacity
        BinaryPrimitives.WriteUInt32LittleEndian(c[12..], MaxSegments);              // seg_max
        BinaryPrimitives.WriteUInt32LittleEndian(c[20..], SectorSize);               // blk_size
        BinaryPrimitives.WriteUInt32LittleEndian(c[36..], MaxDiscardSectors);        // max_discard_sectors
        BinaryPrimitives.WriteUInt32LittleEndian(c[40..], 1);                        // max_discard_seg
        BinaryPrimitives.WriteUInt32LittleEndian(c[44..], 1);                        // discard_sector_alignment
        BinaryPrimitives.WriteUInt32LittleEndian(c[48..], MaxDiscardSectors);        // max_write_zeroes_sectors
        BinaryPrimitives.WriteUInt32LittleEndian(c[52..], 1);                        // max_write_zeroes_seg
    }

    public uint DeviceId => BlockDeviceId;

    public ulong Features =>
        FeatureSegMax | FeatureBlockSize | FeatureFlush | FeatureDiscard | FeatureWriteZeroes |
        (_backend.IsReadOnly ? FeatureReadOnly : 0) | VirtioFeatures.RingIndirectDescriptors | VirtioFeatures.RingEventIndex;

    public int QueueCount => 1;

    public int QueueMaxSize => 256;

    public ReadOnlySpan<byte> Config => _config;

    /// <summary>Requests completed, for statistics.</summary>
    public ulong Requests { get; private set; }

    public ulong BytesRead { get; private set; }

    public ulong BytesWritten { get; private set; }

    public void Activate(ulong negotiatedFeatures)
    {
    }

    public void Reset()
    {
    }

    public bool ProcessQueue(int index, Virtqueue queue)
    {
        bool any = false;
        while (queue.TryPop(out ushort head, out var chain))
        {
            uint written = Handle(chain);
            queue.Push(head, written);
            Requests++;
            any = true;
        }

        return any;
    }

    /// <summary>Runs one request; returns the bytes written into the chain (data + status).</summary>
    private uint Handle(ReadOnlySpan<VirtqueueSegment> chain)
    {
        // Layout (§5.2.6): device-readable header (16 bytes) and OUT data, then device-writable IN data and status.
        int firstWritable = 0;
        while (firstWritable < chain.Length && !chain[firstWritable].DeviceWritable)
        {
            firstWritable++;
        }

        for (int i = firstWritable; i < chain.Length; i++)
        {
            if (!chain[i].DeviceWritable)
            {
                throw new VirtqueueException("virtio-blk request has a readable buffer after a writable one");
            }
        }

        var readable = chain[..firstWritable];
        var writable = chain[firstWritable..];
        Span<byte> header = stackalloc byte[16];
        if (writable.Length == 0 || writable[^1].Length == 0 || Gather(readable, 0, header) != 16)
        {
            throw new VirtqueueException("virtio-blk request without a 16-byte header or a status byte");
        }

        uint type = BinaryPrimitives.ReadUInt32LittleEndian(header);
        ulong sector = BinaryPrimitives.ReadUInt64LittleEndian(header[8..]);
        var last = writable[^1];
        ulong statusAddress = last.Address + last.Length - 1;
        uint dataWritten = 0;
        byte status;
        try
        {
            status = type switch
            {
                RequestIn => ReadSectors(sector, writable, out dataWritten),
                RequestOut => WriteSectors(sector, readable),
                RequestFlush => Flush(),
                RequestGetId => GetId(writable, out dataWritten),
                RequestDiscard or RequestWriteZeroes => DiscardOrZero(type, readable),
                _ => StatusUnsupported,
            };
        }
        catch (IOException)
        {
            status = StatusIoError;
        }

        Slice(statusAddress, 1)[0] = status;
        return dataWritten + 1;
    }

    private byte ReadSectors(ulong sector, ReadOnlySpan<VirtqueueSegment> writable, out uint written)
    {
        written = 0;
        ulong offset = sector * SectorSize;
        ulong total = 0;
        for (int i = 0; i < writable.Length; i++)
        {
            total += writable[i].Length - (i == writable.Length - 1 ? 1UL : 0UL);
        }

        if (!InRange(sector, total))
        {
            return StatusIoError;
        }

        for (int i = 0; i < writable.Length; i++)
        {
            uint length = writable[i].Length - (i == writable.Length - 1 ? 1u : 0u);
            if (length > 0)
            {
                _backend.Read(offset, Slice(writable[i].Address, (int)length));
                offset += length;
                written += length;
            }
        }

        BytesRead += written;
        return StatusOk;
    }

    private byte WriteSectors(ulong sector, ReadOnlySpan<VirtqueueSegment> readable)
    {
        if (_backend.IsReadOnly)
        {
            return StatusIoError;
        }

        // The data follows the 16-byte header in the readable part.
        ulong total = 0;
        foreach (var s in readable)
        {
            total += s.Length;
        }

        total -= 16;
        if (!InRange(sector, total))
        {
            return StatusIoError;
        }

        ulong offset = sector * SectorSize;
        ulong skip = 16;
        foreach (var s in readable)
        {
            ulong start = Math.Min(skip, s.Length);
            skip -= start;
            ulong length = s.Length - start;
            if (length > 0)
            {
                _backend.Write(offset, Slice(s.Address + start, (int)length));
                offset += length;
            }
        }

        BytesWritten += total;
        return StatusOk;
    }

    private byte Flush()
    {
        _backend.Flush();
        return StatusOk;
    }

    private byte GetId(ReadOnlySpan<VirtqueueSegment> writable, out uint written)
    {
        var first = writable[0];
        int length = (int)Math.Min(20u, writable.Length == 1 ? first.Length - 1 : first.Length);
        _serial.AsSpan(0, length).CopyTo(Slice(first.Address, length));
        written = (uint)length;
        return StatusOk;
    }

    private byte DiscardOrZero(uint type, ReadOnlySpan<VirtqueueSegment> readable)
    {
        if (type == RequestDiscard && _backend.IsReadOnly)
        {
            return StatusIoError;
        }

        if (type == RequestWriteZeroes && _backend.IsReadOnly)
        {
            return StatusIoError;
        }

        Span<byte> segment = stackalloc byte[16];
        for (ulong at = 16; Gather(readable, at, segment) == 16; at += 16)
        {
            ulong sector = BinaryPrimitives.ReadUInt64LittleEndian(segment);
            uint count = BinaryPrimitives.ReadUInt32LittleEndian(segment[8..]);
            ulong bytes = (ulong)count * SectorSize;
            if (!InRange(sector, bytes) || count > MaxDiscardSectors)
            {
                return StatusIoError;
            }

            if (type == RequestDiscard)
            {
                _backend.Discard(sector * SectorSize, bytes);
            }
            else
            {
                _backend.WriteZeroes(sector * SectorSize, bytes);
            }
        }

        return StatusOk;
    }

    private bool InRange(ulong sector, ulong bytes) =>
        sector <= _backend.Size / SectorSize && bytes <= _backend.Size - (sector * SectorSize);

    /// <summary>Copies bytes [offset, offset + dest.Length) of the readable part into dest; returns how many existed.</summary>
    private int Gather(ReadOnlySpan<VirtqueueSegment> readable, ulong offset, Span<byte> dest)
    {
        int copied = 0;
        foreach (var s in readable)
        {
            if (offset >= s.Length)
            {
                offset -= s.Length;
                continue;
            }

            int n = (int)Math.Min((ulong)(dest.Length - copied), s.Length - offset);
            Slice(s.Address + offset, n).CopyTo(dest[copied..]);
            copied += n;
            offset = 0;
            if (copied == dest.Length)
            {
                break;
            }
        }

        return copied;
    }

    private Span<byte> Slice(ulong address, int length)
    {
        if (!_memory.TryGetSpan(address, length, out var span))
        {
            throw new VirtqueueException($"buffer 0x{address:x}+0x{length:x} is outside guest RAM");
        }

        return span;
    }

    /// <summary>The disk contents are the disk's own snapshot; the state records the capacity the guest saw, to catch a swapped disk.</summary>
    public void SaveState(StateWriter writer) => writer.WriteUInt64(_backend.Size);

    public void LoadState(StateReader reader)
    {
        ulong size = reader.ReadUInt64();
        reader.Require(size == _backend.Size, $"the disk was {size} bytes when saved but is {_backend.Size} bytes now");
    }
}
