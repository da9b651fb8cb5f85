namespace Vessel.Storage.Vmdk;

/// <summary>The VMDK layouts Vessel creates (qemu-img's <c>subformat=</c> option; the descriptor's createType).</summary>
public enum VmdkSubformat
{
    /// <summary>One growable file: header, embedded descriptor, grain directories and tables, grains.</summary>
    MonolithicSparse,

    /// <summary>A text descriptor file plus one preallocated (sparse on the host) flat extent file "NAME-flat.vmdk".</summary>
    MonolithicFlat,

    /// <summary>One read-only file of deflate-compressed grains with markers, for export and transfer.</summary>
    StreamOptimized,
}
