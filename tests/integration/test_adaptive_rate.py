"""The adaptive rate (AIMD, docs/HTTP.md): a real s3batchd tagging objects
on the real RGW through tests/faultproxy.py, a test stand-in that plays a
server's rate limit (503 SlowDown to every request past N a second, which
RGW does not do on demand).

The daemon must finish without a failed task, having cut its rate when
throttled; once the limit is lifted, its rate must climb back. No timing
is asserted: the rates seen are printed, the states are checked.
"""

import urllib.request

from s3b import (create_job, free_ports, job_spec, manifest_csv, put_objects,
                 taggings, wait_until)

LIMIT = 20              # the proxy's requests a second
DAEMON_CONF = ("max_attempts = 30\n"
               "retry_base = 20ms\n"
               "retry_max = 500ms\n")


def endpoint_state(d):
    eps = d.ok("status")["Endpoints"]
    assert len(eps) == 1, eps
    return eps[0]


def tag_all(d, tmp_path, bucket, keys, value, name):
    spec = job_spec({"S3PutObjectTagging": {"TagSet": [
        {"Key": "aimd", "Value": value}]}}, confirmation=False)
    return create_job(d, tmp_path, spec,
                      manifest_csv(tmp_path / name, bucket, keys))


def test_throttled_endpoint_settles_then_climbs(proxied, s3, bucket,
                                                tmp_path):
    keys = ["a/%04d" % i for i in range(500)]
    put_objects(s3, bucket, keys, workers=32)
    port = free_ports(1)[0]
    d, proxy = proxied(daemon_conf=DAEMON_CONF +
                       "metrics_listen = 127.0.0.1:%d\n" % port,
                       rules=["slowdown above_rps=%d" % LIMIT],
                       endpoint_extra="probe = no\n")
    proxy.reset_stats()

    job_id = tag_all(d, tmp_path, bucket, keys, "1", "m1.csv")
    job = d.wait_status(job_id, ("Complete", "Failed"), timeout=300)
    st = proxy.stats()
    ep = endpoint_state(d)
    print("throttled job: %d requests, %d SlowDown, endpoint %s" %
          (st["requests"], st["injected"].get("slowdown", 0), ep))
    assert job["Status"] == "Complete", (job, st)
    ps = job["ProgressSummary"]
    assert ps["NumberOfTasksSucceeded"] == len(keys), ps
    assert ps["NumberOfTasksFailed"] == 0, ps
    assert st["injected"]["slowdown"] > 0, st
    # The daemon saw the throttling and cut its rate; a limit is set now.
    assert ep["Throttled"] > 0 and ep["RateCuts"] >= 1, ep
    assert "RateLimit" in ep, ep
    cut = ep["RateLimit"]
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port,
                                timeout=10) as f:
        lines = f.read().decode().splitlines()
    want = {'s3batchd_endpoint_throttled_total{endpoint="default"}',
            's3batchd_endpoint_rate_cuts_total{endpoint="default"}',
            's3batchd_endpoint_rate_limit{endpoint="default"}'}
    got = {l.rsplit(" ", 1)[0]: float(l.rsplit(" ", 1)[1]) for l in lines
           if l.rsplit(" ", 1)[0] in want}
    assert set(got) == want and all(v > 0 for v in got.values()), got
    got = taggings(s3, bucket, keys)
    assert [k for k in keys if got[k] != {"aimd": "1"}] == []

    # The server's limit is lifted: while a second job runs, the daemon's
    # limit climbs above where the throttling left it (or is lifted).
    proxy.set_rules([], reset=True)
    job_id = tag_all(d, tmp_path, bucket, keys, "2", "m2.csv")
    seen = {}

    def climbed():
        seen["ep"] = endpoint_state(d)
        return seen["ep"].get("RateLimit", float("inf")) > cut

    wait_until("the rate limit to climb above %.1f/s" % cut, climbed,
               timeout=240, interval=0.2)
    job = d.wait_status(job_id, ("Complete", "Failed"), timeout=300)
    print("free job: endpoint %s, proxy %s" % (endpoint_state(d),
                                               proxy.stats()["requests"]))
    assert job["Status"] == "Complete", job
    assert job["ProgressSummary"]["NumberOfTasksFailed"] == 0
    assert proxy.stats()["injected"].get("slowdown", 0) == 0


def test_fixed_rate_does_not_adapt(proxied, s3, bucket, tmp_path):
    """adaptive_rate = no: throttling is retried, the rate is not cut."""
    keys = ["f/%03d" % i for i in range(100)]
    put_objects(s3, bucket, keys, workers=32)
    d, proxy = proxied(daemon_conf=DAEMON_CONF,
                       rules=["slowdown every=4"],
                       endpoint_extra="probe = no\nadaptive_rate = no\n")
    job_id = tag_all(d, tmp_path, bucket, keys, "f", "m.csv")
    job = d.wait_status(job_id, ("Complete", "Failed"), timeout=300)
    assert job["Status"] == "Complete", job
    assert job["ProgressSummary"]["NumberOfTasksFailed"] == 0
    ep = endpoint_state(d)
    assert ep["Throttled"] > 0 and ep["RateCuts"] == 0, ep
    assert "RateLimit" not in ep, ep
