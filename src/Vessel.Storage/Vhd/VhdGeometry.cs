namespace Vessel.Storage.Vhd;

/// <summary>
/// The footer's CHS disk geometry. Virtual PC (and QEMU, for images whose creator it does not know) sizes a disk by
/// cylinders × heads × sectors rather than by the footer's current size, so images are created with a size the
/// geometry represents exactly.
/// </summary>
public readonly record struct VhdGeometry(ushort Cylinders, byte Heads, byte SectorsPerTrack)
{
    /// <summary>65535 × 16 × 255: readers take the footer's current size instead of the geometry for such disks.</summary>
    public static VhdGeometry Maximum { get; } = new(65535, 16, 255);

    public ulong Sectors => (ulong)Cylinders * Heads * SectorsPerTrack;

    /// <summary>The geometry for <paramref name="totalSectors"/> (VHD specification, appendix "CHS Calculation"), rounding down.</summary>
    public static VhdGeometry For(ulong totalSectors)
    {
        totalSectors = Math.Min(totalSectors, Maximum.Sectors);
        uint sectorsPerTrack;
        uint heads;
        ulong cylindersTimesHeads;
        if (totalSectors >= 65535UL * 16 * 63)
        {
            sectorsPerTrack = 255;
            heads = 16;
            cylindersTimesHeads = totalSectors / sectorsPerTrack;
        }
        else
        {
            sectorsPerTrack = 17;
            cylindersTimesHeads = totalSectors / sectorsPerTrack;
            heads = (uint)Math.Max(4, (cylindersTimesHeads + 1023) / 1024);
            if (cylindersTimesHeads >= heads * 1024UL || heads > 16)
            {
                sectorsPerTrack = 31;
                heads = 16;
                cylindersTimesHeads = totalSectors / sectorsPerTrack;
            }

            if (cylindersTimesHeads >= heads * 1024UL)
            {
                sectorsPerTrack = 63;
                heads = 16;
                cylindersTimesHeads = totalSectors / sectorsPerTrack;
            }
        }

        return new VhdGeometry((ushort)(cylindersTimesHeads / heads), (byte)heads, (byte)sectorsPerTrack);
    }

    /// <summary>
    /// The smallest geometry holding at least <paramref name="totalSectors"/> (as qemu-img does, so a converted disk is
    /// never truncated); the maximum geometry when none is big enough.
    /// </summary>
    public static VhdGeometry RoundingUp(ulong totalSectors)
    {
        ulong wanted = Math.Min(totalSectors, Maximum.Sectors);
        var geometry = default(VhdGeometry);
        for (ulong extra = 0; geometry.Sectors < wanted; extra++)
        {
            geometry = For(wanted + extra);
        }

        return geometry;
    }
}
