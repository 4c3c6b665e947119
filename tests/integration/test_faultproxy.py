"""The fault-injection proxy (tests/faultproxy.py) in front of the real RGW,
driven by boto3: what it forwards still verifies at RGW, and each fault
kind reaches the client as intended (with retries on, boto3 gets through).
"""

import concurrent.futures
import io
import socket
import threading
import time
import urllib.parse

import botocore.exceptions
import pytest

from faults import FaultProxy, FaultProxyError
from s3b import error_code, http_status, make_client

RETRIES = {"total_max_attempts": 6, "mode": "standard"}
TAGS = {"TagSet": [{"Key": "state", "Value": "done"}]}


def client_for(proxy, retries=False, **config):
    if retries:
        config["retries"] = RETRIES
    return make_client(proxy.endpoint, "TESTAK", "TESTSK", **config)


def tags_of(s3, bucket, key):
    return {t["Key"]: t["Value"]
            for t in s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]}


def test_forwards_signed_requests_over_kept_alive_connections(
        fault_proxy, s3, bucket):
    c = client_for(fault_proxy)
    c.put_object(Bucket=bucket, Key="dir/a b+c", Body=b"hello",
                 ContentType="text/x-test", CacheControl="no-cache",
                 Metadata={"colour": "blue"}, Tagging="t=1")
    for i in range(8):
        c.put_object_tagging(Bucket=bucket, Key="dir/a b+c", Tagging={
            "TagSet": [{"Key": "n", "Value": str(i)}]})
    h = c.head_object(Bucket=bucket, Key="dir/a b+c")
    assert h["ContentType"] == "text/x-test"
    assert c.get_object(Bucket=bucket, Key="dir/a b+c")["Body"].read() == \
        b"hello"
    assert [o["Key"] for o in c.list_objects_v2(Bucket=bucket)["Contents"]] \
        == ["dir/a b+c"]
    # Checked directly at RGW, not through the proxy.
    assert s3.head_object(Bucket=bucket, Key="dir/a b+c")["Metadata"] == \
        {"colour": "blue"}
    assert tags_of(s3, bucket, "dir/a b+c") == {"n": "7"}

    st = fault_proxy.stats()
    assert st["requests"] == st["forwarded"] == 12
    assert st["injected_total"] == 0
    assert st["responses_by_status"] == {"200": 12}
    # One client connection and one upstream connection for all of it
    # (plus nothing for the control request, which is not forwarded).
    assert st["upstream_connections"] == 1
    assert st["client_connections"] == 2


def test_expect_continue(fault_proxy, s3, bucket):
    c = client_for(fault_proxy)
    # A file-like body makes botocore send "Expect: 100-continue".
    c.put_object(Bucket=bucket, Key="expect", Body=io.BytesIO(b"e" * 70000))
    assert s3.get_object(Bucket=bucket, Key="expect")["Body"].read() == \
        b"e" * 70000
    # The proxy answers the 100 itself, RGW's own interim reply is dropped.
    st = fault_proxy.stats()
    assert st["responses_by_status"] == {"200": 1}


class RawUpstream:
    """A stand-in upstream that records the raw bytes of each request
    (head and chunked body) and answers with a chunked reply. RGW refuses
    chunked request bodies (411), so byte-exact forwarding of them is
    checked here instead."""

    def __init__(self, close_after_reply=False):
        self.close_after_reply = close_after_reply
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.endpoint = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        self.seen = []
        self.connections = 0
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            # A proxy that stops mid-request ends this thread, not the run.
            conn.settimeout(30)
            try:
                with conn:
                    data = b""
                    while True:
                        # Each test request ends with the last chunk.
                        while not data.endswith(b"0\r\n\r\n"):
                            more = conn.recv(65536)
                            if not more:
                                break
                            data += more
                        if not data:
                            break
                        self.seen.append(data)
                        data = b""
                        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: "
                                     b"chunked\r\n\r\n5\r\nhello\r\n"
                                     b"6;ext=1\r\n world\r\n0\r\n"
                                     b"X-Trailer: t\r\n\r\n")
                        if self.close_after_reply:
                            # Unannounced, as an idle timeout would.
                            break
            except OSError:
                pass

    def close(self):
        self.sock.close()


@pytest.mark.parametrize("upstream_closes", [False, True])
def test_forwards_heads_and_chunked_bodies_byte_for_byte(upstream_closes):
    """And when the upstream drops a kept-alive connection, the proxy opens
    another one without the client noticing."""
    up = RawUpstream(upstream_closes)
    try:
        with FaultProxy(up.endpoint) as p:
            u = urllib.parse.urlsplit(p.endpoint)
            req = (b"PUT /b/k%20x?tagging HTTP/1.1\r\n"
                   b"Host: s3.example:9000\r\n"
                   b"X-Amz-Date: 20260101T000000Z\r\n"
                   b"authorization: AWS4-HMAC-SHA256 Credential=x\r\n"
                   b"x-amz-meta-Mixed:  two  spaces \r\n"
                   b"Transfer-Encoding: chunked\r\n\r\n"
                   b"3\r\nabc\r\n4;name=v\r\ndefg\r\n0\r\n\r\n")
            with socket.create_connection((u.hostname, u.port),
                                          timeout=10) as s:
                for _ in range(2):
                    s.sendall(req)
                    got = b""
                    while not got.endswith(b"X-Trailer: t\r\n\r\n"):
                        more = s.recv(65536)
                        assert more, got
                        got += more
                    assert got.endswith(b"\r\n\r\n5\r\nhello\r\n6;ext=1"
                                        b"\r\n world\r\n0\r\n"
                                        b"X-Trailer: t\r\n\r\n")
            assert up.seen == [req, req]
            assert up.connections == (2 if upstream_closes else 1)
            st = p.stats()
            assert st["client_connections"] == 2    # with this one
            assert st["upstream_connections"] == up.connections
            assert st["upstream_errors"] == 0
    finally:
        up.close()


def test_slowdown_every_second_request_is_retried(fault_proxy, s3, bucket):
    keys = ["k%d" % i for i in range(6)]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    fault_proxy.set_rules(["slowdown every=2"])
    c = client_for(fault_proxy, retries=True)
    retried = 0
    for k in keys:
        r = c.put_object_tagging(Bucket=bucket, Key=k, Tagging=TAGS)
        assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
        retried += r["ResponseMetadata"]["RetryAttempts"]
    for k in keys:
        assert tags_of(s3, bucket, k) == {"state": "done"}
    st = fault_proxy.stats()
    # Requests 2, 4, 6, ... were answered SlowDown and retried once each.
    assert st["injected"]["slowdown"] == retried == len(keys) - 1
    assert st["requests"] == len(keys) + retried
    assert st["responses_by_status"] == {"200": len(keys),
                                         "503": len(keys) - 1}

    # Without retries the client sees the injected reply itself.
    fault_proxy.set_rules(["slowdown"])
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        client_for(fault_proxy).head_object(Bucket=bucket, Key="k0")
    assert http_status(ei.value) == 503
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        client_for(fault_proxy).get_object(Bucket=bucket, Key="k0")
    assert http_status(ei.value) == 503
    assert error_code(ei.value) == "SlowDown"
    hdrs = ei.value.response["ResponseMetadata"]["HTTPHeaders"]
    assert hdrs["x-faultproxy"] == "slowdown"


def test_error_replies_and_retry_after(fault_proxy, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    c = client_for(fault_proxy)
    fault_proxy.set_rules([
        "internal limit=1",
        {"kind": "throttle", "limit": 1, "retry_after": "3"},
        "error status=502 code=BadGateway limit=1",
    ])
    seen = []
    for _ in range(3):
        with pytest.raises(botocore.exceptions.ClientError) as ei:
            c.get_object(Bucket=bucket, Key="k")
        hdrs = ei.value.response["ResponseMetadata"]["HTTPHeaders"]
        seen.append((http_status(ei.value), error_code(ei.value),
                     hdrs.get("retry-after")))
    assert seen == [(500, "InternalError", None),
                    (429, "TooManyRequests", "3"),
                    (502, "BadGateway", None)]
    # The limits are used up: forwarded again.
    assert c.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"
    st = fault_proxy.stats()
    assert st["injected"]["internal"] == st["injected"]["throttle"] == \
        st["injected"]["error"] == 1
    assert [r["fired"] for r in st["rules"]] == [1, 1, 1]
    # An error reply keeps the connection alive.
    assert st["client_connections"] == 2


def test_reset_connections(fault_proxy, s3, bucket):
    keys = ["r%d" % i for i in range(4)]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    fault_proxy.set_rules(["reset every=2 query=tagging"])
    c = client_for(fault_proxy, retries=True)
    for k in keys:
        c.put_object_tagging(Bucket=bucket, Key=k, Tagging=TAGS)
    for k in keys:
        assert tags_of(s3, bucket, k) == {"state": "done"}
    st = fault_proxy.stats()
    assert st["injected"]["reset"] == len(keys) - 1
    # Each reset costs the client its connection.
    assert st["client_connections"] >= 1 + len(keys) - 1

    # Without retries the client sees the connection drop.
    fault_proxy.set_rules(["reset limit=1"])
    with pytest.raises((botocore.exceptions.HTTPClientError,
                        botocore.exceptions.ConnectionError)):
        client_for(fault_proxy).put_object_tagging(Bucket=bucket, Key="r0",
                                                   Tagging=TAGS)

    # On the wire: the whole request is read, then a RST and no reply.
    fault_proxy.set_rules(["reset limit=1"])
    u = urllib.parse.urlsplit(fault_proxy.endpoint)
    with socket.create_connection((u.hostname, u.port), timeout=10) as s:
        s.sendall(b"PUT /%s/r0 HTTP/1.1\r\nHost: x\r\nContent-Length: 3"
                  b"\r\n\r\nabc" % bucket.encode())
        with pytest.raises(ConnectionResetError):
            s.recv(100)

    # "close": a clean end without a reply.
    fault_proxy.set_rules(["close limit=1"])
    with socket.create_connection((u.hostname, u.port), timeout=10) as s:
        s.sendall(b"GET /%s/r0 HTTP/1.1\r\nHost: x\r\n\r\n" %
                  bucket.encode())
        assert s.recv(100) == b""


def test_delays(fault_proxy, s3, bucket):
    s3.put_object(Bucket=bucket, Key="d", Body=b"x")
    fault_proxy.set_rules(["delay delay_ms=400 method=GET"])
    c = client_for(fault_proxy)
    t = time.monotonic()
    c.head_object(Bucket=bucket, Key="d")
    assert time.monotonic() - t < 0.35
    t = time.monotonic()
    assert c.get_object(Bucket=bucket, Key="d")["Body"].read() == b"x"
    assert time.monotonic() - t >= 0.4
    # A read timeout shorter than the delay.
    impatient = client_for(fault_proxy, read_timeout=0.15)
    with pytest.raises(botocore.exceptions.ReadTimeoutError):
        impatient.get_object(Bucket=bucket, Key="d")
    # A delay, then the next rule still applies: a slow SlowDown.
    fault_proxy.set_rules(["delay delay_ms=300", "slowdown"])
    t = time.monotonic()
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        c.head_object(Bucket=bucket, Key="d")
    assert http_status(ei.value) == 503
    assert time.monotonic() - t >= 0.3
    st = fault_proxy.stats()
    assert st["injected"]["delay"] == 1 and st["injected"]["slowdown"] == 1


def test_truncated_replies(fault_proxy, s3, bucket):
    body = bytes(range(256)) * 40
    s3.put_object(Bucket=bucket, Key="t", Body=body)
    fault_proxy.set_rules(["truncate method=GET limit=1"])
    c = client_for(fault_proxy)
    r = c.get_object(Bucket=bucket, Key="t")
    assert r["ContentLength"] == len(body)
    with pytest.raises(Exception) as ei:
        r["Body"].read()
    assert "IncompleteRead" in repr(ei.value) or \
        "ProtocolError" in repr(ei.value)
    assert c.get_object(Bucket=bucket, Key="t")["Body"].read() == body

    # An empty-bodied reply is cut inside its head: a broken reply that a
    # retrying client gets over.
    fault_proxy.set_rules(["truncate query=tagging every=2"])
    with pytest.raises((botocore.exceptions.HTTPClientError,
                        botocore.exceptions.ConnectionError)):
        for _ in range(2):
            c.put_object_tagging(Bucket=bucket, Key="t", Tagging=TAGS)
    client_for(fault_proxy, retries=True).put_object_tagging(
        Bucket=bucket, Key="t", Tagging=TAGS)
    assert tags_of(s3, bucket, "t") == {"state": "done"}
    # A fixed number of bytes.
    fault_proxy.set_rules(["truncate bytes=5 limit=1"])
    u = urllib.parse.urlsplit(fault_proxy.endpoint)
    with socket.create_connection((u.hostname, u.port), timeout=10) as s:
        s.sendall(b"GET /%s/t HTTP/1.1\r\nHost: x\r\n\r\n" % bucket.encode())
        got = b""
        while True:
            data = s.recv(100)
            if not data:
                break
            got += data
    assert got == b"HTTP/"


def test_rule_matching(fault_proxy, s3, bucket):
    s3.put_object(Bucket=bucket, Key="xa", Body=b"x")
    s3.put_object(Bucket=bucket, Key="ya", Body=b"x")
    fault_proxy.set_rules(["internal method=PUT query=tagging",
                           "slowdown path=/x skip=1"])
    c = client_for(fault_proxy)
    c.get_object_tagging(Bucket=bucket, Key="ya")
    c.put_object(Bucket=bucket, Key="ya", Body=b"y")
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        c.put_object_tagging(Bucket=bucket, Key="ya", Tagging=TAGS)
    assert error_code(ei.value) == "InternalError"
    c.head_object(Bucket=bucket, Key="xa")          # skipped
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        c.head_object(Bucket=bucket, Key="xa")
    assert http_status(ei.value) == 503
    st = fault_proxy.stats()
    assert [(r["matched"], r["fired"]) for r in st["rules"]] == \
        [(1, 1), (2, 1)]


def test_fraction_is_seeded_and_counted(fault_proxy, s3, bucket):
    s3.put_object(Bucket=bucket, Key="f", Body=b"x")
    fault_proxy.set_rules(["internal fraction=0.5"])
    c = client_for(fault_proxy)
    errors = 0
    for _ in range(40):
        try:
            c.head_object(Bucket=bucket, Key="f")
        except botocore.exceptions.ClientError as e:
            assert http_status(e) == 500
            errors += 1
    assert 5 <= errors <= 35
    assert fault_proxy.stats()["injected"]["internal"] == errors


def test_concurrent_clients_with_slowdowns(fault_proxy, s3, bucket):
    keys = ["c%03d" % i for i in range(96)]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    fault_proxy.set_rules(["slowdown every=5"])
    c = client_for(fault_proxy, retries=True, max_pool_connections=16)
    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        rs = list(ex.map(lambda k: c.put_object_tagging(
            Bucket=bucket, Key=k, Tagging=TAGS), keys))
    retried = sum(r["ResponseMetadata"]["RetryAttempts"] for r in rs)
    st = fault_proxy.stats()
    assert st["injected"]["slowdown"] == retried > 0
    assert st["forwarded"] == len(keys)
    assert st["client_connections"] <= 17
    for k in keys[::10]:
        assert tags_of(s3, bucket, k) == {"state": "done"}


def test_control_endpoint(fault_proxy):
    with pytest.raises(FaultProxyError, match="unknown or missing"):
        fault_proxy.set_rules(["explode"])
    with pytest.raises(FaultProxyError, match="unknown rule field"):
        fault_proxy.set_rules([{"kind": "slowdown", "evry": 2}])
    with pytest.raises(FaultProxyError, match="bad path regex"):
        fault_proxy.set_rules(["slowdown path=("])
    with pytest.raises(FaultProxyError, match="every must be"):
        fault_proxy.set_rules(["slowdown every=0"])
    st = fault_proxy.set_rules(["slowdown every=3", "delay delay_ms=5"])
    assert [r["kind"] for r in st["rules"]] == ["slowdown", "delay"]
    assert fault_proxy.clear()["rules"] == []
    st = fault_proxy.reset_stats()
    assert st["requests"] == 0 and st["injected_total"] == 0
