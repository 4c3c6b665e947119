"""The job cases against each S3 server: Ceph RGW and OpenStack Swift 2.30's
s3api (the `server` fixture, conftest.py; S3B_SERVERS chooses). One small
job per operation and per manifest kind, run by the real daemon and
s3batchctl, checked with boto3 on the same server.

What a server cannot do is in CANNOT, measured by the capability probe
(check-endpoint --bucket, src/s3-probe.c; docs/COMPATIBILITY.md). For
those cases the test checks that the daemon refuses the job at once with
the reason naming the capability (the lifecycle's check, jobcaps.c), that
no task ran and that no object changed: never a silent skip.

Not here, and why: restore (RGW answers RestoreObject 501 without a cloud
tier; test_ops_restore.py uses a stand-in), replication (one RGW zone, no
replication; test_ops_replicate.py uses a stand-in), Lambda (no S3
semantics of its own), and the tests that need radosgw-admin (users, keys,
RGW's own storage classes), which stay RGW-only in their files.
"""
import base64
import datetime
import hashlib
import json
import os
import urllib.parse
import zlib

import pytest

from s3b import (ROLE, create_job, endpoint_conf, inventory_location,
                 inventory_manifest, job_spec, list_keys, manifest_csv,
                 put_objects, report_csv_lines, report_rows, rows_by_key,
                 run_job)

MIB = 1024 * 1024

# Keys S3 gateways get wrong, a few of s3b.AWKWARD's kinds: space, '+',
# '%', UTF-8.
KEYS = ["plain-1", "sp ace/a+b%c.txt", "üñí/çødé", "dir/x"]

# server kind -> case -> (what the job's refusal must say, the quirk). From
# the probe (docs/COMPATIBILITY.md).
CANNOT = {
    "rgw": {},
    "swift": {
        "tagging": ("does not support object tagging",
                    "Swift s3api: PutObjectTagging answers 501 "
                    "NotImplemented"),
        "acl": ("does not support object ACLs",
                "Swift s3api without s3_acl: PutObjectAcl answers 501 "
                "NotImplemented"),
        "retention": ("does not support Object Lock",
                      "Swift s3api ignores ?retention: PUT ?retention "
                      "overwrites the object with the XML body"),
        "legal_hold": ("does not support Object Lock",
                       "Swift s3api ignores ?legal-hold: PUT ?legal-hold "
                       "overwrites the object with the XML body"),
        "copy_glacier": ("does not support storage class GLACIER",
                         "Swift s3api: x-amz-storage-class other than "
                         "STANDARD answers 400 InvalidStorageClass"),
    },
}


def cannot(request, server, case):
    """The refusal text the case expects on this server, or None; the
    quirk goes to the test's properties (the junit XML check.sh keeps)."""
    entry = CANNOT[server.kind].get(case)
    if entry is None:
        return None
    request.node.user_properties.append(("quirk", entry[1]))
    return entry[0]


def assert_refused(d, job_id, job, text):
    """Refused at once: Failed, the reason names the capability, no task
    ran."""
    assert job["Status"] == "Failed", job
    reasons = json.dumps(job.get("FailureReasons"))
    assert text in reasons, reasons
    ps = job["ProgressSummary"]
    assert ps["NumberOfTasksSucceeded"] + ps["NumberOfTasksFailed"] == 0, ps


def assert_all_succeeded(d, job_id, job, n):
    assert job["Status"] == "Complete", job
    ps = job["ProgressSummary"]
    rows = report_rows(d, job_id)
    assert ps["NumberOfTasksSucceeded"] == n, rows
    assert ps["NumberOfTasksFailed"] == 0, rows
    assert len(rows) == n and {r["TaskStatus"] for r in rows} == \
        {"succeeded"}, rows


def csv_job(d, tmp_path, op, bucket, keys, name="m.csv",
            until=("Complete", "Failed", "Cancelled"), **extra):
    spec = job_spec(op, confirmation=False, **extra)
    m = manifest_csv(tmp_path / name, bucket, keys)
    return run_job(d, tmp_path, spec, m, timeout=180, until=until)


def bodies(s3, bucket, keys):
    return {k: s3.get_object(Bucket=bucket, Key=k)["Body"].read()
            for k in keys}


def upload_multipart(s3, bucket, key, parts):
    mp = s3.create_multipart_upload(Bucket=bucket, Key=key)
    done = []
    for i, p in enumerate(parts):
        r = s3.upload_part(Bucket=bucket, Key=key, UploadId=mp["UploadId"],
                           PartNumber=i + 1, Body=p)
        done.append({"ETag": r["ETag"], "PartNumber": i + 1})
    s3.complete_multipart_upload(Bucket=bucket, Key=key,
                                 UploadId=mp["UploadId"],
                                 MultipartUpload={"Parts": done})
    # From a HEAD: this RGW's CompleteMultipartUploadResult has an empty
    # <ETag>.
    return s3.head_object(Bucket=bucket, Key=key)["ETag"].strip('"')


# --- copies

def test_copy(server, server_s3, server_bucket, server_daemon, tmp_path):
    src, dst = server_bucket(), server_bucket()
    put_objects(server_s3, src, KEYS)
    d = server_daemon()
    job_id, job = csv_job(d, tmp_path, {"S3PutObjectCopy": {
        "TargetResource": "arn:aws:s3:::%s" % dst}}, src, KEYS)
    assert_all_succeeded(d, job_id, job, len(KEYS))
    assert bodies(server_s3, dst, KEYS) == {k: k.encode() for k in KEYS}


def test_copy_multipart_source(server, server_s3, server_bucket,
                               server_daemon, tmp_path):
    """A multipart-uploaded source: its ETag is "md5-of-md5s-N". Swift's
    s3api answers 412 to x-amz-copy-source-if-match with it (it compares
    its internal ETag); op-copy absorbs that."""
    src, dst = server_bucket(), server_bucket()
    parts = [os.urandom(5 * MIB), os.urandom(1000)]
    etag = upload_multipart(server_s3, src, "mp", parts)
    assert etag.endswith("-2"), etag
    d = server_daemon()
    job_id, job = csv_job(d, tmp_path, {"S3PutObjectCopy": {
        "TargetResource": "arn:aws:s3:::%s" % dst}}, src, ["mp"])
    assert_all_succeeded(d, job_id, job, 1)
    got = server_s3.get_object(Bucket=dst, Key="mp")["Body"].read()
    assert hashlib.md5(got).digest() == hashlib.md5(b"".join(parts)).digest()


def test_copy_storage_class(request, server, server_s3, server_bucket,
                            server_daemon, tmp_path):
    refused = cannot(request, server, "copy_glacier")
    src, dst = server_bucket(), server_bucket()
    put_objects(server_s3, src, KEYS[:2])
    d = server_daemon()
    job_id, job = csv_job(d, tmp_path, {"S3PutObjectCopy": {
        "TargetResource": "arn:aws:s3:::%s" % dst,
        "StorageClass": "GLACIER"}}, src, KEYS[:2])
    if refused:
        assert_refused(d, job_id, job, refused)
        assert list_keys(server_s3, dst) == []
        return
    assert_all_succeeded(d, job_id, job, 2)
    for k in KEYS[:2]:
        assert server_s3.head_object(Bucket=dst, Key=k).get(
            "StorageClass") == "GLACIER", k


# --- tagging, ACL, Object Lock

def test_tagging(request, server, server_s3, server_bucket, server_daemon,
                 tmp_path):
    refused = cannot(request, server, "tagging")
    b = server_bucket()
    put_objects(server_s3, b, KEYS)
    d = server_daemon()
    job_id, job = csv_job(d, tmp_path, {"S3PutObjectTagging": {
        "TagSet": [{"Key": "case", "Value": server.kind}]}}, b, KEYS)
    if refused:
        assert_refused(d, job_id, job, refused)
        assert bodies(server_s3, b, KEYS) == {k: k.encode() for k in KEYS}
        return
    assert_all_succeeded(d, job_id, job, len(KEYS))
    for k in KEYS:
        assert server_s3.get_object_tagging(Bucket=b, Key=k)["TagSet"] == \
            [{"Key": "case", "Value": server.kind}], k


def test_acl(request, server, server_s3, server_bucket, server_daemon,
             tmp_path):
    refused = cannot(request, server, "acl")
    b = server_bucket()
    put_objects(server_s3, b, KEYS[:2])
    d = server_daemon()
    job_id, job = csv_job(d, tmp_path, {"S3PutObjectAcl": {
        "AccessControlPolicy": {"CannedAccessControlList": "public-read"}}},
        b, KEYS[:2])
    if refused:
        assert_refused(d, job_id, job, refused)
        return
    assert_all_succeeded(d, job_id, job, 2)
    for k in KEYS[:2]:
        grants = server_s3.get_object_acl(Bucket=b, Key=k)["Grants"]
        assert any(g["Grantee"].get("URI", "").endswith("/AllUsers") and
                   g["Permission"] == "READ" for g in grants), grants


LOCK_CASES = {
    "retention": lambda until: {"S3PutObjectRetention": {
        "BypassGovernanceRetention": False,
        "Retention": {"Mode": "GOVERNANCE", "RetainUntilDate": until}}},
    "legal_hold": lambda until: {"S3PutObjectLegalHold": {
        "LegalHold": {"Status": "ON"}}},
}


@pytest.mark.parametrize("case", sorted(LOCK_CASES))
def test_object_lock(request, case, server, server_s3, server_bucket,
                     server_daemon, tmp_path):
    """On Swift the refusal matters most: its s3api ignores ?retention and
    ?legal-hold, so the PUT replaces the object's data with the XML."""
    refused = cannot(request, server, case)
    b = server_bucket(object_lock=not refused)
    put_objects(server_s3, b, KEYS[:2])
    until = (datetime.datetime.now(datetime.timezone.utc) +
             datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    d = server_daemon()
    job_id, job = csv_job(d, tmp_path, LOCK_CASES[case](until), b, KEYS[:2])
    if refused:
        # The data first: what a wrong "success" destroys.
        assert bodies(server_s3, b, KEYS[:2]) == \
            {k: k.encode() for k in KEYS[:2]}
        assert_refused(d, job_id, job, refused)
        return
    assert_all_succeeded(d, job_id, job, 2)
    for k in KEYS[:2]:
        if case == "retention":
            r = server_s3.get_object_retention(Bucket=b, Key=k)["Retention"]
            assert r["Mode"] == "GOVERNANCE", r
        else:
            assert server_s3.get_object_legal_hold(Bucket=b, Key=k)[
                "LegalHold"]["Status"] == "ON", k


# --- checksums

def test_checksum_full_object(server, server_s3, server_bucket,
                              server_daemon, tmp_path):
    b = server_bucket()
    data = {"small": b"123456789", "mp": None}
    put_objects(server_s3, b, ["small"], body=data["small"])
    parts = [os.urandom(5 * MIB), os.urandom(333)]
    upload_multipart(server_s3, b, "mp", parts)
    data["mp"] = b"".join(parts)
    d = server_daemon()
    job_id, job = csv_job(d, tmp_path, {"S3ComputeObjectChecksum": {
        "ChecksumAlgorithm": "CRC32", "ChecksumType": "FULL_OBJECT"}},
        b, list(data))
    assert_all_succeeded(d, job_id, job, 2)
    rows = rows_by_key(d, job_id)
    for k, v in data.items():
        want = zlib.crc32(v).to_bytes(4, "big")
        msg = json.loads(rows[k]["ResultMessage"])
        assert msg["checksum_hex"] == want.hex(), (k, msg)


def test_checksum_composite(server, server_s3, server_bucket, server_daemon,
                            tmp_path):
    """COMPOSITE needs the part boundaries. Swift's s3api refuses HEAD
    ?partNumber= with 405 instead of ignoring it (as RGW does); op-checksum
    then falls back to trying part sizes against the multipart ETag."""
    b = server_bucket()
    parts = [os.urandom(5 * MIB), os.urandom(4321)]
    upload_multipart(server_s3, b, "mp", parts)
    d = server_daemon()
    job_id, job = csv_job(d, tmp_path, {"S3ComputeObjectChecksum": {
        "ChecksumAlgorithm": "CRC32", "ChecksumType": "COMPOSITE"}},
        b, ["mp"])
    assert_all_succeeded(d, job_id, job, 1)
    inner = b"".join(zlib.crc32(p).to_bytes(4, "big") for p in parts)
    want = base64.b64encode(zlib.crc32(inner).to_bytes(4, "big")).decode()
    msg = json.loads(rows_by_key(d, job_id)["mp"]["ResultMessage"])
    assert msg["checksum_base64"] == want + "-2", msg


# --- delete

def test_delete(server, server_s3, server_bucket, server_daemon, tmp_path):
    b = server_bucket()
    put_objects(server_s3, b, KEYS + ["keep"])
    d = server_daemon()
    # A delete job always waits for a confirmation, after its dry run.
    job_id, job = csv_job(d, tmp_path, {"S3DeleteObject": {}}, b, KEYS,
                          until=("Suspended",))
    assert "4 objects in 1 bucket would be deleted" in \
        job["SuspendedCause"], job
    d.ok("update-job-status", "--job-id", job_id, "--requested-job-status",
         "Ready")
    job = d.wait_status(job_id, ("Complete", "Failed"), timeout=180)
    assert_all_succeeded(d, job_id, job, len(KEYS))
    assert list_keys(server_s3, b) == ["keep"]


# --- manifests and reports

def test_inventory_manifest(server, server_s3, server_bucket, server_daemon,
                            tmp_path):
    src, dst, inv = server_bucket(), server_bucket(), server_bucket()
    put_objects(server_s3, src, KEYS)
    key, etag = inventory_manifest(
        server_s3, src, inv,
        [(src, urllib.parse.quote(k, safe="/")) for k in KEYS],
        "Bucket, Key")
    d = server_daemon()
    spec = job_spec({"S3PutObjectCopy": {
        "TargetResource": "arn:aws:s3:::%s" % dst}}, confirmation=False,
        Manifest=inventory_location(inv, key, etag))
    job_id, job = run_job(d, tmp_path, spec, timeout=180)
    assert_all_succeeded(d, job_id, job, len(KEYS))
    assert sorted(list_keys(server_s3, dst)) == sorted(KEYS)


def test_manifest_generator(server, server_s3, server_bucket, server_daemon,
                            tmp_path):
    src, dst = server_bucket(), server_bucket()
    put_objects(server_s3, src, KEYS)
    d = server_daemon()
    spec = {
        "Operation": {"S3PutObjectCopy": {
            "TargetResource": "arn:aws:s3:::%s" % dst}},
        "ManifestGenerator": {"S3JobManifestGenerator": {
            "SourceBucket": "arn:aws:s3:::%s" % src,
            "EnableManifestOutput": False}},
        "Report": {"Enabled": False},
        "Priority": 10,
        "RoleArn": ROLE,
        "ConfirmationRequired": False,
    }
    job_id = create_job(d, tmp_path, spec)
    job = d.wait_status(job_id, ("Complete", "Failed", "Cancelled"),
                        timeout=180)
    assert_all_succeeded(d, job_id, job, len(KEYS))
    assert sorted(list_keys(server_s3, dst)) == sorted(KEYS)


def test_report_in_bucket(server, server_s3, server_bucket, server_daemon,
                          tmp_path):
    """The completion report in Amazon's layout, written to the server
    (a multipart-free PUT of each file and manifest.json)."""
    src, dst, rep = server_bucket(), server_bucket(), server_bucket()
    put_objects(server_s3, src, KEYS[:2])
    d = server_daemon()
    spec = job_spec({"S3PutObjectCopy": {
        "TargetResource": "arn:aws:s3:::%s" % dst}}, confirmation=False,
        Report={"Enabled": True, "Bucket": "arn:aws:s3:::%s" % rep,
                "Format": "Report_CSV_20180820", "Prefix": "r",
                "ReportScope": "AllTasks"})
    m = manifest_csv(tmp_path / "m.csv", src, KEYS[:2] + ["missing"])
    job_id, job = run_job(d, tmp_path, spec, m, timeout=180)
    assert job["Status"] == "Complete", job
    man, lines = report_csv_lines(server_s3, rep, "r", job_id)
    assert len(lines) == 3, lines
    status = {urllib.parse.unquote(l.split(",")[1]): l.split(",")[3]
              for l in lines}
    assert status == {KEYS[0]: "succeeded", KEYS[1]: "succeeded",
                      "missing": "failed"}, lines


# --- the capability probe itself

# What the probe must find, per server (docs/COMPATIBILITY.md).
PROBE_EXPECT = {
    # RGW 16 answers HEAD ?partNumber= with the whole object (no
    # x-amz-mp-parts-count) and ignores a wrong x-amz-copy-source-if-match.
    "rgw": {"Tagging": "yes", "ObjectAcl": "yes", "Versioning": "yes",
            "ObjectLock": "yes", "HeadPartNumber": "no",
            "CopySourceIfMatchMultipart": "yes", "CopySourceIfMatch": "no",
            "CopyIfMatch": "yes", "StorageClass.GLACIER": "yes"},
    "swift": {"Tagging": "no", "ObjectAcl": "no", "Versioning": "yes",
              "ObjectLock": "no", "Replication": "no", "SSE-S3": "no",
              "HeadPartNumber": "no", "CopySourceIfMatchMultipart": "no",
              "CopySourceIfMatch": "yes", "CopyIfMatch": "no",
              "StorageClass.GLACIER": "no",
              "StorageClass.STANDARD_IA": "no"},
}


def test_check_endpoint_probe(server, server_s3, server_bucket,
                              server_daemon):
    """check-endpoint --bucket probes with scratch objects and removes
    them; the table says what the server can do and which answer said so.
    A bucket of another endpoint is refused with the reason."""
    b = server_bucket()
    put_objects(server_s3, b, ["user-object"])
    d = server_daemon(extra_conf=endpoint_conf(
        server.endpoint, name="second", keys=server.users["tester"]))
    r = d.ok("check-endpoint", "default", "--bucket", b)
    caps = r["Capabilities"]
    got = {k: caps[k]["Supported"] for k in PROBE_EXPECT[server.kind]}
    assert got == PROBE_EXPECT[server.kind], json.dumps(caps, indent=1)
    for name, row in caps.items():
        assert row["Supported"] in ("yes", "no", "unknown"), (name, row)
        assert row.get("Detail"), (name, row)
    # Nothing of the probe is left; the user's object is untouched.
    assert list_keys(server_s3, b) == ["user-object"]
    assert server_s3.list_multipart_uploads(Bucket=b).get("Uploads",
                                                          []) == []
    text = d.ok("check-endpoint", "default", output="text")
    assert "capabilities: not probed" in text, text
    text = d.ok("check-endpoint", "default", "--bucket", b, output="text")
    assert "capabilities (probed in bucket %s" % b in text, text
    assert "Tagging" in text, text
    # A bucket that resolves to no such endpoint.
    r = d.ctl("check-endpoint", "nosuch", "--bucket", b)
    assert r.rc != 0 and "nosuch" in r.err, r
    # A bucket of another endpoint: the probe refuses to write there.
    r = d.ctl("check-endpoint", "second", "--bucket", b)
    assert r.rc != 0 and "bucket %s is on endpoint default, not second" % b \
        in r.err, r
    # In a versioned bucket the scratch objects are deleted by version:
    # no version or delete marker of the probe is left.
    v = server_bucket(versioned=True)
    put_objects(server_s3, v, ["user-object"])
    d.ok("check-endpoint", "default", "--bucket", v)
    left = server_s3.list_object_versions(Bucket=v)
    assert [x["Key"] for x in left.get("Versions", [])] == \
        ["user-object"], left.get("Versions")
    assert left.get("DeleteMarkers", []) == [], left["DeleteMarkers"]
