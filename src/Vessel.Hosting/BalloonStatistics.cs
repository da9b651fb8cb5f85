using Vessel.Devices.Virtio;

namespace Vessel.Hosting;

/// <summary>
/// A VM's virtio-balloon: the host's target and the size the guest reports (virtio 1.2 §5.5.4 num_pages and
/// actual), in bytes, and how much host memory inflation released.
/// </summary>
public sealed record BalloonStatistics(ulong TargetBytes, ulong ActualBytes, ulong ReleasedBytes, ulong InvalidPfns)
{
    /// <summary>The running machine's balloon numbers, or null without a balloon.</summary>
    public static BalloonStatistics? Of(VirtioBalloon? balloon) => balloon is null
        ? null
        : new((ulong)balloon.TargetPages << VirtioBalloon.PfnShift, (ulong)balloon.ActualPages << VirtioBalloon.PfnShift, balloon.ReleasedBytes, balloon.InvalidPfns);
}
