namespace Vessel.Machine.Tests;

/// <summary>
/// Locates the prebuilt riscv-tests binaries: <c>../shared/riscv-tests</c> next to the repository root
/// (the directory holding Vessel.slnx). <see cref="FolderPath"/> is null when the folder is absent.
/// </summary>
internal static class RiscvTestsFolder
{
    public static string? FolderPath { get; } = Find();

    public static string PathOf(string fileName) =>
        Path.Combine(FolderPath ?? throw new InvalidOperationException("the riscv-tests folder was not found"), fileName);

    private static string? Find()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Vessel.slnx")))
            {
                var folder = Path.GetFullPath(Path.Combine(directory.FullName, "..", "shared", "riscv-tests"));
                return Directory.Exists(folder) ? folder : null;
            }
        }

        return null;
    }
}
