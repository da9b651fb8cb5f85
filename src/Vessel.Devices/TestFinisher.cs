using Vessel.Machine.Abstractions;

namespace Vessel.Devices;

/// <summary>
/// QEMU's "sifive,test1" finisher (<c>hw/misc/sifive_test.c</c>), which OpenSBI drives with 16-bit writes and
/// Linux's syscon-poweroff/-reboot with 32-bit ones. At offset 0 the low 16 bits select: 0x5555 power off (pass),
/// 0x3333 power off with the failure code in bits 31:16, 0x7777 reset. Reads return 0.
/// </summary>
public sealed class TestFinisher : IMmioDevice
{
    public const ulong Size = 0x1000;

    private const uint Fail = 0x3333;
    private const uint Pass = 0x5555;
    private const uint Reset = 0x7777;

    /// <summary>Raised on the writing hart's thread.</summary>
    public event Action<PowerRequest>? PowerRequested;

    public bool Read(ulong offset, int size, out ulong value)
    {
        value = 0;
        return IsValidAccess(offset, size);
    }

    public bool Write(ulong offset, int size, ulong value)
    {
        if (!IsValidAccess(offset, size))
        {
            return false;
        }

        if (offset != 0)
        {
            return true; // QEMU logs and ignores writes elsewhere
        }

        uint status = (uint)value & 0xFFFF;
        int code = (int)(((uint)value >> 16) & 0xFFFF);
        PowerRequest? request = status switch
        {
            Pass => new PowerRequest(PowerRequestKind.PowerOff, 0),

            // A failure with code 0 (OpenSBI's SRST "system failure" writes plain 0x3333) still exits non-zero.
            Fail => new PowerRequest(PowerRequestKind.PowerOff, code == 0 ? 1 : code),
            Reset => new PowerRequest(PowerRequestKind.Reset, 0),
            _ => null,
        };
        if (request is { } r)
        {
            PowerRequested?.Invoke(r);
        }

        return true;
    }

    /// <summary>QEMU accepts aligned 2- and 4-byte accesses.</summary>
    private static bool IsValidAccess(ulong offset, int size) =>
        size is 2 or 4 && (offset & (ulong)(size - 1)) == 0 && offset < Size;
}
