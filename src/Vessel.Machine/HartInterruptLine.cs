using Vessel.Machine.Abstractions;
using Vessel.RiscV;

namespace Vessel.Machine;

/// <summary>An interrupt wire into a hart: drives one mip bit (MSIP, MTIP, MEIP or SEIP).</summary>
public sealed class HartInterruptLine(Hart hart, ulong mipBit) : IInterruptLine
{
    public void Set(bool asserted)
    {
        if (asserted)
        {
            hart.RaiseInterrupt(mipBit);
        }
        else
        {
            hart.ClearInterrupt(mipBit);
        }
    }
}
