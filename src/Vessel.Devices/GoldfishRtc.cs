using Vessel.Machine.Abstractions;

namespace Vessel.Devices;

/// <summary>
/// The goldfish RTC (Android emulator; Linux drivers/rtc/rtc-goldfish.c): nanoseconds since the Unix epoch from
/// the host's wall clock. Reading TIME_LOW latches TIME_HIGH; guest writes set an offset; one alarm with an IRQ.
/// </summary>
public sealed class GoldfishRtc : IMmioDevice, IDisposable
{
    private const ulong TimeLow = 0x00;
    private const ulong TimeHigh = 0x04;
    private const ulong AlarmLow = 0x08;
    private const ulong AlarmHigh = 0x0C;
    private const ulong IrqEnabled = 0x10;
    private const ulong ClearAlarm = 0x14;
    private const ulong AlarmStatus = 0x18;
    private const ulong ClearInterrupt = 0x1C;

    private readonly IInterruptLine _irq;
    private readonly TimeProvider _time;
    private readonly object _lock = new();
    private readonly ITimer _alarmTimer;
    private long _offsetNanoseconds;
    private uint _latchedHigh;
    private uint _pendingTimeLow;
    private ulong _alarm;
    private bool _alarmArmed;
    private bool _irqEnabled;
    private bool _interruptPending;

    public GoldfishRtc(IInterruptLine irq, TimeProvider? time = null)
    {
        _irq = irq;
        _time = time ?? TimeProvider.System;
        _alarmTimer = _time.CreateTimer(_ => FireAlarm(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    private ulong Now => (ulong)(((_time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * 100) + _offsetNanoseconds);

    public bool Read(ulong offset, int size, out ulong value)
    {
        value = 0;
        if (size != 4)
        {
            return size == 8 && offset == TimeLow && ReadWhole(out value);
        }

        lock (_lock)
        {
            switch (offset)
            {
                case TimeLow:
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
                    value = _alarmArmed ? 1UL : 0UL;
                    break;
            }
        }

        return true;
    }

    private bool ReadWhole(out ulong value)
    {
        lock (_lock)
        {
            value = Now;
        }

        return true;
    }

    public bool Write(ulong offset, int size, ulong value)
    {
        if (size != 4)
        {
            return true;
        }

        uint v = (uint)value;
        lock (_lock)
        {
            switch (offset)
            {
                case TimeLow:
                    // QEMU: the low half is written second and completes the new time with the high half.
                    _pendingTimeLow = v;
                    SetTime(((ulong)_latchedHigh << 32) | _pendingTimeLow);
                    break;
                case TimeHigh:
                    _latchedHigh = v;
                    break;
                case AlarmLow:
                    _alarm = (_alarm & 0xFFFF_FFFF_0000_0000) | v;
                    ArmAlarm();
                    break;
                case AlarmHigh:
                    _alarm = (_alarm & 0xFFFF_FFFF) | ((ulong)v << 32);
                    break;
                case IrqEnabled:
                    _irqEnabled = (v & 1) != 0;
                    UpdateIrq();
                    break;
                case ClearAlarm:
                    _alarmArmed = false;
                    _alarmTimer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                    break;
                case ClearInterrupt:
                    _interruptPending = false;
                    UpdateIrq();
                    break;
            }
        }

        return true;
    }

    private void SetTime(ulong nanoseconds)
    {
        _offsetNanoseconds = 0;
        _offsetNanoseconds = (long)(nanoseconds - Now);
    }

    private void ArmAlarm()
    {
        _alarmArmed = true;
        ulong now = Now;
        var due = _alarm <= now ? TimeSpan.Zero : TimeSpan.FromTicks((long)Math.Min((_alarm - now) / 100, (ulong)TimeSpan.FromDays(365).Ticks));
        _alarmTimer.Change(due, Timeout.InfiniteTimeSpan);
    }

    private void FireAlarm()
    {
        lock (_lock)
        {
            if (!_alarmArmed)
            {
                return;
            }

            _alarmArmed = false;
            _interruptPending = true;
            UpdateIrq();
        }
    }

    private void UpdateIrq() => _irq.Set(_irqEnabled && _interruptPending);

    public void Dispose() => _alarmTimer.Dispose();
}
