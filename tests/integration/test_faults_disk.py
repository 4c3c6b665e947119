"""Nothing accepted is lost when the state directory's disk fills (issue 8).

The state directory (or only its spool) is a small tmpfs mounted for the
test, so that the disk is really full: SQLite gets SQLITE_FULL and the
spool's writes ENOSPC from the kernel, not from a stand-in. Space is
"freed" by remounting the tmpfs larger (or by deleting a filler file).
The daemon, s3batchctl and RGW are the real ones; boto3 checks the objects.

What is shown: a job that cannot be prepared for lack of space stays
Preparing and says why in its FailureReasons (LocalStorageUnavailable), its
spool copy of the manifest is kept, its memory stays bounded and its log
does not flood; it survives a restart while the disk is full, and it
prepares and runs once space is freed; a cancel while full ends Cancelled;
a stream-in that cannot be spooled is refused; a report that cannot be
written waits and is written once space is back.
"""

import errno
import json
import os
import re
import subprocess
import time
import uuid

import pytest

from s3b import create_job, job_spec, manifest_csv, tagging, taggings

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="mounting a tmpfs needs root")

# Keys long enough that a thousand tasks take about as much room as their
# manifest: the tmpfs is sized to hold the manifest but not the tasks.
NKEYS = 1000
KEYLEN = 900
LOCAL = "LocalStorageUnavailable"


@pytest.fixture
def tmpfs():
    """mount(path, size) mounts a tmpfs of that size at path; remount(path,
    size) resizes it. Every mount is lazily unmounted at the end (after the
    daemons, which are set up later and so stopped first)."""
    mounts = []

    def mount(path, size):
        path.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o",
                        "size=%s,mode=0755" % size, "tmpfs", str(path)],
                       check=True)
        mounts.append(path)
        return path

    def remount(path, size):
        subprocess.run(["mount", "-o", "remount,size=%s" % size, str(path)],
                       check=True)

    mount.remount = remount
    yield mount
    for p in reversed(mounts):
        subprocess.run(["umount", "-l", str(p)], check=False)


def on_state_dir(d, state):
    """Point a daemon that has not started yet at another state_dir."""
    text = d.conf.read_text()
    d.conf.write_text(text.replace("state_dir = %s\n" % d.state,
                                   "state_dir = %s\n" % state))
    d.state = state


def fill(path):
    """Write a filler file until the disk says ENOSPC: its path."""
    filler = path / ("filler-%s" % uuid.uuid4().hex)
    chunk = b"\0" * 65536
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(chunk)
                f.flush()
        except OSError as e:
            assert e.errno == errno.ENOSPC, e
    return filler


def long_keys(n=NKEYS, tag=""):
    return ["disk%s/%05d/%s" % (tag, i, "k" * KEYLEN) for i in range(n)]


def waiting_reason(job):
    for f in job.get("FailureReasons") or []:
        if f.get("FailureCode") == LOCAL:
            return f.get("FailureReason")
    return None


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


def log_lines(d):
    return len(d.logtext().splitlines())


def spool_files(state, job_id):
    spool = state / "spool"
    return sorted(p.name for p in spool.iterdir() if p.name.startswith(job_id))


def manifest_size(path):
    return os.path.getsize(path)


def full_state(tmpfs, s3batchd, tmp_path, manifest, **conf):
    """A daemon whose state_dir is a tmpfs holding the manifest's spool copy
    and the empty store, with too little room left for the tasks."""
    # The empty store with its WAL and shm is well under 256 KiB; the
    # tasks need about as much again as the manifest, twice (WAL, db).
    size = manifest_size(manifest) + 512 * 1024
    state = tmpfs(tmp_path / "state", size)
    d = s3batchd(start=False, **conf)
    on_state_dir(d, state)
    d.start()
    return d, state


@pytest.mark.timeout(300)
def test_prepare_on_full_disk_waits_and_resumes(tmpfs, s3batchd, s3, bucket,
                                                 put_objects, tmp_path):
    keys = long_keys()
    put_objects(bucket, keys)
    manifest = manifest_csv(tmp_path / "m.csv", bucket, keys)
    d, state = full_state(tmpfs, s3batchd, tmp_path, manifest)
    spec = job_spec({"S3PutObjectTagging": {"TagSet": [
        {"Key": "disk", "Value": "full"}]}}, confirmation=True)
    job_id = create_job(d, tmp_path, spec, manifest)

    # The job cannot store its tasks: it waits in Preparing and says why.
    job = d.wait_job(job_id, "a FailureReason saying the store is full",
                     lambda j: waiting_reason(j) is not None, timeout=60)
    assert job["Status"] == "Preparing", job
    assert re.search(r"full|space", waiting_reason(job), re.I), job
    assert spool_files(state, job_id) == [job_id + ".csv"]

    # While full: it keeps trying (backoff), its memory stays bounded and
    # its log does not flood.
    rss0, lines0 = rss_kib(d.pid), log_lines(d)
    t0 = time.monotonic()
    job = d.wait_job(job_id, "three more attempts",
                     lambda j: int(re.search(r"attempt (\d+)",
                                             waiting_reason(j)).group(1)) >= 4,
                     timeout=60, interval=0.2)
    elapsed = time.monotonic() - t0
    assert job["Status"] == "Preparing", job
    assert rss_kib(d.pid) < rss0 + 64 * 1024, (rss0, rss_kib(d.pid))
    added = log_lines(d) - lines0
    assert added <= 10 + elapsed, (added, elapsed, d.logtext()[-3000:])

    # A restart while full: the job is still there, still waiting, and its
    # manifest is still in the spool.
    d.restart()
    job = d.wait_job(job_id, "waiting again after the restart",
                     lambda j: waiting_reason(j) is not None, timeout=60)
    assert job["Status"] == "Preparing", job
    assert spool_files(state, job_id) == [job_id + ".csv"]

    # Space is back: the job prepares every task and runs them all.
    tmpfs.remount(state, "256m")
    job = d.wait_status(job_id, "Suspended", timeout=120)
    assert job["ProgressSummary"]["TotalNumberOfTasks"] == NKEYS, job
    assert waiting_reason(job) is None, job
    assert spool_files(state, job_id) == []
    d.ok("update-job-status", "--job-id", job_id, "--requested-job-status",
         "Ready")
    job = d.wait_status(job_id, ("Complete", "Failed"), timeout=240)
    assert job["Status"] == "Complete", job
    ps = job["ProgressSummary"]
    assert (ps["NumberOfTasksSucceeded"], ps["NumberOfTasksFailed"]) == \
        (NKEYS, 0), job
    assert job["FailureReasons"] == [], job
    tags = taggings(s3, bucket, keys[::50])
    assert all(t == {"disk": "full"} for t in tags.values()), tags


@pytest.mark.timeout(180)
def test_cancel_on_full_disk(tmpfs, s3batchd, bucket, tmp_path):
    keys = long_keys(tag="c")
    manifest = manifest_csv(tmp_path / "m.csv", bucket, keys)
    d, state = full_state(tmpfs, s3batchd, tmp_path, manifest)
    job_id = create_job(d, tmp_path, job_spec(), manifest)
    d.wait_job(job_id, "waiting for space",
               lambda j: waiting_reason(j) is not None, timeout=60)
    r = d.ok("update-job-status", "--job-id", job_id,
             "--requested-job-status", "Cancelled")
    assert r["Status"] in ("Cancelling", "Cancelled"), r
    job = d.wait_status(job_id, "Cancelled", timeout=60)
    assert waiting_reason(job) is None, job
    assert spool_files(state, job_id) == []
    # It stays Cancelled across a restart, and space freed changes nothing.
    d.restart()
    tmpfs.remount(state, "64m")
    assert d.describe(job_id)["Status"] == "Cancelled"


@pytest.mark.timeout(120)
def test_stream_in_on_full_disk_is_refused(tmpfs, s3batchd, bucket,
                                           tmp_path):
    keys = ["s/%05d" % i for i in range(2000)]
    manifest = manifest_csv(tmp_path / "m.csv", bucket, keys)
    state = tmpfs(tmp_path / "state", "2m")
    d = s3batchd(start=False)
    on_state_dir(d, state)
    d.start()
    filler = fill(state)
    args = ["create-job", "--cli-input-json",
            "file://%s" % (tmp_path / "spec.json"), "--manifest-file",
            str(manifest)]
    (tmp_path / "spec.json").write_text(json.dumps(job_spec()))
    r = d.ctl(*args)
    assert r.rc != 0, r
    assert r.err.strip(), r
    # No job was left behind, and no partial spool file.
    jobs = d.ok("list-jobs")["Jobs"]
    assert jobs == [], jobs
    assert [p for p in (state / "spool").iterdir()] == []
    # Space back: the same request is accepted and prepared.
    filler.unlink()
    r = d.ctl(*args)
    assert r.rc == 0, r
    job = d.wait_status(r.json["JobId"], "Suspended", timeout=60)
    assert job["ProgressSummary"]["TotalNumberOfTasks"] == len(keys)


@pytest.mark.timeout(300)
def test_report_on_full_spool_waits(tmpfs, s3batchd, s3, bucket, make_bucket,
                                    put_objects, tmp_path):
    """The report's result files cannot be written (the spool is full): the
    job waits in Completing and says why, then writes its report."""
    rep = make_bucket()
    keys = long_keys(300, tag="r")
    put_objects(bucket, keys)
    d = s3batchd()
    spool = d.state / "spool"
    spec = job_spec({"S3PutObjectTagging": {"TagSet": [
        {"Key": "r", "Value": "1"}]}}, confirmation=True)
    spec["Report"] = {"Enabled": True, "Bucket": "arn:aws:s3:::%s" % rep,
                      "Format": "Report_CSV_20180820", "Prefix": "r",
                      "ReportScope": "AllTasks"}
    job_id = create_job(d, tmp_path, spec,
                        manifest_csv(tmp_path / "m.csv", bucket, keys))
    d.wait_status(job_id, "Suspended", timeout=60)
    # The manifest's spool copy is gone (the job left Preparing): a small
    # full tmpfs over the spool leaves no room for the report's files.
    assert list(spool.iterdir()) == []
    tmpfs(spool, "64k")
    filler = fill(spool)
    d.ok("update-job-status", "--job-id", job_id, "--requested-job-status",
         "Ready")
    job = d.wait_job(job_id, "the report waiting for space",
                     lambda j: waiting_reason(j) is not None or
                     j["Status"] in ("Complete", "Failed"), timeout=120)
    assert job["Status"] == "Completing", job
    filler.unlink()
    tmpfs.remount(spool, "16m")
    job = d.wait_status(job_id, ("Complete", "Failed"), timeout=120)
    assert job["Status"] == "Complete", job
    assert job["FailureReasons"] == [], job
    man = s3.get_object(Bucket=rep, Key="r/job-%s/manifest.json" % job_id)
    assert man["ContentLength"] > 0
    assert tagging(s3, bucket, keys[0]) == {"r": "1"}


@pytest.mark.timeout(180)
def test_fetch_on_full_disk_waits(tmpfs, s3batchd, s3, bucket, tmp_path):
    """A manifest on S3 that cannot be downloaded into a full spool: the job
    waits in New and says why, then downloads it once space is freed. (A
    full store refuses create-job itself: the client is told.)"""
    keys = ["f/%04d" % i for i in range(500)]
    body = "".join("%s,%s\n" % (bucket, k) for k in keys).encode()
    etag = s3.put_object(Bucket=bucket, Key="manifest.csv",
                         Body=body)["ETag"].strip('"')
    # Only the spool is full (a full store refuses create-job itself).
    d = s3batchd()
    spool = tmpfs(d.state / "spool", "64k")
    filler = fill(spool)
    spec = job_spec(Manifest={
        "Spec": {"Format": "S3BatchOperations_CSV_20180820",
                 "Fields": ["Bucket", "Key"]},
        "Location": {"ObjectArn": "arn:aws:s3:::%s/manifest.csv" % bucket,
                     "ETag": etag}})
    job_id = create_job(d, tmp_path, spec)
    job = d.wait_job(job_id, "the download waiting for space",
                     lambda j: waiting_reason(j) is not None or
                     j["Status"] not in ("New",), timeout=60)
    assert job["Status"] == "New", job
    filler.unlink()
    job = d.wait_status(job_id, "Suspended", timeout=60)
    assert job["ProgressSummary"]["TotalNumberOfTasks"] == len(keys), job
    assert waiting_reason(job) is None, job
