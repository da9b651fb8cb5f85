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
    config.AddCommand<ServeCommand>("serve")
        .WithDescription("Run the supervisor: VM registry, one worker process per VM, REST API on a Unix socket.")
        .WithExample("serve", "--listen", "127.0.0.1:7070");
    config.AddCommand<WorkerCommand>("worker").IsHidden();
    config.AddCommand<HostCommand>("host")
        .WithDescription("Show the host's capacity (cores, memory) and what running VMs hold.");
    config.AddBranch("vm", vm =>
    {
        vm.SetDescription("Manage VMs through the supervisor ('vessel serve').");
        vm.AddCommand<VmCreateCommand>("create").WithDescription("Define a VM.")
            .WithExample("vm", "create", "demo", "--cpus", "1", "--memory", "256M", "--restart", "on-failure");
        vm.AddCommand<VmListCommand>("list").WithDescription("List VMs and their states.");
        vm.AddCommand<VmShowCommand>("show").WithDescription("Show a VM's definition, state and live numbers.");
        vm.AddCommand<VmStartCommand>("start").WithDescription("Start a VM in its own worker process.");
        vm.AddCommand<VmStopCommand>("stop").WithDescription("Stop a VM (the machine stops; no restart).");
        vm.AddCommand<VmKillCommand>("kill").WithDescription("SIGKILL a VM's worker (no restart).");
        vm.AddCommand<VmDeleteCommand>("delete").WithDescription("Delete a stopped VM's definition (disk images stay).");
        vm.AddCommand<VmConsoleCommand>("console").WithDescription("Attach to a running VM's serial console (Ctrl-A D detaches).");
        vm.AddCommand<VmEventsCommand>("events").WithDescription("Show a VM's history; --follow streams new events.");
        vm.AddCommand<VmExecCommand>("exec").WithDescription("Run a command in the guest through its agent; exits with the command's status.")
            .WithExample("vm", "exec", "demo", "--", "uname", "-a");
        vm.AddCommand<VmCloneCommand>("clone").WithDescription("Clone a stopped VM: full (disks copied), --linked (qcow2 overlays) or --snapshot SNAP (disks as at that snapshot); new name and MACs.")
            .WithExample("vm", "clone", "demo", "demo2", "--linked");
        vm.AddCommand<VmExportCommand>("export").WithDescription("Write a stopped VM (definition and disks, with checksums) to one archive.")
            .WithExample("vm", "export", "demo", "/tmp/demo.vessel");
        vm.AddCommand<VmImportCommand>("import").WithDescription("Create a VM from an exported archive, verifying it.")
            .WithExample("vm", "import", "/tmp/demo.vessel", "--name", "demo3");
        vm.AddCommand<VmBalloonCommand>("balloon").WithDescription("Leave a running guest SIZE of memory (256M, 1G): its balloon takes the rest back for the host.");
        vm.AddCommand<VmPauseCommand>("pause").WithDescription("Pause a running VM (its harts stop; RAM and devices stay).");
        vm.AddCommand<VmResumeCommand>("resume").WithDescription("Resume a paused VM.");
        vm.AddBranch("snapshot", snapshot =>
        {
            snapshot.SetDescription("Live snapshots of a VM (CPU, devices, RAM and disks at one instant), as a tree.");
            snapshot.AddCommand<VmSnapshotCreateCommand>("create").WithDescription("Take a snapshot of a VM.")
                .WithExample("vm", "snapshot", "create", "demo", "s1", "--description", "before upgrade");
            snapshot.AddCommand<VmSnapshotListCommand>("list").WithDescription("List a VM's snapshots as a tree.");
            snapshot.AddCommand<VmSnapshotRevertCommand>("revert").WithDescription("Go back to a snapshot (a running VM restarts from that instant).");
            snapshot.AddCommand<VmSnapshotDeleteCommand>("delete").WithDescription("Delete a snapshot (its children move up to its parent).");
        });
        vm.AddCommand<VmStatsCommand>("stats").WithDescription("Show a VM's CPU, instructions/s, memory, disk and network numbers (--watch: every second).");
    });
    config.AddBranch("img", img =>
    {
        img.SetDescription("Create, inspect, check, convert, snapshot, resize, rebase, commit, compare and map disk images (raw, qcow2, vpc, vmdk, vdi).");
        img.AddCommand<ImgCreateCommand>("create")
            .WithDescription("Create an empty disk image.")
            .WithExample("img", "create", "-f", "qcow2", "disk.qcow2", "10G")
            .WithExample("img", "create", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", "overlay.qcow2");
        img.AddCommand<ImgInfoCommand>("info")
            .WithDescription("Show an image's format, sizes and header fields.")
            .WithExample("img", "info", "--output", "json", "disk.qcow2");
        img.AddCommand<ImgConvertCommand>("convert")
            .WithDescription("Copy a disk into a new image of another format (sparse; -c compresses qcow2).")
            .WithExample("img", "convert", "-O", "qcow2", "-c", "disk.raw", "disk.qcow2");
        img.AddCommand<ImgCheckCommand>("check")
            .WithDescription("Check (-r leaks|all: repair) a qcow2 image's metadata (exit 0 clean, 2 corruptions, 3 leaked clusters).")
            .WithExample("img", "check", "-r", "leaks", "disk.qcow2");
        img.AddCommand<ImgSnapshotCommand>("snapshot")
            .WithDescription("List, create, apply or delete a qcow2 image's internal snapshots.")
            .WithExample("img", "snapshot", "-c", "before-upgrade", "disk.qcow2")
            .WithExample("img", "snapshot", "-l", "disk.qcow2");
        img.AddCommand<ImgResizeCommand>("resize")
            .WithDescription("Change an image's virtual size (shrinking needs --shrink).")
            .WithExample("img", "resize", "disk.qcow2", "+10G");
        img.AddCommand<ImgRebaseCommand>("rebase")
            .WithDescription("Point a qcow2 image at another backing file, keeping its content (-u: header only).")
            .WithExample("img", "rebase", "-b", "base2.qcow2", "-F", "qcow2", "overlay.qcow2");
        img.AddCommand<ImgCommitCommand>("commit")
            .WithDescription("Write a qcow2 overlay's changes into its backing file and empty the overlay.");
        img.AddCommand<ImgCompareCommand>("compare")
            .WithDescription("Compare two images' contents (exit 0 identical, 1 different, 2 error).");
        img.AddCommand<ImgMapCommand>("map")
            .WithDescription("Show where each range of the disk is stored through the backing chain.")
            .WithExample("img", "map", "--output", "json", "overlay.qcow2");
    });
    config.AddBranch("images", images =>
    {
        images.SetDescription("The guest kit: Debian riscv64 kernel, firmware and initramfs.");
        images.AddCommand<ImagesPullCommand>("pull")
            .WithDescription("Fetch and build the guest kit (Debian trixie riscv64) into the cache.");
        images.AddCommand<ImagesListCommand>("list")
            .WithDescription("Show the cached guest kits.");
        images.AddCommand<ImagesBuildRootfsCommand>("build-rootfs")
            .WithDescription("Build an ext4 root disk with the guest kit's busybox userland.");
    });
    config.AddBranch("bench", bench =>
    {
        bench.SetDescription("Measure Vessel's speed.");
        bench.SetDefaultCommand<BenchAllCommand>();
        bench.AddCommand<BenchAllCommand>("all")
            .WithDescription("Run the named suites (default: every suite) with the shared options; 'vessel bench A B' does the same.")
            .WithExample("bench", "cpu", "net", "--runs", "1");
        bench.AddCommand<BenchCpuCommand>("cpu")
            .WithDescription("Integer, memcpy, branchy and float kernels in the guest beside QEMU, as % of native; bare-metal MIPS.");
        bench.AddCommand<BenchBootCommand>("boot")
            .WithDescription("Boot time to guest ready and to power-off, 1 and 2 harts, side by side with QEMU.");
        bench.AddCommand<BenchNetCommand>("net")
            .WithDescription("TCP throughput guest to host (user NAT) and VM to VM (switch), side by side with QEMU.");
        bench.AddCommand<BenchDiskCommand>("disk")
            .WithDescription("Disk throughput inside the guest (raw and qcow2), side by side with QEMU.")
            .WithExample("bench", "disk", "--runs", "3");
        bench.AddCommand<BenchMemoryCommand>("memory")
            .WithDescription("Host RSS of an idle 512 MiB VM and of ten of them, side by side with QEMU.");
        bench.AddCommand<BenchSnapshotCommand>("snapshot")
            .WithDescription("Live snapshot, restore and restore-to-console times of a 512 MiB VM with a qcow2 disk, beside QEMU's savevm/loadvm.");
        bench.AddCommand<BenchDensityCommand>("density")
            .WithDescription("How many idle 128 MiB VMs this host runs (capped by count, time and free memory), and memory per VM.");
    });
});

// Spectre.Console.Cli reports bad flags as -1; Vessel's convention (like QEMU's tools) is status 2.
int status = app.Run(Vessel.Cli.Benchmarks.BenchCommandLine.Normalize(args));
return status == -1 ? 2 : status;
