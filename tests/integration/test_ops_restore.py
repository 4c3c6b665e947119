"""S3InitiateRestoreObject through the real s3batchd and s3batchctl.

No S3 server on this machine implements RestoreObject: Ceph RGW answers
POST ?restore with 501 NotImplemented (test_restore_against_rgw_itself
shows what a job gets there). So these tests put tests/restore_responder.py
between the daemon and RGW: A TEST STAND-IN that answers RestoreObject per
Amazon's API reference (202 when a restore starts, 409
RestoreAlreadyInProgress while one runs unless the new request only makes
it faster, 200 once restored, 403 InvalidObjectState outside GLACIER and
DEEP_ARCHIVE, 404 NoSuchKey for a missing object, learned by a HEAD to RGW)
and forwards every other request to RGW untouched. Objects are made and
checked with boto3 on RGW itself; the restore state is read with boto3
HEADs through the stand-in (x-amz-restore) and from its GET /__restore__.
"""

import json
import subprocess
import sys
import time
import urllib.request

import botocore
import botocore.exceptions
import pytest

import s3b
from s3b import (TOP, USERS, bucket_conf, by_key, endpoint_conf, error_code,
                 http_status, inventory_location, inventory_manifest,
                 job_spec, make_client, manifest_csv, put_objects, read_line,
                 report_rows, write_json)

RESPONDER = TOP / "tests" / "restore_responder.py"


class Responder:
    """tests/restore_responder.py in a child process, in front of RGW."""

    def __init__(self, upstream, delay=3600):
        cmd = [sys.executable, str(RESPONDER), "--upstream", upstream,
               "--listen", "127.0.0.1:0", "--delay", str(delay)]
        for ak, sk in USERS.values():
            cmd += ["--credentials", "%s:%s" % (ak, sk)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, text=True)
        try:
            line = read_line(self.proc.stdout, 10, "restore_responder's "
                             "RESTORE_RESPONDER_ENDPOINT= line")
        except AssertionError:
            self.stop()
            raise
        if not line.startswith("RESTORE_RESPONDER_ENDPOINT="):
            self.stop()
            raise RuntimeError("restore_responder did not start")
        self.endpoint = line.strip().partition("=")[2]

    def state(self):
        with urllib.request.urlopen(self.endpoint + "/__restore__",
                                    timeout=30) as r:
            return json.loads(r.read())

    def control(self, **kw):
        req = urllib.request.Request(self.endpoint + "/__restore__",
                                     data=json.dumps(kw).encode(),
                                     method="POST")
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())

    def objects(self, bucket):
        return {(o["key"], o["version_id"]): o for o in
                self.state()["objects"] if o["bucket"] == bucket}

    def client(self, user="tester"):
        return make_client(self.endpoint, *USERS[user])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()


@pytest.fixture
def responder(rgw):
    r = Responder(rgw.endpoint)
    yield r
    r.stop()


def restore_daemon(s3batchd, responder, *buckets, probe=True):
    """An s3batchd whose given buckets go through the stand-in (endpoint
    "restore"); every other bucket stays on RGW directly. probe=False: no
    capability probe of the stand-in before the job (its calls would take
    faults the test injects for the tasks)."""
    conf = endpoint_conf(responder.endpoint, name="restore",
                         extra="" if probe else "probe = no\n")
    for b in buckets:
        conf += bucket_conf(b, "restore")
    return s3batchd(extra_conf=conf)


def restore_spec(days=None, tier=None, **extra):
    op = {}
    if days is not None:
        op["ExpirationInDays"] = days
    if tier is not None:
        op["GlacierJobTier"] = tier
    return job_spec({"S3InitiateRestoreObject": op}, confirmation=False,
                    **extra)


def run_job(d, tmp_path, spec, manifest=None, timeout=120):
    return s3b.run_job(d, tmp_path, spec, manifest, timeout=timeout)


def test_responder_speaks_restore_object(responder, s3, bucket):
    """The stand-in itself, driven by boto3: Amazon's answers."""
    c = responder.client()
    s3.put_object(Bucket=bucket, Key="g", Body=b"g", StorageClass="GLACIER")
    s3.put_object(Bucket=bucket, Key="d", Body=b"d",
                  StorageClass="DEEP_ARCHIVE")
    s3.put_object(Bucket=bucket, Key="s", Body=b"s")
    r = c.restore_object(Bucket=bucket, Key="g", RestoreRequest={
        "Days": 2, "GlacierJobParameters": {"Tier": "Bulk"}})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert c.head_object(Bucket=bucket, Key="g")["Restore"] == \
        'ongoing-request="true"'
    # A slower or equal tier, or other Days, while in progress: 409.
    for req in ({"Days": 2, "GlacierJobParameters": {"Tier": "Bulk"}},
                {"Days": 3, "GlacierJobParameters": {"Tier": "Standard"}}):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            c.restore_object(Bucket=bucket, Key="g", RestoreRequest=req)
        assert http_status(e.value) == 409
        assert error_code(e.value) == "RestoreAlreadyInProgress"
    # The same Days, faster: an upgrade.
    r = c.restore_object(Bucket=bucket, Key="g", RestoreRequest={
        "Days": 2, "GlacierJobParameters": {"Tier": "Standard"}})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 202
    responder.control(complete=True)
    r = c.restore_object(Bucket=bucket, Key="g", RestoreRequest={"Days": 9})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    restore = c.head_object(Bucket=bucket, Key="g")["Restore"]
    assert restore.startswith('ongoing-request="false", expiry-date="')
    assert c.get_object(Bucket=bucket, Key="g")["Restore"] == restore
    # Not archived, missing, bad signature, no signature.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        c.restore_object(Bucket=bucket, Key="s", RestoreRequest={"Days": 1})
    assert (http_status(e.value), error_code(e.value)) == \
        (403, "InvalidObjectState")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        c.restore_object(Bucket=bucket, Key="nope", RestoreRequest={"Days": 1})
    assert (http_status(e.value), error_code(e.value)) == (404, "NoSuchKey")
    bad = make_client(responder.endpoint, "TESTAK", "not-the-secret")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        bad.restore_object(Bucket=bucket, Key="d", RestoreRequest={"Days": 1})
    assert error_code(e.value) == "SignatureDoesNotMatch"
    anon = make_client(responder.endpoint, "x", "y",
                       signature_version=botocore.UNSIGNED)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        anon.restore_object(Bucket=bucket, Key="d", RestoreRequest={"Days": 1})
    assert (http_status(e.value), error_code(e.value)) == (403, "AccessDenied")
    # Everything else reaches RGW, which has the object unchanged.
    assert c.get_object(Bucket=bucket, Key="d")["Body"].read() == b"d"
    assert "Restore" not in c.head_object(Bucket=bucket, Key="d")
    assert s3.head_object(Bucket=bucket, Key="g")["StorageClass"] == "GLACIER"


@pytest.mark.timeout(1200)
def test_restore_2000_objects(s3batchd, responder, s3, bucket, tmp_path):
    """2,000 archived objects restored, the others fail with S3's codes."""
    glacier = ["g/%04d" % i for i in range(1500)]
    deep = ["d/%04d" % i for i in range(500)]
    standard = ["s/%02d" % i for i in range(20)] + ["sp ace/ü+%.txt"]
    missing = ["missing/%d" % i for i in range(5)]
    etags = put_objects(s3, bucket, glacier, StorageClass="GLACIER",
                        workers=32)
    etags.update(put_objects(s3, bucket, deep, StorageClass="DEEP_ARCHIVE",
                             workers=32))
    put_objects(s3, bucket, standard)
    keys = glacier + deep + standard + missing
    d = restore_daemon(s3batchd, responder, bucket)
    m = manifest_csv(tmp_path / "m.csv", bucket, keys)
    t0 = time.monotonic()
    job_id, job = run_job(d, tmp_path, restore_spec(3, "BULK"), m,
                          timeout=300)
    elapsed = time.monotonic() - t0
    assert job["Status"] == "Complete", job
    ps = job["ProgressSummary"]
    assert ps["TotalNumberOfTasks"] == len(keys)
    assert ps["NumberOfTasksSucceeded"] == 2000
    assert ps["NumberOfTasksFailed"] == len(standard) + len(missing)
    print("restore job: %d tasks in %.1f s" % (len(keys), elapsed))

    rows = by_key(report_rows(d, job_id))
    assert len(rows) == len(keys)
    for k in glacier + deep:
        assert rows[k]["TaskStatus"] == "succeeded", rows[k]
        assert rows[k]["HTTPStatusCode"] == 202, rows[k]
    for k in standard:
        assert (rows[k]["TaskStatus"], rows[k]["HTTPStatusCode"],
                rows[k]["ErrorCode"]) == ("failed", 403,
                                          "InvalidObjectState"), rows[k]
    for k in missing:
        assert (rows[k]["HTTPStatusCode"], rows[k]["ErrorCode"]) == \
            (404, "NoSuchKey"), rows[k]

    # One restore per archived object, with the job's Days and tier.
    objs = responder.objects(bucket)
    assert set(k for k, _ in objs) == set(glacier + deep)
    for (k, _), o in objs.items():
        assert (o["days"], o["tier"], o["requests"], o["state"]) == \
            (3, "Bulk", 1, "in-progress"), o
        assert o["storage_class"] == ("GLACIER" if k.startswith("g/")
                                      else "DEEP_ARCHIVE")
    c = responder.client()
    for k in glacier[::150] + deep[::100]:
        assert c.head_object(Bucket=bucket, Key=k)["Restore"] == \
            'ongoing-request="true"'
        h = s3.head_object(Bucket=bucket, Key=k)
        assert h["ETag"] == etags[k] and h["StorageClass"] in \
            ("GLACIER", "DEEP_ARCHIVE")


def test_overlapping_restores_follow_amazon(s3batchd, responder, s3, bucket,
                                            tmp_path):
    """Amazon's Batch Operations rules for a restore already under way:
    same Days and a faster tier succeeds, anything else fails with 409
    RestoreAlreadyInProgress; an already restored object succeeds (200)
    and gets the new Days."""
    keys = ["k%02d" % i for i in range(30)]
    put_objects(s3, bucket, keys, StorageClass="GLACIER")
    d = restore_daemon(s3batchd, responder, bucket)
    m = manifest_csv(tmp_path / "m.csv", bucket, keys)

    def run(days, tier):
        job_id, job = run_job(d, tmp_path, restore_spec(days, tier), m)
        assert job["Status"] == "Complete", job
        return job["ProgressSummary"], by_key(report_rows(d, job_id))

    ps, rows = run(2, "BULK")
    assert ps["NumberOfTasksSucceeded"] == 30
    # The same tier again, or another Days: refused while in progress.
    for days, tier in ((2, "BULK"), (5, "STANDARD")):
        ps, rows = run(days, tier)
        assert ps["NumberOfTasksFailed"] == 30, (days, tier)
        assert {(r["HTTPStatusCode"], r["ErrorCode"])
                for r in rows.values()} == {(409, "RestoreAlreadyInProgress")}
    # The same Days, faster: a speed upgrade, which succeeds.
    ps, rows = run(2, "STANDARD")
    assert ps["NumberOfTasksSucceeded"] == 30
    assert {r["HTTPStatusCode"] for r in rows.values()} == {202}
    assert {o["tier"] for o in responder.objects(bucket).values()} == \
        {"Standard"}
    # Restored: a new job updates the expiry and succeeds with 200.
    responder.control(complete=True)
    c = responder.client()
    before = c.head_object(Bucket=bucket, Key="k00")["Restore"]
    ps, rows = run(40, "BULK")
    assert ps["NumberOfTasksSucceeded"] == 30
    assert {r["HTTPStatusCode"] for r in rows.values()} == {200}
    after = c.head_object(Bucket=bucket, Key="k00")["Restore"]
    assert after.startswith('ongoing-request="false"') and after != before
    assert {o["days"] for o in responder.objects(bucket).values()} == {40}


def test_versions_and_other_endpoint_buckets(s3batchd, responder, s3,
                                             make_bucket, tmp_path):
    """A manifest's version id is the version restored."""
    b = make_bucket(versioned=True)
    old = s3.put_object(Bucket=b, Key="v", Body=b"old",
                        StorageClass="GLACIER")["VersionId"]
    new = s3.put_object(Bucket=b, Key="v", Body=b"new")["VersionId"]
    d = restore_daemon(s3batchd, responder, b)
    m = manifest_csv(tmp_path / "m.csv", b, ["v", "v"], [old, new])
    spec = restore_spec(1, "STANDARD")
    spec["Manifest"]["Spec"]["Fields"] = ["Bucket", "Key", "VersionId"]
    job_id, job = run_job(d, tmp_path, spec, m)
    rows = {r["VersionId"]: r for r in report_rows(d, job_id)}
    assert rows[old]["HTTPStatusCode"] == 202
    assert (rows[new]["HTTPStatusCode"], rows[new]["ErrorCode"]) == \
        (403, "InvalidObjectState")
    assert set(responder.objects(b)) == {("v", old)}
    c = responder.client()
    assert c.head_object(Bucket=b, Key="v", VersionId=old)["Restore"] == \
        'ongoing-request="true"'
    assert "Restore" not in c.head_object(Bucket=b, Key="v")


def test_lost_answer_is_not_a_failure(s3batchd, responder, s3, bucket,
                                      tmp_path):
    """A restore started by an attempt whose answer was lost (connection
    reset) is found in progress by the retry: the task succeeds."""
    keys = ["k%02d" % i for i in range(20)]
    put_objects(s3, bucket, keys, StorageClass="GLACIER")
    responder.control(reset_after_accept=5)
    d = restore_daemon(s3batchd, responder, bucket, probe=False)
    m = manifest_csv(tmp_path / "m.csv", bucket, keys)
    job_id, job = run_job(d, tmp_path, restore_spec(1, "BULK"), m)
    assert job["ProgressSummary"]["NumberOfTasksSucceeded"] == 20, \
        [r for r in report_rows(d, job_id) if r["TaskStatus"] != "succeeded"]
    st = responder.state()
    assert st["counters"]["resets"] == 5
    retried = [o for o in st["objects"] if o["requests"] > 1]
    assert len(retried) == 5
    assert all(o["answers"] == [202, 409] for o in retried)
    rows = by_key(report_rows(d, job_id))
    for o in retried:
        r = rows[o["key"]]
        assert r["TaskStatus"] == "succeeded" and r["Attempts"] == 2, r
        assert "earlier attempt" in r["ResultMessage"], r


def test_pinned_etag_checked_first(s3batchd, responder, s3, make_bucket,
                                   tmp_path):
    """An inventory ETag that no longer matches: 412, no restore sent."""
    b = make_bucket()
    inv = make_bucket()
    keys = ["k%d" % i for i in range(6)]
    etags = put_objects(s3, b, keys, StorageClass="GLACIER")
    rows = [(b, k, etags[k].strip('"')) for k in keys]
    key, etag = inventory_manifest(s3, b, inv, rows, "Bucket, Key, ETag")
    for k in keys[:2]:
        s3.put_object(Bucket=b, Key=k, Body=b"changed",
                      StorageClass="GLACIER")
    s3.delete_object(Bucket=b, Key=keys[2])
    d = restore_daemon(s3batchd, responder, b)
    spec = restore_spec(1)
    spec["Manifest"] = inventory_location(inv, key, etag)
    job_id, job = run_job(d, tmp_path, spec)
    got = by_key(report_rows(d, job_id))
    for k in keys[:2]:
        assert (got[k]["HTTPStatusCode"], got[k]["ErrorCode"]) == \
            (412, "PreconditionFailed")
    assert (got[keys[2]]["HTTPStatusCode"], got[keys[2]]["ErrorCode"]) == \
        (404, "NoSuchKey")
    assert {k for k, _ in responder.objects(b)} == set(keys[3:])
    # No Tier given: S3's default, Standard.
    assert {o["tier"] for o in responder.objects(b).values()} == {"Standard"}


def test_without_days_archived_objects_fail(s3batchd, responder, s3, bucket,
                                            tmp_path):
    """No ExpirationInDays (as for Intelligent-Tiering archive tiers): the
    request carries no Days, which S3 refuses for GLACIER objects."""
    put_objects(s3, bucket, ["a"], StorageClass="GLACIER")
    d = restore_daemon(s3batchd, responder, bucket)
    m = manifest_csv(tmp_path / "m.csv", bucket, ["a"])
    job_id, job = run_job(d, tmp_path, restore_spec(tier="BULK"), m)
    (row,) = report_rows(d, job_id)
    assert (row["HTTPStatusCode"], row["ErrorCode"]) == \
        (400, "InvalidArgument")
    assert responder.objects(bucket) == {}


@pytest.mark.parametrize("op, field", [
    ({"GlacierJobTier": "EXPEDITED", "ExpirationInDays": 1},
     "GlacierJobTier"),
    ({"ExpirationInDays": -1}, "ExpirationInDays"),
    ({"ExpirationInDays": "7"}, "ExpirationInDays"),
])
def test_bad_parameters_fail_create_job(s3batchd, tmp_path, op, field):
    d = s3batchd()
    spec = job_spec({"S3InitiateRestoreObject": op}, confirmation=False)
    m = tmp_path / "m.csv"
    m.write_text("b,k\n")
    r = d.ctl("create-job", "--cli-input-json",
              write_json(tmp_path / "job.json", spec), "--manifest-file", m)
    assert r.rc != 0
    assert "S3InitiateRestoreObject" in r.err + r.out and \
        field in r.err + r.out, r


def test_restore_against_rgw_itself(s3batchd, s3, bucket, tmp_path):
    """Straight to RGW, which does not implement RestoreObject: the
    capability probe finds it (POST ?restore answers 501 NotImplemented)
    and the job fails at once with the reason; no task runs."""
    put_objects(s3, bucket, ["a", "b"], StorageClass="GLACIER")
    d = s3batchd()
    m = manifest_csv(tmp_path / "m.csv", bucket, ["a", "b"])
    job_id, job = run_job(d, tmp_path, restore_spec(1, "BULK"), m)
    assert job["Status"] == "Failed", job
    reasons = json.dumps(job["FailureReasons"])
    assert "does not support restoring archived objects" in reasons, reasons
    assert "501 NotImplemented" in reasons, reasons
    ps = job["ProgressSummary"]
    assert ps["NumberOfTasksSucceeded"] + ps["NumberOfTasksFailed"] == 0, ps
