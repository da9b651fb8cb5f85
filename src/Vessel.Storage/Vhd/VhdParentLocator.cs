namespace Vessel.Storage.Vhd;

/// <summary>
/// One "Parent Locator Entry" of a differencing disk's dynamic header: where, in which encoding, a path to the parent
/// is stored. Windows tools write "W2ku" (absolute path) and "W2ru" (path relative to the child), both UTF-16LE;
/// "MacX" holds a UTF-8 file URL.
/// </summary>
/// <param name="PlatformCode">Four ASCII characters packed big-endian; 0 for an unused entry.</param>
/// <param name="DataSpace">Space reserved for the data (sectors in the specification's words; Windows writes bytes).</param>
/// <param name="DataLength">Length of the locator data in bytes.</param>
/// <param name="DataOffset">Absolute file offset of the locator data.</param>
internal readonly record struct VhdParentLocator(uint PlatformCode, uint DataSpace, uint DataLength, ulong DataOffset)
{
    public const int EntryLength = 24;
    public const uint None = 0;
    public const uint WindowsRelative = 0x5732_7275; // "W2ru"
    public const uint WindowsAbsolute = 0x5732_6b75; // "W2ku"
    public const uint MacOsXUrl = 0x4d61_6358; // "MacX"

    /// <summary>Longest locator Vessel reads: far beyond any real path, small enough to never matter for memory.</summary>
    public const uint MaxDataLength = 64 * 1024;
}
