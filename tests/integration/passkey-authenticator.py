#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A software authenticator and client for the tests, on Debian's
python3-cryptography and python3-cbor2: it answers isim-passkey's options
the way navigator.credentials and an authenticator would.

  passkey-authenticator.py create STATE ORIGIN [opts] < creation options
      RegistrationResponseJSON on stdout; the new key kept in STATE.
  passkey-authenticator.py get STATE ORIGIN [opts] < request options
      AuthenticationResponseJSON on stdout.

opts: --alg N (-7, -8, -35, -257; default the first offered), --no-up, --no-uv,
--be, --bs, --counter N (the counter to sign with), --cred B64URL (which
credential), --att none|packed (packed: self attestation), --type T,
--no-user-handle, --lines (options as JSON Lines, an answer a line, for
benchmarks). Each change lets a test make one thing wrong.
"""
import argparse
import base64
import hashlib
import json
import os
import struct
import sys

import cbor2
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa


def b64e(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def load_state(path):
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    return {}


def save_state(path, st):
    with open(path + ".tmp", "w") as f:
        json.dump(st, f)
    os.replace(path + ".tmp", path)


def new_key(alg):
    if alg == -7:
        return ec.generate_private_key(ec.SECP256R1())
    if alg == -35:
        return ec.generate_private_key(ec.SECP384R1())
    if alg == -8:
        return ed25519.Ed25519PrivateKey.generate()
    if alg == -257:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise SystemExit("unsupported alg %d" % alg)


def cose_of(key, alg):
    pub = key.public_key()
    if alg == -7:
        n = pub.public_numbers()
        return {1: 2, 3: -7, -1: 1, -2: n.x.to_bytes(32, "big"), -3: n.y.to_bytes(32, "big")}
    if alg == -35:
        n = pub.public_numbers()
        return {1: 2, 3: -35, -1: 2, -2: n.x.to_bytes(48, "big"), -3: n.y.to_bytes(48, "big")}
    if alg == -8:
        raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {1: 1, 3: -8, -1: 6, -2: raw}
    n = pub.public_numbers()
    return {1: 3, 3: -257, -1: n.n.to_bytes(256, "big"), -2: n.e.to_bytes(3, "big")}


def sign(key, alg, msg):
    if alg == -7:
        return key.sign(msg, ec.ECDSA(hashes.SHA256()))
    if alg == -35:
        return key.sign(msg, ec.ECDSA(hashes.SHA384()))
    if alg == -8:
        return key.sign(msg)
    return key.sign(msg, padding.PKCS1v15(), hashes.SHA256())


def flags(a, at=False):
    f = 0 if a.no_up else 0x01
    f |= 0 if a.no_uv else 0x04
    f |= 0x08 if a.be else 0
    f |= 0x10 if a.bs else 0
    return f | (0x40 if at else 0)


def client_data(a, typ, challenge):
    return json.dumps({"type": a.type or typ, "challenge": challenge, "origin": a.origin,
                       "crossOrigin": False}, separators=(",", ":")).encode()


def create(a, opts):
    st = load_state(a.state)
    offered = [p["alg"] for p in opts["pubKeyCredParams"]]
    alg = a.alg if a.alg is not None else offered[0]
    key = new_key(alg)
    cred_id = b64d(a.cred) if a.cred else os.urandom(32)
    rp_id = opts["rp"]["id"]
    count = a.counter if a.counter is not None else 1
    cose = cbor2.dumps(cose_of(key, alg), canonical=True)
    ad = (hashlib.sha256(rp_id.encode()).digest() + bytes([flags(a, True)]) + struct.pack(">I", count) +
          b"\0" * 16 + struct.pack(">H", len(cred_id)) + cred_id + cose)
    cdj = client_data(a, "webauthn.create", opts["challenge"])
    if a.att == "packed":
        stmt = {"alg": alg, "sig": sign(key, alg, ad + hashlib.sha256(cdj).digest())}
    else:
        stmt = {}
    att = cbor2.dumps({"fmt": a.att, "attStmt": stmt, "authData": ad}, canonical=True)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    st[b64e(cred_id)] = {"alg": alg, "key": pem, "counter": count, "rp_id": rp_id,
                         "user_handle": opts["user"]["id"]}
    save_state(a.state, st)
    return {"id": b64e(cred_id), "rawId": b64e(cred_id), "type": "public-key",
            "response": {"clientDataJSON": b64e(cdj), "attestationObject": b64e(att),
                         "transports": ["internal"]},
            "clientExtensionResults": {}, "authenticatorAttachment": "platform"}


def get(a, opts):
    st = load_state(a.state)
    allowed = [c["id"] for c in opts.get("allowCredentials", [])]
    if a.cred:
        cid = a.cred
    else:
        ids = [i for i in st if st[i]["rp_id"] == opts["rpId"] and (not allowed or i in allowed)]
        if not ids:
            raise SystemExit("passkey-authenticator: no credential for these options")
        cid = ids[0]
    c = st[cid]
    key = serialization.load_pem_private_key(c["key"].encode(), None)
    count = a.counter if a.counter is not None else c["counter"] + 1
    c["counter"] = count
    save_state(a.state, st)
    ad = hashlib.sha256(c["rp_id"].encode()).digest() + bytes([flags(a)]) + struct.pack(">I", count)
    cdj = client_data(a, "webauthn.get", opts["challenge"])
    sig = sign(key, c["alg"], ad + hashlib.sha256(cdj).digest())
    resp = {"clientDataJSON": b64e(cdj), "authenticatorData": b64e(ad), "signature": b64e(sig)}
    if not a.no_user_handle:
        resp["userHandle"] = c["user_handle"]
    return {"id": cid, "rawId": cid, "type": "public-key", "response": resp,
            "clientExtensionResults": {}, "authenticatorAttachment": "platform"}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("op", choices=["create", "get"])
    p.add_argument("state")
    p.add_argument("origin")
    p.add_argument("--alg", type=int)
    p.add_argument("--no-up", action="store_true")
    p.add_argument("--no-uv", action="store_true")
    p.add_argument("--be", action="store_true")
    p.add_argument("--bs", action="store_true")
    p.add_argument("--counter", type=int)
    p.add_argument("--cred")
    p.add_argument("--att", default="none", choices=["none", "packed"])
    p.add_argument("--type")
    p.add_argument("--no-user-handle", action="store_true")
    p.add_argument("--lines", action="store_true", help="options as JSON Lines, one answer a line")
    a = p.parse_args()
    if a.lines:
        for line in sys.stdin:
            print(json.dumps((create if a.op == "create" else get)(a, json.loads(line))))
        return
    opts = json.load(sys.stdin)
    json.dump(create(a, opts) if a.op == "create" else get(a, opts), sys.stdout)
    print()


if __name__ == "__main__":
    main()
