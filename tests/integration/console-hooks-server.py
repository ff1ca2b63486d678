#!/usr/bin/python3
"""Stand-ins for the servers the console's provisioning hooks talk to, for
tests/integration/console-hooks.sh. Each listens on 127.0.0.1, on a port the
kernel picks, and writes that port to PORTFILE once it accepts connections.
Every request becomes one JSON line in LOG: method, path, headers, body and
what the server answered.

  s3 ACCESS_KEY_ID SECRET_FILE REGION PORTFILE LOG
      S3's CreateBucket (PUT /bucket), HeadBucket and ListBuckets, path
      style, each request's AWS Signature Version 4 checked as S3 checks it
      (the Authorization header's scope, the canonical request over the
      signed headers, the payload's SHA-256). Buckets named taken-* belong
      to another account: creating one is 409 BucketAlreadyExists, its HEAD
      403.
  matrix SECRET_FILE SERVER_NAME PORTFILE LOG
      Synapse's shared-secret registration, /_synapse/admin/v1/register: GET
      a nonce (single use), POST the user with the HMAC-SHA1 mac over
      nonce, user, password and "admin"/"notadmin" keyed by the shared
      secret; a wrong mac is 403 M_FORBIDDEN, a user registered before
      400 M_USER_IN_USE (synapse/rest/admin/users.py, UserRegisterServlet).
"""
import hashlib
import hmac
import json
import os
import re
import secrets
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer


def read_secret(path):
    # Synapse strips the file's text (registration_shared_secret_path); a
    # secret key file is read the same way by the hooks.
    with open(path, "rb") as f:
        return f.read().strip()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def answer(self, status, data=b"", ctype="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        with open(self.server.log, "a") as f:
            f.write(json.dumps({
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": self.req_body.decode("utf-8", "replace"),
                "status": status,
                "answer": data.decode("utf-8", "replace"),
            }) + "\n")

    def handle_one(self):
        self.req_body = self.body()
        self.server.app(self)

    do_GET = do_PUT = do_POST = do_HEAD = handle_one


# ---- S3 -------------------------------------------------------------------

def s3_error(code, message):
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code>"
            "<Message>%s</Message></Error>" % (code, message)).encode()


def sigv4_verdict(h, s):
    """None if the request's SigV4 signature holds, else (status, code)."""
    auth = h.headers.get("Authorization", "")
    m = re.fullmatch(r"AWS4-HMAC-SHA256 Credential=([^/]+)/([0-9]{8})/([^/]+)/s3/aws4_request, ?"
                     r"SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})", auth)
    if not m:
        return 403, "AccessDenied"
    key_id, date, region, signed, signature = m.groups()
    if key_id != s.key_id:
        return 403, "InvalidAccessKeyId"
    if region != s.region:
        return 400, "AuthorizationHeaderMalformed"
    amz_date = h.headers.get("X-Amz-Date", "")
    if not amz_date.startswith(date) or "host" not in signed.split(";"):
        return 403, "AccessDenied"
    payload = h.headers.get("X-Amz-Content-Sha256")
    if payload is None:
        return 400, "MissingSecurityHeader"
    if payload != "UNSIGNED-PAYLOAD" and payload != hashlib.sha256(h.req_body).hexdigest():
        return 400, "XAmzContentSHA256Mismatch"
    url = urllib.parse.urlsplit(h.path)
    query = "&".join(sorted(
        urllib.parse.quote(k, safe="-_.~") + "=" + urllib.parse.quote(v, safe="-_.~")
        for k, v in urllib.parse.parse_qsl(url.query, keep_blank_values=True)))
    headers = "".join("%s:%s\n" % (n, " ".join((h.headers.get(n) or "").split()))
                      for n in signed.split(";"))
    creq = "\n".join([h.command, url.path or "/", query, headers, signed, payload])
    scope = "%s/%s/s3/aws4_request" % (date, region)
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(creq.encode()).hexdigest()])
    key = b"AWS4" + s.secret
    for part in (date, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    want = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, signature):
        return 403, "SignatureDoesNotMatch"
    return None


def s3_app(h):
    s = h.server
    bad = sigv4_verdict(h, s)
    if bad:
        return h.answer(bad[0], s3_error(bad[1], "refused"), "application/xml")
    path = urllib.parse.urlsplit(h.path).path
    bucket = path.strip("/")
    if h.command == "GET" and path == "/":
        names = "".join("<Bucket><Name>%s</Name></Bucket>" % b for b in sorted(s.buckets))
        return h.answer(200, ("<ListAllMyBucketsResult><Buckets>%s</Buckets>"
                              "</ListAllMyBucketsResult>" % names).encode(), "application/xml")
    if "/" in bucket or not bucket:
        return h.answer(400, s3_error("InvalidRequest", "path style bucket requests only"), "application/xml")
    if h.command == "PUT":
        if bucket.startswith("taken-"):
            return h.answer(409, s3_error("BucketAlreadyExists", "owned by another account"), "application/xml")
        if bucket in s.buckets:
            return h.answer(409, s3_error("BucketAlreadyOwnedByYou", "yours already"), "application/xml")
        s.buckets.add(bucket)
        return h.answer(200, b"", "application/xml")
    if h.command == "HEAD":
        if bucket.startswith("taken-"):
            return h.answer(403)
        return h.answer(200 if bucket in s.buckets else 404)
    return h.answer(405, s3_error("MethodNotAllowed", h.command), "application/xml")


# ---- Matrix ---------------------------------------------------------------

def matrix_app(h):
    s = h.server
    err = lambda status, code, text: h.answer(status, json.dumps({"errcode": code, "error": text}).encode())
    if urllib.parse.urlsplit(h.path).path != "/_synapse/admin/v1/register":
        return err(404, "M_UNRECOGNIZED", "Unrecognized request")
    if h.command == "GET":
        nonce = secrets.token_hex(16)
        s.nonces.add(nonce)
        return h.answer(200, json.dumps({"nonce": nonce}).encode())
    if h.command != "POST":
        return err(405, "M_UNRECOGNIZED", "Unrecognized request")
    try:
        req = json.loads(h.req_body)
        nonce, user, password, mac = req["nonce"], req["username"], req["password"], req["mac"]
    except (ValueError, KeyError, TypeError):
        return err(400, "M_BAD_JSON", "nonce, username, password and mac are required")
    if nonce not in s.nonces:
        return err(400, "M_UNKNOWN", "unrecognised nonce")
    s.nonces.discard(nonce)
    admin = b"admin" if req.get("admin") else b"notadmin"
    msg = b"\x00".join([nonce.encode(), user.encode(), password.encode(), admin])
    want = hmac.new(s.secret, msg, hashlib.sha1).hexdigest()
    if not hmac.compare_digest(want, str(mac)):
        return err(403, "M_FORBIDDEN", "HMAC incorrect")
    if user in s.users:
        return err(400, "M_USER_IN_USE", "User ID already taken.")
    s.users.add(user)
    return h.answer(200, json.dumps({
        "access_token": "syt_" + secrets.token_urlsafe(24),
        "user_id": "@%s:%s" % (user, s.name), "home_server": s.name, "device_id": "PROVISION"}).encode())


def main():
    kind, args = sys.argv[1], sys.argv[2:]
    srv = HTTPServer(("127.0.0.1", 0), Handler)
    if kind == "s3":
        srv.key_id, secret_file, srv.region, portfile, srv.log = args
        srv.secret = read_secret(secret_file)
        srv.buckets = set()
        srv.app = s3_app
    elif kind == "matrix":
        secret_file, srv.name, portfile, srv.log = args
        srv.secret = read_secret(secret_file)
        srv.nonces, srv.users = set(), set()
        srv.app = matrix_app
    else:
        sys.exit("usage: console-hooks-server.py s3|matrix ...")
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(portfile + ".tmp", portfile)
    srv.serve_forever()


if __name__ == "__main__":
    main()
