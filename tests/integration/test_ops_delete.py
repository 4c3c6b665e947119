"""S3DeleteObject (an extension) against a real Ceph RGW: a delete job is
always created Suspended with a dry-run count, never deletes before it is
confirmed, never deletes an object whose ETag changed after preparing, never
a locked version without BypassGovernanceRetention, never a COMPLIANCE one.
Every effect is checked with boto3."""

import datetime
import time

import pytest

from s3b import (create_job as create, job_spec, list_keys, manifest_csv,
                 put_objects, rows_by_key, write_json)


@pytest.fixture
def s3batchd(s3batchd):
    """The conftest factory, plus a check at the end that each daemon
    stopped cleanly and logged no sanitizer report (ASan builds)."""
    started = []

    def start(*args, **kw):
        d = s3batchd(*args, **kw)
        started.append(d)
        return d
    yield start
    for d in started:
        rc = d.stop()
        log = d.logtext()
        assert "AddressSanitizer" not in log and "runtime error" not in log, log
        assert rc in (None, 0), log


def delete_spec(bypass=None, confirmation=False):
    params = {} if bypass is None else {"BypassGovernanceRetention": bypass}
    return job_spec({"S3DeleteObject": params}, confirmation=confirmation)


def suspended(d, job_id):
    job = d.wait_status(job_id, ("Suspended", "Failed"), timeout=120)
    assert job["Status"] == "Suspended", job
    return job


def confirm_and_wait(d, job_id, timeout=300):
    d.ok("update-job-status", "--job-id", job_id,
         "--requested-job-status", "Ready")
    job = d.wait_status(job_id, ("Complete", "Failed"), timeout=timeout)
    assert job["Status"] == "Complete", job
    return job


def versions(s3, bucket, key):
    r = s3.list_object_versions(Bucket=bucket, Prefix=key)
    return ([v["VersionId"] for v in r.get("Versions", [])
             if v["Key"] == key],
            [m["VersionId"] for m in r.get("DeleteMarkers", [])
             if m["Key"] == key])


def test_never_before_confirmation(s3batchd, s3, bucket, tmp_path):
    keys = ["a", "b c/d", "üñí"]
    put_objects(s3, bucket, keys)
    d = s3batchd()
    m = manifest_csv(tmp_path / "m.csv", bucket, keys + ["missing"])
    # ConfirmationRequired false in the request: a delete waits anyway.
    job_id = create(d, tmp_path, delete_spec(confirmation=False), m)
    job = suspended(d, job_id)
    assert job["ConfirmationRequired"] is True
    cause = job["SuspendedCause"]
    assert cause.startswith("Delete job: 3 objects in 1 bucket would be "
                            "deleted (%s); not deleted: 1 missing (404)"
                            % bucket), cause
    assert "update-job-status --requested-job-status Ready" in cause
    text = d.ctl("describe-job", "--job-id", job_id, output="text")
    assert text.rc == 0 and "3 objects in 1 bucket" in text.out, text
    # Suspended means nothing happens: two seconds later, all still there.
    time.sleep(2)
    assert sorted(list_keys(s3, bucket)) == sorted(keys)
    assert d.describe(job_id)["Status"] == "Suspended"

    job = confirm_and_wait(d, job_id)
    assert job["ProgressSummary"]["NumberOfTasksSucceeded"] == 4
    assert list_keys(s3, bucket) == []
    rows = rows_by_key(d, job_id)
    assert all(r["TaskStatus"] == "succeeded" for r in rows.values()), rows
    assert "already absent" in rows["missing"]["ResultMessage"]


def test_cancelled_while_suspended_deletes_nothing(s3batchd, s3, bucket,
                                                   tmp_path):
    put_objects(s3, bucket, ["x", "y"])
    d = s3batchd()
    job_id = create(d, tmp_path, delete_spec(),
                    manifest_csv(tmp_path / "m.csv", bucket, ["x", "y"]))
    suspended(d, job_id)
    d.ok("update-job-status", "--job-id", job_id,
         "--requested-job-status", "Cancelled")
    assert d.wait_status(job_id, ("Cancelled",))["Status"] == "Cancelled"
    assert sorted(list_keys(s3, bucket)) == ["x", "y"]


def test_changed_etag_not_deleted(s3batchd, s3, bucket, tmp_path):
    put_objects(s3, bucket, ["same", "changed"])
    d = s3batchd()
    job_id = create(d, tmp_path, delete_spec(),
                    manifest_csv(tmp_path / "m.csv", bucket,
                                 ["same", "changed"]))
    suspended(d, job_id)
    # Overwritten after the dry run recorded its ETag.
    s3.put_object(Bucket=bucket, Key="changed", Body=b"new content")
    job = confirm_and_wait(d, job_id)
    assert job["ProgressSummary"]["NumberOfTasksSucceeded"] == 1
    assert job["ProgressSummary"]["NumberOfTasksFailed"] == 1
    assert list_keys(s3, bucket) == ["changed"]
    got = s3.get_object(Bucket=bucket, Key="changed")["Body"].read()
    assert got == b"new content"
    row = rows_by_key(d, job_id)["changed"]
    assert row["TaskStatus"] == "failed"
    assert row["HTTPStatusCode"] in (412, "412"), row
    assert row["ErrorCode"] == "PreconditionFailed", row


def test_version_pinned_delete(s3batchd, s3, versioned_bucket, tmp_path):
    b = versioned_bucket
    vids = [s3.put_object(Bucket=b, Key="k", Body=b"v%d" % i)["VersionId"]
            for i in range(3)]
    s3.put_object(Bucket=b, Key="cur", Body=b"current")
    d = s3batchd()
    m = tmp_path / "m.csv"
    m.write_text("%s,k,%s\n" % (b, vids[1]))
    spec = delete_spec()
    spec["Manifest"]["Spec"]["Fields"] = ["Bucket", "Key", "VersionId"]
    job_id = create(d, tmp_path, spec, m)
    job = suspended(d, job_id)
    assert "1 object in 1 bucket would be deleted" in job["SuspendedCause"]
    confirm_and_wait(d, job_id)
    live, markers = versions(s3, b, "k")
    assert sorted(live) == sorted([vids[0], vids[2]])
    assert markers == []
    assert s3.get_object(Bucket=b, Key="k")["Body"].read() == b"v2"

    # Without a version id, a versioned bucket gets a delete marker: the
    # data stays as a noncurrent version.
    job_id = create(d, tmp_path, delete_spec(),
                    manifest_csv(tmp_path / "m2.csv", b, ["cur"]))
    job = suspended(d, job_id)
    assert "1 of them by a delete marker" in job["SuspendedCause"], job
    confirm_and_wait(d, job_id)
    live, markers = versions(s3, b, "cur")
    assert len(live) == 1 and len(markers) == 1
    row = rows_by_key(d, job_id)["cur"]
    assert "delete marker %s created" % markers[0] in row["ResultMessage"]


def lock_until(seconds):
    return (datetime.datetime.now(datetime.timezone.utc) +
            datetime.timedelta(seconds=seconds))


def test_governance_needs_bypass(s3batchd, s3, locked_bucket, tmp_path):
    b = locked_bucket
    g = s3.put_object(Bucket=b, Key="gov", Body=b"g",
                      ObjectLockMode="GOVERNANCE",
                      ObjectLockRetainUntilDate=lock_until(86400))
    h = s3.put_object(Bucket=b, Key="hold", Body=b"h",
                      ObjectLockLegalHoldStatus="ON")
    m = tmp_path / "m.csv"
    m.write_text("%s,gov,%s\n%s,hold,%s\n" % (b, g["VersionId"], b,
                                              h["VersionId"]))
    d = s3batchd()
    spec = delete_spec(bypass=False)
    spec["Manifest"]["Spec"]["Fields"] = ["Bucket", "Key", "VersionId"]
    job_id = create(d, tmp_path, spec, m)
    job = suspended(d, job_id)
    assert "0 objects in 1 bucket would be deleted" in \
        job["SuspendedCause"], job
    assert "2 locked (Object Lock)" in job["SuspendedCause"], job
    job = confirm_and_wait(d, job_id)
    assert job["ProgressSummary"]["NumberOfTasksFailed"] == 2
    assert versions(s3, b, "gov")[0] == [g["VersionId"]]
    assert versions(s3, b, "hold")[0] == [h["VersionId"]]
    for row in rows_by_key(d, job_id).values():
        assert row["TaskStatus"] == "failed"
        assert row["ErrorCode"] == "AccessDenied", row
    assert "GOVERNANCE" in rows_by_key(d, job_id)["gov"]["ResultMessage"]

    spec = delete_spec(bypass=True)
    spec["Manifest"]["Spec"]["Fields"] = ["Bucket", "Key", "VersionId"]
    job_id = create(d, tmp_path, spec, m)
    job = suspended(d, job_id)
    assert "1 object in 1 bucket would be deleted" in job["SuspendedCause"]
    job = confirm_and_wait(d, job_id)
    assert versions(s3, b, "gov")[0] == []
    # A legal hold is never bypassed.
    assert versions(s3, b, "hold")[0] == [h["VersionId"]]
    rows = rows_by_key(d, job_id)
    assert rows["gov"]["TaskStatus"] == "succeeded"
    assert rows["hold"]["TaskStatus"] == "failed"
    s3.put_object_legal_hold(Bucket=b, Key="hold", VersionId=h["VersionId"],
                             LegalHold={"Status": "OFF"})


def test_compliance_never(s3batchd, s3, locked_bucket, tmp_path):
    b = locked_bucket
    until = lock_until(20)
    c = s3.put_object(Bucket=b, Key="comp", Body=b"c",
                      ObjectLockMode="COMPLIANCE",
                      ObjectLockRetainUntilDate=until)
    m = tmp_path / "m.csv"
    m.write_text("%s,comp,%s\n" % (b, c["VersionId"]))
    d = s3batchd()
    spec = delete_spec(bypass=True)
    spec["Manifest"]["Spec"]["Fields"] = ["Bucket", "Key", "VersionId"]
    job_id = create(d, tmp_path, spec, m)
    suspended(d, job_id)
    job = confirm_and_wait(d, job_id)
    assert job["ProgressSummary"]["NumberOfTasksFailed"] == 1
    assert versions(s3, b, "comp")[0] == [c["VersionId"]]
    row = rows_by_key(d, job_id)["comp"]
    assert row["ErrorCode"] == "AccessDenied"
    assert "COMPLIANCE" in row["ResultMessage"], row
    # Let the retention run out so that the bucket can be removed.
    left = (until - datetime.datetime.now(datetime.timezone.utc))
    time.sleep(max(0, left.total_seconds()) + 1)


def test_delete_2000(s3batchd, s3, bucket, tmp_path):
    keys = ["obj/%04d" % i for i in range(2000)]
    put_objects(s3, bucket, keys, workers=32)
    d = s3batchd()
    job_id = create(d, tmp_path, delete_spec(),
                    manifest_csv(tmp_path / "m.csv", bucket, keys))
    t0 = time.monotonic()
    job = suspended(d, job_id)
    t_dry = time.monotonic() - t0
    assert job["SuspendedCause"].startswith(
        "Delete job: 2,000 objects in 1 bucket would be deleted"), job
    assert len(list_keys(s3, bucket)) == 2000
    t0 = time.monotonic()
    job = confirm_and_wait(d, job_id)
    t_run = time.monotonic() - t0
    assert job["ProgressSummary"]["NumberOfTasksSucceeded"] == 2000
    assert list_keys(s3, bucket) == []
    print("2,000 objects: dry run %.1f s, delete %.1f s" % (t_dry, t_run))


def test_bad_parameter_fails_create(s3batchd, tmp_path, bucket):
    d = s3batchd()
    spec = job_spec({"S3DeleteObject": {"BypassGovernanceRetention": "yes"}})
    uri = write_json(tmp_path / "bad.json", spec)
    m = manifest_csv(tmp_path / "m.csv", bucket, ["a"])
    r = d.ctl("create-job", "--cli-input-json", uri, "--manifest-file",
              str(m))
    assert r.rc != 0
    assert "S3DeleteObject.BypassGovernanceRetention" in (r.err + r.out), r
    spec = job_spec({"S3DeleteObject": {"Unknown": 1}})
    uri = write_json(tmp_path / "bad2.json", spec)
    r = d.ctl("create-job", "--cli-input-json", uri, "--manifest-file",
              str(m))
    assert r.rc != 0
    assert "Operation.S3DeleteObject.Unknown" in (r.err + r.out), r


@pytest.mark.timeout(900)
def test_dry_run_keeps_endpoint_limits(proxied, s3, bucket, tmp_path):
    """The dry run's 2,000 HEADs go through the shared engine: the
    endpoint's max_connections and max_requests_per_second hold, as the
    proxy in front of RGW counts them (upper bounds only: a busy machine
    only makes the daemon slower)."""
    keys = ["dry/%04d" % i for i in range(2000)]
    put_objects(s3, bucket, keys, workers=32)
    conns, rps = 2, 100
    d, proxy = proxied(max_connections=conns,
                       endpoint_extra="max_requests_per_second = %d" % rps)
    proxy.reset_stats()
    job_id = create(d, tmp_path, delete_spec(),
                    manifest_csv(tmp_path / "m.csv", bucket, keys))
    job = d.wait_status(job_id, ("Suspended", "Failed"), timeout=600)
    assert job["Status"] == "Suspended", job
    assert job["SuspendedCause"].startswith(
        "Delete job: 2,000 objects in 1 bucket would be deleted"), job
    st = proxy.stats()
    print("dry run: %d requests, at most %d at once on %d connections, "
          "%d in the busiest second" % (st["requests"], st["max_in_flight"],
                                        st["max_open_connections"],
                                        st["max_requests_per_1s"]))
    # Every object was looked at through the proxy, and nothing deleted.
    assert st["requests"] >= len(keys), st
    assert st["responses_by_status"].get("204", 0) == 0, st
    assert len(list_keys(s3, bucket)) == len(keys)
    # max_connections: never more requests at once, nor connections open.
    assert st["max_in_flight"] <= conns, st
    assert st["max_open_connections"] <= conns, st
    # max_requests_per_second: the token bucket allows rps a second plus
    # its burst (rps / 100, at least 1); 5 more for arrival jitter.
    burst = max(1, rps // 100)
    assert st["max_requests_per_1s"] <= rps + burst + 5, st
