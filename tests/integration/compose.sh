#!/bin/sh
# isim-compose against the real catalog: all six profiles compose, their
# outputs match their manifest, the manifest matches its schema (checked by
# an independent validator), the firewall is accepted by the real nft, and
# the output is byte-identical whatever the working directory or run.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

PROFILES="no-vpn-minimal wg-mesh-ipv6 ts-managed dual-vpn-separated wg-bonjour ts-mtls"
V="/usr/bin/python3 $ISIM_ROOT/tests/integration/validate.py"
cd "$ISIM_ROOT" || exit 70

# Every catalog file validates against its schema, independently of us.
# shellcheck disable=SC2086
check "features validate against feature.schema.json (python3-jsonschema)" \
	$V schemas/feature.schema.json features/*/feature.yaml
# shellcheck disable=SC2086
check "profiles validate against profile.schema.json (python3-jsonschema)" \
	$V schemas/profile.schema.json profiles/*.yaml

# Guest scripts: selftests and scripts installed by features parse as POSIX
# sh (dash, Debian's /bin/sh) and are executable.
for f in features/*/selftest/*.sh $(grep -l '^#!' features/*/files/*); do
	check "$f parses as POSIX sh" dash -n "$f"
	check "$f is executable" test -x "$f"
done

for p in $PROFILES; do
	out=$T/a/$p
	expect 0 "$p: composes" isim-compose -o "$out" "$p"
	[ -f "$out/manifest.json" ] || continue
	same "$p: stdout is the manifest written" "$(cat "$out/manifest.json")" "$(cat "$T/out")"
	# shellcheck disable=SC2086
	check "$p: manifest.json matches manifest.schema.json (python3-jsonschema)" \
		$V schemas/manifest.schema.json "$out/manifest.json"
	for f in packages.txt files.txt firewall.nft selftests.txt; do
		same "$p: manifest records the SHA-256 of $f" \
			"$(jq -r --arg f "$f" '.outputs[$f]' "$out/manifest.json")" \
			"$(sha256sum <"$out/$f" | cut -d' ' -f1)"
	done
	# files.txt names sources that exist with the digest it records.
	bad=$(while read -r mode sum dest src; do
		[ "$(sha256sum <"features/$src" | cut -d' ' -f1)" = "$sum" ] || echo "$src"
		case $mode in 0[0-7][0-7][0-7]) ;; *) echo "mode $mode" ;; esac
		case $dest in /*) ;; *) echo "dest $dest" ;; esac
	done <"$out/files.txt")
	same "$p: files.txt sources exist with their recorded SHA-256" "" "$bad"
	same "$p: packages.txt is sorted and unique" "$(sort -u "$out/packages.txt")" "$(cat "$out/packages.txt")"
	same "$p: every selftest listed is installed by files.txt" "" \
		"$(while read -r _ _ path; do grep -q " $path " "$out/files.txt" || echo "$path"; done <"$out/selftests.txt")"
	same "$p: manifest names the profile's base" "$(sed -n 's/^base: *//p' "profiles/$p.yaml")" \
		"$(jq -r .base "$out/manifest.json")"
	if need_root && command -v nft >/dev/null; then
		check "$p: nft -c -f accepts firewall.nft (in a new network namespace)" \
			unshare -n nft -c -f "$out/firewall.nft"
	else
		skip "$p: nft -c -f accepts firewall.nft" "needs root and nftables"
	fi
	# Determinism: another run, another working directory, absolute paths.
	(cd "$T" && isim-compose -q --features-dir "$ISIM_ROOT/features" --profiles-dir "$ISIM_ROOT/profiles" \
		--schemas-dir "$ISIM_ROOT/schemas" -o "$T/b/$p" "$ISIM_ROOT/profiles/$p.yaml")
	check "$p: a second run from elsewhere is byte-identical" diff -r "$out" "$T/b/$p"
done

expect 0 "--list prints the catalog" isim-compose --list
same "--list names the seven features" 7 "$(jq '.features | length' "$T/out")"
same "--list names the six profiles" 6 "$(jq '.profiles | length' "$T/out")"

expect 0 "--validate-only succeeds" isim-compose --validate-only -o "$T/none" wg-mesh-ipv6
same "--validate-only writes nothing" no "$( [ -e "$T/none" ] && echo yes || echo no)"
contains "--validate-only still prints the manifest" "$T/out" '"name":	"wg-mesh-ipv6"'

# The default output folder is build/PROFILE under the working directory.
mkdir -p "$T/cwd"
(cd "$T/cwd" && isim-compose -q --features-dir "$ISIM_ROOT/features" --profiles-dir "$ISIM_ROOT/profiles" \
	--schemas-dir "$ISIM_ROOT/schemas" no-vpn-minimal)
check "default output is build/PROFILE" test -f "$T/cwd/build/no-vpn-minimal/manifest.json"

# Replacing an earlier output is atomic: afterwards only the new files.
echo stale >"$T/cwd/build/no-vpn-minimal/stale"
(cd "$T/cwd" && isim-compose -q --features-dir "$ISIM_ROOT/features" --profiles-dir "$ISIM_ROOT/profiles" \
	--schemas-dir "$ISIM_ROOT/schemas" no-vpn-minimal)
same "a new composition replaces the older folder whole" \
	"files.txt firewall.nft manifest.json packages.txt selftests.txt" \
	"$(cd "$T/cwd/build/no-vpn-minimal" && echo *)"

# -o onto a folder isim-compose did not make: refused, its files intact.
mkdir -p "$T/mine/sub"
echo precious >"$T/mine/notes.txt"
echo kept >"$T/mine/sub/data"
sum=$(cd "$T/mine" && find . -type f | sort | xargs cat | sha256sum)
expect 73 "-o onto a foreign, non-empty folder is refused" isim-compose -q -o "$T/mine" no-vpn-minimal
contains "... naming the folder and why" "$T/err" \
	"$T/mine: folder exists, is not empty and was not made by isim-compose"
same "... its files intact" "$sum" "$(cd "$T/mine" && find . -type f | sort | xargs cat | sha256sum)"
same "... and nothing added to it" "notes.txt sub" "$(cd "$T/mine" && echo *)"
mkdir "$T/empty"
expect 0 "-o onto an empty folder is allowed" isim-compose -q -o "$T/empty" no-vpn-minimal
check "... and the folder holds the composition" test -f "$T/empty/manifest.json"
check "... with the mark of an isim-compose folder" test -f "$T/empty/.isim-compose"

# The seed's command keeps working.
expect 0 "scripts/compose-profile.sh wg-mesh-ipv6 --validate-only" \
	"$ISIM_ROOT/scripts/compose-profile.sh" wg-mesh-ipv6 --validate-only
expect 65 "isim-compose refuses a profile naming an unknown feature" \
	isim-compose -n --profiles-dir "$T" "$( printf 'name: x\nversion: 1.0.0\nbase: alpine:3.19\nfeatures: [vpn-wireguad]\n' >"$T/x.yaml"; echo "$T/x.yaml")"
contains "... and says which feature, where, and what is known" "$T/err" \
	"x.yaml:4:12: /features/0: feature 'vpn-wireguad' is not defined (known: base-minimal,"

expect 66 "a missing features folder is missing input" isim-compose -n --features-dir "$T/nosuch" no-vpn-minimal
contains "... naming it, and what points elsewhere" "$T/err" \
	"isim-compose: features folder $T/nosuch does not exist (set --features-dir or ISIM_FEATURES_DIR)"
expect 66 "... also when ISIM_FEATURES_DIR names it" env ISIM_FEATURES_DIR="$T/nosuch" isim-compose -n no-vpn-minimal
expect 66 "a missing profiles folder, for --list" env ISIM_PROFILES_DIR="$T/nosuch" isim-compose --list
contains "... named" "$T/err" \
	"isim-compose: profiles folder $T/nosuch does not exist (set --profiles-dir or ISIM_PROFILES_DIR)"
expect 66 "isim-build: a missing bases folder is missing input" isim-build --bases-dir "$T/nosuch" build/no-vpn-minimal
contains "... named" "$T/err" \
	"isim-build: bases folder $T/nosuch does not exist (set --bases-dir or ISIM_BASES_DIR)"
mkdir -p "$T/elsewhere/features/base-minimal"
printf 'name: base-minimal\n' >"$T/elsewhere/features/base-minimal/feature.yaml"
compose_in() { (cd "$1" && shift && isim-compose "$@"); } # DIR args...
expect 0 "a features/ folder where isim-compose runs is not its catalog" \
	compose_in "$T/elsewhere" -n no-vpn-minimal

expect 64 "usage error without a profile" isim-compose
expect 0 "--help" isim-compose --help
contains "--help names --validate-only" "$T/out" "--validate-only"
expect 0 "--version" isim-compose --version

finish
