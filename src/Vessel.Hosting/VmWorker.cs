using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Vessel.Devices.Virtio;
using Vessel.Hosting.GuestAgent;
using Vessel.Images;
using Vessel.Machine;
using Vessel.Machine.Abstractions.State;
using Vessel.Machine.Loading;
using Vessel.Storage;

namespace Vessel.Hosting;

/// <summary>
/// The body of <c>vessel worker</c>: runs one VM from the definition the supervisor left in its directory, with
/// its serial console on <see cref="VmPaths.ConsoleSocket"/> and a JSON-lines control channel on
/// <see cref="VmPaths.ControlSocket"/> (status, stop). It reboots the guest in place when it asks for a reset and
/// writes <see cref="VmPaths.ExitFile"/> when it ends on its own terms (DESIGN.md §6).
/// </summary>
public sealed class VmWorker(string stateDirectory, string name)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly VmPaths _paths = new(stateDirectory, name);
    private readonly Stopwatch _uptime = new();
    private readonly WorkerGuestAgent _agent = new();
    private volatile VirtMachine? _machine;
    private volatile bool _stopRequested;
    private ulong _retiredBeforeReboot;
    private readonly WorkerDeviceCounters _counters = new();
    private int _boots;

    public int Run(TextWriter log, CancellationToken cancellationToken)
    {
        VmDefinition definition;
        MachineConfiguration config;
        try
        {
            definition = JsonSerializer.Deserialize<VmDefinition>(File.ReadAllText(_paths.Definition), Json)
                ?? throw new JsonException("empty definition");
            config = ToMachineConfiguration(definition, cancellationToken);
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException or GuestKitException or VmValidationException)
        {
            return Exit(log, new WorkerExit("failed", 2, $"cannot load the VM definition: {e.Message}"));
        }

        if (config.Validate() is { } problem)
        {
            return Exit(log, new WorkerExit("failed", 2, problem));
        }

        using var cpuGroup = WorkerCpuControls.Apply(definition, ref config, log);
        using var memoryGroup = MemoryControlGroup.TryCreate(definition.Name, definition.MemoryBytes);
        log.WriteLine(memoryGroup is null
            ? $"vessel worker {definition.Name}: no writable memory cgroup on this host: host memory is not limited"
            : $"vessel worker {definition.Name}: host memory limited to {memoryGroup.LimitBytes >> 20} MiB: {memoryGroup.Kind} {memoryGroup.Directory}");
        File.Delete(_paths.ExitFile);
        File.WriteAllText(_paths.PidFile, Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var console = new ConsoleHub(_paths.ConsoleSocket, _paths.ConsoleLog);
        using var control = ServeControl();
        _uptime.Start();
        try
        {
            while (true)
            {
                VirtMachine machine;
                try
                {
                    machine = File.Exists(_paths.RestoreRequest) ? RestoreFromSnapshot(config, console.Write, log) : new VirtMachine(config, console.Write);
                }
                catch (Exception e) when (e is BootImageException or ElfFormatException or IOException or MachineStateException or DiskImageException or JsonException)
                {
                    return Exit(log, new WorkerExit("failed", 2, e.Message));
                }

                using (machine)
                {
                    _boots++;
                    console.Uart = machine.Uart;
                    _agent.Attach(machine);
                    _machine = machine;
                    var reason = _stopRequested ? MachineExitReason.Stopped : machine.Run(cancellationToken);
                    _machine = null;
                    _retiredBeforeReboot += machine.InstructionsRetired;
                    _counters.Retire(machine);
                    switch (reason)
                    {
                        case MachineExitReason.PowerOff:
                            return Exit(log, new WorkerExit("poweroff", machine.ExitCode, null));
                        case MachineExitReason.Stopped:
                            return Exit(log, new WorkerExit("stopped", 0, null));
                        case MachineExitReason.Failed:
                            return Exit(log, new WorkerExit("failed", 1, machine.Failure));
                    }
                }

                log.WriteLine($"vessel worker {name}: guest requested a reboot");
                if (_stopRequested)
                {
                    return Exit(log, new WorkerExit("stopped", 0, null));
                }
            }
        }
        finally
        {
            File.Delete(_paths.ConsoleSocket);
            File.Delete(_paths.ControlSocket);
            File.Delete(_paths.PidFile);
        }
    }

    /// <summary>A revert: disks back to the snapshot, then the machine from its state file (RAM mapped copy-on-write).</summary>
    private VirtMachine RestoreFromSnapshot(MachineConfiguration config, Action<byte> consoleOutput, TextWriter log)
    {
        var request = JsonSerializer.Deserialize<RestoreRequest>(File.ReadAllText(_paths.RestoreRequest), Json)
            ?? throw new JsonException("empty restore request");
        var clock = Stopwatch.StartNew();
        VirtMachine.ApplyDiskSnapshots(config, request.Id, index => _paths.SnapshotDiskCopy(request.Id, index));
        var machine = VirtMachine.Restore(config, _paths.SnapshotState(request.Id), consoleOutput);
        File.Delete(_paths.RestoreRequest); // only once it worked: a failed revert is retried or reported, never half-done
        log.WriteLine($"vessel worker {name}: restored snapshot {request.Id} in {clock.Elapsed.TotalMilliseconds:F1} ms");
        return machine;
    }

    private string Snapshot(string id, string path)
    {
        var machine = _machine ?? throw new InvalidOperationException("the VM is not running");
        bool wasPaused = machine.IsPaused;
        var clock = Stopwatch.StartNew();
        machine.Pause();
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            machine.SaveState(path);
            try
            {
                machine.CreateDiskSnapshots(id, index => _paths.SnapshotDiskCopy(id, index));
            }
            catch
            {
                File.Delete(path);
                throw;
            }
        }
        finally
        {
            if (!wasPaused)
            {
                machine.Resume();
            }
        }

        return JsonSerializer.Serialize(new { ok = true, milliseconds = clock.Elapsed.TotalMilliseconds }, Json);
    }

    private int Exit(TextWriter log, WorkerExit exit)
    {
        // Atomic (temp file + rename): the supervisor never reads half an exit record (DESIGN.md §5).
        string temp = _paths.ExitFile + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(exit, Json));
        File.Move(temp, _paths.ExitFile, overwrite: true);
        log.WriteLine($"vessel worker {name}: {exit.Reason}{(exit.Failure is null ? string.Empty : ": " + exit.Failure)}");
        return exit.Reason == "failed" ? 1 : 0;
    }

    private static MachineConfiguration ToMachineConfiguration(VmDefinition definition, CancellationToken cancellationToken)
    {
        string? kernel = definition.Kernel, initrd = definition.Initrd, firmware = definition.Firmware;
        if (kernel is null || firmware is null)
        {
            var kit = new GuestKit().TryGetCachedAsync(cancellationToken).GetAwaiter().GetResult()
                ?? throw new GuestKitException("the guest kit is not cached; run 'vessel images pull'");
            firmware ??= kit.Firmware;
            if (kernel is null)
            {
                kernel = kit.Kernel;
                initrd ??= kit.Initramfs;
            }
        }

        return new MachineConfiguration
        {
            CpuCount = definition.Cpus,
            MemorySize = definition.MemoryBytes,
            FirmwarePath = firmware,
            KernelPath = kernel,
            InitrdPath = initrd,
            CommandLine = KitCommandLine(definition),
            Disks = [.. definition.Disks.Select(d => new DiskConfiguration(d.Path, d.Format, d.ReadOnly, d.RateLimit))],
            Nics = [.. definition.Nics.Select(ParseNic)],
            VirtioConsole = true, // the guest agent's channel (hvc0) for vessel vm exec
        };
    }

    /// <summary>
    /// The kit's init starts the guest agent only when asked (vessel.agent=1) and configures eth0 by DHCP only with
    /// vessel.dhcp=1, which <c>vessel run</c> also adds whenever a VM on the default command line has a NIC. It also
    /// names the guest (vessel.hostname=, vessel.machine_id=).
    /// </summary>
    public static string KitCommandLine(VmDefinition definition)
    {
        // The guest's identity: its hostname from the VM name and its /etc/machine-id (the kit's /init applies both).
        string line = $"{definition.CommandLine} vessel.agent=1 vessel.hostname={VmIdentity.HostnameFor(definition.Name)}";
        if (VmIdentity.IsMachineId(definition.MachineId))
        {
            line += $" vessel.machine_id={definition.MachineId}";
        }

        return definition.Nics.Count > 0 && !line.Contains("vessel.dhcp=", StringComparison.Ordinal) ? line + " vessel.dhcp=1" : line;
    }

    private static NetworkInterfaceConfiguration ParseNic(string spec) =>
        NetworkInterfaceConfiguration.Parse(spec, out string? error)
            ?? throw new VmValidationException(new Dictionary<string, string[]> { ["nics"] = [error ?? spec] });

    private Socket ServeControl()
    {
        File.Delete(_paths.ControlSocket);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(_paths.ControlSocket));
        OwnerOnlyFile.Restrict(_paths.ControlSocket);
        listener.Listen(8);
        _ = Task.Run(async () =>
        {
            while (true)
            {
                Socket client;
                try
                {
                    client = await listener.AcceptAsync();
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    return;
                }

                _ = Task.Run(() => ServeControlClient(client));
            }
        });
        return listener;
    }

    private async Task ServeControlClient(Socket client)
    {
        using var owned = client;
        await using var stream = new NetworkStream(client, ownsSocket: false);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        await using var writer = new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true, NewLine = "\n" };
        try
        {
            while (await ReadBoundedLineAsync(reader) is { } line)
            {
                await writer.WriteLineAsync(_agent.TryHandle(line) is { } agentReply ? await agentReply : Handle(line));
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
        }
    }

    private static async Task<string?> ReadBoundedLineAsync(StreamReader reader)
    {
        // A control request is a few dozen bytes (an exec's stdin at most 1 MiB); refuse to buffer an endless line.
        var line = new StringBuilder();
        char[] one = new char[1];
        while (await reader.ReadAsync(one) == 1)
        {
            if (one[0] == '\n')
            {
                return line.ToString();
            }

            if (line.Length >= WorkerGuestAgent.MaxControlRequestChars)
            {
                throw new IOException("control request too long");
            }

            line.Append(one[0]);
        }

        return line.Length > 0 ? line.ToString() : null;
    }

    private string Handle(string line)
    {
        string? command, id, path;
        ulong? targetPages;
        try
        {
            using var doc = JsonDocument.Parse(line);
            command = StringProperty(doc.RootElement, "command");
            targetPages = doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("targetPages", out var p)
                && p.TryGetUInt64(out ulong n) ? n : null;
            id = StringProperty(doc.RootElement, "id");
            path = StringProperty(doc.RootElement, "path");
        }
        catch (JsonException e)
        {
            return JsonSerializer.Serialize(new { ok = false, error = $"not JSON: {e.Message}" }, Json);
        }

        switch (command)
        {
            case "status":
                var machine = _machine;
                var status = new WorkerStatus(
                    Environment.ProcessId, name, _uptime.Elapsed.TotalSeconds,
                    _retiredBeforeReboot + (machine?.InstructionsRetired ?? 0), _boots, machine?.IsPaused ?? false);
                return JsonSerializer.Serialize(new { ok = true, status }, Json);
            case "stats":
                var current = _machine;
                var (disks, nics) = _counters.Totals(current);
                var stats = new WorkerStatistics(
                    Environment.ProcessId, _uptime.Elapsed.TotalSeconds, _retiredBeforeReboot + (current?.InstructionsRetired ?? 0), disks, nics,
                    BalloonStatistics.Of(current?.Balloon));
                return JsonSerializer.Serialize(new { ok = true, stats }, Json);
            case "stop":
                _stopRequested = true;
                _machine?.Stop();
                return JsonSerializer.Serialize(new { ok = true }, Json);
            case "pause" when _machine is { } running:
                return running.Pause() ? Ok() : Error("the VM stopped while pausing");
            case "resume" when _machine is { } running:
                running.Resume();
                return Ok();
            case "pause" or "resume":
                return Error("the VM is not running");
            case "balloon" when targetPages is { } pages:
                // The guest's driver inflates or deflates toward the new target on its own (virtio 1.2 §5.5.6.1).
                if (_machine?.Balloon is not { } balloon)
                {
                    return Error("the VM is not running or has no balloon device");
                }

                return balloon.TrySetTargetPages(pages)
                    ? Ok()
                    : Error($"a balloon of {pages} pages is larger than the guest's {balloon.MaximumTargetPages} pages of RAM");
            case "snapshot" when id is not null && path is not null:
                try
                {
                    return Snapshot(id, path);
                }
                catch (Exception e) when (e is DiskImageException or IOException or InvalidOperationException or UnauthorizedAccessException or TimeoutException)
                {
                    return Error(e.Message);
                }

            case "delete-snapshot" when id is not null:
                try
                {
                    _machine?.DeleteOpenDiskSnapshots(id);
                    return Ok();
                }
                catch (Exception e) when (e is DiskImageException or IOException)
                {
                    return Error(e.Message);
                }

            default:
                return Error($"unknown command '{command}' or missing arguments (expected status, stats, stop, pause, resume, balloon {{targetPages}}, snapshot {{id, path}}, delete-snapshot {{id}})");
        }
    }

    private static string Ok() => JsonSerializer.Serialize(new { ok = true }, Json);

    private static string Error(string message) => JsonSerializer.Serialize(new { ok = false, error = message }, Json);

    private static string? StringProperty(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
