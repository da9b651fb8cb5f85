namespace Vessel.Storage.Vmdk;

/// <summary>Subformat names as qemu-img's <c>-o subformat=</c> and the descriptor's createType spell them.</summary>
public static class VmdkSubformatNames
{
    public static string ToName(this VmdkSubformat subformat) => subformat switch
    {
        VmdkSubformat.MonolithicSparse => "monolithicSparse",
        VmdkSubformat.MonolithicFlat => "monolithicFlat",
        VmdkSubformat.StreamOptimized => "streamOptimized",
        _ => throw new ArgumentOutOfRangeException(nameof(subformat)),
    };

    /// <summary>Parses a subformat name (case-insensitive) or throws a <see cref="DiskImageException"/> listing the choices.</summary>
    public static VmdkSubformat Parse(string name)
    {
        foreach (var subformat in Enum.GetValues<VmdkSubformat>())
        {
            if (string.Equals(name.Trim(), subformat.ToName(), StringComparison.OrdinalIgnoreCase))
            {
                return subformat;
            }
        }

        throw new DiskImageException($"unknown vmdk subformat '{name}' (monolithicSparse, monolithicFlat or streamOptimized)");
    }
}
