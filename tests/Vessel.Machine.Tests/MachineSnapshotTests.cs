using System.Buffers.Binary;
using System.Diagnostics;
using Vessel.Machine.Abstractions.State;
using Vessel.RiscV;
using Xunit.Abstractions;

namespace Vessel.Machine.Tests;

/// <summary>Pause/resume and whole-machine save/restore on a tiny counting program (no OpenSBI needed).</summary>
public sealed class MachineSnapshotTests : IDisposable
{
    private const ulong DataAddress = 0x8000_0400;

    // auipc t0,0; addi t0,t0,0x400; loop: addi t1,t1,1; add t2,t2,t1; sd t2,0(t0); sd t1,8(t0); j loop
    private static readonly uint[] CountingProgram = [0x0000_0297, 0x4002_8293, 0x0013_0313, 0x0063_83B3, 0x0072_B023, 0x0062_B423, 0xFF1F_F06F];

    private readonly string _dir = Directory.CreateTempSubdirectory("vessel-snap-").FullName;
    private readonly ITestOutputHelper _output;

    public MachineSnapshotTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private MachineConfiguration Config(ulong memory = 64UL << 20)
    {
        string firmware = Path.Combine(_dir, "counter.bin");
        byte[] code = new byte[CountingProgram.Length * 4];
        for (int i = 0; i < CountingProgram.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(code.AsSpan(i * 4), CountingProgram[i]);
        }

        File.WriteAllBytes(firmware, code);
        string kernel = Path.Combine(_dir, "kernel.bin");
        File.WriteAllBytes(kernel, [0x13, 0, 0, 0]);
        return new MachineConfiguration { FirmwarePath = firmware, KernelPath = kernel, MemorySize = memory, VirtioConsole = true };
    }

    private static readonly int[] ComparedCsrs =
    [
        CsrAddress.Mstatus, CsrAddress.Mie, CsrAddress.Mip, CsrAddress.Mtvec, CsrAddress.Mscratch, CsrAddress.Mepc, CsrAddress.Mcause,
        CsrAddress.Stvec, CsrAddress.Sscratch, CsrAddress.Satp, CsrAddress.Medeleg, CsrAddress.Mideleg, CsrAddress.Minstret,
        CsrAddress.Fcsr, CsrAddress.Menvcfg, CsrAddress.PmpCfg0, CsrAddress.PmpAddr0,
    ];

    private static string ArchitecturalState(VirtMachine machine)
    {
        var hart = machine.Harts[0];
        var parts = new List<string> { $"pc={hart.Pc:x}", $"priv={hart.Privilege}" };
        for (int i = 0; i < 32; i++)
        {
            parts.Add($"x{i}={hart.GetRegister(i):x}");
            parts.Add($"f{i}={hart.GetFloatRegister(i):x}");
        }

        foreach (int csr in ComparedCsrs)
        {
            Assert.True(hart.TryReadCsr(csr, out ulong value));
            parts.Add($"csr{csr:x}={value:x}");
        }

        parts.Add($"mem={machine.Memory.ReadUInt64(DataAddress):x},{machine.Memory.ReadUInt64(DataAddress + 8):x}");
        return string.Join(' ', parts);
    }

    [Fact]
    public void SaveRestoreThenRunMatchesRunningOn()
    {
        var config = Config();
        string state = Path.Combine(_dir, "state");
        using var original = new VirtMachine(config, _ => { });
        var hart = original.Harts[0];
        hart.Run(1000);
        hart.SetFloatRegister(3, 0x4009_21FB_5444_2D18);
        Assert.True(hart.TryWriteCsr(CsrAddress.Mscratch, 0xDEAD_BEEF));
        Assert.True(hart.TryWriteCsr(CsrAddress.Fcsr, 0x61));
        Assert.True(hart.TryWriteCsr(CsrAddress.PmpAddr0, 0x2000_0000));
        Assert.True(hart.TryWriteCsr(CsrAddress.PmpCfg0, 0x1F));
        string before = ArchitecturalState(original);
        original.SaveState(state);

        using var restored = VirtMachine.Restore(config, state, _ => { });
        Assert.Equal(before, ArchitecturalState(restored));

        original.Harts[0].Run(12_345);
        restored.Harts[0].Run(12_345);
        Assert.Equal(ArchitecturalState(original), ArchitecturalState(restored));
        Assert.NotEqual(before, ArchitecturalState(restored));
    }

    [Fact]
    public void RestoredRamIsCopyOnWriteAndTheStateFileIsSparse()
    {
        var config = Config(128UL << 20);
        string state = Path.Combine(_dir, "state");
        using (var machine = new VirtMachine(config, _ => { }))
        {
            machine.Harts[0].Run(100);
            machine.SaveState(state);
        }

        byte[] fileBefore = File.ReadAllBytes(state);
        using (var restored = VirtMachine.Restore(config, state, _ => { }))
        {
            restored.Memory.WriteUInt64(0x8100_0000, 0x1234);
            restored.Harts[0].Run(1000);
            Assert.Equal(0x1234UL, restored.Memory.ReadUInt64(0x8100_0000));
        }

        Assert.Equal(fileBefore, File.ReadAllBytes(state)); // MAP_PRIVATE: the guest's writes never reach the file
        Assert.True(AllocatedBytes(state) < (1L << 20), $"128 MiB of mostly zero RAM took {AllocatedBytes(state)} bytes on disk");
    }

    private static long AllocatedBytes(string path)
    {
        var psi = new ProcessStartInfo("stat", ["-c", "%b %B", path]) { RedirectStandardOutput = true };
        using var p = Process.Start(psi)!;
        string[] parts = p.StandardOutput.ReadToEnd().Trim().Split(' ');
        p.WaitForExit();
        return long.Parse(parts[0]) * long.Parse(parts[1]);
    }

    [Fact]
    public async Task PauseParksTheHartsAndStopsGuestTime()
    {
        var config = Config();
        string state = Path.Combine(_dir, "state");
        using var machine = new VirtMachine(config, _ => { });
        var run = Task.Run(() => machine.Run());
        SpinWait.SpinUntil(() => machine.Memory.ReadUInt64(DataAddress + 8) > 1000, TimeSpan.FromSeconds(10));

        Assert.True(machine.Pause());
        ulong counter = machine.Memory.ReadUInt64(DataAddress + 8);
        ulong mtime = machine.Clock.Now;
        Thread.Sleep(100);
        Assert.Equal(counter, machine.Memory.ReadUInt64(DataAddress + 8));
        Assert.Equal(mtime, machine.Clock.Now);
        machine.SaveState(state);

        machine.Resume();
        Assert.True(SpinWait.SpinUntil(() => machine.Memory.ReadUInt64(DataAddress + 8) > counter, TimeSpan.FromSeconds(10)));
        Assert.True(machine.Clock.Now - mtime < MachineClockTicks(TimeSpan.FromMilliseconds(90)), "the paused 100 ms must not show in mtime");
        machine.Stop();
        await run;

        using var restored = VirtMachine.Restore(config, state, _ => { });
        Assert.Equal(counter, restored.Memory.ReadUInt64(DataAddress + 8));
        Assert.Equal(mtime, restored.Clock.Now);
        var rerun = Task.Run(() => restored.Run());
        Assert.True(SpinWait.SpinUntil(() => restored.Memory.ReadUInt64(DataAddress + 8) > counter, TimeSpan.FromSeconds(10)));
        restored.Stop();
        await rerun;
    }

    private static ulong MachineClockTicks(TimeSpan t) => (ulong)(t.TotalSeconds * Abstractions.MachineClock.DefaultFrequency);

    [Fact]
    public void A512MiBMachineWithDirtyRamSavesAndRestoresQuickly()
    {
        var config = Config(512UL << 20);
        string state = Path.Combine(_dir, "state");
        using (var machine = new VirtMachine(config, _ => { }))
        {
            // Dirty 64 MiB (one word per page) so the sparse writer has real pages to write.
            for (ulong page = 0; page < (64UL << 20) / 4096; page++)
            {
                machine.Memory.WriteUInt64(0x8400_0000 + (page * 4096), page + 1);
            }

            var save = Stopwatch.StartNew();
            machine.SaveState(state);
            save.Stop();
            _output.WriteLine($"save 512 MiB (64 MiB dirty): {save.Elapsed.TotalMilliseconds:F1} ms");
        }

        var restore = Stopwatch.StartNew();
        using var restored = VirtMachine.Restore(config, state, _ => { });
        restore.Stop();
        _output.WriteLine($"restore 512 MiB: {restore.Elapsed.TotalMilliseconds:F1} ms");
        Assert.Equal(42UL, restored.Memory.ReadUInt64(0x8400_0000 + (41 * 4096)));
        Assert.True(restore.Elapsed < TimeSpan.FromSeconds(1), $"restore took {restore.Elapsed.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public async Task SavingARunningMachineIsRefused()
    {
        using var machine = new VirtMachine(Config(), _ => { });
        var run = Task.Run(() => machine.Run());
        SpinWait.SpinUntil(() => machine.Memory.ReadUInt64(DataAddress + 8) > 0, TimeSpan.FromSeconds(10));
        var e = Assert.Throws<InvalidOperationException>(() => machine.SaveState(Path.Combine(_dir, "state")));
        Assert.Contains("Pause", e.Message);
        machine.Stop();
        await run;
    }

    [Theory]
    [InlineData("truncated", "truncated")]
    [InlineData("magic", "not a Vessel machine state")]
    [InlineData("version", "format version 99")]
    [InlineData("checksum", "checksum")]
    [InlineData("empty", "too short")]
    public void ABadStateFileIsRefusedWithAClearMessage(string damage, string expected)
    {
        var config = Config();
        string state = Path.Combine(_dir, "state");
        using (var machine = new VirtMachine(config, _ => { }))
        {
            machine.SaveState(state);
        }

        byte[] bytes = File.ReadAllBytes(state);
        switch (damage)
        {
            case "truncated": bytes = bytes[..(bytes.Length - 4096)]; break;
            case "magic": bytes[0] ^= 0xFF; break;
            case "version": BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), 99); break;
            case "checksum": bytes[100] ^= 0x55; break;
            case "empty": bytes = []; break;
        }

        File.WriteAllBytes(state, bytes);
        var e = Assert.Throws<MachineStateException>(() => VirtMachine.Restore(config, state, _ => { }));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void AStateFromAnotherShapeOfMachineIsRefused()
    {
        var config = Config();
        string state = Path.Combine(_dir, "state");
        using (var machine = new VirtMachine(config, _ => { }))
        {
            machine.SaveState(state);
        }

        var e = Assert.Throws<MachineStateException>(() => VirtMachine.Restore(config with { MemorySize = 128UL << 20 }, state, _ => { }));
        Assert.Contains("64 MiB", e.Message);
        e = Assert.Throws<MachineStateException>(() => VirtMachine.Restore(config with { VirtioConsole = false }, state, _ => { }));
        Assert.Contains("virtio devices", e.Message);
    }
}
