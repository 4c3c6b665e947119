/*
 * The scheduler with no S3 server: a stand-in operation and a real SQLite
 * store in a temporary directory. The stand-in finishes each task from a
 * timer or at once, fails or hangs on a rule from the job's parameters,
 * and records which task of which job started, in order. A thin layer over
 * the store's backend checks and counts the window reads and the group
 * commits, and can make a read fail as a busy store does. Every wait is on
 * state, run by the event loop under a deadline.
 */
#include <sys/types.h>

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <json-c/json.h>

#include "s3batchd.h"
#include "cfg.h"
#include "job.h"
#include "op.h"
#include "sched.h"
#include "store.h"
#include "unit.h"

#define TEST_WINDOW		512	/* sched.c's SCHED_WINDOW */
#define TEST_MAXJOBS		8
#define TEST_DEADLINE_S		60	/* per wait; only a broken run takes it */

/* How a job's stand-in tasks behave: its Operation.TestOp parameters. */
struct test_ctx {
	int	tag;		/* the job's index in test.jobs */
	int	delay_ms;	/* -1: finish inside start; else from a timer */
	int	fail_every;	/* fail when seq % n == 0; 0: never */
	int	hang_every;	/* never finish when seq % n == 0; 0: never */
	/* End without an answer (ConnectionError) when seq % n == 0: */
	int	unreach_every;	/* the first run only; 0: never */
	int	unreach_always;	/* every run; 0: never */
};

static const struct {
	const char	*name;
	size_t		 off;
} test_params[] = {
	{ "Tag",	offsetof(struct test_ctx, tag) },
	{ "DelayMs",	offsetof(struct test_ctx, delay_ms) },
	{ "FailEvery",	offsetof(struct test_ctx, fail_every) },
	{ "HangEvery",	offsetof(struct test_ctx, hang_every) },
	{ "UnreachableEvery", offsetof(struct test_ctx, unreach_every) },
	{ "UnreachableAlways", offsetof(struct test_ctx, unreach_always) },
};

struct test_job {
	struct job	 job;		/* as inserted: id, rowid */
	int64_t		 ntasks;
	uint64_t	 starts;
	int64_t		 last_seq;	/* the last one started */
	uint64_t	 inflight;
	uint64_t	 finished;	/* ended through op_finish */
	uint64_t	 cancelled;
	/* Window reads. */
	uint64_t	 reads;
	uint64_t	 read;		/* rows handed to the scheduler */
	uint64_t	 read_base;	/* starts when this run began */
	int64_t		 last_read;
	int		 max_want;
	uint64_t	 max_ahead;	/* most read and not started at once */
	int		 fail_from;	/* the first read to fail (1-based) */
	int		 fail_count;
	uint64_t	 failed_reads;
	/* Runs of each task (by seq) and those that found no endpoint. */
	uint8_t		*runs;
	uint64_t	 unreached;
	/* left_cb */
	enum job_status	 left;
	int		 nleft;
};

struct test_start {
	int		 tag;
	int64_t		 seq;
};

struct test {
	char			 dir[64];
	struct event_base	*base;
	struct store		*store;
	struct store_backend	 backend;	/* SQLite's, wrapped */
	struct cfg		*cfg;
	struct sched		*sched;
	struct test_job		 jobs[TEST_MAXJOBS];
	int			 njobs;
	struct test_start	*starts;
	size_t			 nstarts;
	size_t			 sstarts;
	/* Group commits. */
	size_t			 tx_results;
	uint64_t		 commits;	/* with task results */
	size_t			 max_commit;
	uint64_t		 stored;	/* task results committed */
	int			 drained;
	/* A full disk: commits fail (the transaction is rolled back). */
	int			 disk_full;
	uint64_t		 failed_commits;
};

/* The backend wrappers and the stand-in see the test through this. */
static struct test *T;

static struct test_job *
test_job_rowid(int64_t rowid)
{
	int	i;

	for (i = 0; i < T->njobs; i++) {
		if (T->jobs[i].job.rowid == rowid)
			return (&T->jobs[i]);
	}
	return (NULL);
}

/* ---- the store, wrapped */

struct test_window {
	struct test_job	*tj;
	store_task_cb	 cb;
	void		*arg;
};

static int
test_window_row_cb(const struct store_task *t, void *arg)
{
	struct test_window	*w = arg;
	struct test_job		*tj = w->tj;
	uint64_t		 ahead;

	/* In order, never a row twice within a run. */
	CHECK(t->seq > tj->last_read);
	tj->last_read = t->seq;
	tj->read++;
	ahead = tj->read - (tj->starts - tj->read_base);
	if (ahead > tj->max_ahead)
		tj->max_ahead = ahead;
	return (w->cb(t, w->arg));
}

static int
test_task_window(void *impl, int64_t job, int64_t after, int max,
    store_task_cb cb, void *arg, char **cause)
{
	struct test_job		*tj = test_job_rowid(job);
	struct test_window	 w;

	if (tj == NULL)
		return (store_sqlite_backend.task_window(impl, job, after, max,
		    cb, arg, cause));
	tj->reads++;
	if (max > tj->max_want)
		tj->max_want = max;
	if (tj->fail_count > 0 && tj->reads >= (uint64_t)tj->fail_from) {
		tj->fail_count--;
		tj->failed_reads++;
		*cause = xstrdup("database is locked (test)");
		return (-1);
	}
	w.tj = tj;
	w.cb = cb;
	w.arg = arg;
	return (store_sqlite_backend.task_window(impl, job, after, max,
	    test_window_row_cb, &w, cause));
}

static int
test_begin(void *impl, char **cause)
{
	T->tx_results = 0;
	return (store_sqlite_backend.begin(impl, cause));
}

static int
test_task_result(void *impl, int64_t job, const struct store_task *t,
    char **cause)
{
	T->tx_results++;
	return (store_sqlite_backend.task_result(impl, job, t, cause));
}

static int
test_commit(void *impl, char **cause)
{
	if (T->disk_full) {
		T->failed_commits++;
		*cause = xstrdup("database or disk is full (test)");
		return (-1);
	}
	if (store_sqlite_backend.commit(impl, cause) != 0)
		return (-1);
	if (T->tx_results != 0) {
		T->commits++;
		T->stored += T->tx_results;
		if (T->tx_results > T->max_commit)
			T->max_commit = T->tx_results;
	}
	T->tx_results = 0;
	return (0);
}

/* ---- the stand-in operation */

static int
test_op_compile(struct json_object *params, struct json_object *spec,
    void **ctxp, char **cause)
{
	struct test_ctx		*ctx;
	struct json_object	*v;
	size_t			 i;

	ctx = xcalloc(1, sizeof *ctx);
	ctx->delay_ms = -1;
	for (i = 0; i < nitems(test_params); i++) {
		if (json_object_object_get_ex(params, test_params[i].name, &v))
			*(int *)((char *)ctx + test_params[i].off) =
			    json_object_get_int(v);
	}
	if (ctx->tag < 0 || ctx->tag >= T->njobs) {
		xasprintf(cause, "no test job %d", ctx->tag);
		free(ctx);
		return (-1);
	}
	*ctxp = ctx;
	return (0);
}

static void
test_op_free(void *ctx)
{
	free(ctx);
}

static int64_t
test_op_seq(const struct op_run *run)
{
	return (strtoll(run->key + 1, NULL, 10));
}

/* End a task by its rule; the task (and run) is freed inside op_finish. */
static void
test_op_end(struct op_run *run)
{
	struct test_ctx	*ctx = run->ctx;
	struct test_job	*tj = &T->jobs[ctx->tag];
	int64_t		 seq = test_op_seq(run);

	tj->inflight--;
	tj->finished++;
	if ((ctx->unreach_always != 0 && seq % ctx->unreach_always == 0) ||
	    (ctx->unreach_every != 0 && seq % ctx->unreach_every == 0 &&
	    tj->runs[seq] == 1)) {
		tj->unreached++;
		op_fail(run, 0, "ConnectionError", "connection refused (test)");
	} else if (ctx->fail_every != 0 && seq % ctx->fail_every == 0)
		op_fail(run, 403, "AccessDenied", "task %lld fails by rule",
		    (long long)seq);
	else
		op_succeed(run, 200, NULL);
}

static void
test_op_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct op_run	*run = arg;

	event_free(run->state);
	run->state = NULL;
	test_op_end(run);
}

static void
test_op_start(struct op_run *run)
{
	struct test_ctx		*ctx = run->ctx;
	struct test_job		*tj = &T->jobs[ctx->tag];
	struct timeval		 tv;
	int64_t			 seq = test_op_seq(run);

	if (T->nstarts == T->sstarts) {
		T->sstarts = T->sstarts == 0 ? 1024 : T->sstarts * 2;
		T->starts = xreallocarray(T->starts, T->sstarts,
		    sizeof *T->starts);
	}
	T->starts[T->nstarts].tag = ctx->tag;
	T->starts[T->nstarts++].seq = seq;
	/*
	 * Started in manifest order, each once; a task that found no
	 * endpoint runs again, ahead of the rest.
	 */
	CHECK(seq >= 1 && seq <= tj->ntasks);
	if (tj->runs[seq] == 0) {
		CHECK(seq > tj->last_seq);
		tj->last_seq = seq;
	}
	if (tj->runs[seq] < UINT8_MAX)
		tj->runs[seq]++;
	tj->starts++;
	tj->inflight++;
	if (ctx->hang_every != 0 && seq % ctx->hang_every == 0)
		return;
	if (ctx->delay_ms < 0) {
		test_op_end(run);
		return;
	}
	tv.tv_sec = ctx->delay_ms / 1000;
	tv.tv_usec = (ctx->delay_ms % 1000) * 1000;
	run->state = evtimer_new(T->base, test_op_timer_cb, run);
	evtimer_add(run->state, &tv);
}

static void
test_op_cancel(struct op_run *run)
{
	struct test_ctx	*ctx = run->ctx;
	struct test_job	*tj = &T->jobs[ctx->tag];

	if (run->state != NULL)
		event_free(run->state);
	run->state = NULL;
	tj->inflight--;
	tj->cancelled++;
}

/* A plan (like the delete dry run's): records "etag-SEQ" for each task. */
static void *
test_plan_new(void *ctx)
{
	return (xstrdup("plan"));
}

static void
test_plan_task(struct op_run *run)
{
	xasprintf(&run->recorded_etag, "etag-%lld",
	    (long long)test_op_seq(run));
	op_succeed(run, 200, NULL);
}

static char *
test_plan_text(void *plan)
{
	return (xstrdup("planned"));
}

static const struct op_def test_op = {
	.name = "TestOp",
	.compile = test_op_compile,
	.free = test_op_free,
	.start = test_op_start,
	.cancel = test_op_cancel,
	.plan_new = test_plan_new,
	.plan_task = test_plan_task,
	.plan_text = test_plan_text,
	.plan_free = free,
};

static const struct op_def *
test_op_find(const char *name)
{
	return (strcmp(name, test_op.name) == 0 ? &test_op : NULL);
}

static void
test_left_cb(const char *id, enum job_status status, void *arg)
{
	struct test	*t = arg;
	int		 i;

	for (i = 0; i < t->njobs; i++) {
		if (strcmp(t->jobs[i].job.id, id) == 0) {
			t->jobs[i].left = status;
			t->jobs[i].nleft++;
			return;
		}
	}
	CHECK_STR(id, "a job the test made");
}

/* ---- set-up, jobs, waits */

static void
test_setup(struct test *t, int max_inflight)
{
	struct sched_env	 env;
	char			*cause = NULL;

	memset(t, 0, sizeof *t);
	T = t;
	snprintf(t->dir, sizeof t->dir, "/tmp/test-sched.XXXXXX");
	if (mkdtemp(t->dir) == NULL)
		fatal("mkdtemp");
	if ((t->store = store_open(t->dir, 0, &cause)) == NULL)
		fatalx("store_open: %s", cause);
	t->backend = *t->store->backend;
	t->backend.task_window = test_task_window;
	t->backend.begin = test_begin;
	t->backend.task_result = test_task_result;
	t->backend.commit = test_commit;
	t->store->backend = &t->backend;
	if ((t->base = event_base_new()) == NULL)
		fatalx("event_base_new");
	t->cfg = cfg_default();
	t->cfg->max_inflight = max_inflight;
	t->cfg->commit_interval_ms = 20;
	t->cfg->commit_batch = 100;
	t->cfg->failure_min_tasks = 1000000;

	memset(&env, 0, sizeof env);
	env.base = t->base;
	env.store = t->store;
	env.cfg = &t->cfg;
	env.op_find = test_op_find;
	env.left_cb = test_left_cb;
	env.arg = t;
	t->sched = sched_new(&env);
}

static void
test_teardown(struct test *t)
{
	DIR		*d;
	struct dirent	*de;
	char		*path;
	int		 i;

	sched_free(t->sched);
	store_close(t->store);
	event_base_free(t->base);
	cfg_free(t->cfg);
	for (i = 0; i < t->njobs; i++) {
		job_clear(&t->jobs[i].job);
		free(t->jobs[i].runs);
	}
	free(t->starts);
	if ((d = opendir(t->dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			xasprintf(&path, "%s/%s", t->dir, de->d_name);
			unlink(path);
			free(path);
		}
		closedir(d);
	}
	rmdir(t->dir);
	T = NULL;
}

/*
 * A Ready job of n tasks (keys k1..kn) in the store; params are extra
 * members of its Operation.TestOp. The scheduler is told by test_go.
 */
static int
test_job_add(struct test *t, int64_t priority, int64_t n, const char *params)
{
	struct test_job		*tj;
	struct store_task	 st;
	char			*cause = NULL, key[32];
	int			 tag = t->njobs;
	int64_t			 seq;

	if (tag == TEST_MAXJOBS)
		fatalx("too many test jobs");
	tj = &t->jobs[t->njobs++];
	memset(tj, 0, sizeof *tj);
	tj->left = JOB_NSTATUS;
	tj->ntasks = n;
	tj->runs = xcalloc((size_t)n + 1, 1);
	uuid_generate_v4(tj->job.id);
	tj->job.status = JOB_READY;
	tj->job.priority = priority;
	tj->job.operation = xstrdup(test_op.name);
	xasprintf(&tj->job.spec, "{\"Operation\":{\"TestOp\":{\"Tag\":%d%s%s}},"
	    "\"Priority\":%lld}", tag, *params != '\0' ? "," : "", params,
	    (long long)priority);
	tj->job.created_ms = tj->job.status_ms = time_now_ms();
	tj->job.total_tasks = (uint64_t)n;
	if (store_job_insert(t->store, &tj->job, STORE_DAEMON, &cause) != 0 ||
	    store_begin(t->store, &cause) != 0)
		fatalx("adding a job: %s", cause);
	memset(&st, 0, sizeof st);
	st.bucket = "bucket";
	st.key = key;
	st.state = TASK_PENDING;
	for (seq = 1; seq <= n; seq++) {
		st.seq = seq;
		st.key_len = (size_t)snprintf(key, sizeof key, "k%lld",
		    (long long)seq);
		if (store_task_add(t->store, tj->job.rowid, &st, &cause) != 0)
			fatalx("adding a task: %s", cause);
	}
	if (store_commit(t->store, &cause) != 0)
		fatalx("adding tasks: %s", cause);
	return (tag);
}

/* Tell the scheduler about a job, as the lifecycle does. */
static void
test_go(struct test *t, int tag)
{
	struct test_job	*tj = &t->jobs[tag];

	/* A new run reads from the start again. */
	tj->last_read = 0;
	tj->read = 0;
	tj->read_base = tj->starts;
	sched_job_changed(t->sched, tj->job.id);
}

/* A user's status change in the store (update-job-status). */
static void
test_request(struct test *t, int tag, enum job_status to)
{
	struct job	 j;
	char		*cause = NULL;

	if (store_job_get(t->store, t->jobs[tag].job.id, &j, &cause) != 0 ||
	    store_job_transition(t->store, &j, to, JOB_BY_USER, STORE_DAEMON, "test",
	    &cause) != 0)
		fatalx("requesting %s: %s", job_status_name(to), cause);
	job_clear(&j);
}

static void
test_deadline_cb(evutil_socket_t fd, short events, void *arg)
{
	int	*expired = arg;

	*expired = 1;
}

/* Run the loop until pred holds; a deadline only catches a broken run. */
static int
test_wait(struct test *t, int (*pred)(struct test *, int, uint64_t), int tag,
    uint64_t n, const char *what)
{
	struct event	*deadline;
	struct timeval	 tv = { TEST_DEADLINE_S, 0 };
	int		 expired = 0;

	deadline = evtimer_new(t->base, test_deadline_cb, &expired);
	evtimer_add(deadline, &tv);
	while (!pred(t, tag, n) && !expired)
		event_base_loop(t->base, EVLOOP_ONCE);
	event_free(deadline);
	if (expired)
		fprintf(stderr, "timed out waiting for %s\n", what);
	CHECK(!expired);
	return (!expired);
}

static int
test_left(struct test *t, int tag, uint64_t n)
{
	return (t->jobs[tag].nleft != 0);
}

static int
test_started(struct test *t, int tag, uint64_t n)
{
	return (t->jobs[tag].starts >= n);
}

static int
test_is_drained(struct test *t, int tag, uint64_t n)
{
	return (t->drained);
}

static void
test_drained_cb(void *arg)
{
	struct test	*t = arg;

	t->drained = 1;
}

/* The job as stored, and its tasks counted by state. */
static void
test_stored(struct test *t, int tag, struct job *j, uint64_t counts[4])
{
	char	*cause = NULL;

	if (store_job_get(t->store, t->jobs[tag].job.id, j, &cause) != 0 ||
	    store_task_counts(t->store, t->jobs[tag].job.rowid, counts,
	    &cause) != 0)
		fatalx("reading a job: %s", cause);
}

/* Left the run stage as expected, with these counts stored. */
static void
test_check_job(struct test *t, int tag, enum job_status status,
    uint64_t succeeded, uint64_t failed)
{
	struct test_job	*tj = &t->jobs[tag];
	struct job	 j;
	uint64_t	 counts[4];

	CHECK_INT(tj->nleft, 1);
	CHECK_STR(job_status_name(tj->left), job_status_name(status));
	test_stored(t, tag, &j, counts);
	CHECK_STR(job_status_name(j.status), job_status_name(status));
	CHECK_INT(j.succeeded, succeeded);
	CHECK_INT(j.failed, failed);
	CHECK_INT(counts[TASK_SUCCEEDED], succeeded);
	CHECK_INT(counts[TASK_FAILED], failed);
	CHECK_INT(counts[TASK_PENDING] + counts[TASK_RUNNING],
	    (uint64_t)tj->ntasks - succeeded - failed);
	job_clear(&j);
}

/* ---- the tests */

/*
 * A high job arriving while a low one runs starts every one of its tasks,
 * over three windows, before the low one starts another.
 */
static void
test_priority(void)
{
	struct test	t;
	int		low, high;
	size_t		mark, i;
	int64_t		nhigh = 3 * TEST_WINDOW;

	test_setup(&t, 8);
	low = test_job_add(&t, 1, 600, "\"DelayMs\":0");
	test_go(&t, low);
	test_wait(&t, test_started, low, 50, "the low job to start");
	high = test_job_add(&t, 100, nhigh, "\"DelayMs\":0");
	mark = t.nstarts;
	test_go(&t, high);
	test_wait(&t, test_left, high, 0, "the high job to end");
	test_check_job(&t, high, JOB_COMPLETING, (uint64_t)nhigh, 0);
	CHECK(t.nstarts >= mark + (size_t)nhigh);
	for (i = mark; i < mark + (size_t)nhigh && i < t.nstarts; i++) {
		if (t.starts[i].tag != high) {
			fprintf(stderr, "start %zu of the run went to the low "
			    "job\n", i - mark);
			CHECK(t.starts[i].tag == high);
			break;
		}
	}
	CHECK(t.jobs[high].reads >= 3);
	CHECK(t.jobs[high].max_want <= TEST_WINDOW);
	test_wait(&t, test_left, low, 0, "the low job to end");
	test_check_job(&t, low, JOB_COMPLETING, 600, 0);
	test_teardown(&t);
}

/*
 * A failed read of the next window is retried while the current one still
 * runs: the high job loses no slot, and it does not end early.
 */
static void
test_priority_read_fails(void)
{
	struct test	t;
	int		low, high;
	size_t		i;

	/* One slot, 2 ms a task: 255 tasks in hand outlast the retry. */
	test_setup(&t, 1);
	low = test_job_add(&t, 1, 50, "\"DelayMs\":0");
	high = test_job_add(&t, 100, 600, "\"DelayMs\":2");
	t.jobs[high].fail_from = 2;
	t.jobs[high].fail_count = 1;
	test_go(&t, low);
	test_go(&t, high);
	test_wait(&t, test_left, high, 0, "the high job to end");
	test_check_job(&t, high, JOB_COMPLETING, 600, 0);
	CHECK_INT(t.jobs[high].failed_reads, 1);
	for (i = 0; i < t.nstarts && i < 600; i++) {
		if (t.starts[i].tag != high) {
			fprintf(stderr, "start %zu went to the low job\n", i);
			CHECK(t.starts[i].tag == high);
			break;
		}
	}
	test_wait(&t, test_left, low, 0, "the low job to end");
	test_check_job(&t, low, JOB_COMPLETING, 50, 0);
	test_teardown(&t);
}

/* Reads that fail with nothing in hand: the job waits, then runs it all. */
static void
test_read_fails_empty(void)
{
	struct test	t;
	int		a;

	test_setup(&t, 4);
	a = test_job_add(&t, 10, 100, "");
	t.jobs[a].fail_from = 1;
	t.jobs[a].fail_count = 2;
	test_go(&t, a);
	test_wait(&t, test_left, a, 0, "the job to end");
	test_check_job(&t, a, JOB_COMPLETING, 100, 0);
	CHECK_INT(t.jobs[a].failed_reads, 2);
	CHECK_INT(t.jobs[a].starts, 100);
	test_teardown(&t);
}

/* Equal priorities alternate; a job joining late starts level. */
static void
test_fairness(void)
{
	struct test	t;
	int		a, b, c;
	uint64_t	n[3] = { 0, 0, 0 }, skew = 0, d;
	size_t		i, mark;

	test_setup(&t, 4);
	a = test_job_add(&t, 5, 800, "\"DelayMs\":0");
	b = test_job_add(&t, 5, 800, "\"DelayMs\":0");
	test_go(&t, a);
	test_go(&t, b);
	test_wait(&t, test_started, a, 200, "200 tasks of the first job");
	for (i = 0; i < t.nstarts; i++) {
		n[t.starts[i].tag]++;
		d = n[a] > n[b] ? n[a] - n[b] : n[b] - n[a];
		if (d > skew)
			skew = d;
	}
	CHECK(skew <= 2);
	c = test_job_add(&t, 5, 800, "\"DelayMs\":0");
	mark = t.nstarts;
	test_go(&t, c);
	test_wait(&t, test_started, c, 100, "100 tasks of the late job");
	memset(n, 0, sizeof n);
	for (i = mark; i < mark + 300 && i < t.nstarts; i++)
		n[t.starts[i].tag]++;
	/* Level with the others: a third each, not all to the newcomer. */
	CHECK(n[a] >= 80 && n[a] <= 120);
	CHECK(n[b] >= 80 && n[b] <= 120);
	CHECK(n[c] >= 80 && n[c] <= 120);
	test_wait(&t, test_left, a, 0, "the first job to end");
	test_wait(&t, test_left, b, 0, "the second job to end");
	test_wait(&t, test_left, c, 0, "the third job to end");
	test_check_job(&t, a, JOB_COMPLETING, 800, 0);
	test_check_job(&t, b, JOB_COMPLETING, 800, 0);
	test_check_job(&t, c, JOB_COMPLETING, 800, 0);
	test_teardown(&t);
}

/*
 * Windows: never more than one read and not started, read in order, and
 * jobs of every size around the window's edges complete, timers or not.
 */
static void
test_windows(void)
{
	static const struct {
		int64_t		 n;
		const char	*params;
	} sizes[] = {
		{ 0, "" },
		{ 1, "" },
		{ TEST_WINDOW - 1, "\"DelayMs\":0" },
		{ TEST_WINDOW, "" },
		{ TEST_WINDOW + 1, "\"DelayMs\":0" },
		{ 2 * TEST_WINDOW, "\"DelayMs\":0" },
		{ 3 * TEST_WINDOW, "" },
	};
	struct test	t;
	size_t		i;

	test_setup(&t, 8);
	for (i = 0; i < nitems(sizes); i++)
		test_job_add(&t, 5, sizes[i].n, sizes[i].params);
	for (i = 0; i < nitems(sizes); i++)
		test_go(&t, (int)i);
	for (i = 0; i < nitems(sizes); i++) {
		test_wait(&t, test_left, (int)i, 0, "a job to end");
		test_check_job(&t, (int)i, JOB_COMPLETING,
		    (uint64_t)sizes[i].n, 0);
		CHECK_INT(t.jobs[i].starts, sizes[i].n);
		CHECK_INT(t.jobs[i].last_seq, sizes[i].n);
		CHECK(t.jobs[i].max_want <= TEST_WINDOW);
		CHECK(t.jobs[i].max_ahead <= TEST_WINDOW);
		/* Whole windows, plus the one read that found the end. */
		CHECK(t.jobs[i].reads <=
		    (uint64_t)(2 * sizes[i].n / TEST_WINDOW + 2));
	}
	test_teardown(&t);
}

/* Results reach the store in batches; a drain loses none. */
static void
test_group_commit(void)
{
	struct test	 t;
	struct job	 j;
	uint64_t	 counts[4], at_drain;
	int		 a, b;

	test_setup(&t, 4);
	a = test_job_add(&t, 5, 1000, "");
	test_go(&t, a);
	test_wait(&t, test_left, a, 0, "the job to end");
	test_check_job(&t, a, JOB_COMPLETING, 1000, 0);
	CHECK_INT(t.stored, 1000);
	CHECK(t.max_commit <= 100);
	CHECK(t.commits >= 10 && t.commits <= 12);

	/*
	 * Drain with tasks in flight: those that end within the drain time
	 * are stored, those that hang return to pending.
	 */
	b = test_job_add(&t, 5, 400, "\"DelayMs\":1,\"HangEvery\":50");
	test_go(&t, b);
	test_wait(&t, test_started, b, 120, "120 tasks of the job");
	at_drain = t.jobs[b].starts;
	sched_drain(t.sched, 300, test_drained_cb, &t);
	test_wait(&t, test_is_drained, 0, 0, "the drain");
	CHECK_INT(t.jobs[b].starts, at_drain);
	CHECK_INT(t.jobs[b].inflight, 0);
	CHECK(t.jobs[b].cancelled >= 2);
	CHECK_INT(t.jobs[b].finished + t.jobs[b].cancelled, at_drain);
	test_stored(&t, b, &j, counts);
	CHECK_INT(counts[TASK_SUCCEEDED], t.jobs[b].finished);
	CHECK_INT(j.succeeded, t.jobs[b].finished);
	CHECK_INT(counts[TASK_PENDING] + counts[TASK_RUNNING],
	    400 - t.jobs[b].finished);
	CHECK_INT(t.stored, 1000 + t.jobs[b].finished);
	job_clear(&j);
	test_teardown(&t);
}

/* Past failure_min_tasks with more than failure_percent failed: Failing. */
static void
test_threshold(void)
{
	struct test	t;
	int		a, b;

	test_setup(&t, 4);
	t.cfg->failure_min_tasks = 100;
	t.cfg->failure_percent = 50;
	a = test_job_add(&t, 5, 1000, "\"DelayMs\":0,\"FailEvery\":1");
	b = test_job_add(&t, 5, 300, "\"DelayMs\":0,\"FailEvery\":3");
	test_go(&t, a);
	test_go(&t, b);
	test_wait(&t, test_left, a, 0, "the failing job to stop");
	/* It stops starting at the threshold; those in flight still end. */
	CHECK(t.jobs[a].starts >= 100 && t.jobs[a].starts <= 104);
	test_check_job(&t, a, JOB_FAILING, 0, t.jobs[a].starts);
	test_wait(&t, test_left, b, 0, "the other job to end");
	test_check_job(&t, b, JOB_COMPLETING, 200, 100);
	test_teardown(&t);
}

/*
 * The threshold counts answers only: tasks that could not reach their
 * endpoint go back to pending, keep their attempts and run again; a task
 * that never reaches it is failed after SCHED_REQUEUE_MAX (5) requeues.
 */
static void
test_threshold_unreachable(void)
{
	struct test		t;
	struct sched_stats	ss;
	int			a, b;
	int64_t			seq;

	test_setup(&t, 4);
	t.cfg->failure_min_tasks = 100;
	t.cfg->failure_percent = 50;
	/* Every task's first run finds no endpoint: nothing has failed. */
	a = test_job_add(&t, 5, 300, "\"DelayMs\":0,\"UnreachableEvery\":1");
	test_go(&t, a);
	test_wait(&t, test_left, a, 0, "the job to end");
	test_check_job(&t, a, JOB_COMPLETING, 300, 0);
	CHECK_INT(t.jobs[a].unreached, 300);
	CHECK_INT(t.jobs[a].starts, 600);
	for (seq = 1; seq <= 300; seq++)
		CHECK_INT(t.jobs[a].runs[seq], 2);
	sched_stats(t.sched, &ss);
	CHECK_INT(ss.tasks_requeued, 300);
	CHECK_INT(ss.tasks_failed, 0);

	/* One in ten never reaches it: failed after 1 + 5 runs, counted. */
	b = test_job_add(&t, 5, 300, "\"DelayMs\":0,\"UnreachableAlways\":10");
	test_go(&t, b);
	test_wait(&t, test_left, b, 0, "the second job to end");
	test_check_job(&t, b, JOB_COMPLETING, 270, 30);
	for (seq = 10; seq <= 300; seq += 10)
		CHECK_INT(t.jobs[b].runs[seq], 6);
	CHECK_INT(t.jobs[b].starts, 270 + 30 * 6);
	test_teardown(&t);
}

static int
test_commit_failing(struct test *t, int tag, uint64_t n)
{
	struct sched_stats	ss;

	sched_stats(t->sched, &ss);
	return (ss.commit_failing == (int)n);
}

static int
test_failed_commits(struct test *t, int tag, uint64_t n)
{
	return (t->failed_commits >= n);
}

/*
 * A full disk during the run: no task starts while commits fail, the
 * buffered results stay bounded, commits are retried (with backoff), and
 * once space is back the job completes with every result stored once.
 */
static void
test_commit_fails(void)
{
	struct test		t;
	struct sched_stats	ss;
	uint64_t		at;
	int			a;

	test_setup(&t, 4);
	a = test_job_add(&t, 5, 1000, "\"DelayMs\":1");
	test_go(&t, a);
	test_wait(&t, test_started, a, 200, "200 tasks");
	t.disk_full = 1;
	test_wait(&t, test_commit_failing, a, 1, "a commit to fail");
	/* Those in flight then may still end; none starts after them. */
	test_wait(&t, test_failed_commits, a, t.failed_commits + 3,
	    "three commit retries");
	at = t.jobs[a].starts;
	CHECK_INT(t.jobs[a].inflight, 0);
	test_wait(&t, test_failed_commits, a, t.failed_commits + 2,
	    "two more commit retries");
	CHECK_INT(t.jobs[a].starts, at);
	sched_stats(t.sched, &ss);
	CHECK_INT(ss.commit_failing, 1);
	/* Bounded: a batch and what was in flight, not the job. */
	CHECK(ss.results_buffered <= 100 + 4);
	CHECK_INT(ss.results_buffered, at - t.stored);
	CHECK_INT(t.jobs[a].nleft, 0);

	t.disk_full = 0;
	test_wait(&t, test_left, a, 0, "the job to end");
	test_check_job(&t, a, JOB_COMPLETING, 1000, 0);
	CHECK_INT(t.stored, 1000);
	CHECK_INT(t.jobs[a].starts, 1000);
	sched_stats(t.sched, &ss);
	CHECK_INT(ss.commit_failing, 0);
	CHECK_INT(ss.results_buffered, 0);
	test_teardown(&t);
}

struct test_plan_end {
	int			 done;
	enum stage_status	 status;
};

static void
test_plan_done_cb(const char *id, const struct stage_result *res, void *arg)
{
	struct test_plan_end	*e = arg;

	e->done++;
	e->status = res->status;
}

static int
test_plan_ended(struct test *t, int tag, uint64_t n)
{
	return (((struct test_plan_end *)(uintptr_t)n)->done != 0);
}

static int
test_etag_count_cb(const struct store_task *st, void *arg)
{
	char	 want[32];

	snprintf(want, sizeof want, "etag-%lld", (long long)st->seq);
	if (st->etag != NULL && strcmp(st->etag, want) == 0)
		(*(uint64_t *)arg)++;
	return (0);
}

/*
 * A full disk during a plan: its ETags stay buffered, no task starts, and
 * the plan waits instead of failing; with space back it ends done, every
 * recorded ETag stored.
 */
static void
test_plan_commit_fails(void)
{
	struct test		t;
	struct test_plan_end	e;
	struct job		j;
	char			*cause = NULL;
	uint64_t		n = 0, failed;
	int			a;

	test_setup(&t, 4);
	a = test_job_add(&t, 5, 1500, "");
	/* Planned while Preparing. */
	if (store_job_get(t.store, t.jobs[a].job.id, &j, &cause) != 0)
		fatalx("%s", cause);
	j.status = JOB_PREPARING;
	if (store_job_update(t.store, &j, &cause) != 0)
		fatalx("%s", cause);
	job_clear(&j);
	memset(&e, 0, sizeof e);
	t.disk_full = 1;
	sched_plan_start(t.sched, t.jobs[a].job.id, test_plan_done_cb, &e);
	test_wait(&t, test_failed_commits, a, 5, "five failed plan commits");
	failed = t.failed_commits;
	CHECK_INT(e.done, 0);
	t.disk_full = 0;
	test_wait(&t, test_plan_ended, a, (uint64_t)(uintptr_t)&e,
	    "the plan to end");
	CHECK_INT(e.done, 1);
	CHECK_INT(e.status, STAGE_DONE);
	CHECK(failed >= 5);
	if (store_sqlite_backend.task_window(t.store->impl,
	    t.jobs[a].job.rowid, 0, 2000, test_etag_count_cb, &n,
	    &cause) != 0)
		fatalx("%s", cause);
	CHECK_INT(n, 1500);
	test_teardown(&t);
}

/* Pause and cancel mid-run: no start after; those in flight end, stored. */
static void
test_pause_cancel(void)
{
	struct test	t;
	uint64_t	at;
	int		a, b;

	test_setup(&t, 4);
	a = test_job_add(&t, 5, 500, "\"DelayMs\":1");
	test_go(&t, a);
	test_wait(&t, test_started, a, 100, "100 tasks");
	test_request(&t, a, JOB_PAUSING);
	sched_job_changed(t.sched, t.jobs[a].job.id);
	at = t.jobs[a].starts;
	test_wait(&t, test_left, a, 0, "the job to pause");
	CHECK_INT(t.jobs[a].starts, at);
	test_check_job(&t, a, JOB_PAUSED, at, 0);

	/* Resumed (Ready, taken up again): the rest runs, each task once. */
	test_request(&t, a, JOB_READY);
	t.jobs[a].nleft = 0;
	test_go(&t, a);
	test_wait(&t, test_left, a, 0, "the resumed job to end");
	test_check_job(&t, a, JOB_COMPLETING, 500, 0);
	CHECK_INT(t.jobs[a].starts, 500);

	b = test_job_add(&t, 5, 500, "\"DelayMs\":1");
	test_go(&t, b);
	test_wait(&t, test_started, b, 100, "100 tasks");
	test_request(&t, b, JOB_CANCELLING);
	sched_job_changed(t.sched, t.jobs[b].job.id);
	at = t.jobs[b].starts;
	test_wait(&t, test_left, b, 0, "the job to be cancelled");
	CHECK_INT(t.jobs[b].starts, at);
	test_check_job(&t, b, JOB_CANCELLED, at, 0);
	test_teardown(&t);
}

int
main(void)
{
	log_init(LOG_TO_STDERR, 0);
	test_priority();
	test_priority_read_fails();
	test_read_fails_empty();
	test_fairness();
	test_windows();
	test_group_commit();
	test_threshold();
	test_threshold_unreachable();
	test_commit_fails();
	test_plan_commit_fails();
	test_pause_cancel();
	return (unit_done("test-sched"));
}
