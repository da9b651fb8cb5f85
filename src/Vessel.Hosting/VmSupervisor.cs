using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Vessel.Images;
using Vessel.Machine.Abstractions;

namespace Vessel.Hosting;

/// <summary>
/// The supervisor (DESIGN.md §6): keeps the registry, starts one worker process per running VM, watches each
/// worker's pid, records every transition in the event history, applies the restart policy when a worker dies
/// without being asked to, and on start-up finds the workers that kept running while it was down.
/// </summary>
public sealed partial class VmSupervisor : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly TimeSpan ControlTimeout = TimeSpan.FromSeconds(3);
    private readonly Dictionary<string, VmRuntime> _runtimes = [];
    private readonly Lock _lock = new();
    private readonly IReadOnlyList<string> _workerCommand;
    private readonly VmDefinitionValidator _validator;

    /// <param name="stateDirectory">Holds vessel.db and vms/NAME/.</param>
    /// <param name="workerCommand">The command that runs <c>vessel</c> (e.g. [path/to/vessel] or [dotnet, vessel.dll]).</param>
    public VmSupervisor(string stateDirectory, IReadOnlyList<string> workerCommand)
    {
        StateDirectory = Path.GetFullPath(stateDirectory);
        Directory.CreateDirectory(Path.Combine(StateDirectory, "vms"));
        Registry = new VmRegistry(Path.Combine(StateDirectory, "vessel.db"));
        Host = HostCapacity.Detect();
        _validator = new VmDefinitionValidator(Host);
        _workerCommand = workerCommand;
    }

    public string StateDirectory { get; }

    public VmRegistry Registry { get; }

    public HostCapacity Host { get; }

    /// <summary>Start VMs even when they do not fit in the unallocated cores and memory (<c>vessel serve --allow-overcommit</c>).</summary>
    public bool AllowOvercommit { get; set; }

    /// <summary>Finds workers still running from before a supervisor restart and settles VMs whose worker ended meanwhile.</summary>
    public void Recover()
    {
        foreach (var definition in Registry.List())
        {
            var paths = Paths(definition.Name);
            if (!File.Exists(paths.PidFile))
            {
                continue;
            }

            var runtime = Runtime(definition.Name);
            if (int.TryParse(File.ReadAllText(paths.PidFile).Trim(), CultureInfo.InvariantCulture, out int pid) && IsWorkerAlive(pid, definition.Name))
            {
                runtime.Pid = pid;
                runtime.State = VmState.Running;
                runtime.StartedAt = DateTimeOffset.UtcNow;
                runtime.Paused = WorkerControlClient.StatusAsync(paths.ControlSocket, ControlTimeout).GetAwaiter().GetResult()?.Paused ?? false;
                Registry.Record(definition.Name, "rediscovered", $"worker pid {pid} still running after a supervisor restart");
                Watch(runtime);
            }
            else
            {
                runtime.Pid = pid;
                OnWorkerGone(runtime, $"worker pid {pid} ended while the supervisor was down");
            }
        }
    }

    public VmDefinition Create(VmCreateRequest request) => Create(request, machineId: null);

    /// <summary>Creates a VM; <paramref name="machineId"/> keeps an imported VM's identity (a move, not a copy).</summary>
    private VmDefinition Create(VmCreateRequest request, string? machineId)
    {
        var definition = _validator.Validate(request);
        if (VmIdentity.IsMachineId(machineId))
        {
            definition = definition with { MachineId = machineId };
        }

        Registry.Add(definition);
        Registry.Record(definition.Name, "created", $"{definition.Cpus} vCPU, {DataSize.Format(definition.MemoryBytes)}, restart {definition.RestartPolicy.ToName()}");
        return definition;
    }

    public IReadOnlyList<VmInfo> List() => [.. Registry.List().Select(d => Describe(d, withStats: false))];

    public VmInfo Get(string name) => Describe(Registry.Get(name), withStats: true);

    public HostInfo HostInfo()
    {
        var definitions = Registry.List();
        var running = definitions.Where(d => IsActive(Runtime(d.Name).State)).ToList();
        return new HostInfo(Host.Cores, Host.MemoryBytes, running.Sum(d => d.Cpus), (ulong)running.Sum(d => (decimal)d.MemoryBytes), running.Count, definitions.Count, AllowOvercommit: AllowOvercommit);
    }

    public VmInfo Start(string name)
    {
        var definition = Registry.Get(name);
        var runtime = Runtime(name);
        lock (_lock)
        {
            if (IsActive(runtime.State))
            {
                throw new VmConflictException($"VM '{name}' is already {runtime.State.ToString().ToLowerInvariant()}");
            }

            if (definition.Kernel is null && new GuestKit().TryGetCachedAsync().GetAwaiter().GetResult() is null)
            {
                throw new VmConflictException($"VM '{name}' boots the default guest kit, which is not cached; run 'vessel images pull' first");
            }

            if (CapacityCheck.Refusal(HostInfo(), definition, AllowOvercommit) is { } refusal)
            {
                throw new VmConflictException(refusal);
            }

            Portability.LinkedCloneGuard.EnsureNone(definition, Registry.List(), "start");
            runtime.UserStop = false;
            runtime.Restarts = 0;
            Spawn(definition, runtime);
        }

        return Get(name);
    }

    public async Task<VmInfo> StopAsync(string name, TimeSpan wait)
    {
        Registry.Get(name);
        var runtime = Runtime(name);
        if (!IsActive(runtime.State))
        {
            throw new VmConflictException($"VM '{name}' is not running (it is {runtime.State.ToString().ToLowerInvariant()})");
        }

        var previous = runtime.State;
        runtime.UserStop = true;
        runtime.State = VmState.Stopping;
        Registry.Record(name, "stopping", "stop requested");

        // A worker that is still starting opens its control socket within moments; give it that long.
        var answerBy = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!await WorkerControlClient.StopAsync(Paths(name).ControlSocket, ControlTimeout))
        {
            if (DateTime.UtcNow >= answerBy || !IsActive(runtime.State))
            {
                if (IsActive(runtime.State))
                {
                    runtime.State = previous;
                    runtime.UserStop = false;
                    throw new VmConflictException($"VM '{name}': its worker did not answer the stop request; use kill");
                }

                break;
            }

            await Task.Delay(200);
        }

        await WaitWhileActive(runtime, wait);
        return Get(name);
    }

    public async Task<VmInfo> KillAsync(string name, TimeSpan wait)
    {
        Registry.Get(name);
        var runtime = Runtime(name);
        if (!IsActive(runtime.State) || runtime.Pid is not int pid)
        {
            throw new VmConflictException($"VM '{name}' is not running (it is {runtime.State.ToString().ToLowerInvariant()})");
        }

        runtime.UserStop = true;
        Registry.Record(name, "killing", $"SIGKILL to worker pid {pid}");
        if (IsWorkerAlive(pid, name))
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                process.Kill();
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                // Already gone: the monitor records the exit.
            }
        }

        await WaitWhileActive(runtime, wait);
        return Get(name);
    }

    public void Delete(string name)
    {
        Registry.Get(name);
        var runtime = Runtime(name);
        if (IsActive(runtime.State))
        {
            throw new VmConflictException($"VM '{name}' is {runtime.State.ToString().ToLowerInvariant()}; stop or kill it before deleting");
        }

        Portability.LinkedCloneGuard.EnsureNone(Registry.Get(name), Registry.List(), "be deleted");
        if (Portability.LinkedCloneGuard.DependentsOnFilesUnder([Paths(name).Directory], Registry.List(), name) is { Count: > 0 } clones)
        {
            throw new VmConflictException(
                $"VM '{name}' cannot be deleted: its snapshots back linked clone{(clones.Count > 1 ? "s" : string.Empty)} {string.Join(", ", clones.Select(c => $"'{c}'"))}; delete the clones first (or make full clones instead)");
        }

        // The definition and runtime files go; disk images are the user's files and stay where they are.
        runtime.Monitor?.Cancel();
        Registry.Remove(name);
        Registry.Record(name, "deleted", "definition removed");
        lock (_lock)
        {
            _runtimes.Remove(name);
        }

        var directory = Paths(name).Directory;
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    public IReadOnlyList<VmEvent> Events(string name, int limit)
    {
        if (Registry.Find(name) is null && Registry.Events(name, 1).Count == 0)
        {
            throw new VmNotFoundException(name);
        }

        return Registry.Events(name, limit);
    }

    /// <summary>Records that a running VM's harts were parked or let go (vm pause / vm resume).</summary>
    public void SetPaused(string name, bool paused) => Runtime(name).Paused = paused;

    private VmInfo Describe(VmDefinition definition, bool withStats)
    {
        var runtime = Runtime(definition.Name);
        WorkerStatus? stats = null;
        if (withStats && runtime.State == VmState.Running)
        {
            stats = WorkerControlClient.StatusAsync(Paths(definition.Name).ControlSocket, ControlTimeout).GetAwaiter().GetResult();
            if (stats is not null)
            {
                runtime.Paused = stats.Paused; // the worker knows best (e.g. paused before a supervisor restart)
            }
        }

        return new VmInfo(definition, runtime.State.ToString().ToLowerInvariant(), IsActive(runtime.State) ? runtime.Pid : null,
            Paths(definition.Name).ConsoleSocket, runtime.Restarts, stats, runtime.Paused && runtime.State == VmState.Running);
    }

    private void Spawn(VmDefinition definition, VmRuntime runtime)
    {
        var paths = Paths(definition.Name);
        Directory.CreateDirectory(paths.Directory);
        File.WriteAllText(paths.Definition, JsonSerializer.Serialize(definition, Json));
        File.Delete(paths.ExitFile);

        // setsid: the worker gets its own session, so a Ctrl-C or exit of the supervisor's terminal leaves it running;
        // its output goes to worker.log, not to the supervisor's pipes, which may close before it ends.
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("exec setsid \"$@\" </dev/null >>\"$VESSEL_WORKER_LOG\" 2>&1");
        psi.ArgumentList.Add("vessel-worker");
        foreach (string part in _workerCommand)
        {
            psi.ArgumentList.Add(part);
        }

        psi.ArgumentList.Add("worker");
        psi.ArgumentList.Add("--state-dir");
        psi.ArgumentList.Add(StateDirectory);
        psi.ArgumentList.Add(definition.Name);
        psi.Environment["VESSEL_WORKER_LOG"] = paths.WorkerLog;
        var process = Process.Start(psi) ?? throw new VmConflictException($"VM '{definition.Name}': could not start a worker process");
        _ = process.WaitForExitAsync().ContinueWith(_ => process.Dispose(), TaskScheduler.Default); // reaps it

        runtime.Pid = process.Id;
        runtime.Paused = false;
        runtime.State = VmState.Starting;
        runtime.StartedAt = DateTimeOffset.UtcNow;
        Registry.Record(definition.Name, "starting", $"worker pid {process.Id}");
        Watch(runtime);
    }

    private void Watch(VmRuntime runtime)
    {
        runtime.Monitor?.Cancel();
        var cts = new CancellationTokenSource();
        runtime.Monitor = cts;
        int pid = runtime.Pid!.Value;
        _ = Task.Run(async () =>
        {
            var controlSocket = Paths(runtime.Name).ControlSocket;
            while (!cts.IsCancellationRequested)
            {
                await Task.Delay(250, CancellationToken.None);
                if (!IsWorkerAlive(pid, runtime.Name) && !IsShellStartingWorker(pid))
                {
                    OnWorkerGone(runtime, null);
                    return;
                }

                if (runtime.State == VmState.Starting && await WorkerControlClient.StatusAsync(controlSocket, ControlTimeout) is { } status)
                {
                    runtime.State = VmState.Running;
                    Registry.Record(runtime.Name, "started", $"worker pid {status.Pid} is running the VM");
                }
            }
        });
    }

    private void OnWorkerGone(VmRuntime runtime, string? context)
    {
        runtime.Paused = false;
        var paths = Paths(runtime.Name);
        WorkerExit? exit = null;
        try
        {
            exit = File.Exists(paths.ExitFile) ? JsonSerializer.Deserialize<WorkerExit>(File.ReadAllText(paths.ExitFile), Json) : null;
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
        }

        // A killed worker leaves its sockets and pid file behind; clear them so the next start is clean.
        File.Delete(paths.PidFile);
        File.Delete(paths.ControlSocket);
        File.Delete(paths.ConsoleSocket);
        string prefix = context is null ? $"worker pid {runtime.Pid}" : context;
        if (Registry.Find(runtime.Name) is not { } definition)
        {
            runtime.State = VmState.Stopped;
            return;
        }

        bool restart;
        if (exit is null)
        {
            runtime.State = runtime.UserStop ? VmState.Stopped : VmState.Crashed;
            Registry.Record(runtime.Name, runtime.UserStop ? "killed" : "crashed", $"{prefix} ended without an exit record (killed by a signal or crashed)");
            restart = !runtime.UserStop && definition.RestartPolicy != RestartPolicy.No;
        }
        else if (exit.Reason == "failed")
        {
            runtime.State = VmState.Failed;
            Registry.Record(runtime.Name, "failed", $"{prefix}: {exit.Failure}");
            restart = !runtime.UserStop && definition.RestartPolicy != RestartPolicy.No;
        }
        else
        {
            runtime.State = VmState.Stopped;
            Registry.Record(runtime.Name, "stopped", $"{prefix}: {(exit.Reason == "poweroff" ? $"the guest powered off (exit code {exit.ExitCode})" : "stopped on request")}");
            restart = !runtime.UserStop && definition.RestartPolicy == RestartPolicy.Always;
        }

        if (restart)
        {
            runtime.Restarts++;

            // Back off 1, 2, 4 ... 30 s so a VM that dies at boot does not spin the host.
            var delay = TimeSpan.FromSeconds(Math.Min(30, Math.Pow(2, Math.Min(runtime.Restarts - 1, 5))));
            Registry.Record(runtime.Name, "restarting", $"restart policy {definition.RestartPolicy.ToName()}: attempt {runtime.Restarts} in {delay.TotalSeconds:F0} s");
            _ = Task.Delay(delay).ContinueWith(_ =>
            {
                lock (_lock)
                {
                    if (Registry.Find(runtime.Name) is { } current && !IsActive(runtime.State) && !runtime.UserStop)
                    {
                        Spawn(current, runtime);
                    }
                }
            }, TaskScheduler.Default);
        }
    }

    private static async Task WaitWhileActive(VmRuntime runtime, TimeSpan wait)
    {
        var deadline = DateTime.UtcNow + wait;
        while (IsActive(runtime.State) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
    }

    private static bool IsActive(VmState state) => state is VmState.Starting or VmState.Running or VmState.Stopping;

    /// <summary>True while <paramref name="pid"/> is a live (not zombie) vessel worker for this VM; guards against pid reuse.</summary>
    private static bool IsWorkerAlive(int pid, string name)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            int close = stat.LastIndexOf(')');
            if (close < 0 || close + 2 >= stat.Length || stat[close + 2] is 'Z' or 'X')
            {
                return false;
            }

            string[] args = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0');
            return args.Contains("worker") && args.Contains(name);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Between fork and exec the new worker is still /bin/sh or setsid; it is not gone yet.</summary>
    private static bool IsShellStartingWorker(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            int close = stat.LastIndexOf(')');
            return close > 0 && close + 2 < stat.Length && stat[close + 2] is not ('Z' or 'X') &&
                (stat.Contains("(sh)", StringComparison.Ordinal) || stat.Contains("(setsid)", StringComparison.Ordinal) || stat.Contains("(dotnet)", StringComparison.Ordinal) || stat.Contains("(vessel)", StringComparison.Ordinal));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private VmRuntime Runtime(string name)
    {
        lock (_lock)
        {
            if (!_runtimes.TryGetValue(name, out var runtime))
            {
                runtime = new VmRuntime(name);
                _runtimes[name] = runtime;
            }

            return runtime;
        }
    }

    private VmPaths Paths(string name) => new(StateDirectory, name);

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var runtime in _runtimes.Values)
            {
                runtime.Monitor?.Cancel();
            }
        }

        Registry.Dispose();
    }
}
