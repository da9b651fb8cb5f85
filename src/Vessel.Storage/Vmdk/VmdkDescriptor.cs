using System.Globalization;
using System.Text;

namespace Vessel.Storage.Vmdk;

/// <summary>
/// The text descriptor (VMDK spec 1.1, "The Descriptor File"): header keys (version, CID, parentCID, createType,
/// parentFileNameHint), the extent description, and the disk database (ddb.*) which Vessel does not interpret.
/// It is either a file of its own or embedded in a monolithicSparse extent.
/// </summary>
internal sealed class VmdkDescriptor
{
    /// <summary>Descriptors are small (a few hundred bytes); anything longer is not one.</summary>
    public const int MaxLength = 1 << 20;

    public const uint NoParent = 0xffffffff;

    private const int MaxExtents = 4096;

    public required string CreateType { get; init; }

    public uint Cid { get; init; }

    public uint ParentCid { get; init; } = NoParent;

    public string? ParentFileNameHint { get; init; }

    public required IReadOnlyList<VmdkExtentLine> Extents { get; init; }

    /// <summary>The text as read, so a CID change can keep every other line as it was.</summary>
    public string Text { get; init; } = string.Empty;

    /// <summary>
    /// Probes whether <paramref name="head"/> (a file's first bytes) is a descriptor: "# Disk DescriptorFile", or
    /// comment and blank lines followed by "version=N", which is how QEMU recognises one.
    /// </summary>
    public static bool LooksLikeDescriptor(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith("# Disk DescriptorFile"u8))
        {
            return true;
        }

        while (head.Length > 0)
        {
            int end = head.IndexOf((byte)'\n');
            var line = end < 0 ? head : head[..end];
            if (line.Length > 0 && line[^1] == '\r')
            {
                line = line[..^1];
            }

            if (line.StartsWith("#"u8) || line.Trim((byte)' ').Length == 0)
            {
                if (end < 0)
                {
                    return false;
                }

                head = head[(end + 1)..];
                continue;
            }

            return end >= 0 && line.Length == "version=1".Length && line.StartsWith("version="u8) && line[^1] is (byte)'1' or (byte)'2' or (byte)'3';
        }

        return false;
    }

    /// <summary>Parses descriptor text; <paramref name="what"/> names the file in messages.</summary>
    public static VmdkDescriptor Parse(ReadOnlySpan<byte> data, string what, bool requireExtents)
    {
        int nul = data.IndexOf((byte)0);
        if (nul >= 0)
        {
            data = data[..nul]; // an embedded descriptor is padded with zeroes to its sector count
        }

        string text = Encoding.UTF8.GetString(data);
        string? createType = null;
        string? parentHint = null;
        uint cid = 0, parentCid = NoParent;
        var extents = new List<VmdkExtentLine>();
        string[] lines = text.Split('\n');
        for (int number = 1; number <= lines.Length; number++)
        {
            string line = lines[number - 1].Replace('\t', ' ').Trim(); // fields may be separated by tabs
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            if (line.StartsWith("RW ", StringComparison.Ordinal) || line.StartsWith("RDONLY ", StringComparison.Ordinal) ||
                line.StartsWith("NOACCESS ", StringComparison.Ordinal))
            {
                if (extents.Count == MaxExtents)
                {
                    throw new DiskImageException($"{what}: VMDK descriptor has more than {MaxExtents} extents");
                }

                extents.Add(ParseExtent(line, number, what));
                continue;
            }

            int equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                continue; // unknown line: the spec allows other content, QEMU ignores it too
            }

            string key = line[..equals].Trim();
            string value = Unquote(line[(equals + 1)..].Trim());
            switch (key)
            {
                case "createType":
                    createType = value;
                    break;
                case "CID":
                    cid = ParseCid(value, key, what);
                    break;
                case "parentCID":
                    parentCid = ParseCid(value, key, what);
                    break;
                case "parentFileNameHint":
                    parentHint = value;
                    break;
            }
        }

        if (createType is null)
        {
            throw new DiskImageException($"{what}: VMDK descriptor has no createType");
        }

        if (requireExtents && extents.Count == 0)
        {
            throw new DiskImageException($"{what}: VMDK descriptor lists no extents");
        }

        return new VmdkDescriptor
        {
            CreateType = createType,
            Cid = cid,
            ParentCid = parentCid,
            ParentFileNameHint = parentHint,
            Extents = extents,
            Text = text,
        };
    }

    /// <summary>
    /// <see cref="Text"/> with the CID line replaced. Spec "Content ID": the CID changes when the disk is first written
    /// after opening, so a delta link made against the old content can tell that its parent changed.
    /// </summary>
    public string TextWithCid(uint cid)
    {
        string[] lines = Text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].TrimStart().StartsWith("CID=", StringComparison.Ordinal))
            {
                lines[i] = string.Create(CultureInfo.InvariantCulture, $"CID={cid:x8}") + (lines[i].EndsWith('\r') ? "\r" : string.Empty);
                return string.Join('\n', lines);
            }
        }

        return Text;
    }

    /// <summary>The descriptor text as Vessel writes it (LF line ends, ddb geometry for an IDE disk).</summary>
    public string ToText(ulong sizeBytes)
    {
        var text = new StringBuilder()
            .Append("# Disk DescriptorFile\n")
            .Append("version=1\n")
            .Append(CultureInfo.InvariantCulture, $"CID={Cid:x8}\n")
            .Append(CultureInfo.InvariantCulture, $"parentCID={ParentCid:x8}\n")
            .Append(CultureInfo.InvariantCulture, $"createType=\"{CreateType}\"\n");
        if (ParentFileNameHint is not null)
        {
            text.Append(CultureInfo.InvariantCulture, $"parentFileNameHint=\"{ParentFileNameHint}\"\n");
        }

        text.Append("\n# Extent description\n");
        foreach (var extent in Extents)
        {
            text.Append(extent.ToString()).Append('\n');
        }

        // Geometry: 16 heads, 63 sectors per track, as for an IDE disk (the spec's ddb.geometry.* keys).
        ulong cylinders = Math.Min(sizeBytes / (16 * 63 * 512), 16383);
        text.Append("\n# The Disk Data Base\n#DDB\n\n")
            .Append("ddb.virtualHWVersion = \"4\"\n")
            .Append(CultureInfo.InvariantCulture, $"ddb.geometry.cylinders = \"{cylinders}\"\n")
            .Append("ddb.geometry.heads = \"16\"\n")
            .Append("ddb.geometry.sectors = \"63\"\n")
            .Append("ddb.adapterType = \"ide\"\n");
        return text.ToString();
    }

    private static VmdkExtentLine ParseExtent(string line, int number, string what)
    {
        string Invalid(string why) => $"{what}: invalid VMDK extent line {number} ({why}): {line}";

        string[] head = line.Split(' ', 4, StringSplitOptions.RemoveEmptyEntries);
        if (head.Length < 3)
        {
            throw new DiskImageException(Invalid("expected ACCESS SECTORS TYPE"));
        }

        var access = head[0] switch
        {
            "RW" => VmdkExtentAccess.ReadWrite,
            "RDONLY" => VmdkExtentAccess.ReadOnly,
            _ => VmdkExtentAccess.NoAccess,
        };
        if (!ulong.TryParse(head[1], NumberStyles.None, CultureInfo.InvariantCulture, out ulong sectors) || sectors == 0 ||
            sectors > (ulong)long.MaxValue / 512)
        {
            throw new DiskImageException(Invalid($"bad sector count '{head[1]}'"));
        }

        var type = head[2] switch
        {
            "FLAT" or "VMFS" => VmdkExtentType.Flat,
            "SPARSE" => VmdkExtentType.Sparse,
            "ZERO" => VmdkExtentType.Zero,
            _ => throw new DiskImageException($"{what}: VMDK extent type '{head[2]}' on line {number} is not supported (FLAT, VMFS, SPARSE, ZERO)"),
        };
        string rest = head.Length > 3 ? head[3].Trim() : string.Empty;
        if (type == VmdkExtentType.Zero)
        {
            return new VmdkExtentLine(access, sectors, type, null, 0);
        }

        if (rest.Length < 2 || rest[0] != '"')
        {
            throw new DiskImageException(Invalid("missing quoted file name"));
        }

        int close = rest.IndexOf('"', 1);
        if (close < 0)
        {
            throw new DiskImageException(Invalid("unterminated file name"));
        }

        string fileName = rest[1..close];
        string tail = rest[(close + 1)..].Trim();
        ulong offset = 0;
        if (tail.Length > 0)
        {
            if (type != VmdkExtentType.Flat)
            {
                throw new DiskImageException(Invalid("only FLAT extents take an offset"));
            }

            if (!ulong.TryParse(tail, NumberStyles.None, CultureInfo.InvariantCulture, out offset) || offset > (ulong)long.MaxValue / 512)
            {
                throw new DiskImageException(Invalid($"bad offset '{tail}'"));
            }
        }

        if (fileName.Length == 0)
        {
            throw new DiskImageException(Invalid("empty file name"));
        }

        return new VmdkExtentLine(access, sectors, type, fileName, offset);
    }

    private static string Unquote(string value) =>
        value.Length >= 2 && value[0] == '"' && value[^1] == '"' ? value[1..^1] : value;

    private static uint ParseCid(string value, string key, string what) =>
        uint.TryParse(value, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint cid)
            ? cid
            : throw new DiskImageException($"{what}: VMDK descriptor has a bad {key} '{value}'");
}
