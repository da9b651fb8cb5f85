namespace Vessel.Devices;

public enum PowerRequestKind
{
    PowerOff,
    Reset,
}
