#!/bin/sh
# /init of the GPIO test VM (busybox sh, PID 1). Put into the per-run overlay by
# tests/vm/vm.py. Mounts the usual file systems, loads configfs + irq_sim + gpio-sim,
# brings lo up, runs /gs/job.sh, prints "GS-VM-EXIT <rc>" and powers off.
# Kernel messages (quiet: errors only) share the console with the job's output.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb LANG=C.UTF-8

die() {
    echo "GS-VM-INIT-FAILED: $*"
    echo "GS-VM-EXIT 125"
    poweroff -f
    sleep 10
}

mount -t devtmpfs devtmpfs /dev || die "mount devtmpfs"
# The overlay holds /dev/console, so the kernel opened it already; this is a fallback.
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc || die "mount proc"
mount -t sysfs sysfs /sys || die "mount sysfs"
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=1777 tmpfs /tmp || die "mount /tmp"
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr

while read -r ko; do
    [ -n "$ko" ] || continue
    insmod "/modules/$ko" || die "insmod $ko"
done < /modules/load-order
mount -t configfs configfs /sys/kernel/config || die "mount configfs"
[ -d /sys/kernel/config/gpio-sim ] || die "no /sys/kernel/config/gpio-sim after loading gpio-sim"

hostname gsvm
ip link set lo up || die "ip link set lo up"

[ -f /gs/env ] && . /gs/env
echo "GS-VM-START $(date -u +%Y-%m-%dT%H:%M:%SZ) uptime=$(cut -d' ' -f1 /proc/uptime)s"
cd /root
sh /gs/job.sh </dev/null
rc=$?
echo "GS-VM-EXIT $rc"
sync
poweroff -f
sleep 10
