"""Inventory reports (issue 9, Deliver 3) against a real Ceph RGW.

A configuration is put with `s3batchctl put-bucket-inventory-configuration`
and run with `s3batchctl run-inventory`; the report the daemon writes to the
destination bucket is then read with boto3 only: manifest.json's members,
manifest.checksum, each data file's size and MD5, symlink.txt, and every row
and optional field against what boto3 reads itself (ListObjectsV2 or
ListObjectVersions, HEAD). The report is then the manifest of a tagging job
(the daemon's own inventory reader) that must complete on every object.
"""

import csv
import datetime
import gzip
import hashlib
import io
import json
import re
import urllib.parse

import botocore.exceptions
import pytest

from s3b import (ROLE, create_job, http_status, inventory_location, pmap,
                 put_objects, report_rows, taggings, wait_until,
                 write_json)

KMS_KEY = "testkey-1"
SSEC_KEY = "0123456789abcdef0123456789abcdef"
LONG_KEY = "long key+%/" + "\u00e9" * 20 + "x" * 949   # 1,000 bytes
AWKWARD = ["sp ace/a b.txt", "plus+sign", "per%cent%2F", "caf\u00e9/\u20ac",
           "quote\"comma,", LONG_KEY]
HEAD_FIELDS = ["ReplicationStatus", "EncryptionStatus",
               "ObjectLockRetainUntilDate", "ObjectLockMode",
               "ObjectLockLegalHoldStatus", "IntelligentTieringAccessTier",
               "BucketKeyStatus", "ChecksumAlgorithm"]
LIST_FIELDS = ["Size", "LastModifiedDate", "StorageClass", "ETag",
               "IsMultipartUploaded"]
RUN_TIMEOUT = 300
# Issue 9's check: buckets of 10,000 objects (in the versioned bucket,
# 10,000 versions and delete markers).
COUNT = 10000


def inv_config(cid, dest, versions="Current", fields=None, encryption=None,
               prefix="inv"):
    dst = {"Bucket": "arn:aws:s3:::%s" % dest, "Format": "CSV",
           "Prefix": prefix}
    if encryption is not None:
        dst["Encryption"] = encryption
    cfg = {"Id": cid, "IsEnabled": True,
           "Destination": {"S3BucketDestination": dst},
           "IncludedObjectVersions": versions,
           "Schedule": {"Frequency": "Daily"}}
    if fields:
        cfg["OptionalFields"] = fields
    return cfg


def run_inventory(d, tmp_path, bucket, cfg):
    """Put the configuration, run it now, wait for the run to end: the
    run's entry in list-inventory-runs."""
    uri = write_json(tmp_path / ("inv-%s.json" % cfg["Id"]), cfg)
    d.ok("put-bucket-inventory-configuration", "--bucket", bucket,
         "--id", cfg["Id"], "--inventory-configuration", uri)
    run_id = d.ok("run-inventory", "--bucket", bucket,
                  "--id", cfg["Id"])["RunId"]
    found = {}

    def ended():
        runs = d.ok("list-inventory-runs", "--bucket", bucket,
                    "--id", cfg["Id"])["Runs"]
        for r in runs:
            if r["RunId"] == run_id and r["State"] != "Running":
                found["run"] = r
                return True
        return False
    wait_until("the inventory run to end", ended, timeout=RUN_TIMEOUT,
               interval=0.2)
    return found["run"]


def ms_z(dt):
    """A boto3 datetime in the report's form: ms and Z."""
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (
        dt.microsecond // 1000)


def read_report(s3, dest, run):
    """Check the report's files with boto3; its manifest.json and rows
    (dicts by fileSchema column, Key decoded)."""
    arn = run["ReportLocation"]
    assert arn.startswith("arn:aws:s3:::%s/" % dest), run
    mkey = arn[len("arn:aws:s3:::%s/" % dest):]
    m = re.fullmatch(r"(.*/)(\d{4}-\d\d-\d\dT\d\d-\d\dZ)/manifest\.json",
                     mkey)
    assert m, mkey
    base, folder = m.group(1), m.group(2)
    body = s3.get_object(Bucket=dest, Key=mkey)["Body"].read()
    checksum = s3.get_object(Bucket=dest, Key=base + folder +
                             "/manifest.checksum")["Body"].read().decode()
    assert checksum.strip() == hashlib.md5(body).hexdigest()
    man = json.loads(body)
    assert man["version"] == "2016-11-30"
    assert man["fileFormat"] == "CSV"
    assert man["destinationBucket"] == "arn:aws:s3:::%s" % dest
    assert man["creationTimestamp"].isdigit()
    dt = folder[:-1].replace("T", "-")
    symlink = s3.get_object(Bucket=dest, Key="%shive/dt=%s/symlink.txt" %
                            (base, dt))["Body"].read().decode()
    assert symlink.splitlines() == ["s3://%s/%s" % (dest, f["key"])
                                    for f in man["files"]]
    columns = [c.strip() for c in man["fileSchema"].split(",")]
    rows = []
    for f in man["files"]:
        assert f["key"].startswith(base + "data/") and \
            f["key"].endswith(".csv.gz")
        gz = s3.get_object(Bucket=dest, Key=f["key"])["Body"].read()
        assert len(gz) == f["size"]
        assert hashlib.md5(gz).hexdigest() == f["MD5checksum"]
        text = gzip.decompress(gz).decode()
        for rec in csv.reader(io.StringIO(text)):
            assert len(rec) == len(columns), rec
            row = dict(zip(columns, rec))
            row["Key"] = urllib.parse.unquote_plus(row["Key"])
            rows.append(row)
    return mkey, man, columns, rows


def head(s3, bucket, key, **kw):
    """HEAD (with checksum mode), or None for SSE-C without its key."""
    try:
        return s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED",
                              **kw)
    except botocore.exceptions.ClientError as e:
        if http_status(e) == 400:
            return None
        raise


def expected_head_fields(h):
    if h is None:
        return {"EncryptionStatus": "SSE-C", "BucketKeyStatus": "DISABLED",
                "ReplicationStatus": "", "ObjectLockRetainUntilDate": "",
                "ObjectLockMode": "", "ObjectLockLegalHoldStatus": "OFF",
                "IntelligentTieringAccessTier": "",
                "ChecksumAlgorithm": ""}
    sse = {"AES256": "SSE-S3", "aws:kms": "SSE-KMS",
           "aws:kms:dsse": "DSSE-KMS"}.get(h.get("ServerSideEncryption"),
                                           "NOT-SSE")
    if h.get("SSECustomerAlgorithm"):
        sse = "SSE-C"
    until = h.get("ObjectLockRetainUntilDate")
    algo = ""
    for name in ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"):
        if h.get("Checksum" + name):
            algo = name
            break
    return {"EncryptionStatus": sse,
            "BucketKeyStatus": "ENABLED" if h.get("BucketKeyEnabled")
            else "DISABLED",
            "ReplicationStatus": h.get("ReplicationStatus", ""),
            "ObjectLockRetainUntilDate": ms_z(until) if until else "",
            "ObjectLockMode": h.get("ObjectLockMode", ""),
            "ObjectLockLegalHoldStatus":
                h.get("ObjectLockLegalHoldStatus", "OFF"),
            "IntelligentTieringAccessTier": "",
            "ChecksumAlgorithm": algo}


def test_current_versions_every_field(s3batchd, s3, make_bucket, tmp_path):
    src = make_bucket()
    dest = make_bucket()
    plain = ["k/%05d" % i for i in range(COUNT - 12)] + AWKWARD
    put_objects(s3, src, plain, body=lambda k: k.encode()[:50], workers=32)
    kms = ["enc/kms-%d" % i for i in range(3)]
    put_objects(s3, src, kms, body=b"k" * 10,
                ServerSideEncryption="aws:kms", SSEKMSKeyId=KMS_KEY)
    ssec = ["enc/ssec-%d" % i for i in range(2)]
    put_objects(s3, src, ssec, body=b"c" * 10, SSECustomerAlgorithm="AES256",
                SSECustomerKey=SSEC_KEY)
    # One multipart object: IsMultipartUploaded from its ETag.
    mpu = s3.create_multipart_upload(Bucket=src, Key="mpu/one")
    parts = []
    for n, body in ((1, b"a" * (5 * 1024 * 1024)), (2, b"b")):
        r = s3.upload_part(Bucket=src, Key="mpu/one", PartNumber=n,
                           UploadId=mpu["UploadId"], Body=body)
        parts.append({"PartNumber": n, "ETag": r["ETag"]})
    s3.complete_multipart_upload(Bucket=src, Key="mpu/one",
                                 UploadId=mpu["UploadId"],
                                 MultipartUpload={"Parts": parts})
    keys = plain + kms + ssec + ["mpu/one"]
    assert len(keys) == COUNT

    listing = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=src):
        for o in page.get("Contents", []):
            listing[o["Key"]] = o
    assert set(listing) == set(keys)
    heads = dict(pmap(lambda k: (k, head(s3, src, k)), keys))

    d = s3batchd()
    cfg = inv_config("every-field", dest, fields=LIST_FIELDS + HEAD_FIELDS,
                     encryption={"SSEKMS": {"KeyId": KMS_KEY}})
    run = run_inventory(d, tmp_path, src, cfg)
    assert run["State"] == "Succeeded", run
    assert run["Objects"] == COUNT and run["Rows"] == COUNT, run
    mkey, man, columns, rows = read_report(s3, dest, run)
    assert man["sourceBucket"] == src
    assert columns == ["Bucket", "Key", "Size", "LastModifiedDate", "ETag",
                       "StorageClass", "IsMultipartUploaded",
                       "ReplicationStatus", "EncryptionStatus",
                       "ObjectLockRetainUntilDate", "ObjectLockMode",
                       "ObjectLockLegalHoldStatus",
                       "IntelligentTieringAccessTier", "BucketKeyStatus",
                       "ChecksumAlgorithm"]
    assert mkey.startswith("inv/%s/every-field/" % src)
    # Encrypted as configured: every file of the report is SSE-KMS.
    for k in [mkey] + [f["key"] for f in man["files"]]:
        h = s3.head_object(Bucket=dest, Key=k)
        assert h.get("ServerSideEncryption") == "aws:kms", k
    assert run["Bytes"] == sum(f["size"] for f in man["files"])

    assert sorted(r["Key"] for r in rows) == sorted(keys)
    for r in rows:
        k = r["Key"]
        o = listing[k]
        etag = o["ETag"].strip('"')
        want = {"Bucket": src, "Key": k, "Size": str(o["Size"]),
                "LastModifiedDate": ms_z(o["LastModified"]), "ETag": etag,
                "StorageClass": o.get("StorageClass", "STANDARD"),
                "IsMultipartUploaded": "true" if "-" in etag else "false"}
        want.update(expected_head_fields(heads[k]))
        if o.get("ChecksumAlgorithm"):
            want["ChecksumAlgorithm"] = o["ChecksumAlgorithm"][0]
        assert r == want, k
    assert {r["Key"]: r["IsMultipartUploaded"] for r in rows}["mpu/one"] \
        == "true"

    # The report is a job's manifest: the daemon's own inventory reader.
    etag = s3.head_object(Bucket=dest, Key=mkey)["ETag"].strip('"')
    spec = {"Operation": {"S3PutObjectTagging": {
                "TagSet": [{"Key": "inv", "Value": "seen"}]}},
            "Manifest": inventory_location(dest, mkey, etag),
            "Report": {"Enabled": False}, "Priority": 10, "RoleArn": ROLE,
            "ConfirmationRequired": False}
    job_id = create_job(d, tmp_path, spec)
    job = d.wait_status(job_id, ("Complete", "Failed", "Cancelled"),
                        timeout=RUN_TIMEOUT)
    assert job["Status"] == "Complete", job
    # Every row became a task; RGW refuses PutObjectTagging on an SSE-C
    # object without its key (400), so those two fail and the rest succeed.
    failed = report_rows(d, job_id, failed_only=True)
    assert sorted(urllib.parse.unquote(f["Key"]) for f in failed) == ssec
    assert all(f["HTTPStatusCode"] == 400 for f in failed), failed
    assert job["ProgressSummary"]["NumberOfTasksSucceeded"] == COUNT - 2, \
        job
    tags = taggings(s3, src, set(keys) - set(ssec), workers=32)
    assert [k for k, t in tags.items() if t.get("inv") != "seen"] == []


def test_all_versions(s3batchd, s3, make_bucket, tmp_path):
    src = make_bucket(versioned=True)
    dest = make_bucket()
    # 5,000 keys, 3,000 of them with a second version, 2,000 of those
    # deleted (a delete marker): 10,000 versions.
    keys = ["v/%04d" % i for i in range(COUNT // 2 - 6)] + AWKWARD
    put_objects(s3, src, keys, body=b"first", workers=32)
    put_objects(s3, src, keys[:3000], body=b"second", workers=32)
    pmap(lambda k: s3.delete_object(Bucket=src, Key=k), keys[:2000])
    versions = []
    for page in s3.get_paginator("list_object_versions").paginate(
            Bucket=src):
        for v in page.get("Versions", []):
            versions.append((v, False))
        for v in page.get("DeleteMarkers", []):
            versions.append((v, True))
    assert len(versions) == COUNT

    # TEST-ONLY knobs: data files of 3,000 rows, so that the report is
    # split, and every data file sent as a multipart upload (of one part).
    d = s3batchd(start=False)
    d.start(env={"S3BATCHD_TEST_INVENTORY_FILE_ROWS": "3000",
                 "S3BATCHD_TEST_INVENTORY_PUT_MAX": "0"})
    cfg = inv_config("all-versions", dest, versions="All",
                     fields=["Size", "ETag", "LastModifiedDate",
                             "StorageClass"], prefix="inv/deep/")
    run = run_inventory(d, tmp_path, src, cfg)
    assert run["State"] == "Succeeded", run
    assert run["Objects"] == COUNT and run["Rows"] == COUNT, run
    mkey, man, columns, rows = read_report(s3, dest, run)
    assert mkey.startswith("inv/deep/%s/all-versions/" % src)
    assert len(man["files"]) == 4       # 3,000, 3,000, 3,000 and 1,000
    log = d.logtext()
    assert "S3BATCHD_TEST_INVENTORY_FILE_ROWS=3000" in log
    assert "S3BATCHD_TEST_INVENTORY_PUT_MAX=0" in log
    # Sent in parts: a multipart ETag ("-1") on every data file.
    for f in man["files"]:
        assert s3.head_object(Bucket=dest, Key=f["key"])["ETag"].strip(
            '"').endswith("-1"), f
    assert columns == ["Bucket", "Key", "VersionId", "IsLatest",
                       "IsDeleteMarker", "Size", "LastModifiedDate", "ETag",
                       "StorageClass"]
    want = {}
    for v, marker in versions:
        vid = "" if v["VersionId"] == "null" else v["VersionId"]
        row = {"Bucket": src, "Key": v["Key"], "VersionId": vid,
               "IsLatest": "true" if v["IsLatest"] else "false",
               "IsDeleteMarker": "true" if marker else "false",
               "LastModifiedDate": ms_z(v["LastModified"]),
               "Size": "", "ETag": "", "StorageClass": ""}
        if not marker:
            row.update({"Size": str(v["Size"]),
                        "ETag": v["ETag"].strip('"'),
                        "StorageClass": v.get("StorageClass", "STANDARD")})
        want[(v["Key"], vid)] = row
    got = {(r["Key"], r["VersionId"]): r for r in rows}
    assert len(got) == len(rows) == COUNT
    assert got == want


def test_refused_destination_fails_clearly(s3batchd, s3, make_bucket,
                                           tmp_path):
    src = make_bucket()
    put_objects(s3, src, ["a", "b"])
    missing = "s3b-no-such-bucket-%s" % src[-12:]
    d = s3batchd()
    run = run_inventory(d, tmp_path, src,
                        inv_config("refused", missing, fields=["Size"]))
    assert run["State"] == "Failed", run
    assert run["FailureCode"] == "InventoryDestinationFailed", run
    assert missing in run["FailureReason"], run
    assert "NoSuchBucket" in run["FailureReason"], run
    assert not run.get("ReportLocation"), run
    with pytest.raises(botocore.exceptions.ClientError):
        s3.list_objects_v2(Bucket=missing)


def test_object_lock_fields(s3batchd, s3, make_bucket, tmp_path):
    src = make_bucket(object_lock=True)
    dest = make_bucket()
    until = datetime.datetime.now(datetime.timezone.utc) + \
        datetime.timedelta(days=1)
    plain = ["plain/%d" % i for i in range(4)]
    held = ["held/%d" % i for i in range(3)]
    kept = ["kept/%d" % i for i in range(3)]
    put_objects(s3, src, plain)
    put_objects(s3, src, held, ObjectLockLegalHoldStatus="ON")
    put_objects(s3, src, kept, ObjectLockMode="GOVERNANCE",
                ObjectLockRetainUntilDate=until)
    keys = plain + held + kept

    d = s3batchd()
    cfg = inv_config("lock", dest, fields=["ObjectLockRetainUntilDate",
                                           "ObjectLockMode",
                                           "ObjectLockLegalHoldStatus"])
    run = run_inventory(d, tmp_path, src, cfg)
    assert run["State"] == "Succeeded", run
    _, _, columns, rows = read_report(s3, dest, run)
    assert columns == ["Bucket", "Key", "ObjectLockRetainUntilDate",
                       "ObjectLockMode", "ObjectLockLegalHoldStatus"]
    got = {r["Key"]: r for r in rows}
    assert sorted(got) == sorted(keys)
    for k in keys:
        # boto3's own reads: ?legal-hold and ?retention.
        try:
            hold = s3.get_object_legal_hold(Bucket=src, Key=k)[
                "LegalHold"]["Status"]
        except botocore.exceptions.ClientError:
            hold = "OFF"
        try:
            ret = s3.get_object_retention(Bucket=src, Key=k)["Retention"]
        except botocore.exceptions.ClientError:
            ret = {}
        want = {"Bucket": src, "Key": k,
                "ObjectLockLegalHoldStatus": hold,
                "ObjectLockMode": ret.get("Mode", ""),
                "ObjectLockRetainUntilDate":
                    ms_z(ret["RetainUntilDate"]) if ret else ""}
        assert got[k] == want, k
    assert {got[k]["ObjectLockLegalHoldStatus"] for k in held} == {"ON"}
    assert {got[k]["ObjectLockMode"] for k in kept} == {"GOVERNANCE"}


def test_cut_short_leaves_no_report(proxied, s3, make_bucket, tmp_path):
    """A run whose manifest.checksum is refused (by tests/faultproxy.py, a
    TEST STAND-IN between the daemon and RGW: 403 AccessDenied to that one
    PUT) fails, and removes the data files and manifest.json it had
    written: nothing at the destination looks like a report."""
    src = make_bucket()
    dest = make_bucket()
    put_objects(s3, src, ["k/%d" % i for i in range(20)])
    d, proxy = proxied(rules=["error status=403 code=AccessDenied "
                              "method=PUT path=manifest\\.checksum$"],
                       endpoint_extra="probe = no\n")
    run = run_inventory(d, tmp_path, src,
                        inv_config("cut", dest, fields=["Size"]))
    assert run["State"] == "Failed", run
    assert run["FailureCode"] == "InventoryDestinationFailed", run
    assert "manifest.checksum" in run["FailureReason"], run
    assert "AccessDenied" in run["FailureReason"], run
    assert proxy.stats()["injected"].get("error", 0) >= 1

    def empty():
        return s3.list_objects_v2(Bucket=dest).get("KeyCount", 0) == 0
    wait_until("the run's files to be removed", empty, timeout=60,
               interval=0.2)


def test_retried_report_puts_succeed(proxied, s3, make_bucket, tmp_path):
    """Report PUTs that the destination throttles (by tests/faultproxy.py,
    a TEST STAND-IN: 503 SlowDown to the first data file's PUT and to the
    first manifest.json PUT) are retried: the run succeeds and its report
    is whole."""
    src = make_bucket()
    dest = make_bucket()
    keys = ["r/%d" % i for i in range(30)]
    put_objects(s3, src, keys)
    d, proxy = proxied(
        rules=["slowdown method=PUT path=/data/.*\\.csv\\.gz$ limit=1",
               "slowdown method=PUT path=manifest\\.json$ limit=1"],
        endpoint_extra="probe = no\nadaptive_rate = no\n")
    run = run_inventory(d, tmp_path, src,
                        inv_config("retried", dest, fields=["Size"]))
    assert run["State"] == "Succeeded", run
    assert proxy.stats()["injected"]["slowdown"] == 2, proxy.stats()
    mkey, man, columns, rows = read_report(s3, dest, run)
    assert sorted(r["Key"] for r in rows) == sorted(keys)
