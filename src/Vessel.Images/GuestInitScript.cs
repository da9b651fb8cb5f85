namespace Vessel.Images;

/// <summary>
/// The shell scripts and configuration files of the guest initramfs, run by busybox ash: <c>/init</c> (PID 1),
/// <c>/etc/profile</c> and the udhcpc(8) event script.
/// </summary>
public static class GuestInitScript
{
    /// <summary>
    /// Shell function <c>vessel_param NAME</c>: prints the value of NAME=… from <c>$cmdline</c> (the kernel command
    /// line), which may be quoted with '…' or "…"; fails when NAME= is absent.
    /// </summary>
    public const string ParameterFunction = """
        vessel_param() {
            case " $cmdline " in
                *" $1="*) ;;
                *) return 1 ;;
            esac
            _v=" $cmdline"
            _v=${_v#*" $1="}
            case $_v in
                \'*) _v=${_v#\'}; _v=${_v%%\'*} ;;
                \"*) _v=${_v#\"}; _v=${_v%%\"*} ;;
                *) _v=${_v%%[[:space:]]*} ;;
            esac
            printf '%s\n' "$_v"
        }
        """;

    /// <summary>
    /// Shell function <c>vessel_identity ETC</c>: writes ETC/hostname from vessel.hostname= (an RFC 1123 §2.1 label)
    /// and ETC/machine-id from vessel.machine_id= (machine-id(5): 32 lower-case hex digits); an invalid or absent
    /// value leaves the file as it is, so a guest without them keeps the kit's "vessel" and has no machine id.
    /// </summary>
    public const string IdentityFunction = """
        vessel_identity() {
            if _h=$(vessel_param vessel.hostname); then
                case $_h in
                    '' | -* | *- | *[!a-z0-9-]*) echo "vessel: ignoring invalid vessel.hostname=$_h" ;;
                    *) if [ ${#_h} -le 63 ]; then
                           echo "$_h" >"$1/hostname"
                       else
                           echo "vessel: ignoring invalid vessel.hostname=$_h"
                       fi ;;
                esac
            fi
            if _m=$(vessel_param vessel.machine_id); then
                case $_m in
                    *[!0-9a-f]*) echo "vessel: ignoring invalid vessel.machine_id=$_m" ;;
                    *) if [ ${#_m} -eq 32 ]; then
                           echo "$_m" >"$1/machine-id"
                       else
                           echo "vessel: ignoring invalid vessel.machine_id=$_m"
                       fi ;;
                esac
            fi
        }
        """;

    /// <summary>The <c>/init</c> script; <c>/lib/modules/$(uname -r)/vessel.modules</c> lists the modules to load, in order.</summary>
    public const string Init = """
        #!/bin/sh
        # /init of the Vessel guest kit: PID 1 of the initramfs (busybox ash).
        # Kernel command line options:
        #   vessel.init=CMD    run CMD (quote it with '...' or "..." if it has spaces) before the interactive shell
        #   vessel.poweroff=1  power off once vessel.init's command has finished
        #   vessel.dhcp=1      configure eth0 by DHCP (udhcpc, in the background)
        #   vessel.hostname=H  the guest's hostname (default: vessel, from /etc/hostname)
        #   vessel.machine_id=X  /etc/machine-id (32 hex digits; absent: none is written)
        #   vessel.agent=1     serve the guest agent ('vessel vm exec') on /dev/hvc0; off by default so that
        #                      a plain 'vessel run --virtio-console' leaves the port to the guest's own programs
        #   root=DEV [rw] [rootfstype=T] [init=PATH]  mount DEV and switch_root to it (its /sbin/init runs
        #                      instead of the shell below; vessel.init is then ignored)
        export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root TERM="${TERM:-linux}"
        umask 022

        mount -t proc -o nosuid,nodev,noexec proc /proc
        mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
        # Debian's kernel has CONFIG_DEVTMPFS_MOUNT off, so /dev is mounted here.
        mount -t devtmpfs -o nosuid,mode=0755 devtmpfs /dev || echo "vessel: could not mount devtmpfs on /dev"
        mkdir -p /dev/pts /dev/shm
        mount -t devpts -o nosuid,noexec,mode=0620,ptmxmode=0666 devpts /dev/pts
        mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /dev/shm
        mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /tmp
        ln -sf /proc/self/fd /dev/fd
        ln -sf /proc/self/fd/0 /dev/stdin
        ln -sf /proc/self/fd/1 /dev/stdout
        ln -sf /proc/self/fd/2 /dev/stderr
        /bin/busybox --install -s 2>/dev/null
        hwclock -s -u 2>/dev/null

        cmdline=$(cat /proc/cmdline)
        @PARAMETER_FUNCTION@
        @IDENTITY_FUNCTION@

        vessel_identity /etc
        hostname -F /etc/hostname

        kver=$(uname -r)
        if [ -f "/lib/modules/$kver/vessel.modules" ]; then
            while read -r module; do
                case $module in '' | '#'*) continue ;; esac
                insmod "/lib/modules/$kver/$module" 2>/dev/null || echo "vessel: module ${module##*/} not loaded"
            done <"/lib/modules/$kver/vessel.modules"
        fi

        ip link set lo up
        if [ -d /sys/class/net/eth0 ]; then
            ip link set eth0 up
            if [ "$(vessel_param vessel.dhcp)" = 1 ]; then
                udhcpc -i eth0 -b -s /usr/share/udhcpc/default.script
            fi
        fi

        # root=DEVICE (with rw, rootfstype=, init=): move /dev, /proc and /sys onto that disk and switch to it.
        if root=$(vessel_param root); then
            mode=ro
            case " $cmdline " in *" rw "*) mode=rw ;; esac
            fstype=$(vessel_param rootfstype) || fstype=auto
            tries=0
            while [ ! -b "$root" ] && [ "$tries" -lt 50 ]; do
                sleep 0.1
                tries=$((tries + 1))
            done
            mkdir -p /newroot
            if mount -t "$fstype" -o "$mode" "$root" /newroot; then
                echo "vessel: switching to root=$root ($mode)"
                umount /tmp 2>/dev/null
                for fs in dev proc sys; do
                    mkdir -p "/newroot/$fs"
                    mount -o move "/$fs" "/newroot/$fs"
                done
                exec switch_root /newroot "$(vessel_param init || echo /sbin/init)"
            fi
            echo "vessel: could not mount root=$root; staying in the initramfs"
        fi

        echo "Vessel guest ready: Linux $kver, $(nproc) CPU(s), up $(cut -d' ' -f1 /proc/uptime) s"

        if vessel_init=$(vessel_param vessel.init); then
            sh -c "$vessel_init"
            echo "vessel: vessel.init exited with status $?"
            if [ "$(vessel_param vessel.poweroff)" = 1 ]; then
                sync
                poweroff -f
            fi
        fi

        # The guest agent (vessel.agent=1) serves 'vessel vm exec' over the virtio-console port; busybox init restarts it.
        # The port's node appears while virtio_console probes, so wait briefly when the device is there.
        agent=$(vessel_param vessel.agent)
        if [ "$agent" = 1 ] && grep -qx 0x0003 /sys/bus/virtio/devices/*/device 2>/dev/null; then
            tries=0
            while [ ! -c /dev/hvc0 ] && [ "$tries" -lt 20 ]; do
                sleep 0.1
                tries=$((tries + 1))
            done
        fi
        if [ "$agent" = 1 ] && [ -c /dev/hvc0 ] && [ -x /sbin/vessel-agent ]; then
            echo "::respawn:/sbin/vessel-agent /dev/hvc0" >>/etc/inittab
        fi

        # busybox init(8) takes over as PID 1 and runs /etc/inittab: a login shell on the console, started again
        # whenever it exits, and a clean poweroff/reboot when busybox poweroff/reboot/halt signal it.
        exec /bin/busybox init
        """;

    /// <summary>
    /// <c>/etc/inittab</c> for busybox init: the console shell via cttyhack, which opens the real console device
    /// (e.g. ttyS0) so the shell gets a controlling terminal and job control (Ctrl-C, Ctrl-Z, fg/bg). A shell
    /// started in the background by a script could not do this: ash leaves SIGINT ignored in such children.
    /// </summary>
    public const string Inittab = """
        # busybox init: see the inittab example in busybox's examples/inittab.
        ::respawn:/bin/cttyhack /bin/sh -l
        ::ctrlaltdel:/bin/reboot
        ::shutdown:/bin/sync
        ::shutdown:/bin/umount -a -r 2>/dev/null

        """;

    /// <summary><c>/etc/profile</c>: PATH, and a prompt such as "~ # " (busybox ash expands \w and \$).</summary>
    public const string Profile = """
        export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root
        export PS1='\w \$ '
        cd "$HOME" 2>/dev/null
        alias ll='ls -l'

        """;

    /// <summary>
    /// The udhcpc(8) event script at busybox's default path: applies the lease's address ($ip/$mask), default route
    /// ($router) and name servers ($dns, $domain).
    /// </summary>
    public const string DhcpScript = """
        #!/bin/sh
        # udhcpc event script: $1 is deconfig, bound, renew or nak; the lease comes in environment variables.
        case "$1" in
            deconfig)
                ip -4 addr flush dev "$interface"
                ip link set "$interface" up
                ;;
            bound | renew)
                ip -4 addr flush dev "$interface"
                ip -4 addr add "$ip/${mask:-24}" dev "$interface"
                if [ -n "$router" ]; then
                    ip route replace default via "${router%% *}" dev "$interface"
                fi
                : >/etc/resolv.conf
                [ -n "$domain" ] && echo "search $domain" >>/etc/resolv.conf
                for server in $dns; do
                    echo "nameserver $server" >>/etc/resolv.conf
                done
                ;;
        esac
        exit 0

        """;

    /// <summary>The /init text with the parameter function spliced in, ending in a newline.</summary>
    public static string BuildInit() => Init
        .Replace("@PARAMETER_FUNCTION@", ParameterFunction, StringComparison.Ordinal)
        .Replace("@IDENTITY_FUNCTION@", IdentityFunction, StringComparison.Ordinal) + "\n";
}
