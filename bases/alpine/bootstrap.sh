#!/bin/sh
# bootstrap.sh MIRROR VERSION OUT.tar INSTALLED.tsv REPO CUSTOMIZE PKG...:
# isim-build's bootstrap of an Alpine root file system, the seed's base.
#
#  1. MIRROR/vVERSION/releases/x86_64/latest-releases.yaml names the
#     minirootfs tarball and its SHA-256; the tarball is fetched and
#     refused unless it has that digest.
#  2. It is unpacked; /etc/apk/repositories names MIRROR's main and
#     community for VERSION (and REPO when not empty).
#  3. apk.static (from PATH, else the apk-tools-static package of MIRROR's
#     main) adds PKG... into the tree, checking every package's signature
#     against the keys the minirootfs carries in /etc/apk/keys.
#  4. CUSTOMIZE (when not empty) runs on the tree; the tree is packed into
#     OUT.tar (sorted, times clamped to SOURCE_DATE_EPOCH, numeric owners)
#     and INSTALLED.tsv lists NAME, VERSION, ARCH and the SHA-256 of each
#     .apk installed.
#
# MIRROR is a URL (fetched with curl or wget) or a local folder. With
# ISIM_BOOTSTRAP_PLAN=FILE the repositories and the apk command line are
# written to FILE before apk runs. Exit status: 0 done, 65 a digest or
# release file is wrong, 69 the mirror or a program is unavailable, 70
# anything else.
set -eu

prog=bootstrap.sh
[ $# -ge 6 ] || {
	echo "usage: $prog MIRROR VERSION OUT.tar INSTALLED.tsv REPO CUSTOMIZE PKG..." >&2
	exit 64
}
mirror=${1%/}
version=$2
out=$3
installed=$4
repo=$5
customize=$6
shift 6
arch=x86_64
: "${SOURCE_DATE_EPOCH:=0}"

die() { # status message
	echo "$prog: $2" >&2
	exit "$1"
}

work=$(mktemp -d "${TMPDIR:-/tmp}/isim-alpine.XXXXXX") || die 70 "cannot make a working folder"
trap 'rm -rf "$work"' EXIT INT TERM

# fetch URL-or-path FILE: a copy of what the mirror has there.
fetch() {
	case $mirror in
	/*)
		[ -f "$1" ] || die 69 "mirror $mirror is unreachable: $1: no such file"
		cp "$1" "$2"
		;;
	*)
		if command -v curl >/dev/null 2>&1; then
			curl -fsSL --retry 2 --connect-timeout 10 -o "$2" "$1" 2>"$work/fetch.err" ||
				die 69 "mirror $mirror is unreachable: cannot download $1: $(tail -n1 "$work/fetch.err")"
		elif command -v wget >/dev/null 2>&1; then
			wget -q -T 10 -t 2 -O "$2" "$1" 2>"$work/fetch.err" ||
				die 69 "mirror $mirror is unreachable: cannot download $1"
		else
			die 69 "neither curl nor wget is installed to reach $mirror"
		fi
		;;
	esac
}

sha256() { sha256sum "$1" | cut -d' ' -f1; }

# 1. The release file: a YAML list of {flavor, file, sha256, ...}.
rel=$mirror/v$version/releases/$arch
fetch "$rel/latest-releases.yaml" "$work/releases.yaml"
entry=$(awk '
/^-/ { if (flavor == "alpine-minirootfs" && file != "") { print file, sum; exit } flavor = ""; file = ""; sum = "" }
{ sub(/^- /, "  ") }
/^  flavor:/ { flavor = $2 }
/^  file:/ { file = $2 }
/^  sha256:/ { sum = $2 }
END { if (flavor == "alpine-minirootfs" && file != "") print file, sum }' "$work/releases.yaml" | head -n1)
file=${entry% *}
want=${entry#* }
case $file in
alpine-minirootfs-*-"$arch".tar.gz) ;;
*) die 65 "$rel/latest-releases.yaml: no alpine-minirootfs release for $arch" ;;
esac
case $want in
[0-9a-f]*) [ ${#want} -eq 64 ] || die 65 "$rel/latest-releases.yaml: '$want' is not a SHA-256" ;;
*) die 65 "$rel/latest-releases.yaml: no SHA-256 for $file" ;;
esac
fetch "$rel/$file" "$work/minirootfs.tar.gz"
got=$(sha256 "$work/minirootfs.tar.gz")
[ "$got" = "$want" ] || die 65 "$rel/$file: SHA-256 is $got, the release file says $want"

# 2. The tree and its repositories.
root=$work/root
mkdir "$root"
tar -xzpf "$work/minirootfs.tar.gz" -C "$root" || die 70 "cannot unpack $file"
[ -d "$root/etc/apk/keys" ] || die 65 "$file has no /etc/apk/keys to check packages with"
{
	echo "$mirror/v$version/main"
	echo "$mirror/v$version/community"
	[ -z "$repo" ] || echo "$repo"
} >"$root/etc/apk/repositories"

# 3. apk.static
apk=$(command -v apk.static 2>/dev/null || command -v apk 2>/dev/null || true)
if [ -n "${ISIM_BOOTSTRAP_PLAN:-}" ]; then
	{
		echo "minirootfs $file $want"
		sed 's/^/repository /' "$root/etc/apk/repositories"
		echo "apk ${apk:-apk.static} --root ROOT --keys-dir ROOT/etc/apk/keys --cache-dir CACHE --update-cache add $*"
	} >"$ISIM_BOOTSTRAP_PLAN"
fi
if [ -z "$apk" ]; then
	fetch "$mirror/v$version/main/$arch/APKINDEX.tar.gz" "$work/APKINDEX.tar.gz"
	tar -xzf "$work/APKINDEX.tar.gz" -C "$work" APKINDEX 2>/dev/null ||
		die 65 "$mirror/v$version/main/$arch/APKINDEX.tar.gz: not an APK index"
	v=$(awk '/^P:/ { p = substr($0, 3) } /^V:/ { if (p == "apk-tools-static") print substr($0, 3) }' "$work/APKINDEX" | head -n1)
	[ -n "$v" ] || die 69 "apk.static is not installed and $mirror has no apk-tools-static"
	fetch "$mirror/v$version/main/$arch/apk-tools-static-$v.apk" "$work/apk-tools-static.apk"
	mkdir "$work/apk"
	tar -xzf "$work/apk-tools-static.apk" -C "$work/apk" sbin/apk.static 2>/dev/null ||
		die 65 "apk-tools-static-$v.apk holds no sbin/apk.static"
	apk=$work/apk/sbin/apk.static
fi
mkdir "$work/cache"
"$apk" --root "$root" --keys-dir "$root/etc/apk/keys" --cache-dir "$work/cache" --update-cache \
	--quiet add "$@" || die 70 "apk could not add the packages"

# 4. customize, pack, list.
[ -z "$customize" ] || sh "$customize" "$root" || die 70 "$customize failed"
tar --sort=name --mtime="@$SOURCE_DATE_EPOCH" --clamp-mtime --numeric-owner --xattrs \
	-C "$root" -cf "$out" . || die 74 "cannot write $out"
awk -v cache="$work/cache" '
/^P:/ { p = substr($0, 3) } /^V:/ { v = substr($0, 3) } /^A:/ { a = substr($0, 3) }
/^$/ { if (p != "") print p, v, a; p = "" }
END { if (p != "") print p, v, a }' "$root/lib/apk/db/installed" | while read -r p v a; do
	f=$(find "$work/cache" -name "$p-$v.*.apk" | head -n1)
	[ -n "$f" ] || f=$(find "$work/cache" -name "$p-$v.apk" | head -n1)
	[ -n "$f" ] || die 70 "no .apk of $p $v in the cache"
	printf '%s\t%s\t%s\t%s\n' "$p" "$v" "$a" "$(sha256 "$f")"
done >"$installed"
