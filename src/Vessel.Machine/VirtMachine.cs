using System.Buffers.Binary;
using System.Diagnostics;
using Vessel.Devices;
using Vessel.Devices.Virtio;
using Vessel.Machine.Abstractions;
using Vessel.Machine.DeviceTree;
using Vessel.Machine.Loading;
using Vessel.Networking;
using Vessel.RiscV;
using Vessel.Storage;

namespace Vessel.Machine;

/// <summary>
/// A QEMU-<c>virt</c>-compatible machine: RAM, harts (one host thread each), CLINT, PLIC, UART, RTC and the
/// test finisher, booted through OpenSBI <c>fw_dynamic</c> exactly as QEMU does.
/// </summary>
public sealed partial class VirtMachine : IDisposable
{
    private const long SliceInstructions = 50_000;
    private static readonly TimeSpan MaxPark = TimeSpan.FromMilliseconds(50);

    // OpenSBI include/sbi/fw_dynamic.h: struct fw_dynamic_info, version 2.
    private const ulong FwDynamicMagic = 0x4942_534F;
    private const ulong FwDynamicVersion = 2;
    private const ulong NextModeSupervisor = 1;

    private readonly MachineConfiguration _config;
    private readonly GuestMemory _ram;
    private readonly Hart[] _harts;
    private readonly Clint _clint;
    private readonly Plic _plic;
    private readonly GoldfishRtc _rtc;
    private readonly List<IBlockBackend> _disks = [];
    private readonly List<int> _virtioSlots = [];
    private readonly List<IVirtioDevice> _virtioDevices = [];
    private readonly List<VirtioMmioTransport> _transports = [];
    private readonly List<IEthernetPort> _ports = [];
    private readonly ManualResetEventSlim _finished = new(false);
    private readonly Stopwatch _uptime = new();
    private volatile bool _stopping;
    private MachineExitReason _exitReason = MachineExitReason.Stopped;
    private int _exitCode;
    private string? _failure;

    public VirtMachine(MachineConfiguration config, Action<byte> consoleOutput)
        : this(config, consoleOutput, null)
    {
    }

    /// <summary>With <paramref name="restoredRam"/> (a snapshot's RAM) nothing is loaded: the caller loads the saved state.</summary>
    private VirtMachine(MachineConfiguration config, Action<byte> consoleOutput, GuestMemory? restoredRam)
    {
        if (config.Validate() is { } problem)
        {
            throw new ArgumentException(problem, nameof(config));
        }

        _config = config;
        Clock = new MachineClock();
        _ram = restoredRam ?? new GuestMemory(VirtMemoryMap.RamBase, config.MemorySize);
        Bus = new SystemBus();
        _harts = new Hart[config.CpuCount];
        for (int i = 0; i < _harts.Length; i++)
        {
            _harts[i] = new Hart(i, _ram, Bus, Clock) { Engine = config.CpuEngine };
        }

        _clint = new Clint(
            Clock,
            [.. _harts.Select(h => (IInterruptLine)new HartInterruptLine(h, InterruptBits.MachineSoftware))],
            [.. _harts.Select(h => (IInterruptLine)new HartInterruptLine(h, InterruptBits.MachineTimer))]);
        var contexts = new List<IInterruptLine>();
        foreach (var h in _harts)
        {
            contexts.Add(new HartInterruptLine(h, InterruptBits.MachineExternal));
            contexts.Add(new HartInterruptLine(h, InterruptBits.SupervisorExternal));
        }

        _plic = new Plic(VirtMemoryMap.PlicSources, contexts);
        Uart = new Uart16550(_plic.GetSourceLine(VirtMemoryMap.UartIrq), consoleOutput);
        _rtc = new GoldfishRtc(_plic.GetSourceLine(VirtMemoryMap.RtcIrq));
        var finisher = new TestFinisher();
        finisher.PowerRequested += OnPowerRequest;

        Bus.Map(VirtMemoryMap.TestBase, VirtMemoryMap.TestSize, finisher);
        Bus.Map(VirtMemoryMap.RtcBase, VirtMemoryMap.RtcSize, _rtc);
        Bus.Map(VirtMemoryMap.ClintBase, VirtMemoryMap.ClintSize, _clint);
        Bus.Map(VirtMemoryMap.PlicBase, VirtMemoryMap.PlicSize, _plic);
        Bus.Map(VirtMemoryMap.UartBase, VirtMemoryMap.UartSize, Uart);

        for (int slot = 0; slot < config.Disks.Count; slot++)
        {
            var disk = config.Disks[slot];
            IBlockBackend backend;
            try
            {
                backend = DiskImage.Open(disk.Path, disk.Format, disk.ReadOnly);
            }
            catch (DiskImageException e)
            {
                Dispose();
                throw new BootImageException(e.Message);
            }

            _disks.Add(backend);
            AddVirtioDevice(new VirtioBlock(backend, _ram, $"vessel-disk{slot}", disk.RateLimit, ioThread: disk.IoThread));
        }

        foreach (var nic in config.Nics)
        {
            IEthernetPort port;
            try
            {
                port = NetworkBackend.Open(nic.Backend);
                if (nic.PcapPath is { } pcap)
                {
                    var inner = port;
                    try
                    {
                        port = new CapturingPort(inner, PcapWriter.Create(pcap));
                    }
                    catch
                    {
                        inner.Dispose();
                        throw;
                    }
                }
            }
            catch (Exception e) when (e is NetworkConfigurationException or IOException or System.Net.Sockets.SocketException)
            {
                Dispose();
                throw new BootImageException($"--net {nic.Backend}: {e.Message}");
            }

            _ports.Add(port);
            var device = new VirtioNetwork(_ram, nic.Mac, frame => port.Send(frame), nic.RateLimit, nic.RateLimit);
            port.Attach(new NicFrameReceiver(device));
            AddVirtioDevice(device);
        }

        if (config.VirtioConsole)
        {
            VirtioConsole = new VirtioConsole(_ram, data => VirtioConsoleOutput?.Invoke(data));
            AddVirtioDevice(VirtioConsole);
        }

        if (config.EntropySource)
        {
            AddVirtioDevice(new VirtioEntropy(_ram));
        }

        if (config.Balloon)
        {
            Balloon = new VirtioBalloon(_ram);
            AddVirtioDevice(Balloon);
        }

        if (restoredRam is null)
        {
            LoadImages();
        }
    }

    public MachineClock Clock { get; }

    /// <summary>The virtio-console port (guest <c>/dev/hvc0</c>), when configured; feed it with TryEnqueueInput.</summary>
    public VirtioConsole? VirtioConsole { get; }

    /// <summary>The virtio-balloon device, when configured: set its target to take memory back from the guest.</summary>
    public VirtioBalloon? Balloon { get; }

    /// <summary>Receives what the guest writes to <c>/dev/hvc0</c> (on a hart thread; copy what you keep).</summary>
    public ConsoleOutputHandler? VirtioConsoleOutput { get; set; }

    /// <summary>The virtio devices in slot order, for statistics.</summary>
    public IReadOnlyList<IVirtioDevice> VirtioDevices => _virtioDevices;

    public SystemBus Bus { get; }

    public Uart16550 Uart { get; }

    public IReadOnlyList<Hart> Harts => _harts;

    public GuestMemory Memory => _ram;

    /// <summary>Guest exit status from the test finisher (0 for a normal power-off).</summary>
    public int ExitCode => _exitCode;

    /// <summary>Why the machine failed, when <see cref="Run"/> returned <see cref="MachineExitReason.Failed"/>.</summary>
    public string? Failure => _failure;

    public ulong InstructionsRetired => (ulong)_harts.Sum(h => (decimal)h.InstructionsRetired);

    public TimeSpan Uptime => _uptime.Elapsed;

    /// <summary>When the first hart first ran in U-mode: the first user process (init) started.</summary>
    public TimeSpan? FirstUserModeEntry { get; private set; }

    /// <summary>Puts a device on the next free virtio-mmio slot; slot order is probe order (disks first: vda, vdb…).</summary>
    private void AddVirtioDevice(IVirtioDevice device)
    {
        int slot = _virtioSlots.Count;
        var transport = new VirtioMmioTransport(device, _ram, _plic.GetSourceLine(VirtMemoryMap.VirtioIrq(slot)));
        Bus.Map(VirtMemoryMap.VirtioBase + ((ulong)slot * VirtMemoryMap.VirtioStride), VirtMemoryMap.VirtioStride, transport);
        _virtioSlots.Add(slot);
        _transports.Add(transport);
        _virtioDevices.Add(device);
    }

    private void LoadImages()
    {
        ulong ramEnd = VirtMemoryMap.RamBase + _config.MemorySize;
        BootImageLoader.LoadBinaryOrElf(_ram, _config.FirmwarePath, VirtMemoryMap.RamBase, "firmware");
        ulong kernelAddress = VirtMemoryMap.RamBase + VirtMemoryMap.KernelOffset;
        var (kernelStart, kernelEnd) = BootImageLoader.LoadBinaryOrElf(_ram, _config.KernelPath, kernelAddress, "kernel");

        ulong? initrdStart = null, initrdEnd = null;
        if (_config.InitrdPath is { } initrdPath)
        {
            // QEMU: far enough past the kernel that decompression cannot clobber it, min(RAM/2, 128 MiB).
            byte[] initrd = File.ReadAllBytes(initrdPath);
            ulong start = Math.Max(kernelStart + Math.Min(_config.MemorySize / 2, 128UL << 20), (kernelEnd + 0xFFFFF) & ~0xFFFFFUL);
            if (start + (ulong)initrd.Length > ramEnd - (4UL << 20))
            {
                throw new BootImageException($"initrd {initrdPath} ({initrd.Length >> 20} MiB) does not fit in {_config.MemorySize >> 20} MiB of RAM; give the VM more --memory.");
            }

            _ram.Write(start, initrd);
            initrdStart = start;
            initrdEnd = start + (ulong)initrd.Length;
        }

        byte[] fdt = VirtDeviceTree.Build(new VirtDeviceTree.Options(
            _config.CpuCount, _config.MemorySize, _config.CommandLine, initrdStart, initrdEnd, _virtioSlots));

        // QEMU puts the FDT at the top of RAM (below 3 GiB), 2 MiB aligned; the fw_dynamic_info just below it.
        ulong fdtTop = Math.Min(ramEnd, VirtMemoryMap.RamBase + (3UL << 30));
        ulong fdtAddress = (fdtTop - (ulong)fdt.Length) & ~((2UL << 20) - 1);
        _ram.Write(fdtAddress, fdt);
        ulong infoAddress = fdtAddress - 0x1000;
        Span<byte> info = _ram.GetSpan(infoAddress, 48);
        BinaryPrimitives.WriteUInt64LittleEndian(info[0..], FwDynamicMagic);
        BinaryPrimitives.WriteUInt64LittleEndian(info[8..], FwDynamicVersion);
        BinaryPrimitives.WriteUInt64LittleEndian(info[16..], kernelStart);
        BinaryPrimitives.WriteUInt64LittleEndian(info[24..], NextModeSupervisor);
        BinaryPrimitives.WriteUInt64LittleEndian(info[32..], 0); // options
        BinaryPrimitives.WriteUInt64LittleEndian(info[40..], 0); // boot hart

        // QEMU's reset vector: every hart enters the firmware with a0 = hartid, a1 = FDT, a2 = fw_dynamic_info.
        foreach (var hart in _harts)
        {
            hart.Reset(VirtMemoryMap.RamBase);
            hart.SetRegister(10, (ulong)hart.HartId);
            hart.SetRegister(11, fdtAddress);
            hart.SetRegister(12, infoAddress);
        }
    }

    /// <summary>Runs until the guest powers off or resets, <paramref name="cancellationToken"/> fires, or a hart fails.</summary>
    public MachineExitReason Run(CancellationToken cancellationToken = default)
    {
        _uptime.Start();
        Volatile.Write(ref _running, true);
        if (!_pauseRequested)
        {
            Clock.Thaw(); // a restored machine's clock waits at the saved mtime until it runs
        }
        var threads = new Thread[_harts.Length];
        for (int i = 0; i < _harts.Length; i++)
        {
            int index = i;
            threads[i] = new Thread(() => HartLoop(index)) { IsBackground = true, Name = $"vessel-hart{i}" };
            threads[i].Start();
        }

        using (cancellationToken.Register(() => Finish(MachineExitReason.Stopped, 0, null)))
        {
            _finished.Wait();
        }

        foreach (var hart in _harts)
        {
            hart.Stop();
        }

        foreach (var t in threads)
        {
            t.Join();
        }

        _uptime.Stop();
        Volatile.Write(ref _running, false);
        return _exitReason;
    }

    private void HartLoop(int index)
    {
        var hart = _harts[index];
        var throttle = _config.Throttle;
        try
        {
            while (!_stopping)
            {
                ParkWhilePaused();
                _clint.PollTimer(index);
                long sliceStart = throttle is null ? 0 : Stopwatch.GetTimestamp();
                var result = hart.Run(SliceInstructions);
                throttle?.AfterSlice(index, Stopwatch.GetElapsedTime(sliceStart));
                if (hart.FatalTrap is { } fatal)
                {
                    Finish(MachineExitReason.Failed, 1, fatal);
                    return;
                }

                if (FirstUserModeEntry is null && hart.HasEnteredUserMode)
                {
                    FirstUserModeEntry = _uptime.Elapsed;
                }

                if (result == HartRunResult.WaitingForInterrupt)
                {
                    ulong deadline = Math.Min(_clint.GetTimeCompare(index), hart.SupervisorTimerDeadline);
                    TimeSpan wait = Clock.TimeUntil(deadline);
                    if (wait > TimeSpan.Zero)
                    {
                        hart.WaitForInterrupt(wait < MaxPark ? wait : MaxPark);
                    }
                }
            }
        }
        catch (Exception e)
        {
            // A bug in the emulator must end this VM with a message, never take the host process down.
            Finish(MachineExitReason.Failed, 1, $"hart {index} stopped at pc 0x{hart.Pc:x}: {e.GetType().Name}: {e.Message}");
        }
    }

    private void OnPowerRequest(PowerRequest request)
    {
        if (request.Kind == PowerRequestKind.Reset)
        {
            Finish(MachineExitReason.Reset, 0, null);
        }
        else
        {
            Finish(MachineExitReason.PowerOff, request.ExitCode, null);
        }
    }

    private void Finish(MachineExitReason reason, int exitCode, string? failure)
    {
        lock (_finished)
        {
            if (_stopping)
            {
                return;
            }

            _stopping = true;
            _exitReason = reason;
            _exitCode = exitCode;
            _failure = failure;
        }

        foreach (var hart in _harts)
        {
            hart.Stop();
        }

        ReleasePausedHarts();
        _finished.Set();
    }

    /// <summary>Ends the run from outside (e.g. the user's Ctrl-A X, or a kernel panic seen on the console).</summary>
    public void Stop(MachineExitReason reason = MachineExitReason.Stopped, string? failure = null) =>
        Finish(reason, reason == MachineExitReason.Failed ? 1 : 0, failure);

    public void Dispose()
    {
        // Device threads (virtio-blk I/O threads) stop before the disks and RAM they use go away.
        foreach (var device in _virtioDevices)
        {
            (device as IDisposable)?.Dispose();
        }

        foreach (var disk in _disks)
        {
            disk.Dispose();
        }

        _disks.Clear();
        foreach (var port in _ports)
        {
            port.Dispose();
        }

        _ports.Clear();
        foreach (var device in _virtioDevices.OfType<IDisposable>())
        {
            device.Dispose(); // rate limiters' timers: nothing may touch RAM once it is freed
        }

        _rtc.Dispose();
        _ram.Dispose();
        _finished.Dispose();
    }
}
