using Vessel.Devices.Virtio;

namespace Vessel.Hosting.GuestAgent;

/// <summary>
/// Carries agent requests into the guest through a VM's virtio-console port. The port is replaced when the guest
/// reboots (a new machine), so the worker sets <see cref="Port"/> for each boot. Input waits for room in the port's
/// bounded backlog rather than being dropped.
/// </summary>
public sealed class VirtioConsoleAgentTransport
{
    private const int ChunkSize = 16 << 10;

    public VirtioConsole? Port { get; set; }

    public async Task SendAsync(byte[] data, CancellationToken cancellationToken)
    {
        for (int offset = 0; offset < data.Length;)
        {
            int n = Math.Min(ChunkSize, data.Length - offset);
            if (Port is { } port && port.TryEnqueueInput(data.AsSpan(offset, n)))
            {
                offset += n;
            }
            else
            {
                await Task.Delay(5, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
