namespace Vessel.Devices;

/// <summary>What the guest asked the board to do through the test finisher.</summary>
public enum PowerRequestKind
{
    PowerOff,
    Reset,
}
