#!/bin/sh
# The Alpine base, offline: this machine cannot reach Alpine's mirror, so
# what can be checked without it is: an unreachable mirror is "unavailable"
# (69) and says which; a local mirror's release file and minirootfs digest
# are checked (a forged tarball is refused, 65); the repositories and the
# apk command the bootstrap would run name the mirror, the version and the
# profile's packages; a mirror without apk-tools-static is 69 naming it.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

: "${ISIM_CACHE_DIR:=$T/cache}"
SOURCE_DATE_EPOCH=1700000000
export ISIM_CACHE_DIR SOURCE_DATE_EPOCH
cd "$ISIM_ROOT" || exit 70
p=no-vpn-minimal
isim-compose -q -o "$T/comp" "$p"
empty() { [ -z "$(ls -A "$1" 2>/dev/null)" ]; }

expect 69 "an unreachable Alpine mirror is 'unavailable'" \
	isim-build --mirror http://127.0.0.1:9/alpine -o "$T/o1" "$T/comp"
contains "... naming the mirror and what it fetched" "$T/err" \
	"mirror http://127.0.0.1:9/alpine is unreachable: cannot download http://127.0.0.1:9/alpine/v3.19/releases/x86_64/latest-releases.yaml"
same "... leaving no file" yes "$(empty "$T/o1" && echo yes)"

# A local mirror holding a minirootfs and its release file.
m=$T/mirror
rel=$m/v3.19/releases/x86_64
mkdir -p "$rel" "$T/mini/etc/apk/keys"
echo 'ID=alpine' >"$T/mini/etc/os-release"
echo 'a key' >"$T/mini/etc/apk/keys/alpine-devel.rsa.pub"
tar -czf "$rel/alpine-minirootfs-3.19.1-x86_64.tar.gz" -C "$T/mini" .
release() { # SHA256
	cat >"$rel/latest-releases.yaml" <<REL
---
-
  title: "Netboot"
  flavor: alpine-netboot
  file: alpine-netboot-3.19.1-x86_64.tar.gz
  sha256: 0000000000000000000000000000000000000000000000000000000000000000
-
  title: "Mini root filesystem"
  flavor: alpine-minirootfs
  file: alpine-minirootfs-3.19.1-x86_64.tar.gz
  sha256: $1
REL
}
release 1111111111111111111111111111111111111111111111111111111111111111
expect 65 "a minirootfs whose digest is not the release file's is refused" \
	isim-build --mirror "$m" -o "$T/o2" "$T/comp"
contains "... saying both digests" "$T/err" "SHA-256 is $(sha256sum <"$rel/alpine-minirootfs-3.19.1-x86_64.tar.gz" | cut -d' ' -f1), the release file says 1111"
same "... leaving no file" yes "$(empty "$T/o2" && echo yes)"

release "$(sha256sum <"$rel/alpine-minirootfs-3.19.1-x86_64.tar.gz" | cut -d' ' -f1)"
# No apk on this machine: the bootstrap looks for apk-tools-static in the mirror.
expect 69 "a mirror without apk-tools-static is 'unavailable'" \
	env ISIM_BOOTSTRAP_PLAN="$T/plan" isim-build --mirror "$m" -o "$T/o3" "$T/comp"
contains "... naming what is missing" "$T/err" "APKINDEX.tar.gz"
contains "the bootstrap checked the minirootfs it names" "$T/plan" \
	"minirootfs alpine-minirootfs-3.19.1-x86_64.tar.gz $(sha256sum <"$rel/alpine-minirootfs-3.19.1-x86_64.tar.gz" | cut -d' ' -f1)"
contains "its repositories are the mirror's main for 3.19" "$T/plan" "repository $m/v3.19/main"
contains "... and community" "$T/plan" "repository $m/v3.19/community"
contains "apk checks packages against the minirootfs's keys" "$T/plan" "--keys-dir ROOT/etc/apk/keys"
for pkg in $(cat "$T/comp/packages.txt") linux-virt busybox-static; do
	same "apk would add $pkg" yes "$(grep '^apk ' "$T/plan" | tr ' ' '\n' | grep -qx "$pkg" && echo yes)"
done
same "... leaving no file" yes "$(empty "$T/o3" && echo yes)"

finish
