using System.Buffers;
using System.Net.Sockets;

namespace Vessel.Networking;

/// <summary>The host-socket half of a connection: connect, read and write tasks on the thread pool that talk to the network thread only through <see cref="UserNetwork.Post"/>.</summary>
internal sealed partial class TcpConnection
{
    private async Task ConnectAsync(Socket socket, System.Net.IPEndPoint target)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(aborted.Token);
            timeout.CancelAfter(network.Options.TcpHandshakeTimeout);
            await socket.ConnectAsync(target, timeout.Token);
            network.Post(OnHostConnected);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            network.Post(() => Abort(sendReset: true));
        }
    }

    private async Task ReadHostAsync(Socket socket)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(HostReadChunk);
        try
        {
            while (true)
            {
                await readPermit.WaitAsync(aborted.Token);
                int received = await socket.ReceiveAsync(buffer.AsMemory(0, HostReadChunk), SocketFlags.None, aborted.Token);
                byte[] copy = ArrayPool<byte>.Shared.Rent(Math.Max(received, 1));
                buffer.AsSpan(0, received).CopyTo(copy);
                network.Post(() => OnHostData(copy, received));
                if (received == 0)
                {
                    break;
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            if (!aborted.IsCancellationRequested)
            {
                network.Post(() => Abort(sendReset: true));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void OnHostData(byte[] data, int length)
    {
        try
        {
            if (State != TcpState.Established)
            {
                return;
            }
            if (length == 0)
            {
                hostEof = true;
            }
            else
            {
                toGuest.Append(data.AsSpan(0, length));
                if (toGuest.Free >= HostReadChunk)
                {
                    GrantRead();
                }
                else
                {
                    readerParked = true;
                }
            }
            TrySendData();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(data);
        }
    }

    private async Task WriteHostAsync(Socket socket)
    {
        try
        {
            while (true)
            {
                await writeSignal.WaitAsync(aborted.Token);
                while (toHost.TryDequeue(out var chunk))
                {
                    try
                    {
                        int sent = 0;
                        while (sent < chunk.Length)
                        {
                            sent += await socket.SendAsync(chunk.Buffer.AsMemory(sent, chunk.Length - sent), SocketFlags.None, aborted.Token);
                        }
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(chunk.Buffer);
                    }
                    int written = chunk.Length;
                    network.Post(() => OnHostWritten(written));
                }
                if (shutdownHostAfterDrain && toHost.IsEmpty)
                {
                    socket.Shutdown(SocketShutdown.Send);
                    return;
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            if (!aborted.IsCancellationRequested)
            {
                network.Post(() => Abort(sendReset: true));
            }
        }
    }

    private void OnHostWritten(int count)
    {
        if (State != TcpState.Established)
        {
            return;
        }
        toHostOutstanding -= count;
        CheckClosed();
        if (State != TcpState.Established)
        {
            return;
        }
        // Window update (RFC 9293 §3.8.6.2.2): tell the guest once the window has opened by at least one MSS.
        if (AdvertisedWindow - lastAdvertisedWindow >= OurMss || (lastAdvertisedWindow == 0 && AdvertisedWindow > 0))
        {
            SendAck();
        }
    }
}
