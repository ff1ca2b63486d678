#!/bin/sh
# Install every Debian package infrasim needs to build, test and run its
# tests against real parts. Idempotent: packages already present are skipped,
# and apt is touched only when something is missing.
set -eu

PACKAGES="
build-essential pkg-config clang llvm libclang-rt-14-dev
libcjson-dev libyaml-dev libsodium-dev libssl-dev libsqlite3-dev
libmnl-dev libarchive-dev libcbor-dev libcmocka-dev libpcre2-dev libqrencode-dev libfcgi-dev
jq nftables iproute2 wireguard-go wireguard-tools iputils-ping sqlite3 mandoc shellcheck cppcheck clang-format hyperfine
python3 python3-yaml python3-jsonschema python3-cryptography python3-cbor2 python3-websocket chromium lighttpd knot knot-dnsutils bind9-dnsutils minisign busybox openssl socat
mmdebstrap debian-archive-keyring ca-certificates qemu-system-x86 qemu-utils
syslinux syslinux-common mtools e2fsprogs fdisk xz-utils curl file
pigz golang-go golang-github-hashicorp-hcl-v2-dev
"
# Node and npm run s3rver (from the npm registry) for the console's hook
# tests; Debian's only where there is no npm, so that a NodeSource nodejs
# (which carries npm) is not replaced.
command -v npm >/dev/null || PACKAGES="$PACKAGES nodejs npm"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing Debian packages:$missing" >&2
	echo "install-deps: run this script as root (or: sudo apt-get install$missing)" >&2
	exit 77
fi

echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# Several builds may start at once; wait for apt's lock rather than fail.
apt-get -o DPkg::Lock::Timeout=900 update -qq >&2
# shellcheck disable=SC2086
apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends $missing >&2
