using Vessel.Machine.Abstractions;

namespace Vessel.Devices;

/// <summary>
/// The SiFive CLINT as QEMU's virt lays it out (ACLINT MSWI + MTIMER, RISC-V ACLINT spec ch. 2–3):
/// msip[h] at 0x0000 + 4h, mtimecmp[h] at 0x4000 + 8h, mtime at 0xBFF8. 64-bit registers also take 32-bit halves.
/// </summary>
public sealed class Clint : IMmioDevice
{
    private const ulong MsipBase = 0x0000;
    private const ulong MtimecmpBase = 0x4000;
    private const ulong MtimeOffset = 0xBFF8;

    private readonly MachineClock _clock;
    private readonly IReadOnlyList<IInterruptLine> _softwareLines;
    private readonly IReadOnlyList<IInterruptLine> _timerLines;
    private readonly uint[] _msip;
    private readonly ulong[] _mtimecmp;
    private readonly bool[] _timerAsserted;
    private readonly object _lock = new();

    public Clint(MachineClock clock, IReadOnlyList<IInterruptLine> softwareLines, IReadOnlyList<IInterruptLine> timerLines)
    {
        if (softwareLines.Count != timerLines.Count)
        {
            throw new ArgumentException("one software and one timer line per hart");
        }

        _clock = clock;
        _softwareLines = softwareLines;
        _timerLines = timerLines;
        _msip = new uint[softwareLines.Count];
        _mtimecmp = new ulong[softwareLines.Count];
        _timerAsserted = new bool[softwareLines.Count];
        Array.Fill(_mtimecmp, ulong.MaxValue);
    }

    public int HartCount => _msip.Length;

    public ulong GetTimeCompare(int hart)
    {
        lock (_lock)
        {
            return _mtimecmp[hart];
        }
    }

    /// <summary>Drives the hart's timer line from mtime ≥ mtimecmp (ACLINT 3.2).</summary>
    public void PollTimer(int hart)
    {
        bool due = _clock.Now >= Volatile.Read(ref _mtimecmp[hart]);
        if (due != _timerAsserted[hart])
        {
            lock (_lock)
            {
                _timerAsserted[hart] = due;
                _timerLines[hart].Set(due);
            }
        }
    }

    public void PollAllTimers()
    {
        for (int h = 0; h < HartCount; h++)
        {
            PollTimer(h);
        }
    }

    public bool Read(ulong offset, int size, out ulong value)
    {
        value = 0;
        if ((size != 4 && size != 8) || (offset & (ulong)(size - 1)) != 0)
        {
            return false;
        }

        lock (_lock)
        {
            if (offset < MsipBase + (4 * (ulong)HartCount))
            {
                if (size != 4)
                {
                    return false;
                }

                value = _msip[offset / 4];
                return true;
            }

            if (offset >= MtimecmpBase && offset < MtimecmpBase + (8 * (ulong)HartCount))
            {
                value = ReadHalfOrWhole(_mtimecmp[(offset - MtimecmpBase) / 8], offset, size);
                return true;
            }

            if (offset >= MtimeOffset && offset < MtimeOffset + 8)
            {
                value = ReadHalfOrWhole(_clock.Now, offset, size);
                return true;
            }
        }

        return true; // unimplemented CLINT space reads as zero, like QEMU
    }

    public bool Write(ulong offset, int size, ulong value)
    {
        if ((size != 4 && size != 8) || (offset & (ulong)(size - 1)) != 0)
        {
            return false;
        }

        lock (_lock)
        {
            if (offset < MsipBase + (4 * (ulong)HartCount))
            {
                if (size != 4)
                {
                    return false;
                }

                int hart = (int)(offset / 4);
                _msip[hart] = (uint)value & 1;
                _softwareLines[hart].Set(_msip[hart] != 0);
                return true;
            }

            if (offset >= MtimecmpBase && offset < MtimecmpBase + (8 * (ulong)HartCount))
            {
                int hart = (int)((offset - MtimecmpBase) / 8);
                Volatile.Write(ref _mtimecmp[hart], WriteHalfOrWhole(_mtimecmp[hart], offset, size, value));
                UpdateTimerLocked(hart);
                return true;
            }

            if (offset >= MtimeOffset && offset < MtimeOffset + 8)
            {
                _clock.Set(WriteHalfOrWhole(_clock.Now, offset, size, value));
                for (int h = 0; h < HartCount; h++)
                {
                    UpdateTimerLocked(h);
                }

                return true;
            }
        }

        return true; // writes elsewhere are ignored
    }

    private void UpdateTimerLocked(int hart)
    {
        bool due = _clock.Now >= _mtimecmp[hart];
        _timerAsserted[hart] = due;
        _timerLines[hart].Set(due);
    }

    private static ulong ReadHalfOrWhole(ulong register, ulong offset, int size) =>
        size == 8 ? register : (offset & 4) == 0 ? register & 0xFFFF_FFFF : register >> 32;

    private static ulong WriteHalfOrWhole(ulong register, ulong offset, int size, ulong value) =>
        size == 8 ? value
        : (offset & 4) == 0 ? (register & 0xFFFF_FFFF_0000_0000) | (uint)value
        : (register & 0xFFFF_FFFF) | ((ulong)(uint)value << 32);
}
