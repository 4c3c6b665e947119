"""The S3 engine against a real Ceph RGW: jobs created with Amazon's JSON
run through the real s3batchd and s3batchctl; every effect is checked with
boto3, never with the project's own code."""

import os
import random
import time
import urllib.parse

import pytest

from s3b import (AWKWARD, by_key, done, inventory_location, inventory_manifest,
                 job_spec, list_keys, manifest_csv, owner_id, put_objects,
                 remove_bucket, report_csv_lines, report_rows, tagging,
                 wait_until)
from s3b import create_job as create


@pytest.fixture(scope="module")
def objects10k(rgw):
    """A bucket of 10,000 small objects (plus the awkward keys)."""
    s3 = rgw.client()
    name = "s3b-10k-%d" % os.getpid()
    s3.create_bucket(Bucket=name)
    keys = ["obj/%05d" % i for i in range(10000)] + AWKWARD
    put_objects(s3, name, keys, workers=32)
    yield name, keys
    remove_bucket(s3, name)


@pytest.mark.timeout(1200)
def test_tagging_put_then_delete_10k(s3batchd, s3, objects10k, tmp_path):
    bucket, keys = objects10k
    d = s3batchd()
    m = manifest_csv(tmp_path / "m.csv", bucket, keys)
    spec = job_spec({"S3PutObjectTagging": {"TagSet": [
        {"Key": "team", "Value": "storage"}, {"Key": "tier", "Value": ""}]}},
        confirmation=False)
    job_id = create(d, tmp_path, spec, m)
    job = d.wait_status(job_id, ("Complete", "Failed"), timeout=300)
    assert job["Status"] == "Complete", job
    ps = job["ProgressSummary"]
    assert ps["TotalNumberOfTasks"] == len(keys)
    assert ps["NumberOfTasksSucceeded"] == len(keys)
    assert ps["NumberOfTasksFailed"] == 0
    sample = random.Random(1).sample(keys[:10000], 200) + AWKWARD
    for k in sample:
        assert tagging(s3, bucket, k) == {"team": "storage", "tier": ""}, k
    rows = report_rows(d, job_id)
    assert len(rows) == len(keys)
    assert {urllib.parse.unquote(r["Key"]) for r in rows} == set(keys)
    assert all(r["TaskStatus"] == "succeeded" for r in rows)

    spec = job_spec({"S3DeleteObjectTagging": {}}, confirmation=False)
    job_id = create(d, tmp_path, spec, m)
    job = d.wait_status(job_id, ("Complete", "Failed"), timeout=300)
    assert job["ProgressSummary"]["NumberOfTasksSucceeded"] == len(keys)
    for k in sample:
        assert tagging(s3, bucket, k) == {}, k


@pytest.mark.timeout(1200)
def test_copy_10k_to_other_bucket(s3batchd, s3, objects10k, make_bucket,
                                  tmp_path):
    bucket, keys = objects10k
    dst = make_bucket()
    d = s3batchd()
    m = manifest_csv(tmp_path / "m.csv", bucket, keys)
    spec = job_spec({"S3PutObjectCopy": {
        "TargetResource": "arn:aws:s3:::%s" % dst,
        "TargetKeyPrefix": "copy/",
        "StorageClass": "STANDARD_IA"}}, confirmation=False)
    job_id = create(d, tmp_path, spec, m)
    job = d.wait_status(job_id, ("Complete", "Failed"), timeout=600)
    assert job["Status"] == "Complete", job
    assert job["ProgressSummary"]["NumberOfTasksSucceeded"] == len(keys)
    assert set(list_keys(s3, dst)) == {"copy/" + k for k in keys}
    for k in random.Random(2).sample(keys[:10000], 50) + AWKWARD:
        src = s3.get_object(Bucket=bucket, Key=k)
        got = s3.get_object(Bucket=dst, Key="copy/" + k)
        assert got["Body"].read() == src["Body"].read(), k
        assert got.get("StorageClass") == "STANDARD_IA", k


def test_copy_every_option(s3batchd, s3, rgw, make_bucket, tmp_path):
    src = make_bucket()
    dst = make_bucket()
    keys = ["a.txt", "b/c d.bin"] + AWKWARD[:3]
    put_objects(s3, src, keys, Metadata={"old": "1"},
                ContentType="application/x-old", Tagging="old=tag")
    other_id = owner_id(rgw.client("other"))
    my_id = owner_id(s3)
    d = s3batchd()
    spec = job_spec({"S3PutObjectCopy": {
        "TargetResource": "arn:aws:s3:::%s" % dst,
        "TargetKeyPrefix": "p/",
        "MetadataDirective": "REPLACE",
        "NewObjectMetadata": {
            "CacheControl": "max-age=30", "ContentDisposition": "inline",
            "ContentEncoding": "identity", "ContentLanguage": "en",
            "ContentType": "text/x-new",
            "HttpExpiresDate": "2031-01-01T00:00:00Z",
            "UserMetadata": {"owner": "ops", "n": "2"}},
        "NewObjectTagging": [{"Key": "copied", "Value": "yes"}],
        "StorageClass": "STANDARD_IA",
        # Grants replace the whole ACL: the owner keeps FULL_CONTROL.
        "AccessControlGrants": [{
            "Grantee": {"TypeIdentifier": "id", "Identifier": other_id},
            "Permission": "READ"}, {
            "Grantee": {"TypeIdentifier": "id", "Identifier": my_id},
            "Permission": "FULL_CONTROL"}],
        "RedirectLocation": "/elsewhere",
        "ChecksumAlgorithm": "SHA256",
        "UnModifiedSinceConstraint": "2035-01-01T00:00:00Z",
        "ModifiedSinceConstraint": "2001-01-01T00:00:00Z",
    }}, confirmation=False)
    job_id = create(d, tmp_path, spec, manifest_csv(tmp_path / "m.csv", src,
                                                    keys))
    job = d.wait_status(job_id, ("Complete", "Failed"), timeout=120)
    assert job["ProgressSummary"]["NumberOfTasksSucceeded"] == len(keys), \
        report_rows(d, job_id)
    other = rgw.client("other")
    for k in keys:
        h = s3.head_object(Bucket=dst, Key="p/" + k)
        assert h["ContentType"] == "text/x-new"
        assert h["Metadata"] == {"owner": "ops", "n": "2"}
        assert h["CacheControl"] == "max-age=30"
        assert h["ContentDisposition"] == "inline"
        assert h["ContentLanguage"] == "en"
        assert h.get("StorageClass") == "STANDARD_IA"
        assert h.get("WebsiteRedirectLocation") == "/elsewhere"
        assert tagging(s3, dst, "p/" + k) == {"copied": "yes"}
        # The grant lets the other user read it.
        assert other.get_object(Bucket=dst, Key="p/" + k)["Body"].read() == \
            k.encode()


def test_copy_canned_acl_in_place_and_constraint(s3batchd, s3, rgw,
                                                 make_bucket, tmp_path):
    b = make_bucket()
    keys = ["x1", "x2"]
    put_objects(s3, b, keys)
    d = s3batchd()
    # In place: the same bucket and key, a new storage class and ACL.
    spec = job_spec({"S3PutObjectCopy": {
        "StorageClass": "GLACIER",
        "CannedAccessControlList": "public-read"}}, confirmation=False)
    job_id = create(d, tmp_path, spec, manifest_csv(tmp_path / "m.csv", b,
                                                    keys))
    job = d.wait_status(job_id, ("Complete", "Failed"), timeout=60)
    assert job["ProgressSummary"]["NumberOfTasksSucceeded"] == 2, \
        report_rows(d, job_id)
    for k in keys:
        assert s3.head_object(Bucket=b, Key=k)["StorageClass"] == "GLACIER"
        grants = s3.get_object_acl(Bucket=b, Key=k)["Grants"]
        assert any(g["Grantee"].get("URI", "").endswith("AllUsers") and
                   g["Permission"] == "READ" for g in grants), grants
    # A constraint the objects do not meet fails each task with 412.
    spec = job_spec({"S3PutObjectCopy": {
        "StorageClass": "STANDARD",
        "UnModifiedSinceConstraint": "2001-01-01T00:00:00Z"}},
        confirmation=False)
    job_id = create(d, tmp_path, spec, manifest_csv(tmp_path / "m2.csv", b,
                                                    keys))
    job = d.wait_status(job_id, ("Complete", "Failed"), timeout=60)
    rows = report_rows(d, job_id)
    assert [r["HTTPStatusCode"] for r in rows] == [412, 412], rows
    assert s3.head_object(Bucket=b, Key="x1")["StorageClass"] == "GLACIER"


def test_copy_multipart_keeps_metadata_and_tags(s3batchd, s3, make_bucket,
                                                tmp_path):
    src = make_bucket()
    dst = make_bucket()
    data = os.urandom(13 * 1024 * 1024 + 123)
    s3.put_object(Bucket=src, Key="big one", Body=data,
                  Metadata={"color": "blue"}, ContentType="video/x-test",
                  Tagging="k1=v1&k2=v2")
    s3.put_object(Bucket=src, Key="small", Body=b"tiny")
    d = s3batchd(daemon_conf="multipart_threshold = 5MiB\n"
                 "multipart_part_size = 5MiB")
    spec = job_spec({"S3PutObjectCopy": {
        "TargetResource": "arn:aws:s3:::%s" % dst}}, confirmation=False)
    job_id = create(d, tmp_path, spec, manifest_csv(
        tmp_path / "m.csv", src, ["big one", "small"]))
    job = d.wait_status(job_id, ("Complete", "Failed"), timeout=120)
    assert job["ProgressSummary"]["NumberOfTasksSucceeded"] == 2, \
        report_rows(d, job_id)
    got = s3.get_object(Bucket=dst, Key="big one")
    assert got["Body"].read() == data
    assert got["ContentType"] == "video/x-test"
    assert got["Metadata"] == {"color": "blue"}
    assert got["ETag"].strip('"').endswith("-3")     # three 5 MiB parts
    assert tagging(s3, dst, "big one") == {"k1": "v1", "k2": "v2"}
    # No upload left behind.
    assert s3.list_multipart_uploads(Bucket=dst).get("Uploads", []) == []


def test_versions_honoured(s3batchd, s3, versioned_bucket, tmp_path):
    b = versioned_bucket
    v1 = s3.put_object(Bucket=b, Key="doc", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=b, Key="doc", Body=b"two")["VersionId"]
    d = s3batchd()
    spec = job_spec({"S3PutObjectTagging": {"TagSet": [
        {"Key": "which", "Value": "first"}]}}, confirmation=False)
    spec["Manifest"]["Spec"]["Fields"] = ["Bucket", "Key", "VersionId"]
    job_id = create(d, tmp_path, spec, manifest_csv(
        tmp_path / "m.csv", b, ["doc"], versions=[v1]))
    d.wait_status(job_id, "Complete", timeout=60)
    assert tagging(s3, b, "doc", VersionId=v1) == {"which": "first"}
    assert tagging(s3, b, "doc", VersionId=v2) == {}


def test_inventory_manifest_pins_etags(s3batchd, s3, make_bucket, tmp_path):
    """An object changed after its ETag was pinned is not touched: 412."""
    b = make_bucket()
    inv = make_bucket()
    keys = ["k%02d" % i for i in range(20)]
    etags = put_objects(s3, b, keys)
    rows = [(b, urllib.parse.quote(k), etags[k].strip('"')) for k in keys]
    key, etag = inventory_manifest(s3, b, inv, rows, "Bucket, Key, ETag")
    # Five objects change after the inventory was taken.
    for k in keys[:5]:
        s3.put_object(Bucket=b, Key=k, Body=b"changed")
    d = s3batchd()
    spec = job_spec({"S3PutObjectTagging": {"TagSet": [
        {"Key": "t", "Value": "1"}]}}, confirmation=False)
    spec["Manifest"] = inventory_location(inv, key, etag)
    job_id = create(d, tmp_path, spec)
    job = d.wait_status(job_id, ("Complete", "Failed"), timeout=60)
    assert job["ProgressSummary"]["TotalNumberOfTasks"] == 20
    assert job["ProgressSummary"]["NumberOfTasksFailed"] == 5
    failed = report_rows(d, job_id, failed_only=True)
    assert sorted(r["Key"] for r in failed) == keys[:5]
    assert all(r["HTTPStatusCode"] == 412 for r in failed)
    for k in keys[:5]:
        assert tagging(s3, b, k) == {}
    for k in keys[5:]:
        assert tagging(s3, b, k) == {"t": "1"}

    # The same for copy: a changed source is not copied.
    dst = make_bucket()
    spec = job_spec({"S3PutObjectCopy": {
        "TargetResource": "arn:aws:s3:::%s" % dst}}, confirmation=False)
    spec["Manifest"] = inventory_location(inv, key, etag)
    job_id = create(d, tmp_path, spec)
    job = d.wait_status(job_id, ("Complete", "Failed"), timeout=60)
    assert job["ProgressSummary"]["NumberOfTasksFailed"] == 5
    assert sorted(list_keys(s3, dst)) == keys[5:]


def test_s3_manifest_etag_mismatch_fails_before_tasks(s3batchd, s3,
                                                      make_bucket, tmp_path):
    b = make_bucket()
    put_objects(s3, b, ["a", "b"])
    body = "%s,a\n%s,b\n" % (b, b)
    etag = s3.put_object(Bucket=b, Key="manifest.csv",
                         Body=body.encode())["ETag"]
    d = s3batchd()
    spec = job_spec({"S3PutObjectTagging": {"TagSet": [
        {"Key": "t", "Value": "1"}]}}, confirmation=False)
    spec["Manifest"]["Location"] = {
        "ObjectArn": "arn:aws:s3:::%s/manifest.csv" % b, "ETag": etag}
    job_id = create(d, tmp_path, spec)
    job = d.wait_status(job_id, "Complete", timeout=60)
    assert job["ProgressSummary"]["NumberOfTasksSucceeded"] == 2
    spec["Manifest"]["Location"]["ETag"] = "0" * 32
    job_id = create(d, tmp_path, spec)
    job = d.wait_status(job_id, "Failed", timeout=60)
    assert job["ProgressSummary"]["TotalNumberOfTasks"] == 0
    assert job["FailureReasons"][0]["FailureCode"] == "ManifestETagMismatch"


def test_wrong_secret_fails_without_retrying_forever(rgw, s3batchd, s3,
                                                     make_bucket, tmp_path):
    b = make_bucket()
    put_objects(s3, b, ["a", "b", "c"])
    d = s3batchd(endpoint_extra="")
    d.conf.write_text(d.conf.read_text().replace("TESTSK", "WRONGSECRET"))
    d.restart()
    spec = job_spec({"S3PutObjectTagging": {"TagSet": [
        {"Key": "t", "Value": "1"}]}}, confirmation=False)
    t0 = time.time()
    job_id = create(d, tmp_path, spec, manifest_csv(tmp_path / "m.csv", b,
                                                    ["a", "b", "c"]))
    job = d.wait_status(job_id, ("Complete", "Failed"), timeout=60)
    assert time.time() - t0 < 30
    rows = report_rows(d, job_id)
    assert [r["ErrorCode"] for r in rows] == ["SignatureDoesNotMatch"] * 3
    assert all(r["HTTPStatusCode"] == 403 for r in rows)
    assert tagging(s3, b, "a") == {}


def test_threshold_fails_mostly_missing(s3batchd, s3, make_bucket, tmp_path):
    b = make_bucket()
    present = ["p%03d" % i for i in range(200)]
    put_objects(s3, b, present)
    keys = present + ["missing%04d" % i for i in range(1800)]
    d = s3batchd()
    spec = job_spec({"S3PutObjectTagging": {"TagSet": [
        {"Key": "t", "Value": "1"}]}}, confirmation=False)
    job_id = create(d, tmp_path, spec, manifest_csv(tmp_path / "m.csv", b,
                                                    keys))
    job = d.wait_status(job_id, ("Complete", "Failed"), timeout=120)
    assert job["Status"] == "Failed", job
    reason = job["FailureReasons"][0]
    assert reason["FailureCode"] == "TaskFailureThresholdExceeded"
    assert "50%" in reason["FailureReason"]
    ps = job["ProgressSummary"]
    assert ps["NumberOfTasksSucceeded"] + ps["NumberOfTasksFailed"] >= 1000


def progress_by_job(d):
    """{JobId: tasks done} for every job, from one list-jobs: one read of
    the store, so the counts of all jobs come from the same group commit."""
    return {j["JobId"]: done(j) for j in d.ok("list-jobs")["Jobs"]}


def low_progress_while_pending(d, fast, slow, total, inflight, timeout=300):
    """Poll until the job `fast` (total tasks) completes and return the
    tasks the job `slow` finished while `fast` certainly had pending tasks:
    from the first poll where `fast` had one more task done than when this
    started, to the last poll where fewer than total - inflight of its tasks
    were done (with at most `inflight` in flight, some were still pending).
    Also returns the number of polls in that span, and whether `slow` still
    had work left at its end (else the measurement proves nothing)."""
    deadline = time.monotonic() + timeout
    start = progress_by_job(d)[fast]
    first = last = None
    polls = 0
    while True:
        seen = progress_by_job(d)
        f, s = seen[fast], seen[slow]
        if f > start and f < total - inflight:
            if first is None:
                first = s
            last = s
            polls += 1
        if f >= total:
            break
        if time.monotonic() >= deadline:
            raise AssertionError("job %s not done after %gs: %d of %d tasks; "
                                 "last seen %r" % (fast, timeout, f, total,
                                                   seen))
        time.sleep(0.02)
    assert first is not None, "no poll saw %s between its first task and " \
        "its last %d" % (fast, inflight)
    return last - first, polls, last


@pytest.mark.timeout(1200)
def test_priorities(s3batchd, s3, objects10k, tmp_path):
    """While a higher-priority job has pending tasks, a lower one starts no
    new task: it may only finish the ones it had in flight. Measured from
    describe counters (list-jobs, one group commit for all jobs) only over
    the span where the high job certainly has pending tasks."""
    bucket, keys = objects10k
    inflight = 4
    margin = 4              # tasks a window read or a retry may add
    # Few workers and a slow endpoint make the order visible; the high and
    # mid jobs are long enough for many polls (2,000 tasks at 400/s).
    d = s3batchd(daemon_conf="max_inflight = %d" % inflight,
                 endpoint_extra="max_requests_per_second = 400")
    low_keys, high_keys, mid_keys = (keys[:6000], keys[6000:8000],
                                     keys[8000:10000])
    spec = job_spec({"S3PutObjectTagging": {"TagSet": [
        {"Key": "p", "Value": "low"}]}}, confirmation=False, priority=1)
    low = create(d, tmp_path, spec, manifest_csv(tmp_path / "m.csv", bucket,
                                                 low_keys))
    d.wait_job(low, "the low job to run", lambda j: done(j) > 0)
    spec = job_spec({"S3PutObjectTagging": {"TagSet": [
        {"Key": "p", "Value": "high"}]}}, confirmation=False, priority=100)
    high = create(d, tmp_path, spec, manifest_csv(tmp_path / "h.csv", bucket,
                                                  high_keys))
    gained, polls, low_at_end = low_progress_while_pending(
        d, high, low, len(high_keys), inflight)
    assert low_at_end < len(low_keys), "the low job ran out of work"
    assert polls >= 10, polls
    assert gained <= inflight + margin, \
        "low job finished %d tasks while the high one had pending tasks " \
        "(%d polls)" % (gained, polls)
    print("priorities: low job +%d tasks over %d polls of the high one" %
          (gained, polls))

    # A third job below the low one waits; raised above it mid-run, it
    # takes the workers.
    spec = job_spec({"S3PutObjectTagging": {"TagSet": [
        {"Key": "p", "Value": "mid"}]}}, confirmation=False, priority=0)
    mid = create(d, tmp_path, spec, manifest_csv(tmp_path / "x.csv", bucket,
                                                 mid_keys))
    d.wait_status(mid, "Active")
    low_mark = progress_by_job(d)[low]
    # Long enough for the low job to finish 100 more tasks.
    wait_until("the low job to finish 100 more tasks",
               lambda: progress_by_job(d)[low] >= low_mark + 100,
               timeout=120)
    mid_before = progress_by_job(d)[mid]
    assert mid_before <= inflight + margin, mid_before
    d.ok("update-job-priority", "--job-id", mid, "--priority", "50")
    gained, polls, low_at_end = low_progress_while_pending(
        d, mid, low, len(mid_keys), inflight)
    assert low_at_end < len(low_keys), "the low job ran out of work"
    assert polls >= 10, polls
    assert gained <= inflight + margin, \
        "low job finished %d tasks while the raised job had pending tasks " \
        "(%d polls)" % (gained, polls)
    print("priorities: low job +%d tasks over %d polls of the raised one" %
          (gained, polls))
    job = d.wait_status(low, "Complete", timeout=300)
    assert done(job) == len(low_keys)
    want = {"p": "high"}
    for k in random.Random(3).sample(high_keys, 20):
        assert tagging(s3, bucket, k) == want, k


def test_pause_resume_cancel(s3batchd, s3, objects10k, tmp_path):
    bucket, keys = objects10k
    d = s3batchd(daemon_conf="max_inflight = 4",
                 endpoint_extra="max_requests_per_second = 300")
    spec = job_spec({"S3PutObjectTagging": {"TagSet": [
        {"Key": "pr", "Value": "1"}]}}, confirmation=False)
    job_id = create(d, tmp_path, spec, manifest_csv(tmp_path / "m.csv",
                                                    bucket, keys[:1500]))
    d.wait_job(job_id, "50 tasks done", lambda j: done(j) >= 50)
    r = d.ok("update-job-status", "--job-id", job_id,
             "--requested-job-status", "Paused")
    assert r["Status"] in ("Pausing", "Paused")
    job = d.wait_status(job_id, "Paused", timeout=30)
    n = done(job)
    assert 0 < n < 1500
    # Paused means no progress: a second later it has not moved.
    time.sleep(1)
    assert done(d.describe(job_id)) == n
    d.ok("update-job-status", "--job-id", job_id,
         "--requested-job-status", "Ready")
    job = d.wait_status(job_id, "Complete", timeout=120)
    assert done(job) == 1500
    assert len(report_rows(d, job_id)) == 1500

    job_id = create(d, tmp_path, spec, manifest_csv(tmp_path / "c.csv",
                                                    bucket, keys[2000:3500]))
    d.wait_job(job_id, "50 tasks done", lambda j: done(j) >= 50)
    d.ok("update-job-status", "--job-id", job_id,
         "--requested-job-status", "Cancelled")
    job = d.wait_status(job_id, "Cancelled", timeout=30)
    assert 50 <= done(job) < 1500
    # Cancelled means no progress either.
    time.sleep(0.5)
    assert done(d.describe(job_id)) == done(job)


@pytest.mark.timeout(900)
def test_crash_kill9_mid_job(s3batchd, s3, objects10k, tmp_path):
    """kill -9 three times while the job runs (checked: Active, part of its
    tasks done, at each kill): it finishes, every task has exactly one
    result, the report is complete and correct."""
    bucket, keys = objects10k
    rep = "s3b-crash-rep-%d" % os.getpid()
    s3.create_bucket(Bucket=rep)
    d = s3batchd(endpoint_extra="max_requests_per_second = 1500")
    subset = keys[:4000] + AWKWARD
    spec = job_spec({"S3PutObjectTagging": {"TagSet": [
        {"Key": "crash", "Value": "survived"}]}}, confirmation=False)
    spec["Report"] = {"Enabled": True, "Bucket": "arn:aws:s3:::%s" % rep,
                      "Format": "Report_CSV_20180820", "Prefix": "r",
                      "ReportScope": "AllTasks"}
    job_id = create(d, tmp_path, spec, manifest_csv(tmp_path / "m.csv",
                                                    bucket, subset))
    for frac in (0.15, 0.45, 0.75):
        job = d.wait_job(job_id, "%d%% of the tasks done" % (frac * 100),
                         lambda j: done(j) >= frac * len(subset) or
                         j["Status"] not in ("New", "Preparing", "Ready",
                                             "Active"), timeout=300)
        assert job["Status"] == "Active" and done(job) < len(subset), job
        d.kill9()
        d.start()
    job = d.wait_status(job_id, ("Complete", "Failed"), timeout=300)
    assert job["Status"] == "Complete", job
    ps = job["ProgressSummary"]
    rows = report_rows(d, job_id)
    n = len(subset)
    assert (ps["TotalNumberOfTasks"], ps["NumberOfTasksSucceeded"],
            ps["NumberOfTasksFailed"]) == (n, n, 0), \
        (ps, len(rows), [r for r in rows if r["TaskStatus"] != "succeeded"],
         sorted(set(subset) - set(by_key(rows))))
    assert len(rows) == len(subset)
    assert sorted(urllib.parse.unquote(r["Key"]) for r in rows) == \
        sorted(subset)
    for k in random.Random(7).sample(subset, 100):
        assert tagging(s3, bucket, k) == {"crash": "survived"}
    # The report in the bucket, in Amazon's layout, lists every task once.
    manifest, lines = report_csv_lines(s3, rep, "r", job_id)
    assert manifest["Format"] == "Report_CSV_20180820"
    assert len(lines) == len(subset)
    assert len({l.split(",")[1] for l in lines}) == len(subset)
    remove_bucket(s3, rep)
