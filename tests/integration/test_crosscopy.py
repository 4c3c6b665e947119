"""S3PutObjectCopy between two endpoints: the two RGW users "tester" and
"other" on the same RGW are two endpoints of the daemon ([endpoint default]
and [endpoint other]); a bucket of "other" is not reachable by a server-side
copy with tester's keys, so the daemon streams GET -> PUT (UploadPart above
the threshold). Every effect is checked with boto3."""

import hashlib
import os
import urllib.parse

from s3b import (bucket_conf, endpoint_conf, job_spec, manifest_csv,
                 put_objects, report_rows, run_job as run, tagging)

MIB = 1024 * 1024
SMALL_PARTS = "multipart_threshold = 5MiB\nmultipart_part_size = 5MiB\n"


def endpoint(name, url, user):
    return endpoint_conf(url, name, user, max_connections=16)


def other_conf(url, dst, name="other"):
    return endpoint(name, url, "other") + bucket_conf(dst, name)


def run_job(d, tmp_path, op, bucket, keys, versions=None, status="Complete"):
    spec = job_spec({"S3PutObjectCopy": op}, confirmation=False)
    if versions is not None:
        spec["Manifest"]["Spec"]["Fields"].append("VersionId")
    job_id, job = run(d, tmp_path, spec, manifest_csv(
        tmp_path / ("m-%d.csv" % len(keys)), bucket, keys, versions),
        timeout=180)
    assert job["Status"] == status, job
    return job_id, job


def md5(b):
    return hashlib.md5(b).hexdigest()


def test_cross_endpoint_sizes_metadata_tags(s3batchd, s3, rgw, make_bucket,
                                            tmp_path):
    other = rgw.client("other")
    src = make_bucket()
    dst = make_bucket(client=other)
    objs = {
        "empty": b"",
        "small/a b+c%.txt": b"hello, other endpoint",
        "exactly-5MiB": os.urandom(5 * MIB),
        "big/üñí": os.urandom(13 * MIB + 123),
        "bigger": os.urandom(21 * MIB),
    }
    for i, (k, data) in enumerate(objs.items()):
        kw = {}
        if i % 2 == 0:
            kw["Tagging"] = "k%d=v%d&team=storage" % (i, i)
        s3.put_object(Bucket=src, Key=k, Body=data,
                      ContentType="application/x-%d" % i,
                      CacheControl="max-age=%d" % i,
                      ContentDisposition="attachment",
                      Metadata={"idx": str(i), "colour": "blue"}, **kw)
    d = s3batchd(daemon_conf=SMALL_PARTS,
                 extra_conf=other_conf(rgw.endpoint, dst))
    job_id, job = run_job(d, tmp_path, {
        "TargetResource": "arn:aws:s3:::%s" % dst}, src, list(objs))
    ps = job["ProgressSummary"]
    assert ps["NumberOfTasksSucceeded"] == len(objs), report_rows(d, job_id)
    for i, (k, data) in enumerate(objs.items()):
        got = other.get_object(Bucket=dst, Key=k)
        src_head = s3.head_object(Bucket=src, Key=k)
        assert got["Body"].read() == data, k
        assert got["ContentType"] == "application/x-%d" % i, k
        assert got["CacheControl"] == "max-age=%d" % i, k
        assert got["ContentDisposition"] == "attachment", k
        assert got["Metadata"] == {"idx": str(i), "colour": "blue"}, k
        assert got["ContentLength"] == len(data)
        want = tagging(s3, src, k)
        assert tagging(other, dst, k) == want, k
        etag = got["ETag"].strip('"')
        if len(data) <= 5 * MIB:
            assert etag == md5(data) == src_head["ETag"].strip('"'), k
        else:
            nparts = (len(data) + 5 * MIB - 1) // (5 * MIB)
            assert etag.endswith("-%d" % nparts), (k, etag)
    assert other.list_multipart_uploads(Bucket=dst).get("Uploads", []) == []
    rows = report_rows(d, job_id)
    assert all(r["TaskStatus"] == "succeeded" for r in rows), rows


def test_cross_endpoint_replace_metadata_tags_prefix(s3batchd, s3, rgw,
                                                     make_bucket, tmp_path):
    other = rgw.client("other")
    src = make_bucket()
    dst = make_bucket(client=other)
    small, big = b"x" * 1000, os.urandom(11 * MIB)
    s3.put_object(Bucket=src, Key="s", Body=small, Metadata={"old": "1"},
                  Tagging="old=tag")
    s3.put_object(Bucket=src, Key="b", Body=big, Metadata={"old": "1"},
                  Tagging="old=tag")
    d = s3batchd(daemon_conf=SMALL_PARTS,
                 extra_conf=other_conf(rgw.endpoint, dst))
    run_job(d, tmp_path, {
        "TargetResource": "arn:aws:s3:::%s" % dst,
        "TargetKeyPrefix": "new/",
        "MetadataDirective": "REPLACE",
        "NewObjectMetadata": {"ContentType": "text/x-new",
                              "UserMetadata": {"fresh": "yes"}},
        "NewObjectTagging": [{"Key": "new", "Value": "tag"}],
        "ChecksumAlgorithm": "CRC32",   # left out across endpoints
    }, src, ["s", "b"])
    for k, data in (("s", small), ("b", big)):
        got = other.get_object(Bucket=dst, Key="new/" + k)
        assert got["Body"].read() == data
        assert got["ContentType"] == "text/x-new"
        assert got["Metadata"] == {"fresh": "yes"}
        assert tagging(other, dst, "new/" + k) == {"new": "tag"}


def test_cross_endpoint_version_and_failures(s3batchd, s3, rgw, make_bucket,
                                             tmp_path):
    other = rgw.client("other")
    src = make_bucket(versioned=True)
    dst = make_bucket(client=other)
    v1 = s3.put_object(Bucket=src, Key="doc", Body=b"one")["VersionId"]
    s3.put_object(Bucket=src, Key="doc", Body=b"two, newer")
    d = s3batchd(daemon_conf=SMALL_PARTS,
                 extra_conf=other_conf(rgw.endpoint, dst) +
                 other_conf(rgw.endpoint, "no-such-bucket-%d" % os.getpid(),
                            name="other2"))
    job_id, job = run_job(d, tmp_path, {
        "TargetResource": "arn:aws:s3:::%s" % dst}, src,
        ["doc", "missing"], versions=[v1, "null"])
    rows = {urllib.parse.unquote(r["Key"]): r for r in report_rows(d, job_id)}
    assert rows["doc"]["TaskStatus"] == "succeeded", rows
    assert rows["missing"]["TaskStatus"] == "failed", rows
    assert rows["missing"]["HTTPStatusCode"] == 404, rows
    assert other.get_object(Bucket=dst, Key="doc")["Body"].read() == b"one"
    # A target bucket that does not exist on the other endpoint.
    job_id, job = run_job(d, tmp_path, {
        "TargetResource": "arn:aws:s3:::no-such-bucket-%d" % os.getpid()},
        src, ["doc"])
    row = report_rows(d, job_id)[0]
    assert row["TaskStatus"] == "failed" and \
        row["ErrorCode"] == "NoSuchBucket", row


def test_cross_endpoint_retries_refetch(s3batchd, s3, rgw, make_bucket,
                                        fault_proxy, tmp_path):
    """The other endpoint through the fault proxy: part uploads that fail
    with 500 and a source GET cut short are retried; the result is whole."""
    other = rgw.client("other")
    src = make_bucket()
    dst = make_bucket(client=other)
    data = os.urandom(16 * MIB + 7)
    small = os.urandom(300 * 1024)
    s3.put_object(Bucket=src, Key="big", Body=data, Tagging="a=b")
    s3.put_object(Bucket=src, Key="small", Body=small)
    fault_proxy.set_rules([
        "internal method=PUT query=partNumber every=2 limit=2",
        "internal method=PUT path=/small$ limit=1",
        "truncate method=GET path=/big$ limit=1",
    ])
    # Both sides through the proxy: the source as tester, the target as
    # other.
    d = s3batchd(daemon_conf=SMALL_PARTS,
                 extra_conf=other_conf(fault_proxy.endpoint, dst) +
                 endpoint("src", fault_proxy.endpoint, "tester") +
                 bucket_conf(src, "src"))
    run_job(d, tmp_path, {"TargetResource": "arn:aws:s3:::%s" % dst}, src,
            ["big", "small"])
    assert other.get_object(Bucket=dst, Key="big")["Body"].read() == data
    assert other.get_object(Bucket=dst, Key="small")["Body"].read() == small
    assert tagging(other, dst, "big") == {"a": "b"}
    injected = fault_proxy.stats()["injected"]
    assert injected.get("internal", 0) == 3, injected
    assert injected.get("truncate", 0) == 1, injected
    assert other.list_multipart_uploads(Bucket=dst).get("Uploads", []) == []


def test_same_endpoint_stays_server_side(s3batchd, s3, make_bucket,
                                         fault_proxy, tmp_path):
    """Two buckets on the same endpoint: a CopyObject, no GET of the data
    (the proxy would see it)."""
    src = make_bucket()
    dst = make_bucket()
    put_objects(s3, src, ["a", "b"], body=b"z" * 4096)
    d = s3batchd(extra_conf=endpoint("px", fault_proxy.endpoint, "tester") +
                 bucket_conf(src, "px") + bucket_conf(dst, "px"))
    fault_proxy.set_rules(["error method=GET path=/[ab]$ status=418 "
                           "code=NoDataGetsExpected"])
    run_job(d, tmp_path, {"TargetResource": "arn:aws:s3:::%s" % dst}, src,
            ["a", "b"])
    assert s3.get_object(Bucket=dst, Key="a")["Body"].read() == b"z" * 4096
    assert fault_proxy.stats()["injected"].get("error", 0) == 0
