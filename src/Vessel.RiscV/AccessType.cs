namespace Vessel.RiscV;

/// <summary>The three kinds of memory access; the value indexes the per-kind TLB sets.</summary>
public enum AccessType
{
    Fetch = 0,
    Load = 1,
    Store = 2,
}
