namespace Vessel.Devices.RateLimiting;

/// <summary>
/// An I/O limit for one device direction: bytes per second and operations per second (0: unlimited), each with a
/// burst (the bucket size; 0: a tenth of a second's worth, at least one operation).
/// </summary>
public sealed record IoRateLimit(ulong BytesPerSecond = 0, ulong OpsPerSecond = 0, ulong BytesBurst = 0, ulong OpsBurst = 0)
{
    public bool IsUnlimited => BytesPerSecond == 0 && OpsPerSecond == 0;

    public ulong EffectiveBytesBurst => BytesBurst != 0 ? BytesBurst : Math.Max(1, BytesPerSecond / 10);

    public ulong EffectiveOpsBurst => OpsBurst != 0 ? OpsBurst : Math.Max(1, OpsPerSecond / 10);
}
