using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Vessel.Networking;

/// <summary>
/// Sends a frame on a non-blocking Unix datagram socket, waiting a bounded time when the receiver's queue is full.
/// Linux lets only <c>net.unix.max_dgram_qlen</c> datagrams (10 by default) wait on an unconnected receiver, so one
/// virtio-net transmit batch overflows it; dropping there made TCP between VMs crawl on retransmits (issue 5).
/// Waiting briefly instead gives the sender backpressure, as a NIC's full ring would, while a receiver that stays
/// stuck still costs at most <c>patience</c> per frame before the frame is dropped.
/// </summary>
internal static class DatagramBackpressure
{
    /// <summary>
    /// True if sent; false if the receiver's queue stayed full for <paramref name="patience"/>. Other socket errors
    /// propagate. The destination is a serialised <see cref="SocketAddress"/> the caller keeps, so a send allocates
    /// nothing; a full queue costs a SocketException per retry, since .NET has no non-throwing sendto.
    /// </summary>
    public static bool TrySend(Socket socket, ReadOnlySpan<byte> frame, SocketAddress to, TimeSpan patience)
    {
        long deadline = 0;
        var spin = new SpinWait();
        while (true)
        {
            try
            {
                socket.SendTo(frame, SocketFlags.None, to);
                return true;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.NoBufferSpaceAvailable)
            {
                long now = Stopwatch.GetTimestamp();
                if (deadline == 0)
                {
                    deadline = now + (long)(patience.TotalSeconds * Stopwatch.Frequency);
                }
                else if (now >= deadline)
                {
                    return false;
                }

                spin.SpinOnce(); // yields, then sleeps: the receiver's thread needs the CPU to drain its queue
            }
        }
    }
}
