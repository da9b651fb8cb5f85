using Vessel.Images;

namespace Vessel.EndToEnd.Tests;

/// <summary>A theory that boots the guest kit; skipped like <see cref="GuestKitFactAttribute"/> when no kit is cached outside CI.</summary>
public sealed class GuestKitTheoryAttribute : TheoryAttribute
{
    private static readonly bool KitCached = new GuestKit().TryGetCachedAsync().GetAwaiter().GetResult() is not null;

    public GuestKitTheoryAttribute()
    {
        if (!KitCached && Environment.GetEnvironmentVariable("CI") != "true")
        {
            Skip = "the guest kit is not cached; run ./vessel images pull";
        }
    }
}
