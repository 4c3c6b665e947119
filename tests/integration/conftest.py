"""Fixtures for the integration tests: a real S3 server on loopback.

The server is Ceph RGW, started by tests/rgw/start-rgw.sh for the session
(about 2 s) and stopped at the end; set S3B_RGW_ENDPOINT to reuse one that
is already running instead. Results are checked with boto3, an S3 client
independent of the project's own code. See docs/TESTING.md.

The job cases that take the `server` fixture run once per S3 server: RGW
and OpenStack Swift's s3api (tests/swift/start-swift.sh, about 12 s, also
started once per session unless S3B_SWIFT_ENDPOINT names a running one).

Environment:
  S3B_SERVERS        the servers the `server` cases run against: rgw,swift
                     (default both); the cases of a server left out are
                     deselected and the summary says so
  S3B_SWIFT_ENDPOINT use this running Swift s3api (start-swift.sh's users)
  S3B_RGW_ENDPOINT   use this running RGW (e.g. http://127.0.0.1:7480)
  S3B_RGW_BASE       its base directory (for radosgw-admin); by default the
                     start-rgw.sh base under $TMPDIR whose env file names
                     that endpoint
  S3B_RGW_KEEP=1     leave the RGW this session started running (its
                     RGW_ENDPOINT/RGW_BASE are printed at the end)

Every test has a deadline: pytest.ini sets `timeout` (python3-pytest-timeout)
and @pytest.mark.timeout(N) gives a test more; without the plugin the
fallback below enforces both with SIGALRM.
"""

import glob
import json
import os
import signal
import socket
import subprocess
import tempfile
import time

import botocore.exceptions
import pytest

# Plain helpers live in s3b.py, the one helper module; they are imported
# here for the fixtures (and stay importable from conftest for old users,
# e.g. tests/bench).
from s3b import (REGION, STORAGE_CLASSES, SWIFT_USERS, TOP,  # noqa: F401
                 USERS, Daemon, create_bucket, empty_bucket, endpoint_conf,
                 error_code, free_ports, http_status, list_keys, make_client,
                 put_objects, remove_bucket, servers_enabled,
                 unique_bucket_name)

RGW_SCRIPTS = TOP / "tests" / "rgw"
SWIFT_SCRIPTS = TOP / "tests" / "swift"

@pytest.fixture
def daemon():
    """A daemon with no S3 endpoint, in its own directory under /tmp:
    other uids must reach its socket, and pytest's tmp_path is private to
    root."""
    d = Daemon().start()
    yield d
    d.stop()
    d.remove()


# Filled by the rgw fixture, shown in the terminal summary.
_BENCH_NOTES = []


# ---------------------------------------------------------------------------
# A deadline for every test. python3-pytest-timeout reads `timeout` from
# pytest.ini and honours @pytest.mark.timeout(N); where the plugin is absent
# the same settings are enforced here with SIGALRM, so that a hung test
# fails (and its fixtures still stop their daemons) instead of hanging.
# ---------------------------------------------------------------------------
def pytest_addoption(parser, pluginmanager):
    if not pluginmanager.hasplugin("timeout"):
        parser.addini("timeout", "per-test timeout in seconds (0: none); "
                      "the conftest fallback for pytest-timeout",
                      default="0")


def pytest_configure(config):
    if not config.pluginmanager.hasplugin("timeout"):
        config.addinivalue_line(
            "markers", "timeout(seconds): this test's own deadline")


def _test_timeout(item):
    m = item.get_closest_marker("timeout")
    if m is not None and m.args:
        return float(m.args[0])
    try:
        return float(item.config.getini("timeout") or 0)
    except ValueError:
        return 0.0


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    if item.config.pluginmanager.hasplugin("timeout"):
        yield
        return
    seconds = _test_timeout(item)
    if seconds <= 0:
        yield
        return

    def expired(signo, frame):
        pytest.fail("Timeout >%gs (conftest fallback of pytest-timeout)" %
                    seconds, pytrace=True)

    old = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


# ---------------------------------------------------------------------------
# The S3 server.
# ---------------------------------------------------------------------------
def _find_base(endpoint):
    """The start-rgw.sh base directory of a running RGW at endpoint."""
    base = os.environ.get("S3B_RGW_BASE")
    if base:
        return base
    pattern = os.path.join(tempfile.gettempdir(), "s3b-rgw.*", "env")
    for env in glob.glob(pattern):
        try:
            with open(env) as f:
                vals = _parse_env_lines(f.read())
        except OSError:
            continue
        if vals.get("RGW_ENDPOINT", "").rstrip("/") == endpoint:
            return os.path.dirname(env)
    return None


class Rgw:
    """A running RGW: where it is and how to make clients for it."""

    kind = "rgw"

    def __init__(self, endpoint, base=None, start_seconds=None):
        self.endpoint = endpoint
        self.base = base            # None when reused (not ours to stop)
        self.start_seconds = start_seconds
        self.users = dict(USERS)
        self.admin_base = base or _find_base(endpoint)

    def client(self, user="tester", **config):
        ak, sk = self.users[user]
        return make_client(self.endpoint, ak, sk, **config)

    def admin(self, *args, timeout=120):
        """radosgw-admin against this cluster (user and key management);
        its JSON output, parsed, or None."""
        if self.admin_base is None:
            pytest.fail("no base directory for RGW %s: set S3B_RGW_BASE" %
                        self.endpoint, pytrace=False)
        conf = os.path.join(self.admin_base, "ceph.conf")
        p = subprocess.run(["radosgw-admin", "-c", conf] + list(args),
                           stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=timeout)
        assert p.returncode == 0, ("radosgw-admin %s: exit %d\n%s" %
                                   (" ".join(args), p.returncode, p.stderr))
        try:
            return json.loads(p.stdout) if p.stdout.strip() else None
        except ValueError:
            return None

    def __repr__(self):
        return "Rgw(%s)" % self.endpoint


def _parse_env_lines(text):
    out = {}
    for line in text.splitlines():
        k, sep, v = line.partition("=")
        if sep and k.startswith("RGW_"):
            out[k] = v
    return out


def _start_rgw():
    last = None
    # A port picked here may be taken before the daemons bind it; then
    # start-rgw.sh fails at once and another set of ports is tried.
    for _ in range(3):
        rgw_port, mon_port, mon_v1_port = free_ports(3)
        env = dict(os.environ, RGW_PORT=str(rgw_port),
                   RGW_MON_PORT=str(mon_port),
                   RGW_MON_V1_PORT=str(mon_v1_port))
        env.pop("RGW_BASE", None)
        t0 = time.monotonic()
        p = subprocess.run([str(RGW_SCRIPTS / "start-rgw.sh")], env=env,
                           stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=600)
        if p.returncode == 0:
            vals = _parse_env_lines(p.stdout)
            return Rgw(vals["RGW_ENDPOINT"], vals["RGW_BASE"],
                       time.monotonic() - t0)
        last = p
        if "already in use" not in p.stderr:
            break
    pytest.fail("start-rgw.sh failed (exit %d):\n%s" %
                (last.returncode, last.stderr), pytrace=False)


def _stop_rgw(rgw):
    subprocess.run([str(RGW_SCRIPTS / "stop-rgw.sh"), rgw.base],
                   stdin=subprocess.DEVNULL, timeout=120, check=False)


@pytest.fixture(scope="session")
def rgw():
    """The S3 server for the whole session (an Rgw)."""
    endpoint = os.environ.get("S3B_RGW_ENDPOINT")
    if endpoint:
        _BENCH_NOTES.append("reused RGW at %s" % endpoint)
        yield Rgw(endpoint.rstrip("/"))
        return
    r = _start_rgw()
    _BENCH_NOTES.append("started RGW at %s in %.1f s (base %s)" %
                        (r.endpoint, r.start_seconds, r.base))
    try:
        yield r
    finally:
        if os.environ.get("S3B_RGW_KEEP") == "1":
            _BENCH_NOTES.append("left running: RGW_ENDPOINT=%s RGW_BASE=%s"
                                % (r.endpoint, r.base))
        else:
            _stop_rgw(r)


# ---------------------------------------------------------------------------
# The second S3 implementation: OpenStack Swift's s3api.
# ---------------------------------------------------------------------------
class Swift:
    """A running Swift s3api (tests/swift/start-swift.sh): where it is and
    how to make clients for it. No admin tool: cases that need RGW's
    radosgw-admin stay RGW-only."""

    kind = "swift"

    def __init__(self, endpoint, base=None, start_seconds=None):
        self.endpoint = endpoint
        self.base = base            # None when reused (not ours to stop)
        self.start_seconds = start_seconds
        self.users = dict(SWIFT_USERS)

    def client(self, user="tester", **config):
        ak, sk = self.users[user]
        return make_client(self.endpoint, ak, sk, **config)

    def __repr__(self):
        return "Swift(%s)" % self.endpoint


def _free_port_run(n):
    """A port p with p..p+n-1 all free on 127.0.0.1 (start-swift.sh takes
    SWIFT_PORT and the four after it)."""
    for _ in range(50):
        p = free_ports(1)[0]
        if p + n > 65535:
            continue
        ok = True
        for q in range(p + 1, p + n):
            s = socket.socket()
            try:
                s.bind(("127.0.0.1", q))
            except OSError:
                ok = False
            finally:
                s.close()
            if not ok:
                break
        if ok:
            return p
    pytest.fail("no run of %d free ports on 127.0.0.1" % n, pytrace=False)


def _start_swift():
    last = None
    for _ in range(3):
        port = _free_port_run(5)
        env = dict(os.environ, SWIFT_PORT=str(port))
        env.pop("SWIFT_BASE", None)
        t0 = time.monotonic()
        p = subprocess.run([str(SWIFT_SCRIPTS / "start-swift.sh")], env=env,
                           stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=300)
        if p.returncode == 0:
            vals = {}
            for line in p.stdout.splitlines():
                k, sep, v = line.partition("=")
                if sep and k.startswith("SWIFT_"):
                    vals[k] = v
            return Swift(vals["SWIFT_ENDPOINT"], vals["SWIFT_BASE"],
                         time.monotonic() - t0)
        last = p
        if "already in use" not in p.stderr:
            break
    pytest.fail("start-swift.sh failed (exit %d):\n%s" %
                (last.returncode, last.stderr), pytrace=False)


@pytest.fixture(scope="session")
def swift():
    """The Swift s3api server for the whole session (a Swift)."""
    endpoint = os.environ.get("S3B_SWIFT_ENDPOINT")
    if endpoint:
        _BENCH_NOTES.append("reused Swift at %s" % endpoint)
        yield Swift(endpoint.rstrip("/"))
        return
    sw = _start_swift()
    _BENCH_NOTES.append("started Swift at %s in %.1f s (base %s)" %
                        (sw.endpoint, sw.start_seconds, sw.base))
    try:
        yield sw
    finally:
        subprocess.run([str(SWIFT_SCRIPTS / "stop-swift.sh"), sw.base],
                       stdin=subprocess.DEVNULL, timeout=120, check=False)


# The job cases: one run per server. Servers left out by S3B_SERVERS are
# not run, and the summary says which (never silently).
_SERVERS_LEFT_OUT = set()


def pytest_generate_tests(metafunc):
    if "server" not in metafunc.fixturenames:
        return
    enabled = servers_enabled()
    for name in ("rgw", "swift"):
        if name not in enabled:
            _SERVERS_LEFT_OUT.add(name)
    metafunc.parametrize("server", enabled, indirect=True)


@pytest.fixture
def server(request):
    """The S3 server of this run of a job case: the rgw or the swift
    fixture (an Rgw or a Swift; .kind says which)."""
    return request.getfixturevalue(request.param)


@pytest.fixture
def server_s3(server):
    """boto3 client of the server's user "tester"."""
    return server.client("tester")


@pytest.fixture
def server_bucket(server_s3):
    """Factory: server_bucket(versioned=False, object_lock=False) creates a
    bucket on the server; all are emptied and removed after the test."""
    made = []

    def make(versioned=False, object_lock=False, prefix="s3b"):
        name = create_bucket(server_s3, unique_bucket_name(prefix),
                             versioned, object_lock)
        made.append(name)
        return name

    yield make
    errors = []
    for name in reversed(made):
        try:
            remove_bucket(server_s3, name)
        except botocore.exceptions.ClientError as e:
            errors.append("%s: %s" % (name, e))
    if errors:
        pytest.fail("could not remove test buckets: " + "; ".join(errors))


@pytest.fixture
def server_daemon(server):
    """Factory like s3batchd, whose [endpoint default] is the server (its
    user tester); the endpoint is named after the server's kind with
    name=... for messages (default "default")."""
    started = []

    def start(daemon_conf="", extra_conf="", endpoint_extra=""):
        d = Daemon(daemon_conf=daemon_conf,
                   extra_conf=endpoint_conf(
                       server.endpoint, extra=endpoint_extra,
                       keys=server.users["tester"]) + extra_conf)
        os.chmod(d.conf, 0o600)
        started.append(d)
        return d.start()

    yield start
    errors = []
    for d in started:
        try:
            d.stop()
        except AssertionError as e:
            errors.append(str(e))
        d.remove()
    if errors:
        pytest.fail("\n".join(errors), pytrace=False)


def pytest_terminal_summary(terminalreporter):
    for name in sorted(_SERVERS_LEFT_OUT):
        terminalreporter.write_line(
            "s3 bench: the job cases against %s were not run (S3B_SERVERS=%s)"
            % (name, os.environ.get("S3B_SERVERS", "")))
    for note in _BENCH_NOTES:
        terminalreporter.write_line("s3 bench: " + note)


@pytest.fixture(scope="session")
def s3(rgw):
    """boto3 S3 client for the user "tester" (TESTAK/TESTSK)."""
    return rgw.client("tester")


@pytest.fixture(scope="session")
def s3_other(rgw):
    """boto3 S3 client for the user "other" (OTHERAK/OTHERSK)."""
    return rgw.client("other")


@pytest.fixture
def make_bucket(s3):
    """Factory: make_bucket(versioned=False, object_lock=False,
    client=s3, prefix="s3b") creates a uniquely named bucket; all of them
    are emptied and removed after the test."""
    made = []

    def make(versioned=False, object_lock=False, client=None, prefix="s3b"):
        c = client or s3
        name = create_bucket(c, unique_bucket_name(prefix), versioned,
                             object_lock)
        made.append((c, name))
        return name

    yield make
    errors = []
    for c, name in reversed(made):
        try:
            remove_bucket(c, name)
        except botocore.exceptions.ClientError as e:
            errors.append("%s: %s" % (name, e))
    if errors:
        pytest.fail("could not remove test buckets: " + "; ".join(errors))


@pytest.fixture
def bucket(request, make_bucket):
    """A fresh bucket for one test. Parametrize indirectly for variants:
    @pytest.mark.parametrize("bucket", [{"versioned": True}], indirect=True)
    (keys: versioned, object_lock)."""
    opts = getattr(request, "param", None) or {}
    return make_bucket(**opts)


@pytest.fixture
def versioned_bucket(make_bucket):
    """A fresh bucket with versioning enabled."""
    return make_bucket(versioned=True)


@pytest.fixture
def locked_bucket(make_bucket):
    """A fresh bucket created with Object Lock enabled (hence versioned)."""
    return make_bucket(object_lock=True)


@pytest.fixture(name="put_objects")
def put_objects_fixture(s3):
    """put_objects(bucket, keys, body=None, client=s3, workers=16, **extra)
    -> {key: ETag}: fast concurrent PUTs of small objects."""
    def put(bucket, keys, body=None, client=None, workers=16, **extra):
        return put_objects(client or s3, bucket, keys, body, workers,
                           **extra)
    return put


@pytest.fixture(name="list_keys")
def list_keys_fixture(s3):
    """list_keys(bucket, client=s3, **ListObjectsV2 args) -> [key, ...]."""
    def lk(bucket, client=None, **kw):
        return list_keys(client or s3, bucket, **kw)
    return lk


@pytest.fixture
def fault_proxy(rgw):
    """A FaultProxy (tests/faultproxy.py, see faults.py) in front of the
    session's RGW, with no rules yet."""
    from faults import FaultProxy
    p = FaultProxy(rgw.endpoint).start()
    try:
        yield p
    finally:
        p.stop()


@pytest.fixture
def proxied(rgw):
    """start(daemon_conf="", rules=(), seed=1, endpoint_extra="",
    extra_conf="", max_connections=32) -> (Daemon, FaultProxy): a
    FaultProxy in front of the RGW and a started s3batchd whose [endpoint
    default] (user tester) is the proxy. All are stopped at the end of the
    test."""
    from faults import FaultProxy
    made = []

    def start(daemon_conf="", rules=(), seed=1, endpoint_extra="",
              extra_conf="", max_connections=32):
        p = FaultProxy(rgw.endpoint, rules=rules, seed=seed).start()
        made.append(p)
        d = Daemon(daemon_conf=daemon_conf,
                   extra_conf=endpoint_conf(
                       p.endpoint, extra=endpoint_extra,
                       max_connections=max_connections) + extra_conf)
        os.chmod(d.conf, 0o600)
        made.append(d)
        d.start()
        return d, p

    yield start
    errors = []
    for x in reversed(made):
        try:
            x.stop()
        except AssertionError as e:
            errors.append(str(e))
        if isinstance(x, Daemon):
            x.remove()
    if errors:
        pytest.fail("\n".join(errors), pytrace=False)


# ---------------------------------------------------------------------------
# The daemon under test, configured against the rgw fixture's endpoint.
# ---------------------------------------------------------------------------
@pytest.fixture
def s3batchd(rgw):
    """A factory: s3batchd(daemon_conf=..., extra_conf=...) starts a real
    s3batchd whose [endpoint default] is the test RGW; all are stopped at
    the end of the test."""
    started = []

    def start(daemon_conf="", extra_conf="", endpoint_extra="", start=True):
        d = Daemon(daemon_conf=daemon_conf,
                   extra_conf=endpoint_conf(rgw.endpoint,
                                            extra=endpoint_extra) +
                   extra_conf)
        os.chmod(d.conf, 0o600)
        started.append(d)
        return d.start() if start else d

    yield start
    errors = []
    for d in started:
        try:
            d.stop()
        except AssertionError as e:
            errors.append(str(e))
        d.remove()
    if errors:
        pytest.fail("\n".join(errors), pytrace=False)
