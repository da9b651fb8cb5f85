using Vessel.Cli.Commands;
using Vessel.Images;

namespace Vessel.Cli.Benchmarks;

/// <summary>What every side-by-side suite needs first: QEMU (unless told not to compare) and the guest kit.</summary>
public static class BenchmarkSetup
{
    public static bool TryPrepare(string suite, bool noQemu, string qemuName, CancellationToken cancellationToken, out string? qemu, out GuestKitPaths kit)
    {
        kit = null!;
        qemu = noQemu ? null : QemuGuestRunner.Find(qemuName);
        if (!noQemu && qemu is null)
        {
            Console.Error.WriteLine($"vessel bench {suite}: {qemuName} not found (apt-get install qemu-system-misc), or pass --no-qemu.");
            return false;
        }

        try
        {
            kit = GuestKitLauncher.Ensure(cancellationToken);
            return true;
        }
        catch (Exception e) when (e is GuestKitUnavailableException or IOException or HttpRequestException)
        {
            Console.Error.WriteLine($"vessel bench {suite}: {e.Message}");
            return false;
        }
    }
}
