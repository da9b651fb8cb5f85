using System.Buffers.Binary;
using System.Text;

namespace Vessel.Hosting.GuestAgent;

/// <summary>
/// A command for the guest agent to run: argv (argv[0] looked up in the guest's PATH), bytes for its stdin, and a
/// time limit after which the agent kills its process group. Payload of an <see cref="AgentMessageType.Exec"/> frame:
/// u32 timeout ms, u32 argc, argc × (u32 length, UTF-8 bytes), u32 stdin length, stdin.
/// </summary>
public sealed record GuestExecRequest(IReadOnlyList<string> Argv, byte[] Stdin, TimeSpan Timeout)
{
    public const int MaxArgs = 256;
    public const int MaxArgvBytes = 64 << 10;
    public const int MaxStdin = 1 << 20;

    /// <summary>Says what is wrong with the request, or null when the agent will accept it.</summary>
    public string? Validate()
    {
        if (Argv.Count is < 1 or > MaxArgs)
        {
            return $"argv must have 1 to {MaxArgs} elements, not {Argv.Count}";
        }

        if (Argv[0].Length == 0)
        {
            return "argv[0] (the command) is empty";
        }

        if (Argv.Any(a => a.Contains('\0', StringComparison.Ordinal)))
        {
            return "argv elements cannot contain NUL characters";
        }

        if (Argv.Sum(a => Encoding.UTF8.GetByteCount(a)) > MaxArgvBytes)
        {
            return $"argv is over {MaxArgvBytes} bytes";
        }

        if (Stdin.Length > MaxStdin)
        {
            return $"stdin is {Stdin.Length} bytes; at most {MaxStdin} are accepted";
        }

        return Timeout <= TimeSpan.Zero || Timeout > TimeSpan.FromHours(24) ? "the timeout must be between 1 s and 24 h" : null;
    }

    public byte[] EncodePayload()
    {
        if (Validate() is { } problem)
        {
            throw new ArgumentException(problem);
        }

        byte[][] args = [.. Argv.Select(Encoding.UTF8.GetBytes)];
        byte[] payload = new byte[12 + args.Sum(a => 4 + a.Length) + Stdin.Length];
        var span = payload.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)Timeout.TotalMilliseconds);
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], (uint)args.Length);
        int offset = 8;
        foreach (byte[] arg in args)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(span[offset..], (uint)arg.Length);
            arg.CopyTo(span[(offset + 4)..]);
            offset += 4 + arg.Length;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(span[offset..], (uint)Stdin.Length);
        Stdin.CopyTo(span[(offset + 4)..]);
        return payload;
    }
}
