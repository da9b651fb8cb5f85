using System.Buffers.Binary;
using System.Text;
using Vessel.Hosting.GuestAgent;

namespace Vessel.Hosting.Tests.GuestAgent;

public sealed class AgentFrameTests
{
    [Fact]
    public void Crc32MatchesTheStandardCheckValue() =>
        Assert.Equal(0xCBF43926u, Crc32.Compute("123456789"u8)); // the CRC-32/ISO-HDLC check value

    [Fact]
    public void EncodedFrameDecodesToTheSameFrame()
    {
        var frame = new AgentFrame(AgentMessageType.Exec, 42, [1, 2, 3, 0, 255]);
        byte[] wire = frame.Encode();
        Assert.Equal("VAG\x01"u8.ToArray(), wire[..4]);
        Assert.Equal(AgentFrame.HeaderSize + 5, wire.Length);
        var decoded = Assert.Single(new AgentFrameDecoder().Feed(wire));
        Assert.Equal(frame.Type, decoded.Type);
        Assert.Equal(frame.Id, decoded.Id);
        Assert.Equal(frame.Payload, decoded.Payload);
    }

    [Fact]
    public void DecoderResynchronisesAfterGarbageAndTornFrames()
    {
        byte[] good = new AgentFrame(AgentMessageType.Pong, 7, "vessel-agent 1"u8.ToArray()).Encode();
        byte[] torn = good[..10];
        byte[] stream = [.. "boot noise VAG VA\r\n"u8.ToArray(), .. torn, .. "VAG\x01 not a header at all........"u8.ToArray(), .. good];
        var decoder = new AgentFrameDecoder();
        var frame = Assert.Single(decoder.Feed(stream));
        Assert.Equal(7u, frame.Id);
        Assert.True(decoder.SkippedBytes > 0);
    }

    [Fact]
    public void DecoderTakesFramesSplitAcrossManyWrites()
    {
        byte[] a = new AgentFrame(AgentMessageType.Pong, 1, new byte[1000]).Encode();
        byte[] b = new AgentFrame(AgentMessageType.Error, 2, "oops"u8.ToArray()).Encode();
        byte[] stream = [.. a, .. b];
        var decoder = new AgentFrameDecoder();
        var frames = new List<AgentFrame>();
        foreach (byte x in stream)
        {
            frames.AddRange(decoder.Feed([x]));
        }

        Assert.Equal([1u, 2u], frames.Select(f => f.Id));
        Assert.Equal(0, decoder.SkippedBytes);
    }

    [Fact]
    public void BadPayloadChecksumAndWrongVersionAreRejectedNotDelivered()
    {
        byte[] corrupt = new AgentFrame(AgentMessageType.Pong, 1, "hello"u8.ToArray()).Encode();
        corrupt[^1] ^= 0xFF;
        byte[] future = new AgentFrame(AgentMessageType.Pong, 2, []).Encode();
        future[3] = 2;
        BinaryPrimitives.WriteUInt32LittleEndian(future.AsSpan(20), Crc32.Compute(future.AsSpan(0, 20)));
        byte[] good = new AgentFrame(AgentMessageType.Pong, 3, []).Encode();
        var decoder = new AgentFrameDecoder();
        var frame = Assert.Single(decoder.Feed([.. corrupt, .. future, .. good]));
        Assert.Equal(3u, frame.Id);
        Assert.Equal(2, decoder.RejectedFrames);
    }

    [Fact]
    public void OversizedLengthIsRejectedAtOnceInsteadOfAwaited()
    {
        byte[] huge = new AgentFrame(AgentMessageType.Pong, 1, []).Encode();
        BinaryPrimitives.WriteUInt32LittleEndian(huge.AsSpan(12), uint.MaxValue);
        BinaryPrimitives.WriteUInt32LittleEndian(huge.AsSpan(20), Crc32.Compute(huge.AsSpan(0, 20)));
        byte[] good = new AgentFrame(AgentMessageType.Pong, 9, []).Encode();
        var frame = Assert.Single(new AgentFrameDecoder().Feed([.. huge, .. good]));
        Assert.Equal(9u, frame.Id);
    }

    [Fact]
    public void RandomGarbageNeverThrowsAndLaterFramesStillArrive()
    {
        var random = new Random(1234);
        var decoder = new AgentFrameDecoder();
        byte[] garbage = new byte[1 << 20];
        random.NextBytes(garbage);
        decoder.Feed(garbage);
        var frame = Assert.Single(decoder.Feed(new AgentFrame(AgentMessageType.Pong, 5, []).Encode()));
        Assert.Equal(5u, frame.Id);
    }

    [Fact]
    public void ExecRequestPayloadHasTheDocumentedLayout()
    {
        byte[] payload = new GuestExecRequest(["sh", "-c", "é"], "in"u8.ToArray(), TimeSpan.FromSeconds(2)).EncodePayload();
        var span = payload.AsSpan();
        Assert.Equal(2000u, BinaryPrimitives.ReadUInt32LittleEndian(span));
        Assert.Equal(3u, BinaryPrimitives.ReadUInt32LittleEndian(span[4..]));
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32LittleEndian(span[8..]));
        Assert.Equal("sh", Encoding.UTF8.GetString(span.Slice(12, 2)));
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32LittleEndian(span[20..])); // "é" is two UTF-8 bytes
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32LittleEndian(span[26..]));
        Assert.Equal("in", Encoding.UTF8.GetString(span[30..]));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(257)]
    public void ExecRequestWithBadArgcIsRefused(int argc) =>
        Assert.Contains("argv", new GuestExecRequest([.. Enumerable.Repeat("x", argc)], [], TimeSpan.FromSeconds(1)).Validate(), StringComparison.Ordinal);

    [Fact]
    public void ExecRequestWithTooMuchStdinOrNulIsRefused()
    {
        Assert.Contains("stdin", new GuestExecRequest(["cat"], new byte[(1 << 20) + 1], TimeSpan.FromSeconds(1)).Validate(), StringComparison.Ordinal);
        Assert.Contains("NUL", new GuestExecRequest(["a\0b"], [], TimeSpan.FromSeconds(1)).Validate(), StringComparison.Ordinal);
    }

    [Fact]
    public void ExecResultDecodesFlagsAndStreams()
    {
        byte[] payload = [.. Le(1 | 8), .. Le(9), .. Le(3), .. "out"u8.ToArray(), .. Le(2), .. "er"u8.ToArray()];
        var result = GuestExecResult.Decode(payload);
        Assert.True(result.StdoutTruncated);
        Assert.False(result.StderrTruncated);
        Assert.Equal(9, result.Signal);
        Assert.Equal(137, result.ExitCode);
        Assert.Equal("out"u8.ToArray(), result.Stdout);
        Assert.Equal("er"u8.ToArray(), result.Stderr);
    }

    [Fact]
    public void MalformedExecResultIsAnAgentErrorNotACrash()
    {
        Assert.Throws<GuestAgentException>(() => GuestExecResult.Decode(new byte[5]));
        Assert.Throws<GuestAgentException>(() => GuestExecResult.Decode([.. Le(0), .. Le(0), .. Le(100), .. Le(0)]));
        Assert.Throws<GuestAgentException>(() => GuestExecResult.Decode([.. Le(0), .. Le(0), .. Le(0), .. Le(5)]));
    }

    private static byte[] Le(uint value)
    {
        byte[] b = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        return b;
    }
}
