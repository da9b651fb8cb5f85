namespace Vessel.Storage.Vmdk;

/// <summary>
/// One line of a descriptor's extent description (VMDK spec 1.1, "Extent Descriptions"):
/// <c>ACCESS SECTORS TYPE ["FILENAME" [OFFSET]]</c>, e.g. <c>RW 2097152 FLAT "disk-flat.vmdk" 0</c>.
/// </summary>
internal sealed record VmdkExtentLine(VmdkExtentAccess Access, ulong Sectors, VmdkExtentType Type, string? FileName, ulong Offset)
{
    public override string ToString()
    {
        string access = Access switch
        {
            VmdkExtentAccess.ReadWrite => "RW",
            VmdkExtentAccess.ReadOnly => "RDONLY",
            _ => "NOACCESS",
        };
        return Type switch
        {
            VmdkExtentType.Flat => $"{access} {Sectors} FLAT \"{FileName}\" {Offset}",
            VmdkExtentType.Sparse => $"{access} {Sectors} SPARSE \"{FileName}\"",
            _ => $"{access} {Sectors} ZERO",
        };
    }
}
