using Vessel.Machine.Abstractions;
using Vessel.Machine.Abstractions.State;

namespace Vessel.Devices;

/// <summary>
/// The SiFive CLINT layout that QEMU's <c>virt</c> builds from an ACLINT MSWI (offset 0x0000, 0x4000 bytes)
/// and an ACLINT MTIMER (offset 0x4000, 0x8000 bytes): <c>msip[hart]</c>, <c>mtimecmp[hart]</c> and
/// <c>mtime</c> (RISC-V ACLINT spec §2 and §3; QEMU <c>hw/intc/riscv_aclint.c</c>).
/// </summary>
public sealed class Clint : IMmioDevice, IStatefulDevice
{
    public const ulong MsipOffset = 0x0000;
    public const ulong MtimecmpOffset = 0x4000;
    public const ulong MtimeOffset = 0xBFF8;

    private const ulong MswiSize = 0x4000;
    private const ulong MtimerEnd = 0xC000;

    private readonly Lock _lock = new();
    private readonly MachineClock _clock;
    private readonly IInterruptLine[] _softwareLines;
    private readonly IInterruptLine[] _timerLines;
    private readonly bool[] _msip;
    private readonly bool[] _timerAsserted;
    private readonly ulong[] _mtimecmp;

    public Clint(MachineClock clock, IReadOnlyList<IInterruptLine> softwareLines, IReadOnlyList<IInterruptLine> timerLines)
    {
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(softwareLines);
        ArgumentNullException.ThrowIfNull(timerLines);
        if (softwareLines.Count != timerLines.Count || softwareLines.Count == 0)
        {
            throw new ArgumentException("One software line and one timer line per hart are required.", nameof(timerLines));
        }

        if ((ulong)softwareLines.Count > MswiSize / 4)
        {
            throw new ArgumentException($"The CLINT layout holds at most {MswiSize / 4} harts.", nameof(softwareLines));
        }

        _clock = clock;
        _softwareLines = [.. softwareLines];
        _timerLines = [.. timerLines];
        HartCount = _softwareLines.Length;
        _msip = new bool[HartCount];
        _timerAsserted = new bool[HartCount];
        _mtimecmp = new ulong[HartCount];
        Array.Fill(_mtimecmp, ulong.MaxValue);
        for (int hart = 0; hart < HartCount; hart++)
        {
            _softwareLines[hart].Set(false);
            _timerLines[hart].Set(false);
        }
    }

    public int HartCount { get; }

    /// <summary>The hart's mtimecmp, so a run loop knows how long a hart parked in WFI may sleep.</summary>
    public ulong GetTimeCompare(int hart)
    {
        lock (_lock)
        {
            return _mtimecmp[hart];
        }
    }

    /// <summary>Drives the hart's timer line to (mtime &gt;= mtimecmp) (ACLINT spec §3.1).</summary>
    public void PollTimer(int hart)
    {
        lock (_lock)
        {
            UpdateTimer(hart, _clock.Now);
        }
    }

    public void PollAllTimers()
    {
        lock (_lock)
        {
            UpdateAllTimers();
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
            if (offset < MswiSize)
            {
                // ACLINT §2.1: MSIP reads back bit 0; the other 31 bits are zero.
                ulong hart = offset / 4;
                if (hart < (ulong)HartCount)
                {
                    value = _msip[hart] ? 1UL : 0UL;
                }

                return true;
            }

            if (offset >= MtimecmpOffset && offset < MtimecmpOffset + (8 * (ulong)HartCount))
            {
                ulong compare = _mtimecmp[(offset - MtimecmpOffset) / 8];
                value = ReadHalfOrWhole(compare, offset, size);
                return true;
            }

            if (offset is MtimeOffset or MtimeOffset + 4)
            {
                value = ReadHalfOrWhole(_clock.Now, offset, size);
            }

            // Other MTIMER offsets read as zero, as QEMU does.
            return true;
        }
    }

    public bool Write(ulong offset, int size, ulong value)
    {
        if (!IsValidAccess(offset, size))
        {
            return false;
        }

        lock (_lock)
        {
            if (offset < MswiSize)
            {
                ulong index = offset / 4;
                if (index < (ulong)HartCount)
                {
                    int hart = (int)index;
                    bool asserted = (value & 1) != 0;
                    if (_msip[hart] != asserted)
                    {
                        _msip[hart] = asserted;
                        _softwareLines[hart].Set(asserted);
                    }
                }

                return true;
            }

            if (offset >= MtimecmpOffset && offset < MtimecmpOffset + (8 * (ulong)HartCount))
            {
                int hart = (int)((offset - MtimecmpOffset) / 8);
                _mtimecmp[hart] = WriteHalfOrWhole(_mtimecmp[hart], offset, size, value);
                UpdateTimer(hart, _clock.Now);
                return true;
            }

            if (offset is MtimeOffset or MtimeOffset + 4)
            {
                _clock.Set(WriteHalfOrWhole(_clock.Now, offset, size, value));
                UpdateAllTimers();
            }

            return true;
        }
    }

    /// <summary>
    /// QEMU's access rules: the MSWI takes only aligned 32-bit accesses, the MTIMER aligned 32- or 64-bit ones;
    /// 0xC000 and up is unmapped.
    /// </summary>
    private static bool IsValidAccess(ulong offset, int size)
    {
        if (offset < MswiSize)
        {
            return size == 4 && (offset & 3) == 0;
        }

        return offset < MtimerEnd && (size == 4 || size == 8) && (offset & (ulong)(size - 1)) == 0;
    }

    /// <summary>A 64-bit register seen through an 8-byte access or either 4-byte half.</summary>
    private static ulong ReadHalfOrWhole(ulong register, ulong offset, int size) =>
        size == 8 ? register : (offset & 4) == 0 ? (uint)register : register >> 32;

    private static ulong WriteHalfOrWhole(ulong register, ulong offset, int size, ulong value) =>
        size == 8 ? value
        : (offset & 4) == 0 ? (register & 0xFFFF_FFFF_0000_0000UL) | (uint)value
        : (register & 0xFFFF_FFFFUL) | ((ulong)(uint)value << 32);

    private void UpdateAllTimers()
    {
        ulong now = _clock.Now;
        for (int hart = 0; hart < HartCount; hart++)
        {
            UpdateTimer(hart, now);
        }
    }

    /// <summary>Only edges reach the line: raising a hart's interrupt makes it leave its block.</summary>
    private void UpdateTimer(int hart, ulong now)
    {
        bool asserted = now >= _mtimecmp[hart];
        if (_timerAsserted[hart] != asserted)
        {
            _timerAsserted[hart] = asserted;
            _timerLines[hart].Set(asserted);
        }
    }

    public void SaveState(StateWriter writer)
    {
        lock (_lock)
        {
            writer.BeginSection("clint", 1);
            writer.WriteBooleanArray(_msip);
            writer.WriteBooleanArray(_timerAsserted);
            writer.WriteUInt64Array(_mtimecmp);
            writer.EndSection();
        }
    }

    public void LoadState(StateReader reader)
    {
        lock (_lock)
        {
            reader.BeginSection("clint", 1);
            reader.ReadBooleanArray(_msip);
            reader.ReadBooleanArray(_timerAsserted);
            reader.ReadUInt64Array(_mtimecmp);
            reader.EndSection();
            for (int hart = 0; hart < HartCount; hart++)
            {
                _softwareLines[hart].Set(_msip[hart]);
                _timerLines[hart].Set(_timerAsserted[hart]);
            }
        }
    }
}
