"""The text files inside hotstack's guest image: its /init, its DHCP hook and the boot menu.

All pure functions, so tests can read what the guest will do without booting it. The guest
prints fixed `HOTSTACK-*` lines on its serial console (nova's console log reads that port):

  HOTSTACK-MODULES <loaded...>      the kernel modules insmod accepted, in load order
  HOTSTACK-IP <addr>/<prefix> ...   from the DHCP hook, each time a lease is bound or renewed
  HOTSTACK-BOOT bios|uefi <serial> <disk>
                                    how it booted: the firmware, the volume serial of the FAT its
                                    loader read (FSUUID= on the command line: SYSLINUX appends it,
                                    the UEFI entry carries it) and the disk holding that FAT
                                    (`unknown` when none is found) — a rescue boot from a disk with
                                    another serial shows here
  HOTSTACK-DISKS vda vdb            the block devices, at boot and again whenever the set changes
  HOTSTACK-GUEST-READY              booted, network tried (lease or not); printed once
  HOTSTACK-ALIVE <boot id> <uptime s>
                                    every 10 s: the kernel's boot id and seconds since boot, so a
                                    console that starts afresh (nova keeps one log per host: a
                                    live migration's destination) still shows it is the same,
                                    unrebooted guest
  HOTSTACK-METADATA ok <uuid>       the metadata service answered (or `failed` after retries)
  HOTSTACK-USER-DATA <sha256> <first line>
                                    the server's user data as the guest read it, when it has any
  HOTSTACK-REACH ping|tcp ok|failed <addr> ...
                                    only when the server's user data is `#hotstack-reach ADDR PORT`:
                                    whether the guest reached ADDR by ping (up to 30 tries, about
                                    a minute: the peer may still boot; `try N` says which answered)
                                    and TCP PORT (the line that answered), to prove guests get
                                    beyond the host

It also answers TCP on port 22 (the port the default security group opens) with one line,
`HOTSTACK-TCP hotstack-guest`, so the host can prove TCP reaches the guest through its
floating IP (no sshd: the line is all a client gets).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from hotstack.core.fsutil import sha256

MARKER = "HOTSTACK-GUEST-READY"
HEARTBEAT = "HOTSTACK-ALIVE"
UDHCPC_SCRIPT = "/etc/udhcpc.script"
MODULE_DIR = "/lib/modules"
METADATA_URL = "http://169.254.169.254/openstack/latest/meta_data.json"
USER_DATA_URL = "http://169.254.169.254/openstack/latest/user_data"
REACH = "#hotstack-reach"  # user data asking the guest to reach an address: `#hotstack-reach ADDR PORT`
TCP_PORT = 22
TCP_GREETING = "HOTSTACK-TCP hotstack-guest"
TCP_HELLO = "/bin/hotstack-hello"  # what the TCP listener runs for each connection
KERNEL_CMDLINE = "console=tty0 console=ttyS0,115200n8 panic=10 loglevel=4"

_INIT_HEAD = r"""#!/bin/sh
# hotstack guest init (PID 1): must never exit, or the kernel panics.
/bin/busybox --install -s
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /tmp /run /etc
hostname hotstack-guest
say() { echo "$*" > /dev/console; }
say ""  # end the line the kernel's terminal reset leaves open, so markers start lines
"""

_INIT_NET = r"""
ip link set lo up
n=0
while [ ! -e /sys/class/net/eth0 ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
if [ -e /sys/class/net/eth0 ]; then
    ip link set eth0 up
    udhcpc -i eth0 -s __SCRIPT__ -t 10 -T 2 -A 3 -b -O mtu -O staticroutes \
        -x hostname:hotstack-guest >/dev/null 2>&1
else
    say "HOTSTACK-IP none (no eth0)"
fi
"""

_INIT_TAIL = r"""
disks() {
    set --
    for d in /sys/block/*; do
        case "${d##*/}" in vd*|sd*|hd*|xvd*|nvme*) set -- "$@" "${d##*/}" ;; esac
    done
    echo "${*:-none}"
}

metadata() {
    tries=0
    while [ $tries -lt 20 ]; do
        # timeout(1), not wget -T: busybox 1.35's static wget crashes on -T when a connect fails
        if body=$(timeout 10 wget -q -O - __METADATA__ 2>/dev/null); then
            uuid=$(echo "$body" | sed -n 's/.*"uuid": *"\([^"]*\)".*/\1/p')
            say "HOTSTACK-METADATA ok ${uuid:-unknown}"
            reach
            return
        fi
        tries=$((tries + 1))
        sleep 3
    done
    say "HOTSTACK-METADATA failed"
}

reach() {
    # The user data as the guest got it (none: 404, nothing said): its hash and first line.
    timeout 10 wget -q -O /tmp/user-data __USER_DATA__ 2>/dev/null || return 0
    say "HOTSTACK-USER-DATA $(sha256sum /tmp/user-data | cut -d ' ' -f 1) $(head -n 1 /tmp/user-data)"
    set -- $(head -n 1 /tmp/user-data)
    [ "$1" = "__REACH__" ] && [ -n "$2" ] && [ -n "$3" ] || return 0
    # The peer may still be booting: one ping every 2-3 s for up to 30 tries.
    n=0 got=failed
    while [ $n -lt 30 ]; do
        n=$((n + 1))
        if ping -c 1 -W 2 "$2" >/dev/null 2>&1; then got=ok; break; fi
        sleep 1
    done
    say "HOTSTACK-REACH ping $got $2 try $n"
    if line=$(echo hotstack | timeout 10 nc "$2" "$3" 2>/dev/null | head -n 1) && [ -n "$line" ]; then
        say "HOTSTACK-REACH tcp ok $2:$3 $line"
    else
        say "HOTSTACK-REACH tcp failed $2:$3"
    fi
}

boot_line() {
    [ -d /sys/firmware/efi ] && firmware=uefi || firmware=bios
    serial=$(sed -n 's/.*FSUUID=\([^ ]*\).*/\1/p' /proc/cmdline)
    disk=$(findfs "UUID=$serial" 2>/dev/null)
    disk=${disk#/dev/}
    echo "$firmware ${serial:-unknown} ${disk:-unknown}"
}

power_button() {
    # Any event from an ACPI power button (libvirt's clean shutdown) powers the guest off.
    for dev in /sys/class/input/event*; do
        grep -q "Power Button" "$dev/device/name" 2>/dev/null || continue
        (
            if dd if="/dev/input/${dev##*/}" of=/dev/null bs=24 count=1 2>/dev/null; then
                say "HOTSTACK-POWEROFF"
                sync
                poweroff -f
            fi
        ) &
    done
}

say "HOTSTACK-BOOT $(boot_line)"
seen=$(disks)
say "HOTSTACK-DISKS $seen"
say "__MARKER__"
nc -ll -p __TCP_PORT__ -e __HELLO__ >/dev/null 2>&1 &
metadata &
power_button
boot_id=$(cat /proc/sys/kernel/random/boot_id)
tick=0
while true; do
    sleep 2
    now=$(disks)
    if [ "$now" != "$seen" ]; then
        say "HOTSTACK-DISKS $now"
        seen=$now
    fi
    tick=$((tick + 1))
    if [ $((tick % 5)) -eq 0 ]; then
        read -r up _ < /proc/uptime
        say "__HEARTBEAT__ $boot_id ${up%.*}"
    fi
done
"""

_UDHCPC = r"""#!/bin/sh
# udhcpc hook: $1 is the event; udhcpc passes the lease in the environment.
# (The two paths can be moved so tests can run this hook on a host with a fake `ip`.)
console=${HOTSTACK_CONSOLE:-/dev/console}
resolv=${HOTSTACK_RESOLV:-/etc/resolv.conf}
say() { echo "$*" > "$console"; }

routes() {
    if [ -n "$staticroutes" ]; then
        set -- $staticroutes
        while [ $# -ge 2 ]; do
            if [ "$2" = "0.0.0.0" ]; then
                ip route replace "$1" dev "$interface"
            else
                ip route replace "$1" via "$2" dev "$interface"
            fi
            shift 2
        done
    elif [ -n "$router" ]; then
        set -- $router
        ip route replace default via "$1" dev "$interface"
    fi
}

case "$1" in
deconfig)
    ip -4 addr flush dev "$interface"
    ip link set "$interface" up
    ;;
bound|renew)
    if ! ip -4 addr show dev "$interface" | grep -q "inet $ip/$mask "; then
        ip -4 addr flush dev "$interface"
        ip addr add "$ip/$mask" broadcast "${broadcast:-+}" dev "$interface"
    fi
    [ -n "$mtu" ] && ip link set dev "$interface" mtu "$mtu"
    routes
    : > "$resolv"
    for server in $dns; do echo "nameserver $server" >> "$resolv"; done
    say "HOTSTACK-IP $ip/$mask router ${router:-none} mtu ${mtu:-default}"
    ;;
esac
exit 0
"""


def module_lines(modules: Sequence[str]) -> str:
    """Shell that insmods each module in the given (dependency) order and reports what loaded."""
    if not modules:
        return 'say "HOTSTACK-MODULES none needed"\n'
    names = " ".join(modules)
    return (
        "loaded=\n"
        f"for m in {names}; do\n"
        f'    insmod {MODULE_DIR}/$m.ko 2>/dev/null && loaded="$loaded $m"\n'
        "done\n"
        'say "HOTSTACK-MODULES${loaded:- none}"\n'
    )


def init_script(modules: Sequence[str]) -> str:
    """The guest's /init: mounts, modules in order, DHCP, disks, marker, TCP greeter, metadata,
    forever."""
    net = _INIT_NET.replace("__SCRIPT__", UDHCPC_SCRIPT)
    tail = (_INIT_TAIL.replace("__METADATA__", METADATA_URL).replace("__MARKER__", MARKER)
            .replace("__HEARTBEAT__", HEARTBEAT)
            .replace("__USER_DATA__", USER_DATA_URL).replace("__REACH__", REACH)
            .replace("__TCP_PORT__", str(TCP_PORT)).replace("__HELLO__", TCP_HELLO))
    return _INIT_HEAD + module_lines(modules) + net + tail


def hello_script() -> str:
    """Run per TCP connection: one greeting line on the connection (stdout), then close."""
    return f"#!/bin/sh\necho '{TCP_GREETING}'\n"


def udhcpc_script() -> str:
    """The DHCP hook: address, MTU, routes (classless static routes win over the router)."""
    return _UDHCPC


# SYSAPPEND bit 18: SYSLINUX appends FSUUID=<volume serial of the FAT it booted from>.
SYSAPPEND_FSUUID = 0x40000


def syslinux_cfg(kernel: str, initrd: str) -> str:
    """Boot straight into the kernel, no menu, no wait."""
    return (
        "DEFAULT hotstack\n"
        "PROMPT 0\n"
        "TIMEOUT 0\n"
        f"SYSAPPEND 0x{SYSAPPEND_FSUUID:x}\n"
        "LABEL hotstack\n"
        f"  KERNEL /{kernel}\n"
        f"  INITRD /{initrd}\n"
        f"  APPEND {KERNEL_CMDLINE}\n"
    )


def loader_conf() -> str:
    """systemd-boot (the UEFI side): the one entry, no menu, no wait."""
    return "default hotstack.conf\ntimeout 0\n"


def boot_entry(kernel: str, initrd: str, volume_id: str) -> str:
    """systemd-boot's entry: the same kernel, initramfs and command line as syslinux.cfg, with
    the FSUUID that SYSLINUX would append (systemd-boot appends none)."""
    return (f"title hotstack guest\nlinux /{kernel}\ninitrd /{initrd}\n"
            f"options {KERNEL_CMDLINE} FSUUID={volume_id}\n")


def recipe_digest() -> str:
    """What the guest's own files say (not the kernel's modules): changes when hotstack's guest does."""
    return sha256("\n".join((init_script(()), hello_script(), udhcpc_script(), syslinux_cfg("k", "i"), loader_conf(),
                             boot_entry("k", "i", "0000-0000"))))


def heartbeats(console: str) -> list[tuple[str, int]]:
    """The heartbeat lines on a console, in order: (boot id, uptime s)."""
    return [(boot, int(up)) for boot, up in re.findall(rf"^{HEARTBEAT} ([0-9a-f-]{{36}}) (\d+)\s*$", console, re.M)]
