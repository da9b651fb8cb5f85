using System.Diagnostics;

namespace Vessel.Networking.Tests;

/// <summary>
/// Real busybox udhcpc (the guest kit's riscv64 build, run under qemu-user) leases an address from the built-in
/// DHCP server through a TAP interface. Skips unless root, /dev/net/tun, qemu-riscv64 and the cached kit are present.
/// </summary>
public sealed class BusyboxDhcpTests
{
    internal static string? FindBusyboxDeb()
    {
        string cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        string downloads = Path.Combine(cache, "vessel", "downloads");
        return Directory.Exists(downloads) ? Directory.GetFiles(downloads, "busybox-static_*_riscv64.deb").FirstOrDefault() : null;
    }

    internal static string? FindQemuUser() =>
        new[] { "/usr/bin/qemu-riscv64", "/usr/bin/qemu-riscv64-static" }.FirstOrDefault(File.Exists);

    private static (int ExitCode, string Output) Run(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        if (!process.WaitForExit(60_000))
        {
            process.Kill();
            return (-1, "timed out\n" + stderr);
        }
        return (process.ExitCode, stdout.Result + stderr);
    }

    [BusyboxUdhcpcFact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void Udhcpc_GetsTheGuestAddressRouterDnsAndLease()
    {
        string deb = FindBusyboxDeb()!;
        string qemu = FindQemuUser()!;
        string work = Directory.CreateTempSubdirectory("vessel-udhcpc").FullName;
        string name = $"vdh{Random.Shared.Next(0x10000):x4}";
        try
        {
            Assert.Equal(0, Run("dpkg-deb", "-x", deb, work).ExitCode);
            string busybox = Path.Combine(work, "usr", "bin", "busybox");
            string result = Path.Combine(work, "lease.txt");
            string script = Path.Combine(work, "script.sh");
            File.WriteAllText(script, $"#!/bin/sh\n[ \"$1\" = bound ] && echo \"ip=$ip subnet=$subnet router=$router dns=$dns lease=$lease serverid=$serverid\" > {result}\nexit 0\n");
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

            using var network = new UserNetwork();
            using var tap = new TapPort(name);
            tap.Attach(new Relay(network));
            network.Attach(new Relay(tap));
            Assert.Equal(0, Run("ip", "link", "set", name, "up").ExitCode);

            (int exit, string output) = Run(qemu, busybox, "udhcpc", "-f", "-q", "-n", "-t", "5", "-T", "2", "-i", name, "-s", script);
            Assert.True(exit == 0, $"udhcpc failed ({exit}): {output}");
            Assert.Equal("ip=10.0.2.15 subnet=255.255.255.0 router=10.0.2.2 dns=10.0.2.3 lease=86400 serverid=10.0.2.2", File.ReadAllText(result).Trim());
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private sealed class Relay(IEthernetPort target) : IFrameReceiver
    {
        public void Receive(ReadOnlySpan<byte> frame) => target.Send(frame);
    }
}
