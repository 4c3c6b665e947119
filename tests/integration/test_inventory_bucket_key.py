"""The Bucket Key workflow of docs/examples/inventory-bucket-key.json, end
to end on RGW with its testing KMS backend (issue 9): an inventory with
EncryptionStatus and BucketKeyStatus -> its JobFilter (SSE-KMS objects
without a bucket key) -> a job that re-encrypts them -> the completion
report. The real daemon and s3batchctl, checked with boto3.

What RGW 16 does here (docs/INVENTORY.md): it keeps no S3 Bucket Keys, so
every SSE-KMS object reports BucketKeyStatus DISABLED; and it refuses the
example's in-place S3PutObjectCopy: an in-place copy that changes only the
encryption (here, only the bucket key) answers 400 InvalidRequest "copy to
itself" (and one onto another key of an SSE-KMS source 501
NotImplemented). So the first job, the example as it is, fails each task
with RGW's answer, and the objects stay as they were; the second runs the
same configuration with S3UpdateObjectEncryption, which moves the bytes
through the daemon where RGW refuses the copy, onto the second test key.
"""

import json
import pathlib

from s3b import put_objects, report_rows, by_key, wait_until, write_json

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "docs" / \
    "examples" / "inventory-bucket-key.json"
KEY2_ARN = "arn:aws:kms:us-east-1:123456789012:key/testkey-2"
TIMEOUT = 180


def run_config(d, s3, tmp_path, src, dest, cfg):
    """Put cfg, run it now, confirm its job; the run and the ended job."""
    d.ok("put-bucket-inventory-configuration", "--bucket", src, "--id",
         cfg["Id"], "--inventory-configuration",
         write_json(tmp_path / ("inv-%s.json" % cfg["Id"]), cfg))
    run_id = d.ok("run-inventory", "--bucket", src, "--id",
                  cfg["Id"])["RunId"]

    def ended():
        rs = [r for r in d.ok("list-inventory-runs", "--bucket", src, "--id",
                              cfg["Id"])["Runs"] if r["RunId"] == run_id]
        return rs[0] if rs and rs[0]["State"] != "Running" else None
    run = wait_until("inventory run " + run_id, ended, timeout=TIMEOUT)
    assert run["State"] == "Succeeded", run
    assert "JobError" not in run, run
    key = run["ReportLocation"].split("/", 1)[1]
    manifest = json.loads(s3.get_object(Bucket=dest, Key=key)["Body"].read())
    assert manifest["fileSchema"] == ("Bucket, Key, Size, ETag, "
                                      "EncryptionStatus, BucketKeyStatus")
    # ConfirmationRequired: the job waits for a person.
    d.wait_status(run["JobId"], "Suspended", timeout=TIMEOUT)
    d.ok("update-job-status", "--job-id", run["JobId"],
         "--requested-job-status", "Ready")
    job = d.wait_status(run["JobId"], ("Complete", "Failed"), timeout=TIMEOUT)
    return run, job


def test_bucket_key_workflow(s3batchd, s3, make_bucket, tmp_path):
    src, dest = make_bucket(), make_bucket()
    plain = ["photo/plain.jpg"]
    kms = ["photo/a.jpg", "photo/b c.jpg", "photo/ü+%.jpg"]
    put_objects(s3, src, plain, body=b"p" * 300)
    put_objects(s3, src, kms, body=b"k" * 300, ServerSideEncryption="aws:kms",
                SSEKMSKeyId="testkey-1", Metadata={"camera": "x100"})
    cfg = json.loads(EXAMPLE.read_text())
    dest_arn = "arn:aws:s3:::%s" % dest
    cfg["Destination"]["S3BucketDestination"]["Bucket"] = dest_arn
    # RGW has no SSE-S3 backend (it would store the report in the clear
    # and say nothing): the report objects here are not encrypted.
    del cfg["Destination"]["S3BucketDestination"]["Encryption"]
    tpl = cfg["JobTemplate"]
    tpl["Operation"]["S3PutObjectCopy"]["TargetResource"] = \
        "arn:aws:s3:::%s" % src
    tpl["Report"]["Bucket"] = dest_arn
    d = s3batchd()

    # The example as it is: the filter selects the SSE-KMS objects only;
    # RGW refuses each in-place copy (400), nothing changes.
    run, job = run_config(d, s3, tmp_path, src, dest, cfg)
    assert job["Status"] == "Complete", job
    rows = by_key(report_rows(d, run["JobId"]))
    assert sorted(rows) == sorted(kms), rows
    assert {(r["TaskStatus"], r["HTTPStatusCode"], r["ErrorCode"])
            for r in rows.values()} == {("failed", 400, "InvalidRequest")}, \
        json.dumps(rows)
    for k in kms:
        assert s3.head_object(Bucket=src, Key=k)["SSEKMSKeyId"] == \
            "testkey-1", k
    listed = s3.list_objects_v2(Bucket=dest, Prefix="batch/bucket-key/")
    assert any(o["Key"].endswith("manifest.json")
               for o in listed.get("Contents", [])), listed

    # The same workflow with S3UpdateObjectEncryption, onto testkey-2.
    cfg["Id"] = "bucket-key-update"
    tpl["Operation"] = {"S3UpdateObjectEncryption": {"ObjectEncryption": {
        "SSEKMS": {"KMSKeyArn": KEY2_ARN, "BucketKeyEnabled": True}}}}
    run, job = run_config(d, s3, tmp_path, src, dest, cfg)
    assert job["Status"] == "Complete", job
    rows = by_key(report_rows(d, run["JobId"]))
    assert sorted(rows) == sorted(kms), rows
    for k in kms:
        assert rows[k]["TaskStatus"] == "succeeded", json.dumps(rows[k])
        h = s3.head_object(Bucket=src, Key=k)
        assert (h["ServerSideEncryption"], h["SSEKMSKeyId"]) == \
            ("aws:kms", "testkey-2"), (k, h)
        assert h["Metadata"] == {"camera": "x100"}, (k, h)
        assert s3.get_object(Bucket=src, Key=k)["Body"].read() == \
            b"k" * 300, k
    h = s3.head_object(Bucket=src, Key=plain[0])
    assert "ServerSideEncryption" not in h, h
