using Vessel.Machine.Abstractions;
using Vessel.Machine.Abstractions.State;

namespace Vessel.Devices;

/// <summary>
/// The goldfish RTC of Android's emulator as QEMU models it (<c>hw/rtc/goldfish_rtc.c</c>; Linux
/// <c>drivers/rtc/rtc-goldfish.c</c>): nanoseconds since the Unix epoch from the host's wall clock plus an offset
/// that guest writes adjust, and one alarm with an interrupt. Registers are 32-bit.
/// </summary>
public sealed class GoldfishRtc : IMmioDevice, IDisposable, IStatefulDevice
{
    public const ulong Size = 0x1000;

    private const ulong TimeLow = 0x00;
    private const ulong TimeHigh = 0x04;
    private const ulong AlarmLow = 0x08;
    private const ulong AlarmHigh = 0x0C;
    private const ulong IrqEnabled = 0x10;
    private const ulong ClearAlarm = 0x14;
    private const ulong AlarmStatus = 0x18;
    private const ulong ClearInterrupt = 0x1C;

    /// <summary>The host timer is armed at most this far ahead and re-armed when it fires early (Timer's limit is ~49 days).</summary>
    private static readonly TimeSpan MaxTimerDelay = TimeSpan.FromHours(1);

    private readonly Lock _lock = new();
    private readonly IInterruptLine _irq;
    private readonly TimeProvider _time;
    private readonly ITimer _alarmTimer;
    private long _offsetNanoseconds;
    private uint _latchedHigh;
    private ulong _alarm;
    private bool _alarmRunning;
    private bool _irqEnabled;
    private bool _interruptPending;
    private bool _disposed;

    /// <param name="irq">The RTC's interrupt wire (QEMU virt: PLIC source 11).</param>
    /// <param name="time">Wall clock and timers; <see cref="TimeProvider.System"/> when null.</param>
    public GoldfishRtc(IInterruptLine irq, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(irq);
        _irq = irq;
        _time = time ?? TimeProvider.System;
        _alarmTimer = _time.CreateTimer(_ => OnAlarmTimer(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _irq.Set(false);
    }

    /// <summary>The guest's clock: host wall-clock nanoseconds since the Unix epoch plus the guest's offset.</summary>
    private ulong Now => (ulong)(((_time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * 100) + _offsetNanoseconds);

    public bool Read(ulong offset, int size, out ulong value)
    {
        value = 0;
        if (!IsValidAccess(offset, size))
        {
            return false;
        }

        lock (_lock)
        {
            switch (offset)
            {
                case TimeLow:
                    // Reading TIME_LOW latches TIME_HIGH, so the pair is one consistent 64-bit value.
                    ulong now = Now;
                    _latchedHigh = (uint)(now >> 32);
                    value = (uint)now;
                    break;
                case TimeHigh:
                    value = _latchedHigh;
                    break;
                case AlarmLow:
                    value = (uint)_alarm;
                    break;
                case AlarmHigh:
                    value = (uint)(_alarm >> 32);
                    break;
                case IrqEnabled:
                    value = _irqEnabled ? 1UL : 0UL;
                    break;
                case AlarmStatus:
                    value = _alarmRunning ? 1UL : 0UL;
                    break;
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

        uint v = (uint)value;
        lock (_lock)
        {
            switch (offset)
            {
                case TimeLow:
                    // QEMU: each half replaces that half of the current time (Linux writes TIME_HIGH, then TIME_LOW).
                    ulong current = Now;
                    _offsetNanoseconds += (long)(((current & 0xFFFF_FFFF_0000_0000UL) | v) - current);
                    break;
                case TimeHigh:
                    current = Now;
                    _offsetNanoseconds += (long)(((current & 0xFFFF_FFFFUL) | ((ulong)v << 32)) - current);
                    break;
                case AlarmLow:
                    // Writing ALARM_LOW arms the alarm (ALARM_HIGH is written first).
                    _alarm = (_alarm & 0xFFFF_FFFF_0000_0000UL) | v;
                    ArmAlarm();
                    break;
                case AlarmHigh:
                    _alarm = (_alarm & 0xFFFF_FFFFUL) | ((ulong)v << 32);
                    break;
                case IrqEnabled:
                    _irqEnabled = (v & 1) != 0;
                    UpdateIrq();
                    break;
                case ClearAlarm:
                    StopAlarm();
                    break;
                case ClearInterrupt:
                    _interruptPending = false;
                    UpdateIrq();
                    break;
            }
        }

        return true;
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _alarmRunning = false;
        }

        _alarmTimer.Dispose();
    }

    /// <summary>QEMU accepts only aligned 32-bit accesses.</summary>
    private static bool IsValidAccess(ulong offset, int size) => size == 4 && (offset & 3) == 0 && offset < Size;

    /// <summary>An alarm already due fires at once; a later one runs a host timer.</summary>
    private void ArmAlarm()
    {
        ulong now = Now;
        if (_alarm <= now)
        {
            StopAlarm();
            Fire();
            return;
        }

        _alarmRunning = true;
        ScheduleTimer(_alarm - now);
    }

    private void ScheduleTimer(ulong nanosecondsAhead)
    {
        if (_disposed)
        {
            return;
        }

        ulong ticks = (nanosecondsAhead + 99) / 100; // round up: never wake before the alarm is due
        var delay = ticks >= (ulong)MaxTimerDelay.Ticks ? MaxTimerDelay : TimeSpan.FromTicks((long)ticks);
        _alarmTimer.Change(delay, Timeout.InfiniteTimeSpan);
    }

    private void StopAlarm()
    {
        _alarmRunning = false;
        if (!_disposed)
        {
            _alarmTimer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    private void OnAlarmTimer()
    {
        lock (_lock)
        {
            if (!_alarmRunning || _disposed)
            {
                return; // cleared or re-armed meanwhile
            }

            ulong now = Now;
            if (_alarm > now)
            {
                ScheduleTimer(_alarm - now); // the capped delay ran out, or the guest moved its clock back
                return;
            }

            _alarmRunning = false;
            Fire();
        }
    }

    private void Fire()
    {
        _interruptPending = true;
        UpdateIrq();
    }

    private void UpdateIrq() => _irq.Set(_irqEnabled && _interruptPending);

    /// <summary>Saves the guest's offset from host wall time, so a restored guest keeps its clock setting and sees real time.</summary>
    public void SaveState(StateWriter writer)
    {
        lock (_lock)
        {
            writer.BeginSection("goldfish-rtc", 1);
            writer.WriteInt64(_offsetNanoseconds);
            writer.WriteUInt32(_latchedHigh);
            writer.WriteUInt64(_alarm);
            writer.WriteBoolean(_alarmRunning);
            writer.WriteBoolean(_irqEnabled);
            writer.WriteBoolean(_interruptPending);
            writer.EndSection();
        }
    }

    public void LoadState(StateReader reader)
    {
        lock (_lock)
        {
            reader.BeginSection("goldfish-rtc", 1);
            _offsetNanoseconds = reader.ReadInt64();
            _latchedHigh = reader.ReadUInt32();
            _alarm = reader.ReadUInt64();
            bool running = reader.ReadBoolean();
            _irqEnabled = reader.ReadBoolean();
            _interruptPending = reader.ReadBoolean();
            reader.EndSection();
            StopAlarm();
            if (running)
            {
                ArmAlarm();
            }

            UpdateIrq();
        }
    }
}
