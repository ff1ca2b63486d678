#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Make isim-passkey check-* inputs from the recorded ceremonies.

  passkey-case.py VECTOR.json            {"credential", "expect"} for the vector
  passkey-case.py --list                 NAME KIND REASON, one tampered case a line
  passkey-case.py --case NAME            that case's {"credential", "expect"}

Vectors are those of tests/vectors/webauthn (see its SOURCE.md). Each tampered
case changes one thing, in the bytes (re-encoded with cbor2 where the change
is to the structure, written by hand where it is to the encoding itself) or
in the expectations, and names the reason isim-passkey must give.
"""
import base64
import copy
import hashlib
import json
import os
import struct
import sys

import cbor2

ROOT = os.environ.get("ISIM_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
VEC = os.path.join(ROOT, "tests", "vectors", "webauthn")


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64e(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def load(rel):
    with open(os.path.join(VEC, rel)) as f:
        return json.load(f)


def doc_of(v):
    """The check-* input for a vector file (its expectations as JSON)."""
    if "credential" not in v:  # chromium/: the credential at the top
        return chromium_doc(v)
    e = {
        "challenge": v["expected_challenge_b64url"],
        "origins": v["expected_origin"],
        "rp_id": v["expected_rp_id"],
        "require_user_verification": v.get("require_user_verification", False),
        "allow_cross_origin": v.get("allow_cross_origin", False),
    }
    if v["kind"] == "registration":
        e["require_user_presence"] = v.get("require_user_presence", True)
        if v.get("supported_pub_key_algs"):
            e["algorithms"] = v["supported_pub_key_algs"]
        if v.get("pem_root_certs"):
            e["attestation_roots"] = v["pem_root_certs"]
        if v.get("attestation_verification_time"):
            e["attestation_time"] = v["attestation_verification_time"]
    else:
        e["public_key"] = v["credential_public_key_b64url"]
        e["sign_count"] = v.get("credential_current_sign_count", 0)
    if v.get("expected_top_origins"):
        e["top_origins"] = v["expected_top_origins"]
    return {"credential": copy.deepcopy(v["credential"]), "expect": e}


def chromium_doc(v):
    cred = {k: v[k] for k in ("id", "rawId", "type", "response", "authenticatorAttachment",
                              "clientExtensionResults") if k in v}
    o = v["options"]
    uv = o.get("userVerification") or o.get("authenticatorSelection", {}).get("userVerification")
    e = {"challenge": o["challenge"], "origins": v["origin"],
         "rp_id": o["rp"]["id"] if "rp" in o else o["rpId"],
         "require_user_verification": uv == "required"}
    if v["kind"] == "registration":
        e["algorithms"] = [p["alg"] for p in o["pubKeyCredParams"]]
    else:
        reg = load("chromium/registration-none-es256.json")
        e["public_key"] = stored_cose_key(reg)
        e["sign_count"] = 1
        e["credential_id"] = reg["rawId"]
    return {"credential": cred, "expect": e}


def stored_cose_key(reg):
    ad = cbor2.loads(b64d(reg["response"]["attestationObject"]))["authData"]
    return b64e(ad_parts(ad)["key"])


def ad_parts(ad):
    n = struct.unpack(">H", ad[53:55])[0]
    key_start = 55 + n
    # the key ends where cbor2 stops reading it
    dec = cbor2.CBORDecoder(__import__("io").BytesIO(ad[key_start:]))
    dec.decode()
    key_end = key_start + dec.fp.tell()
    return {"head": ad[:55], "cred_id": ad[55:key_start], "key": ad[key_start:key_end],
            "rest": ad[key_end:]}


# ---- tampering helpers ------------------------------------------------------------

def with_att(doc, f):
    r = doc["credential"]["response"]
    r["attestationObject"] = b64e(f(b64d(r["attestationObject"])))
    return doc


def with_att_map(doc, f):
    def g(raw):
        m = cbor2.loads(raw)
        f(m)
        return canonical(m)
    return with_att(doc, g)


def canonical(m):
    return cbor2.dumps(m, canonical=True)


def with_ad(doc, f):
    """Change the authenticator data inside the attestation object."""
    def g(m):
        m["authData"] = f(bytearray(m["authData"]))
    return with_att_map(doc, g)


def with_key(doc, f):
    def g(ad):
        p = ad_parts(bytes(ad))
        k = cbor2.loads(p["key"])
        k2 = f(k)
        key = k2 if isinstance(k2, bytes) else canonical(k)
        return p["head"] + p["cred_id"] + key + p["rest"]
    return with_ad(doc, g)


def with_cd(doc, f):
    r = doc["credential"]["response"]
    cd = json.loads(b64d(r["clientDataJSON"]))
    out = f(cd)
    r["clientDataJSON"] = b64e(out if isinstance(out, bytes) else json.dumps(cd).encode())
    return doc


def with_resp(doc, name, f):
    r = doc["credential"]["response"]
    r[name] = b64e(f(bytearray(b64d(r[name]))))
    return doc


def setf(d, k, v):
    d[k] = v
    return d


def flip(b, i):
    b[i] ^= 0x01
    return b


def set_flags(ad, clear=0, add=0):
    ad[32] = (ad[32] & ~clear) | add
    return ad


def new_id(doc, raw):
    doc["credential"]["id"] = doc["credential"]["rawId"] = b64e(raw)
    return doc


def hand_map(pairs):
    """A CBOR map written by hand, to get encodings cbor2 never makes."""
    return bytes([0xa0 + len(pairs)]) + b"".join(pairs)


def text(s):
    b = s.encode()
    return bytes([0x60 + len(b)]) + b


def att_pairs(raw):
    m = cbor2.loads(raw)
    return (text("fmt") + cbor2.dumps(m["fmt"]), text("attStmt") + canonical(m["attStmt"]),
            text("authData") + cbor2.dumps(m["authData"]))


def att_indefinite(raw):
    f, s, a = att_pairs(raw)
    return b"\xbf" + f + s + a + b"\xff"


def att_reordered(raw):
    f, s, a = att_pairs(raw)
    return hand_map([a, f, s])


def att_nonminimal(raw):
    f, s, a = att_pairs(raw)
    return hand_map([b"\x78\x03fmt" + f[4:], s, a])


def duplicate_label(k):
    """The map with kty (label 1) once more at its end."""
    b = canonical(k)
    return bytes([b[0] + 1]) + b[1:] + b"\x01\x02"


def assertion_with_at(doc):
    reg = load("chromium/registration-none-es256.json")
    ad = cbor2.loads(b64d(reg["response"]["attestationObject"]))["authData"]
    return with_resp(doc, "authenticatorData", lambda _: bytearray(ad))


NONE = "registration/gowebauthn-spec__NoneES256.json"
DIRECT = "chromium/registration-direct.json"
U2F = "registration/fido-u2f__test_verify_attestation_from_yubikey_firefox.json"
SELF = "registration/gowebauthn-spec__PackedSelfES256.json"
CHR_ASSERT = "chromium/assertion-es256.json"
SPEC_ASSERT = "authentication/gowebauthn-spec__NoneES256.json"
OKP_ASSERT = "authentication/auth__test_verify_authentication_response_with_OKP_public_key.json"
RSA_ASSERT = "authentication/auth__test_supports_already_parsed_credential.json"
SPEC_ROOT = "registration/gowebauthn-spec__PackedES256WithMDS.json"

E = lambda f: (lambda d: (f(d["expect"]), d)[1])  # noqa: E731

# name: (vector, reason, change)
CASES = {
    # the attestation object's CBOR
    "att-empty": (NONE, "malformed", lambda d: with_att(d, lambda b: b"")),
    "att-truncated": (NONE, "malformed", lambda d: with_att(d, lambda b: b[:-5])),
    "att-trailing-byte": (NONE, "malformed", lambda d: with_att(d, lambda b: b + b"\x00")),
    "att-indefinite-map": (NONE, "malformed", lambda d: with_att(d, att_indefinite)),
    "att-keys-out-of-order": (NONE, "malformed", lambda d: with_att(d, att_reordered)),
    "att-non-shortest-length": (NONE, "malformed", lambda d: with_att(d, att_nonminimal)),
    "att-not-a-map": (NONE, "malformed", lambda d: with_att(d, lambda b: cbor2.dumps([1, 2]))),
    "att-extra-key": (NONE, "malformed", lambda d: with_att_map(d, lambda m: setf(m, "x", 1))),
    "att-tagged": (NONE, "malformed", lambda d: with_att(d, lambda b: b"\xd8\x18" + b)),
    "att-oversized": (NONE, "malformed", lambda d: with_att_map(d, lambda m: setf(m["attStmt"], "x", b"\0" * 70000))),
    "att-unknown-format": (NONE, "attestation", lambda d: with_att_map(d, lambda m: setf(m, "fmt", "not_real"))),
    "att-none-with-statement": (NONE, "attestation", lambda d: with_att_map(d, lambda m: setf(m, "attStmt", {"alg": -7}))),
    # authenticator data
    "ad-user-presence-cleared": (NONE, "user_presence", lambda d: with_ad(d, lambda a: set_flags(a, clear=0x01))),
    "ad-rp-id-hash-changed": (NONE, "rp_id", lambda d: with_ad(d, lambda a: flip(a, 0))),
    "ad-trailing-byte": (NONE, "malformed", lambda d: with_ad(d, lambda a: a + b"\x00")),
    "ad-truncated": (NONE, "malformed", lambda d: with_ad(d, lambda a: a[:36])),
    "ad-no-attested-data": (NONE, "malformed", lambda d: with_ad(d, lambda a: set_flags(a, clear=0x40))),
    "ad-credential-id-length-too-big": (NONE, "malformed", lambda d: with_ad(d, lambda a: a[:53] + b"\xff\xff" + a[55:])),
    "ad-backed-up-not-eligible": (NONE, "malformed", lambda d: with_ad(d, lambda a: set_flags(a, clear=0x08, add=0x10))),
    "ad-extension-flag-without-extensions": (NONE, "malformed", lambda d: with_ad(d, lambda a: set_flags(a, add=0x80))),
    "ad-credential-id-not-rawid": (NONE, "malformed", lambda d: new_id(d, b"\x01" * 32)),
    # the COSE key
    "cose-wrong-curve": (NONE, "algorithm", lambda d: with_key(d, lambda k: setf(k, -1, 2))),
    "cose-ed25519-curve-on-ec2": (NONE, "algorithm", lambda d: with_key(d, lambda k: setf(k, -1, 6))),
    "cose-short-x": (NONE, "malformed", lambda d: with_key(d, lambda k: setf(k, -2, k[-2][1:]))),
    "cose-point-off-curve": (NONE, "malformed", lambda d: with_key(d, lambda k: setf(k, -3, bytes([k[-3][0] ^ 1]) + k[-3][1:]))),
    "cose-unsupported-alg": (NONE, "algorithm", lambda d: with_key(d, lambda k: setf(k, 3, -65535))),
    "cose-unknown-kty": (NONE, "algorithm", lambda d: with_key(d, lambda k: setf(k, 1, 4))),
    "cose-no-alg": (NONE, "malformed", lambda d: with_key(d, lambda k: k.pop(3) and None)),
    "cose-duplicate-label": (NONE, "malformed", lambda d: with_key(d, duplicate_label)),
    "cose-okp-alg-on-ec2": (NONE, "algorithm", lambda d: with_key(d, lambda k: setf(k, 3, -8))),
    # the JSON and clientDataJSON
    "json-id-not-rawid": (NONE, "malformed", lambda d: setf(d["credential"], "id", "AAAA") and d),
    "json-padded-base64url": (NONE, "malformed", lambda d: setf(d["credential"]["response"], "clientDataJSON", d["credential"]["response"]["clientDataJSON"] + "=") and d),
    "json-standard-base64": (U2F, "malformed", lambda d: setf(d["credential"]["response"], "attestationObject", base64.b64encode(b64d(d["credential"]["response"]["attestationObject"])).decode().rstrip("=")) and d),
    "json-type-not-public-key": (NONE, "type", lambda d: setf(d["credential"], "type", "password") and d),
    "json-no-response": (NONE, "malformed", lambda d: d["credential"].pop("response") and d),
    "cd-type-get": (NONE, "type", lambda d: with_cd(d, lambda c: setf(c, "type", "webauthn.get"))),
    "cd-not-json": (NONE, "malformed", lambda d: with_cd(d, lambda c: b"{not json")),
    "cd-duplicate-member": (NONE, "malformed", lambda d: with_cd(d, lambda c: json.dumps(c).encode()[:-1] + b',"type":"webauthn.create"}')),
    "cd-other-challenge": (NONE, "challenge", lambda d: with_cd(d, lambda c: setf(c, "challenge", b64e(b"\0" * 32)))),
    "cd-challenge-padded": (NONE, "malformed", lambda d: with_cd(d, lambda c: setf(c, "challenge", c["challenge"] + "="))),
    "cd-other-origin": (NONE, "origin", lambda d: with_cd(d, lambda c: setf(c, "origin", "https://evil.example"))),
    "cd-cross-origin": (NONE, "cross_origin", lambda d: with_cd(d, lambda c: setf(c, "crossOrigin", True))),
    "cd-top-origin": (NONE, "cross_origin", lambda d: with_cd(d, lambda c: setf(c, "topOrigin", "https://evil.example"))),
    "cd-token-binding-present": (NONE, "token_binding", lambda d: with_cd(d, lambda c: setf(c, "tokenBinding", {"status": "present", "id": "AAAA"}))),
    "cd-oversized": (NONE, "malformed", lambda d: with_cd(d, lambda c: setf(c, "pad", "x" * 70000))),
    # what the relying party expects
    "expect-other-challenge": (NONE, "challenge", E(lambda e: setf(e, "challenge", b64e(b"\1" * 32)))),
    "expect-other-origin": (NONE, "origin", E(lambda e: setf(e, "origins", ["https://example.com"]))),
    "expect-other-rp-id": (NONE, "rp_id", E(lambda e: setf(e, "rp_id", "example.com"))),
    "expect-uv-required": (NONE, "user_verification", E(lambda e: setf(e, "require_user_verification", True))),
    "expect-alg-not-offered": (NONE, "algorithm", E(lambda e: setf(e, "algorithms", [-8, -257]))),
    "expect-attestation-required-none": (NONE, "attestation", E(lambda e: setf(e, "require_attestation", True))),
    # packed and fido-u2f statements
    "packed-signature-changed": (DIRECT, "attestation", lambda d: with_att_map(d, lambda m: setf(m["attStmt"], "sig", m["attStmt"]["sig"][:-1] + bytes([m["attStmt"]["sig"][-1] ^ 1])))),
    "packed-signature-truncated": (DIRECT, "attestation", lambda d: with_att_map(d, lambda m: setf(m["attStmt"], "sig", m["attStmt"]["sig"][:-4]))),
    "packed-alg-not-the-certificate-key": (DIRECT, "attestation", lambda d: with_att_map(d, lambda m: setf(m["attStmt"], "alg", -257))),
    "packed-no-root-but-required": (DIRECT, "attestation", E(lambda e: setf(e, "require_attestation", True))),
    "packed-chain-to-another-root": (DIRECT, "attestation", E(lambda e: setf(e, "attestation_roots", load(SPEC_ROOT)["pem_root_certs"]))),
    "packed-self-alg-mismatch": (SELF, "attestation", lambda d: with_att_map(d, lambda m: setf(m["attStmt"], "alg", -8))),
    "u2f-signature-changed": (U2F, "attestation", lambda d: with_att_map(d, lambda m: setf(m["attStmt"], "sig", m["attStmt"]["sig"][:-1] + bytes([m["attStmt"]["sig"][-1] ^ 1])))),
    "u2f-two-certificates": (U2F, "attestation", lambda d: with_att_map(d, lambda m: setf(m["attStmt"], "x5c", m["attStmt"]["x5c"] * 2))),
    # assertions
    "as-signature-changed": (CHR_ASSERT, "signature", lambda d: with_resp(d, "signature", lambda s: flip(s, len(s) - 1))),
    "as-signature-truncated": (CHR_ASSERT, "signature", lambda d: with_resp(d, "signature", lambda s: s[:-1])),
    "as-eddsa-signature-65-bytes": (OKP_ASSERT, "signature", lambda d: with_resp(d, "signature", lambda s: s + b"\0")),
    "as-rsa-signature-short": (RSA_ASSERT, "signature", lambda d: with_resp(d, "signature", lambda s: s[1:])),
    "as-counter-replayed": (CHR_ASSERT, "counter", E(lambda e: setf(e, "sign_count", 2))),
    "as-counter-went-back": (CHR_ASSERT, "counter", E(lambda e: setf(e, "sign_count", 7))),
    "as-user-presence-cleared": (CHR_ASSERT, "user_presence", lambda d: with_resp(d, "authenticatorData", lambda a: set_flags(a, clear=0x01))),
    "as-uv-required-not-set": (SPEC_ASSERT, "user_verification", E(lambda e: setf(e, "require_user_verification", True))),
    "as-unknown-credential": (CHR_ASSERT, "unknown_credential", E(lambda e: setf(e, "credential_id", b64e(b"\2" * 32)))),
    "as-another-users-handle": (CHR_ASSERT, "user_handle", E(lambda e: setf(e, "user_handle", b64e(b"\3" * 16)))),
    "as-another-credentials-key": (CHR_ASSERT, "signature", E(lambda e: setf(e, "public_key", load(DIRECT)["response"]["publicKey"]))),
    "as-attested-data-in-assertion": (CHR_ASSERT, "malformed", assertion_with_at),
    "as-authdata-trailing-byte": (CHR_ASSERT, "malformed", lambda d: with_resp(d, "authenticatorData", lambda a: a + b"\0")),
    "as-authdata-truncated": (CHR_ASSERT, "malformed", lambda d: with_resp(d, "authenticatorData", lambda a: a[:36])),
    "as-clientdata-type-create": (CHR_ASSERT, "type", lambda d: with_cd(d, lambda c: setf(c, "type", "webauthn.create"))),
    "as-other-rp-id": (CHR_ASSERT, "rp_id", E(lambda e: setf(e, "rp_id", "example.org"))),
    "as-other-origin": (CHR_ASSERT, "origin", E(lambda e: setf(e, "origins", ["http://localhost:8081"]))),
    "as-replayed-challenge-of-registration": (CHR_ASSERT, "challenge", E(lambda e: setf(e, "challenge", load("chromium/registration-none-es256.json")["options"]["challenge"]))),
    "as-user-handle-not-base64url": (CHR_ASSERT, "malformed", lambda d: setf(d["credential"]["response"], "userHandle", "a+b/") and d),
}


def kind_of(rel):
    v = load(rel)
    return "assertion" if v["kind"] in ("authentication", "assertion") else "registration"


def main(argv):
    if len(argv) == 2 and argv[1] == "--list":
        for name, (rel, reason, _) in CASES.items():
            print(name, kind_of(rel), reason)
        return 0
    if len(argv) == 3 and argv[1] == "--case":
        rel, _, change = CASES[argv[2]]
        doc = change(doc_of(load(rel)))
        json.dump(doc, sys.stdout)
        return 0
    if len(argv) == 2:
        with open(argv[1]) as f:
            json.dump(doc_of(json.load(f)), sys.stdout)
        return 0
    print(__doc__, file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv))
