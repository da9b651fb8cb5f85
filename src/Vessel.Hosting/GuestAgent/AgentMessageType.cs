namespace Vessel.Hosting.GuestAgent;

/// <summary>Message types of the guest agent protocol (see <see cref="AgentFrame"/>).</summary>
public enum AgentMessageType : byte
{
    /// <summary>Host to guest, empty payload.</summary>
    Ping = 1,

    /// <summary>Guest to host: UTF-8 "vessel-agent VERSION KERNEL-RELEASE".</summary>
    Pong = 2,

    /// <summary>Host to guest: <see cref="GuestExecRequest"/>.</summary>
    Exec = 3,

    /// <summary>Guest to host: <see cref="GuestExecResult"/>.</summary>
    ExecResult = 4,

    /// <summary>Guest to host: UTF-8 message saying what was wrong with a request.</summary>
    Error = 5,
}
