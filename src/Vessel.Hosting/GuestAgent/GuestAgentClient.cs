using System.Diagnostics;
using System.Text;

namespace Vessel.Hosting.GuestAgent;

/// <summary>
/// The host side of the guest agent protocol (<see cref="AgentFrame"/>) over any byte transport: requests go out
/// through the send delegate, the guest's bytes come in through <see cref="OnGuestOutput"/> (any thread). One request
/// is in flight at a time, as the agent serves them one by one; replies are matched by id, so a late reply to a
/// request the host gave up on is dropped rather than taken for the next one.
/// </summary>
public sealed class GuestAgentClient(Func<byte[], CancellationToken, Task> send)
{
    /// <summary>Time allowed beyond a command's own timeout for the agent to kill it and ship up to 2 MiB of output.</summary>
    public static readonly TimeSpan ReplyGrace = TimeSpan.FromSeconds(15);

    private static readonly TimeSpan PingInterval = TimeSpan.FromSeconds(1);
    private readonly AgentFrameDecoder _decoder = new();
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);
    private TaskCompletionSource<AgentFrame>? _pending;
    private uint _pendingId;
    private uint _nextId;

    /// <summary>Feeds bytes the guest wrote to the port.</summary>
    public void OnGuestOutput(ReadOnlySpan<byte> data)
    {
        IReadOnlyList<AgentFrame> frames;
        lock (_lock)
        {
            frames = _decoder.Feed(data);
        }

        foreach (var frame in frames)
        {
            // Only replies count: a tty echoing the host's own requests before the agent sets raw mode sends back
            // Ping and Exec frames, which are not answers.
            if (frame.Type is AgentMessageType.Pong or AgentMessageType.ExecResult or AgentMessageType.Error)
            {
                lock (_lock)
                {
                    if (_pending is { } pending && frame.Id == _pendingId)
                    {
                        _pending = null;
                        pending.TrySetResult(frame);
                    }
                }
            }
        }
    }

    /// <summary>Waits until the agent answers a ping (sent every second) and returns its version text.</summary>
    public async Task<string> PingAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        await _oneAtATime.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await PingLockedAsync(Stopwatch.StartNew(), timeout, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    /// <summary>
    /// Runs a command in the guest. <see cref="GuestExecRequest.Timeout"/> bounds the whole call: waiting for the agent
    /// to answer (the guest may still be booting) and then the command, which the agent kills when the time is up.
    /// </summary>
    public async Task<GuestExecResult> ExecAsync(GuestExecRequest request, CancellationToken cancellationToken)
    {
        if (request.Validate() is { } problem)
        {
            throw new ArgumentException(problem, nameof(request));
        }

        await _oneAtATime.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var clock = Stopwatch.StartNew();
            await PingLockedAsync(clock, request.Timeout, cancellationToken).ConfigureAwait(false);
            var left = request.Timeout - clock.Elapsed;
            if (left < TimeSpan.FromSeconds(1))
            {
                left = TimeSpan.FromSeconds(1);
            }

            var frame = await RequestAsync(AgentMessageType.Exec, (request with { Timeout = left }).EncodePayload(), left + ReplyGrace, cancellationToken).ConfigureAwait(false)
                ?? throw new GuestAgentException($"the guest agent took the command but sent no result within {(left + ReplyGrace).TotalSeconds:F0} s", notAnswering: true);
            return frame.Type switch
            {
                AgentMessageType.ExecResult => GuestExecResult.Decode(frame.Payload),
                AgentMessageType.Error => throw new GuestAgentException("the guest agent refused the command: " + Encoding.UTF8.GetString(frame.Payload)),
                _ => throw new GuestAgentException($"the guest agent answered an exec with message type {frame.Type}"),
            };
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    private async Task<string> PingLockedAsync(Stopwatch clock, TimeSpan timeout, CancellationToken cancellationToken)
    {
        while (true)
        {
            var left = timeout - clock.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                throw new GuestAgentException(
                    $"the guest agent did not answer within {timeout.TotalSeconds:F0} s (is the guest still booting, or not running the Vessel guest kit's agent?)",
                    notAnswering: true);
            }

            var frame = await RequestAsync(AgentMessageType.Ping, [], left < PingInterval ? left : PingInterval, cancellationToken).ConfigureAwait(false);
            switch (frame?.Type)
            {
                case AgentMessageType.Pong:
                    return Encoding.UTF8.GetString(frame.Payload);
                case AgentMessageType.Error:
                    throw new GuestAgentException("the guest agent refused a ping: " + Encoding.UTF8.GetString(frame.Payload));
            }
        }
    }

    /// <summary>Sends one request and waits for its reply; null when none comes within <paramref name="wait"/>.</summary>
    private async Task<AgentFrame?> RequestAsync(AgentMessageType type, byte[] payload, TimeSpan wait, CancellationToken cancellationToken)
    {
        var reply = new TaskCompletionSource<AgentFrame>(TaskCreationOptions.RunContinuationsAsynchronously);
        uint id;
        lock (_lock)
        {
            id = ++_nextId;
            _pendingId = id;
            _pending = reply;
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(wait);
            await send(new AgentFrame(type, id, payload).Encode(), timeout.Token).ConfigureAwait(false);
            return await reply.Task.WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        finally
        {
            lock (_lock)
            {
                if (_pending == reply)
                {
                    _pending = null;
                }
            }
        }
    }
}
