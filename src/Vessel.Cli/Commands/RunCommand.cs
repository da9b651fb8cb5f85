using System.ComponentModel;
using System.Diagnostics;
using Spectre.Console;
using Spectre.Console.Cli;
using Vessel.Cli.Terminal;
using Vessel.Machine;
using Vessel.Machine.Abstractions;
using Vessel.Machine.Loading;

namespace Vessel.Cli.Commands;

/// <summary>
/// <c>vessel run</c>: boots a one-off VM in the foreground with its serial console on this terminal. With no
/// images named, it boots the Debian guest kit (pulling it on first use).
/// </summary>
public sealed class RunCommand : Command<RunCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("-m|--memory <SIZE>")]
        [Description("Guest RAM, e.g. 512M or 2G.")]
        [DefaultValue("512M")]
        public string Memory { get; init; } = "512M";

        [CommandOption("--cpus <N>")]
        [Description("Number of harts (vCPUs).")]
        [DefaultValue(1)]
        public int Cpus { get; init; } = 1;

        [CommandOption("--bios <FILE>")]
        [Description("Firmware (OpenSBI fw_dynamic.bin). Default: the guest kit's.")]
        public string? Bios { get; init; }

        [CommandOption("--kernel <FILE>")]
        [Description("Linux Image (raw, gzip or ELF). Default: the guest kit's.")]
        public string? Kernel { get; init; }

        [CommandOption("--initrd <FILE>")]
        [Description("Initial ramdisk. Default: the guest kit's initramfs when no --kernel is given.")]
        public string? Initrd { get; init; }

        [CommandOption("--append <CMDLINE>")]
        [Description("Kernel command line.")]
        public string? Append { get; init; }

        [CommandOption("--disk <SPEC>")]
        [Description("Attach a virtio-blk disk (repeatable; the first is /dev/vda): FILE[[,format=FMT]][[,readonly=on]][[,iothread=on]][[,bps=RATE]][[,iops=N]]. Format is detected from content; iothread=on runs its requests on a thread of its own; bps=/iops= (and bps_burst=/iops_burst=) limit its I/O.")]
        public string[] Disks { get; init; } = [];

        [CommandOption("--net <BACKEND>")]
        // Spectre.Console reads descriptions as markup: [[ and ]] are literal brackets.
        [Description("Add a virtio-net NIC (repeatable; the first is eth0): user[[,hostfwd=tcp:127.0.0.1:8080-:80]] (NAT, the default), switch:NAME[[,dhcp=on|A.B.C.D/N[[,router=A.B.C.D]]]] (VM-to-VM LAN; dhcp= makes the switch lease addresses, default subnet 10.0.3.0/24, server .1), tap:IFNAME, or none. Per-NIC options: mac=, pcap=FILE.")]
        public string[] Nets { get; init; } = [];

        [CommandOption("--mac <MAC>")]
        [Description("MAC address of the first NIC (default: 52:54:00 and three random bytes).")]
        public string? Mac { get; init; }

        [CommandOption("--pcap <FILE>")]
        [Description("Capture the first NIC's traffic, both directions, to FILE (pcap; Wireshark and tcpdump read it).")]
        public string? Pcap { get; init; }

        [CommandOption("--virtio-console <SOCKET>")]
        [Description("Add a virtio-console port (guest /dev/hvc0) served on the Unix socket SOCKET (connect with e.g. socat).")]
        public string? VirtioConsole { get; init; }

        [CommandOption("--no-entropy")]
        [Description("Leave out the virtio-rng device that seeds the guest's entropy pool from the host.")]
        public bool NoEntropy { get; init; }

        [CommandOption("--no-reboot")]
        [Description("Exit instead of rebooting when the guest reboots.")]
        public bool NoReboot { get; init; }

        [CommandOption(CpuEngineOption.Template)]
        [Description(CpuEngineOption.Description)]
        public string? CpuEngine { get; init; }

        [CommandOption("--stats")]
        [Description("On exit, print instructions executed, MIPS and time to the first user process.")]
        public bool Stats { get; init; }

        public override ValidationResult Validate()
        {
            if (CpuEngineOption.Problem(CpuEngine) is { } engineProblem)
            {
                return ValidationResult.Error(engineProblem);
            }

            if (!DataSize.TryParse(Memory, out _))
            {
                return ValidationResult.Error($"--memory {Memory}: not a size (use e.g. 512M or 2G).");
            }

            foreach (string disk in Disks)
            {
                if (DiskConfiguration.Parse(disk, out string? error) is null)
                {
                    return ValidationResult.Error(error!);
                }
            }

            if (Nets.Contains("none") && Nets.Length > 1)
            {
                return ValidationResult.Error("--net none cannot be combined with other --net options.");
            }

            foreach (string net in Nets.Where(n => n != "none"))
            {
                if (NetworkInterfaceConfiguration.Parse(net, out string? error) is null)
                {
                    return ValidationResult.Error(error!);
                }
            }

            if (Mac is not null && NetworkInterfaceConfiguration.ParseMac(Mac, out string? macError) is null)
            {
                return ValidationResult.Error($"--mac {macError}");
            }

            if ((Mac is not null || Pcap is not null) && Nets.Contains("none"))
            {
                return ValidationResult.Error("--mac and --pcap need a NIC, but --net none removes it.");
            }

            return Cpus is < 1 or > MachineConfiguration.MaxCpus
                ? ValidationResult.Error($"--cpus must be between 1 and {MachineConfiguration.MaxCpus}.")
                : ValidationResult.Success();
        }
    }

    public const string DefaultCommandLine = "console=ttyS0";

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        DataSize.TryParse(settings.Memory, out ulong memory);
        MachineConfiguration config;
        try
        {
            config = ResolveImages(settings, memory, cancellationToken);
        }
        catch (Exception e) when (e is GuestKitUnavailableException or IOException or HttpRequestException)
        {
            System.Console.Error.WriteLine($"vessel run: {e.Message}");
            return 2;
        }

        if (config.Validate() is { } problem)
        {
            System.Console.Error.WriteLine($"vessel run: {problem}");
            return 2;
        }

        UnixSocketConsoleBridge? hvc = null;
        if (settings.VirtioConsole is { } socketPath)
        {
            try
            {
                hvc = UnixSocketConsoleBridge.Listen(socketPath);
            }
            catch (IOException e)
            {
                System.Console.Error.WriteLine($"vessel run: --virtio-console {e.Message}");
                return 2;
            }
        }

        using var hvcLifetime = hvc;
        var console = new SerialConsole();
        using var raw = TerminalRawMode.Enter();
        bool interactive = raw is not null;
        using var inputStop = new CancellationTokenSource();
        var wall = Stopwatch.StartNew();
        try
        {
            while (true)
            {
                MachineExitReason reason;
                VirtMachine machine;
                try
                {
                    machine = new VirtMachine(config, console.WriteFromGuest);
                }
                catch (Exception e) when (e is BootImageException or ElfFormatException)
                {
                    raw?.Dispose();
                    System.Console.Error.WriteLine($"vessel run: {e.Message}");
                    return 2;
                }

                using (machine)
                {
                    if (hvc is not null && machine.VirtioConsole is { } port)
                    {
                        machine.VirtioConsoleOutput = hvc.WriteFromGuest;
                        hvc.Start(port);
                    }

                    console.KernelPanicked += OnPanic;
                    console.QuitRequested += OnQuit;
                    console.StartInput(machine.Uart, interactive, inputStop.Token);
                    reason = machine.Run(cancellationToken);
                    console.KernelPanicked -= OnPanic;
                    console.QuitRequested -= OnQuit;
                    if (settings.Stats)
                    {
                        PrintStats(console, machine, wall.Elapsed);
                    }

                    void OnPanic()
                    {
                        // Let the panic message finish printing, then stop with a failure.
                        _ = Task.Delay(500).ContinueWith(_ => machine.Stop(MachineExitReason.Failed, "the guest kernel panicked"));
                    }

                    void OnQuit() => machine.Stop();

                    switch (reason)
                    {
                        case MachineExitReason.PowerOff:
                            return machine.ExitCode;
                        case MachineExitReason.Stopped:
                            return 0;
                        case MachineExitReason.Failed:
                            console.WriteNotice($"\nvessel run: {machine.Failure}\n");
                            return 1;
                    }
                }

                // Reset: boot again from scratch, unless told not to.
                if (settings.NoReboot)
                {
                    return 0;
                }

                inputStop.Cancel();
                console.WriteNotice("\nvessel: guest requested a reboot\n");
            }
        }
        finally
        {
            inputStop.Cancel();
        }
    }

    private static void PrintStats(SerialConsole console, VirtMachine machine, TimeSpan wall)
    {
        double seconds = machine.Uptime.TotalSeconds;
        ulong instructions = machine.InstructionsRetired;
        string firstUser = machine.FirstUserModeEntry is { } t ? $"{t.TotalSeconds:F2} s" : "never";
        console.WriteNotice(
            $"\nvessel stats: {instructions:N0} instructions in {seconds:F2} s ({instructions / Math.Max(seconds, 1e-9) / 1e6:F1} MIPS), " +
            $"first user process at {firstUser}, wall {wall.TotalSeconds:F2} s\n");
        foreach (var hart in machine.Harts.Where(h => h.Engine == Vessel.RiscV.CpuEngine.Jit))
        {
            var jit = hart.JitStatistics;
            long all = Math.Max(1, jit.TranslatedInstructions + jit.InterpretedInstructions);
            console.WriteNotice(
                $"vessel jit: hart {hart.HartId}: {jit.BlocksCompiled:N0} blocks compiled in {jit.CompileTime.TotalSeconds:F2} s, " +
                $"{jit.BlocksHeld:N0} held, {jit.BlocksEvicted:N0} evicted, {jit.BlocksInvalidated:N0} invalidated; " +
                $"{100.0 * jit.TranslatedInstructions / all:F1} % of instructions in compiled blocks; " +
                $"{jit.ChainedInCode:N0} blocks entered from compiled code, {jit.ChainedBlocks:N0} by the dispatcher's chain, {jit.JumpCacheHits:N0} by jump cache\n");
        }

    }

    /// <summary>Like QEMU, a VM gets one user-mode NAT NIC unless told otherwise (<c>--net none</c> for none).</summary>
    private static List<NetworkInterfaceConfiguration> ResolveNics(Settings settings)
    {
        if (settings.Nets.Contains("none"))
        {
            return [];
        }

        string[] specs = settings.Nets.Length == 0 ? ["user"] : settings.Nets;
        var nics = specs.Select(s => NetworkInterfaceConfiguration.Parse(s, out _)!).ToList();
        if (settings.Mac is not null)
        {
            nics[0] = nics[0] with { Mac = NetworkInterfaceConfiguration.ParseMac(settings.Mac, out _)! };
        }

        if (settings.Pcap is not null)
        {
            nics[0] = nics[0] with { PcapPath = settings.Pcap };
        }

        return nics;
    }

    private static MachineConfiguration ResolveImages(Settings settings, ulong memory, CancellationToken cancellationToken)
    {
        string? bios = settings.Bios, kernel = settings.Kernel, initrd = settings.Initrd;
        if (bios is null || kernel is null)
        {
            var kit = GuestKitLauncher.Ensure(cancellationToken);
            bios ??= kit.Firmware;
            if (kernel is null)
            {
                kernel = kit.Kernel;
                initrd ??= kit.Initramfs;
            }
        }

        return new MachineConfiguration
        {
            CpuCount = settings.Cpus,
            MemorySize = memory,
            CpuEngine = CpuEngineOption.Resolve(settings.CpuEngine),
            FirmwarePath = bios,
            KernelPath = kernel,
            InitrdPath = initrd,
            // The kit's init configures eth0 by DHCP when asked; by default it is asked whenever there is a NIC.
            CommandLine = settings.Append ?? (settings.Nets.Contains("none") ? DefaultCommandLine : $"{DefaultCommandLine} vessel.dhcp=1"),
            Disks = [.. settings.Disks.Select(d => DiskConfiguration.Parse(d, out _)!)],
            Nics = ResolveNics(settings),
            VirtioConsole = settings.VirtioConsole is not null,
            EntropySource = !settings.NoEntropy,
        };
    }
}
