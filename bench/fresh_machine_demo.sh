#!/usr/bin/env bash
# How README's figure for the quick start was measured: a fresh Debian 12 (debootstrap bookworm
# into a folder), a clean clone of this repository, then `scripts/demo.sh` inside it under
# chroot, timed from start to end (apt, data, build, composing and harmonizing). Needs root, and
# the data mirror (BACHGEN_DATA_MIRROR, default ../shared/data). Leaves the folder for a look;
# remove it with: umount FOLDER/{proc,dev,data} && rm -rf FOLDER.
#   bench/fresh_machine_demo.sh [FOLDER]   (default /tmp/bachgen-fresh)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${1:-/tmp/bachgen-fresh}"
mirror="${BACHGEN_DATA_MIRROR:-$(cd "$root/.." && pwd)/shared/data}"
command -v debootstrap >/dev/null || apt-get install -y -q debootstrap
if [ ! -x "$target/bin/bash" ]; then
  debootstrap --variant=minbase bookworm "$target" http://deb.debian.org/debian >/dev/null
fi
cp /etc/apt/sources.list.d/debian.sources "$target/etc/apt/sources.list.d/" 2>/dev/null || true
cp /etc/resolv.conf "$target/etc/resolv.conf"
mkdir -p "$target/proc" "$target/dev" "$target/data"
mountpoint -q "$target/proc" || mount -t proc proc "$target/proc"
mountpoint -q "$target/dev" || mount --bind /dev "$target/dev"
mountpoint -q "$target/data" || mount --bind -o ro "$mirror" "$target/data"
rm -rf "$target/root/bachgen"
git clone -q "$root" "$target/root/bachgen"
echo "fresh_machine_demo: $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
start=$(date +%s)
chroot "$target" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin BACHGEN_DATA_MIRROR=/data \
  bash /root/bachgen/scripts/demo.sh
end=$(date +%s)
echo "fresh_machine_demo: scripts/demo.sh took $(( (end - start) / 60 )) min $(( (end - start) % 60 )) s on a fresh Debian 12"
