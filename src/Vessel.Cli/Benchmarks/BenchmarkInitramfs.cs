using System.IO.Compression;
using System.Reflection;
using Vessel.Images;

namespace Vessel.Cli.Benchmarks;

/// <summary>
/// The guest kit's initramfs with benchmark programs added: a second gzip'd cpio archive appended to the first,
/// which the kernel unpacks over it (Documentation/driver-api/early-userspace/buffer-format.rst allows concatenated
/// archives), so the kit itself is never modified.
/// </summary>
public static class BenchmarkInitramfs
{
    /// <summary>Writes kit initramfs + /bin/&lt;program&gt; for each embedded resource name into <paramref name="target"/>.</summary>
    public static void Build(string kitInitramfs, string target, params string[] programs) =>
        Build(kitInitramfs, target, programs.Select(program =>
        {
            using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(program)
                ?? throw new InvalidOperationException($"The {program} resource is missing from this build.");
            byte[] bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
            return (program, bytes);
        }));

    /// <summary>Writes kit initramfs + /bin/&lt;name&gt; for each (name, executable) into <paramref name="target"/>.</summary>
    public static void Build(string kitInitramfs, string target, IEnumerable<(string Name, byte[] Executable)> programs)
    {
        using var output = File.Create(target);
        using (var kit = File.OpenRead(kitInitramfs))
        {
            kit.CopyTo(output);
        }

        using var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true);
        using var cpio = new CpioArchiveWriter(gzip, leaveOpen: true);
        foreach (var (name, executable) in programs)
        {
            cpio.AddFile($"bin/{name}", executable, CpioArchiveWriter.ExecutableMode);
        }
    }
}
