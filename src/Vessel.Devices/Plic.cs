using System.Numerics;
using Vessel.Machine.Abstractions;
using Vessel.Machine.Abstractions.State;

namespace Vessel.Devices;

/// <summary>
/// The platform-level interrupt controller as QEMU's <c>virt</c> has it (riscv,plic0 / sifive,plic-1.0.0; RISC-V
/// PLIC spec v1.0.0 ch. 3–9, QEMU <c>hw/intc/sifive_plic.c</c>): per-source priorities with 3 WARL bits, pending
/// bits, per-context enables, thresholds and claim/complete. Context 2h is hart h's M-mode, 2h+1 its S-mode.
/// </summary>
/// <remarks>
/// Sources are level-triggered through a gateway (spec ch. 5): a source is pending while its line is high and it is
/// not claimed; a claim clears the pending bit and holds the gateway closed; completion reopens it, so a line still
/// high is pending again. A line that drops before its claim stops being pending, as in QEMU.
/// </remarks>
public sealed class Plic : IMmioDevice, IStatefulDevice
{
    public const int MaxSources = 1023;
    public const ulong Size = 0x60_0000;

    private const ulong PendingBase = 0x1000;
    private const ulong EnableBase = 0x2000;
    private const ulong EnableStride = 0x80;
    private const ulong ContextBase = 0x20_0000;
    private const ulong ContextStride = 0x1000;
    private const uint PriorityMask = 7; // QEMU virt: 7 priority levels, every bit WARL

    private readonly Lock _lock = new();
    private readonly int _sourceCount;
    private readonly int _words;
    private readonly IInterruptLine[] _outputs;
    private readonly SourceLine[] _sourceLines;
    private readonly uint[] _priority;
    private readonly uint[] _level;
    private readonly uint[] _pending;
    private readonly uint[] _claimed;
    private readonly uint[] _enable;
    private readonly uint[] _threshold;
    private readonly bool[] _outputAsserted;

    /// <param name="sourceCount">Highest source ID (riscv,ndev; QEMU virt: 0x5F); sources are 1..sourceCount.</param>
    /// <param name="contextOutputs">One interrupt line per context, indexed by context number.</param>
    public Plic(int sourceCount, IReadOnlyList<IInterruptLine> contextOutputs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sourceCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(sourceCount, MaxSources);
        ArgumentNullException.ThrowIfNull(contextOutputs);
        if (contextOutputs.Count == 0 || (ulong)contextOutputs.Count > (Size - ContextBase) / ContextStride)
        {
            throw new ArgumentException($"A PLIC in a 0x{Size:x} window has 1 to {(Size - ContextBase) / ContextStride} contexts.", nameof(contextOutputs));
        }

        _sourceCount = sourceCount;
        _words = (sourceCount / 32) + 1; // bit s of the bitmaps is source s; bit 0 (no source) stays clear
        _outputs = [.. contextOutputs];
        _sourceLines = new SourceLine[sourceCount + 1];
        _priority = new uint[sourceCount + 1];
        _level = new uint[_words];
        _pending = new uint[_words];
        _claimed = new uint[_words];
        _enable = new uint[_outputs.Length * _words];
        _threshold = new uint[_outputs.Length];
        _outputAsserted = new bool[_outputs.Length];
        foreach (var output in _outputs)
        {
            output.Set(false);
        }
    }

    public int SourceCount => _sourceCount;

    public int ContextCount => _outputs.Length;

    /// <summary>The wire a device drives for <paramref name="source"/> (1..<see cref="SourceCount"/>).</summary>
    public IInterruptLine GetSourceLine(int source)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(source, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(source, _sourceCount);
        lock (_lock)
        {
            return _sourceLines[source] ??= new SourceLine(this, source);
        }
    }

    public bool Read(ulong offset, int size, out ulong value)
    {
        value = 0;
        if (!IsValidAccess(offset, size))
        {
            return false;
        }

        lock (_lock)
        {
            if (offset < PendingBase)
            {
                // Spec ch. 4: priority registers; source 0 does not exist and reads zero.
                ulong source = offset / 4;
                value = source <= (ulong)_sourceCount ? _priority[source] : 0;
            }
            else if (offset < EnableBase)
            {
                // Spec ch. 6: pending bits, 32 sources per word, read-only.
                ulong word = (offset - PendingBase) / 4;
                value = word < (ulong)_words ? _pending[word] : 0;
            }
            else if (offset < ContextBase)
            {
                if (TryGetEnableWord(offset, out int index))
                {
                    value = _enable[index];
                }
            }
            else
            {
                ulong context = (offset - ContextBase) / ContextStride;
                ulong register = (offset - ContextBase) % ContextStride;
                if (context < (ulong)_outputs.Length)
                {
                    if (register == 0)
                    {
                        value = _threshold[context];
                    }
                    else if (register == 4)
                    {
                        value = (ulong)Claim((int)context);
                    }
                }
            }
        }

        return true;
    }

    public bool Write(ulong offset, int size, ulong value)
    {
        if (!IsValidAccess(offset, size))
        {
            return false;
        }

        uint word32 = (uint)value;
        lock (_lock)
        {
            if (offset < PendingBase)
            {
                ulong source = offset / 4;
                if (source >= 1 && source <= (ulong)_sourceCount)
                {
                    _priority[source] = word32 & PriorityMask;
                }
            }
            else if (offset < EnableBase)
            {
                // Pending bits are read-only: writes are ignored, as in QEMU.
                return true;
            }
            else if (offset < ContextBase)
            {
                if (TryGetEnableWord(offset, out int index))
                {
                    // Spec ch. 7: enables of sources that do not exist (0 and above riscv,ndev) are hardwired to 0.
                    _enable[index] = word32 & ImplementedSources(index % _words);
                }
            }
            else
            {
                ulong context = (offset - ContextBase) / ContextStride;
                ulong register = (offset - ContextBase) % ContextStride;
                if (context >= (ulong)_outputs.Length)
                {
                    return true;
                }

                if (register == 0)
                {
                    _threshold[context] = word32 & PriorityMask;
                }
                else if (register == 4)
                {
                    Complete(word32);
                }
            }

            UpdateOutputs();
        }

        return true;
    }

    /// <summary>QEMU accepts only aligned 32-bit accesses; the window is 0x60_0000 bytes.</summary>
    private static bool IsValidAccess(ulong offset, int size) => size == 4 && (offset & 3) == 0 && offset < Size;

    private bool TryGetEnableWord(ulong offset, out int index)
    {
        ulong context = (offset - EnableBase) / EnableStride;
        ulong word = (offset - EnableBase) % EnableStride / 4;
        index = (int)(context * (ulong)_words) + (int)word;
        return context < (ulong)_outputs.Length && word < (ulong)_words;
    }

    private uint ImplementedSources(int word)
    {
        int firstSource = word * 32;
        int count = Math.Clamp(_sourceCount + 1 - firstSource, 0, 32);
        uint mask = count == 32 ? uint.MaxValue : (1u << count) - 1;
        return word == 0 ? mask & ~1u : mask;
    }

    private void SetLine(int source, bool asserted)
    {
        lock (_lock)
        {
            int word = source / 32;
            uint bit = 1u << (source % 32);
            if (asserted)
            {
                _level[word] |= bit;
                if ((_claimed[word] & bit) == 0)
                {
                    _pending[word] |= bit;
                }
            }
            else
            {
                _level[word] &= ~bit;
                _pending[word] &= ~bit;
            }

            UpdateOutputs();
        }
    }

    /// <summary>
    /// Spec ch. 8: the highest-priority pending source enabled for the context whose priority exceeds the
    /// context's threshold; ties go to the lowest ID. Zero when there is none.
    /// </summary>
    private int BestPending(int context)
    {
        int best = 0;
        uint bestPriority = _threshold[context];
        int enableBase = context * _words;
        for (int word = 0; word < _words; word++)
        {
            uint candidates = _pending[word] & _enable[enableBase + word];
            while (candidates != 0)
            {
                int bit = BitOperations.TrailingZeroCount(candidates);
                candidates &= candidates - 1;
                int source = (word * 32) + bit;
                if (_priority[source] > bestPriority)
                {
                    best = source;
                    bestPriority = _priority[source];
                }
            }
        }

        return best;
    }

    /// <summary>Spec ch. 9 (claim): returns the best pending source and closes its gateway.</summary>
    private int Claim(int context)
    {
        int source = BestPending(context);
        if (source != 0)
        {
            uint bit = 1u << (source % 32);
            _pending[source / 32] &= ~bit;
            _claimed[source / 32] |= bit;
            UpdateOutputs();
        }

        return source;
    }

    /// <summary>
    /// Spec ch. 9 (completion): reopens the gateway; a line still high is pending again. Like QEMU, the
    /// completion is honoured whether or not the source is enabled for the completing context.
    /// </summary>
    private void Complete(uint source)
    {
        if (source < 1 || source > (uint)_sourceCount)
        {
            return;
        }

        int word = (int)source / 32;
        uint bit = 1u << (int)(source % 32);
        if ((_claimed[word] & bit) == 0)
        {
            return;
        }

        _claimed[word] &= ~bit;
        _pending[word] |= _level[word] & bit;
    }

    private void UpdateOutputs()
    {
        for (int context = 0; context < _outputs.Length; context++)
        {
            bool asserted = BestPending(context) != 0;
            if (asserted != _outputAsserted[context])
            {
                _outputAsserted[context] = asserted;
                _outputs[context].Set(asserted);
            }
        }
    }

    private sealed class SourceLine(Plic plic, int source) : IInterruptLine
    {
        public void Set(bool asserted) => plic.SetLine(source, asserted);
    }

    public void SaveState(StateWriter writer)
    {
        lock (_lock)
        {
            writer.BeginSection("plic", 1);
            writer.WriteUInt32Array(_priority);
            writer.WriteUInt32Array(_level);
            writer.WriteUInt32Array(_pending);
            writer.WriteUInt32Array(_claimed);
            writer.WriteUInt32Array(_enable);
            writer.WriteUInt32Array(_threshold);
            writer.WriteBooleanArray(_outputAsserted);
            writer.EndSection();
        }
    }

    /// <summary>Restores every register and drives the context outputs to the saved levels.</summary>
    public void LoadState(StateReader reader)
    {
        lock (_lock)
        {
            reader.BeginSection("plic", 1);
            reader.ReadUInt32Array(_priority);
            reader.ReadUInt32Array(_level);
            reader.ReadUInt32Array(_pending);
            reader.ReadUInt32Array(_claimed);
            reader.ReadUInt32Array(_enable);
            reader.ReadUInt32Array(_threshold);
            reader.ReadBooleanArray(_outputAsserted);
            reader.EndSection();
            for (int context = 0; context < _outputs.Length; context++)
            {
                _outputs[context].Set(_outputAsserted[context]);
            }
        }
    }
}
