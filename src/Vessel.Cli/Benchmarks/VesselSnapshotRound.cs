using System.Diagnostics;
using System.Text;
using Vessel.Machine;

namespace Vessel.Cli.Benchmarks;

/// <summary>
/// A snapshot round on Vessel with the calls the VM service's worker makes (src/Vessel.Hosting/VmWorker.cs): a
/// snapshot is Pause, SaveState, CreateDiskSnapshots (qcow2 internal snapshot), Resume; a revert stops the running
/// machine, applies the disks' snapshot and builds the machine from the state file (RAM mapped copy-on-write), then
/// runs it. The machine runs in this process, so the service's worker start-up and API round trips are not counted.
/// </summary>
public static class VesselSnapshotRound
{
    public static SnapshotTimings Run(SnapshotRoundSetup setup, CancellationToken cancellationToken)
    {
        var config = new MachineConfiguration
        {
            CpuEngine = setup.Engine,
            MemorySize = setup.MemorySize,
            FirmwarePath = setup.Kit.Firmware,
            KernelPath = setup.Kit.Kernel,
            InitrdPath = setup.Kit.Initramfs,
            CommandLine = SnapshotRoundSetup.CommandLine,
            Disks = [new DiskConfiguration(setup.Disk, "qcow2", ReadOnly: false)],
        };
        string statePath = Path.Combine(setup.WorkDirectory, SnapshotRoundSetup.SnapshotName + ".state");
        var console = new ConsoleMarkerWatch(SnapshotRoundSetup.ReadyMarker, Stopwatch.StartNew());
        void Output(byte b) => console.Append((char)b);

        VirtMachine? machine = new VirtMachine(config, Output);
        var running = Start(machine, cancellationToken);
        void Type(string line) => machine?.Uart.TryEnqueueInput(Encoding.ASCII.GetBytes(line));
        try
        {
            WaitForReady(console, running, setup.BootTimeout, cancellationToken);
            Ask(1, console, Type, setup, cancellationToken);

            var clock = Stopwatch.StartNew();
            machine.Pause();
            machine.SaveState(statePath);
            machine.CreateDiskSnapshots(SnapshotRoundSetup.SnapshotName);
            machine.Resume();
            var snapshot = clock.Elapsed;
            Ask(2, console, Type, setup, cancellationToken); // the guest goes on after a live snapshot

            clock.Restart();
            Finish(machine, running);
            machine = null;
            VirtMachine.ApplyDiskSnapshots(config, SnapshotRoundSetup.SnapshotName);
            machine = VirtMachine.Restore(config, statePath, Output);
            running = Start(machine, cancellationToken);
            var restore = clock.Elapsed;

            var answered = Ask(3, console, Type, setup, cancellationToken);
            return new SnapshotTimings(snapshot, restore, answered);
        }
        finally
        {
            if (machine is not null)
            {
                Finish(machine, running);
            }
        }
    }

    private static Task<MachineExitReason> Start(VirtMachine machine, CancellationToken cancellationToken) =>
        Task.Factory.StartNew(() => machine.Run(cancellationToken), cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>Stops the machine, waits for its harts to leave and frees it.</summary>
    private static void Finish(VirtMachine machine, Task<MachineExitReason> running)
    {
        machine.Stop();
        try
        {
            running.Wait();
        }
        catch (AggregateException e) when (e.InnerException is OperationCanceledException)
        {
            // Cancelled before it started.
        }

        machine.Dispose();
    }

    private static void WaitForReady(ConsoleMarkerWatch console, Task running, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (console.MarkerSeen is null)
        {
            if (running.IsCompleted || clock.Elapsed >= timeout)
            {
                throw SnapshotBenchmarkException.WithConsole(
                    running.IsCompleted ? "the Vessel guest stopped before it was ready" : $"the Vessel guest was not ready within {timeout.TotalSeconds:F0} s", console.Text);
            }

            cancellationToken.WaitHandle.WaitOne(50);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    private static TimeSpan Ask(int number, ConsoleMarkerWatch console, Action<string> type, SnapshotRoundSetup setup, CancellationToken cancellationToken) =>
        new ConsoleQuestion("SNAP", number).Ask(console, type, setup.StepTimeout, cancellationToken)
        ?? throw SnapshotBenchmarkException.WithConsole($"the Vessel guest's shell did not answer (question {number})", console.Text);
}
