namespace Vessel.Storage;

/// <summary>
/// One run of guest bytes with the same allocation status (<c>vessel img map</c>, qemu-img map's fields): the chain
/// depth that provides it (0 = the image itself), whether any layer allocates it, whether it reads as zeroes,
/// whether it is stored as data, and where (file and host offset) when that is known.
/// </summary>
public sealed record ImageMapEntry(ulong Start, ulong Length, int Depth, bool Present, bool Zero, bool Data, ulong? Offset, string? File);
