#!/bin/sh
# scripts/build-and-sign, the pipeline CI users run, on wg-mesh-ipv6 (the
# README's default): compose, build on the Debian base, sign, verify, boot
# under TCG and run every selftest (WireGuard up with its address,
# rendezvous running), one exit status. Then an image whose selftest fails:
# the pipeline and isim-build --test say so with status 1.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

image_tests
json() { jq -r "$1" "$T/out"; }
isim-sign keygen -W -o "$T/ci.key" >/dev/null

p=wg-mesh-ipv6
expect 0 "build-and-sign $p: built, signed, verified, booted, every selftest passed" \
	scripts/build-and-sign "$p" --base debian:bookworm -k "$T/ci.key" -o "$T/w"
same "it prints one verdict" true "$(json .ok)"
same "... naming the signer" "$(jq -r .key_id "$T/w/$p.verify.json")" "$(json .signer)"
same "... and the image's digest" "$(sha256sum <"$T/w/$p.qcow2" | cut -d' ' -f1)" "$(json .sha256)"
r=$T/w/$p.test.json
for t in vpn-wireguard/test_wireguard rendezvous-ipv6/test_rendezvous base-minimal/test_base base-minimal/test_inputs; do
	same "selftest $t passed in the guest" true \
		"$(jq -r --arg t "$t" '.report.selftests[] | select("\(.feature)/\(.name)" == $t) | .ok' "$r")"
done
same "the guest's WireGuard interface came up with the test address" true \
	"$(jq -r '[.report.selftests[].tests[] | select(.description | test("has this node.s address 10.100.0.2/16"))] | .[0].ok' "$r")"
expect 0 "the test result's DSSE envelope verifies" isim-verify dsse --pub "$T/ci.key.pub" "$T/w/$p.selftest.dsse.json"
same "... and holds the test result" "$(jq -cS . "$T/w/$p.selftest.json")" "$(jq -cS . "$T/out")"

# A selftest that fails: the same image with one check that cannot hold.
cp -r features "$T/features"
cat >"$T/features/base-minimal/selftest/test_inputs.sh" <<'TEST'
#!/bin/sh
echo "ok 1 - this one holds"
if [ -e /nonexistent/on/purpose ]; then echo "ok 2 - an impossible file"; else echo "not ok 2 - an impossible file"; fi
echo "1..2"
exit 1
TEST
isim-compose -q --features-dir "$T/features" -o "$T/bad" no-vpn-minimal
expect 0 "an image with a failing selftest still builds" \
	isim-build --base debian:bookworm --features-dir "$T/features" -q -o "$T/f" "$T/bad"
expect 1 "isim-build --test exits 1 when a selftest fails" isim-build --test "$T/f/no-vpn-minimal.qcow2"
same "... the result says not passed" false "$(json .passed)"
same "... naming the failed test" "not ok: an impossible file" \
	"$(json '.report.selftests[] | select(.name == "test_inputs") | .tests[] | select(.ok == false) | "not ok: \(.description)"')"
same "... and the guest's status" 1 "$(json .report.status)"
same "the test-result statement says FAILED, naming the selftest" "FAILED base-minimal/test_inputs" \
	"$(jq -r '"\(.predicate.result) \(.predicate.failedTests | join(","))"' "$T/f/no-vpn-minimal.selftest.json")"
contains "... and stderr says so" "$T/err" "a selftest failed"

finish
