namespace Vessel.Storage.Tests;

/// <summary>
/// A theory that needs qemu-img (Debian's qemu-utils). Skipped on a developer machine without it; under CI (CI=true)
/// it always runs, so a missing install fails loudly.
/// </summary>
public sealed class QemuImgTheoryAttribute : TheoryAttribute
{
    public QemuImgTheoryAttribute()
    {
        if (QemuImg.Path is null && Environment.GetEnvironmentVariable("CI") != "true")
        {
            Skip = "qemu-img (qemu-utils) is not installed";
        }
    }
}
