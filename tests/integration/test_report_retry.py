"""A completion report that could not be written is retried, and a failed
job keeps every reason it failed for (issue 8, Deliver 3); clone-job
--failed-tasks-only re-runs the tasks that never ran as well as those that
failed.

Real daemon, real s3batchctl, real RGW; the report bucket is missing at
first and created by the test (boto3) while the daemon retries.
"""

import pytest

from s3b import (create_bucket, create_job, job_spec, manifest_csv,
                 remove_bucket, report_csv_lines, unique_bucket_name)

THRESHOLD = "TaskFailureThresholdExceeded"
REPORT = "ReportFailed"


def report_spec(bucket, keys_bucket, operation=None, confirmation=False):
    spec = job_spec(operation, confirmation=confirmation)
    spec["Report"] = {"Enabled": True, "Bucket": "arn:aws:s3:::%s" % bucket,
                      "Format": "Report_CSV_20180820", "Prefix": "rr",
                      "ReportScope": "AllTasks"}
    return spec


def codes(job):
    return [f.get("FailureCode") for f in job.get("FailureReasons") or []]


@pytest.fixture
def late_bucket(s3):
    """A bucket name that does not exist yet; removed at the end if the
    test created it."""
    name = unique_bucket_name("s3b-late")
    yield name
    try:
        remove_bucket(s3, name)
    except Exception:   # never created: nothing to remove
        pass


@pytest.mark.timeout(180)
def test_report_bucket_created_later(s3batchd, s3, bucket, put_objects,
                                     late_bucket, tmp_path):
    keys = ["rr/%03d" % i for i in range(20)]
    put_objects(bucket, keys)
    d = s3batchd()
    job_id = create_job(d, tmp_path, report_spec(late_bucket, bucket),
                        manifest_csv(tmp_path / "m.csv", bucket, keys))
    # The report cannot be uploaded: the job waits in Completing and says
    # why, and tries again by itself.
    job = d.wait_job(job_id, "ReportFailed while Completing",
                     lambda j: REPORT in codes(j) or
                     j["Status"] in ("Complete", "Failed"), timeout=120)
    assert job["Status"] == "Completing", job
    create_bucket(s3, late_bucket)
    job = d.wait_status(job_id, ("Complete", "Failed"), timeout=120)
    assert job["Status"] == "Complete", job
    assert job["FailureReasons"] == [], job
    man, lines = report_csv_lines(s3, late_bucket, "rr", job_id)
    assert len(lines) == len(keys), lines


@pytest.mark.timeout(300)
def test_threshold_then_report_failure_keeps_both(s3batchd, s3, bucket,
                                                  late_bucket, tmp_path):
    """Every task fails (missing objects): the threshold fails the job, and
    its report cannot be written either. Both reasons are kept; once the
    bucket exists, retry-report writes the report and the job stays Failed
    for its real reason only."""
    keys = ["missing/%03d" % i for i in range(30)]
    d = s3batchd(daemon_conf="failure_min_tasks = 5\nmax_inflight = 2\n")
    job_id = create_job(d, tmp_path, report_spec(late_bucket, bucket),
                        manifest_csv(tmp_path / "m.csv", bucket, keys))
    # The daemon tries the report 8 times over about a minute, then gives up.
    job = d.wait_status(job_id, "Failed", timeout=200)
    assert codes(job) == [THRESHOLD, REPORT], job
    reasons = {f["FailureCode"]: f["FailureReason"]
               for f in job["FailureReasons"]}
    assert "tasks failed" in reasons[THRESHOLD], job
    assert "NoSuchBucket" in reasons[REPORT] or "bucket" in \
        reasons[REPORT].lower(), job

    # A job whose report did not fail cannot be retried.
    r = d.ctl("retry-report", "--job-id", "0" * 8 + "-0000-4000-8000-" +
              "0" * 12)
    assert r.rc != 0 and "NoSuchJob" in r.err, r

    create_bucket(s3, late_bucket)
    r = d.ok("retry-report", "--job-id", job_id)
    assert r == {"JobId": job_id}, r
    job = d.wait_job(job_id, "the report written",
                     lambda j: j["Status"] == "Failed" and
                     REPORT not in codes(j), timeout=120)
    assert codes(job) == [THRESHOLD], job
    man, lines = report_csv_lines(s3, late_bucket, "rr", job_id)
    assert len(lines) == job["ProgressSummary"]["NumberOfTasksFailed"], \
        (len(lines), job)
    # Now there is nothing to retry.
    r = d.ctl("retry-report", "--job-id", job_id)
    assert r.rc != 0 and "JobStatusException" in r.err, r


@pytest.mark.timeout(240)
def test_clone_failed_tasks_includes_never_run(s3batchd, s3, bucket,
                                               put_objects, tmp_path):
    """A job failed by its threshold leaves tasks that never ran: a
    --failed-tasks-only clone has them as well as the failed ones, and not
    the ones that succeeded."""
    ok = ["ok/%03d" % i for i in range(5)]
    put_objects(bucket, ok)
    missing = ["gone/%04d" % i for i in range(400)]
    keys = ok + missing
    d = s3batchd(daemon_conf="failure_min_tasks = 20\nmax_inflight = 2\n")
    spec = job_spec(confirmation=False)
    job_id = create_job(d, tmp_path, spec,
                        manifest_csv(tmp_path / "m.csv", bucket, keys))
    job = d.wait_status(job_id, ("Complete", "Failed"), timeout=180)
    assert job["Status"] == "Failed" and THRESHOLD in codes(job), job
    ps = job["ProgressSummary"]
    succeeded, failed = ps["NumberOfTasksSucceeded"], ps["NumberOfTasksFailed"]
    never_ran = len(keys) - succeeded - failed
    assert never_ran > 0, job

    clone = d.ok("clone-job", "--job-id", job_id, "--failed-tasks-only",
                 "--confirmation-required")
    cj = d.wait_status(clone["JobId"], "Suspended", timeout=60)
    assert cj["ProgressSummary"]["TotalNumberOfTasks"] == \
        len(keys) - succeeded == failed + never_ran, (job, cj)
    d.ok("update-job-status", "--job-id", clone["JobId"],
         "--requested-job-status", "Cancelled")
