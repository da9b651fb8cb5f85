using Vessel.Machine.Abstractions;

namespace Vessel.Devices;

/// <summary>
/// QEMU's "sifive,test1" finisher, which Linux drives through syscon-poweroff/-reboot: a 32-bit write of
/// 0x5555 powers off (pass), 0x3333 powers off with failure code value >> 16, 0x7777 resets.
/// </summary>
public sealed class TestFinisher : IMmioDevice
{
    private const uint Fail = 0x3333;
    private const uint Pass = 0x5555;
    private const uint Reset = 0x7777;

    public event Action<PowerRequest>? PowerRequested;

    public bool Read(ulong offset, int size, out ulong value)
    {
        value = 0;
        return true;
    }

    public bool Write(ulong offset, int size, ulong value)
    {
        if (offset != 0 || size < 4)
        {
            return true;
        }

        uint v = (uint)value;
        switch (v & 0xFFFF)
        {
            case Pass:
                PowerRequested?.Invoke(new PowerRequest(PowerRequestKind.PowerOff, 0));
                break;
            case Fail:
                PowerRequested?.Invoke(new PowerRequest(PowerRequestKind.PowerOff, (int)(v >> 16) == 0 ? 1 : (int)(v >> 16)));
                break;
            case Reset:
                PowerRequested?.Invoke(new PowerRequest(PowerRequestKind.Reset, 0));
                break;
        }

        return true;
    }
}
