#!/bin/sh
# isim-compose: each profile against `jq .` over the manifest it produces
# (what a user would otherwise script with); then generated catalogs of 250,
# 500 and 1,000 features to show the growth is linear.
set -eu
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
C=$ISIM_BIN/isim-compose
cd "$ISIM_ROOT"

echo "profile                 compose ms   jq . ms   ratio (target <= 3x for wg-mesh-ipv6)"
for p in no-vpn-minimal wg-mesh-ipv6 ts-managed dual-vpn-separated wg-bonjour ts-mtls; do
	"$C" -q -o "$B/out/$p" "$p"
	c=$(median_ms "compose-$p" "$C" -q -o "$B/out/$p" "$p")
	j=$(median_ms "jq-$p" jq . "$B/out/$p/manifest.json")
	printf '%-22s %9.2f %9.2f %7sx\n' "$p" "$c" "$j" "$(ratio "$c" "$j")"
done

# A generated catalog: feature gN requires g(N-1), each with a package, a
# file, a firewall fragment, a selftest and a config schema; the profile
# names the last one, so all N are resolved, merged and validated.
gen() { # N DIR
	n=$1
	d=$2
	rm -rf "$d"
	mkdir -p "$d/features" "$d/profiles"
	i=0
	while [ "$i" -lt "$n" ]; do
		f=$d/features/g$i
		mkdir -p "$f/files" "$f/selftest"
		req=""
		[ "$i" -gt 0 ] && req="requires: [g$((i - 1))]"
		cat >"$f/feature.yaml" <<YAML
name: g$i
version: 1.0.0
description: generated feature $i
$req
packages: [pkg-$i, common]
files:
  - source: files/conf
    destination: /etc/g$i.conf
    mode: "0644"
firewall_fragment:
  input: |
    tcp dport \$g${i}_port accept
selftest: [test_g$i]
config_schema:
  type: object
  additionalProperties: false
  properties:
    port: {type: integer, minimum: 1, maximum: 65535, default: $((i % 60000 + 1024))}
YAML
		echo "conf $i" >"$f/files/conf"
		printf '#!/bin/sh\necho 1..1\necho ok 1\n' >"$f/selftest/test_g$i.sh"
		i=$((i + 1))
	done
	printf 'name: gen\nversion: 1.0.0\nbase: alpine:3.19\nfeatures: [g%d]\n' $((n - 1)) >"$d/profiles/gen.yaml"
}

echo
echo "features   compose ms   ms per feature"
for n in 250 500 1000; do
	gen "$n" "$B/cat$n"
	c=$(median_ms "compose-gen$n" "$C" -q --features-dir "$B/cat$n/features" \
		--profiles-dir "$B/cat$n/profiles" -o "$B/out/gen$n" gen)
	printf '%8d %12.2f %16.4f\n' "$n" "$c" "$(awk -v c="$c" -v n="$n" 'BEGIN { print c / n }')"
done
rm -rf "$B/out" "$B"/cat*
