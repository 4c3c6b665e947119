"""Fault injection for the integration tests: tests/faultproxy.py between a
client (boto3 or the daemon) and the real RGW.

The proxy is a test stand-in for faults no real server produces on demand
(SlowDown, 500, 429 with Retry-After, reset connections, delays, truncated
replies); it forwards everything else byte for byte, so signatures made
for the proxy's address still verify at RGW.

    from faults import FaultProxy

    def test_x(fault_proxy, s3):       # fault_proxy: a conftest fixture
        fault_proxy.set_rules(["slowdown every=2"])
        client = make_client(fault_proxy.endpoint, "TESTAK", "TESTSK")
        ...
        assert fault_proxy.stats()["injected"]["slowdown"] > 0

Rules are strings ("KIND key=value ...") or dicts; see the top of
tests/faultproxy.py for kinds and keys.
"""

import http.client
import json
import subprocess
import sys
import urllib.parse

from s3b import TOP, read_line

PROXY = TOP / "tests" / "faultproxy.py"


class FaultProxyError(Exception):
    pass


class FaultProxy:
    """tests/faultproxy.py in a child process, forwarding to upstream."""

    def __init__(self, upstream, rules=(), seed=None, verbose=False):
        self.upstream = upstream.rstrip("/")
        self.rules = list(rules)
        self.seed = seed
        self.verbose = verbose
        self.proc = None
        self.endpoint = None

    def start(self, timeout=10):
        cmd = [sys.executable, str(PROXY), "--upstream", self.upstream,
               "--listen", "127.0.0.1:0"]
        for r in self.rules:
            cmd += ["--rule", r if isinstance(r, str) else json.dumps(r)]
        if self.seed is not None:
            cmd += ["--seed", str(self.seed)]
        if self.verbose:
            cmd.append("-v")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, text=True)
        try:
            line = read_line(self.proc.stdout, timeout,
                             "faultproxy's FAULTPROXY_ENDPOINT= line")
        except AssertionError:
            self.stop()
            raise
        if not line.startswith("FAULTPROXY_ENDPOINT="):
            self.stop()
            raise FaultProxyError("faultproxy did not start (exit %s)" %
                                  self.proc.returncode)
        self.endpoint = line.strip().partition("=")[2]
        return self

    def stop(self, timeout=10):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _control(self, method, body=None):
        u = urllib.parse.urlsplit(self.endpoint)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        try:
            data = None if body is None else json.dumps(body).encode()
            conn.request(method, "/__fault__", body=data,
                         headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            text = resp.read().decode()
        finally:
            conn.close()
        if resp.status != 200:
            raise FaultProxyError("faultproxy %s: %d %s" %
                                  (method, resp.status, text.strip()))
        return json.loads(text)

    def set_rules(self, rules, reset=True):
        """Replace the rules (strings or dicts). reset: zero the counters
        as well. Returns the proxy's stats."""
        return self._control("POST", {"rules": list(rules),
                                      "reset": bool(reset)})

    def clear(self):
        """No rules: forward everything."""
        return self._control("DELETE")

    def reset_stats(self):
        return self._control("POST", {"reset": True})

    def stats(self):
        """{"requests", "forwarded", "injected": {kind: n},
        "injected_total", "client_connections", "upstream_connections",
        "upstream_errors", "responses_by_status", "in_flight",
        "max_in_flight", "open_connections", "max_open_connections",
        "max_requests_per_1s", "by_access_key", "rules": [...]}"""
        return self._control("GET")
