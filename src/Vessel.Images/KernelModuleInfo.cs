using System.Buffers.Binary;
using System.Text;

namespace Vessel.Images;

/// <summary>
/// What a Linux kernel module (.ko, an ELF64 little-endian relocatable) says about itself in its <c>.modinfo</c>
/// section — NUL-separated "key=value" strings written by MODULE_INFO()/modpost: its name, the modules it links
/// against (<c>depends=</c>), soft dependencies (<c>softdep=pre: a b post: c</c>) and aliases. This is what
/// depmod reads to write modules.dep, which Debian's kernel packages do not ship (it is generated at install time).
/// </summary>
public sealed record KernelModuleInfo(string Name, IReadOnlyList<string> Depends, IReadOnlyList<string> SoftPre, IReadOnlyList<string> SoftPost, IReadOnlyList<string> Aliases)
{
    /// <summary>Parses the .modinfo section of an ELF64 little-endian module image.</summary>
    public static KernelModuleInfo Parse(ReadOnlySpan<byte> elf, string fallbackName)
    {
        ReadOnlySpan<byte> modinfo = FindSection(elf, ".modinfo");
        string? name = null;
        var depends = new List<string>();
        var pre = new List<string>();
        var post = new List<string>();
        var aliases = new List<string>();
        foreach (string entry in Encoding.UTF8.GetString(modinfo).Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = entry.IndexOf('=');
            if (eq <= 0)
            {
                continue;
            }

            string key = entry[..eq];
            string value = entry[(eq + 1)..];
            switch (key)
            {
                case "name":
                    name = value;
                    break;
                case "depends":
                    depends.AddRange(value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                    break;
                case "alias":
                    aliases.Add(value);
                    break;
                case "softdep":
                    ParseSoftdep(value, pre, post);
                    break;
            }
        }

        return new KernelModuleInfo(NormalizeName(name ?? fallbackName), depends.Select(NormalizeName).ToArray(), pre, post, aliases);
    }

    /// <summary>Module names treat '-' and '_' alike (the kernel and kmod normalise to '_').</summary>
    public static string NormalizeName(string name) => name.Replace('-', '_');

    /// <summary>The module name of a file such as "kernel/drivers/char/hw_random/virtio-rng.ko.xz": "virtio_rng".</summary>
    public static string NameFromPath(string path)
    {
        string file = Path.GetFileName(path);
        int ko = file.IndexOf(".ko", StringComparison.Ordinal);
        return NormalizeName(ko > 0 ? file[..ko] : file);
    }

    private static void ParseSoftdep(string value, List<string> pre, List<string> post)
    {
        List<string>? target = null;
        foreach (string word in value.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (word == "pre:")
            {
                target = pre;
            }
            else if (word == "post:")
            {
                target = post;
            }
            else
            {
                target?.Add(word);
            }
        }
    }

    // ELF64 header/section header layout: System V ABI, "ELF-64 Object File Format" 1.5.
    private static ReadOnlySpan<byte> FindSection(ReadOnlySpan<byte> elf, string wanted)
    {
        if (elf.Length < 64 || elf[0] != 0x7F || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
        {
            throw new InvalidDataException("not an ELF file");
        }

        if (elf[4] != 2 || elf[5] != 1)
        {
            throw new InvalidDataException("not a 64-bit little-endian ELF file");
        }

        ulong shoff = BinaryPrimitives.ReadUInt64LittleEndian(elf[0x28..]);
        int shentsize = BinaryPrimitives.ReadUInt16LittleEndian(elf[0x3A..]);
        int shnum = BinaryPrimitives.ReadUInt16LittleEndian(elf[0x3C..]);
        int shstrndx = BinaryPrimitives.ReadUInt16LittleEndian(elf[0x3E..]);
        if (shentsize < 64 || shstrndx >= shnum || shoff + (ulong)(shnum * shentsize) > (ulong)elf.Length)
        {
            throw new InvalidDataException("bad ELF section header table");
        }

        ReadOnlySpan<byte> names = Section(elf, shoff, shentsize, shstrndx, out _);
        byte[] wantedBytes = Encoding.ASCII.GetBytes(wanted + "\0");
        for (int i = 0; i < shnum; i++)
        {
            ReadOnlySpan<byte> data = Section(elf, shoff, shentsize, i, out uint nameOffset);
            if (nameOffset < names.Length && names[(int)nameOffset..].StartsWith(wantedBytes))
            {
                return data;
            }
        }

        throw new InvalidDataException($"no {wanted} section");
    }

    private static ReadOnlySpan<byte> Section(ReadOnlySpan<byte> elf, ulong shoff, int shentsize, int index, out uint nameOffset)
    {
        ReadOnlySpan<byte> header = elf.Slice(checked((int)shoff + (index * shentsize)), shentsize);
        nameOffset = BinaryPrimitives.ReadUInt32LittleEndian(header);
        uint type = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
        ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(header[0x18..]);
        ulong size = BinaryPrimitives.ReadUInt64LittleEndian(header[0x20..]);
        if (type == 8)
        {
            return []; // SHT_NOBITS: no file contents
        }

        if (offset + size > (ulong)elf.Length)
        {
            throw new InvalidDataException("ELF section outside the file");
        }

        return elf.Slice((int)offset, (int)size);
    }
}
