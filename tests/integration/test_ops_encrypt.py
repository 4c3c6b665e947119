"""S3UpdateObjectEncryption against the real RGW, checked with boto3; and
the copy paths' answers (UploadPartCopy, CompleteMultipartUpload,
CreateMultipartUpload) verified through tests/faultproxy.py's "garbage"
kind (a hand-written stand-in: no real S3 server answers so).

This RGW (Ceph 16) has two KMS keys (testkey-1 and testkey-2, the testing
backend, tests/rgw/start-rgw.sh) and no SSE-S3 backend: it stores an object
PUT with AES256 unencrypted and says nothing. So the objects that change
here are SSE-KMS objects, from one key to the other, or asked for a bucket
key. RGW 16 also refuses CopyObject of an encrypted source (501
NotImplemented) and an in-place copy that changes only the key (400); the
daemon then moves the bytes itself (GET If-Match, PUT), which these tests
go through.
"""

import hashlib
import json
import os
import urllib.parse

import pytest

from s3b import (by_key, create_job, inventory_location, inventory_manifest,
                 job_spec, manifest_csv, report_rows, run_job)

KEY_ID = "testkey-1"
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/" + KEY_ID
KEY2_ID = "testkey-2"
KEY2_ARN = "arn:aws:kms:us-east-1:123456789012:key/" + KEY2_ID
SMALL_PARTS = "multipart_threshold = 5MiB\nmultipart_part_size = 5MiB\n"


def encrypt_op(bucket_key=None, arn=KEY_ARN):
    kms = {"KMSKeyArn": arn}
    if bucket_key is not None:
        kms["BucketKeyEnabled"] = bucket_key
    return {"S3UpdateObjectEncryption": {"ObjectEncryption": {"SSEKMS": kms}}}


def state(s3, bucket, key):
    """What must not change (data, metadata, tags, class) and what must."""
    h = s3.head_object(Bucket=bucket, Key=key)
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    tags = s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
    return {
        "md5": hashlib.md5(body).hexdigest(),
        "Metadata": h.get("Metadata"),
        "ContentType": h.get("ContentType"),
        "StorageClass": h.get("StorageClass", "STANDARD"),
        "Tags": sorted((t["Key"], t["Value"]) for t in tags),
        "SSE": h.get("ServerSideEncryption"),
        "KeyId": h.get("SSEKMSKeyId"),
        "LastModified": h["LastModified"],
    }


def put_kms(s3, bucket, key, body, **extra):
    s3.put_object(Bucket=bucket, Key=key, Body=body,
                  ServerSideEncryption="aws:kms", SSEKMSKeyId=KEY_ID,
                  Metadata={"owner": "enc", "n": str(len(body))},
                  ContentType="text/x-enc", Tagging="team=a&keep=yes",
                  **extra)


def unchanged(before, after):
    for k in ("md5", "Metadata", "ContentType", "StorageClass", "Tags"):
        assert before[k] == after[k], (k, before[k], after[k])
    assert after["SSE"] == "aws:kms", after
    assert after["KeyId"] in (KEY_ID, KEY_ARN), after


def test_bucket_key_on_rgw_is_no_change(s3batchd, s3, bucket, tmp_path):
    """SSE-KMS objects asked for a bucket key: RGW keeps no bucket keys and
    refuses the in-place copy as changing nothing; the task succeeds and
    says so, the objects are untouched (same ETag and Last-Modified)."""
    keys = ["a", "dir/b c"]
    for k in keys:
        put_kms(s3, bucket, k, os.urandom(1000 + len(k)))
    before = {k: s3.head_object(Bucket=bucket, Key=k) for k in keys}
    d = s3batchd()
    job_id, job = run_job(d, tmp_path, job_spec(encrypt_op(True),
                          confirmation=False),
                          manifest_csv(tmp_path / "m.csv", bucket, keys))
    rows = by_key(report_rows(d, job_id))
    assert job["Status"] == "Complete", job
    for k in keys:
        assert rows[k]["TaskStatus"] == "succeeded", json.dumps(rows)
        assert "keeps no bucket key" in rows[k]["ResultMessage"], rows[k]
        h = s3.head_object(Bucket=bucket, Key=k)
        assert (h["ETag"], h["LastModified"]) == \
            (before[k]["ETag"], before[k]["LastModified"]), k


def test_rewritten_through_the_daemon(proxied, s3, bucket, tmp_path):
    """RGW 16 answers CopyObject of an encrypted source 501 NotImplemented
    (it does so for a change of key; with one key here, the stand-in
    answers the in-place copies so, and everything else goes to RGW): the
    daemon GETs the object (If-Match) and PUTs it back with the new
    encryption. After: SSE-KMS with testkey-1, data, metadata, content
    type, tags and storage class as before, a new Last-Modified."""
    keys = ["a", "dir/b c", "ia"]
    for k in keys[:2]:
        put_kms(s3, bucket, k, os.urandom(1000 + len(k)))
    put_kms(s3, bucket, "ia", os.urandom(3000), StorageClass="STANDARD_IA")
    before = {k: state(s3, bucket, k) for k in keys}
    rules = ["error status=501 code=NotImplemented method=PUT limit=1 "
             "path=^/%s/%s$" % (bucket, urllib.parse.quote(k)) for k in keys]
    d, proxy = proxied(rules=rules, endpoint_extra="probe = no\n")
    job_id = create_job(d, tmp_path, job_spec(encrypt_op(True),
                        confirmation=False),
                        manifest_csv(tmp_path / "m.csv", bucket, keys))
    job = d.wait_status(job_id, ("Complete", "Failed"), timeout=120)
    rows = by_key(report_rows(d, job_id))
    assert job["Status"] == "Complete", job
    assert {k: rows[k]["TaskStatus"] for k in keys} == \
        dict.fromkeys(keys, "succeeded"), json.dumps(rows)
    assert proxy.stats()["injected"]["error"] == len(keys)
    for k in keys:
        after = state(s3, bucket, k)
        unchanged(before[k], after)
        assert after["LastModified"] >= before[k]["LastModified"], k
    assert before["ia"]["StorageClass"] == "STANDARD_IA"


def test_already_encrypted_as_asked_is_left_alone(s3batchd, s3, bucket,
                                                  tmp_path):
    """An object already SSE-KMS with the key (bucket key off, the
    default) succeeds without a write: its ETag and Last-Modified stay."""
    put_kms(s3, bucket, "same", b"x" * 100)
    h0 = s3.head_object(Bucket=bucket, Key="same")
    d = s3batchd()
    job_id, job = run_job(d, tmp_path, job_spec(encrypt_op(),
                          confirmation=False),
                          manifest_csv(tmp_path / "m.csv", bucket, ["same"]))
    rows = report_rows(d, job_id)
    assert [r["TaskStatus"] for r in rows] == ["succeeded"], rows
    assert "nothing to change" in json.dumps(rows), rows
    h1 = s3.head_object(Bucket=bucket, Key="same")
    assert (h1["ETag"], h1["LastModified"]) == (h0["ETag"],
                                                h0["LastModified"])


def test_unencrypted_and_sse_c_objects_fail(s3batchd, s3, bucket, tmp_path):
    """Amazon's UpdateObjectEncryption changes only encrypted objects: an
    unencrypted one (here also one PUT with AES256, which this RGW stores
    unencrypted) and an SSE-C one fail 400 InvalidRequest, untouched."""
    s3.put_object(Bucket=bucket, Key="plain", Body=b"p" * 10)
    s3.put_object(Bucket=bucket, Key="aes", Body=b"a" * 10,
                  ServerSideEncryption="AES256")
    ckey = os.urandom(32)
    s3.put_object(Bucket=bucket, Key="ssec", Body=b"c" * 10,
                  SSECustomerAlgorithm="AES256", SSECustomerKey=ckey)
    keys = ["plain", "aes", "ssec"]
    h0 = s3.head_object(Bucket=bucket, Key="plain")
    d = s3batchd()
    job_id, job = run_job(d, tmp_path, job_spec(encrypt_op(),
                          confirmation=False),
                          manifest_csv(tmp_path / "m.csv", bucket, keys))
    rows = by_key(report_rows(d, job_id))
    for k in keys:
        assert (rows[k]["TaskStatus"], rows[k]["HTTPStatusCode"],
                rows[k]["ErrorCode"]) == ("failed", 400, "InvalidRequest"), \
            rows[k]
    assert "SSE-C" in json.dumps(rows["ssec"])
    h1 = s3.head_object(Bucket=bucket, Key="plain")
    assert h1["LastModified"] == h0["LastModified"]
    assert h1.get("ServerSideEncryption") is None
    got = s3.get_object(Bucket=bucket, Key="ssec", SSECustomerAlgorithm="AES256",
                        SSECustomerKey=ckey)["Body"].read()
    assert got == b"c" * 10


def test_changed_after_pinning_fails_the_etag_guard(s3batchd, s3, bucket,
                                                    make_bucket, tmp_path):
    """A manifest that pins ETags (an inventory report): an object
    overwritten since fails 412 PreconditionFailed and keeps its new
    content; the others succeed."""
    keys = ["p%d" % i for i in range(4)]
    etags = {}
    for k in keys:
        put_kms(s3, bucket, k, os.urandom(200))
        etags[k] = s3.head_object(Bucket=bucket, Key=k)["ETag"].strip('"')
    inv = make_bucket()
    key, etag = inventory_manifest(s3, bucket, inv,
                                   [(bucket, k, etags[k]) for k in keys],
                                   "Bucket, Key, ETag")
    put_kms(s3, bucket, "p0", b"changed since")
    d = s3batchd()
    spec = job_spec(encrypt_op(True), confirmation=False)
    spec["Manifest"] = inventory_location(inv, key, etag)
    job_id = create_job(d, tmp_path, spec)
    job = d.wait_status(job_id, ("Complete", "Failed"), timeout=120)
    rows = by_key(report_rows(d, job_id))
    assert (rows["p0"]["HTTPStatusCode"], rows["p0"]["ErrorCode"]) == \
        (412, "PreconditionFailed"), rows["p0"]
    assert s3.get_object(Bucket=bucket, Key="p0")["Body"].read() == \
        b"changed since"
    for k in keys[1:]:
        assert rows[k]["TaskStatus"] == "succeeded", rows[k]
    assert job["ProgressSummary"]["NumberOfTasksSucceeded"] == 3, job


def test_multipart_source(s3batchd, s3, bucket, tmp_path):
    """An object above the multipart threshold (5 MiB here) is rewritten
    in parts: 11 MiB in three, the same bytes, metadata and tags after."""
    body = os.urandom(11 * 1024 * 1024)
    put_kms(s3, bucket, "big", body)
    before = state(s3, bucket, "big")
    d = s3batchd(daemon_conf=SMALL_PARTS)
    job_id, job = run_job(d, tmp_path, job_spec(encrypt_op(True),
                          confirmation=False),
                          manifest_csv(tmp_path / "m.csv", bucket, ["big"]))
    rows = report_rows(d, job_id)
    assert [r["TaskStatus"] for r in rows] == ["succeeded"], rows
    after = state(s3, bucket, "big")
    unchanged(before, after)
    assert after["md5"] == hashlib.md5(body).hexdigest()
    etag = s3.head_object(Bucket=bucket, Key="big")["ETag"]
    assert etag.strip('"').endswith("-3"), etag


@pytest.mark.parametrize("arn, message", [
    ("arn:aws:kms:us-east-1:123456789012:alias/mine",
     "does not match the pattern"),
    (None, "KMSKeyArn: required"),
])
def test_create_job_checks_the_key(s3batchd, bucket, tmp_path, arn,
                                   message):
    d = s3batchd()
    op = {"S3UpdateObjectEncryption": {"ObjectEncryption": {"SSEKMS": {}}}}
    if arn is not None:
        op = encrypt_op(arn=arn)
    spec = job_spec(op, confirmation=False)
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    r = d.ctl("create-job", "--cli-input-json", "file://%s" % path,
              "--manifest-file",
              str(manifest_csv(tmp_path / "m.csv", bucket, ["k"])))
    assert r.rc != 0, r
    assert message in (r.err + json.dumps(r.json)), r


# --------------------------------------------- the copy paths' answers

ERROR_200 = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>"
             "AccessDenied</Code><Message>Injected in a 200.</Message>"
             "</Error>")


def garbage(method, query, body=None):
    """A faultproxy rule: the calls of method whose query has query
    answered 2xx with body (the stand-in's HTML page when None)."""
    rule = {"kind": "garbage", "method": method, "query": query}
    if body is not None:
        rule["body"] = body
    return rule


@pytest.mark.parametrize("call, rule, code", [
    ("UploadPartCopy: an HTML page", garbage("PUT", "partNumber="),
     "InvalidResponse"),
    ("UploadPartCopy: an Error in a 200",
     garbage("PUT", "partNumber=", ERROR_200), "AccessDenied"),
    ("CompleteMultipartUpload: an HTML page", garbage("POST", "uploadId="),
     "InvalidResponse"),
    ("CompleteMultipartUpload: an Error in a 200",
     garbage("POST", "uploadId=", ERROR_200), "AccessDenied"),
    ("CreateMultipartUpload without an UploadId",
     garbage("POST", "uploads",
             "<InitiateMultipartUploadResult><Bucket>b</Bucket>"
             "</InitiateMultipartUploadResult>"), "InvalidResponse"),
])
def test_multipart_copy_answers_verified(proxied, s3, make_bucket, tmp_path,
                                         call, rule, code):
    """A multipart copy (11 MiB, 5 MiB parts) whose UploadPartCopy,
    CompleteMultipartUpload or CreateMultipartUpload is answered 2xx with
    something that is not that call's result fails with a clear code,
    never Successful; no object appears at the target and no upload is
    left open. The stand-in answers only the matched calls; RGW the rest."""
    src, dst = make_bucket(), make_bucket()
    s3.put_object(Bucket=src, Key="big", Body=os.urandom(11 * 1024 * 1024))
    s3.put_object(Bucket=src, Key="small", Body=b"s" * 100)
    rule = dict(rule, path="^/%s/" % dst)
    d, proxy = proxied(daemon_conf=SMALL_PARTS, rules=[rule],
                       endpoint_extra="probe = no\n")
    spec = job_spec({"S3PutObjectCopy": {
        "TargetResource": "arn:aws:s3:::%s" % dst}}, confirmation=False)
    job_id = create_job(d, tmp_path, spec,
                        manifest_csv(tmp_path / "m.csv", src,
                                     ["big", "small"]))
    job = d.wait_status(job_id, ("Complete", "Failed"), timeout=180)
    rows = by_key(report_rows(d, job_id))
    assert rows["small"]["TaskStatus"] == "succeeded", rows["small"]
    big = rows["big"]
    assert (big["TaskStatus"], big["ErrorCode"]) == ("failed", code), \
        (call, big)
    assert proxy.stats()["injected"]["garbage"] >= 1
    assert [o["Key"] for o in
            s3.list_objects_v2(Bucket=dst).get("Contents", [])] == \
        ["small"], call
    if "UploadId" not in call:
        assert s3.list_multipart_uploads(Bucket=dst).get("Uploads", []) \
            == [], call


def test_unknown_key_fails_with_the_servers_answer(s3batchd, s3, bucket,
                                                   tmp_path):
    """A key the server's KMS does not know. RGW refuses the in-place copy
    that changes only the key as no change (400 InvalidRequest), so the
    daemon goes through GET and PUT, and RGW refuses that PUT (403
    InvalidAccessKeyId, "Failed to retrieve the actual key"); the object
    keeps its key and its data."""
    put_kms(s3, bucket, "k", b"k" * 64)
    d = s3batchd()
    arn = "arn:aws:kms:us-east-1:123456789012:key/no-such-key"
    job_id, job = run_job(d, tmp_path, job_spec(encrypt_op(arn=arn),
                          confirmation=False),
                          manifest_csv(tmp_path / "m.csv", bucket, ["k"]))
    rows = report_rows(d, job_id)
    assert [(r["TaskStatus"], r["HTTPStatusCode"], r["ErrorCode"])
            for r in rows] == [("failed", 403, "InvalidAccessKeyId")], rows
    assert "no-such-key" in json.dumps(rows), rows
    after = state(s3, bucket, "k")
    assert (after["SSE"], after["KeyId"]) == ("aws:kms", KEY_ID)
    assert after["md5"] == hashlib.md5(b"k" * 64).hexdigest()


def test_key_changed_on_rgw(s3batchd, s3, bucket, tmp_path):
    """The real change of key, on RGW alone (no stand-in): SSE-KMS objects
    under testkey-1, one of them in STANDARD_IA, become SSE-KMS under
    testkey-2; data, metadata, content type, tags and storage class as
    before, and RGW decrypts them with the new key."""
    keys = ["one", "dir/two three", "ia"]
    for k in keys[:2]:
        put_kms(s3, bucket, k, os.urandom(2000 + len(k)))
    put_kms(s3, bucket, "ia", os.urandom(4000), StorageClass="STANDARD_IA")
    before = {k: state(s3, bucket, k) for k in keys}
    assert {before[k]["KeyId"] for k in keys} == {KEY_ID}, before
    d = s3batchd()
    job_id, job = run_job(d, tmp_path, job_spec(encrypt_op(arn=KEY2_ARN),
                          confirmation=False),
                          manifest_csv(tmp_path / "m.csv", bucket, keys))
    rows = by_key(report_rows(d, job_id))
    assert job["Status"] == "Complete", job
    assert {k: rows[k]["TaskStatus"] for k in keys} == \
        dict.fromkeys(keys, "succeeded"), json.dumps(rows)
    for k in keys:
        after = state(s3, bucket, k)
        for f in ("md5", "Metadata", "ContentType", "StorageClass", "Tags"):
            assert before[k][f] == after[f], (k, f, before[k][f], after[f])
        assert (after["SSE"], after["KeyId"]) == ("aws:kms", KEY2_ID), after


def test_servers(server, server_s3, server_bucket, server_daemon, tmp_path):
    """Against each server of the bench: Swift's s3api implements no
    server-side encryption (every x-amz-server-side-encryption answers 501),
    so the job is refused before any task runs, with the reason, and the
    object is untouched; RGW runs it (an object already as asked)."""
    b = server_bucket()
    if server.kind == "swift":
        server_s3.put_object(Bucket=b, Key="k", Body=b"plain")
    else:
        put_kms(server_s3, b, "k", b"kms")
    h0 = server_s3.head_object(Bucket=b, Key="k")
    d = server_daemon()
    job_id, job = run_job(d, tmp_path, job_spec(encrypt_op(),
                          confirmation=False),
                          manifest_csv(tmp_path / "m.csv", b, ["k"]),
                          timeout=180)
    ps = job["ProgressSummary"]
    if server.kind == "swift":
        assert job["Status"] == "Failed", job
        reasons = json.dumps(job.get("FailureReasons"))
        assert "does not support server-side encryption with KMS keys" \
            in reasons, reasons
        assert "S3UpdateObjectEncryption needs" in reasons, reasons
        assert ps["NumberOfTasksSucceeded"] + ps["NumberOfTasksFailed"] == 0
    else:
        assert job["Status"] == "Complete", job
        assert ps["NumberOfTasksSucceeded"] == 1, ps
    h1 = server_s3.head_object(Bucket=b, Key="k")
    assert (h1["ETag"], h1["LastModified"]) == (h0["ETag"],
                                                h0["LastModified"])


def test_copy_tagging_answer_verified(proxied, s3, make_bucket, tmp_path):
    """The PutObjectTagging that ends a copy with NewObjectTagging,
    answered 200 with an HTML page: the copy fails InvalidResponse (its
    tags are not known to be set), never Successful."""
    src, dst = make_bucket(), make_bucket()
    s3.put_object(Bucket=src, Key="k", Body=b"k" * 10)
    d, proxy = proxied(rules=["garbage method=PUT query=tagging path=^/%s/"
                              % dst], endpoint_extra="probe = no\n")
    spec = job_spec({"S3PutObjectCopy": {
        "TargetResource": "arn:aws:s3:::%s" % dst,
        "NewObjectTagging": [{"Key": "t", "Value": "1"}]}},
        confirmation=False)
    job_id = create_job(d, tmp_path, spec,
                        manifest_csv(tmp_path / "m.csv", src, ["k"]))
    d.wait_status(job_id, ("Complete", "Failed"), timeout=120)
    rows = report_rows(d, job_id)
    assert [(r["TaskStatus"], r["ErrorCode"]) for r in rows] == \
        [("failed", "InvalidResponse")], rows
    assert "PutObjectTagging" in rows[0]["ResultMessage"], rows
    assert proxy.stats()["injected"]["garbage"] == 1
