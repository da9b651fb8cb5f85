namespace Vessel.Cli.Hosting;

/// <summary>The API refused a request (its problem details' detail) or could not be reached.</summary>
public sealed class VesselApiException(string message) : Exception(message);
