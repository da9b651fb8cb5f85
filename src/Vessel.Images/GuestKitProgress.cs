namespace Vessel.Images;

/// <summary>
/// Progress of one step of a guest-kit pull. Reports come synchronously from the thread doing the work, several
/// steps may run at once (downloads), and every step ends with one report whose <see cref="Done"/> is true.
/// </summary>
/// <param name="Step">Stable label of the step, e.g. "opensbi_1.6-1_all.deb" or "Building initramfs".</param>
/// <param name="Completed">Bytes done so far (downloads), else 0.</param>
/// <param name="Total">Bytes expected for a download; null for a step with no measurable size.</param>
/// <param name="Done">True on the step's last report.</param>
public sealed record GuestKitProgress(string Step, long Completed, long? Total, bool Done);
