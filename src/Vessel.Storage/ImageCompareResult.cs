namespace Vessel.Storage;

/// <summary>
/// What <see cref="ImageComparer"/> found: identical, or the first differing offset (rounded down to a 512-byte
/// sector, like qemu-img compare). <see cref="SizeMismatch"/> says the virtual sizes differ.
/// </summary>
public sealed record ImageCompareResult(bool Identical, ulong? FirstMismatch, bool SizeMismatch);
