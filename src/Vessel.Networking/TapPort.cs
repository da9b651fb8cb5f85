using System.Runtime.InteropServices;

namespace Vessel.Networking;

/// <summary>
/// A Linux TAP interface (<c>--net tap:IFNAME</c>): frames go to and come from the host kernel's network stack,
/// opened through /dev/net/tun with TUNSETIFF (IFF_TAP | IFF_NO_PI, see the kernel's Documentation/networking/tuntap.rst).
/// Needs CAP_NET_ADMIN, or a persistent tap device owned by the user. Configuring the interface is left to the host.
/// </summary>
public sealed partial class TapPort : IEthernetPort
{
    private const int OpenReadWrite = 2;
    private const int OpenNonBlocking = 0x800;
    private const int OpenCloseOnExec = 0x80000;
    private const ulong TunSetInterface = 0x4004_54CA; // _IOW('T', 202, int)
    private const short IffTap = 0x0002;
    private const short IffNoPacketInfo = 0x1000;
    private const short PollIn = 0x0001;
    private const int InterfaceNameSize = 16; // IFNAMSIZ
    private const int TryAgain = 11; // EAGAIN
    private readonly int fd;
    private readonly Thread reader;
    private IFrameReceiver? receiver;
    private long droppedFrames;
    private volatile bool disposed;

    public TapPort(string interfaceName)
    {
        ArgumentNullException.ThrowIfNull(interfaceName);
        if (!OperatingSystem.IsLinux())
        {
            throw new NetworkConfigurationException("tap networking needs Linux (/dev/net/tun)");
        }
        if (interfaceName.Length is 0 or >= InterfaceNameSize || interfaceName.Any(c => c is '/' or ' ' or ':' || char.IsControl(c) || c > 0x7E))
        {
            throw new NetworkConfigurationException($"tap interface name '{interfaceName}' must be 1-15 printable ASCII characters without '/', ':' or spaces");
        }
        fd = Open("/dev/net/tun", OpenReadWrite | OpenNonBlocking | OpenCloseOnExec);
        if (fd < 0)
        {
            int error = Marshal.GetLastPInvokeError();
            throw new NetworkConfigurationException($"cannot open /dev/net/tun: {Marshal.GetPInvokeErrorMessage(error)}");
        }
        Span<byte> request = stackalloc byte[40]; // struct ifreq
        request.Clear();
        System.Text.Encoding.ASCII.GetBytes(interfaceName, request);
        System.Buffers.Binary.BinaryPrimitives.WriteInt16LittleEndian(request[InterfaceNameSize..], IffTap | IffNoPacketInfo);
        unsafe
        {
            fixed (byte* p = request)
            {
                if (IoControl(fd, TunSetInterface, p) < 0)
                {
                    int error = Marshal.GetLastPInvokeError();
                    Close(fd);
                    throw new NetworkConfigurationException(
                        $"cannot attach tap interface '{interfaceName}': {Marshal.GetPInvokeErrorMessage(error)} (needs CAP_NET_ADMIN or a tap device owned by this user)");
                }
            }
        }
        InterfaceName = interfaceName;
        reader = new Thread(ReadLoop) { IsBackground = true, Name = $"vessel-tap-{interfaceName}" };
        reader.Start();
    }

    public string InterfaceName { get; }

    public long DroppedFrames => Interlocked.Read(ref droppedFrames);

    public void Attach(IFrameReceiver receiver)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        Volatile.Write(ref this.receiver, receiver);
    }

    public unsafe void Send(ReadOnlySpan<byte> frame)
    {
        if (disposed || frame.Length < UserNetwork.EthernetHeaderLength || frame.Length > UserNetwork.MaxFrameLength)
        {
            Interlocked.Increment(ref droppedFrames);
            return;
        }
        fixed (byte* p = frame)
        {
            // Non-blocking: when the kernel's queue is full (EAGAIN) the frame is dropped, like a busy wire.
            if (Write(fd, p, (nuint)frame.Length) != frame.Length)
            {
                Interlocked.Increment(ref droppedFrames);
            }
        }
    }

    private unsafe void ReadLoop()
    {
        byte[] buffer = new byte[UserNetwork.MaxFrameLength];
        var poll = new PollDescriptor { Fd = fd, Events = PollIn };
        while (!disposed)
        {
            // Poll with a timeout so Dispose can stop the thread without closing an fd another thread is reading.
            if (Poll(&poll, 1, 200) <= 0)
            {
                continue;
            }
            nint read;
            fixed (byte* p = buffer)
            {
                read = Read(fd, p, (nuint)buffer.Length);
            }
            if (read < 0)
            {
                if (Marshal.GetLastPInvokeError() != TryAgain)
                {
                    Thread.Sleep(10);
                }
                continue;
            }
            if (read >= UserNetwork.EthernetHeaderLength)
            {
                Volatile.Read(ref receiver)?.Receive(buffer.AsSpan(0, (int)read));
            }
        }
    }

    public void Dispose()
    {
        if (disposed)
        {
            return;
        }
        disposed = true;
        if (Thread.CurrentThread != reader)
        {
            reader.Join();
        }
        Close(fd);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollDescriptor
    {
        public int Fd;
        public short Events;
        public short ReturnedEvents;
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static unsafe partial int IoControl(int fd, ulong request, byte* argument);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static unsafe partial nint Read(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static unsafe partial nint Write(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static unsafe partial int Poll(PollDescriptor* descriptors, nuint count, int timeout);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
