using System.Buffers.Binary;
using System.Text;
using Vessel.Devices.RateLimiting;
using Vessel.Machine.Abstractions;
using Vessel.Machine.Abstractions.State;
using Vessel.Storage;

namespace Vessel.Devices.Virtio;

/// <summary>
/// virtio-blk (virtio 1.2 §5.2): read, write, flush, get-id, discard and write-zeroes on an
/// <see cref="IBlockBackend"/>. Data moves straight between the backend and guest RAM, without a copy.
/// Requests run in order, on the thread that notifies (the hart) or, with an I/O thread, on a thread of the
/// device's own so the hart keeps running guest code meanwhile (QEMU's <c>iothread</c>); flush reaches stable
/// storage before it completes.
/// </summary>
public sealed class VirtioBlock : IVirtioDevice, IDisposable
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
    private readonly RateLimiter? _limiter;
    private IVirtqueueRunner? _runner;

    private readonly Thread? _ioThread;
    private readonly SemaphoreSlim? _kick;
    private volatile bool _disposed;

    /// <param name="limit">Bytes/s and requests/s limit for this disk (null: unlimited); a limited request waits.</param>
    /// <param name="time">The limiter's clock (tests inject one).</param>
    /// <param name="ioThread">Run requests on a thread of the device's own instead of the notifying hart.</param>
    public VirtioBlock(
        IBlockBackend backend, GuestMemory memory, string serial, IoRateLimit? limit = null, TimeProvider? time = null, bool ioThread = false)
    {
        _backend = backend;
        _memory = memory;
        if (limit is { IsUnlimited: false })
        {
            _limiter = new RateLimiter(limit, time) { Resume = () => _runner?.RunQueue(0) };
        }

        if (ioThread)
        {
            _kick = new SemaphoreSlim(0, 1);
            _ioThread = new Thread(IoLoop) { IsBackground = true, Name = $"vessel-blk-{serial}" };
        }

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

    /// <summary>Completed read (IN) requests.</summary>
    public ulong ReadRequests { get; private set; }

    /// <summary>Completed write (OUT) requests.</summary>
    public ulong WriteRequests { get; private set; }

    /// <summary>Times a request was put back to wait for the rate limiter.</summary>
    public ulong Throttled => _limiter?.Throttled ?? 0;

    public void Activate(ulong negotiatedFeatures)
    {
    }

    public void Reset()
    {
    }

    public void Connect(IVirtqueueRunner runner)
    {
        _runner = runner;
        _ioThread?.Start();
    }

    public bool ProcessQueue(int index, Virtqueue queue)
    {
        if (_ioThread is not null && Thread.CurrentThread != _ioThread)
        {
            // The driver's notification (on a hart): hand the queue to the I/O thread and let the hart go on.
            Kick();
            return false;
        }

        bool any = false;
        while (queue.TryPop(out ushort head, out var chain))
        {
            if (_limiter is not null && !_limiter.TryConsume(DataBytes(chain)))
            {
                queue.UndoPop(1); // the request waits in the ring; the limiter re-runs the queue when tokens refill
                break;
            }

            uint written = Handle(chain);
            queue.Push(head, written);
            Requests++;
            any = true;
        }

        return any;
    }

    public void Dispose()
    {
        _limiter?.Dispose();
        if (_ioThread is null || _disposed)
        {
            return;
        }

        _disposed = true;
        Kick();
        if (_ioThread.IsAlive)
        {
            _ioThread.Join();
        }

        _kick!.Dispose();
    }

    private void Kick()
    {
        try
        {
            _kick!.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already kicked: the I/O thread will look at the whole queue when it runs.
        }
    }

    private void IoLoop()
    {
        while (true)
        {
            _kick!.Wait();
            if (_disposed)
            {
                return;
            }

            // Through the transport, which serialises with the driver's register accesses and raises the interrupt.
            _runner!.RunQueue(0);
        }
    }

    /// <summary>The data a request moves: its buffers less the 16-byte header and the status byte.</summary>
    private static ulong DataBytes(ReadOnlySpan<VirtqueueSegment> chain)
    {
        ulong total = 0;
        foreach (var s in chain)
        {
            total += s.Length;
        }

        return total > 17 ? total - 17 : 0;
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
        ReadRequests++;
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
        WriteRequests++;
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

    /// <summary>Stops the limiter's timer, so no queue run comes after the machine released guest RAM.</summary>
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
