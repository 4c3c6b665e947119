"""Time windows ([window NAME], docs/s3batchd.conf.5): the real s3batchd
tagging objects on the real RGW. A window that holds all day stands for
"now is inside the window"; its rate is changed by a reload (SIGHUP), as
an operator would, so no test waits for a clock.

- An endpoint whose window pauses it starts no request: its job stays
  Active with nothing done, status names the window; when the window
  allows the full rate, the job completes.
- A job tagged s3batchd:window is held while its window pauses it
  (status counts it), runs at the window's rate once that is a number,
  and can be paused and resumed while held.
"""

import signal
import urllib.request

from s3b import (create_job, endpoint_conf, free_ports, job_spec,
                 manifest_csv, put_objects, taggings, wait_until)

ALL_DAY = "days = *\nstart = 00:00\nend = 24:00\n"


def window(name, rate):
    return "[window %s]\n%srate = %s\n\n" % (name, ALL_DAY, rate)


def metric(port, line_start):
    """The value of the first /metrics line that starts so."""
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port,
                                timeout=10) as f:
        for line in f.read().decode().splitlines():
            if line.startswith(line_start):
                return float(line.rsplit(" ", 1)[1])
    raise AssertionError("no metric %s" % line_start)


def reload_with(d, daemon_conf, extra_conf):
    d.write_conf(daemon_conf=daemon_conf, extra_conf=extra_conf)
    d.signal(signal.SIGHUP)


def tagging_job(d, tmp_path, bucket, keys, tags=None):
    spec = job_spec({"S3PutObjectTagging": {"TagSet": [
        {"Key": "w", "Value": "1"}]}}, confirmation=False)
    if tags:
        spec["Tags"] = tags
    return create_job(d, tmp_path, spec,
                      manifest_csv(tmp_path / "m.csv", bucket, keys))


def test_endpoint_window_pauses_then_opens(s3batchd, rgw, s3, bucket,
                                           tmp_path):
    keys = ["e/%02d" % i for i in range(20)]
    put_objects(s3, bucket, keys)
    extra = "probe = no\nwindows = maint\n"
    ep = endpoint_conf(rgw.endpoint, extra=extra)
    port = free_ports(1)[0]
    dconf = "metrics_listen = 127.0.0.1:%d\n" % port
    d = s3batchd(daemon_conf=dconf, endpoint_extra=extra,
                 extra_conf=window("maint", "pause"))
    job_id = tagging_job(d, tmp_path, bucket, keys)
    d.wait_status(job_id, "Active", timeout=60)

    def held():
        eps = d.ok("status")["Endpoints"]
        return eps and eps[0].get("Window") == "maint" and \
            eps[0].get("WindowRate") == "pause"
    wait_until("the endpoint paused by window maint", held, timeout=60)
    job = d.describe(job_id)
    assert job["Status"] == "Active", job
    assert job["ProgressSummary"]["NumberOfTasksSucceeded"] == 0, job
    assert job["ProgressSummary"]["NumberOfTasksFailed"] == 0, job
    assert all(v == {} for v in taggings(s3, bucket, keys).values())
    assert metric(port, 's3batchd_endpoint_window_paused{endpoint="default"}'
                  ) == 1

    # Its tasks wait in the paused endpoint's queue: a pause of the job
    # does not wait for the window (they stay pending), a resume takes
    # them up again.
    d.ok("update-job-status", "--job-id", job_id,
         "--requested-job-status", "Paused")
    d.wait_status(job_id, "Paused", timeout=60)
    d.ok("update-job-status", "--job-id", job_id,
         "--requested-job-status", "Ready")
    d.wait_status(job_id, "Active", timeout=60)

    # The window now allows everything: the job runs to the end.
    reload_with(d, dconf, ep + window("maint", "full"))
    job = d.wait_status(job_id, ("Complete", "Failed"), timeout=120)
    assert job["Status"] == "Complete", job
    assert job["ProgressSummary"]["NumberOfTasksSucceeded"] == len(keys)
    assert all(v == {"w": "1"} for v in taggings(s3, bucket, keys).values())
    eps = d.ok("status")["Endpoints"]
    assert eps[0].get("WindowRate") == "full", eps
    assert metric(port, 's3batchd_endpoint_window_paused{endpoint="default"}'
                  ) == 0


def test_job_window_tag_holds_then_limits(s3batchd, rgw, s3, bucket,
                                          tmp_path):
    keys = ["j/%02d" % i for i in range(15)]
    put_objects(s3, bucket, keys)
    ep = endpoint_conf(rgw.endpoint, extra="probe = no\n")
    d = s3batchd(endpoint_extra="probe = no\n",
                 extra_conf=window("offhours", "pause"))
    job_id = tagging_job(d, tmp_path, bucket, keys,
                         tags=[{"Key": "s3batchd:window",
                                "Value": "offhours"}])
    d.wait_status(job_id, "Active", timeout=60)
    wait_until("the job held by its window",
               lambda: d.ok("status")["JobsHeldByWindow"] == 1, timeout=60)
    job = d.describe(job_id)
    assert job["ProgressSummary"]["NumberOfTasksSucceeded"] == 0, job
    assert "window offhours: no task starts" in d.logtext()

    # Held jobs can still be paused and resumed by the operator.
    d.ok("update-job-status", "--job-id", job_id,
         "--requested-job-status", "Paused")
    d.wait_status(job_id, "Paused", timeout=60)
    d.ok("update-job-status", "--job-id", job_id,
         "--requested-job-status", "Ready")
    d.wait_status(job_id, ("Active", "Ready"), timeout=60)

    # Inside a window with a rate: the tasks start, metered.
    reload_with(d, "", ep + window("offhours", "5"))
    job = d.wait_status(job_id, ("Complete", "Failed"), timeout=120)
    assert job["Status"] == "Complete", job
    assert job["ProgressSummary"]["NumberOfTasksSucceeded"] == len(keys)
    assert "window offhours: at most 5.0 task starts a second" in \
        d.logtext()
    assert d.ok("status")["JobsHeldByWindow"] == 0
