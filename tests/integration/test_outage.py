"""An endpoint outage is not a job failure, nor a full disk during the run
(issue 8, docs/OUTAGES.md).

The real s3batchd and s3batchctl run a job of a few thousand tasks against
the real RGW through a plain TCP forwarder defined here. THE FORWARDER IS A
TEST STAND-IN for the network: it copies bytes both ways and nothing else;
"down" closes its listening socket and every connection through it, so the
daemon meets refused connections exactly as when RGW itself is stopped
(the RGW is shared with other tests and must stay up). After 60 s it
listens again on the same port.

With the default limits (max_attempts, failure_percent, failure_min_tasks)
the job must end Complete with every task succeeded, checked with boto3
straight at RGW, and the outage must be visible while it lasts: the log's
breaker lines, tasks still in flight while none finishes, and, once the
status command shows it (the lead wires s3_endpoint_state() into it), the
endpoint's breaker "open" with its waiting calls.

The full disk is real: the state directory is a small tmpfs filled with a
filler file while the job runs, so that SQLite gets SQLITE_FULL from the
kernel; deleting the filler frees the space.
"""

import os
import select
import socket
import subprocess
import threading
import time

import pytest

from s3b import (create_job, job_spec, manifest_csv, put_objects,
                 report_rows, taggings, wait_until)

NKEYS = 3000
OUTAGE_S = 60
# Only to spread the job over tens of seconds, so that the outage falls in
# its middle; the retry and failure limits stay the defaults.
ENDPOINT_EXTRA = "max_requests_per_second = 100\n"


class Forwarder:
    """A TCP forwarder to host:port that can be taken down and brought back
    up on the same port (a test stand-in for the network, see above)."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.lock = threading.Lock()
        self.conns = set()
        self.listener = None
        self.port = None
        self.stopping = None
        self.thread = None

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.port

    def up(self):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port or 0))
        s.listen(128)
        self.port = s.getsockname()[1]
        self.listener = s
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._accept,
                                       args=(s, self.stopping), daemon=True)
        self.thread.start()
        return self

    def down(self):
        """Stop listening (connections are refused) and cut every
        connection through the forwarder."""
        self.stopping.set()
        self.thread.join(10)
        self.listener.close()
        with self.lock:
            conns, self.conns = list(self.conns), set()
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()

    def _accept(self, listener, stopping):
        while not stopping.is_set():
            r, _, _ = select.select([listener], [], [], 0.1)
            if not r:
                continue
            try:
                client, _ = listener.accept()
            except OSError:
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=10)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self.lock:
                self.conns.update((client, server))
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b),
                                 daemon=True).start()

    def _pump(self, src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        with self.lock:
            self.conns.discard(src)
            self.conns.discard(dst)
        src.close()


@pytest.fixture
def forwarder(rgw):
    host, port = rgw.endpoint.split("//", 1)[1].rstrip("/").rsplit(":", 1)
    f = Forwarder((host, int(port))).up()
    yield f
    if not f.stopping.is_set():
        f.down()


def _ps(job):
    return job["ProgressSummary"]


def _daemon_via(s3batchd, forwarder, extra=ENDPOINT_EXTRA):
    """A started s3batchd whose [endpoint default] is the forwarder, with
    the default limits. (The fixture's config points at RGW itself.)"""
    d = s3batchd(start=False)
    d.write_conf(extra_conf=(
        "[endpoint default]\nurl = %s\nregion = us-east-1\n"
        "access_key_id = TESTAK\nsecret_access_key = TESTSK\n"
        "max_connections = 32\n%s\n" % (forwarder.endpoint, extra)))
    return d.start()


@pytest.mark.timeout(600)
def test_outage_60s_is_not_a_failure(s3batchd, forwarder, s3, bucket,
                                     tmp_path):
    keys = ["o/%05d" % i for i in range(NKEYS)]
    put_objects(s3, bucket, keys, workers=32)

    d = _daemon_via(s3batchd, forwarder)
    spec = job_spec({"S3PutObjectTagging": {"TagSet": [
        {"Key": "outage", "Value": "survived"}]}}, confirmation=False)
    job_id = create_job(d, tmp_path, spec,
                        manifest_csv(tmp_path / "m.csv", bucket, keys))
    d.wait_job(job_id, "300 tasks done",
               lambda j: _ps(j)["NumberOfTasksSucceeded"] >= 300,
               timeout=120)

    forwarder.down()
    t_down = time.monotonic()
    # The breaker opens and says so.
    wait_until("the breaker to open (log)",
               lambda: "http: endpoint default unreachable" in d.logtext(),
               timeout=30)
    seen_waiting = False
    samples = 0
    while time.monotonic() - t_down < OUTAGE_S:
        job = d.describe(job_id)
        st = d.ok("status")
        assert job["Status"] == "Active", job
        assert _ps(job)["NumberOfTasksFailed"] == 0, job
        # Tasks stay in flight, waiting, rather than ending as failures.
        assert st["TasksInFlight"] > 0, st
        assert st["TasksFailed"] == 0, st
        for ep in st["Endpoints"]:
            if ep["Name"] == "default" and ep["Breaker"] in (
                    "open", "half-open") and ep["Opens"] >= 1:
                seen_waiting = True
        samples += 1
        time.sleep(2)
    assert samples >= 10
    frozen = _ps(d.describe(job_id))["NumberOfTasksSucceeded"]
    assert frozen < NKEYS, "the job ended before the outage did"
    assert seen_waiting, d.ok("status")

    forwarder.up()
    job = d.wait_status(job_id, ("Complete", "Failed"), timeout=300)
    assert job["Status"] == "Complete", job
    assert _ps(job)["NumberOfTasksSucceeded"] == NKEYS, job
    assert _ps(job)["NumberOfTasksFailed"] == 0, job
    log = d.logtext()
    assert "http: endpoint default answers again" in log, log[-3000:]
    eps = {ep["Name"]: ep for ep in d.ok("status")["Endpoints"]}
    assert eps["default"]["Breaker"] == "closed", eps
    assert eps["default"]["CallsWaiting"] == 0, eps

    # Every object tagged, seen by boto3 at RGW itself.
    got = taggings(s3, bucket, keys)
    assert [k for k in keys if got[k] != {"outage": "survived"}] == []
    rows = report_rows(d, job_id)
    assert len(rows) == NKEYS
    assert all(r["TaskStatus"] == "succeeded" for r in rows), [
        r for r in rows if r["TaskStatus"] != "succeeded"][:5]
    # No task spent its attempts on the outage (default max_attempts 8).
    assert max(r["Attempts"] for r in rows) <= 8


@pytest.mark.timeout(480)
def test_pause_and_cancel_during_outage(s3batchd, forwarder, s3, bucket,
                                        tmp_path):
    """A pause or a cancel does not wait for the endpoint to come back: the
    tasks held by the outage stop unrecorded and stay pending; resumed
    after the outage, the job runs them all."""
    keys = ["p/%04d" % i for i in range(1000)]
    put_objects(s3, bucket, keys, workers=32)
    # 10 requests a second for both jobs: they are far from done (about
    # 100 s of work) when the endpoint goes down, however busy the machine.
    # No capability probe: at that rate it would hold the second job back
    # while the first one runs alone.
    d = _daemon_via(s3batchd, forwarder,
                    extra="max_requests_per_second = 10\nprobe = no\n")
    spec = job_spec({"S3PutObjectTagging": {"TagSet": [
        {"Key": "outage", "Value": "paused"}]}}, confirmation=False)
    paused = create_job(d, tmp_path, spec,
                        manifest_csv(tmp_path / "p.csv", bucket, keys[:500]))
    cancelled = create_job(d, tmp_path, spec,
                           manifest_csv(tmp_path / "c.csv", bucket,
                                        keys[500:]))
    for job_id in (paused, cancelled):
        d.wait_job(job_id, "20 tasks done",
                   lambda j: _ps(j)["NumberOfTasksSucceeded"] >= 20,
                   timeout=120)

    forwarder.down()
    wait_until("the breaker to open (log)",
               lambda: "http: endpoint default unreachable" in d.logtext(),
               timeout=30)
    d.ok("update-job-status", "--job-id", paused,
         "--requested-job-status", "Paused")
    d.ok("update-job-status", "--job-id", cancelled,
         "--requested-job-status", "Cancelled")
    # Both settle while the endpoint is still down.
    job = d.wait_status(paused, "Paused", timeout=30)
    assert _ps(job)["NumberOfTasksFailed"] == 0, job
    assert _ps(job)["NumberOfTasksSucceeded"] < 500, job
    job = d.wait_status(cancelled, "Cancelled", timeout=30)
    assert _ps(job)["NumberOfTasksFailed"] == 0, job
    assert d.ok("status")["TasksInFlight"] == 0
    assert "unreachable endpoint stopped; they stay pending" in d.logtext()

    forwarder.up()
    d.ok("update-job-status", "--job-id", paused,
         "--requested-job-status", "Ready")
    job = d.wait_status(paused, ("Complete", "Failed"), timeout=300)
    assert job["Status"] == "Complete", job
    assert _ps(job)["NumberOfTasksSucceeded"] == 500, job
    assert _ps(job)["NumberOfTasksFailed"] == 0, job
    got = taggings(s3, bucket, keys[:500])
    assert [k for k in keys[:500] if got[k] != {"outage": "paused"}] == []


@pytest.fixture
def small_tmpfs(tmp_path):
    """A 32 MB tmpfs at tmp_path/state, lazily unmounted at the end (after
    the daemon, which is set up later and so stopped first)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    path = tmp_path / "state"
    path.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m,mode=0755",
                    "tmpfs", str(path)], check=True)
    yield path
    subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.mark.timeout(400)
def test_run_on_full_disk_waits_and_resumes(small_tmpfs, s3batchd, s3, bucket,
                                            tmp_path):
    """Results that cannot be committed stop the dispatch of new tasks (the
    buffer stays bounded), are retried with backoff under a rate-limited
    warning, and all reach the store once space is freed: the job ends
    Complete with every task recorded once."""
    keys = ["f/%04d" % i for i in range(2000)]
    put_objects(s3, bucket, keys, workers=32)
    d = s3batchd(start=False,
                 endpoint_extra="max_requests_per_second = 100\n")
    text = d.conf.read_text()
    d.conf.write_text(text.replace("state_dir = %s\n" % d.state,
                                   "state_dir = %s\n" % small_tmpfs))
    d.state = small_tmpfs
    d.start()
    spec = job_spec({"S3PutObjectTagging": {"TagSet": [
        {"Key": "disk", "Value": "full"}]}}, confirmation=False)
    job_id = create_job(d, tmp_path, spec,
                        manifest_csv(tmp_path / "m.csv", bucket, keys))
    d.wait_job(job_id, "200 tasks done",
               lambda j: _ps(j)["NumberOfTasksSucceeded"] >= 200,
               timeout=120)

    filler = small_tmpfs / "filler"
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
        except OSError:
            pass
    wait_until("a failed group commit (log)",
               lambda: "scheduler: committing" in d.logtext(), timeout=60)
    t_full = time.monotonic()
    # No task starts while commits fail: those in flight end, none follow.
    wait_until("no task in flight",
               lambda: d.ok("status")["TasksInFlight"] == 0, timeout=60)
    stalled = _ps(d.describe(job_id))["NumberOfTasksSucceeded"]
    assert stalled < len(keys)
    # A while later: still nothing started, and the log did not flood
    # (one line per 10 s; before, about 30 a second).
    time.sleep(12)
    assert d.ok("status")["TasksInFlight"] == 0
    assert _ps(d.describe(job_id))["NumberOfTasksSucceeded"] == stalled
    lines = [l for l in d.logtext().splitlines()
             if "scheduler: committing" in l]
    assert 1 <= len(lines) <= (time.monotonic() - t_full) / 10 + 2, lines

    os.unlink(filler)
    job = d.wait_status(job_id, ("Complete", "Failed"), timeout=200)
    assert job["Status"] == "Complete", job
    assert _ps(job)["NumberOfTasksSucceeded"] == len(keys), job
    assert _ps(job)["NumberOfTasksFailed"] == 0, job
    assert "results committed again after" in d.logtext()
    rows = report_rows(d, job_id)
    assert len(rows) == len(keys)
    assert len({r["Key"] for r in rows}) == len(keys)
    got = taggings(s3, bucket, keys)
    assert [k for k in keys if got[k] != {"disk": "full"}] == []
