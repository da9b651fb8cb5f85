namespace Vessel.Cli.Commands;

/// <summary>The default guest kit could not be found or fetched; the message says why.</summary>
public sealed class GuestKitUnavailableException(string message, Exception inner) : Exception(message, inner);
