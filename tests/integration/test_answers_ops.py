"""Answers are verified, for every operation: a 2xx that is not what S3
answers for that call (an HTML page where S3 sends no body, a HEAD or GET
without the object's ETag, an upload's answer to PUT ?legal-hold) fails
its task with a clear code, never Successful, and the job ends.

The wrong answers come from tests/faultproxy.py's "garbage" kind, a
hand-written stand-in in front of the real RGW (no real server sends an
HTML page to PutObjectTagging); everything else is the real daemon,
s3batchctl and RGW, checked with boto3 straight at RGW. The one real quirk
(OpenStack Swift's s3api stores the body of PUT ?legal-hold as the object)
is checked against the real Swift in test_legal_hold_answers_per_server.
The replication case adds tests/integration/replproxy.py (a stand-in for
the replication configuration RGW cannot hold) behind the fault proxy.
The capability probe is turned off (probe = no) where a server could not
do the operation: the task itself must refuse what the probe would have
refused up front.
"""

import contextlib
import os

import pytest

from faults import FaultProxy
from replproxy import ReplProxy
from s3b import (Daemon, by_key, create_job, endpoint_conf, job_spec,
                 list_keys, manifest_csv, put_objects, report_rows)

# The ETag a Swift-like answer to PUT ?legal-hold carries.
FAKE_ETAG = '"0123456789abcdef0123456789abcdef"'


def codes(job):
    return [f.get("FailureCode") for f in job.get("FailureReasons") or []]


def rows_of(d, job_id):
    return by_key(report_rows(d, job_id))


def check_row(row, status, code, http, *words):
    """A report row: its TaskStatus, ErrorCode, HTTP status, and words its
    ResultMessage must contain."""
    assert row["TaskStatus"] == status, row
    assert row["ErrorCode"] == code, row
    assert row["HTTPStatusCode"] == http, row
    for w in words:
        assert w in (row.get("ResultMessage") or ""), (w, row)


@pytest.mark.timeout(300)
def test_bad_2xx_per_operation(proxied, s3, make_bucket, tmp_path):
    """Seven jobs on one daemon, one per operation, each with one or two
    objects whose answer the stand-in replaces: those tasks fail with
    InvalidResponse (or UnsupportedByEndpoint) and the job completes; the
    other objects, answered by RGW, succeed. Then the report's upload
    answered with an HTML page: ReportFailed naming InvalidResponse, and
    the report is written once the stand-in steps aside."""
    tb, ab, db, cb, rb, rpb = (make_bucket() for _ in range(6))
    lb = make_bucket(object_lock=True)
    ok = ["ok/%d" % i for i in range(3)]
    for b in (tb, ab, db, cb):
        put_objects(s3, b, ok + ["bad/one"])
    put_objects(s3, lb, ok + ["bad/ret", "swift/one"])
    put_objects(s3, db, ["nohead/one"])
    put_objects(s3, rb, ["bad/one"], StorageClass="GLACIER")
    html = "garbage path=^/%s/bad/ "
    rules = [
        html % tb + "method=PUT query=tagging",
        html % ab + "method=PUT query=acl",
        html % lb + "method=PUT query=retention",
        # What Swift's s3api answers: an upload's 200, ETag, no body.
        "garbage method=PUT path=^/%s/swift/ query=legal-hold body= "
        "header=ETag:%s" % (lb, FAKE_ETAG),
        html % db + "method=DELETE",
        # A HEAD answered 200 without an ETag (and no body: a HEAD).
        "garbage method=HEAD path=^/%s/nohead/" % db,
        html % cb + "method=GET",
        html % rb + "method=POST query=restore",
        "garbage method=PUT path=^/%s/" % rpb,
    ]
    d, proxy = proxied(rules=rules, endpoint_extra="probe = no\n")

    def job(bucket, keys, op, **extra):
        spec = job_spec(op, confirmation=False, **extra)
        return create_job(d, tmp_path, spec, manifest_csv(
            tmp_path / ("m-%s.csv" % bucket), bucket, keys))

    jobs = {
        "tagging": job(tb, ok + ["bad/one"], {"S3PutObjectTagging": {
            "TagSet": [{"Key": "k", "Value": "v"}]}}),
        "acl": job(ab, ok + ["bad/one"], {"S3PutObjectAcl": {
            "AccessControlPolicy": {
                "CannedAccessControlList": "public-read"}}}),
        "hold": job(lb, ok + ["swift/one"], {"S3PutObjectLegalHold": {
            "LegalHold": {"Status": "OFF"}}}),
        "checksum": job(cb, ok + ["bad/one"], {"S3ComputeObjectChecksum": {
            "ChecksumAlgorithm": "CRC32", "ChecksumType": "FULL_OBJECT"}}),
        "restore": job(rb, ["bad/one"], {"S3InitiateRestoreObject": {
            "ExpirationInDays": 1, "GlacierJobTier": "BULK"}}),
    }
    # The retention job runs on the bad key alone: RGW never sees it, so
    # no retention is left to hold the bucket at cleanup.
    spec = job_spec({"S3PutObjectRetention": {"Retention": {
        "Mode": "GOVERNANCE", "RetainUntilDate": "2099-01-01T00:00:00Z"}}},
        confirmation=False)
    jobs["retention"] = create_job(d, tmp_path, spec, manifest_csv(
        tmp_path / "m-ret.csv", lb, ["bad/ret"]))
    # A delete job starts Suspended with its dry run; then confirmed.
    spec = job_spec({"S3DeleteObject": {}}, confirmation=False)
    jobs["delete"] = create_job(d, tmp_path, spec, manifest_csv(
        tmp_path / "m-del.csv", db, ok + ["bad/one", "nohead/one"]))
    susp = d.wait_status(jobs["delete"], ("Suspended", "Failed"), timeout=120)
    assert susp["Status"] == "Suspended", susp
    # The dry run counts the HEAD without an ETag as unchecked.
    assert "200 InvalidResponse" in susp["SuspendedCause"], susp
    d.ok("update-job-status", "--job-id", jobs["delete"],
         "--requested-job-status", "Ready")

    done = {name: d.wait_status(j, ("Complete", "Failed"), timeout=180)
            for name, j in jobs.items()}
    for name in ("tagging", "acl", "hold", "checksum", "delete"):
        ps = done[name]["ProgressSummary"]
        bad = 2 if name == "delete" else 1
        assert done[name]["Status"] == "Complete", (name, done[name])
        assert (ps["NumberOfTasksSucceeded"], ps["NumberOfTasksFailed"]) \
            == (len(ok), bad), (name, ps)
        for k, row in rows_of(d, jobs[name]).items():
            if k.startswith("ok/"):
                assert row["TaskStatus"] == "succeeded", (name, row)

    check_row(rows_of(d, jobs["tagging"])["bad/one"], "failed",
              "InvalidResponse", 200, "PutObjectTagging answered 200 with "
              "a body of", "<html>")
    check_row(rows_of(d, jobs["acl"])["bad/one"], "failed",
              "InvalidResponse", 200, "PutObjectAcl answered 200")
    check_row(rows_of(d, jobs["hold"])["swift/one"], "failed",
              "UnsupportedByEndpoint", 200, "PUT ?legal-hold as an upload",
              "PutObjectLegalHold")
    check_row(rows_of(d, jobs["retention"])["bad/ret"], "failed",
              "InvalidResponse", 200, "PutObjectRetention answered 200")
    check_row(rows_of(d, jobs["checksum"])["bad/one"], "failed",
              "InvalidResponse", 200, "GetObject answered 200 without an "
              "ETag")
    check_row(rows_of(d, jobs["restore"])["bad/one"], "failed",
              "InvalidResponse", 200, "RestoreObject answered 200 with a "
              "body")
    rows = rows_of(d, jobs["delete"])
    check_row(rows["bad/one"], "failed", "InvalidResponse", 200,
              "DeleteObject answered 200 with a body")
    check_row(rows["nohead/one"], "failed", "InvalidResponse", 200,
              "HeadObject answered 200 without an ETag")

    # RGW never saw the faulted calls: those objects are as they were.
    assert sorted(list_keys(s3, db)) == ["bad/one", "nohead/one"]
    assert s3.get_object_tagging(Bucket=tb, Key="bad/one")["TagSet"] == []
    assert s3.get_object_tagging(Bucket=tb, Key="ok/0")["TagSet"] == \
        [{"Key": "k", "Value": "v"}]
    stats = proxy.stats()["injected"]["garbage"]
    # One each, two for the delete's HEAD (the dry run and the task).
    assert stats == 9, proxy.stats()

    # The report's uploads: every PUT to the report bucket is garbage.
    spec = job_spec({"S3PutObjectTagging": {"TagSet": [
        {"Key": "r", "Value": "1"}]}},
                    confirmation=False,
                    Report={"Enabled": True,
                            "Bucket": "arn:aws:s3:::%s" % rpb,
                            "Format": "Report_CSV_20180820", "Prefix": "r",
                            "ReportScope": "AllTasks"})
    rj = create_job(d, tmp_path, spec, manifest_csv(tmp_path / "m-rep.csv",
                                                    tb, ok))
    job = d.wait_job(rj, "ReportFailed while Completing",
                     lambda j: "ReportFailed" in codes(j) or
                     j["Status"] in ("Complete", "Failed"), timeout=120)
    assert job["Status"] == "Completing", job
    why = [f["FailureReason"] for f in job["FailureReasons"]
           if f["FailureCode"] == "ReportFailed"][0]
    assert "InvalidResponse" in why and "PutObject answered 200" in why, job
    assert list_keys(s3, rpb) == [], "nothing reached RGW"
    proxy.clear()
    job = d.wait_status(rj, ("Complete", "Failed"), timeout=180)
    assert job["Status"] == "Complete" and job["FailureReasons"] == [], job
    assert any(k.endswith("manifest.json") for k in list_keys(s3, rpb))


def test_legal_hold_answers_per_server(server, server_s3, server_bucket,
                                       server_daemon, tmp_path):
    """PUT ?legal-hold on each server, the task's own check (probe = no).
    RGW answers as S3 does (200, no ETag, no body): Successful, the data
    untouched. Swift's s3api does not know the subresource and stores the
    request's body as the object, answering as for an upload (an ETag):
    each task fails UnsupportedByEndpoint, never Successful, and the test
    shows what the server did to the object."""
    b = server_bucket(object_lock=True)
    keys = ["h/%d" % i for i in range(3)]
    etags = put_objects(server_s3, b, keys)
    d = server_daemon(endpoint_extra="probe = no\n")
    spec = job_spec({"S3PutObjectLegalHold": {
        "LegalHold": {"Status": "OFF"}}}, confirmation=False)
    job_id = create_job(d, tmp_path, spec,
                        manifest_csv(tmp_path / "m.csv", b, keys))
    job = d.wait_status(job_id, ("Complete", "Failed"), timeout=120)
    rows = rows_of(d, job_id)
    data = {k: server_s3.get_object(Bucket=b, Key=k)["Body"].read()
            for k in keys}
    if server.kind == "rgw":
        assert job["Status"] == "Complete", job
        for k in keys:
            assert rows[k]["TaskStatus"] == "succeeded", rows[k]
            assert data[k] == k.encode(), k
            assert server_s3.get_object_legal_hold(Bucket=b, Key=k)[
                "LegalHold"]["Status"] == "OFF", k
        return
    assert job["Status"] in ("Complete", "Failed"), job
    assert job["ProgressSummary"]["NumberOfTasksSucceeded"] == 0, job
    for k in keys:
        check_row(rows[k], "failed", "UnsupportedByEndpoint", 200,
                  "PUT ?legal-hold as an upload")
        # What Swift did: the object is now the LegalHold document.
        assert b"LegalHold" in data[k], (k, data[k])
        assert server_s3.head_object(Bucket=b, Key=k)["ETag"] != etags[k]


def test_replicate_bad_2xx(rgw, s3, make_bucket, tmp_path):
    """S3ReplicateObject's own calls (its copies are S3PutObjectCopy's,
    test_answers.py): a HEAD answered 200 without an ETag, and a delete
    marker's DELETE on the destination answered 200 with an HTML page,
    fail those tasks with InvalidResponse; the other object is replicated.
    The chain: daemon -> faultproxy (the garbage) -> replproxy (a stand-in
    for the replication configuration RGW cannot hold) -> RGW."""
    src = make_bucket(versioned=True)
    dst = make_bucket(versioned=True)
    versions = {k: s3.put_object(Bucket=src, Key=k, Body=k.encode())[
        "VersionId"] for k in ("ok/one", "bad/head", "bad/gone")}
    versions["bad/gone"] = s3.delete_object(Bucket=src, Key="bad/gone")[
        "VersionId"]
    with contextlib.ExitStack() as stack:
        rp = stack.enter_context(ReplProxy(rgw.endpoint))
        rp.configs[src] = (
            '<ReplicationConfiguration xmlns="http://s3.amazonaws.com/doc/'
            '2006-03-01/"><Role>arn:aws:iam::123456789012:role/repl</Role>'
            '<Rule><ID>all</ID><Priority>1</Priority><Status>Enabled'
            '</Status><Filter><Prefix></Prefix></Filter>'
            '<DeleteMarkerReplication><Status>Enabled</Status>'
            '</DeleteMarkerReplication><Destination><Bucket>arn:aws:s3:::%s'
            '</Bucket></Destination></Rule></ReplicationConfiguration>' % dst)
        fp = FaultProxy(rp.endpoint, rules=[
            "garbage method=HEAD path=^/%s/bad/head" % src,
            "garbage method=DELETE path=^/%s/bad/gone" % dst]).start()
        stack.callback(fp.stop)
        d = Daemon(extra_conf=endpoint_conf(fp.endpoint,
                                            extra="probe = no\n"))
        os.chmod(d.conf, 0o600)
        stack.callback(d.remove)
        d.start()
        stack.callback(d.stop)
        keys = list(versions)
        spec = job_spec({"S3ReplicateObject": {}}, confirmation=False)
        spec["Manifest"]["Spec"]["Fields"].append("VersionId")
        job_id = create_job(d, tmp_path, spec, manifest_csv(
            tmp_path / "m.csv", src, keys, [versions[k] for k in keys]))
        job = d.wait_status(job_id, ("Complete", "Failed"), timeout=120)
        assert job["Status"] == "Complete", job
        rows = by_key(report_rows(d, job_id))
        assert rows["ok/one"]["TaskStatus"] == "succeeded", rows["ok/one"]
        check_row(rows["bad/head"], "failed", "InvalidResponse", 200,
                  "HeadObject answered without an ETag")
        check_row(rows["bad/gone"], "failed", "InvalidResponse", 200,
                  "on %s: DeleteObject answered 200 with a body" % dst)
        assert fp.stats()["injected"]["garbage"] == 2, fp.stats()
        # RGW saw neither: only ok/one is in the destination, no marker.
        vs = s3.list_object_versions(Bucket=dst)
        assert [v["Key"] for v in vs.get("Versions", [])] == ["ok/one"]
        assert vs.get("DeleteMarkers", []) == []
