"""The one helper module of the integration tests: S3 clients and buckets,
the real s3batchd and s3batchctl, job specs, manifests, reports, and waits
with deadlines. Test modules import from here (conftest.py holds only the
fixtures); nothing here is a copy of the daemon's code.

A Daemon runs the built s3batchd in the foreground (-d) with a config file
in its own temporary directory; ctl() runs the built s3batchctl against its
socket and returns (exit code, parsed JSON or text, stderr). Binaries come
from $S3B_BUILDDIR (the build directory), default: the top of the tree.

Every wait here has a deadline and, when it runs out, fails with what was
awaited and what was last seen (wait_until, Daemon.wait_status).
"""

import concurrent.futures
import contextlib
import gzip
import hashlib
import json
import os
import pathlib
import pwd
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
import uuid

import boto3
import botocore
import botocore.config
import botocore.exceptions
import pytest

TOP = pathlib.Path(__file__).resolve().parents[2]
REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/batch"

# The users start-rgw.sh creates.
USERS = {
    "tester": ("TESTAK", "TESTSK"),
    "other": ("OTHERAK", "OTHERSK"),
}

# The users start-swift.sh's tempauth knows: S3 access key "account:user".
SWIFT_USERS = {
    "tester": ("test:tester", "testing"),
    "other": ("test2:other", "otherpw"),
}

# The S3 servers the job cases run against (the `server` fixture,
# conftest.py); S3B_SERVERS=rgw,swift chooses among them.
SERVERS = ("rgw", "swift")


def servers_enabled():
    """The servers S3B_SERVERS names (default: all of SERVERS)."""
    names = [n.strip() for n in
             os.environ.get("S3B_SERVERS", ",".join(SERVERS)).split(",")
             if n.strip()]
    bad = [n for n in names if n not in SERVERS]
    if bad:
        raise ValueError("S3B_SERVERS: unknown server(s) %s (known: %s)" %
                         (", ".join(bad), ", ".join(SERVERS)))
    return names

# The storage classes start-rgw.sh adds besides STANDARD.
STORAGE_CLASSES = (
    "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER",
    "DEEP_ARCHIVE", "GLACIER_IR", "REDUCED_REDUNDANCY",
)



# ---------------------------------------------------------------------------
# Waiting: every wait has a deadline and says what it waited for.
# ---------------------------------------------------------------------------
def wait_until(what, probe, timeout=60, interval=0.05):
    """Call probe() until it returns something true, and return that. When
    timeout seconds pass first, fail with `what` and the last value probe
    returned (or the exception it raised)."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = probe()
        except Exception as e:      # noqa: BLE001 (kept for the message)
            last = e
        else:
            if last:
                return last
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %gs waiting for %s; last "
                                 "seen: %r" % (timeout, what, last))
        time.sleep(interval)


def read_line(stream, timeout, what):
    """One line from a child's pipe within timeout seconds (a child that
    hangs before printing it fails the test instead of hanging it)."""
    r, _, _ = select.select([stream], [], [], timeout)
    if not r:
        raise AssertionError("timed out after %gs waiting for %s" %
                             (timeout, what))
    return stream.readline()


# ---------------------------------------------------------------------------
# S3 clients and buckets (checks are made with boto3, never our own code).
# ---------------------------------------------------------------------------
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
    # The first page again until there is none: deleting what a paginator
    # has yet to list from under it makes RGW skip versions.
    last = None
    while True:
        page = client.list_object_versions(Bucket=name, MaxKeys=1000)
        objs = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in page.get("Versions", []) +
                page.get("DeleteMarkers", [])]
        if not objs or objs == last:
            break       # empty, or nothing more can go (delete_bucket says)
        last = objs
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


def owner_id(client):
    """The canonical user id of a client's user."""
    return client.list_buckets()["Owner"]["ID"]


def endpoint_conf(endpoint, name="default", user="tester", extra="",
                  max_connections=32, keys=None):
    """An [endpoint NAME] section for one of start-rgw.sh's users, or with
    keys=(access key, secret key) of another."""
    ak, sk = keys or USERS[user]
    return ("[endpoint %s]\nurl = %s\nregion = %s\naccess_key_id = %s\n"
            "secret_access_key = %s\nmax_connections = %d\n%s\n" %
            (name, endpoint, REGION, ak, sk, max_connections, extra))


def bucket_conf(bucket, endpoint):
    """A [bucket NAME] section routing a bucket to an endpoint."""
    return "[bucket %s]\nendpoint = %s\n\n" % (bucket, endpoint)


def tagging(s3, bucket, key, **kw):
    """An object's tags as a dict, read with boto3."""
    return {t["Key"]: t["Value"] for t in
            s3.get_object_tagging(Bucket=bucket, Key=key,
                                  **kw).get("TagSet", [])}


def taggings(s3, bucket, keys, workers=16):
    """{key: tags} for many keys (a GET ?tagging takes RGW ~40 ms)."""
    keys = list(keys)
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as ex:
        return dict(zip(keys, ex.map(lambda k: tagging(s3, bucket, k),
                                     keys)))


def pmap(fn, items, workers=32):
    """fn over items on a thread pool, results in order."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as ex:
        return list(ex.map(fn, items))


# ---------------------------------------------------------------------------
# The daemon under test and its client.
# ---------------------------------------------------------------------------
def builddir():
    return pathlib.Path(os.environ.get("S3B_BUILDDIR", TOP))


def binary(name):
    d = builddir()
    for cand in (d / name, d / "src" / name):
        if cand.exists():
            return str(cand)
    raise FileNotFoundError("%s not built in %s (set S3B_BUILDDIR)" %
                            (name, d))


class CtlResult:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr
        try:
            self.json = json.loads(proc.stdout) if proc.stdout.strip() else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return "CtlResult(rc=%d, out=%r, err=%r)" % (self.rc, self.out[:400],
                                                     self.err[:400])


class Daemon:
    """One s3batchd with its own state directory, socket and config."""

    def __init__(self, tmpdir=None, daemon_conf="", extra_conf=""):
        self.dir = pathlib.Path(tmpdir or tempfile.mkdtemp(prefix="s3b-"))
        os.chmod(self.dir, 0o755)   # other uids must reach the socket
        self.state = self.dir / "state"
        self.socket = self.dir / "ctl.sock"
        self.conf = self.dir / "s3batchd.conf"
        self.log = self.dir / "s3batchd.log"
        self.proc = None
        self.write_conf(daemon_conf, extra_conf)

    def write_conf(self, daemon_conf="", extra_conf=""):
        self.conf.write_text(
            "[daemon]\n"
            "state_dir = %s\n"
            "control_socket = %s\n"
            "timer_interval = 200ms\n"
            "%s\n%s\n" % (self.state, self.socket, daemon_conf, extra_conf))

    def start(self, wait=True, env=None):
        logf = open(self.log, "ab")
        e = dict(os.environ)
        e.update(env or {})
        self.proc = subprocess.Popen(
            [binary("s3batchd"), "-d", "-f", str(self.conf)],
            stdout=logf, stderr=subprocess.STDOUT, env=e)
        logf.close()
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=30):
        """Until the control socket accepts a connection; fails at once if
        the daemon exits, and after timeout seconds with the last error."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("s3batchd exited with %d:\n%s" %
                                   (self.proc.returncode, self.logtext()))
            try:
                s = socket.socket(socket.AF_UNIX)
                try:
                    s.connect(str(self.socket))
                finally:
                    s.close()
                return
            except OSError as e:
                last = e
                time.sleep(0.05)
        raise RuntimeError("s3batchd did not accept on %s within %gs (last: "
                           "%s):\n%s" % (self.socket, timeout, last,
                                         self.logtext()))

    def logtext(self):
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=60):
        """Signal the daemon and wait for it to exit: its exit status (a
        negative signal number if killed). One still running after timeout
        seconds is killed, and the test fails."""
        if self.proc is None or self.proc.poll() is not None:
            self.check_sanitizers()
            return None
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("s3batchd still running %gs after signal "
                                 "%d; killed. Log tail:\n%s" %
                                 (timeout, sig, self.logtext()[-3000:]))
        self.check_sanitizers()
        return rc

    def signal(self, sig):
        """Send a signal (SIGHUP: reload) without waiting."""
        self.proc.send_signal(sig)

    SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                       "runtime error:", "WARNING: ThreadSanitizer")

    def check_sanitizers(self):
        """A sanitizer build reports to the daemon's stderr (its log): any
        report fails the test that ran it."""
        text = self.logtext()
        for mark in self.SANITIZER_MARKS:
            if mark in text:
                at = text.index(mark)
                raise AssertionError("s3batchd sanitizer report:\n" +
                                     text[max(0, at - 200):at + 3000])

    def kill9(self):
        return self.stop(signal.SIGKILL)

    def remove(self):
        """Delete the daemon's directory (after stop)."""
        shutil.rmtree(self.dir, ignore_errors=True)

    def restart(self):
        self.stop()
        return self.start()

    @property
    def pid(self):
        return self.proc.pid

    def ctl(self, *args, output="json", user=None, input=None, timeout=120):
        cmd = [binary("s3batchctl"), "-s", str(self.socket)]
        if output:
            cmd += ["--output", output]
        cmd += [str(a) for a in args]
        if user is not None:
            pw = pwd.getpwnam(user)
            cmd = ["setpriv", "--reuid=%d" % pw.pw_uid,
                   "--regid=%d" % pw.pw_gid, "--init-groups"] + cmd
        proc = subprocess.run(cmd, capture_output=True, text=True,
                              input=input, timeout=timeout)
        return CtlResult(proc)

    def ok(self, *args, **kw):
        r = self.ctl(*args, **kw)
        assert r.rc == 0, r
        return r.json if kw.get("output", "json") == "json" else r.out

    def describe(self, job_id):
        return self.ok("describe-job", "--job-id", job_id)["Job"]

    def wait_status(self, job_id, statuses, timeout=60):
        """Poll describe-job until the job's Status is one of statuses;
        fail after timeout seconds with the last description seen."""
        if isinstance(statuses, str):
            statuses = (statuses,)
        deadline = time.monotonic() + timeout
        last = None
        while True:
            last = self.describe(job_id)
            if last["Status"] in statuses:
                return last
            if time.monotonic() >= deadline:
                break
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError("s3batchd exited (%d) while job %s was "
                                     "%s:\n%s" % (self.proc.returncode,
                                                  job_id, last["Status"],
                                                  self.logtext()[-3000:]))
            time.sleep(0.1)
        raise AssertionError(
            "job %s still %s after %gs, waiting for %s; last seen: %s" %
            (job_id, last["Status"], timeout, "/".join(statuses),
             json.dumps({k: last.get(k) for k in (
                 "Status", "StatusUpdateReason", "ProgressSummary",
                 "FailureReasons", "SuspendedCause")})))

    def wait_job(self, job_id, what, probe, timeout=60, interval=0.05):
        """Poll describe-job until probe(job) is true; return that job.
        Fails after timeout seconds naming `what` and the last job seen."""
        seen = {}

        def look():
            seen["job"] = self.describe(job_id)
            return probe(seen["job"])
        try:
            wait_until(what, look, timeout, interval)
        except AssertionError:
            j = seen.get("job") or {}
            raise AssertionError("job %s: timed out after %gs waiting for "
                                 "%s; last seen: %s %s" %
                                 (job_id, timeout, what, j.get("Status"),
                                  j.get("ProgressSummary")))
        return seen["job"]

    def raw(self, data, read=True, timeout=10):
        """Send raw bytes on the socket; return the reply lines read within
        timeout seconds (one per request line sent)."""
        deadline = time.monotonic() + timeout
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(timeout)
        s.connect(str(self.socket))
        try:
            s.sendall(data)
        except OSError:
            pass
        out = b""
        if read:
            try:
                while time.monotonic() < deadline:
                    s.settimeout(max(0.01, deadline - time.monotonic()))
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    out += chunk
                    if out.endswith(b"\n") and not data.endswith(b"\n\n"):
                        # one reply per request line sent
                        if out.count(b"\n") >= max(1, data.count(b"\n")):
                            break
            except socket.timeout:
                pass
        s.close()
        return [json.loads(l) for l in out.splitlines() if l.strip()]


# ---------------------------------------------------------------------------
# Jobs: specs, manifests, creation, progress, reports.
# ---------------------------------------------------------------------------
# Keys S3 clients get wrong: spaces, '+', '%', UTF-8, ~*()!, a trailing /.
AWKWARD = ["sp ace/a+b%c.txt", "üñí/çødé", "~*()!'/x", "dir/", "a//b",
           "q?x=1&y#z", "semi;colon,comma"]


def job_spec(operation=None, confirmation=True, priority=10, **extra):
    """A CreateJob request for a local CSV manifest of Bucket,Key."""
    spec = {
        "Operation": operation or {
            "S3PutObjectTagging": {"TagSet": [{"Key": "k", "Value": "v"}]}},
        "Manifest": {"Spec": {"Format": "S3BatchOperations_CSV_20180820",
                              "Fields": ["Bucket", "Key"]}},
        "Report": {"Enabled": False},
        "Priority": priority,
        "RoleArn": ROLE,
        "ConfirmationRequired": confirmation,
    }
    spec.update(extra)
    return spec


def write_json(path, obj):
    pathlib.Path(path).write_text(json.dumps(obj))
    return "file://%s" % path


def manifest_csv(path, bucket, keys, versions=None):
    """A Bucket,Key[,VersionId] CSV manifest with URL-encoded keys."""
    with open(path, "w") as f:
        for i, k in enumerate(keys):
            row = "%s,%s" % (bucket, urllib.parse.quote(k, safe="/"))
            if versions is not None:
                row += ",%s" % versions[i]
            f.write(row + "\n")
    return path


def create_job(d, tmp_path, spec, manifest=None):
    """create-job with spec (and a local manifest file): the JobId."""
    uri = write_json(tmp_path / ("job-%d.json" % time.monotonic_ns()), spec)
    args = ["create-job", "--cli-input-json", uri]
    if manifest is not None:
        args += ["--manifest-file", str(manifest)]
    r = d.ctl(*args)
    assert r.rc == 0, r
    return r.json["JobId"]


def run_job(d, tmp_path, spec, manifest=None, timeout=300,
            until=("Complete", "Failed", "Cancelled")):
    """Create a job and wait for it to end: (JobId, its description)."""
    job_id = create_job(d, tmp_path, spec, manifest)
    return job_id, d.wait_status(job_id, until, timeout=timeout)


def done(job):
    """Tasks of a job (a describe-job Job) that have their result."""
    ps = job["ProgressSummary"]
    return ps["NumberOfTasksSucceeded"] + ps["NumberOfTasksFailed"]


def report_rows(d, job_id, failed_only=False):
    """The job's task records (s3batchctl report --format jsonl)."""
    args = ["report", "--job-id", job_id, "--format", "jsonl"]
    if failed_only:
        args.append("--failed-only")
    r = d.ctl(*args, output=None)
    assert r.rc == 0, r
    return [json.loads(l) for l in r.out.splitlines() if l.strip()]


def by_key(rows):
    """Report rows by their (URL-decoded) key."""
    return {urllib.parse.unquote(r["Key"]): r for r in rows}


def rows_by_key(d, job_id):
    return by_key(report_rows(d, job_id))


def inventory_manifest(s3, bucket, dest, rows, schema, prefix="inv"):
    """Write an S3 inventory report (gzip'd CSV + manifest.json) and return
    the manifest.json's key and ETag."""
    csv = "".join(",".join('"%s"' % c for c in r) + "\n" for r in rows)
    gz = gzip.compress(csv.encode())
    data_key = "%s/data/part-0.csv.gz" % prefix
    s3.put_object(Bucket=dest, Key=data_key, Body=gz)
    manifest = {
        "sourceBucket": bucket,
        "destinationBucket": "arn:aws:s3:::%s" % dest,
        "version": "2016-11-30",
        "creationTimestamp": "1514944800000",
        "fileFormat": "CSV",
        "fileSchema": schema,
        "files": [{"key": data_key, "size": len(gz),
                   "MD5checksum": hashlib.md5(gz).hexdigest()}],
    }
    key = "%s/manifest.json" % prefix
    etag = s3.put_object(Bucket=dest, Key=key,
                         Body=json.dumps(manifest).encode())["ETag"]
    return key, etag.strip('"')


def inventory_location(bucket, key, etag):
    """The Manifest member of a job reading an inventory report."""
    return {"Spec": {"Format": "S3InventoryReport_CSV_20161130"},
            "Location": {"ObjectArn": "arn:aws:s3:::%s/%s" % (bucket, key),
                         "ETag": etag}}


def report_csv_lines(s3, bucket, prefix, job_id):
    """The lines of a job's report in its bucket (Amazon's layout), each
    result file's MD5 checked against manifest.json."""
    man = json.loads(s3.get_object(
        Bucket=bucket, Key="%s/job-%s/manifest.json" % (prefix, job_id))
        ["Body"].read())
    lines = []
    for res in man["Results"]:
        body = s3.get_object(Bucket=bucket, Key=res["Key"])["Body"].read()
        assert hashlib.md5(body).hexdigest() == res["MD5Checksum"], res
        lines += body.decode().splitlines()
    return man, lines


@contextlib.contextmanager
def system_user(prefix, who):
    """An unprivileged system user (pwd entry) made for a test module with
    useradd and removed after; who names the module for the root check."""
    if os.geteuid() != 0:
        pytest.fail("%s needs root (useradd, setuid)" % who, pytrace=False)
    name = "%s%d" % (prefix, os.getpid() % 100000)
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                    "/usr/sbin/nologin", name], check=True,
                   capture_output=True)
    try:
        yield pwd.getpwnam(name)
    finally:
        subprocess.run(["userdel", name], capture_output=True)
