using Vessel.Machine.Abstractions;
using Vessel.Machine.Abstractions.State;

namespace Vessel.Devices.Virtio;

/// <summary>
/// virtio-console (virtio 1.2 §5.3) with a single port and no multiport control queue: the guest sees it as
/// <c>/dev/hvc0</c>. Queue 0 (receiveq) carries host input to the guest, queue 1 (transmitq) guest output to
/// <see cref="ConsoleOutputHandler"/>. Input waits in a bounded backlog until the driver posts buffers.
/// </summary>
public sealed class VirtioConsole : IVirtioDevice
{
    public const uint ConsoleDeviceId = 3;
    private const int ReceiveQueue = 0;
    private const int TransmitQueue = 1;

    /// <summary>Input not yet taken by the guest; more is refused (the caller retries), never silently dropped.</summary>
    public const int InputBacklogLimit = 64 << 10;

    private readonly GuestMemory _memory;
    private readonly ConsoleOutputHandler _output;
    private readonly Lock _inputLock = new();
    private readonly byte[] _input = new byte[InputBacklogLimit];
    private readonly byte[] _config = new byte[12];
    private int _inputStart;
    private int _inputCount;
    private IVirtqueueRunner? _runner;

    public VirtioConsole(GuestMemory memory, ConsoleOutputHandler output)
    {
        _memory = memory;
        _output = output;
    }

    public uint DeviceId => ConsoleDeviceId;

    public ulong Features => VirtioFeatures.RingIndirectDescriptors | VirtioFeatures.RingEventIndex;

    public int QueueCount => 2;

    public int QueueMaxSize => 128;

    public ReadOnlySpan<byte> Config => _config;

    /// <summary>Whether the guest driver is up (DRIVER_OK), so input will reach it.</summary>
    public bool DriverReady { get; private set; }

    public ulong BytesIn { get; private set; }

    public ulong BytesOut { get; private set; }

    public void Connect(IVirtqueueRunner runner) => _runner = runner;

    public void Activate(ulong negotiatedFeatures) => DriverReady = true;

    public void Reset()
    {
        DriverReady = false;
    }

    /// <summary>
    /// Queues host input for the guest. Returns false, taking nothing, when the backlog cannot hold all of
    /// <paramref name="data"/>; the caller should retry later. Thread-safe.
    /// </summary>
    public bool TryEnqueueInput(ReadOnlySpan<byte> data)
    {
        lock (_inputLock)
        {
            if (data.Length > InputBacklogLimit - _inputCount)
            {
                return false;
            }

            int end = (_inputStart + _inputCount) % InputBacklogLimit;
            int first = Math.Min(data.Length, InputBacklogLimit - end);
            data[..first].CopyTo(_input.AsSpan(end));
            data[first..].CopyTo(_input);
            _inputCount += data.Length;
        }

        _runner?.RunQueue(ReceiveQueue);
        return true;
    }

    public bool ProcessQueue(int index, Virtqueue queue) => index switch
    {
        ReceiveQueue => DeliverInput(queue),
        TransmitQueue => TakeOutput(queue),
        _ => false,
    };

    private bool DeliverInput(Virtqueue queue)
    {
        bool any = false;
        lock (_inputLock)
        {
            while (_inputCount > 0 && queue.TryPop(out ushort head, out var chain))
            {
                uint written = 0;
                foreach (var segment in chain)
                {
                    if (!segment.DeviceWritable)
                    {
                        throw new VirtqueueException("virtio-console receive buffer is not device-writable");
                    }

                    int n = (int)Math.Min((uint)_inputCount, segment.Length);
                    var target = Slice(segment.Address, n);
                    int first = Math.Min(n, InputBacklogLimit - _inputStart);
                    _input.AsSpan(_inputStart, first).CopyTo(target);
                    _input.AsSpan(0, n - first).CopyTo(target[first..]);
                    _inputStart = (_inputStart + n) % InputBacklogLimit;
                    _inputCount -= n;
                    written += (uint)n;
                    if (_inputCount == 0)
                    {
                        break;
                    }
                }

                queue.Push(head, written);
                BytesIn += written;
                any = true;
            }
        }

        return any;
    }

    private bool TakeOutput(Virtqueue queue)
    {
        bool any = false;
        while (queue.TryPop(out ushort head, out var chain))
        {
            foreach (var segment in chain)
            {
                if (segment.DeviceWritable)
                {
                    throw new VirtqueueException("virtio-console transmit buffer is device-writable");
                }

                // Straight from guest RAM, in bounded pieces (the handler copies what it keeps).
                for (uint done = 0; done < segment.Length;)
                {
                    int n = (int)Math.Min(64u << 10, segment.Length - done);
                    _output(Slice(segment.Address + done, n));
                    done += (uint)n;
                }

                BytesOut += segment.Length;
            }

            queue.Push(head, 0);
            any = true;
        }

        return any;
    }

    private Span<byte> Slice(ulong address, int length)
    {
        if (!_memory.TryGetSpan(address, length, out var span))
        {
            throw new VirtqueueException($"buffer 0x{address:x}+0x{length:x} is outside guest RAM");
        }

        return span;
    }

    /// <summary>Saves host input the guest has not read yet.</summary>
    public void SaveState(StateWriter writer)
    {
        lock (_inputLock)
        {
            byte[] pending = new byte[_inputCount];
            for (int i = 0; i < _inputCount; i++)
            {
                pending[i] = _input[(_inputStart + i) % _input.Length];
            }

            writer.WriteBytes(pending);
        }
    }

    public void LoadState(StateReader reader)
    {
        byte[] pending = reader.ReadBytes();
        reader.Require(pending.Length <= _input.Length, $"{pending.Length} bytes of input exceed the {_input.Length}-byte backlog");
        lock (_inputLock)
        {
            pending.CopyTo(_input, 0);
            _inputStart = 0;
            _inputCount = pending.Length;
        }
    }
}
