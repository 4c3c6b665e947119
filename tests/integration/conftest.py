"""Fixtures for the integration tests: a real S3 server on loopback.

The server is Ceph RGW, started by tests/rgw/start-rgw.sh for the session
(about 2 s) and stopped at the end; set S3B_RGW_ENDPOINT to reuse one that
is already running instead. Results are checked with boto3, an S3 client
independent of the project's own code. See docs/TESTING.md.

Environment:
  S3B_RGW_ENDPOINT   use this running RGW (e.g. http://127.0.0.1:7480)
  S3B_RGW_KEEP=1     leave the RGW this session started running (its
                     RGW_ENDPOINT/RGW_BASE are printed at the end)
"""

import concurrent.futures
import os
import pathlib
import socket
import subprocess
import time
import uuid

import boto3
import botocore
import botocore.config
import botocore.exceptions
import pytest

TOP = pathlib.Path(__file__).resolve().parents[2]
RGW_SCRIPTS = TOP / "tests" / "rgw"
REGION = "us-east-1"

# The users start-rgw.sh creates.
USERS = {
    "tester": ("TESTAK", "TESTSK"),
    "other": ("OTHERAK", "OTHERSK"),
}

# The storage classes start-rgw.sh adds besides STANDARD.
STORAGE_CLASSES = (
    "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER",
    "DEEP_ARCHIVE", "GLACIER_IR", "REDUCED_REDUNDANCY",
)

# Filled by the rgw fixture, shown in the terminal summary.
_BENCH_NOTES = []


class Rgw:
    """A running RGW: where it is and how to make clients for it."""

    def __init__(self, endpoint, base=None, start_seconds=None):
        self.endpoint = endpoint
        self.base = base            # None when reused (not ours to stop)
        self.start_seconds = start_seconds
        self.users = dict(USERS)

    def client(self, user="tester", **config):
        ak, sk = self.users[user]
        return make_client(self.endpoint, ak, sk, **config)

    def __repr__(self):
        return "Rgw(%s)" % self.endpoint


def make_client(endpoint, access_key, secret_key, **config):
    """A boto3 S3 client: path-style, SigV4, us-east-1, no retries (a test
    must see the server's first answer), generous timeouts, and a
    connection pool large enough for the upload thread pool."""
    opts = dict(
        region_name=REGION,
        signature_version="s3v4",
        s3={"addressing_style": "path"},
        retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=10,
        read_timeout=120,
        max_pool_connections=64,
    )
    opts.update(config)
    try:
        # Newer botocore (1.36+) adds CRC checksums to every upload, which
        # this RGW does not know; Debian 12's botocore has no such option.
        cfg = botocore.config.Config(
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required", **opts)
    except TypeError:
        cfg = botocore.config.Config(**opts)
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint, aws_access_key_id=access_key,
        aws_secret_access_key=secret_key, config=cfg)


def http_status(exc):
    """The HTTP status of a ClientError. Use it rather than the error
    message: this RGW often sends an empty <Message>."""
    return exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")


def error_code(exc):
    return exc.response.get("Error", {}).get("Code")


def free_ports(n):
    """n distinct free TCP ports on 127.0.0.1 from the kernel's ephemeral
    range (which lies outside the OSDs' 6800-7300)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


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


def pytest_terminal_summary(terminalreporter):
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


def unique_bucket_name(prefix="s3b"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:16])


def create_bucket(client, name, versioned=False, object_lock=False):
    kw = {"Bucket": name}
    if object_lock:
        # Object Lock turns versioning on by itself.
        kw["ObjectLockEnabledForBucket"] = True
    client.create_bucket(**kw)
    if versioned and not object_lock:
        client.put_bucket_versioning(
            Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def empty_bucket(client, name):
    """Remove every object version, delete marker and multipart upload,
    lifting legal holds and bypassing GOVERNANCE retention on the way
    (COMPLIANCE retention cannot be lifted: tests must not use it with
    long periods)."""
    for page in client.get_paginator("list_multipart_uploads").paginate(
            Bucket=name):
        for u in page.get("Uploads", []):
            client.abort_multipart_upload(Bucket=name, Key=u["Key"],
                                          UploadId=u["UploadId"])
    for page in client.get_paginator("list_object_versions").paginate(
            Bucket=name):
        objs = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in page.get("Versions", []) +
                page.get("DeleteMarkers", [])]
        if not objs:
            continue
        res = client.delete_objects(Bucket=name, BypassGovernanceRetention=True,
                                    Delete={"Objects": objs, "Quiet": True})
        for err in res.get("Errors", []):
            # Most likely a legal hold: lift it and try once more.
            key, vid = err["Key"], err.get("VersionId")
            vkw = {"VersionId": vid} if vid else {}
            try:
                client.put_object_legal_hold(Bucket=name, Key=key,
                                             LegalHold={"Status": "OFF"},
                                             **vkw)
            except botocore.exceptions.ClientError:
                pass
            client.delete_object(Bucket=name, Key=key,
                                 BypassGovernanceRetention=True, **vkw)


def remove_bucket(client, name):
    try:
        empty_bucket(client, name)
        client.delete_bucket(Bucket=name)
    except botocore.exceptions.ClientError as e:
        if error_code(e) != "NoSuchBucket":
            raise


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


def put_objects(client, bucket, keys, body=None, workers=16, **extra):
    """PUT many small objects concurrently. body: bytes, a function of the
    key returning bytes, or None for the key's UTF-8 bytes. extra goes to
    every put_object (Metadata=, StorageClass=, Tagging=, ...). Returns
    {key: ETag}."""
    def one(key):
        if body is None:
            data = key.encode()
        elif callable(body):
            data = body(key)
        else:
            data = body
        r = client.put_object(Bucket=bucket, Key=key, Body=data, **extra)
        return key, r["ETag"]

    keys = list(keys)
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as ex:
        return dict(ex.map(one, keys))


def list_keys(client, bucket, **kw):
    """Every key of a bucket, through ListObjectsV2 pagination."""
    keys = []
    for page in client.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, **kw):
        keys.extend(o["Key"] for o in page.get("Contents", []))
    return keys


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


# ---------------------------------------------------------------------------
# The daemon under test, configured against the rgw fixture's endpoint.
# ---------------------------------------------------------------------------
def endpoint_conf(endpoint, name="default", user="tester", extra=""):
    ak, sk = USERS[user]
    return ("[endpoint %s]\nurl = %s\nregion = %s\naccess_key_id = %s\n"
            "secret_access_key = %s\nmax_connections = 32\n%s\n" %
            (name, endpoint, REGION, ak, sk, extra))


@pytest.fixture
def s3batchd(rgw):
    """A factory: s3batchd(daemon_conf=..., extra_conf=...) starts a real
    s3batchd whose [endpoint default] is the test RGW; all are stopped at
    the end of the test."""
    from s3b import Daemon
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
    for d in started:
        d.stop()
        d.remove()
