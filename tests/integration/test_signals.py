"""Signals while jobs run, against the real RGW, effects checked with boto3:
SIGTERM with tasks in flight (the daemon drains and exits 0; after a
restart every task ends exactly once) and SIGHUP (new endpoint
credentials taken mid-run, the old key revoked at RGW, no task lost).

tests/faultproxy.py sits between the daemon and RGW: it slows the tasks
down (a delay rule, or just counting) and its counters show what was in
flight and which access key signed each request.
"""

import json
import signal
import time
import uuid

import botocore.exceptions
import pytest

from faults import FaultProxy
from s3b import (Daemon, bucket_conf, by_key, create_job, done,
                 endpoint_conf, http_status, job_spec, make_client,
                 manifest_csv, put_objects, report_csv_lines, report_rows,
                 taggings, wait_until)

TAGS = {"S3PutObjectTagging": {"TagSet": [{"Key": "signal",
                                           "Value": "survived"}]}}


@pytest.mark.timeout(900)
def test_sigterm_with_tasks_in_flight(proxied, s3, make_bucket, tmp_path):
    """SIGTERM while tasks are in flight (seen at the proxy): the daemon
    lets them finish within drain_timeout and exits 0; restarted, it runs
    the rest. Every task has exactly one result, in describe-job, in the
    local report and in the report CSV in the bucket; every object is
    tagged."""
    bucket = make_bucket()
    rep = make_bucket()
    keys = ["term/%04d" % i for i in range(400)]
    put_objects(s3, bucket, keys, workers=32)
    drain = 30
    # Each PUT ?tagging takes 0.5 s at the proxy: 8 in flight at a time.
    d, proxy = proxied(
        daemon_conf="max_inflight = 8\ndrain_timeout = %ds\n" % drain,
        rules=["delay delay_ms=500 method=PUT query=tagging"])
    spec = job_spec(TAGS, confirmation=False)
    spec["Report"] = {"Enabled": True, "Bucket": "arn:aws:s3:::%s" % rep,
                      "Format": "Report_CSV_20180820", "Prefix": "r",
                      "ReportScope": "AllTasks"}
    job_id = create_job(d, tmp_path, spec,
                        manifest_csv(tmp_path / "m.csv", bucket, keys))
    d.wait_job(job_id, "16 tasks done", lambda j: done(j) >= 16,
               timeout=120)
    st = wait_until("tagging requests in flight at the proxy",
                    lambda: (lambda s: s if s["in_flight"] >= 4 else None)(
                        proxy.stats()), timeout=60, interval=0.01)
    job = d.describe(job_id)
    assert job["Status"] == "Active" and done(job) < len(keys), job

    t0 = time.monotonic()
    rc = d.stop(signal.SIGTERM, timeout=drain + 30)
    took = time.monotonic() - t0
    assert rc == 0, (rc, d.logtext()[-3000:])
    assert took < drain + 5, took
    # What was in flight finished (or was abandoned) before the exit.
    wait_until("nothing in flight at the proxy",
               lambda: proxy.stats()["in_flight"] == 0, timeout=10)
    print("SIGTERM with %d requests in flight: exit 0 in %.1f s" %
          (st["in_flight"], took))

    d.start()
    job = d.wait_status(job_id, ("Complete", "Failed"), timeout=300)
    assert job["Status"] == "Complete", job
    ps = job["ProgressSummary"]
    assert (ps["TotalNumberOfTasks"], ps["NumberOfTasksSucceeded"],
            ps["NumberOfTasksFailed"]) == (len(keys), len(keys), 0), ps
    rows = report_rows(d, job_id)
    assert len(rows) == len(keys)
    got = by_key(rows)
    assert sorted(got) == keys
    assert {r["TaskStatus"] for r in rows} == {"succeeded"}
    _, lines = report_csv_lines(s3, rep, "r", job_id)
    assert len(lines) == len(keys)
    assert sorted(l.split(",")[1] for l in lines) == keys
    tags = taggings(s3, bucket, keys)
    assert [k for k in keys if tags[k] != {"signal": "survived"}] == []


@pytest.fixture
def rgw_users(rgw):
    """make(tag) -> (uid, access key, secret key): a new RGW user, removed
    (with its keys) at the end of the test."""
    made = []

    def make(tag):
        uid = "s3b-%s-%s" % (tag, uuid.uuid4().hex[:8])
        ak = ("AK" + uuid.uuid4().hex[:18]).upper()
        sk = uuid.uuid4().hex + uuid.uuid4().hex[:8]
        rgw.admin("user", "create", "--uid=" + uid, "--display-name=" + uid,
                  "--access-key=" + ak, "--secret=" + sk)
        made.append(uid)
        return uid, ak, sk

    yield make
    for uid in made:
        rgw.admin("user", "rm", "--uid=" + uid)


def grant_users(s3, bucket, uids):
    """A bucket policy letting the users do anything to the bucket's
    objects (the bucket stays tester's)."""
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": ["arn:aws:iam:::user/%s" % u
                                  for u in uids]},
            "Action": ["s3:*"],
            "Resource": ["arn:aws:s3:::%s" % bucket,
                         "arn:aws:s3:::%s/*" % bucket]}]}))


@pytest.mark.timeout(900)
def test_sighup_new_credentials_mid_run(rgw, rgw_users, s3, bucket,
                                        tmp_path):
    """A job runs with one user's key; the config is rewritten with a
    second user's key and SIGHUP sent; once the proxy sees the new key,
    the first key is removed from RGW. The job completes with every task
    succeeded: the daemon signs with the new key from then on."""
    keys = ["hup/%04d" % i for i in range(800)]
    put_objects(s3, bucket, keys, workers=32)
    uid1, ak1, sk1 = rgw_users("hup1")
    uid2, ak2, sk2 = rgw_users("hup2")
    grant_users(s3, bucket, [uid1, uid2])
    # The users' keys work on the bucket before anything else.
    for ak, sk in ((ak1, sk1), (ak2, sk2)):
        c = make_client(rgw.endpoint, ak, sk)
        wait_until("user %s to reach the bucket" % ak,
                   lambda: c.head_object(Bucket=bucket, Key=keys[0]),
                   timeout=30, interval=0.2)

    proxy = FaultProxy(rgw.endpoint).start()
    d = None
    try:
        daemon_conf = "max_inflight = 8\n"

        def conf(ak, sk):
            return endpoint_conf(rgw.endpoint) + endpoint_conf(
                proxy.endpoint, name="hup", keys=(ak, sk),
                extra="max_requests_per_second = 80") + \
                bucket_conf(bucket, "hup")
        d = Daemon(daemon_conf=daemon_conf, extra_conf=conf(ak1, sk1))
        d.conf.chmod(0o600)
        d.start()
        job_id = create_job(d, tmp_path, job_spec(TAGS, confirmation=False),
                            manifest_csv(tmp_path / "m.csv", bucket, keys))
        d.wait_job(job_id, "100 tasks done", lambda j: done(j) >= 100,
                   timeout=120)
        assert proxy.stats()["by_access_key"].get(ak1, 0) >= 100

        d.write_conf(daemon_conf, conf(ak2, sk2))
        d.signal(signal.SIGHUP)
        wait_until("requests signed with the new key",
                   lambda: proxy.stats()["by_access_key"].get(ak2, 0) > 0,
                   timeout=30, interval=0.02)
        rgw.admin("key", "rm", "--uid=" + uid1, "--access-key=" + ak1)
        old = make_client(rgw.endpoint, ak1, sk1)

        def refused():
            try:
                old.head_object(Bucket=bucket, Key=keys[0])
            except botocore.exceptions.ClientError as e:
                return http_status(e) == 403
            return False
        wait_until("RGW to refuse the removed key", refused, timeout=30,
                   interval=0.2)
        job = d.describe(job_id)
        assert job["Status"] == "Active" and done(job) < len(keys), \
            "the job ended before the old key was revoked: %r" % job
        revoked_at = done(job)

        job = d.wait_status(job_id, ("Complete", "Failed"), timeout=300)
        assert job["Status"] == "Complete", job
        ps = job["ProgressSummary"]
        assert (ps["NumberOfTasksSucceeded"], ps["NumberOfTasksFailed"]) == \
            (len(keys), 0), (ps, report_rows(d, job_id, failed_only=True))
        st = proxy.stats()
        assert st["by_access_key"].get(ak2, 0) >= len(keys) - revoked_at, st
        assert d.proc.poll() is None, "s3batchd exited on SIGHUP"
        rows = report_rows(d, job_id)
        assert sorted(by_key(rows)) == keys
        assert {r["TaskStatus"] for r in rows} == {"succeeded"}
        tags = taggings(s3, bucket, keys)
        assert [k for k in keys if tags[k] != {"signal": "survived"}] == []
    finally:
        if d is not None:
            d.stop()
            d.remove()
        proxy.stop()
