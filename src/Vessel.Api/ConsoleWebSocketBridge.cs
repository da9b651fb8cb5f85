using System.Net.Sockets;
using System.Net.WebSockets;

namespace Vessel.Api;

/// <summary>
/// Carries a VM's serial console between a browser's WebSocket and the worker's console socket (ConsoleHub): guest
/// output as binary frames, keystrokes from binary or text frames (UTF-8) to the UART. Either side closing ends both.
/// </summary>
public static class ConsoleWebSocketBridge
{
    private static readonly TimeSpan CloseWait = TimeSpan.FromSeconds(2);

    public static async Task RunAsync(WebSocket webSocket, Socket console, CancellationToken cancellationToken)
    {
        // Only the console side is cancelled: cancelling a WebSocket receive aborts the socket, losing the close reason.
        using var consoleDone = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var toBrowser = Task.Run(async () =>
        {
            byte[] buffer = new byte[16 * 1024];
            try
            {
                int n;
                while ((n = await console.ReceiveAsync(buffer, SocketFlags.None, consoleDone.Token)) > 0)
                {
                    await webSocket.SendAsync(buffer.AsMemory(0, n), WebSocketMessageType.Binary, endOfMessage: true, cancellationToken);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or WebSocketException or ObjectDisposedException)
            {
            }
        });
        var toGuest = Task.Run(async () =>
        {
            byte[] buffer = new byte[4096];
            try
            {
                while (true)
                {
                    var result = await webSocket.ReceiveAsync(buffer.AsMemory(), cancellationToken);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        break;
                    }

                    await console.SendAsync(buffer.AsMemory(0, result.Count), SocketFlags.None, cancellationToken);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or WebSocketException or ObjectDisposedException)
            {
            }
        });

        bool guestEnded = await Task.WhenAny(toBrowser, toGuest) == toBrowser;
        await consoleDone.CancelAsync();
        using var closing = new CancellationTokenSource(CloseWait);
        try
        {
            if (webSocket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await webSocket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, guestEnded ? "the VM's console closed" : "bye", closing.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException)
        {
        }

        if (await Task.WhenAny(toGuest, Task.Delay(CloseWait, CancellationToken.None)) != toGuest)
        {
            webSocket.Abort(); // the browser did not answer the close
        }

        await Task.WhenAll(toBrowser, toGuest);
    }
}
