#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A second, independent WebAuthn verifier, on Debian's python3-cryptography
and python3-cbor2, written from WebAuthn Level 3 sections 7.1, 7.2, 8.2, 8.7.

  passkey-verify.py registration|assertion < {"credential", "expect"}

Prints {"ok", "reason", "credential_id", "public_key", "alg", "sign_count"}
(what isim-passkey check-* prints for the same fields) and exits 0 or 1. It
shares no code with isim-passkey, so a ceremony both accept holds twice.
"""
import base64
import hashlib
import json
import struct
import sys

import cbor2
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa


def b64d(s):
    if "=" in s or "+" in s or "/" in s:
        raise Refused("malformed")
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64e(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


class Refused(Exception):
    pass


CURVES = {1: (ec.SECP256R1(), -7, hashes.SHA256()), 2: (ec.SECP384R1(), -35, hashes.SHA384()),
          3: (ec.SECP521R1(), -36, hashes.SHA512())}


def cose_key(k):
    kty, alg = k[1], k[3]
    if kty == 2:
        curve, want, h = CURVES[k[-1]]
        if alg != want:
            raise Refused("algorithm")
        pub = ec.EllipticCurvePublicNumbers(int.from_bytes(k[-2], "big"), int.from_bytes(k[-3], "big"),
                                            curve).public_key()
        return alg, lambda sig, msg: pub.verify(sig, msg, ec.ECDSA(h))
    if kty == 1 and k[-1] == 6 and alg == -8:
        pub = ed25519.Ed25519PublicKey.from_public_bytes(k[-2])
        return alg, pub.verify
    if kty == 3 and alg == -257:
        pub = rsa.RSAPublicNumbers(int.from_bytes(k[-2], "big"), int.from_bytes(k[-1], "big")).public_key()
        return alg, lambda sig, msg: pub.verify(sig, msg, padding.PKCS1v15(), hashes.SHA256())
    raise Refused("algorithm")


def cert_verifier(cert, alg):
    pub = cert.public_key()
    if alg in (-7, -35, -36) and isinstance(pub, ec.EllipticCurvePublicKey):
        h = {-7: hashes.SHA256(), -35: hashes.SHA384(), -36: hashes.SHA512()}[alg]
        return lambda sig, msg: pub.verify(sig, msg, ec.ECDSA(h))
    if alg == -257 and isinstance(pub, rsa.RSAPublicKey):
        return lambda sig, msg: pub.verify(sig, msg, padding.PKCS1v15(), hashes.SHA256())
    if alg == -8 and isinstance(pub, ed25519.Ed25519PublicKey):
        return pub.verify
    raise Refused("attestation")


def client_data(cred, typ, e):
    raw = b64d(cred["response"]["clientDataJSON"])
    cd = json.loads(raw)
    if cd["type"] != typ:
        raise Refused("type")
    if b64d(cd["challenge"]) != b64d(e["challenge"]):
        raise Refused("challenge")
    origins = e["origins"] if isinstance(e["origins"], list) else [e["origins"]]
    if cd["origin"].rstrip("/") not in [o.rstrip("/") for o in origins]:
        raise Refused("origin")
    if (cd.get("crossOrigin") or "topOrigin" in cd) and not e.get("allow_cross_origin"):
        raise Refused("cross_origin")
    return raw


def auth_data(ad, e, up_required=True):
    if ad[:32] != hashlib.sha256(e["rp_id"].encode()).digest():
        raise Refused("rp_id")
    flags = ad[32]
    if up_required and not flags & 1:
        raise Refused("user_presence")
    if e.get("require_user_verification") and not flags & 4:
        raise Refused("user_verification")
    return flags, struct.unpack(">I", ad[33:37])[0]


def registration(doc):
    cred, e = doc["credential"], doc["expect"]
    cdj = client_data(cred, "webauthn.create", e)
    att = cbor2.loads(b64d(cred["response"]["attestationObject"]))
    ad = att["authData"]
    _, count = auth_data(ad, e, e.get("require_user_presence", True))
    n = struct.unpack(">H", ad[53:55])[0]
    cred_id = ad[55:55 + n]
    if cred_id != b64d(cred["rawId"]):
        raise Refused("malformed")
    rest = ad[55 + n:]
    key = cbor2.loads(rest)
    key_bytes = rest[:len(cbor2.dumps(key, canonical=True))]
    alg, verify = cose_key(key)
    if "algorithms" in e and alg not in e["algorithms"]:
        raise Refused("algorithm")
    cdhash = hashlib.sha256(cdj).digest()
    fmt, stmt = att["fmt"], att["attStmt"]
    try:
        if fmt == "none":
            if stmt:
                raise Refused("attestation")
        elif fmt == "packed" and "x5c" not in stmt:
            if stmt["alg"] != alg:
                raise Refused("attestation")
            verify(stmt["sig"], ad + cdhash)
        elif fmt == "packed":
            leaf = x509.load_der_x509_certificate(stmt["x5c"][0])
            cert_verifier(leaf, stmt["alg"])(stmt["sig"], ad + cdhash)
        elif fmt == "fido-u2f":
            leaf = x509.load_der_x509_certificate(stmt["x5c"][0])
            point = b"\x04" + key[-2] + key[-3]
            cert_verifier(leaf, -7)(stmt["sig"], b"\0" + ad[:32] + cdhash + cred_id + point)
        else:
            raise Refused("attestation")
    except InvalidSignature:
        raise Refused("attestation")
    return {"ok": True, "reason": None, "credential_id": b64e(cred_id), "public_key": b64e(key_bytes),
            "alg": alg, "sign_count": count}


def assertion(doc):
    cred, e = doc["credential"], doc["expect"]
    if "credential_id" in e and b64d(e["credential_id"]) != b64d(cred["rawId"]):
        raise Refused("unknown_credential")
    cdj = client_data(cred, "webauthn.get", e)
    ad = b64d(cred["response"]["authenticatorData"])
    _, count = auth_data(ad, e)
    alg, verify = cose_key(cbor2.loads(b64d(e["public_key"])))
    try:
        verify(b64d(cred["response"]["signature"]), ad + hashlib.sha256(cdj).digest())
    except InvalidSignature:
        raise Refused("signature")
    stored = e.get("sign_count", 0)
    if (count or stored) and count <= stored:
        raise Refused("counter")
    return {"ok": True, "reason": None, "credential_id": cred["rawId"], "alg": alg, "sign_count": count}


def main(argv):
    if len(argv) != 2 or argv[1] not in ("registration", "assertion"):
        print(__doc__, file=sys.stderr)
        return 64
    doc = json.load(sys.stdin)
    try:
        out = (registration if argv[1] == "registration" else assertion)(doc)
    except Refused as r:
        out = {"ok": False, "reason": str(r)}
    except (KeyError, ValueError, TypeError, IndexError, cbor2.CBORDecodeError):
        out = {"ok": False, "reason": "malformed"}
    print(json.dumps(out))
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
