"""Requests per copy task (docs/operations/S3PutObjectCopy.md): the real
s3batchd copying on the real RGW through tests/faultproxy.py, used here
only to count the daemon's requests by method (it injects nothing unless a
test says so).

A plain copy is one CopyObject per task, without a HEAD first; the server
checks the pinned ETag. A HEAD comes first only when the task needs what
it tells: a multipart threshold below 5 GiB, the time constraints, a
source that changed (the 412 is confirmed by a HEAD).
"""

from s3b import (by_key, create_job, inventory_location, inventory_manifest,
                 job_spec, manifest_csv, put_objects, report_rows)

NOPROBE = "probe = no\n"


def copy_spec(dst, **params):
    p = {"TargetResource": "arn:aws:s3:::%s" % dst}
    p.update(params)
    return job_spec({"S3PutObjectCopy": p}, confirmation=False)


def run_copy(d, tmp_path, spec, src, keys):
    job_id = create_job(d, tmp_path, spec,
                        manifest_csv(tmp_path / "m.csv", src, keys))
    return d.wait_status(job_id, ("Complete", "Failed"), timeout=300), job_id


def test_one_request_per_copy(proxied, s3, make_bucket, tmp_path):
    src, dst = make_bucket(), make_bucket()
    keys = ["c/%03d" % i for i in range(200)]
    put_objects(s3, src, keys, body=b"x" * 1024, workers=32)
    d, proxy = proxied(endpoint_extra=NOPROBE)
    job, job_id = run_copy(d, tmp_path, copy_spec(dst), src, keys)
    st = proxy.stats()
    assert job["Status"] == "Complete", job
    assert job["ProgressSummary"]["NumberOfTasksSucceeded"] == len(keys)
    by = st["by_method"]
    # The manifest is streamed by s3batchctl: every request is a task's.
    print("requests by method: %s" % by)
    assert by == {"PUT": len(keys)}, by
    got = {o["Key"] for o in s3.list_objects_v2(Bucket=dst)["Contents"]}
    assert got == set(keys)


def test_head_first_when_needed(proxied, s3, make_bucket, tmp_path):
    """A multipart threshold below 5 GiB needs each object's size: HEAD
    then copy, as before."""
    src, dst = make_bucket(), make_bucket()
    keys = ["h/%02d" % i for i in range(20)]
    put_objects(s3, src, keys, body=b"y" * 100, workers=8)
    d, proxy = proxied(daemon_conf="multipart_threshold = 5MiB\n",
                       endpoint_extra=NOPROBE)
    job, _ = run_copy(d, tmp_path, copy_spec(dst), src, keys)
    by = proxy.stats()["by_method"]
    assert job["Status"] == "Complete", job
    assert by.get("HEAD", 0) >= len(keys), by
    assert by.get("PUT", 0) == len(keys), by


def test_changed_source_fails_after_head(proxied, s3, make_bucket,
                                         tmp_path):
    """A source changed since the manifest pinned its ETag: the copy
    without a HEAD is refused (412), the HEAD confirms it, the task fails
    with PreconditionFailed and nothing is copied; the others copy."""
    src, dst = make_bucket(), make_bucket()
    keys = ["p/%d" % i for i in range(5)]
    put_objects(s3, src, keys, body=b"before", workers=4)
    etags = {k: s3.head_object(Bucket=src, Key=k)["ETag"].strip('"')
             for k in keys}
    s3.put_object(Bucket=src, Key=keys[0], Body=b"changed since")
    # The ETags pinned by an inventory report (a CSV manifest has none).
    rows = [[src, k, "", etags[k]] for k in keys]
    inv_key, inv_etag = inventory_manifest(
        s3, src, dst, rows, "Bucket, Key, VersionId, ETag")
    d, proxy = proxied(endpoint_extra=NOPROBE)
    spec = copy_spec(dst)
    spec["Manifest"] = inventory_location(dst, inv_key, inv_etag)
    job_id = create_job(d, tmp_path, spec)
    job = d.wait_status(job_id, ("Complete", "Failed"), timeout=300)
    ps = job["ProgressSummary"]
    assert ps["NumberOfTasksSucceeded"] == len(keys) - 1, job
    assert ps["NumberOfTasksFailed"] == 1, job
    bad = by_key(report_rows(d, job_id))[keys[0]]
    assert bad["ErrorCode"] == "PreconditionFailed", bad
    copied = {o["Key"] for o in s3.list_objects_v2(
        Bucket=dst, Prefix="p/").get("Contents", [])}
    assert copied == set(keys[1:]), copied
    by = proxy.stats()["by_method"]
    # One PUT per task; a HEAD only for the refused one (besides the
    # manifest's own reads, GETs).
    print("requests by method: %s" % by)
    assert by.get("PUT", 0) == len(keys), by
    assert by.get("HEAD", 0) == 1, by


def test_refused_copy_goes_head_first(proxied, s3, make_bucket, tmp_path):
    """A copy refused as too large (faultproxy plays the server's 400
    EntityTooLarge, which RGW gives above its size limit: 5 GiB objects do
    not fit this bench) is sent again the long way: HEAD, then the copy
    (multipart if the size says so; here it is small, so one copy)."""
    src, dst = make_bucket(), make_bucket()
    keys = ["r/%02d" % i for i in range(10)]
    put_objects(s3, src, keys, body=b"z" * 10, workers=8)
    d, proxy = proxied(
        rules=["error status=400 code=EntityTooLarge method=PUT limit=3"],
        endpoint_extra=NOPROBE)
    job, _ = run_copy(d, tmp_path, copy_spec(dst), src, keys)
    st = proxy.stats()
    assert job["Status"] == "Complete", job
    assert job["ProgressSummary"]["NumberOfTasksSucceeded"] == len(keys)
    assert st["injected"]["error"] == 3, st
    assert st["by_method"] == {"PUT": len(keys) + 3, "HEAD": 3}, st
    got = {o["Key"] for o in s3.list_objects_v2(Bucket=dst)["Contents"]}
    assert got == set(keys)
