using Vessel.Machine.Abstractions;

namespace Vessel.RiscV.Tests;

/// <summary>A hart with 1 MiB of RAM at 0x8000_0000 and no devices, for running short instruction sequences.</summary>
internal sealed class TestMachine : IDisposable
{
    public const ulong RamBase = 0x8000_0000;

    public TestMachine(ulong ramSize = 1 << 20)
    {
        Memory = new GuestMemory(RamBase, ramSize);
        Hart = new Hart(0, Memory, new EmptyBus(), new MachineClock(deterministic: true));
    }

    public GuestMemory Memory { get; }

    public Hart Hart { get; }

    /// <summary>Writes 32-bit instruction words starting at <paramref name="address"/>.</summary>
    public void Load(ulong address, params uint[] words)
    {
        for (int i = 0; i < words.Length; i++)
        {
            BitConverter.TryWriteBytes(Memory.GetSpan(address + (ulong)(4 * i), 4), words[i]);
        }
    }

    /// <summary>Loads the program at RAM base, runs exactly <paramref name="count"/> instructions (default: all of them).</summary>
    public void Run(params uint[] program)
    {
        Load(RamBase, program);
        Hart.Pc = RamBase;
        Hart.Run(program.Length);
    }

    public ulong X(int index) => Hart.GetRegister(index);

    public ulong Csr(int csr)
    {
        Assert.True(Hart.TryReadCsr(csr, out ulong value), $"CSR 0x{csr:x} should exist");
        return value;
    }

    public void Dispose() => Memory.Dispose();

    private sealed class EmptyBus : IPhysicalBus
    {
        public bool Read(ulong address, int size, out ulong value)
        {
            value = 0;
            return false;
        }

        public bool Write(ulong address, int size, ulong value) => false;
    }
}
