using Vessel.Machine.Abstractions;

namespace Vessel.Devices;

/// <summary>
/// The platform-level interrupt controller (RISC-V PLIC spec v1.0.0, as SiFive's and QEMU virt's): per-source
/// priorities, pending bits, per-context enables, thresholds and claim/complete. Sources are level-triggered
/// through a gateway: a source is pending while its line is high and it is not claimed; completing a claimed
/// source whose line is still high makes it pending again.
/// </summary>
public sealed class Plic : IMmioDevice
{
    private const ulong PendingBase = 0x1000;
    private const ulong EnableBase = 0x2000;
    private const ulong EnableStride = 0x80;
    private const ulong ContextBase = 0x20_0000;
    private const ulong ContextStride = 0x1000;
    private const uint PriorityMask = 7; // 3 priority bits, like QEMU virt

    private readonly int _sources;
    private readonly IReadOnlyList<IInterruptLine> _outputs;
    private readonly uint[] _priority;
    private readonly bool[] _line;
    private readonly bool[] _pending;
    private readonly bool[] _claimed;
    private readonly uint[][] _enable;
    private readonly uint[] _threshold;
    private readonly bool[] _outputAsserted;
    private readonly object _lock = new();

    /// <param name="sourceCount">Highest source number (riscv,ndev); sources are 1..sourceCount.</param>
    /// <param name="contextOutputs">One interrupt line per context (for QEMU virt: hart h M-mode = 2h, S-mode = 2h+1).</param>
    public Plic(int sourceCount, IReadOnlyList<IInterruptLine> contextOutputs)
    {
        if (sourceCount is < 1 or > 1023)
        {
            throw new ArgumentOutOfRangeException(nameof(sourceCount));
        }

        _sources = sourceCount;
        _outputs = contextOutputs;
        _priority = new uint[sourceCount + 1];
        _line = new bool[sourceCount + 1];
        _pending = new bool[sourceCount + 1];
        _claimed = new bool[sourceCount + 1];
        _enable = new uint[contextOutputs.Count][];
        for (int c = 0; c < _enable.Length; c++)
        {
            _enable[c] = new uint[(sourceCount / 32) + 1];
        }

        _threshold = new uint[contextOutputs.Count];
        _outputAsserted = new bool[contextOutputs.Count];
    }

    /// <summary>The wire a device drives for <paramref name="source"/> (1..sourceCount).</summary>
    public IInterruptLine GetSourceLine(int source)
    {
        if (source < 1 || source > _sources)
        {
            throw new ArgumentOutOfRangeException(nameof(source));
        }

        return new SourceLine(this, source);
    }

    private void SetLine(int source, bool asserted)
    {
        lock (_lock)
        {
            _line[source] = asserted;
            if (!_claimed[source])
            {
                _pending[source] = asserted;
            }

            UpdateOutputs();
        }
    }

    public bool Read(ulong offset, int size, out ulong value)
    {
        value = 0;
        if (size != 4 || (offset & 3) != 0)
        {
            return false;
        }

        lock (_lock)
        {
            if (offset < PendingBase)
            {
                int source = (int)(offset / 4);
                value = source >= 1 && source <= _sources ? _priority[source] : 0;
            }
            else if (offset < EnableBase)
            {
                int word = (int)((offset - PendingBase) / 4);
                for (int bit = 0; bit < 32; bit++)
                {
                    int source = (word * 32) + bit;
                    if (source >= 1 && source <= _sources && _pending[source])
                    {
                        value |= 1UL << bit;
                    }
                }
            }
            else if (offset < ContextBase)
            {
                int context = (int)((offset - EnableBase) / EnableStride);
                int word = (int)((offset - EnableBase) % EnableStride / 4);
                if (context < _enable.Length && word < _enable[context].Length)
                {
                    value = _enable[context][word];
                }
            }
            else
            {
                int context = (int)((offset - ContextBase) / ContextStride);
                ulong register = (offset - ContextBase) % ContextStride;
                if (context < _threshold.Length)
                {
                    if (register == 0)
                    {
                        value = _threshold[context];
                    }
                    else if (register == 4)
                    {
                        value = (ulong)Claim(context);
                    }
                }
            }
        }

        return true;
    }

    public bool Write(ulong offset, int size, ulong value)
    {
        if (size != 4 || (offset & 3) != 0)
        {
            return false;
        }

        lock (_lock)
        {
            if (offset < PendingBase)
            {
                int source = (int)(offset / 4);
                if (source >= 1 && source <= _sources)
                {
                    _priority[source] = (uint)value & PriorityMask;
                }
            }
            else if (offset < EnableBase)
            {
                // pending bits are read-only
            }
            else if (offset < ContextBase)
            {
                int context = (int)((offset - EnableBase) / EnableStride);
                int word = (int)((offset - EnableBase) % EnableStride / 4);
                if (context < _enable.Length && word < _enable[context].Length)
                {
                    uint mask = word == 0 ? ~1u : uint.MaxValue; // source 0 does not exist
                    _enable[context][word] = (uint)value & mask & ValidSourcesMask(word);
                }
            }
            else
            {
                int context = (int)((offset - ContextBase) / ContextStride);
                ulong register = (offset - ContextBase) % ContextStride;
                if (context < _threshold.Length)
                {
                    if (register == 0)
                    {
                        _threshold[context] = (uint)value & PriorityMask;
                    }
                    else if (register == 4)
                    {
                        Complete((int)(uint)value);
                    }
                }
            }

            UpdateOutputs();
        }

        return true;
    }

    private uint ValidSourcesMask(int word)
    {
        int first = word * 32;
        int count = Math.Clamp(_sources + 1 - first, 0, 32);
        return count == 32 ? uint.MaxValue : (1u << count) - 1;
    }

    private bool Enabled(int context, int source) => (_enable[context][source / 32] & (1u << (source % 32))) != 0;

    private int BestPending(int context)
    {
        int best = 0;
        uint bestPriority = _threshold[context];
        for (int s = 1; s <= _sources; s++)
        {
            if (_pending[s] && _priority[s] > bestPriority && Enabled(context, s))
            {
                best = s;
                bestPriority = _priority[s];
            }
        }

        return best;
    }

    private int Claim(int context)
    {
        int source = BestPending(context);
        if (source != 0)
        {
            _pending[source] = false;
            _claimed[source] = true;
            UpdateOutputs();
        }

        return source;
    }

    private void Complete(int source)
    {
        if (source < 1 || source > _sources || !_claimed[source])
        {
            return;
        }

        _claimed[source] = false;
        _pending[source] = _line[source];
    }

    private void UpdateOutputs()
    {
        for (int c = 0; c < _outputs.Count; c++)
        {
            bool asserted = BestPending(c) != 0;
            if (asserted != _outputAsserted[c])
            {
                _outputAsserted[c] = asserted;
                _outputs[c].Set(asserted);
            }
        }
    }

    private sealed class SourceLine(Plic plic, int source) : IInterruptLine
    {
        public void Set(bool asserted) => plic.SetLine(source, asserted);
    }
}
