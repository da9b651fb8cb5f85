namespace Vessel.Images.Tests;

/// <summary>An IProgress that reports synchronously (Progress&lt;T&gt; posts to the thread pool).</summary>
internal sealed class SyncProgress(Action<GuestKitProgress> report) : IProgress<GuestKitProgress>
{
    private readonly Lock _gate = new();

    public void Report(GuestKitProgress value)
    {
        lock (_gate)
        {
            report(value);
        }
    }
}
