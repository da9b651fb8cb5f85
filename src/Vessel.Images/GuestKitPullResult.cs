namespace Vessel.Images;

/// <summary>The outcome of <see cref="GuestKit.PullAsync"/>.</summary>
/// <param name="Paths">The kit's files.</param>
/// <param name="Manifest">Its manifest.</param>
/// <param name="Built">False when a valid cached kit was reused and nothing was downloaded.</param>
/// <param name="Elapsed">Wall time of the pull.</param>
public sealed record GuestKitPullResult(GuestKitPaths Paths, GuestKitManifest Manifest, bool Built, TimeSpan Elapsed);
