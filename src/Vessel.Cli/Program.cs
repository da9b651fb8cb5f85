using Spectre.Console.Cli;
using Vessel.Cli.Commands;

var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("vessel");
    config.AddCommand<RunCommand>("run")
        .WithDescription("Boot a VM in the foreground with its serial console on this terminal (Ctrl-A X quits).")
        .WithExample("run")
        .WithExample("run", "--cpus", "2", "--memory", "1G");
    config.AddCommand<RiscvTestCommand>("riscv-test")
        .WithDescription("Run bare-metal RISC-V conformance ELFs (riscv-tests, HTIF tohost) on the hart.")
        .WithExample("riscv-test", "../shared/riscv-tests");
    config.AddBranch("images", images =>
    {
        images.SetDescription("The guest kit: Debian riscv64 kernel, firmware and initramfs.");
        images.AddCommand<ImagesPullCommand>("pull")
            .WithDescription("Fetch and build the guest kit (Debian trixie riscv64) into the cache.");
        images.AddCommand<ImagesListCommand>("list")
            .WithDescription("Show the cached guest kits.");
    });
    config.AddBranch("bench", bench =>
    {
        bench.SetDescription("Measure Vessel's speed.");
        bench.AddCommand<BenchCpuCommand>("cpu")
            .WithDescription("Run the CPU benchmark guest program on the interpreter and report MIPS.");
    });
});

// Spectre.Console.Cli reports bad flags as -1; Vessel's convention (like QEMU's tools) is status 2.
int status = app.Run(args);
return status == -1 ? 2 : status;
