using System.Buffers.Binary;

namespace Vessel.Hosting.GuestAgent;

/// <summary>
/// What a guest command did. Payload of an <see cref="AgentMessageType.ExecResult"/> frame: u32 flags (1 stdout
/// truncated, 2 stderr truncated, 4 timed out, 8 killed by a signal), i32 exit status or signal number, u32 length +
/// stdout, u32 length + stderr. The agent keeps at most 1 MiB of each stream.
/// </summary>
public sealed record GuestExecResult(int ExitStatus, int? Signal, byte[] Stdout, byte[] Stderr, bool StdoutTruncated, bool StderrTruncated, bool TimedOut)
{
    private const uint StdoutTruncatedFlag = 1, StderrTruncatedFlag = 2, TimedOutFlag = 4, SignaledFlag = 8;

    /// <summary>The status a shell would report: the exit status, or 128 + the signal number.</summary>
    public int ExitCode => Signal is int s ? 128 + s : ExitStatus;

    /// <summary>Decodes a result payload; throws <see cref="GuestAgentException"/> naming what is malformed.</summary>
    public static GuestExecResult Decode(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 16)
        {
            throw new GuestAgentException($"malformed exec result from the guest agent: {payload.Length} bytes");
        }

        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(payload);
        int code = BinaryPrimitives.ReadInt32LittleEndian(payload[4..]);
        uint outLength = BinaryPrimitives.ReadUInt32LittleEndian(payload[8..]);
        if (outLength > payload.Length - 16)
        {
            throw new GuestAgentException("malformed exec result from the guest agent: stdout runs past the end");
        }

        var stdout = payload.Slice(12, (int)outLength);
        uint errLength = BinaryPrimitives.ReadUInt32LittleEndian(payload[(12 + (int)outLength)..]);
        if (errLength != payload.Length - 16 - outLength)
        {
            throw new GuestAgentException("malformed exec result from the guest agent: stderr length does not match");
        }

        var stderr = payload.Slice(16 + (int)outLength, (int)errLength);
        bool signaled = (flags & SignaledFlag) != 0;
        return new GuestExecResult(signaled ? 0 : code, signaled ? code : null, stdout.ToArray(), stderr.ToArray(),
            (flags & StdoutTruncatedFlag) != 0, (flags & StderrTruncatedFlag) != 0, (flags & TimedOutFlag) != 0);
    }
}
