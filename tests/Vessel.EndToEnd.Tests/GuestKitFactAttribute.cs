using Vessel.Images;

namespace Vessel.EndToEnd.Tests;

/// <summary>
/// A fact that boots the guest kit. On a developer machine without a cached kit it is skipped (run
/// <c>./vessel images pull</c>); under CI (CI=true), where .ci/setup pulls the kit, it always runs.
/// </summary>
public sealed class GuestKitFactAttribute : FactAttribute
{
    private static readonly bool KitCached = new GuestKit().TryGetCachedAsync().GetAwaiter().GetResult() is not null;

    public GuestKitFactAttribute()
    {
        if (!KitCached && Environment.GetEnvironmentVariable("CI") != "true")
        {
            Skip = "the guest kit is not cached; run ./vessel images pull";
        }
    }
}
