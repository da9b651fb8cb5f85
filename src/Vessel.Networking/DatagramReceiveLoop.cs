using System.Net;
using System.Net.Sockets;

namespace Vessel.Networking;

/// <summary>Handles one datagram received by <see cref="DatagramReceiveLoop"/>; both arguments are reused afterwards.</summary>
internal delegate void DatagramHandler(SocketAddress from, ReadOnlySpan<byte> datagram);

/// <summary>
/// The receive thread of a switch hub or port: reads datagrams from a non-blocking Unix datagram socket until it is
/// stopped or disposed, reusing one buffer and one sender address so that a frame costs no allocation.
/// </summary>
internal static class DatagramReceiveLoop
{
    // How long one poll(2) waits: the longest a stop request goes unnoticed.
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    public static void Run(Socket socket, int maxDatagram, CancellationToken stopping, DatagramHandler handle)
    {
        byte[] buffer = new byte[maxDatagram];
        var from = new SocketAddress(AddressFamily.Unix, SocketAddress.GetMaximumAddressSize(AddressFamily.Unix));
        while (!stopping.IsCancellationRequested)
        {
            int received;
            try
            {
                // The socket is non-blocking (sends must not block forever), so wait for a datagram with poll(2).
                if (!socket.Poll(PollInterval, SelectMode.SelectRead))
                {
                    continue;
                }

                from.Size = from.Buffer.Length; // the receive shrinks it to the sender's address
                received = socket.ReceiveFrom(buffer, SocketFlags.None, from);
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }

            handle(from, buffer.AsSpan(0, received));
        }
    }
}
