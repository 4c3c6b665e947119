#!/usr/bin/python3
"""restore_responder: S3's RestoreObject in front of a real Ceph RGW.

THIS IS A TEST STAND-IN. No S3 server on this machine implements
RestoreObject (RGW answers POST ?restore with 501 NotImplemented), so the
tests of S3InitiateRestoreObject run through this reverse proxy. It answers
POST /bucket/key?restore[&versionId=] itself, per Amazon's RestoreObject
API reference, and forwards everything else to RGW byte for byte (the
forwarding is tests/faultproxy.py's, imported), so objects are made, read
and checked on the real server. Every reply it makes itself carries an
"x-restore-responder" header.

What it implements, with an in-memory restore state per object version:
  * the SigV4 Authorization header must be there (403 AccessDenied), name
    a known access key (403 InvalidAccessKeyId) and verify (403
    SignatureDoesNotMatch); the body must match x-amz-content-sha256 and
    Content-MD5 when given (400 XAmzContentSHA256Mismatch, BadDigest);
  * the RestoreRequest body: Days, GlacierJobParameters/Tier (Standard,
    Bulk, Expedited; Standard when absent); 400 MalformedXML otherwise;
  * the object is found with a HEAD to RGW, signed here with the caller's
    own credentials (--credentials): 404 NoSuchKey (NoSuchVersion with a
    versionId, NoSuchBucket when the bucket is missing), 403 AccessDenied,
    405 MethodNotAllowed for a delete marker, as RGW says;
  * 403 InvalidObjectState unless its storage class (the HEAD's
    x-amz-storage-class) is GLACIER or DEEP_ARCHIVE; 400 InvalidArgument
    when Days is missing for such an object (our choice: Amazon documents
    Days as required for a regular restore but not the error it gives);
  * 202 Accepted for a restore that starts; while it is in progress 409
    RestoreAlreadyInProgress, except a request with the same Days and a
    faster tier, which upgrades it (202), as Amazon documents; once it is
    done (--delay seconds after it started, or at once on a "complete"
    control request) 200 OK with the expiry moved to now + Days, rounded
    up to the next midnight UTC as Amazon does; once expired, 202 again;
  * GET and HEAD of an object with restore state answer, like S3, with
    x-amz-restore: ongoing-request="true", or ongoing-request="false",
    expiry-date="..." (added to RGW's own reply).
Path-style addressing only.

Control endpoint (answered here, never forwarded; bucket names cannot hold
"_", so the path never collides with a bucket):
  GET  /__restore__   {"objects": [...], "counters": {...}, "delay": s}
  POST /__restore__   {"delay": s, "complete": true, "reset": true,
                       "reset_after_accept": N}: set the restore delay;
                       finish every in-progress restore now; forget every
                       restore and counter; close the connection with a
                       TCP RST instead of sending the next N 202 answers
                       (the restore did start: a lost answer)

Usage: restore_responder.py --upstream http://127.0.0.1:7480
[--listen 127.0.0.1:0] --credentials AK:SK [--credentials ...]
[--delay SECONDS] [-v]. Once listening it prints
"RESTORE_RESPONDER_ENDPOINT=http://127.0.0.1:PORT" on stdout.
"""

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import os
import signal
import socket
import socketserver
import struct
import sys
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultproxy as fp  # noqa: E402  (the forwarding machinery)

CONTROL_PATH = "/__restore__"
MAX_BODY = 64 * 1024
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
ARCHIVE_CLASSES = ("GLACIER", "DEEP_ARCHIVE")
# Slowest first: a request may only move a restore up this list.
TIERS = ("Bulk", "Standard", "Expedited")
DAY = 86400


class S3Error(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


# --- SigV4 (S3 flavour: the path as sent, no normalisation) ----------------

def uri_encode(s):
    return urllib.parse.quote(s, safe="-_.~")


def canonical_query(query):
    pairs = []
    for part in query.split("&") if query else []:
        if part:
            k, _, v = part.partition("=")
            pairs.append((uri_encode(urllib.parse.unquote(k)),
                          uri_encode(urllib.parse.unquote(v))))
    pairs.sort()
    return "&".join("%s=%s" % p for p in pairs)


def hmac256(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def signature(secret, amzdate, scope, method, path, query, headers, signed,
              payload_hash):
    """headers: [(name, value)] as sent; signed: lowercase names."""
    values = {}
    for name, value in headers:
        values.setdefault(name.lower(), []).append(" ".join(value.split()))
    canon_headers = "".join("%s:%s\n" % (h, ",".join(values.get(h, [])))
                            for h in signed)
    creq = "\n".join([method, path, canonical_query(query), canon_headers,
                      ";".join(signed), payload_hash])
    sts = "\n".join(["AWS4-HMAC-SHA256", amzdate, scope,
                     hashlib.sha256(creq.encode()).hexdigest()])
    date, region, service, _ = scope.split("/")
    key = hmac256(("AWS4" + secret).encode(), date)
    for part in (region, service, "aws4_request"):
        key = hmac256(key, part)
    return hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()


def parse_authorization(value):
    """'AWS4-HMAC-SHA256 Credential=AK/scope, SignedHeaders=a;b,
    Signature=hex' -> (access key, scope, [signed], signature)."""
    alg, _, rest = value.partition(" ")
    if alg != "AWS4-HMAC-SHA256":
        raise S3Error(400, "InvalidArgument",
                      "Unsupported Authorization Type")
    fields = {}
    for item in rest.split(","):
        k, _, v = item.strip().partition("=")
        fields[k] = v
    try:
        ak, _, scope = fields["Credential"].partition("/")
        signed = fields["SignedHeaders"].split(";")
        sig = fields["Signature"]
    except KeyError:
        raise S3Error(400, "AuthorizationHeaderMalformed",
                      "The authorization header is malformed.")
    if len(scope.split("/")) != 4:
        raise S3Error(400, "AuthorizationHeaderMalformed",
                      "The authorization header is malformed; the "
                      "Credential is mal-formed.")
    return ak, scope, signed, sig


# --- restore state ---------------------------------------------------------

def next_midnight(t):
    """Amazon rounds a restore's expiry up to the next midnight UTC."""
    return (int(t) // DAY + 1) * DAY


def http_date(t):
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(t))


class Restores:
    """Every object's restore, shared by the connection threads."""

    def __init__(self, delay):
        self.lock = threading.Lock()
        self.delay = delay
        self.reset()

    def reset(self):
        self.objects = {}           # (bucket, key, version id) -> dict
        self.counters = {"restore_requests": 0, "by_status": {},
                         "by_code": {}, "resets": 0}
        self.reset_after_accept = 0

    def _settle(self, o, now):
        """Bring an entry up to now; False when it has expired."""
        if o["state"] == "in-progress" and now >= o["ready_at"]:
            o["state"] = "restored"
            o["expiry"] = next_midnight(o["ready_at"] + o["days"] * DAY)
        if o["state"] == "restored" and now >= o["expiry"]:
            return False
        return True

    def lookup(self, ident):
        with self.lock:
            o = self.objects.get(ident)
            if o is None or not self._settle(o, time.time()):
                return None
            return dict(o)

    def restore(self, ident, storage_class, days, tier):
        """The answer to one RestoreObject on an archived object:
        (status, reset the connection instead)."""
        now = time.time()
        with self.lock:
            o = self.objects.get(ident)
            if o is not None and not self._settle(o, now):
                o = None
            if o is None:
                o = {"bucket": ident[0], "key": ident[1],
                     "version_id": ident[2], "storage_class": storage_class,
                     "state": "in-progress", "days": days, "tier": tier,
                     "started": now, "ready_at": now + self.delay,
                     "expiry": None, "requests": 0, "answers": []}
                self.objects[ident] = o
                status = 202
            elif o["state"] == "in-progress":
                if days == o["days"] and \
                        TIERS.index(tier) > TIERS.index(o["tier"]):
                    o["tier"] = tier        # a speed upgrade
                    status = 202
                else:
                    status = 409
            else:
                o["days"] = days
                o["expiry"] = next_midnight(now + days * DAY)
                status = 200
            o["requests"] += 1
            o["answers"].append(status)
            reset = False
            if status == 202 and self.reset_after_accept > 0:
                self.reset_after_accept -= 1
                self.counters["resets"] += 1
                reset = True
            return status, reset

    def count(self, status, code=None):
        with self.lock:
            c = self.counters
            c["restore_requests"] += 1
            c["by_status"][str(status)] = c["by_status"].get(str(status),
                                                             0) + 1
            if code:
                c["by_code"][code] = c["by_code"].get(code, 0) + 1

    def control(self, obj):
        with self.lock:
            if obj.get("reset"):
                self.reset()
            if "delay" in obj:
                self.delay = float(obj["delay"])
            if "reset_after_accept" in obj:
                self.reset_after_accept = int(obj["reset_after_accept"])
            if obj.get("complete"):
                now = time.time()
                for o in self.objects.values():
                    if o["state"] == "in-progress":
                        o["ready_at"] = now
                        self._settle(o, now)

    def snapshot(self):
        with self.lock:
            now = time.time()
            objs = []
            for o in self.objects.values():
                if self._settle(o, now):
                    d = dict(o)
                    d["answers"] = list(o["answers"])
                    objs.append(d)
            return {"objects": objs, "counters": json.loads(
                json.dumps(self.counters)), "delay": self.delay}


def restore_header(o):
    if o["state"] == "in-progress":
        return 'ongoing-request="true"'
    return 'ongoing-request="false", expiry-date="%s"' % \
        http_date(o["expiry"])


def parse_restore_request(body):
    """RestoreRequest XML -> (days or None, tier)."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        raise S3Error(400, "MalformedXML", "The XML you provided was not "
                      "well-formed or did not validate against our "
                      "published schema.")

    def local(tag):
        return tag.rpartition("}")[2]

    def child(el, name):
        for c in el:
            if local(c.tag) == name:
                return c
        return None

    if local(root.tag) != "RestoreRequest":
        raise S3Error(400, "MalformedXML", "The XML you provided was not "
                      "a RestoreRequest.")
    if child(root, "Type") is not None or \
            child(root, "OutputLocation") is not None:
        raise S3Error(400, "InvalidArgument", "SELECT restores are not "
                      "implemented by this stand-in.")
    days = None
    d = child(root, "Days")
    if d is not None:
        try:
            days = int((d.text or "").strip())
        except ValueError:
            days = -1
        if days < 1:
            raise S3Error(400, "InvalidArgument", "Days must be a positive "
                          "integer.")
    tier = "Standard"
    gjp = child(root, "GlacierJobParameters")
    t = child(gjp, "Tier") if gjp is not None else child(root, "Tier")
    if t is not None:
        tier = (t.text or "").strip()
        if tier not in TIERS:
            raise S3Error(400, "MalformedXML", "Tier must be Standard, "
                          "Bulk or Expedited.")
    return days, tier


def split_path(path):
    """/bucket/key (path-style) -> (bucket, key), both decoded."""
    bucket, _, key = path.lstrip("/").partition("/")
    return urllib.parse.unquote(bucket), urllib.parse.unquote(key)


def query_param(query, name):
    for part in query.split("&") if query else []:
        k, sep, v = part.partition("=")
        if urllib.parse.unquote(k) == name:
            return urllib.parse.unquote(v) if sep else ""
    return None


def s3_reply(status, code=None, message="", headers=(), close=False):
    reasons = {200: "OK", 202: "Accepted", 400: "Bad Request",
               403: "Forbidden", 404: "Not Found",
               405: "Method Not Allowed", 409: "Conflict",
               500: "Internal Server Error"}
    reqid = "restore-%d" % next(fp.REQUEST_IDS)
    body = b""
    if code is not None:
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                "<Error><Code>%s</Code><Message>%s</Message>"
                "<RequestId>%s</RequestId></Error>" %
                (fp.xml_escape(code), fp.xml_escape(message),
                 reqid)).encode()
    lines = ["HTTP/1.1 %d %s" % (status, reasons.get(status, "Status")),
             "Content-Length: %d" % len(body),
             "x-amz-request-id: %s" % reqid,
             "x-restore-responder: 1",
             "Date: %s" % http_date(time.time())]
    if body:
        lines.append("Content-Type: application/xml")
    lines.extend("%s: %s" % h for h in headers)
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Handler(fp.Handler):
    """faultproxy's connection handler, with RestoreObject answered here."""

    def setup(self):
        super().setup()
        self.restores = self.server.restores
        self.inject = None
        self.head_conn = None

    def finish(self):
        super().finish()
        if self.head_conn is not None:
            self.head_conn.close()

    def log(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("restore_responder: " + (fmt % args) + "\n")

    def send(self, data):
        # The first thing forward() sends is the upstream's reply head.
        inj, self.inject = self.inject, None
        if inj is not None and data.startswith(b"HTTP/1."):
            data = self.add_restore_header(data, inj)
        self.request.sendall(data)

    def add_restore_header(self, rhead, inj):
        first, _, index = fp.parse_head(rhead)
        parts = first.split(" ")
        if len(parts) < 2 or parts[1] not in ("200", "206"):
            return rhead
        bucket, key, vid = inj
        vid = index.get("x-amz-version-id", vid or "")
        o = self.restores.lookup((bucket, key, vid))
        if o is None:
            return rhead
        line = "x-amz-restore: %s\r\n" % restore_header(o)
        return rhead[:-2] + line.encode() + b"\r\n"

    def one_request(self):
        head = self.reader.read_head()
        first, headers, index = fp.parse_head(head)
        parts = first.split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            self.send(fp.plain_reply(400, "Bad Request", "bad request line\n",
                                     close=True))
            return False
        method, target, version = parts
        url = urllib.parse.urlsplit(target)
        path, query = url.path, url.query
        close = fp.wants_close(version, index)
        framing, length = fp.body_framing(index)
        if index.get("expect", "").lower() == "100-continue":
            self.send(b"HTTP/1.1 100 Continue\r\n\r\n")

        if path == CONTROL_PATH:
            body = []
            fp.copy_body(self.reader, framing, length, body.append)
            self.control(method, b"".join(body), close)
            return not close
        if method == "POST" and query_param(query, "restore") is not None:
            body = []
            fp.copy_body(self.reader, framing, length, body.append)
            return self.restore(path, query, headers, index,
                                b"".join(body), close)
        self.state.count("requests")
        if method in ("GET", "HEAD"):
            bucket, key = split_path(path)
            if key:
                self.inject = (bucket, key, query_param(query, "versionId"))
        try:
            return self.forward(method, head, framing, length, close, None)
        finally:
            self.inject = None

    # -- RestoreObject ------------------------------------------------------

    def restore(self, path, query, headers, index, body, close):
        try:
            status, reset = self.restore_object(path, query, headers, index,
                                                body)
        except S3Error as e:
            self.restores.count(e.status, e.code)
            self.log("POST %s?%s -> %d %s", path, query, e.status, e.code)
            self.send(s3_reply(e.status, e.code, e.message, close=close))
            return not close
        code = message = None
        if status == 409:
            code = "RestoreAlreadyInProgress"
            message = "Object restore is already in progress"
        self.restores.count(status, code)
        self.log("POST %s?%s -> %d%s", path, query, status,
                 " (reset)" if reset else "")
        if reset:
            self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                    struct.pack("ii", 1, 0))
            self.request.close()
            return False
        self.send(s3_reply(status, code, message, close=close))
        return not close

    def restore_object(self, path, query, headers, index, body):
        ak, scope = self.authenticate(path, query, headers, index, body)
        bucket, key = split_path(path)
        if not bucket or not key:
            raise S3Error(400, "InvalidRequest", "RestoreObject needs a "
                          "bucket and a key.")
        if len(body) > MAX_BODY:
            raise S3Error(400, "MaxMessageLengthExceeded",
                          "Your request was too big.")
        days, tier = parse_restore_request(body)
        vid = query_param(query, "versionId")
        storage_class, version = self.head_object(path, bucket, vid, ak,
                                                  scope)
        if storage_class not in ARCHIVE_CLASSES:
            raise S3Error(403, "InvalidObjectState", "Restore is not "
                          "allowed for the object's current storage class")
        if days is None:
            raise S3Error(400, "InvalidArgument", "Days is required to "
                          "restore an object from %s." % storage_class)
        if tier == "Expedited" and storage_class == "DEEP_ARCHIVE":
            raise S3Error(400, "InvalidArgument", "Expedited retrieval is "
                          "not available for DEEP_ARCHIVE.")
        return self.restores.restore((bucket, key, version), storage_class,
                                     days, tier)

    def authenticate(self, path, query, headers, index, body):
        auth = index.get("authorization")
        if not auth:
            raise S3Error(403, "AccessDenied", "Access Denied (anonymous "
                          "RestoreObject)")
        ak, scope, signed, sig = parse_authorization(auth)
        secret = self.server.credentials.get(ak)
        if secret is None:
            raise S3Error(403, "InvalidAccessKeyId", "The AWS Access Key Id "
                          "you provided does not exist in our records.")
        amzdate = index.get("x-amz-date")
        payload = index.get("x-amz-content-sha256")
        if not amzdate or not payload or "host" not in signed:
            raise S3Error(400, "InvalidRequest", "x-amz-date, "
                          "x-amz-content-sha256 and a signed Host are "
                          "required.")
        if not (payload == "UNSIGNED-PAYLOAD" or
                payload.startswith("STREAMING-")) and \
                payload != hashlib.sha256(body).hexdigest():
            raise S3Error(400, "XAmzContentSHA256Mismatch", "The provided "
                          "'x-amz-content-sha256' header does not match "
                          "what was computed.")
        md5 = index.get("content-md5")
        if md5 is not None and \
                md5 != base64.b64encode(hashlib.md5(body).digest()).decode():
            raise S3Error(400, "BadDigest", "The Content-MD5 you specified "
                          "did not match what we received.")
        want = signature(secret, amzdate, scope, "POST", path, query,
                         headers, signed, payload)
        if not hmac.compare_digest(want, sig):
            raise S3Error(403, "SignatureDoesNotMatch", "The request "
                          "signature we calculated does not match the "
                          "signature you provided.")
        return ak, scope

    def upstream_head(self, path, query, ak, scope):
        """A HEAD to RGW signed with the caller's credentials."""
        host, port = self.server.upstream
        hosthdr = "%s:%d" % (host, port)
        amzdate = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        parts = scope.split("/")
        scope = "/".join([amzdate[:8]] + parts[1:])
        hdrs = [("Host", hosthdr), ("x-amz-content-sha256", EMPTY_SHA256),
                ("x-amz-date", amzdate)]
        signed = ["host", "x-amz-content-sha256", "x-amz-date"]
        sig = signature(self.server.credentials[ak], amzdate, scope, "HEAD",
                        path, query, hdrs, signed, EMPTY_SHA256)
        send = dict(hdrs)
        send["Authorization"] = ("AWS4-HMAC-SHA256 Credential=%s/%s, "
                                 "SignedHeaders=%s, Signature=%s" %
                                 (ak, scope, ";".join(signed), sig))
        target = path + ("?" + query if query else "")
        for again in (True, False):
            if self.head_conn is None:
                self.head_conn = http.client.HTTPConnection(
                    host, port, timeout=fp.UPSTREAM_TIMEOUT)
            try:
                self.head_conn.request("HEAD", target, headers=send)
                r = self.head_conn.getresponse()
                r.read()
                return r.status, {k.lower(): v for k, v in r.getheaders()}
            except (OSError, http.client.HTTPException):
                self.head_conn.close()
                self.head_conn = None
                if not again:
                    raise S3Error(500, "InternalError", "restore responder:"
                                  " RGW did not answer the HEAD")
        raise AssertionError("unreachable")

    def head_object(self, path, bucket, vid, ak, scope):
        """(storage class, version id) of the object, or S3Error."""
        query = "versionId=%s" % uri_encode(vid) if vid is not None else ""
        status, h = self.upstream_head(path, query, ak, scope)
        if status == 200:
            return (h.get("x-amz-storage-class", "STANDARD"),
                    h.get("x-amz-version-id", vid or ""))
        if status == 404:
            bstatus, _ = self.upstream_head("/" + uri_encode(bucket), "", ak,
                                            scope)
            if bstatus == 404:
                raise S3Error(404, "NoSuchBucket", "The specified bucket "
                              "does not exist")
            if vid is not None:
                raise S3Error(404, "NoSuchVersion", "The specified version "
                              "does not exist.")
            raise S3Error(404, "NoSuchKey", "The specified key does not "
                          "exist.")
        if status == 403:
            raise S3Error(403, "AccessDenied", "Access Denied")
        if status == 405:
            raise S3Error(405, "MethodNotAllowed", "The specified method "
                          "is not allowed against this resource.")
        if status == 400:
            raise S3Error(400, "InvalidArgument", "Invalid version id "
                          "specified")
        raise S3Error(500, "InternalError", "restore responder: RGW "
                      "answered the HEAD with %d" % status)

    # -- control --------------------------------------------------------------

    def control(self, method, body, close):
        try:
            if method == "POST":
                obj = json.loads(body.decode() or "{}")
                if not isinstance(obj, dict):
                    raise ValueError("a JSON object is expected")
                self.restores.control(obj)
            elif method != "GET":
                self.send(fp.plain_reply(405, "Method Not Allowed",
                                         "GET or POST\n", close=close))
                return
        except (ValueError, TypeError) as e:
            self.send(fp.plain_reply(400, "Bad Request",
                                     json.dumps({"error": str(e)}) + "\n",
                                     "application/json", close))
            return
        self.send(fp.plain_reply(200, "OK",
                                 json.dumps(self.restores.snapshot(),
                                            sort_keys=True) + "\n",
                                 "application/json", close))


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, listen, upstream, credentials, delay, verbose=False):
        self.upstream = upstream
        self.credentials = credentials
        self.state = fp.State()         # faultproxy's counters, no rules
        self.restores = Restores(delay)
        self.verbose = verbose
        super().__init__(listen, Handler)


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="RestoreObject stand-in in front of RGW (a test "
        "stand-in; see the top of this file)")
    ap.add_argument("--upstream", required=True,
                    help="http://HOST:PORT of the real server")
    ap.add_argument("--listen", default="127.0.0.1:0",
                    help="HOST:PORT to listen on (port 0: any free port)")
    ap.add_argument("--credentials", action="append", default=[],
                    metavar="AK:SK", help="a known key pair; repeatable")
    ap.add_argument("--delay", type=float, default=3600.0,
                    help="seconds from a restore's start to its end")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="log every RestoreObject on stderr")
    args = ap.parse_args(argv)
    creds = {}
    for c in args.credentials:
        ak, sep, sk = c.partition(":")
        if not sep or not ak or not sk:
            sys.stderr.write("restore_responder: --credentials %r is not "
                             "AK:SK\n" % c)
            return 2
        creds[ak] = sk
    try:
        upstream = fp.parse_hostport(args.upstream, "--upstream")
        listen = fp.parse_hostport(args.listen, "--listen")
    except (fp.ProxyError, ValueError) as e:
        sys.stderr.write("restore_responder: %s\n" % e)
        return 2
    srv = Server(listen, upstream, creds, args.delay, args.verbose)
    host, port = srv.server_address[:2]
    sys.stdout.write("RESTORE_RESPONDER_ENDPOINT=http://%s:%d\n" %
                     (host, port))
    sys.stdout.flush()

    def stop(signo, frame):
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        srv.serve_forever(poll_interval=0.2)
    finally:
        srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
