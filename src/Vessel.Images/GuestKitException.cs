namespace Vessel.Images;

/// <summary>A guest-kit failure with a one-line message fit to show the user as it is (mirror, step and cause).</summary>
public sealed class GuestKitException : Exception
{
    public GuestKitException(string message)
        : base(message)
    {
    }

    public GuestKitException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
