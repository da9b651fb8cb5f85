using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using Vessel.Devices.RateLimiting;
using Vessel.Machine.Abstractions;
using Vessel.Networking;

namespace Vessel.Devices.Virtio;

/// <summary>
/// virtio-net (virtio 1.2 §5.1), one queue pair: queue 0 receives, queue 1 transmits. Offers MAC, link status,
/// MTU, mergeable receive buffers and transmit checksum offload (the device completes a partial checksum, which is
/// cheap here and saves the guest a pass over every packet). Frames the guest sends go to the
/// <see cref="FrameTransmitHandler"/>; frames for the guest come in through <see cref="TryReceive"/> from any
/// thread and wait in a bounded queue for receive buffers, as on a real NIC's ring — overflow is dropped and counted.
/// </summary>
public sealed class VirtioNetwork : IVirtioDevice, IDisposable
{
    public const uint NetworkDeviceId = 1;
    public const int Mtu = 1500;

    /// <summary>Largest frame either way without segmentation offloads: 64 KiB IP packet + Ethernet header.</summary>
    public const int MaxFrame = 65535 + 14;

    private const int ReceiveQueue = 0;
    private const int TransmitQueue = 1;
    private const int HeaderSize = 12; // struct virtio_net_hdr with num_buffers (VERSION_1, §5.1.6)
    private const int PendingLimit = 512;

    private const ulong FeatureCsum = 1UL << 0;
    private const ulong FeatureMtu = 1UL << 3;
    private const ulong FeatureMac = 1UL << 5;
    private const ulong FeatureMergeableRxBuffers = 1UL << 15;
    private const ulong FeatureStatus = 1UL << 16;
    private const byte HeaderNeedsCsum = 1;
    private const byte GsoNone = 0;
    private const ushort StatusLinkUp = 1;

    private readonly GuestMemory _memory;
    private readonly FrameTransmitHandler _transmit;
    private readonly byte[] _config = new byte[12];
    private readonly byte[] _txBuffer = new byte[HeaderSize + MaxFrame];
    private readonly ConcurrentQueue<(byte[] Buffer, int Length)> _pending = new();
    private int _pendingCount;
    private ulong _negotiated;
    private IVirtqueueRunner? _runner;
    private readonly RateLimiter? _rxLimiter;
    private readonly RateLimiter? _txLimiter;
    private long _rxFrames, _rxBytes, _rxDropped, _txFrames, _txBytes, _txDropped;

    /// <param name="rxLimit">Limit on frames to the guest (null: none); a limited frame waits in the pending queue.</param>
    /// <param name="txLimit">Limit on frames from the guest (null: none); a limited frame waits in the transmit ring.</param>
    /// <param name="time">The limiters' clock (tests inject one).</param>
    public VirtioNetwork(
        GuestMemory memory, ReadOnlySpan<byte> mac, FrameTransmitHandler transmit,
        IoRateLimit? rxLimit = null, IoRateLimit? txLimit = null, TimeProvider? time = null)
    {
        if (rxLimit is { IsUnlimited: false })
        {
            _rxLimiter = new RateLimiter(rxLimit, time) { Resume = () => _runner?.RunQueue(ReceiveQueue) };
        }

        if (txLimit is { IsUnlimited: false })
        {
            _txLimiter = new RateLimiter(txLimit, time) { Resume = () => _runner?.RunQueue(TransmitQueue) };
        }

        if (mac.Length != 6 || (mac[0] & 1) != 0)
        {
            throw new ArgumentException("a NIC needs a 6-byte unicast MAC address", nameof(mac));
        }

        _memory = memory;
        _transmit = transmit;
        mac.CopyTo(_config);
        BinaryPrimitives.WriteUInt16LittleEndian(_config.AsSpan(6), StatusLinkUp);
        BinaryPrimitives.WriteUInt16LittleEndian(_config.AsSpan(8), 1);   // max_virtqueue_pairs
        BinaryPrimitives.WriteUInt16LittleEndian(_config.AsSpan(10), Mtu);
    }

    public uint DeviceId => NetworkDeviceId;

    public ulong Features =>
        FeatureCsum | FeatureMtu | FeatureMac | FeatureMergeableRxBuffers | FeatureStatus |
        VirtioFeatures.RingIndirectDescriptors | VirtioFeatures.RingEventIndex;

    public int QueueCount => 2;

    public int QueueMaxSize => 256;

    public ReadOnlySpan<byte> Config => _config;

    public long ReceivedFrames => Interlocked.Read(ref _rxFrames);

    public long ReceivedBytes => Interlocked.Read(ref _rxBytes);

    /// <summary>Frames for the guest dropped because its receive ring stayed full.</summary>
    public long ReceiveDropped => Interlocked.Read(ref _rxDropped);

    public long TransmittedFrames => Interlocked.Read(ref _txFrames);

    public long TransmittedBytes => Interlocked.Read(ref _txBytes);

    /// <summary>Malformed frames from the guest (too short or long, bad offload header), dropped.</summary>
    public long TransmitDropped => Interlocked.Read(ref _txDropped);

    /// <summary>Times a frame was held back by the receive or transmit rate limiter.</summary>
    public ulong Throttled => (_rxLimiter?.Throttled ?? 0) + (_txLimiter?.Throttled ?? 0);

    public void Connect(IVirtqueueRunner runner) => _runner = runner;

    /// <summary>Stops the limiters' timers, so no queue run comes after the machine released guest RAM.</summary>
    public void Dispose()
    {
        _rxLimiter?.Dispose();
        _txLimiter?.Dispose();
    }

    public void Activate(ulong negotiatedFeatures) => _negotiated = negotiatedFeatures;

    public void Reset()
    {
        _negotiated = 0;
        while (_pending.TryDequeue(out var frame))
        {
            ArrayPool<byte>.Shared.Return(frame.Buffer);
            Interlocked.Decrement(ref _pendingCount);
        }
    }

    /// <summary>Hands a frame to the guest (copied). Thread-safe; returns false if it was dropped.</summary>
    public bool TryReceive(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < 14 || frame.Length > MaxFrame || Interlocked.Increment(ref _pendingCount) > PendingLimit)
        {
            if (frame.Length >= 14 && frame.Length <= MaxFrame)
            {
                Interlocked.Decrement(ref _pendingCount);
            }

            Interlocked.Increment(ref _rxDropped);
            return false;
        }

        byte[] copy = ArrayPool<byte>.Shared.Rent(frame.Length);
        frame.CopyTo(copy);
        _pending.Enqueue((copy, frame.Length));
        _runner?.RunQueue(ReceiveQueue);
        return true;
    }

    public bool ProcessQueue(int index, Virtqueue queue) => index switch
    {
        ReceiveQueue => Deliver(queue),
        TransmitQueue => Transmit(queue),
        _ => false,
    };

    private bool Deliver(Virtqueue queue)
    {
        bool any = false;
        while (_pending.TryPeek(out var frame))
        {
            if (_rxLimiter is not null && !_rxLimiter.TryConsume((ulong)frame.Length))
            {
                break; // the frame waits; the limiter re-runs this queue when tokens refill
            }

            var result = TryFill(queue, frame.Buffer.AsSpan(0, frame.Length));
            if (result == FillResult.NoBuffers)
            {
                _rxLimiter?.Refund((ulong)frame.Length);
                break; // the frame waits until the driver posts buffers and notifies
            }

            _pending.TryDequeue(out _);
            Interlocked.Decrement(ref _pendingCount);
            ArrayPool<byte>.Shared.Return(frame.Buffer);
            if (result == FillResult.Delivered)
            {
                Interlocked.Increment(ref _rxFrames);
                Interlocked.Add(ref _rxBytes, frame.Length);
                any = true;
            }
            else
            {
                Interlocked.Increment(ref _rxDropped);
            }
        }

        return any;
    }

    private enum FillResult
    {
        Delivered,
        NoBuffers,
        TooBig,
    }

    /// <summary>Writes header + frame into one chain, or several with VIRTIO_NET_F_MRG_RXBUF (§5.1.6.3.1).</summary>
    private FillResult TryFill(Virtqueue queue, ReadOnlySpan<byte> frame)
    {
        bool mergeable = (_negotiated & FeatureMergeableRxBuffers) != 0;
        Span<byte> header = stackalloc byte[HeaderSize];
        header.Clear();
        int total = HeaderSize + frame.Length;
        int done = 0;
        int chains = 0;
        Span<(ushort Head, uint Written)> used = stackalloc (ushort, uint)[64];
        ulong numBuffersLow = 0, numBuffersHigh = 0; // where header bytes 10 and 11 land
        while (done < total)
        {
            if (chains == used.Length || !queue.TryPop(out ushort head, out var chain))
            {
                queue.UndoPop(chains);
                return chains == used.Length ? FillResult.TooBig : FillResult.NoBuffers;
            }

            uint written = 0;
            foreach (var segment in chain)
            {
                if (!segment.DeviceWritable)
                {
                    throw new VirtqueueException("virtio-net receive buffer is not device-writable");
                }

                int n = (int)Math.Min((uint)(total - done), segment.Length);
                var target = Slice(segment.Address, n);
                if (done <= 10 && done + n > 10)
                {
                    numBuffersLow = segment.Address + (ulong)(10 - done);
                }

                if (done <= 11 && done + n > 11)
                {
                    numBuffersHigh = segment.Address + (ulong)(11 - done);
                }

                int fromHeader = Math.Max(0, Math.Min(n, HeaderSize - done));
                if (fromHeader > 0)
                {
                    header.Slice(done, fromHeader).CopyTo(target);
                }

                frame.Slice(done + fromHeader - HeaderSize, n - fromHeader).CopyTo(target[fromHeader..]);
                done += n;
                written += (uint)n;
                if (done == total)
                {
                    break;
                }
            }

            used[chains++] = (head, written);
            if (!mergeable && done < total)
            {
                queue.UndoPop(chains);
                return FillResult.TooBig;
            }
        }

        // num_buffers (1 without mergeable buffers, §5.1.6.4); its bytes may have landed in different segments.
        Slice(numBuffersLow, 1)[0] = (byte)chains;
        Slice(numBuffersHigh, 1)[0] = (byte)(chains >> 8);

        for (int i = 0; i < chains; i++)
        {
            queue.Push(used[i].Head, used[i].Written);
        }

        return FillResult.Delivered;
    }

    private bool Transmit(Virtqueue queue)
    {
        bool any = false;
        while (queue.TryPop(out ushort head, out var chain))
        {
            if (_txLimiter is not null && !_txLimiter.TryConsume(FrameBytes(chain)))
            {
                queue.UndoPop(1); // the frame waits in the ring; the limiter re-runs this queue when tokens refill
                break;
            }

            int length = 0;
            bool tooLong = false;
            foreach (var segment in chain)
            {
                if (segment.DeviceWritable)
                {
                    throw new VirtqueueException("virtio-net transmit buffer is device-writable");
                }

                if (segment.Length > (uint)(_txBuffer.Length - length))
                {
                    tooLong = true;
                    break;
                }

                Slice(segment.Address, (int)segment.Length).CopyTo(_txBuffer.AsSpan(length));
                length += (int)segment.Length;
            }

            queue.Push(head, 0);
            any = true;
            if (tooLong || !TryPrepare(_txBuffer.AsSpan(0, length), out var frame))
            {
                Interlocked.Increment(ref _txDropped);
                continue;
            }

            Interlocked.Increment(ref _txFrames);
            Interlocked.Add(ref _txBytes, frame.Length);
            _transmit(frame);
        }

        return any;
    }

    /// <summary>The Ethernet frame a transmit chain carries: its buffers less the virtio-net header.</summary>
    private static ulong FrameBytes(ReadOnlySpan<VirtqueueSegment> chain)
    {
        ulong total = 0;
        foreach (var s in chain)
        {
            total += s.Length;
        }

        return total > HeaderSize ? total - HeaderSize : 0;
    }

    /// <summary>Checks the header and completes a partial checksum (VIRTIO_NET_HDR_F_NEEDS_CSUM, §5.1.6.2).</summary>
    private bool TryPrepare(Span<byte> packet, out Span<byte> frame)
    {
        frame = default;
        if (packet.Length < HeaderSize + 14)
        {
            return false;
        }

        byte flags = packet[0];
        byte gso = packet[1];
        frame = packet[HeaderSize..];
        if (gso != GsoNone)
        {
            return false; // no segmentation offload was offered
        }

        if ((flags & HeaderNeedsCsum) != 0)
        {
            if ((_negotiated & FeatureCsum) == 0)
            {
                return false;
            }

            int start = BinaryPrimitives.ReadUInt16LittleEndian(packet[6..]);
            int offset = BinaryPrimitives.ReadUInt16LittleEndian(packet[8..]);
            if (start >= frame.Length || offset > frame.Length - start - 2)
            {
                return false;
            }

            // The driver left the pseudo-header sum in the field; the sum from csum_start to the end covers it.
            ushort sum = InternetChecksum.Compute(frame[start..]);
            BinaryPrimitives.WriteUInt16BigEndian(frame[(start + offset)..], sum);
        }

        return true;
    }

    private Span<byte> Slice(ulong address, int length)
    {
        if (!_memory.TryGetSpan(address, length, out var span))
        {
            throw new VirtqueueException($"buffer 0x{address:x}+0x{length:x} is outside guest RAM");
        }

        return span;
    }
}
