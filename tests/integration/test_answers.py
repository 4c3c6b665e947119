"""Answers are verified: a 2xx whose body is not what S3 answers for that
call is a failure with a clear code, never a success. The server that
answers so is tests/faultproxy.py's "garbage" kind (a hand-written
stand-in: no real S3 server answers a CopyObject with an HTML page), in
front of the real RGW; results are checked with boto3 straight at RGW.
"""

from s3b import (by_key, create_job, job_spec, list_keys, manifest_csv,
                 put_objects, report_rows)


def test_copy_200_with_garbage_is_a_failure(proxied, s3, make_bucket,
                                            tmp_path):
    """A single-request CopyObject answered 200 with an HTML page (not a
    CopyObjectResult, not an Error) fails that task with InvalidResponse;
    the other copies, answered by RGW, succeed."""
    src, dst = make_bucket(), make_bucket()
    keys = ["a/%02d" % i for i in range(10)] + ["bad/one"]
    put_objects(s3, src, keys)
    # Only the copy of bad/one (a PUT carrying x-amz-copy-source to dst)
    # is answered by the stand-in; HEADs and the other PUTs go to RGW.
    d, proxy = proxied(rules=["garbage method=PUT path=^/%s/bad/" % dst],
                       endpoint_extra="probe = no\n")
    spec = job_spec({"S3PutObjectCopy": {
        "TargetResource": "arn:aws:s3:::%s" % dst}}, confirmation=False)
    job_id = create_job(d, tmp_path, spec,
                        manifest_csv(tmp_path / "m.csv", src, keys))
    job = d.wait_status(job_id, ("Complete", "Failed"), timeout=120)
    assert job["Status"] == "Complete", job
    ps = job["ProgressSummary"]
    assert (ps["NumberOfTasksSucceeded"], ps["NumberOfTasksFailed"]) == \
        (len(keys) - 1, 1), ps
    rows = by_key(report_rows(d, job_id))
    bad = rows["bad/one"]
    assert bad["TaskStatus"] == "failed", bad
    assert bad["ErrorCode"] == "InvalidResponse", bad
    assert bad["HTTPStatusCode"] == 200, bad
    assert proxy.stats()["injected"]["garbage"] == 1
    # RGW never saw that copy; it saw all the others.
    assert list_keys(s3, dst) == sorted(keys[:-1])
