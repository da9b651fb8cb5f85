namespace Vessel.Machine.Loading;

/// <summary>
/// Thrown when a file cannot be loaded as a RISC-V ELF64 executable: it is missing or unreadable,
/// or its headers are malformed. The message names the file and the problem.
/// </summary>
public sealed class ElfFormatException : Exception
{
    public ElfFormatException(string message)
        : base(message)
    {
    }

    public ElfFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
