using Vessel.Images;

namespace Vessel.Cli.Commands;

/// <summary>Finds the default guest kit for <c>vessel run</c>, pulling it on first use with progress on stderr.</summary>
public static class GuestKitLauncher
{
    public static GuestKitPaths Ensure(CancellationToken cancellationToken)
    {
        try
        {
            var kit = new GuestKit();
            if (kit.TryGetCachedAsync(cancellationToken).GetAwaiter().GetResult() is { } cached)
            {
                return cached;
            }

            System.Console.Error.WriteLine("vessel: fetching the Debian riscv64 guest kit (first run only)...");
            var progress = new Progress<GuestKitProgress>(p =>
            {
                if (p.Done)
                {
                    System.Console.Error.WriteLine($"  {p.Step}");
                }
            });
            return kit.PullAsync(force: false, progress, cancellationToken).GetAwaiter().GetResult().Paths;
        }
        catch (GuestKitException e)
        {
            throw new GuestKitUnavailableException(e.Message, e);
        }
    }
}
