/* Unit tests for the job state machine, its timers, and the SQLite store. */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "s3batchd.h"
#include "job.h"
#include "store.h"
#include "unit.h"

static void
test_names(void)
{
	enum job_status	s;
	int		i;

	for (i = 0; i < JOB_NSTATUS; i++) {
		CHECK_INT(job_status_parse(job_status_name((enum job_status)i),
		    &s), 0);
		CHECK_INT(s, i);
	}
	CHECK_INT(job_status_parse("active", &s), -1);
	CHECK(job_status_terminal(JOB_COMPLETE));
	CHECK(job_status_terminal(JOB_FAILED));
	CHECK(job_status_terminal(JOB_CANCELLED));
	CHECK(!job_status_terminal(JOB_FAILING));
}

static void
test_transitions(void)
{
	/* The lifecycle of DESIGN §2 is reachable... */
	CHECK(job_transition_allowed(JOB_NEW, JOB_PREPARING, JOB_BY_DAEMON));
	CHECK(job_transition_allowed(JOB_PREPARING, JOB_SUSPENDED,
	    JOB_BY_DAEMON));
	CHECK(job_transition_allowed(JOB_SUSPENDED, JOB_READY, JOB_BY_USER));
	CHECK(job_transition_allowed(JOB_READY, JOB_ACTIVE, JOB_BY_DAEMON));
	CHECK(job_transition_allowed(JOB_ACTIVE, JOB_COMPLETING,
	    JOB_BY_DAEMON));
	CHECK(job_transition_allowed(JOB_COMPLETING, JOB_COMPLETE,
	    JOB_BY_DAEMON));
	CHECK(job_transition_allowed(JOB_ACTIVE, JOB_FAILING, JOB_BY_DAEMON));
	CHECK(job_transition_allowed(JOB_FAILING, JOB_FAILED, JOB_BY_DAEMON));
	CHECK(job_transition_allowed(JOB_ACTIVE, JOB_PAUSING, JOB_BY_USER));
	CHECK(job_transition_allowed(JOB_PAUSING, JOB_PAUSED, JOB_BY_DAEMON));
	CHECK(job_transition_allowed(JOB_CANCELLING, JOB_CANCELLED,
	    JOB_BY_DAEMON));
	/* ... and the rest is not. */
	CHECK(!job_transition_allowed(JOB_SUSPENDED, JOB_READY,
	    JOB_BY_DAEMON));
	CHECK(!job_transition_allowed(JOB_COMPLETE, JOB_ACTIVE,
	    JOB_BY_DAEMON));
	CHECK(!job_transition_allowed(JOB_CANCELLED, JOB_CANCELLING,
	    JOB_BY_USER));
	CHECK(!job_transition_allowed(JOB_NEW, JOB_ACTIVE, JOB_BY_DAEMON));
	CHECK(!job_transition_allowed(JOB_READY, JOB_COMPLETE,
	    JOB_BY_DAEMON));
}

static void
test_requests(void)
{
	static const struct {
		enum job_status	 from;
		const char	*req;
		int		 ok;
		enum job_status	 to;
	} cases[] = {
		{ JOB_SUSPENDED, "Ready", 1, JOB_READY },
		{ JOB_PAUSED, "Ready", 1, JOB_READY },
		{ JOB_ACTIVE, "Ready", 0, 0 },
		{ JOB_COMPLETE, "Ready", 0, 0 },
		{ JOB_ACTIVE, "Paused", 1, JOB_PAUSING },
		{ JOB_READY, "Paused", 1, JOB_PAUSED },
		{ JOB_SUSPENDED, "Paused", 0, 0 },
		{ JOB_SUSPENDED, "Cancelled", 1, JOB_CANCELLING },
		{ JOB_ACTIVE, "Cancelled", 1, JOB_CANCELLING },
		{ JOB_PREPARING, "Cancelled", 1, JOB_CANCELLING },
		{ JOB_COMPLETE, "Cancelled", 0, 0 },
		{ JOB_CANCELLING, "Cancelled", 0, 0 },
		{ JOB_ACTIVE, "Active", 0, 0 },
		{ JOB_ACTIVE, "cancelled", 0, 0 },
	};
	enum job_status	 to;
	char		*cause;
	size_t		 i;

	for (i = 0; i < nitems(cases); i++) {
		cause = NULL;
		CHECK_INT(job_user_request(cases[i].from, cases[i].req, &to,
		    &cause) == 0, cases[i].ok);
		if (cases[i].ok) {
			CHECK_INT(to, cases[i].to);
			/* Every user request lands on an allowed transition. */
			CHECK(job_transition_allowed(cases[i].from, to,
			    JOB_BY_USER));
		} else
			CHECK(cause != NULL);
		free(cause);
	}
}

static void
test_timers(void)
{
	struct job	j;

	memset(&j, 0, sizeof j);
	j.status = JOB_SUSPENDED;
	j.suspended_ms = 1000;
	CHECK_INT(job_timer_due(&j, 2999, 2000, 5000), JOB_TIMER_NONE);
	CHECK_INT(job_timer_due(&j, 3000, 2000, 5000),
	    JOB_TIMER_CONFIRM_EXPIRED);
	CHECK_INT(job_timer_next(&j, 2000, 5000), 3000);
	j.status = JOB_COMPLETE;
	j.terminated_ms = 10000;
	CHECK_INT(job_timer_due(&j, 14999, 2000, 5000), JOB_TIMER_NONE);
	CHECK_INT(job_timer_due(&j, 15000, 2000, 5000), JOB_TIMER_PURGE);
	j.status = JOB_ACTIVE;
	CHECK_INT(job_timer_due(&j, 99999999, 2000, 5000), JOB_TIMER_NONE);
	CHECK_INT(job_timer_next(&j, 2000, 5000), 0);
}

static int
count_cb(const struct job *j, void *arg)
{
	(*(int *)arg)++;
	return (0);
}

static int
task_cb(const struct store_task *t, void *arg)
{
	(*(int64_t *)arg) += t->seq;
	return (0);
}

static void
test_store(void)
{
	char			 dir[] = "/tmp/test-job.XXXXXX";
	struct store		*st;
	struct job		 j, k;
	struct store_task	 t;
	struct json_object	*tags;
	uint64_t		 counts[JOB_NSTATUS], n;
	char			*cause = NULL, path[256];
	int			 seen;
	int64_t			 sum;

	CHECK(mkdtemp(dir) != NULL);
	st = store_open(dir, 0, &cause);
	CHECK(st != NULL);
	if (st == NULL) {
		fprintf(stderr, "%s\n", cause);
		return;
	}
	memset(&j, 0, sizeof j);
	uuid_generate_v4(j.id);
	j.status = JOB_NEW;
	j.priority = 10;
	j.operation = xstrdup("S3PutObjectTagging");
	j.spec = xstrdup("{\"Priority\":10}");
	j.client_token = xstrdup("token-1");
	j.created_ms = j.status_ms = time_now_ms();
	CHECK_INT(store_job_insert(st, &j, STORE_DAEMON, &cause), 0);
	CHECK(j.rowid > 0);

	/* A second job with the same token violates the unique index. */
	memset(&k, 0, sizeof k);
	uuid_generate_v4(k.id);
	k.operation = xstrdup("S3PutObjectTagging");
	k.spec = xstrdup("{}");
	k.client_token = xstrdup("token-1");
	CHECK_INT(store_job_insert(st, &k, STORE_DAEMON, &cause), -1);
	free(cause);
	cause = NULL;
	job_clear(&k);

	CHECK_INT(store_job_get_by_token(st, "token-1", &k, &cause), 0);
	CHECK_STR(k.id, j.id);
	job_clear(&k);
	CHECK_INT(store_job_get(st, "nope", &k, &cause), 1);

	/* Transitions are checked against the table and stamped. */
	CHECK_INT(store_job_transition(st, &j, JOB_ACTIVE, JOB_BY_DAEMON, STORE_DAEMON,
	    NULL, &cause), -1);
	free(cause);
	cause = NULL;
	CHECK_INT(j.status, JOB_NEW);
	CHECK_INT(store_job_transition(st, &j, JOB_PREPARING, JOB_BY_DAEMON,
	    STORE_DAEMON, NULL, &cause), 0);
	CHECK_INT(store_job_transition(st, &j, JOB_SUSPENDED, JOB_BY_DAEMON,
	    STORE_DAEMON, NULL, &cause), 0);
	CHECK(j.suspended_ms != 0);

	/* Tasks. */
	memset(&t, 0, sizeof t);
	t.bucket = "b";
	for (t.seq = 1; t.seq <= 10; t.seq++) {
		t.key = "k";
		t.key_len = 1;
		CHECK_INT(store_task_add(st, j.rowid, &t, &cause), 0);
	}
	sum = 0;
	CHECK_INT(store_task_list(st, j.rowid, 0, 100, 0, task_cb, &sum,
	    &cause), 0);
	CHECK_INT(sum, 55);

	/* Tags round-trip in order. */
	tags = json_tokener_parse("[{\"Key\":\"b\",\"Value\":\"2\"},"
	    "{\"Key\":\"a\",\"Value\":\"\"}]");
	CHECK_INT(store_tags_set(st, &j, tags, STORE_DAEMON, &cause), 0);
	json_object_put(tags);
	CHECK_INT(store_tags_get(st, j.rowid, &tags, &cause), 0);
	CHECK_STR(json_object_to_json_string_ext(tags, JSON_C_TO_STRING_PLAIN),
	    "[{\"Key\":\"b\",\"Value\":\"2\"},{\"Key\":\"a\",\"Value\":\"\"}]");
	json_object_put(tags);

	/* Reopen: everything is still there. */
	store_close(st);
	st = store_open(dir, 0, &cause);
	CHECK(st != NULL);
	CHECK_INT(store_job_get(st, j.id, &k, &cause), 0);
	CHECK_INT(k.status, JOB_SUSPENDED);
	CHECK_INT(k.priority, 10);
	job_clear(&k);
	CHECK_INT(store_job_counts(st, counts, &cause), 0);
	CHECK_INT(counts[JOB_SUSPENDED], 1);
	seen = 0;
	CHECK_INT(store_job_list(st, 1U << JOB_SUSPENDED, 0, 10, count_cb,
	    &seen, &cause), 0);
	CHECK_INT(seen, 1);
	seen = 0;
	CHECK_INT(store_job_list(st, 1U << JOB_ACTIVE, 0, 10, count_cb,
	    &seen, &cause), 0);
	CHECK_INT(seen, 0);

	/* Clone, then purge. */
	memset(&k, 0, sizeof k);
	uuid_generate_v4(k.id);
	k.operation = xstrdup("S3PutObjectTagging");
	k.spec = xstrdup("{}");
	CHECK_INT(store_job_insert(st, &k, STORE_DAEMON, &cause), 0);
	CHECK_INT(store_tasks_clone(st, j.rowid, k.rowid, 0, &n, &cause), 0);
	CHECK_INT(n, 10);
	CHECK_INT(store_job_purge(st, &j, &cause), 0);
	job_clear(&j);
	CHECK_INT(store_job_get(st, k.id, &j, &cause), 0);
	job_clear(&j);
	sum = 0;
	CHECK_INT(store_task_list(st, k.rowid, 0, 100, 0, task_cb, &sum,
	    &cause), 0);
	CHECK_INT(sum, 55);
	job_clear(&k);
	store_close(st);
	snprintf(path, sizeof path, "rm -rf %s", dir);
	CHECK_INT(system(path), 0);
}

/* FailureReasons keep every reason, oldest first, and survive the store. */
static void
test_failures(void)
{
	char			 dir[] = "/tmp/test-job.XXXXXX";
	struct store		*st;
	struct json_object	*fr;
	struct job		 j, k;
	struct stat		 sb;
	char			*cause = NULL, path[256];
	mode_t			 old;

	memset(&j, 0, sizeof j);
	fr = job_failures(&j);
	CHECK_INT(json_object_array_length(fr), 0);
	json_object_put(fr);
	job_add_failure(&j, "TaskFailureThresholdExceeded", "600 of 1000");
	job_add_failure(&j, "ReportFailed", "NoSuchBucket");
	CHECK(job_has_failure(&j, "TaskFailureThresholdExceeded"));
	CHECK(job_has_failure(&j, "ReportFailed"));
	CHECK_STR(j.failure_code, "ReportFailed");
	/* The same code again updates its text in place. */
	job_add_failure(&j, "TaskFailureThresholdExceeded", "601 of 1000");
	fr = job_failures(&j);
	CHECK_STR(json_object_to_json_string_ext(fr, JSON_C_TO_STRING_PLAIN),
	    "[{\"FailureCode\":\"TaskFailureThresholdExceeded\","
	    "\"FailureReason\":\"601 of 1000\"},{\"FailureCode\":"
	    "\"ReportFailed\",\"FailureReason\":\"NoSuchBucket\"}]");
	json_object_put(fr);

	/* Created 0600 whatever the umask. */
	CHECK(mkdtemp(dir) != NULL);
	old = umask(0);
	st = store_open(dir, 0, &cause);
	umask(old);
	CHECK(st != NULL);
	if (st == NULL) {
		fprintf(stderr, "%s\n", cause);
		return;
	}
	snprintf(path, sizeof path, "%s/s3batchd.db", dir);
	CHECK_INT(stat(path, &sb), 0);
	CHECK_INT(sb.st_mode & 0777, 0600);
	snprintf(path, sizeof path, "%s/s3batchd.db-wal", dir);
	CHECK_INT(stat(path, &sb), 0);
	CHECK_INT(sb.st_mode & 0777, 0600);

	uuid_generate_v4(j.id);
	j.status = JOB_NEW;
	j.operation = xstrdup("S3PutObjectTagging");
	j.spec = xstrdup("{}");
	j.created_ms = j.status_ms = time_now_ms();
	CHECK_INT(store_job_insert(st, &j, STORE_DAEMON, &cause), 0);
	CHECK_INT(store_job_get(st, j.id, &k, &cause), 0);
	CHECK_STR(k.failure_code, "ReportFailed");
	CHECK(k.failure_earlier != NULL);
	job_drop_failure(&k, "ReportFailed");
	CHECK_STR(k.failure_code, "TaskFailureThresholdExceeded");
	CHECK(k.failure_earlier == NULL);
	job_clear(&k);
	job_clear(&j);
	store_close(st);
	snprintf(path, sizeof path, "rm -rf %s", dir);
	CHECK_INT(system(path), 0);
}

/* clone-job --failed-tasks-only: tasks that failed or never ran. */
static void
test_clone_unfinished(void)
{
	char			 dir[] = "/tmp/test-job.XXXXXX";
	struct store		*st;
	struct store_task	 t;
	struct job		 j, k;
	struct stat		 sb;
	char			*cause = NULL, path[256];
	uint64_t		 n;
	int64_t			 seq;

	CHECK(mkdtemp(dir) != NULL);
	/* A database an older s3batchd left readable by all loses that. */
	snprintf(path, sizeof path, "%s/s3batchd.db", dir);
	CHECK_INT(close(open(path, O_CREAT|O_WRONLY, 0600)), 0);
	CHECK_INT(chmod(path, 0644), 0);
	if ((st = store_open(dir, 0, &cause)) == NULL) {
		CHECK(st != NULL);
		return;
	}
	CHECK_INT(stat(path, &sb), 0);
	CHECK_INT(sb.st_mode & 0777, 0640);
	memset(&j, 0, sizeof j);
	uuid_generate_v4(j.id);
	j.operation = xstrdup("S3PutObjectTagging");
	j.spec = xstrdup("{}");
	CHECK_INT(store_job_insert(st, &j, STORE_DAEMON, &cause), 0);
	memset(&t, 0, sizeof t);
	t.bucket = "b";
	t.key = "k";
	t.key_len = 1;
	for (seq = 1; seq <= 10; seq++) {
		t.seq = seq;
		CHECK_INT(store_task_add(st, j.rowid, &t, &cause), 0);
	}
	/* 1-4 succeeded, 5-6 failed, 7-10 never ran. */
	for (seq = 1; seq <= 6; seq++) {
		t.seq = seq;
		t.state = seq <= 4 ? TASK_SUCCEEDED : TASK_FAILED;
		CHECK_INT(store_task_result(st, j.rowid, &t, &cause), 0);
	}
	memset(&k, 0, sizeof k);
	uuid_generate_v4(k.id);
	k.operation = xstrdup("S3PutObjectTagging");
	k.spec = xstrdup("{}");
	CHECK_INT(store_job_insert(st, &k, STORE_DAEMON, &cause), 0);
	CHECK_INT(store_tasks_clone(st, j.rowid, k.rowid, 1, &n, &cause), 0);
	CHECK_INT(n, 6);
	job_clear(&j);
	job_clear(&k);
	store_close(st);
	snprintf(path, sizeof path, "rm -rf %s", dir);
	CHECK_INT(system(path), 0);
}

int
main(void)
{
	log_init(LOG_TO_STDERR, 0);
	test_names();
	test_transitions();
	test_requests();
	test_timers();
	test_store();
	test_failures();
	test_clone_unfinished();
	return (unit_done("test-job"));
}
