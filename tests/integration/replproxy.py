"""replproxy: a TEST STAND-IN for bucket replication configurations.

Ceph RGW (Pacific, as in tests/rgw) refuses PutBucketReplication
(MethodNotAllowed), so no real server here can hold the replication
configuration that S3ReplicateObject reads. This reverse proxy answers
GET /BUCKET?replication itself, from the configurations a test gives it
(ReplicationConfigurationNotFoundError, 404, for other buckets, as Amazon
does), and forwards every other request to the real RGW: the request head
with Host and every signed header as the client sent them (so SigV4
signatures made for the proxy's address verify upstream), the body as
read (Content-Length), the answer as RGW gave it. "Expect: 100-continue"
is answered by the proxy. Nothing but the ?replication answers comes from
the proxy; those carry an "x-replproxy: 1" header.

    with ReplProxy("http://127.0.0.1:7480") as p:
        p.configs["bucket"] = "<ReplicationConfiguration>...</...>"
        ... p.endpoint ...

default_config answers for every bucket without its own configuration;
list_delay holds each listing (ListObjectsV2, ListObjectVersions) back for
that many seconds and `lists` counts them, for tests that need a listing
slow enough to act during it.
"""

import http.client
import http.server
import threading
import time
import urllib.parse

HOP = {"connection", "keep-alive", "transfer-encoding", "expect",
       "proxy-connection", "upgrade", "te", "trailer"}


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def _reply(self, status, body, ctype="application/xml"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-replproxy", "1")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _upstream(self):
        c = getattr(self, "_conn", None)
        if c is None:
            u = urllib.parse.urlsplit(self.server.upstream)
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
            self._conn = c
        return c

    def _serve(self):
        path, _, query = self.path.partition("?")
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        params = query.split("&")
        if self.command == "GET" and "replication" in params:
            bucket = urllib.parse.unquote(path.strip("/"))
            self.server.hits.append(bucket)
            cfg = self.server.configs.get(bucket,
                                          self.server.default_config)
            if cfg is None:
                self._reply(404, (
                    '<?xml version="1.0" encoding="UTF-8"?><Error><Code>'
                    'ReplicationConfigurationNotFoundError</Code><Message>'
                    'The replication configuration was not found</Message>'
                    '<BucketName>%s</BucketName></Error>' % bucket).encode())
            else:
                self._reply(200, cfg.encode())
            return
        if self.command == "GET" and ("list-type=2" in params or
                                      "versions" in params):
            with self.server.lock:
                self.server.lists += 1
            time.sleep(self.server.list_delay)
        headers = [(k, v) for k, v in self.headers.items()
                   if k.lower() not in HOP]
        for attempt in (0, 1):
            c = self._upstream()
            try:
                c.putrequest(self.command, self.path, skip_host=True,
                             skip_accept_encoding=True)
                for k, v in headers:
                    c.putheader(k, v)
                c.endheaders(body if body else None)
                resp = c.getresponse()
                data = resp.read()
                break
            except (http.client.HTTPException, OSError):
                # A kept-alive upstream connection that closed: once more.
                c.close()
                self._conn = None
                if attempt:
                    raise
        self.send_response(resp.status, resp.reason)
        for k, v in resp.getheaders():
            # A chunked answer is relayed whole, with its length.
            if k.lower() in HOP or (k.lower() == "content-length" and
                                    self.command != "HEAD"):
                continue
            self.send_header(k, v)
        if self.command != "HEAD":
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _serve


class ReplProxy:
    def __init__(self, upstream, default_config=None, list_delay=0.0):
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                      _Handler)
        self.server.daemon_threads = True
        self.server.upstream = upstream
        self.server.configs = {}
        self.server.default_config = default_config
        self.server.hits = []
        self.server.lock = threading.Lock()
        self.server.lists = 0
        self.server.list_delay = list_delay
        self.configs = self.server.configs
        self.hits = self.server.hits
        self.endpoint = "http://127.0.0.1:%d" % self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)

    @property
    def lists(self):
        """Listing requests forwarded so far."""
        return self.server.lists

    @property
    def list_delay(self):
        return self.server.list_delay

    @list_delay.setter
    def list_delay(self, seconds):
        self.server.list_delay = seconds

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
