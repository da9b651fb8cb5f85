namespace Vessel.Machine;

/// <summary>
/// Told after every slice a hart ran, on that hart's thread, so a CPU governor can hold the VM to a cap by making the
/// thread sleep (the fallback where the host has no cgroups, DESIGN.md §6). Must not allocate.
/// </summary>
public interface IHartThrottle
{
    void AfterSlice(int hart, TimeSpan ran);
}
