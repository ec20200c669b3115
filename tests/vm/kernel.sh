#!/bin/bash
# Prepares (or reuses) what the GPIO VM tests boot: Debian's own kernel, the modules
# gpio-sim needs (configfs from the Debian image; irq_sim and gpio-sim built here
# from Debian's kernel source, because Debian does not enable them) and a base
# initramfs (busybox-static with its applets, the modules, the directory skeleton).
#
#   tests/vm/kernel.sh              prepare if needed; the cache dir is the last stdout line
#   tests/vm/kernel.sh --print-dir  same, but only the cache dir on stdout (progress on stderr)
#
# Cache: ${GS_VM_CACHE:-$HOME/.cache/gatescreen-vm}/<ABI>_<image version>/, e.g.
#   6.1.0-56-amd64_6.1.192-2/{vmlinuz,modules/*.ko,modules/load-order,base.cpio.gz,info,complete}
# The kernel is the one linux-image-amd64 depends on now; linux-source and
# linux-headers are taken at the same Debian version. A build happens in a temp dir
# next to the cache and is renamed into place only when complete.
#
# Environment:
#   GS_VM_CACHE       cache root (default $HOME/.cache/gatescreen-vm)
#   GS_VM_KERNEL_ABI  use this ABI (e.g. 6.1.0-56-amd64) instead of linux-image-amd64's
#   GS_VM_DEBS        a dir to look in first for the image/source .debs (exact file names)
#   GS_VM_REBUILD=1   rebuild even if the cache is complete
set -euo pipefail

# Bump when the cache layout or the base initramfs content changes: older caches rebuild.
LAYOUT=2

here=$(cd "$(dirname "$0")" && pwd)
print_dir_only=0
case "${1:-}" in
    --print-dir) print_dir_only=1 ;;
    "") ;;
    *) echo "usage: $0 [--print-dir]" >&2; exit 2 ;;
esac

log() {
    if [ "$print_dir_only" = 1 ]; then echo "kernel.sh: $*" >&2; else echo "kernel.sh: $*"; fi
}
die() { echo "kernel.sh: error: $*" >&2; exit 1; }

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive

apt_updated=0
apt_update() {
    [ "$apt_updated" = 1 ] && return 0
    log "apt-get update"
    $SUDO apt-get update -qq >&2
    apt_updated=1
}

# pkg_installed NAME [VERSION]
pkg_installed() {
    local st
    st=$(dpkg-query -W -f='${Status} ${Version}' "$1" 2>/dev/null) || return 1
    case "$st" in "install ok installed "*) ;; *) return 1 ;; esac
    [ -z "${2:-}" ] || [ "${st##* }" = "$2" ]
}

# available NAME[=VERSION]: apt knows it (needs current package lists)
available() {
    local name=${1%%=*} ver=""
    [ "$name" = "$1" ] || ver=${1#*=}
    if [ -z "$ver" ]; then
        apt-cache policy "$name" 2>/dev/null | grep -q 'Candidate: [^(]'
    else
        apt-cache madison "$name" 2>/dev/null | awk -F'|' '{gsub(/ /,"",$2); print $2}' | grep -qxF "$ver"
    fi
}

# install NAME[=VERSION]...: apt-get install those not installed (update lists only if needed)
install_pkgs() {
    local want=() p name ver
    for p in "$@"; do
        name=${p%%=*}; ver=""
        [ "$name" = "$p" ] || ver=${p#*=}
        pkg_installed "$name" "$ver" || want+=("$p")
    done
    [ "${#want[@]}" -eq 0 ] && return 0
    for p in "${want[@]}"; do available "$p" || { apt_update; break; }; done
    log "installing: ${want[*]}"
    $SUDO apt-get install -y -qq -o Dpkg::Use-Pty=0 --no-install-recommends "${want[@]}" >&2
}

# ---- which kernel -------------------------------------------------------------------
ABI=${GS_VM_KERNEL_ABI:-}
VERSION=""
if [ -z "$ABI" ]; then
    # One apt-cache call (each costs ~0.5 s): the metapackage's candidate depends on
    # "linux-image-ABI (= VERSION)".
    find_abi() {
        apt-cache show --no-all-versions linux-image-amd64 2>/dev/null |
            sed -n 's/^Depends:.*linux-image-\([0-9][^ ,]*\)\( (= \([^)]*\))\)\{0,1\}.*/\1 \3/p' | head -n 1
    }
    found=$(find_abi)
    if [ -z "$found" ]; then apt_update; found=$(find_abi); fi
    [ -n "$found" ] || die "cannot tell which kernel linux-image-amd64 depends on"
    ABI=${found%% *}
    VERSION=${found#* }
fi
image_pkg=linux-image-$ABI
find_version() { apt-cache policy "$image_pkg" 2>/dev/null | awk '$1 == "Candidate:" { print $2; exit }'; }
[ -n "$VERSION" ] || VERSION=$(find_version)
case "$VERSION" in ""|"(none)") apt_update; VERSION=$(find_version) ;; esac
case "$VERSION" in ""|"(none)") die "no candidate version for $image_pkg" ;; esac

key=${ABI}_${VERSION}
root=${GS_VM_CACHE:-$HOME/.cache/gatescreen-vm}
cache=$root/$key

cache_ok() {
    [ -f "$cache/complete" ] && [ "$(cat "$cache/complete")" = "layout=$LAYOUT" ] &&
        [ -s "$cache/vmlinuz" ] && [ -s "$cache/base.cpio.gz" ] && [ -s "$cache/modules/load-order" ]
}
finish() {
    if [ "$print_dir_only" = 1 ]; then echo "$cache"; else log "cache dir:"; echo "$cache"; fi
    exit 0
}

# Running the VM needs qemu even when the kernel is cached.
install_pkgs qemu-system-x86 busybox-static

if [ "${GS_VM_REBUILD:-0}" != 1 ] && cache_ok; then
    log "reusing $cache (kernel $ABI, Debian $VERSION, built $(sed -n 's/^built=//p' "$cache/info" 2>/dev/null))"
    finish
fi

mkdir -p "$root"
exec 9>"$root/.lock"
flock 9
# Someone else may have built it while we waited for the lock.
if [ "${GS_VM_REBUILD:-0}" != 1 ] && cache_ok; then
    log "reusing $cache (built by a concurrent run)"
    finish
fi

# Holding the lock, no other build runs: leftovers of interrupted ones can go.
rm -rf "$root"/.build-* "$root"/.old-*

t0=$(date +%s)
log "building $cache (kernel $ABI, Debian $VERSION)"

# ---- packages for the build ----------------------------------------------------------
# linux-source-M.m at the image's Debian version; headers must match the image exactly.
src_pkg=linux-source-$(echo "$ABI" | cut -d. -f1,2)
install_pkgs make gcc binutils "linux-headers-$ABI=$VERSION"
src_version=$VERSION
if ! available "$src_pkg=$VERSION"; then
    apt_update
    if ! available "$src_pkg=$VERSION"; then
        src_version=$(apt-cache policy "$src_pkg" | awk '$1 == "Candidate:" { print $2; exit }')
        case "$src_version" in ""|"(none)") die "$src_pkg is not available" ;; esac
        log "warning: $src_pkg=$VERSION is gone from the archive, using $src_version"
    fi
fi
headers=/usr/src/linux-headers-$ABI
[ -f "$headers/Makefile" ] || die "$headers missing after installing linux-headers-$ABI"

tmp=$(mktemp -d "$root/.build-$key.XXXXXX")
old=""
cleanup() { rm -rf "$tmp"; [ -z "$old" ] || rm -rf "$old"; }
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
chmod 755 "$tmp"

# ---- the .debs (never installed: only unpacked) ---------------------------------------
mkdir -p "$tmp/debs"
get_deb() {   # get_deb PACKAGE VERSION ARCH -> path on stdout
    local f="${1}_${2}_${3}.deb"
    if [ -n "${GS_VM_DEBS:-}" ] && [ -s "$GS_VM_DEBS/$f" ]; then
        echo "$GS_VM_DEBS/$f"; return 0
    fi
    log "apt-get download $1=$2" >&2
    (cd "$tmp/debs" && apt-get download -q -o APT::Sandbox::User=root "$1=$2" >&2)
    [ -s "$tmp/debs/$f" ] || die "apt-get download $1=$2 did not produce $f"
    echo "$tmp/debs/$f"
}
image_deb=$(get_deb "$image_pkg" "$VERSION" amd64)
src_deb=$(get_deb "$src_pkg" "$src_version" all)

log "unpacking $(basename "$image_deb")"
dpkg-deb -x "$image_deb" "$tmp/image"
kmods=$tmp/image/lib/modules/$ABI
[ -s "$tmp/image/boot/vmlinuz-$ABI" ] || die "no vmlinuz in $image_deb"

# ---- irq_sim + gpio-sim as out-of-tree modules ----------------------------------------
log "extracting gpio-sim and irq_sim sources from $(basename "$src_deb")"
srcdir=${src_pkg}
want_src="$srcdir/drivers/gpio/gpio-sim.c $srcdir/drivers/gpio/gpiolib.h $srcdir/kernel/irq/irq_sim.c"
mkdir -p "$tmp/src"
# The .deb holds usr/src/linux-source-M.m.tar.xz; stream it, keep only those files.
# shellcheck disable=SC2086
dpkg-deb --fsys-tarfile "$src_deb" | tar -xO "./usr/src/$src_pkg.tar.xz" |
    tar -xJ -C "$tmp/src" $want_src
mod=$tmp/mod
mkdir -p "$mod"
cp "$tmp/src/$srcdir/drivers/gpio/gpio-sim.c" "$tmp/src/$srcdir/drivers/gpio/gpiolib.h" \
   "$tmp/src/$srcdir/kernel/irq/irq_sim.c" "$mod/"
# Anything else gpio-sim.c includes with quotes must be local too.
for inc in $(sed -n 's/^#include "\(.*\)"/\1/p' "$mod/gpio-sim.c"); do
    [ -f "$mod/$inc" ] || die "gpio-sim.c includes \"$inc\", which is not extracted"
done

# irq_sim.c is built into the kernel upstream, so it may use irq_to_desc(), which is
# not exported to modules. generic_handle_irq(irq) does the same here (it looks the
# descriptor up and calls its flow handler, handle_simple_irq, set by
# irq_sim_domain_map) and is exported. It also lacks a MODULE_LICENSE (needed for
# the GPL-only symbols it uses).
sed -i 's/handle_simple_irq(irq_to_desc(\([a-z_]*\)));/generic_handle_irq(\1);/' "$mod/irq_sim.c"
if grep -q 'irq_to_desc' "$mod/irq_sim.c"; then
    die "irq_sim.c still calls irq_to_desc (the source changed): update the patch in $0"
fi
grep -q 'generic_handle_irq(' "$mod/irq_sim.c" || die "irq_sim.c patch did not apply"
printf '\n#include <linux/module.h>\nMODULE_LICENSE("GPL");\nMODULE_DESCRIPTION("%s");\n' \
    "Interrupt simulator (irq_sim), built out of tree for the gatescreen VM tests" >> "$mod/irq_sim.c"
printf 'obj-m := irq_sim.o gpio-sim.o\n' > "$mod/Kbuild"
log "building irq_sim.ko and gpio-sim.ko against $headers"
if ! make -C "$headers" M="$mod" modules > "$tmp/make.log" 2>&1; then
    cat "$tmp/make.log" >&2
    die "building the modules failed"
fi

# ---- modules and their load order -----------------------------------------------------
out=$tmp/out
mkdir -p "$out/modules"
modinfo_field() {   # modinfo_field FILE.ko FIELD  (no kmod needed)
    objcopy -O binary --only-section=.modinfo "$1" /dev/stdout 2>/dev/null | tr '\0' '\n' |
        sed -n "s/^$2=//p"
}
vermagic=$(modinfo_field "$mod/gpio-sim.ko" vermagic)
case "$vermagic" in "$ABI "*) ;; *) die "gpio-sim.ko vermagic '$vermagic' is not $ABI" ;; esac

order=()
declare -A seen=()
find_module() {    # module name -> .ko path (ours first, then the image's)
    local glob f
    glob=$(echo "$1" | sed 's/[-_]/[-_]/g')
    for f in "$mod"/$glob.ko; do [ -f "$f" ] && { echo "$f"; return 0; }; done
    find "$kmods/kernel" \( -name "$glob.ko" -o -name "$glob.ko.xz" \) -print -quit
}
add_module() {     # depth-first: dependencies go first
    local name=$1 f dep
    name=${name//-/_}
    [ -n "${seen[$name]:-}" ] && return 0
    seen[$name]=1
    if grep -qE "/$(echo "$name" | sed 's/[-_]/[-_]/g')\.ko$" "$kmods/modules.builtin" 2>/dev/null; then
        return 0    # built into the kernel
    fi
    f=$(find_module "$name")
    [ -n "$f" ] || die "module $name not found (neither built here nor in $image_pkg)"
    local base
    base=$(basename "$f")
    case "$base" in
        *.ko.xz) busybox unxz -c "$f" > "$out/modules/${base%.xz}"; base=${base%.xz} ;;
        *) cp "$f" "$out/modules/$base" ;;
    esac
    for dep in $(modinfo_field "$out/modules/$base" depends | tr ',' ' '); do
        add_module "$dep"
    done
    order+=("$base")
}
add_module gpio_sim
printf '%s\n' "${order[@]}" > "$out/modules/load-order"
log "modules (load order): ${order[*]}"
cp "$tmp/image/boot/vmlinuz-$ABI" "$out/vmlinuz"

# ---- vmlinux for a PVH boot ---------------------------------------------------------
# Under TCG the bzImage spends ~3.5 s decompressing itself. The kernel has CONFIG_PVH,
# so qemu can boot the uncompressed ELF directly (-kernel vmlinux): extract it once.
# Optional: without it tests/vm/vm.py boots vmlinuz.
if python3 - "$out/vmlinuz" "$tmp/vmlinux" <<'PY'
import lzma, sys, zlib
data = open(sys.argv[1], "rb").read()
for magic, unpack in ((b"\xfd7zXZ\x00", lambda d: lzma.LZMADecompressor(lzma.FORMAT_XZ).decompress(d)),
                      (b"\x1f\x8b\x08", lambda d: zlib.decompressobj(31).decompress(d))):
    off = data.find(magic)
    while off >= 0:
        try:
            elf = unpack(data[off:])
        except Exception:
            elf = b""
        if elf[:4] == b"\x7fELF":
            open(sys.argv[2], "wb").write(elf)
            sys.exit(0)
        off = data.find(magic, off + 1)
sys.exit(1)
PY
then
    # XEN_ELFNOTE_PHYS32_ENTRY (0x12) marks the PVH entry point.
    if readelf -n "$tmp/vmlinux" 2>/dev/null | grep -q 'Xen.*(0x00000012)'; then
        mv "$tmp/vmlinux" "$out/vmlinux"
        log "extracted vmlinux (PVH entry found): qemu boots it without decompressing"
    else
        log "vmlinux has no PVH entry: booting vmlinuz"
    fi
else
    log "could not extract vmlinux from vmlinuz: booting vmlinuz"
fi

# ---- base initramfs -------------------------------------------------------------------
# /init, /dev/console and the job come from the per-run overlay (tests/vm/vm.py).
bb=/bin/busybox
pkg_installed busybox-static || die "busybox-static is not installed"
if readelf -l "$bb" 2>/dev/null | grep -q 'Requesting program interpreter'; then
    die "$bb is dynamically linked (busybox-static expected)"
fi
rootfs=$tmp/rootfs
for d in bin sbin usr/bin usr/sbin usr/lib lib lib64 etc dev proc sys tmp run root var/tmp \
         modules usr/share/zoneinfo gs; do
    mkdir -p "$rootfs/$d"
done
chmod 1777 "$rootfs/tmp" "$rootfs/var/tmp"
cp "$bb" "$rootfs/bin/busybox"
for applet in $("$bb" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"
done
cp "$out/modules/"* "$rootfs/modules/"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$rootfs/etc/group"
printf '127.0.0.1\tlocalhost gsvm\n::1\tlocalhost ip6-localhost\n' > "$rootfs/etc/hosts"
printf 'passwd: files\ngroup: files\nhosts: files\n' > "$rootfs/etc/nsswitch.conf"
echo gsvm > "$rootfs/etc/hostname"
(cd "$rootfs" && find . -mindepth 1 | LC_ALL=C sort |
    "$bb" cpio -o -H newc -R 0:0 2>/dev/null) | gzip -9 > "$out/base.cpio.gz"

secs=$(( $(date +%s) - t0 ))
{
    echo "abi=$ABI"
    echo "image=$image_pkg=$VERSION"
    echo "source=$src_pkg=$src_version"
    echo "headers=linux-headers-$ABI=$VERSION"
    echo "busybox=$(dpkg-query -W -f='${Version}' busybox-static)"
    echo "modules=${order[*]}"
    echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "build_seconds=$secs"
} > "$out/info"
echo "layout=$LAYOUT" > "$out/complete"

# Swap into place: the old cache (if any) is moved aside first, then removed.
if [ -e "$cache" ]; then
    old=$(mktemp -d "$root/.old-$key.XXXXXX")
    mv "$cache" "$old/"
fi
mv "$out" "$cache"
log "built $cache in ${secs}s"
finish
