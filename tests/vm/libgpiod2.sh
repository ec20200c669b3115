#!/bin/bash
# libgpiod 2.x for the GPIO shim's second backend (drivers/gpio_v2.c). Debian 12 ships
# only 1.6, so this fetches libgpiod-dev and libgpiod3 from Debian 13 (trixie) with a
# private apt configuration (the machine's sources stay as they are), unpacks them
# into a cache folder and writes a libgpiod.pc pointing there. Prints the folder to
# put in PKG_CONFIG_PATH as its last line. The library runs on Debian 12's glibc.
#   PKG_CONFIG_PATH=$(tests/vm/libgpiod2.sh | tail -1) cmake -S . -B build-gpiod2
# The cache ($GS_GPIOD2_CACHE, default ~/.cache/gatescreen-libgpiod2) is outside /tmp on purpose: the test VM mounts a tmpfs there, and the
# binaries find the library through its absolute path (RPATH).
set -euo pipefail
SUITE=${GS_GPIOD2_SUITE:-trixie}
dir=${GS_GPIOD2_CACHE:-$HOME/.cache/gatescreen-libgpiod2}/$SUITE
case "$dir" in
    /tmp/*) echo "libgpiod2.sh: $dir is under /tmp, which the test VM hides; use another GS_GPIOD2_CACHE" >&2
            exit 1 ;;
esac
mkdir -p "$(dirname "$dir")"
if [ -f "$dir/complete" ]; then
    echo "libgpiod2.sh: reusing $dir ($(cat "$dir/complete"))" >&2
    echo "$dir/pkgconfig"
    exit 0
fi
tmp=$(mktemp -d "${dir}.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/apt/lists/partial" "$tmp/debs" "$tmp/pkgconfig"
echo "deb http://deb.debian.org/debian $SUITE main" > "$tmp/apt/sources.list"
apt_opts=(-o "Dir::Etc::sourcelist=$tmp/apt/sources.list" -o "Dir::Etc::sourceparts=/nonexistent"
          -o "Dir::State::lists=$tmp/apt/lists" -o "APT::Sandbox::User=root")
echo "libgpiod2.sh: fetching libgpiod 2.x from Debian $SUITE" >&2
for attempt in 1 2 3; do
    apt-get "${apt_opts[@]}" update -qq >&2 && break
    [ "$attempt" = 3 ] && { echo "libgpiod2.sh: apt-get update failed" >&2; exit 1; }
    sleep 5
done
(cd "$tmp/debs" && apt-get "${apt_opts[@]}" download -q libgpiod-dev libgpiod3 >&2)
for deb in "$tmp"/debs/*.deb; do dpkg-deb -x "$deb" "$tmp/root"; done
version=$(dpkg-deb -f "$tmp"/debs/libgpiod3_*.deb Version)
rm -rf "$dir.new"
mv "$tmp/root" "$dir.new"
mkdir -p "$dir.new/pkgconfig"
pc=$(find "$dir.new" -name libgpiod.pc | head -1)
[ -n "$pc" ] || { echo "libgpiod2.sh: no libgpiod.pc in the packages" >&2; exit 1; }
sed "s|^prefix=.*|prefix=$dir/usr|" "$pc" > "$dir.new/pkgconfig/libgpiod.pc"
echo "libgpiod $version from Debian $SUITE, $(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$dir.new/complete"
rm -rf "$dir"
mv "$dir.new" "$dir"
echo "libgpiod2.sh: ready in $dir" >&2
echo "$dir/pkgconfig"
