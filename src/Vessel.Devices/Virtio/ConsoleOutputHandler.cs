namespace Vessel.Devices.Virtio;

/// <summary>Receives bytes the guest wrote to a console port, on the writing hart's thread; copy what you keep.</summary>
public delegate void ConsoleOutputHandler(ReadOnlySpan<byte> data);
