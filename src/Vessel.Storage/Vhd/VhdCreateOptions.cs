namespace Vessel.Storage.Vhd;

/// <summary>
/// Creation options for VHD targets in qemu-img's <c>-o</c> syntax: <c>subformat=dynamic|fixed</c> and
/// <c>force_size=on|off</c>, comma-separated.
/// </summary>
public sealed record VhdCreateOptions(VhdDiskType Type = VhdDiskType.Dynamic, bool ForceSize = false)
{
    public static VhdCreateOptions Parse(string? options)
    {
        var result = new VhdCreateOptions();
        if (string.IsNullOrWhiteSpace(options))
        {
            return result;
        }

        foreach (string item in options.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int equals = item.IndexOf('=', StringComparison.Ordinal);
            string key = equals < 0 ? item : item[..equals];
            string value = equals < 0 ? "on" : item[(equals + 1)..];
            result = key switch
            {
                "subformat" => result with
                {
                    Type = value switch
                    {
                        "dynamic" => VhdDiskType.Dynamic,
                        "fixed" => VhdDiskType.Fixed,
                        _ => throw new DiskImageException($"vpc option subformat={value}: expected 'dynamic' or 'fixed'"),
                    },
                },
                "force_size" or "force-size" => result with
                {
                    ForceSize = value switch
                    {
                        "on" or "true" or "yes" => true,
                        "off" or "false" or "no" => false,
                        _ => throw new DiskImageException($"vpc option force_size={value}: expected 'on' or 'off'"),
                    },
                },
                _ => throw new DiskImageException($"unknown vpc option '{key}' (known: subformat, force_size)"),
            };
        }

        return result;
    }
}
