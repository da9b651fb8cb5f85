using System.Text.Json.Serialization;

namespace Vessel.Images;

/// <summary>System.Text.Json source generation for the kit manifest (camelCase, indented).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(GuestKitManifest))]
internal sealed partial class GuestKitJsonContext : JsonSerializerContext;
