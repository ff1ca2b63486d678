#!/bin/sh
# isim-build's bad input and faults: each gets one clear message, the
# documented exit status, and leaves no partial file in the output folder
# and no temporary folder behind. Real parts: the Debian base (built once
# into the cache), a full tmpfs, a SIGTERM in the middle of a build, a
# mirror that does not answer.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

image_tests
p=no-vpn-minimal
isim-compose -q -o "$T/comp" "$p"
# empty DIR: nothing at all was left there
empty() { [ -z "$(ls -A "$1" 2>/dev/null)" ]; }

# ---- usage (64) -------------------------------------------------------------
expect 64 "no argument is a usage error" isim-build
expect 64 "an unknown option is a usage error" isim-build --frobnicate "$T/comp"
expect 64 "a malformed --size is refused" isim-build --size 12Q "$T/comp"
contains "... naming the option and value" "$T/err" "isim-build: --size: '12Q' is not a size"
expect 64 "--base given twice is refused" isim-build --base debian:bookworm --base debian:bookworm "$T/comp"
expect 64 "--password-fd without --sign-key is refused" isim-build --password-fd 3 "$T/comp"

# ---- bad input (65, 66) -----------------------------------------------------
expect 65 "an unknown base is refused" isim-build --base plan9:4 -o "$T/o1" "$T/comp"
contains "... saying it is not defined" "$T/err" "base 'plan9' is not defined"
expect 65 "an unsupported version is refused" isim-build --base debian:sid -o "$T/o1" "$T/comp"
contains "... naming the known ones" "$T/err" "base 'debian:sid' is not supported (known: debian:bookworm)"
expect 65 "a base without a version is refused" isim-build --base debian -o "$T/o1" "$T/comp"
contains "... saying what is expected" "$T/err" "is not NAME:VERSION"
same "... and nothing was written" yes "$(empty "$T/o1" && echo yes)"

isim-compose -q -o "$T/ts" ts-managed
expect 65 "a package the base lacks stops the build" isim-build --base debian:bookworm -o "$T/o2" "$T/ts"
contains "... naming the package, its feature and the base" "$T/err" \
	"package 'tailscale' of feature 'vpn-tailscale' has no equivalent in debian:bookworm's archive"
contains "... and how to go on" "$T/err" "--repo"
same "... leaving no file" yes "$(empty "$T/o2" && echo yes)"

cp -r "$T/comp" "$T/changed"
echo '# changed' >>"$T/changed/firewall.nft"
expect 65 "a composed folder changed since compose is refused" isim-build --base debian:bookworm -o "$T/o3" "$T/changed"
contains "... naming the file" "$T/err" "$T/changed/firewall.nft: changed since it was composed"

cp -r features "$T/features"
isim-compose -q --features-dir "$T/features" -o "$T/comp2" "$p"
echo '# changed' >>"$T/features/base-minimal/files/sysctl.conf"
expect 65 "a feature file changed since compose is refused" \
	isim-build --base debian:bookworm --features-dir "$T/features" -o "$T/o4" "$T/comp2"
contains "... naming it" "$T/err" "$T/features/base-minimal/files/sysctl.conf: changed since it was composed"
same "... leaving no file and no working folder" yes "$(empty "$T/o4" && echo yes)"

expect 66 "a folder without a manifest is refused" isim-build --base debian:bookworm -o "$T/o5" "$T"
contains "... saying so" "$T/err" "not a folder isim-compose wrote"
expect 66 "a missing signing key is refused before any work" isim-build -k "$T/nokey" -o "$T/o5" "$T/comp"
contains "... naming it" "$T/err" "$T/nokey"
isim-sign keygen -W -o "$T/k" >/dev/null
chmod 644 "$T/k"
expect 77 "a world-readable secret key is refused" isim-build -k "$T/k" -o "$T/o5" "$T/comp"
same "... leaving no file" yes "$(empty "$T/o5" && echo yes)"

expect 65 "too small a disk size is refused" isim-build --base debian:bookworm --size 64M -o "$T/o6" "$T/comp"
contains "... saying what it needs" "$T/err" "--size 64 MiB is too small: the image needs at least"
same "... leaving no file and no working folder" yes "$(empty "$T/o6" && echo yes)"

# ---- the mirror (69) --------------------------------------------------------
# Port 9 (discard) on loopback: nothing listens, the connection is refused.
expect 69 "an unreachable mirror is 'unavailable'" \
	isim-build --base debian:bookworm --mirror http://127.0.0.1:9/debian -o "$T/o7" "$T/comp"
contains "... naming the mirror" "$T/err" "mirror http://127.0.0.1:9/debian is unreachable"
same "... leaving no file" yes "$(empty "$T/o7" && echo yes)"

# ---- a full disk (74) -------------------------------------------------------
mkdir "$T/full"
if mount -t tmpfs -o size=200m isim-test "$T/full" 2>/dev/null; then
	expect 74 "a full output disk is an I/O error" isim-build --base debian:bookworm -o "$T/full/out" "$T/comp"
	contains "... saying the space ran out" "$T/err" "no space left"
	same "... leaving no file and no working folder" yes "$(empty "$T/full/out" && echo yes)"
	umount "$T/full"
else
	skip "a full output disk is an I/O error" "cannot mount a tmpfs here"
fi

# ---- interrupted (143) ------------------------------------------------------
isim-build --base debian:bookworm -q -o "$T/o8" "$T/comp" >"$T/out" 2>"$T/err" &
pid=$!
i=0
while [ $i -lt 100 ] && [ -z "$(find "$T/o8" -maxdepth 2 -name root 2>/dev/null)" ]; do
	sleep 0.1
	i=$((i + 1))
done
sleep 2
kill -TERM "$pid"
wait "$pid"
same "SIGTERM stops a build with status 143" 143 "$?"
contains "... saying so" "$T/err" "interrupted by signal 15"
same "... leaving no file and no working folder" yes "$(empty "$T/o8" && echo yes)"
same "... and no process of it" "" "$(pgrep -f "$T/o8" || true)"

# ---- --test ------------------------------------------------------------------
: >"$T/fake.qcow2"
expect 66 "--test of an image without a provenance statement is refused" isim-build --test "$T/fake.qcow2"
contains "... naming the statement it looked for" "$T/err" "$T/fake.provenance.json"
echo '{"_type": "x"}' >"$T/fake.provenance.json"
expect 65 "--test with a statement isim-build did not write is refused" isim-build --test "$T/fake.qcow2"
contains "... naming what is missing" "$T/err" "expected the composed manifest"

finish
