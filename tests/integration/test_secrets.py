"""Secrets and files (issue 8): the real s3batchd, s3batchctl and RGW.

- the daemon is non-dumpable: run as an unprivileged system user (created
  here, removed after), the files in its /proc/PID are owned by root
  (proc(5): what a dumpable attribute of 0 does) and that user's other processes cannot
  read its environment or memory, while a dumpable process of the same
  user shows its own uid;
- started under umask 000, every file and directory it creates in its
  state directory (the directory, database, WAL, SHM, spool, after a job
  with a report) has no bits for others and no group write: 0600/0640
  files, 0700/0750 directories;
- `s3batchd -n` refuses a ca_file that is missing, unreadable or not PEM,
  naming the section and the file, and accepts a real CA bundle; a
  reload (SIGHUP) with such a ca_file is refused;
- a configuration starting with a UTF-8 BOM is read (-n and a start).
"""

import os
import pathlib
import pwd
import signal
import socket
import stat
import subprocess
import tempfile
import time

import pytest

from s3b import (Daemon, REGION, binary, endpoint_conf, job_spec,
                 manifest_csv, put_objects, system_user, wait_until,
                 write_json)

CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


@pytest.fixture(scope="module")
def sysuser():
    """An unprivileged system user, removed after the module."""
    with system_user("s3bsec", "test_secrets") as pw:
        yield pw


def check_conf(text, tmp_path, name="check.conf"):
    """s3batchd -n on a file holding text: (exit status, stderr)."""
    conf = tmp_path / name
    conf.write_bytes(text if isinstance(text, bytes) else text.encode())
    os.chmod(conf, 0o600)
    p = subprocess.run([binary("s3batchd"), "-n", "-f", str(conf)],
                       capture_output=True, text=True, timeout=60)
    return p.returncode, p.stderr, conf


def wait_socket(path, proc, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "s3batchd exited with %d" % proc.returncode
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(str(path))
            return
        except OSError:
            time.sleep(0.05)
        finally:
            s.close()
    raise AssertionError("s3batchd did not listen on %s within %gs" %
                         (path, timeout))


def test_daemon_is_not_dumpable(sysuser):
    """The daemon, run as sysuser: /proc/PID/environ is root's and cannot
    be read by another process of sysuser; a sleep of sysuser (dumpable)
    has it owned by sysuser and readable."""
    top = pathlib.Path(tempfile.mkdtemp(prefix="s3b-sec-"))
    os.chmod(top, 0o755)
    os.chown(top, sysuser.pw_uid, sysuser.pw_gid)
    conf = top / "s3batchd.conf"
    conf.write_text("[daemon]\nstate_dir = %s/state\ncontrol_socket = "
                    "%s/ctl.sock\n" % (top, top))
    os.chown(conf, sysuser.pw_uid, sysuser.pw_gid)
    os.chmod(conf, 0o600)
    logf = open(top / "s3batchd.log", "wb")
    as_user = dict(user=sysuser.pw_uid, group=sysuser.pw_gid,
                   extra_groups=[])
    d = subprocess.Popen([binary("s3batchd"), "-d", "-f", str(conf)],
                         stdout=logf, stderr=subprocess.STDOUT, **as_user)
    other = subprocess.Popen(["sleep", "120"], **as_user)
    try:
        wait_socket(top / "ctl.sock", d)
        with open("/proc/%d/status" % d.pid) as f:
            uids = [l for l in f if l.startswith("Uid:")][0].split()[1:]
        assert int(uids[0]) == sysuser.pw_uid, uids
        assert os.stat("/proc/%d/environ" % d.pid).st_uid == 0
        assert os.stat("/proc/%d/environ" % other.pid).st_uid == \
            sysuser.pw_uid
        probe = ("import sys\ntry:\n open('/proc/%s/environ','rb').read()\n"
                 " print('read')\nexcept PermissionError:\n print('denied')")
        r = subprocess.run(["python3", "-c", probe % d.pid],
                           capture_output=True, text=True, timeout=60,
                           **as_user)
        assert r.stdout.strip() == "denied", r
        r = subprocess.run(["python3", "-c", probe % other.pid],
                           capture_output=True, text=True, timeout=60,
                           **as_user)
        assert r.stdout.strip() == "read", r
        # Still a working daemon.
        r = subprocess.run([binary("s3batchctl"), "-s", str(top / "ctl.sock"),
                            "--output", "json", "list-jobs"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r
    finally:
        other.kill()
        other.wait()
        d.terminate()
        d.wait(60)
        logf.close()
        subprocess.run(["rm", "-rf", str(top)])


def modes_under(top):
    """(path, mode) of everything under top."""
    out = []
    for dirpath, dirnames, filenames in os.walk(top):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            out.append((p, stat.S_IMODE(os.lstat(p).st_mode),
                        stat.S_ISDIR(os.lstat(p).st_mode)))
    return out


def test_files_private_under_umask_000(rgw, s3, make_bucket, tmp_path):
    """Started under umask 000, the daemon runs a job with a report (to RGW)
    and holds another in its spool; its state directory and everything in
    it is 0600/0640 (files) or 0700/0750 (directories)."""
    bucket = make_bucket()
    rep = make_bucket()
    keys = ["sec/%d" % i for i in range(5)]
    put_objects(s3, bucket, keys)
    d = Daemon(extra_conf=endpoint_conf(rgw.endpoint,
                                        keys=rgw.users["tester"]))
    os.chmod(d.conf, 0o600)
    old = os.umask(0)
    try:
        d.start()
    finally:
        os.umask(old)
    try:
        man = manifest_csv(tmp_path / "m.csv", bucket, keys)
        spec = job_spec(confirmation=False)
        spec["Report"] = {"Enabled": True, "Bucket": "arn:aws:s3:::%s" % rep,
                          "Format": "Report_CSV_20180820", "Prefix": "r",
                          "ReportScope": "AllTasks"}
        uri = write_json(tmp_path / "job.json", spec)
        r = d.ctl("create-job", "--cli-input-json", uri,
                  "--manifest-file", man)
        assert r.rc == 0, r
        job = d.wait_status(r.json["JobId"], "Complete", timeout=120)
        assert job["ProgressSummary"]["NumberOfTasksSucceeded"] == 5
        # One more, held for confirmation: its spool and rows stay.
        uri = write_json(tmp_path / "held.json", job_spec())
        r = d.ctl("create-job", "--cli-input-json", uri,
                  "--manifest-file", man)
        assert r.rc == 0, r
        d.wait_status(r.json["JobId"], "Suspended")
        found = modes_under(d.state) + [
            (str(d.state), stat.S_IMODE(os.stat(d.state).st_mode), True)]
        names = [os.path.basename(p) for p, _, _ in found]
        assert any(n.endswith("-wal") for n in names), names
        bad = [(p, oct(m)) for p, m, isdir in found
               if m & 0o027 or (not isdir and m & 0o111)]
        assert not bad, bad
        print("umask 000: %s" % sorted((os.path.relpath(p, d.state),
                                         oct(m)) for p, m, _ in found))
    finally:
        d.stop()
        d.remove()


def test_ca_file_checked_at_n(tmp_path):
    """-n: a missing ca_file, one that is not PEM, one without a
    certificate, each refused naming [endpoint NAME] and the file; the
    system's CA bundle accepted."""
    ep = ("[endpoint default]\nurl = https://127.0.0.1:1\nregion = %s\n"
          "access_key_id = AK\nsecret_access_key = SK\nca_file = %%s\n" %
          REGION)
    missing = tmp_path / "missing.pem"
    rc, err, _ = check_conf(ep % missing, tmp_path)
    assert rc == 1 and "[endpoint default] ca_file %s" % missing in err \
        and "No such file" in err, err
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all!\n"
                       "-----END CERTIFICATE-----\n")
    rc, err, _ = check_conf(ep % garbage, tmp_path)
    assert rc == 1 and "does not parse as PEM" in err and \
        str(garbage) in err, err
    empty = tmp_path / "empty.pem"
    empty.write_text("just text\n")
    rc, err, _ = check_conf(ep % empty, tmp_path)
    assert rc == 1 and "no PEM certificate" in err, err
    if not os.path.exists(CA_BUNDLE):
        pytest.fail("%s is missing: install ca-certificates" % CA_BUNDLE,
                    pytrace=False)
    rc, err, _ = check_conf(ep % CA_BUNDLE, tmp_path)
    assert rc == 0, err
    assert "is valid" in err


def test_bom_config_is_read(tmp_path):
    """A file starting with a UTF-8 BOM: -n reads it (the key on line 1
    counts), and the daemon starts with it and answers."""
    top = pathlib.Path(tempfile.mkdtemp(prefix="s3b-bom-"))
    try:
        text = ("[daemon]\nstate_dir = %s/state\ncontrol_socket = "
                "%s/ctl.sock\nmax_inflight = 17\n" % (top, top))
        rc, err, conf = check_conf(b"\xef\xbb\xbf" + text.encode(), top,
                                   "bom.conf")
        assert rc == 0, err
        out = subprocess.run([binary("s3batchd"), "-n", "-f", str(conf)],
                             capture_output=True, text=True,
                             timeout=60).stdout
        assert "max_inflight = 17" in out, out
        log = open(top / "log", "wb")
        d = subprocess.Popen([binary("s3batchd"), "-d", "-f", str(conf)],
                             stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_socket(top / "ctl.sock", d)
            r = subprocess.run([binary("s3batchctl"), "-s",
                                str(top / "ctl.sock"), "--output", "json",
                                "list-jobs"], capture_output=True, text=True,
                               timeout=60)
            assert r.returncode == 0, r
        finally:
            d.terminate()
            d.wait(60)
            log.close()
    finally:
        subprocess.run(["rm", "-rf", str(top)])


def test_ca_file_checked_on_reload(tmp_path):
    """SIGHUP with a ca_file that is not PEM: the reload is refused, naming
    the file, and the running configuration stays (the daemon answers)."""
    good = ("[endpoint default]\nurl = https://127.0.0.1:1\nregion = %s\n"
            "access_key_id = AK\nsecret_access_key = SK\nca_file = %%s\n" %
            REGION)
    d = Daemon(extra_conf=good % CA_BUNDLE)
    os.chmod(d.conf, 0o600)
    d.start()
    try:
        garbage = d.dir / "garbage.pem"
        garbage.write_text("-----BEGIN CERTIFICATE-----\n!!\n"
                           "-----END CERTIFICATE-----\n")
        d.write_conf(extra_conf=good % garbage)
        d.signal(signal.SIGHUP)
        wait_until("the reload refused",
                   lambda: "keeping the running configuration" in
                   d.logtext(), 30)
        line = [l for l in d.logtext().splitlines()
                if "keeping the running configuration" in l][-1]
        assert str(garbage) in line and "PEM" in line, line
        assert d.ok("list-jobs")["Jobs"] == []
    finally:
        d.stop()
        d.remove()
