using System.Buffers.Binary;
using Vessel.Machine.Abstractions;
using Vessel.Machine.Abstractions.State;

namespace Vessel.Devices.Virtio;

/// <summary>
/// virtio-balloon (virtio 1.2 §5.5) without optional features: the host sets a target (<c>num_pages</c>), the
/// guest driver gives that many 4 KiB pages to the balloon on the inflate queue and reports the balloon's size in
/// <c>actual</c>. Inflated pages are released to the host OS (<see cref="GuestMemory.ReleasePages"/>); deflated
/// pages need nothing because a released page simply reads as zero when the guest touches it again.
/// </summary>
public sealed class VirtioBalloon : IVirtioDevice
{
    public const uint BalloonDeviceId = 5;

    /// <summary>Page frame numbers are in 4 KiB units whatever the guest's page size (§5.5.6, VIRTIO_BALLOON_PFN_SHIFT).</summary>
    public const int PfnShift = 12;

    private const int InflateQueue = 0;
    private const int DeflateQueue = 1;
    private const int NumPagesOffset = 0;
    private const int ActualOffset = 4;

    /// <summary>PFNs read from guest RAM at once; Linux sends at most 256 per buffer.</summary>
    private const int PfnBatch = 256;

    private readonly GuestMemory _memory;
    private readonly byte[] _config = new byte[8];
    private readonly uint[] _pfns = new uint[PfnBatch];
    private IVirtqueueRunner? _runner;

    public VirtioBalloon(GuestMemory memory)
    {
        _memory = memory;
    }

    public uint DeviceId => BalloonDeviceId;

    public ulong Features => VirtioFeatures.RingIndirectDescriptors | VirtioFeatures.RingEventIndex;

    /// <summary>inflateq and deflateq (§5.5.2); statsq and the others exist only with features not offered here.</summary>
    public int QueueCount => 2;

    public int QueueMaxSize => 128;

    /// <summary>struct virtio_balloon_config (§5.5.4): le32 num_pages (host-written), le32 actual (driver-written).</summary>
    public ReadOnlySpan<byte> Config => _config;

    /// <summary>The host's target balloon size in 4 KiB pages.</summary>
    public uint TargetPages => BinaryPrimitives.ReadUInt32LittleEndian(_config.AsSpan(NumPagesOffset));

    /// <summary>The balloon size the driver last reported, in 4 KiB pages.</summary>
    public uint ActualPages => BinaryPrimitives.ReadUInt32LittleEndian(_config.AsSpan(ActualOffset));

    /// <summary>Pages the guest put in the balloon (inflate queue), in total.</summary>
    public ulong InflatedPages { get; private set; }

    /// <summary>Pages the guest took back (deflate queue), in total.</summary>
    public ulong DeflatedPages { get; private set; }

    /// <summary>Bytes of host memory actually released (whole host pages only).</summary>
    public ulong ReleasedBytes { get; private set; }

    /// <summary>PFNs outside guest RAM the driver sent: counted and ignored.</summary>
    public ulong InvalidPfns { get; private set; }

    public void Connect(IVirtqueueRunner runner) => _runner = runner;

    public void Activate(ulong negotiatedFeatures)
    {
    }

    /// <summary>A driver reset empties the balloon (the guest owns all its RAM again); the host's target stays.</summary>
    public void Reset() => BinaryPrimitives.WriteUInt32LittleEndian(_config.AsSpan(ActualOffset), 0);

    /// <summary>The largest target: every page of guest RAM.</summary>
    public ulong MaximumTargetPages => _memory.Size >> PfnShift;

    /// <summary>
    /// Sets the balloon target to <paramref name="pages"/> 4 KiB pages and raises a config-change interrupt so the
    /// driver inflates or deflates toward it (§5.5.6.1); false, with nothing changed, for more than
    /// <see cref="MaximumTargetPages"/>. Thread-safe.
    /// </summary>
    public bool TrySetTargetPages(ulong pages)
    {
        if (pages > MaximumTargetPages)
        {
            return false;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(_config.AsSpan(NumPagesOffset), (uint)pages);
        _runner?.SignalConfigChange();
        return true;
    }

    /// <summary>Only <c>actual</c> is driver-writable (§5.5.4); a write elsewhere is ignored.</summary>
    public void WriteConfig(int offset, ReadOnlySpan<byte> data)
    {
        if (offset == ActualOffset && data.Length == 4)
        {
            data.CopyTo(_config.AsSpan(ActualOffset));
        }
    }

    public bool ProcessQueue(int index, Virtqueue queue)
    {
        if (index is not (InflateQueue or DeflateQueue))
        {
            return false;
        }

        bool any = false;
        while (queue.TryPop(out ushort head, out var chain))
        {
            foreach (var segment in chain)
            {
                // §5.5.6: each buffer is an array of le32 PFNs the device reads; a writable one is a driver error.
                if (segment.DeviceWritable)
                {
                    throw new VirtqueueException("virtio-balloon PFN buffer is device-writable");
                }

                TakePfns(segment, index == InflateQueue);
            }

            queue.Push(head, 0);
            any = true;
        }

        return any;
    }

    private void TakePfns(VirtqueueSegment segment, bool inflate)
    {
        uint count = segment.Length / 4;
        for (uint done = 0; done < count;)
        {
            int n = (int)Math.Min(PfnBatch, count - done);
            if (!_memory.TryGetSpan(segment.Address + (4UL * done), 4 * n, out var bytes))
            {
                throw new VirtqueueException($"PFN buffer 0x{segment.Address:x}+0x{segment.Length:x} is outside guest RAM");
            }

            var pfns = _pfns.AsSpan(0, n);
            for (int i = 0; i < n; i++)
            {
                pfns[i] = BinaryPrimitives.ReadUInt32LittleEndian(bytes[(4 * i)..]);
            }

            done += (uint)n;
            if (inflate)
            {
                Release(pfns);
            }
            else
            {
                foreach (uint pfn in pfns)
                {
                    if (IsRam(pfn))
                    {
                        DeflatedPages++;
                    }
                    else
                    {
                        InvalidPfns++;
                    }
                }
            }
        }
    }

    /// <summary>Releases the pages behind <paramref name="pfns"/>, one madvise per run of contiguous frames.</summary>
    private void Release(Span<uint> pfns)
    {
        pfns.Sort();
        int i = 0;
        while (i < pfns.Length)
        {
            if (!IsRam(pfns[i]))
            {
                InvalidPfns++;
                i++;
                continue;
            }

            int runEnd = i + 1;
            while (runEnd < pfns.Length && pfns[runEnd] == pfns[runEnd - 1] + 1 && IsRam(pfns[runEnd]))
            {
                runEnd++;
            }

            ulong pages = (ulong)(runEnd - i);
            ReleasedBytes += _memory.ReleasePages((ulong)pfns[i] << PfnShift, pages << PfnShift);
            InflatedPages += pages;
            i = runEnd;
        }
    }

    private bool IsRam(uint pfn) => _memory.Contains((ulong)pfn << PfnShift, 1UL << PfnShift);

    /// <summary>Saves the config (target and actual) and the counters.</summary>
    public void SaveState(StateWriter writer)
    {
        writer.WriteUInt32(TargetPages);
        writer.WriteUInt32(ActualPages);
        writer.WriteUInt64(InflatedPages);
        writer.WriteUInt64(DeflatedPages);
        writer.WriteUInt64(ReleasedBytes);
        writer.WriteUInt64(InvalidPfns);
    }

    public void LoadState(StateReader reader)
    {
        uint target = reader.ReadUInt32();
        uint actual = reader.ReadUInt32();
        ulong ramPages = _memory.Size >> PfnShift;
        reader.Require(target <= ramPages, $"a balloon target of {target} pages exceeds {ramPages} pages of RAM");
        BinaryPrimitives.WriteUInt32LittleEndian(_config.AsSpan(NumPagesOffset), target);
        BinaryPrimitives.WriteUInt32LittleEndian(_config.AsSpan(ActualOffset), actual);
        InflatedPages = reader.ReadUInt64();
        DeflatedPages = reader.ReadUInt64();
        ReleasedBytes = reader.ReadUInt64();
        InvalidPfns = reader.ReadUInt64();
    }
}
