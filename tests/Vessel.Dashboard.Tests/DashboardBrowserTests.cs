using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Vessel.EndToEnd.Tests;
using Xunit.Abstractions;

namespace Vessel.Dashboard.Tests;

/// <summary>
/// The dashboard in a real browser (issue 7): Debian's Chromium driven by Playwright (never a downloaded browser)
/// against <c>vessel serve --listen</c>. Signs in through the printed URL, creates a VM through the form (after a
/// rejected one), starts it, runs <c>uname -a</c> in the xterm.js console, snapshots and reverts it, pauses and
/// resumes it, saves screenshots of the overview and the VM page, then kills, clones, exports and deletes from the list.
/// </summary>
[Collection(GuestKitCollection.Name)]
public sealed partial class DashboardBrowserTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Chromium = "/usr/bin/chromium";
    private static readonly TimeSpan Boot = TimeSpan.FromMinutes(4);
    private readonly string _state = Path.Combine(Path.GetTempPath(), "vessel-dash-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly string _screenshots = Path.Combine(AppContext.BaseDirectory, "screenshots");
    private VesselProcess? _serve;

    [GeneratedRegex(@"dashboard at (http://\S+)")]
    private static partial Regex DashboardUrl();

    [GuestKitFact]
    public async Task EveryActionAgainstARunningGuest()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: apt-get install chromium (.ci/setup does)");
        int port = FreePort();
        _serve = VesselProcess.Start("serve", "--state-dir", _state, "--listen", $"127.0.0.1:{port}");
        await _serve.WaitForAsync("dashboard at", TimeSpan.FromMinutes(1));
        string url = DashboardUrl().Match(_serve.Output).Groups[1].Value;

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium, Headless = true, Args = ["--no-sandbox"] });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 800 } });
        page.SetDefaultTimeout(60_000);

        // The token in the fragment becomes a session cookie; the URL loses it.
        await page.GotoAsync(url);
        await Assertions.Expect(page.Locator("#overview .meter").First).ToBeVisibleAsync();
        Assert.DoesNotContain("token", page.Url);
        Assert.Contains(await page.Context.CookiesAsync(), c => c.Name == "vessel_dashboard" && c.HttpOnly && c.SameSite == SameSiteAttribute.Strict);

        // Create: a bad name is refused with the API's message under the field, then a good one goes through.
        await page.ClickAsync("a[data-nav=vms]");
        await page.ClickAsync("#new-vm");
        await page.FillAsync("dialog input[name=name]", "Bad Name!");
        await page.FillAsync("dialog input[name=memory]", "256M");
        await page.ClickAsync("#dialog-ok");
        await Assertions.Expect(page.Locator(".field-error[data-for=name]")).ToContainTextAsync("not a valid VM name");
        await page.FillAsync("dialog input[name=name]", "web");
        await page.ClickAsync("#dialog-ok");
        await page.WaitForURLAsync("**/#/vm/web");

        // Start and use the console like a person would: click into it and type.
        await page.ClickAsync("#vm-actions [data-action=start]");
        await Assertions.Expect(page.Locator("#vm-state")).ToHaveTextAsync("running", new() { Timeout = 60_000 });
        await Assertions.Expect(page.Locator(".console-status")).ToHaveTextAsync("connected");
        await page.ClickAsync(".terminal");
        await page.Keyboard.TypeAsync("uname -a");
        await page.Keyboard.PressAsync("Enter");
        var rows = page.Locator(".xterm-rows");
        await Assertions.Expect(rows).ToContainTextAsync("Linux web 6.", new() { Timeout = (float)Boot.TotalMilliseconds });
        output.WriteLine($"console: {Regex.Match(await rows.InnerTextAsync(), @"Linux web \S+ \S+").Value}");

        // Snapshot, change the guest, revert: the change is gone and the console comes back.
        await page.ClickAsync("text=Take snapshot");
        await page.FillAsync("dialog input[name=name]", "clean");
        await page.ClickAsync("#dialog-ok");
        await Assertions.Expect(page.Locator("[data-snapshot=clean]")).ToBeVisibleAsync();
        await page.ClickAsync(".terminal");
        await page.Keyboard.TypeAsync("touch /tmp/after-snapshot && echo made-$((6*7))");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(rows).ToContainTextAsync("made-42");
        await SaveScreenshotAsync(page, "vm-page.png");

        await page.ClickAsync("[data-snapshot=clean] [data-action=revert]");
        await page.ClickAsync("#dialog-ok");
        await Assertions.Expect(page.Locator("#vm-events")).ToContainTextAsync("reverted to snapshot 'clean'");
        await Assertions.Expect(page.Locator("[data-snapshot=clean] .badge")).ToHaveTextAsync("current");
        await Assertions.Expect(page.Locator("#vm-state")).ToHaveTextAsync("running", new() { Timeout = 60_000 });
        await Assertions.Expect(page.Locator(".console-status")).ToHaveTextAsync("connected");
        await page.ClickAsync(".terminal");
        await page.Keyboard.PressAsync("Enter");
        await page.Keyboard.TypeAsync("test -e /tmp/after-snapshot || echo gone-$((6*7))");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(rows).ToContainTextAsync("gone-42", new() { Timeout = 120_000 });

        await page.ClickAsync("#vm-actions [data-action=pause]");
        await Assertions.Expect(page.Locator("#vm-events")).ToContainTextAsync("paused");
        await Assertions.Expect(page.Locator("#vm-state")).ToHaveTextAsync("paused");
        await page.ClickAsync("#vm-actions [data-action=resume]");
        await Assertions.Expect(page.Locator("#vm-events")).ToContainTextAsync("resumed");
        await Assertions.Expect(page.Locator("#vm-state")).ToHaveTextAsync("running");

        await page.ClickAsync("a[data-nav=overview]");
        await Assertions.Expect(page.Locator("#overview")).ToContainTextAsync("1 running of 1");
        await Assertions.Expect(page.Locator("#overview")).ToContainTextAsync("reverted to snapshot");
        await SaveScreenshotAsync(page, "overview.png");

        await page.SetViewportSizeAsync(390, 844);
        await page.ClickAsync("a[data-nav=vms]");
        await Assertions.Expect(page.Locator("tr[data-vm=web] .state")).ToHaveTextAsync("running");
        await SaveScreenshotAsync(page, "vm-list-phone.png");

        // The stopped-VM actions from the list: kill, clone, export, delete (confirmed).
        await page.SetViewportSizeAsync(1280, 800);
        await page.ClickAsync("tr[data-vm=web] [data-action=kill]");
        await Assertions.Expect(page.Locator("tr[data-vm=web] .state")).ToHaveTextAsync("stopped");
        await page.ClickAsync("tr[data-vm=web] [data-action=clone]");
        await page.FillAsync("dialog input[name=name]", "web-copy");
        await page.ClickAsync("#dialog-ok");
        await Assertions.Expect(page.Locator("tr[data-vm=web-copy] .state")).ToHaveTextAsync("stopped");
        string archive = Path.Combine(_state, "web.tar");
        await page.ClickAsync("tr[data-vm=web] [data-action=export]");
        await page.FillAsync("dialog input[name=path]", archive);
        await page.ClickAsync("#dialog-ok");
        await Assertions.Expect(page.Locator(".toast.ok")).ToContainTextAsync($"exported to {archive}");
        Assert.True(new FileInfo(archive).Length > 0);
        await page.ClickAsync("tr[data-vm=web-copy] [data-action=delete]");
        await page.ClickAsync("#dialog-ok");
        await Assertions.Expect(page.Locator("tr[data-vm=web-copy]")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("tr[data-vm=web]")).ToHaveCountAsync(1);
    }

    private async Task SaveScreenshotAsync(IPage page, string name)
    {
        Directory.CreateDirectory(_screenshots);
        string path = Path.Combine(_screenshots, name);
        await page.ScreenshotAsync(new() { Path = path, FullPage = true });
        output.WriteLine($"screenshot: {path}");
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_serve is not null)
        {
            // Kill the VM through the API's socket so no worker outlives the test, then the supervisor.
            try
            {
                using var unix = new HttpClient(new SocketsHttpHandler
                {
                    ConnectCallback = async (_, ct) =>
                    {
                        var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
                        await socket.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(Path.Combine(_state, "vessel.sock")), ct);
                        return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
                    },
                })
                { BaseAddress = new Uri("http://vessel/") };
                await unix.PostAsJsonAsync("api/vms/web/kill", new { });
            }
            catch (HttpRequestException)
            {
            }

            await _serve.DisposeAsync();
        }

        if (Directory.Exists(_state))
        {
            Directory.Delete(_state, recursive: true);
        }
    }
}
