#!/usr/bin/python3
"""faultproxy: an HTTP/1.1 reverse proxy that injects faults.

THIS IS A TEST STAND-IN. It produces on demand the faults no real S3 server
produces on demand (SlowDown storms, 500s, 429s with Retry-After, reset
connections, stalls, truncated responses) so that the daemon's retry and
error paths can be exercised against a real RGW. Nothing it answers by
itself comes from S3: a test that sees one of its replies is seeing the
proxy, and every injected reply carries an "x-faultproxy" header.

How it forwards: each client connection gets its own upstream connection,
both kept alive. The request head is forwarded byte for byte (Host and
every other header exactly as the client signed them, so SigV4 signatures
still verify upstream); bodies are streamed (Content-Length or chunked). An
"Expect: 100-continue" is answered by the proxy itself ("100 Continue"), the
body is then read and forwarded with the header intact, and the upstream's
own interim 1xx replies are dropped; a server's early rejection before the
body is therefore not reproduced.

Rules (first that fires wins; "delay" only waits, then later rules are
still looked at): on the command line as --rule 'KIND key=value ...' or as
JSON, at run time by POST /__fault__ (S3 bucket names cannot contain "_",
so the path never collides with a bucket).

  kinds     slowdown (503 SlowDown), internal (500 InternalError),
            throttle (429 TooManyRequests), error (any status= and code=),
            reset (read the request, then close with a TCP RST),
            close (read the request, then close cleanly without a reply),
            delay (wait delay_ms, then go on), truncate (forward, but cut
            the reply short: bytes= bytes of it, default the head and half
            the body, or half the status line when there is no body;
            then close), garbage (read the request, do not forward it,
            answer status= (default 200) with body= (default an HTML
            page; body= empty: none) and header=NAME:VALUE if given (a
            HEAD gets the headers and no body, as HTTP wants): a server
            whose success is not what S3 answers)
  select    every=N (the Nth, 2Nth, ... matching request), fraction=F
            (random, see --seed), above_rps=N (a server's rate limit:
            fire when N matching requests were let through within the
            last second), none: every matching request;
            skip=K (leave the first K matches alone), limit=M (fire at
            most M times)
  match     method=PUT, path=REGEX (re.search on the path), query=SUBSTR
  extras    retry_after=SECONDS (a Retry-After header), delay_ms=N (wait
            before acting, for any kind), status=, code=, message=

Counters (GET /__fault__) besides requests, statuses and injections, for
tests that check a client's limits from the outside: "in_flight" and
"max_in_flight" (requests between their head being read and their reply
sent, now and at most at once), "open_connections" and
"max_open_connections" (client connections), "max_requests_per_1s" (the
most requests that arrived within any one second), "by_access_key"
(requests per SigV4 access key, from Authorization's Credential=) and
"by_method" (requests per HTTP method).

Control endpoint (answered by the proxy, never forwarded):
  GET    /__fault__         counters and rules, JSON
  POST   /__fault__         {"rules": [...], "reset": true} or a bare list
                            of rules: replace the rules (their counters
                            start at 0); "reset" also zeroes the counters
  DELETE /__fault__         drop every rule

Usage: faultproxy.py --upstream http://127.0.0.1:7480 [--listen
127.0.0.1:0] [--rule RULE]... [--seed N] [-v]. Once listening it prints
"FAULTPROXY_ENDPOINT=http://127.0.0.1:PORT" on stdout (a line, flushed).
"""

import argparse
import collections
import itertools
import json
import random
import re
import select
import signal
import socket
import socketserver
import struct
import sys
import threading
import time
import urllib.parse

CONTROL_PATH = "/__fault__"
MAX_HEAD = 64 * 1024
COPY_CHUNK = 64 * 1024
# Bodies up to this size are kept, so that a request that meets a dead
# kept-alive upstream connection can be sent again on a new one.
REPLAY_LIMIT = 1024 * 1024
UPSTREAM_TIMEOUT = 300
REQUEST_IDS = itertools.count(1)

# kind: (status, reason, S3 code, message)
ERROR_KINDS = {
    "slowdown": (503, "Slow Down", "SlowDown",
                 "Please reduce your request rate."),
    "internal": (500, "Internal Server Error", "InternalError",
                 "We encountered an internal error. Please try again."),
    "throttle": (429, "Too Many Requests", "TooManyRequests",
                 "Please reduce your request rate."),
    "error": (500, "Internal Server Error", "InternalError",
              "Injected error."),
}
OTHER_KINDS = ("reset", "close", "delay", "truncate", "garbage")
GARBAGE_BODY = "<html><body>It works!</body></html>\n"
KINDS = tuple(ERROR_KINDS) + OTHER_KINDS

# Rule fields: name -> converter.
RULE_FIELDS = {
    "kind": str, "every": int, "fraction": float, "skip": int,
    "limit": int, "method": str, "path": str, "query": str,
    "retry_after": str, "delay_ms": int, "status": int, "code": str,
    "message": str, "bytes": int, "body": str, "header": str,
    "above_rps": int,
}


class ProxyError(Exception):
    pass


class Rule:
    def __init__(self, spec):
        if isinstance(spec, str):
            spec = parse_rule_text(spec)
        if not isinstance(spec, dict):
            raise ProxyError("a rule must be an object, not %r" % (spec,))
        self.spec = {}
        for k, v in spec.items():
            k = k.replace("-", "_")
            if k not in RULE_FIELDS:
                raise ProxyError("unknown rule field %r (known: %s)" %
                                 (k, ", ".join(sorted(RULE_FIELDS))))
            try:
                self.spec[k] = RULE_FIELDS[k](v)
            except (TypeError, ValueError):
                raise ProxyError("bad value %r for rule field %r" % (v, k))
        kind = self.spec.get("kind")
        if kind not in KINDS:
            raise ProxyError("unknown or missing fault kind %r (known: %s)"
                             % (kind, ", ".join(KINDS)))
        self.kind = kind
        if self.spec.get("every", 1) < 1:
            raise ProxyError("every must be at least 1")
        if not 0 <= self.spec.get("fraction", 0) <= 1:
            raise ProxyError("fraction must be within 0..1")
        try:
            self.path_re = re.compile(self.spec.get("path", ""))
        except re.error as e:
            raise ProxyError("bad path regex %r: %s" %
                             (self.spec.get("path"), e))
        if self.spec.get("above_rps", 1) < 1:
            raise ProxyError("above_rps must be at least 1")
        self.matched = 0
        self.fired = 0
        self.passed = collections.deque()   # above_rps: times let through

    def matches(self, method, path, query):
        m = self.spec.get("method")
        if m and m.upper() != method.upper():
            return False
        if "path" in self.spec and not self.path_re.search(path):
            return False
        q = self.spec.get("query")
        if q and q not in query:
            return False
        return True

    def decide(self, rng):
        """Count one matching request; True when the rule fires on it."""
        self.matched += 1
        n = self.matched - self.spec.get("skip", 0)
        if n <= 0:
            return False
        if "limit" in self.spec and self.fired >= self.spec["limit"]:
            return False
        if "above_rps" in self.spec:
            now = time.monotonic()
            while self.passed and now - self.passed[0] >= 1.0:
                self.passed.popleft()
            fire = len(self.passed) >= self.spec["above_rps"]
            if not fire:
                self.passed.append(now)
        elif "every" in self.spec:
            fire = n % self.spec["every"] == 0
        elif "fraction" in self.spec:
            fire = rng.random() < self.spec["fraction"]
        else:
            fire = True
        if fire:
            self.fired += 1
        return fire

    def describe(self):
        d = dict(self.spec)
        d["matched"] = self.matched
        d["fired"] = self.fired
        return d


def parse_rule_text(text):
    """'slowdown every=2 method=PUT' or a JSON object -> dict."""
    text = text.strip()
    if text.startswith("{"):
        try:
            return json.loads(text)
        except ValueError as e:
            raise ProxyError("bad JSON rule %r: %s" % (text, e))
    words = text.split()
    if not words:
        raise ProxyError("empty rule")
    spec = {"kind": words[0]}
    for w in words[1:]:
        k, sep, v = w.partition("=")
        if not sep:
            raise ProxyError("rule word %r is not key=value" % w)
        spec[k] = v
    return spec


def parse_rules(obj):
    if isinstance(obj, dict) and "rules" not in obj:
        obj = [obj]
    elif isinstance(obj, dict):
        obj = obj["rules"]
    if not isinstance(obj, list):
        raise ProxyError("rules must be a list")
    return [Rule(r) for r in obj]


class State:
    """Rules and counters, shared by every connection thread."""

    def __init__(self, rules=(), seed=None):
        self.lock = threading.Lock()
        self.rules = list(rules)
        self.rng = random.Random(seed)
        self.reset_counters()

    def reset_counters(self):
        self.counters = {
            "requests": 0,          # client requests, control ones excluded
            "forwarded": 0,         # sent upstream (truncated ones too)
            "client_connections": 0,
            "upstream_connections": 0,
            "upstream_errors": 0,   # could not reach or read upstream
            "control_requests": 0,
            "in_flight": 0,         # gauges: not zeroed by a reset
            "max_in_flight": 0,
            "open_connections": 0,
            "max_open_connections": 0,
            "max_requests_per_1s": 0,
        }
        old = getattr(self, "counters", None)
        if old is not None:
            # What is open now stays open: maxima restart from it.
            for k in ("in_flight", "open_connections"):
                self.counters[k] = self.counters["max_" + k] = old[k]
        self.arrivals = collections.deque()
        self.injected = dict.fromkeys(KINDS, 0)
        self.by_status = {}
        self.by_access_key = {}
        self.by_method = {}

    def count(self, name, n=1):
        with self.lock:
            self.counters[name] += n

    def gauge(self, name, delta):
        """Move a gauge (in_flight, open_connections) and its maximum."""
        with self.lock:
            c = self.counters
            c[name] += delta
            if c[name] > c["max_" + name]:
                c["max_" + name] = c[name]

    def arrived(self, access_key):
        """A request arrived: the one-second window and the key counts."""
        now = time.monotonic()
        with self.lock:
            a = self.arrivals
            a.append(now)
            while a[0] <= now - 1.0:
                a.popleft()
            if len(a) > self.counters["max_requests_per_1s"]:
                self.counters["max_requests_per_1s"] = len(a)
            if access_key:
                self.by_access_key[access_key] = \
                    self.by_access_key.get(access_key, 0) + 1

    def status_seen(self, status):
        with self.lock:
            k = str(status)
            self.by_status[k] = self.by_status.get(k, 0) + 1

    def choose(self, method, path, query):
        """The actions for one request: [(kind, rule spec)], delays first,
        at most one other action last."""
        actions = []
        with self.lock:
            self.counters["requests"] += 1
            self.by_method[method] = self.by_method.get(method, 0) + 1
            for r in self.rules:
                if not r.matches(method, path, query):
                    continue
                if not r.decide(self.rng):
                    continue
                self.injected[r.kind] += 1
                actions.append((r.kind, dict(r.spec)))
                if r.kind != "delay":
                    break
        return actions

    def snapshot(self):
        with self.lock:
            d = dict(self.counters)
            d["injected"] = dict(self.injected)
            d["injected_total"] = sum(self.injected.values())
            d["responses_by_status"] = dict(self.by_status)
            d["by_access_key"] = dict(self.by_access_key)
            d["by_method"] = dict(self.by_method)
            d["rules"] = [r.describe() for r in self.rules]
            return d

    def set_rules(self, rules, reset=False):
        """Replace the rules (None: keep them); reset zeroes counters."""
        with self.lock:
            if rules is not None:
                self.rules = rules
            if reset:
                self.reset_counters()


class Closed(Exception):
    """The peer closed the connection between requests."""


class Reader:
    """Buffered reads from a socket: lines, exact counts, chunks."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def fill(self):
        data = self.sock.recv(COPY_CHUNK)
        if not data:
            return False
        self.buf += data
        return True

    def read_head(self):
        """Bytes up to and including the blank line; Closed on EOF before
        the first byte."""
        while True:
            i = self.buf.find(b"\r\n\r\n")
            if i >= 0:
                head, self.buf = self.buf[:i + 4], self.buf[i + 4:]
                return head
            if len(self.buf) > MAX_HEAD:
                raise ProxyError("header block over %d bytes" % MAX_HEAD)
            if not self.fill():
                if self.buf:
                    raise ProxyError("connection closed inside a header")
                raise Closed()

    def read_line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i + 2], self.buf[i + 2:]
                return line
            if len(self.buf) > MAX_HEAD:
                raise ProxyError("line over %d bytes" % MAX_HEAD)
            if not self.fill():
                raise ProxyError("connection closed inside a line")

    def read_some(self, limit):
        """Up to limit bytes (at least one); b"" at EOF."""
        if not self.buf and not self.fill():
            return b""
        out, self.buf = self.buf[:limit], self.buf[limit:]
        return out

    def readable_now(self):
        if self.buf:
            return True
        r, _, _ = select.select([self.sock], [], [], 0)
        return bool(r)


def parse_head(head):
    """(first line, [(name, value)], {lowercase name: last value})."""
    lines = head.decode("latin-1").split("\r\n")
    first = lines[0]
    headers = []
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise ProxyError("malformed header line %r" % line)
        headers.append((name.strip(), value.strip()))
    index = {}
    for name, value in headers:
        index[name.lower()] = value
    return first, headers, index


def body_framing(index):
    """('chunked', None), ('length', n) or ('none', 0) for a request."""
    te = index.get("transfer-encoding", "")
    if te:
        if te.lower().split(",")[-1].strip() != "chunked":
            raise ProxyError("unsupported Transfer-Encoding %r" % te)
        return "chunked", None
    if "content-length" in index:
        try:
            n = int(index["content-length"])
        except ValueError:
            raise ProxyError("bad Content-Length %r" %
                             index["content-length"])
        if n < 0:
            raise ProxyError("negative Content-Length")
        return "length", n
    return "none", 0


def copy_body(reader, framing, length, sink):
    """Read one body from reader, framing bytes included, and hand each
    piece to sink(bytes). Returns the number of bytes handed over."""
    total = 0
    if framing == "length":
        left = length
        while left > 0:
            data = reader.read_some(min(left, COPY_CHUNK))
            if not data:
                raise ProxyError("connection closed inside a body")
            sink(data)
            total += len(data)
            left -= len(data)
    elif framing == "chunked":
        while True:
            line = reader.read_line()
            sink(line)
            total += len(line)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                raise ProxyError("bad chunk size line %r" % line)
            if size == 0:
                # Trailers, then the blank line.
                while True:
                    line = reader.read_line()
                    sink(line)
                    total += len(line)
                    if line == b"\r\n":
                        return total
            total += copy_body(reader, "length", size + 2, sink)
    elif framing == "eof":
        while True:
            data = reader.read_some(COPY_CHUNK)
            if not data:
                break
            sink(data)
            total += len(data)
    return total


def access_key(authorization):
    """The access key of a SigV4 Authorization header, or None."""
    m = re.search(r"Credential=([^/,\s]+)/", authorization)
    return m.group(1) if m else None


def wants_close(version, index):
    conn = index.get("connection", "").lower()
    if "close" in conn:
        return True
    return version == "HTTP/1.0" and "keep-alive" not in conn


def error_reply(kind, spec, path, reqid, close):
    status, reason, code, message = ERROR_KINDS[kind]
    if kind == "error":
        status = spec.get("status", status)
        reason = "Injected"
    code = spec.get("code", code)
    message = spec.get("message", message)
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            "<Error><Code>%s</Code><Message>%s</Message>"
            "<Resource>%s</Resource><RequestId>%s</RequestId></Error>" %
            (xml_escape(code), xml_escape(message), xml_escape(path),
             reqid)).encode()
    lines = ["HTTP/1.1 %d %s" % (status, reason),
             "Content-Type: application/xml",
             "Content-Length: %d" % len(body),
             "x-amz-request-id: %s" % reqid,
             "x-faultproxy: %s" % kind,
             "Date: %s" % http_date()]
    if "retry_after" in spec:
        lines.append("Retry-After: %s" % spec["retry_after"])
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body, status


def plain_reply(status, reason, body, ctype="text/plain", close=False,
                extra=(), head=False):
    """A reply; extra: more header lines; head: the headers of a reply to
    HEAD (Content-Length of the body, which is not sent)."""
    body = body.encode() if isinstance(body, str) else body
    lines = ["HTTP/1.1 %d %s" % (status, reason),
             "Content-Type: %s" % ctype,
             "Content-Length: %d" % len(body)] + list(extra)
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + \
        (b"" if head else body)


def xml_escape(s):
    return (s.replace("&", "&amp;").replace("<", "&lt;")
            .replace(">", "&gt;"))


def http_date():
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())


class Handler(socketserver.BaseRequestHandler):
    """One client connection: requests in a loop, one upstream connection
    kept alive alongside."""

    def setup(self):
        self.state = self.server.state
        self.up = None
        self.up_reader = None
        self.reader = Reader(self.request)
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.state.count("client_connections")
        # open_connections counts connections that carried an S3 request
        # (a test's own control requests are not the client's).
        self.open_counted = False

    def finish(self):
        self.close_upstream()
        if self.open_counted:
            self.state.gauge("open_connections", -1)

    def log(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("faultproxy: " + (fmt % args) + "\n")

    def handle(self):
        try:
            while self.one_request():
                pass
        except Closed:
            pass
        except ProxyError as e:
            self.log("%s: dropping the connection", e)
        except OSError as e:
            self.log("connection error: %s", e)

    def close_upstream(self):
        if self.up is not None:
            try:
                self.up.close()
            except OSError:
                pass
        self.up = self.up_reader = None

    def connect_upstream(self):
        self.close_upstream()
        self.up = socket.create_connection(self.server.upstream,
                                           timeout=UPSTREAM_TIMEOUT)
        self.up.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.up_reader = Reader(self.up)
        self.state.count("upstream_connections")

    def send(self, data):
        self.request.sendall(data)

    def one_request(self):
        """Serve one request; False when the client connection must end."""
        head = self.reader.read_head()
        first, headers, index = parse_head(head)
        parts = first.split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            self.send(plain_reply(400, "Bad Request", "bad request line\n",
                                  close=True))
            return False
        method, target, version = parts
        url = urllib.parse.urlsplit(target)
        path, query = url.path, url.query
        close = wants_close(version, index)
        framing, length = body_framing(index)
        if index.get("expect", "").lower() == "100-continue":
            self.send(b"HTTP/1.1 100 Continue\r\n\r\n")

        if path == CONTROL_PATH or path.startswith(CONTROL_PATH + "/"):
            body = []
            copy_body(self.reader, framing, length, body.append)
            self.control(method, b"".join(body), close)
            return not close

        if not self.open_counted:
            self.open_counted = True
            self.state.gauge("open_connections", 1)
        self.state.arrived(access_key(index.get("authorization", "")))
        self.state.gauge("in_flight", 1)
        try:
            return self.serve(method, path, query, head, framing, length,
                              close, target)
        finally:
            self.state.gauge("in_flight", -1)

    def serve(self, method, path, query, head, framing, length, close,
              target):
        """One forwarded (or faulted) request, its reply sent."""
        actions = self.state.choose(method, path, query)
        for kind, spec in actions:
            if spec.get("delay_ms"):
                time.sleep(spec["delay_ms"] / 1000.0)
        action = actions[-1] if actions and actions[-1][0] != "delay" \
            else (None, {})
        kind, spec = action
        if kind:
            self.log("%s %s -> %s", method, target, kind)

        if kind in ERROR_KINDS or kind in ("reset", "close"):
            copy_body(self.reader, framing, length, lambda b: None)
            if kind == "reset":
                # SO_LINGER with a zero timeout: close() sends a RST, and
                # nothing else (socketserver's own shutdown would send a
                # FIN first).
                self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                        struct.pack("ii", 1, 0))
                self.request.close()
                return False
            if kind == "close":
                return False
            reqid = "faultproxy-%d" % next(REQUEST_IDS)
            reply, status = error_reply(kind, spec, path, reqid, close)
            self.send(reply)
            self.state.status_seen(status)
            return not close

        if kind == "garbage":
            copy_body(self.reader, framing, length, lambda b: None)
            status = spec.get("status", 200)
            extra = []
            if spec.get("header"):
                name, _, value = spec["header"].partition(":")
                extra.append("%s: %s" % (name.strip(), value.strip()))
            reply = plain_reply(status, "OK" if status == 200 else "Injected",
                                spec.get("body", GARBAGE_BODY),
                                ctype="text/html", close=close, extra=extra,
                                head=method == "HEAD")
            self.send(reply)
            self.state.status_seen(status)
            return not close

        return self.forward(method, head, framing, length, close,
                            spec if kind == "truncate" else None)

    def forward(self, method, head, framing, length, close, truncate):
        kept = []
        size = 0
        up_err = None

        def to_upstream(data):
            nonlocal size, up_err
            size += len(data)
            if size <= REPLAY_LIMIT:
                kept.append(data)
            if up_err is None:
                try:
                    self.up.sendall(data)
                except OSError as e:
                    # Keep reading the client's body all the same: the
                    # request may be sent again on a new connection.
                    up_err = e

        try:
            reused = self.up is not None and not self.up_reader.readable_now()
            if not reused:
                # None yet, or the kept-alive one was closed by the server
                # (or it sent something unasked): start a new one.
                self.connect_upstream()
        except OSError as e:
            reused, up_err = False, e
        to_upstream(head)
        copy_body(self.reader, framing, length, to_upstream)
        status_head = None
        if up_err is None:
            try:
                status_head = self.read_upstream_head()
            except (OSError, Closed, ProxyError) as e:
                up_err = e
        if up_err is not None and reused and size <= REPLAY_LIMIT:
            # A kept-alive connection the server dropped as we used it.
            try:
                self.connect_upstream()
                self.up.sendall(b"".join(kept))
                status_head = self.read_upstream_head()
                up_err = None
            except (OSError, Closed, ProxyError) as e:
                up_err = e
        if up_err is not None:
            self.close_upstream()
            self.state.count("upstream_errors")
            self.log("upstream: %s", up_err)
            self.send(plain_reply(502, "Bad Gateway",
                                  "faultproxy: upstream: %s\n" % up_err,
                                  close=True))
            self.state.status_seen(502)
            return False

        self.state.count("forwarded")
        rhead, rstatus, rindex, rversion = status_head
        self.state.status_seen(rstatus)
        if method == "HEAD" or rstatus in (204, 304):
            rframing, rlength = "none", 0
        else:
            rframing, rlength = body_framing(rindex)
            if rframing == "none":
                rframing = "eof"
        up_close = wants_close(rversion, rindex) or rframing == "eof"

        if truncate is not None:
            self.send_truncated(rhead, rframing, rlength, truncate)
            self.close_upstream()
            return False

        self.send(rhead)
        copy_body(self.up_reader, rframing, rlength, self.send)
        if up_close:
            # The client read the upstream's "Connection: close" too.
            self.close_upstream()
            return False
        return not close

    def read_upstream_head(self):
        """The final response head, interim 1xx replies dropped."""
        while True:
            rhead = self.up_reader.read_head()
            first, _, rindex = parse_head(rhead)
            parts = first.split(" ", 2)
            try:
                status = int(parts[1])
            except (IndexError, ValueError):
                raise ProxyError("bad upstream status line %r" % first)
            if 100 <= status < 200 and status != 101:
                continue
            return rhead, status, rindex, parts[0]

    def send_truncated(self, rhead, rframing, rlength, spec):
        body = []
        try:
            copy_body(self.up_reader, rframing, rlength, body.append)
        except ProxyError:
            pass
        body = b"".join(body)
        whole = rhead + body
        if "bytes" in spec:
            keep = max(0, min(spec["bytes"], len(whole) - 1))
        elif body:
            keep = len(rhead) + len(body) // 2
        else:
            # Half the status line: most clients take a head cut between
            # header lines, or inside the last one, for a whole one.
            keep = rhead.find(b"\r\n") // 2
        self.send(whole[:keep])

    def control(self, method, body, close):
        self.state.count("control_requests")
        try:
            if method == "GET":
                pass
            elif method == "DELETE":
                self.state.set_rules([])
            elif method == "POST":
                obj = json.loads(body.decode() or "{}")
                reset = isinstance(obj, dict) and bool(obj.get("reset"))
                if isinstance(obj, dict) and "rules" not in obj and \
                        "kind" not in obj:
                    # {"reset": true} alone: counters only.
                    self.state.set_rules(None, reset)
                else:
                    self.state.set_rules(parse_rules(obj), reset)
            else:
                self.send(plain_reply(405, "Method Not Allowed",
                                      "GET, POST or DELETE\n", close=close))
                return
        except (ValueError, ProxyError) as e:
            self.send(plain_reply(400, "Bad Request",
                                  json.dumps({"error": str(e)}) + "\n",
                                  "application/json", close))
            return
        self.send(plain_reply(200, "OK",
                              json.dumps(self.state.snapshot(),
                                         sort_keys=True) + "\n",
                              "application/json", close))


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, listen, upstream, state, verbose=False):
        self.upstream = upstream
        self.state = state
        self.verbose = verbose
        super().__init__(listen, Handler)


def parse_hostport(text, what):
    if "://" in text:
        u = urllib.parse.urlsplit(text)
        if u.scheme != "http":
            raise ProxyError("%s: only http:// is supported, not %r" %
                             (what, text))
        return u.hostname, u.port or 80
    host, sep, port = text.rpartition(":")
    if not sep:
        raise ProxyError("%s: %r is not HOST:PORT" % (what, text))
    return host or "127.0.0.1", int(port)


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="HTTP/1.1 reverse proxy that injects faults (a test "
        "stand-in; see the top of this file for the rule syntax)")
    ap.add_argument("--upstream", required=True,
                    help="http://HOST:PORT of the real server")
    ap.add_argument("--listen", default="127.0.0.1:0",
                    help="HOST:PORT to listen on (port 0: any free port)")
    ap.add_argument("--rule", action="append", default=[],
                    help="a rule, 'KIND key=value ...' or JSON; repeatable")
    ap.add_argument("--seed", type=int, default=None,
                    help="seed for fraction= rules")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="log every injected fault on stderr")
    args = ap.parse_args(argv)
    try:
        upstream = parse_hostport(args.upstream, "--upstream")
        listen = parse_hostport(args.listen, "--listen")
        rules = [Rule(r) for r in args.rule]
    except (ProxyError, ValueError) as e:
        sys.stderr.write("faultproxy: %s\n" % e)
        return 2
    srv = Server(listen, upstream, State(rules, args.seed), args.verbose)
    host, port = srv.server_address[:2]
    sys.stdout.write("FAULTPROXY_ENDPOINT=http://%s:%d\n" % (host, port))
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
