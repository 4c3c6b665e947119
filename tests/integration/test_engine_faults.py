"""The real s3batchd against the real RGW through tests/faultproxy.py (a
test stand-in that injects 503 SlowDown, 500 InternalError, 429, connection
resets and delays on demand; see the top of that file). Jobs must still
finish with every task correct, checked with boto3 straight at RGW (not
through the proxy), and the retries must show in the task records
(`s3batchctl report --format jsonl`, member `Attempts`).

Resets: the proxy reads the whole request, then closes with a TCP RST. On a
kept-alive connection libcurl resends such a request by itself on a fresh
connection (src/http.c: "curl rewinds by itself when a reused connection
died under a request"), inside one of the daemon's attempts; only a reset
on a fresh connection reaches the daemon's retry logic. So resets are
checked for correctness and in the proxy's counters, and the attempt
counts are checked against the proxy's request counter with that slack.
"""

import gzip
import hashlib
import json
import urllib.parse

from s3b import (by_key, create_job as create, inventory_location, job_spec,
                 manifest_csv, put_objects, report_rows, tagging, taggings)

# Quick retries, and enough of them that a task hit by faults on, say,
# half of all requests still succeeds (0.5^20 per task).
#
# These tests are about retries: their proxy throttles a fixed share of
# requests whatever the rate, which an adaptive rate would answer by
# slowing to 1 request a second. NO_AIMD keeps the endpoint's rate fixed;
# test_adaptive_rate.py tests the adaptation.
NO_AIMD = "adaptive_rate = no\n"
DAEMON_CONF = ("max_attempts = 20\n"
               "retry_base = 10ms\n"
               "retry_max = 300ms\n")


# The calls of one capability probe: 24 steps, the deletes of what it
# wrote (about 15) and an abort.
PROBE_CALLS = 45


def test_tagging_1000_through_faults(proxied, s3, bucket, tmp_path):
    keys = ["f/%04d" % i for i in range(1000)] + ["sp ace+%/ü"]
    put_objects(s3, bucket, keys, workers=32)
    rules = [
        "delay delay_ms=40 fraction=0.05",
        "slowdown every=3",
        "internal every=7",
        "reset every=23",
    ]
    d, proxy = proxied(daemon_conf=DAEMON_CONF, rules=rules,
                       endpoint_extra=NO_AIMD)
    spec = job_spec({"S3PutObjectTagging": {"TagSet": [
        {"Key": "survived", "Value": "faults"}]}}, confirmation=False)
    job_id = create(d, tmp_path, spec, manifest_csv(tmp_path / "m.csv",
                                                    bucket, keys))
    job = d.wait_status(job_id, ("Complete", "Failed"), timeout=300)
    st = proxy.stats()
    assert job["Status"] == "Complete", (job, st)
    ps = job["ProgressSummary"]
    assert ps["NumberOfTasksSucceeded"] == len(keys), report_rows(d, job_id)
    assert ps["NumberOfTasksFailed"] == 0

    # Every object tagged, seen by boto3 at RGW itself.
    got = taggings(s3, bucket, keys)
    assert [k for k in keys if got[k] != {"survived": "faults"}] == []

    inj = st["injected"]
    assert inj["slowdown"] >= len(keys) // 3, st
    assert inj["internal"] > 0 and inj["reset"] > 0 and inj["delay"] > 0, st

    rows = report_rows(d, job_id)
    assert len(rows) == len(keys)
    assert {urllib.parse.unquote(r["Key"]) for r in rows} == set(keys)
    assert all(r["TaskStatus"] == "succeeded" and r["HTTPStatusCode"] == 200
               for r in rows)
    attempts = [r["Attempts"] for r in rows]
    assert min(attempts) >= 1
    retried = sum(1 for a in attempts if a > 1)
    # A third of all requests got a 503: far more than a few tasks retried.
    assert retried >= len(keys) // 5, sorted(attempts)[-20:]
    # Each injected 503 or 500 is one more attempt of some task; each
    # request the daemon made reached the proxy, plus the requests libcurl
    # resent by itself after a reset on a reused connection. The capability
    # probe before the job runs (src/s3-probe.c) goes through the proxy
    # too, one attempt per call, and takes its share of the faults: at most
    # PROBE_CALLS requests that are no task's attempt.
    total = sum(attempts)
    assert total + PROBE_CALLS >= \
        len(keys) + inj["slowdown"] + inj["internal"], (total, st)
    assert total <= st["requests"], (total, st)
    assert st["requests"] - total <= inj["reset"] + PROBE_CALLS, (total, st)


def test_retries_exhausted_fail_only_that_task(proxied, s3, bucket, tmp_path):
    """An object whose every request gets a 500 fails after max_attempts,
    with InternalError and Attempts == max_attempts; its neighbours, under
    429s with Retry-After, succeed."""
    keys = ["ok/%03d" % i for i in range(60)] + ["poison/one"]
    put_objects(s3, bucket, keys)
    rules = [
        "internal path=/poison/",
        "throttle every=4 retry_after=1",
    ]
    d, proxy = proxied(daemon_conf="max_attempts = 4\nretry_base = 10ms\n"
                       "retry_max = 100ms\n", rules=rules,
                       endpoint_extra=NO_AIMD)
    spec = job_spec({"S3PutObjectTagging": {"TagSet": [
        {"Key": "t", "Value": "1"}]}}, confirmation=False)
    job_id = create(d, tmp_path, spec, manifest_csv(tmp_path / "m.csv",
                                                    bucket, keys))
    job = d.wait_status(job_id, ("Complete", "Failed"), timeout=120)
    assert job["Status"] == "Complete", job
    ps = job["ProgressSummary"]
    assert (ps["NumberOfTasksSucceeded"], ps["NumberOfTasksFailed"]) == \
        (len(keys) - 1, 1)
    rows = by_key(report_rows(d, job_id))
    bad = rows["poison/one"]
    assert bad["TaskStatus"] == "failed"
    assert bad["HTTPStatusCode"] == 500
    assert bad["ErrorCode"] == "InternalError"
    assert bad["Attempts"] == 4
    assert proxy.stats()["injected"]["throttle"] > 0
    assert any(r["Attempts"] > 1 for k, r in rows.items() if k != "poison/one")
    tags = taggings(s3, bucket, keys)
    assert [k for k in keys[:-1] if tags[k] != {"t": "1"}] == []
    assert tags["poison/one"] == {}


def test_pinned_etag_head_retried(proxied, s3, make_bucket, tmp_path):
    """With ETags pinned by an inventory manifest every task is a HEAD
    If-Match and a PUT ?tagging: 503s on the HEADs are retried too, and a
    changed object still fails with 412 rather than being tagged."""
    b = make_bucket()
    inv = make_bucket()
    keys = ["e/%03d" % i for i in range(100)]
    etags = put_objects(s3, b, keys)
    rows = "".join('"%s","%s","%s"\n' % (b, urllib.parse.quote(k),
                                         etags[k].strip('"')) for k in keys)
    gz = gzip.compress(rows.encode())
    s3.put_object(Bucket=inv, Key="inv/data/0.csv.gz", Body=gz)
    manifest = {
        "sourceBucket": b, "destinationBucket": "arn:aws:s3:::%s" % inv,
        "version": "2016-11-30", "creationTimestamp": "1514944800000",
        "fileFormat": "CSV", "fileSchema": "Bucket, Key, ETag",
        "files": [{"key": "inv/data/0.csv.gz", "size": len(gz),
                   "MD5checksum": hashlib.md5(gz).hexdigest()}]}
    etag = s3.put_object(Bucket=inv, Key="inv/manifest.json",
                         Body=json.dumps(manifest).encode())["ETag"]
    s3.put_object(Bucket=b, Key=keys[0], Body=b"changed since the inventory")
    # Faults only on the tasks' HEADs (the manifest is read with GETs).
    d, proxy = proxied(daemon_conf=DAEMON_CONF,
                       rules=["slowdown every=2 method=HEAD"],
                       endpoint_extra=NO_AIMD)
    spec = job_spec({"S3PutObjectTagging": {"TagSet": [
        {"Key": "pinned", "Value": "yes"}]}}, confirmation=False)
    spec["Manifest"] = inventory_location(inv, "inv/manifest.json",
                                          etag.strip('"'))
    job_id = create(d, tmp_path, spec)
    job = d.wait_status(job_id, ("Complete", "Failed"), timeout=120)
    assert job["Status"] == "Complete", job
    ps = job["ProgressSummary"]
    assert (ps["NumberOfTasksSucceeded"], ps["NumberOfTasksFailed"]) == \
        (len(keys) - 1, 1)
    got = by_key(report_rows(d, job_id))
    assert got[keys[0]]["HTTPStatusCode"] == 412
    assert got[keys[0]]["ErrorCode"] == "PreconditionFailed"
    assert tagging(s3, b, keys[0]) == {}
    assert proxy.stats()["injected"]["slowdown"] >= len(keys) // 2
    tags = taggings(s3, b, keys[1:])
    for k in keys[1:]:
        r = got[k]
        assert r["TaskStatus"] == "succeeded", r
        # A HEAD and a PUT at least.
        assert r["Attempts"] >= 2, r
        assert tags[k] == {"pinned": "yes"}, k
    assert sum(1 for k in keys[1:] if got[k]["Attempts"] > 2) >= len(keys) // 4
