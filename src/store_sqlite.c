/*
 * The SQLite store backend: WAL mode, synchronous=FULL so that a commit is
 * on disk before a control reply goes out, schema versioned through
 * PRAGMA user_version with forward migrations. Each thread opens its own
 * connection.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sqlite3.h>

#include "s3batchd.h"
#include "store.h"

/* Forward migrations: entry N brings user_version N to N+1. */
static const char *const store_sqlite_migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE jobs ("
	"  rowid INTEGER PRIMARY KEY,"
	"  id TEXT NOT NULL UNIQUE,"
	"  status INTEGER NOT NULL,"
	"  priority INTEGER NOT NULL,"
	"  confirmation_required INTEGER NOT NULL,"
	"  manifest INTEGER NOT NULL,"
	"  description TEXT,"
	"  operation TEXT NOT NULL,"
	"  spec TEXT NOT NULL,"
	"  client_token TEXT UNIQUE,"
	"  status_reason TEXT,"
	"  failure_code TEXT,"
	"  failure_reason TEXT,"
	"  suspended_cause TEXT,"
	"  source_job TEXT,"
	"  source_failed_only INTEGER NOT NULL DEFAULT 0,"
	"  created_ms INTEGER NOT NULL,"
	"  status_ms INTEGER NOT NULL,"
	"  suspended_ms INTEGER NOT NULL DEFAULT 0,"
	"  terminated_ms INTEGER NOT NULL DEFAULT 0,"
	"  total_tasks INTEGER NOT NULL DEFAULT 0,"
	"  succeeded INTEGER NOT NULL DEFAULT 0,"
	"  failed INTEGER NOT NULL DEFAULT 0,"
	"  active_ms INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX jobs_status ON jobs(status);"
	"CREATE TABLE job_tags ("
	"  job INTEGER NOT NULL,"
	"  position INTEGER NOT NULL,"
	"  key TEXT NOT NULL,"
	"  value TEXT NOT NULL,"
	"  PRIMARY KEY (job, position)) WITHOUT ROWID;"
	/*
	 * A task's id is its job's rowid shifted left by TASK_SEQ_BITS plus
	 * its manifest position: rows of one job are contiguous, appended in
	 * order (SQLite's fast path for rowid tables), and need no index.
	 */
	"CREATE TABLE tasks ("
	"  id INTEGER PRIMARY KEY,"
	"  bucket TEXT NOT NULL,"
	"  key BLOB NOT NULL,"
	"  version_id TEXT,"
	"  etag TEXT,"
	"  state INTEGER NOT NULL DEFAULT 0,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  http_status INTEGER NOT NULL DEFAULT 0,"
	"  result_code TEXT,"
	"  result_message TEXT);"
	"CREATE TABLE audit ("
	"  id INTEGER PRIMARY KEY,"
	"  time_ms INTEGER NOT NULL,"
	"  job TEXT,"
	"  uid INTEGER NOT NULL,"
	"  action TEXT NOT NULL,"
	"  detail TEXT);",
	/* 1 -> 2: FailureReasons keep every reason, not only the last. */
	"ALTER TABLE jobs ADD COLUMN failure_earlier TEXT;",
	/*
	 * 2 -> 3: inventory configurations (the canonical document, and the
	 * scheduled time the last run was for, from which the next is
	 * computed) and their runs.
	 */
	"CREATE TABLE inv_configs ("
	"  bucket TEXT NOT NULL,"
	"  id TEXT NOT NULL,"
	"  doc TEXT NOT NULL,"
	"  created_ms INTEGER NOT NULL,"
	"  updated_ms INTEGER NOT NULL,"
	"  last_sched INTEGER NOT NULL,"
	"  PRIMARY KEY (bucket, id)) WITHOUT ROWID;"
	"CREATE TABLE inv_runs ("
	"  rowid INTEGER PRIMARY KEY,"
	"  run_id TEXT NOT NULL UNIQUE,"
	"  bucket TEXT NOT NULL,"
	"  config_id TEXT NOT NULL,"
	"  state INTEGER NOT NULL,"
	"  sched_time INTEGER NOT NULL,"
	"  trigger TEXT NOT NULL,"
	"  start_ms INTEGER NOT NULL,"
	"  end_ms INTEGER NOT NULL DEFAULT 0,"
	"  objects INTEGER NOT NULL DEFAULT 0,"
	"  rows INTEGER NOT NULL DEFAULT 0,"
	"  bytes INTEGER NOT NULL DEFAULT 0,"
	"  manifest_key TEXT,"
	"  error_code TEXT,"
	"  error TEXT);"
	"CREATE INDEX inv_runs_config ON inv_runs(bucket, config_id);"
	"CREATE INDEX inv_runs_state ON inv_runs(state);",
	/*
	 * 3 -> 4: the job a finished report feeds (a configuration's
	 * JobTemplate): the report's ETag, and whether the job is still to
	 * be made (job_state 1), made (2, job_id) or refused (3, job_error).
	 */
	"ALTER TABLE inv_runs ADD COLUMN manifest_etag TEXT;"
	"ALTER TABLE inv_runs ADD COLUMN job_state INTEGER NOT NULL "
	"DEFAULT 0;"
	"ALTER TABLE inv_runs ADD COLUMN job_id TEXT;"
	"ALTER TABLE inv_runs ADD COLUMN job_error TEXT;",
	/*
	 * 4 -> 5: the API access key that asked (uid -2), for the audit;
	 * the selection a run's JobFilter wrote beside its report (the CSV
	 * manifest's key and ETag, and its rows).
	 */
	"ALTER TABLE audit ADD COLUMN principal TEXT;"
	"ALTER TABLE inv_runs ADD COLUMN selection_key TEXT;"
	"ALTER TABLE inv_runs ADD COLUMN selection_etag TEXT;"
	"ALTER TABLE inv_runs ADD COLUMN selection_rows INTEGER NOT NULL "
	"DEFAULT 0;",
};

enum store_sqlite_stmt {
	STMT_JOB_INSERT,
	STMT_JOB_UPDATE,
	STMT_JOB_GET,
	STMT_JOB_GET_TOKEN,
	STMT_JOB_DELETE,
	STMT_JOB_COUNTS,
	STMT_TAGS_GET,
	STMT_TAGS_DELETE,
	STMT_TAG_INSERT,
	STMT_AUDIT,
	STMT_TASK_ADD,
	STMT_TASKS_DELETE,
	STMT_TASKS_CLONE_ALL,
	STMT_TASKS_CLONE_FAILED,
	STMT_TASK_LIST,
	STMT_TASK_LIST_FAILED,
	STMT_TASK_WINDOW,
	STMT_TASK_RESULT,
	STMT_TASK_ETAG,
	STMT_JOB_PROGRESS,
	STMT_TASK_COUNTS,
	STMT_INV_PUT,
	STMT_INV_GET,
	STMT_INV_LIST,
	STMT_INV_DELETE,
	STMT_INV_SET_LAST,
	STMT_INV_RUN_INSERT,
	STMT_INV_RUN_UPDATE,
	STMT_INV_RUN_LIST,
	STMT_INV_STATS,
	STMT_COUNT
};

/* Task ids: a job's rowid in the high bits, its manifest position below. */
#define TASK_SEQ_BITS		40
#define TASK_ID(job, seq)	(((sqlite3_int64)(job) << TASK_SEQ_BITS) + (seq))

#define JOB_COLUMNS \
	"rowid, id, status, priority, confirmation_required, manifest, " \
	"description, operation, spec, client_token, status_reason, " \
	"failure_code, failure_reason, suspended_cause, source_job, " \
	"source_failed_only, created_ms, status_ms, suspended_ms, " \
	"terminated_ms, total_tasks, succeeded, failed, active_ms, " \
	"failure_earlier"

#define INV_COLUMNS \
	"bucket, id, doc, created_ms, updated_ms, last_sched"
#define INV_RUN_COLUMNS \
	"rowid, run_id, bucket, config_id, state, sched_time, trigger, " \
	"start_ms, end_ms, objects, rows, bytes, manifest_key, error_code, " \
	"error, manifest_etag, job_state, job_id, job_error, selection_key, " \
	"selection_etag, selection_rows"

static const char *const store_sqlite_sql[STMT_COUNT] = {
	[STMT_JOB_INSERT] = "INSERT INTO jobs (" JOB_COLUMNS ") VALUES "
	    "(NULL, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
	    "?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25)",
	[STMT_JOB_UPDATE] = "UPDATE jobs SET status = ?3, priority = ?4, "
	    "status_reason = ?11, failure_code = ?12, failure_reason = ?13, "
	    "suspended_cause = ?14, status_ms = ?18, suspended_ms = ?19, "
	    "terminated_ms = ?20, total_tasks = ?21, succeeded = ?22, "
	    "failed = ?23, active_ms = ?24, failure_earlier = ?25 "
	    "WHERE rowid = ?1",
	[STMT_JOB_GET] = "SELECT " JOB_COLUMNS " FROM jobs WHERE id = ?1",
	[STMT_JOB_GET_TOKEN] = "SELECT " JOB_COLUMNS " FROM jobs "
	    "WHERE client_token = ?1",
	[STMT_JOB_DELETE] = "DELETE FROM jobs WHERE rowid = ?1",
	[STMT_JOB_COUNTS] = "SELECT status, count(*) FROM jobs "
	    "GROUP BY status",
	[STMT_TAGS_GET] = "SELECT key, value FROM job_tags WHERE job = ?1 "
	    "ORDER BY position",
	[STMT_TAGS_DELETE] = "DELETE FROM job_tags WHERE job = ?1",
	[STMT_TAG_INSERT] = "INSERT INTO job_tags (job, position, key, value) "
	    "VALUES (?1, ?2, ?3, ?4)",
	[STMT_AUDIT] = "INSERT INTO audit (time_ms, job, uid, action, detail, "
	    "principal) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	/* ?1 and ?2 bound the job's id range: see TASK_ID. */
	[STMT_TASK_ADD] = "INSERT INTO tasks (id, bucket, key, version_id, "
	    "etag) VALUES (?1, ?2, ?3, ?4, ?5)",
	[STMT_TASKS_DELETE] = "DELETE FROM tasks WHERE id >= ?1 AND id < ?2",
	[STMT_TASKS_CLONE_ALL] = "INSERT INTO tasks (id, bucket, key, "
	    "version_id, etag) SELECT ?3 + row_number() OVER (ORDER BY id), "
	    "bucket, key, version_id, etag FROM tasks WHERE id >= ?1 AND "
	    "id < ?2",
	/*
	 * clone-job --failed-tasks-only: every task that did not succeed,
	 * those that never ran (the job failed or was cancelled part way)
	 * as well as those that failed.
	 */
	[STMT_TASKS_CLONE_FAILED] = "INSERT INTO tasks (id, bucket, key, "
	    "version_id, etag) SELECT ?3 + row_number() OVER (ORDER BY id), "
	    "bucket, key, version_id, etag FROM tasks WHERE id >= ?1 AND "
	    "id < ?2 AND state <> 2",
	[STMT_TASK_LIST] = "SELECT id - ?1, bucket, key, version_id, etag, "
	    "state, attempts, http_status, result_code, result_message "
	    "FROM tasks WHERE id > ?1 + ?3 AND id < ?2 ORDER BY id LIMIT ?4",
	[STMT_TASK_LIST_FAILED] = "SELECT id - ?1, bucket, key, version_id, "
	    "etag, state, attempts, http_status, result_code, result_message "
	    "FROM tasks WHERE id > ?1 + ?3 AND id < ?2 AND state = 3 "
	    "ORDER BY id LIMIT ?4",
	[STMT_TASK_WINDOW] = "SELECT id - ?1, bucket, key, version_id, etag, "
	    "state, attempts, http_status, result_code, result_message "
	    "FROM tasks WHERE id > ?1 + ?3 AND id < ?2 AND state < 2 "
	    "ORDER BY id LIMIT ?4",
	[STMT_TASK_RESULT] = "UPDATE tasks SET state = ?2, attempts = ?3, "
	    "http_status = ?4, result_code = ?5, result_message = ?6, "
	    "etag = coalesce(etag, ?7) WHERE id = ?1",
	[STMT_TASK_ETAG] = "UPDATE tasks SET etag = coalesce(etag, ?2) "
	    "WHERE id = ?1",
	[STMT_JOB_PROGRESS] = "UPDATE jobs SET total_tasks = ?21, "
	    "succeeded = ?22, failed = ?23 WHERE rowid = ?1",
	[STMT_TASK_COUNTS] = "SELECT state, count(*) FROM tasks WHERE "
	    "id > ?1 AND id < ?2 GROUP BY state",
	/* A new document keeps the schedule's place and the creation time. */
	[STMT_INV_PUT] = "INSERT INTO inv_configs (bucket, id, doc, "
	    "created_ms, updated_ms, last_sched) VALUES (?1, ?2, ?3, ?4, ?5, "
	    "?6) ON CONFLICT (bucket, id) DO UPDATE SET doc = excluded.doc, "
	    "updated_ms = excluded.updated_ms",
	[STMT_INV_GET] = "SELECT " INV_COLUMNS " FROM inv_configs "
	    "WHERE bucket = ?1 AND id = ?2",
	[STMT_INV_LIST] = "SELECT " INV_COLUMNS " FROM inv_configs "
	    "WHERE (?1 IS NULL OR bucket = ?1) AND id > ?2 "
	    "ORDER BY bucket, id LIMIT ?3",
	[STMT_INV_DELETE] = "DELETE FROM inv_configs WHERE bucket = ?1 AND "
	    "id = ?2",
	[STMT_INV_SET_LAST] = "UPDATE inv_configs SET last_sched = ?3 "
	    "WHERE bucket = ?1 AND id = ?2",
	[STMT_INV_RUN_INSERT] = "INSERT INTO inv_runs (" INV_RUN_COLUMNS ") "
	    "VALUES (NULL, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
	    "?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)",
	[STMT_INV_RUN_UPDATE] = "UPDATE inv_runs SET state = ?5, "
	    "end_ms = ?9, objects = ?10, rows = ?11, bytes = ?12, "
	    "manifest_key = ?13, error_code = ?14, error = ?15, "
	    "manifest_etag = ?16, job_state = ?17, job_id = ?18, "
	    "job_error = ?19, selection_key = coalesce(?20, selection_key), "
	    "selection_etag = coalesce(?21, selection_etag), selection_rows = "
	    "CASE WHEN ?20 IS NULL THEN selection_rows ELSE ?22 END "
	    "WHERE run_id = ?2",
	/* Newest first. */
	[STMT_INV_RUN_LIST] = "SELECT " INV_RUN_COLUMNS " FROM inv_runs "
	    "WHERE (?1 IS NULL OR bucket = ?1) AND (?2 IS NULL OR "
	    "config_id = ?2) AND (?3 < 0 OR state = ?3) AND (?5 < 0 OR "
	    "job_state = ?5) ORDER BY rowid DESC LIMIT ?4",
	[STMT_INV_STATS] = "SELECT c.bucket, c.id, "
	    "coalesce(sum(r.state = 1), 0), coalesce(sum(r.state = 2), 0), "
	    "coalesce(sum(r.state = 0), 0), coalesce(sum(r.objects), 0), "
	    "coalesce(sum(r.rows), 0), "
	    "coalesce(max(CASE WHEN r.state = 1 THEN r.end_ms END), 0), "
	    "coalesce((SELECT r2.end_ms - r2.start_ms FROM inv_runs r2 "
	    "WHERE r2.bucket = c.bucket AND r2.config_id = c.id AND "
	    "r2.state <> 0 ORDER BY r2.rowid DESC LIMIT 1), 0) "
	    "FROM inv_configs c LEFT JOIN inv_runs r ON r.bucket = c.bucket "
	    "AND r.config_id = c.id GROUP BY c.bucket, c.id "
	    "ORDER BY c.bucket, c.id",
};

struct store_sqlite {
	sqlite3		*db;
	sqlite3_stmt	*stmt[STMT_COUNT];
	int		 depth;		/* nested store_begin calls */
	int		 aborted;	/* rolled back inside a nest */
};

static int
store_sqlite_error(struct store_sqlite *s, const char *what, char **cause)
{
	xasprintf(cause, "store: %s: %s", what, sqlite3_errmsg(s->db));
	return (-1);
}

static int
store_sqlite_exec(struct store_sqlite *s, const char *sql, char **cause)
{
	char	*err = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		if (cause != NULL)
			xasprintf(cause, "store: %s", err != NULL ? err :
			    "exec failed");
		sqlite3_free(err);
		return (-1);
	}
	return (0);
}

static sqlite3_stmt *
store_sqlite_stmt(struct store_sqlite *s, enum store_sqlite_stmt which)
{
	sqlite3_stmt	*st = s->stmt[which];

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return (st);
}

static int
store_sqlite_migrate(struct store_sqlite *s, char **cause)
{
	sqlite3_stmt	*st;
	int		 version;
	size_t		 i;
	char		 sql[64];

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st,
	    NULL) != SQLITE_OK)
		return (store_sqlite_error(s, "user_version", cause));
	version = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	if (version > (int)nitems(store_sqlite_migrations)) {
		xasprintf(cause, "store: schema version %d is newer than this "
		    "s3batchd knows (%zu)", version,
		    nitems(store_sqlite_migrations));
		return (-1);
	}
	for (i = (size_t)version; i < nitems(store_sqlite_migrations); i++) {
		if (store_sqlite_exec(s, "BEGIN IMMEDIATE", cause) != 0)
			return (-1);
		snprintf(sql, sizeof sql, "PRAGMA user_version = %zu", i + 1);
		if (store_sqlite_exec(s, store_sqlite_migrations[i], cause) != 0 ||
		    store_sqlite_exec(s, sql, cause) != 0) {
			store_sqlite_exec(s, "ROLLBACK", NULL);
			return (-1);
		}
		if (store_sqlite_exec(s, "COMMIT", cause) != 0)
			return (-1);
		log_info("store: schema migrated to version %zu", i + 1);
	}
	return (0);
}

static void store_sqlite_close(void *);

/*
 * The database holds every job's spec and results: it is created 0600
 * whatever the umask, and SQLite gives its -wal and -shm files the mode
 * of the database (it chmods them to it when it creates them). Files an
 * older s3batchd left readable by all lose that (a group an operator gave
 * them is kept).
 */
static void
store_sqlite_private(const char *path)
{
	static const char *const suffixes[] = { "", "-wal", "-shm" };
	struct stat	 sb;
	char		*p;
	size_t		 i;

	for (i = 0; i < nitems(suffixes); i++) {
		xasprintf(&p, "%s%s", path, suffixes[i]);
		if (stat(p, &sb) == 0 && (sb.st_mode & 007) != 0 &&
		    chmod(p, sb.st_mode & 0770) == -1)
			log_warn("store: chmod %s", p);
		free(p);
	}
}

static int
store_sqlite_create(const char *path, char **cause)
{
	int	fd;

	if ((fd = open(path, O_RDWR|O_CREAT|O_EXCL|O_CLOEXEC, 0600)) == -1) {
		if (errno == EEXIST) {
			store_sqlite_private(path);
			return (0);
		}
		xasprintf(cause, "store: cannot create %s: %s", path,
		    strerror(errno));
		return (-1);
	}
	if (fchmod(fd, 0600) == -1) {
		xasprintf(cause, "store: chmod %s: %s", path, strerror(errno));
		close(fd);
		return (-1);
	}
	close(fd);
	return (0);
}

static void *
store_sqlite_open(const char *dir, int flags, char **cause)
{
	struct store_sqlite	*s;
	char			*path;
	int			 i;

	/* No global allocation statistics: they take a mutex per malloc. */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	s = xcalloc(1, sizeof *s);
	xasprintf(&path, "%s/s3batchd.db", dir);
	if (!(flags & STORE_READONLY) && store_sqlite_create(path, cause) != 0) {
		free(path);
		store_sqlite_close(s);
		return (NULL);
	}
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE|
	    SQLITE_OPEN_CREATE|SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		xasprintf(cause, "store: cannot open %s: %s", path,
		    s->db != NULL ? sqlite3_errmsg(s->db) : "out of memory");
		free(path);
		store_sqlite_close(s);
		return (NULL);
	}
	free(path);
	sqlite3_busy_timeout(s->db, 10000);
	sqlite3_extended_result_codes(s->db, 1);
	if (store_sqlite_exec(s, "PRAGMA journal_mode = WAL", cause) != 0 ||
	    store_sqlite_exec(s, "PRAGMA synchronous = FULL", cause) != 0 ||
	    store_sqlite_exec(s, "PRAGMA foreign_keys = OFF", cause) != 0 ||
	    /* A few MiB a connection: memory stays flat with job size. */
	    store_sqlite_exec(s, "PRAGMA cache_size = -4000", cause) != 0)
		goto fail;
	if (!(flags & STORE_READONLY) && store_sqlite_migrate(s, cause) != 0)
		goto fail;
	for (i = 0; i < STMT_COUNT; i++) {
		if (sqlite3_prepare_v3(s->db, store_sqlite_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &s->stmt[i], NULL) != SQLITE_OK) {
			store_sqlite_error(s, store_sqlite_sql[i], cause);
			goto fail;
		}
	}
	return (s);
fail:
	store_sqlite_close(s);
	return (NULL);
}

static void
store_sqlite_close(void *arg)
{
	struct store_sqlite	*s = arg;
	int			 i;

	if (s == NULL)
		return;
	for (i = 0; i < STMT_COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	if (s->db != NULL)
		sqlite3_close(s->db);
	free(s);
}

static int
store_sqlite_begin(void *arg, char **cause)
{
	struct store_sqlite	*s = arg;

	if (s->depth++ > 0)
		return (0);
	s->aborted = 0;
	if (store_sqlite_exec(s, "BEGIN IMMEDIATE", cause) != 0) {
		s->depth = 0;
		return (-1);
	}
	return (0);
}

static int
store_sqlite_commit(void *arg, char **cause)
{
	struct store_sqlite	*s = arg;

	if (s->depth == 0) {
		xasprintf(cause, "store: commit without a transaction%s",
		    s->aborted ? " (it was rolled back)" : "");
		return (-1);
	}
	if (--s->depth > 0)
		return (0);
	if (store_sqlite_exec(s, "COMMIT", cause) != 0) {
		store_sqlite_exec(s, "ROLLBACK", NULL);
		return (-1);
	}
	return (0);
}

static void
store_sqlite_rollback(void *arg)
{
	struct store_sqlite	*s = arg;

	if (s->depth == 0)
		return;
	s->depth = 0;
	s->aborted = 1;
	store_sqlite_exec(s, "ROLLBACK", NULL);
}

static int
store_sqlite_set_durable(void *arg, int durable, char **cause)
{
	struct store_sqlite	*s = arg;

	return (store_sqlite_exec(s, durable ? "PRAGMA synchronous = FULL" :
	    "PRAGMA synchronous = NORMAL", cause));
}

static void
store_sqlite_bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

static void
store_sqlite_bind_job(sqlite3_stmt *st, const struct job *j)
{
	sqlite3_bind_int64(st, 1, j->rowid);
	sqlite3_bind_text(st, 2, j->id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, (int)j->status);
	sqlite3_bind_int64(st, 4, j->priority);
	sqlite3_bind_int(st, 5, j->confirmation_required);
	sqlite3_bind_int(st, 6, (int)j->manifest);
	store_sqlite_bind_text(st, 7, j->description);
	store_sqlite_bind_text(st, 8, j->operation);
	store_sqlite_bind_text(st, 9, j->spec);
	store_sqlite_bind_text(st, 10, j->client_token);
	store_sqlite_bind_text(st, 11, j->status_reason);
	store_sqlite_bind_text(st, 12, j->failure_code);
	store_sqlite_bind_text(st, 13, j->failure_reason);
	store_sqlite_bind_text(st, 14, j->suspended_cause);
	store_sqlite_bind_text(st, 15, j->source_job);
	sqlite3_bind_int(st, 16, j->source_failed_only);
	sqlite3_bind_int64(st, 17, (sqlite3_int64)j->created_ms);
	sqlite3_bind_int64(st, 18, (sqlite3_int64)j->status_ms);
	sqlite3_bind_int64(st, 19, (sqlite3_int64)j->suspended_ms);
	sqlite3_bind_int64(st, 20, (sqlite3_int64)j->terminated_ms);
	sqlite3_bind_int64(st, 21, (sqlite3_int64)j->total_tasks);
	sqlite3_bind_int64(st, 22, (sqlite3_int64)j->succeeded);
	sqlite3_bind_int64(st, 23, (sqlite3_int64)j->failed);
	sqlite3_bind_int64(st, 24, (sqlite3_int64)j->active_ms);
	store_sqlite_bind_text(st, 25, j->failure_earlier);
}

static char *
store_sqlite_column_text(sqlite3_stmt *st, int i)
{
	const unsigned char	*v = sqlite3_column_text(st, i);

	return (v != NULL ? xstrdup((const char *)v) : NULL);
}

static void
store_sqlite_read_job(sqlite3_stmt *st, struct job *j)
{
	const unsigned char	*id;

	memset(j, 0, sizeof *j);
	j->rowid = sqlite3_column_int64(st, 0);
	id = sqlite3_column_text(st, 1);
	snprintf(j->id, sizeof j->id, "%s", id != NULL ? (const char *)id : "");
	j->status = (enum job_status)sqlite3_column_int(st, 2);
	j->priority = sqlite3_column_int64(st, 3);
	j->confirmation_required = sqlite3_column_int(st, 4);
	j->manifest = (enum job_manifest)sqlite3_column_int(st, 5);
	j->description = store_sqlite_column_text(st, 6);
	j->operation = store_sqlite_column_text(st, 7);
	j->spec = store_sqlite_column_text(st, 8);
	j->client_token = store_sqlite_column_text(st, 9);
	j->status_reason = store_sqlite_column_text(st, 10);
	j->failure_code = store_sqlite_column_text(st, 11);
	j->failure_reason = store_sqlite_column_text(st, 12);
	j->suspended_cause = store_sqlite_column_text(st, 13);
	j->source_job = store_sqlite_column_text(st, 14);
	j->source_failed_only = sqlite3_column_int(st, 15);
	j->created_ms = (uint64_t)sqlite3_column_int64(st, 16);
	j->status_ms = (uint64_t)sqlite3_column_int64(st, 17);
	j->suspended_ms = (uint64_t)sqlite3_column_int64(st, 18);
	j->terminated_ms = (uint64_t)sqlite3_column_int64(st, 19);
	j->total_tasks = (uint64_t)sqlite3_column_int64(st, 20);
	j->succeeded = (uint64_t)sqlite3_column_int64(st, 21);
	j->failed = (uint64_t)sqlite3_column_int64(st, 22);
	j->active_ms = (uint64_t)sqlite3_column_int64(st, 23);
	j->failure_earlier = store_sqlite_column_text(st, 24);
}

static int
store_sqlite_step_done(struct store_sqlite *s, sqlite3_stmt *st,
    const char *what, char **cause)
{
	int	r;

	r = sqlite3_step(st);
	if (r != SQLITE_DONE) {
		store_sqlite_error(s, what, cause);
		sqlite3_reset(st);
		return (-1);
	}
	sqlite3_reset(st);
	return (0);
}

static int
store_sqlite_job_insert(void *arg, struct job *j, char **cause)
{
	struct store_sqlite	*s = arg;
	sqlite3_stmt		*st = store_sqlite_stmt(s, STMT_JOB_INSERT);

	store_sqlite_bind_job(st, j);
	if (store_sqlite_step_done(s, st, "inserting a job", cause) != 0)
		return (-1);
	j->rowid = sqlite3_last_insert_rowid(s->db);
	return (0);
}

static int
store_sqlite_job_update(void *arg, const struct job *j, char **cause)
{
	struct store_sqlite	*s = arg;
	sqlite3_stmt		*st = store_sqlite_stmt(s, STMT_JOB_UPDATE);

	store_sqlite_bind_job(st, j);
	return (store_sqlite_step_done(s, st, "updating a job", cause));
}

static int
store_sqlite_job_lookup(struct store_sqlite *s, enum store_sqlite_stmt which,
    const char *key, struct job *j, char **cause)
{
	sqlite3_stmt	*st = store_sqlite_stmt(s, which);
	int		 r;

	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		store_sqlite_read_job(st, j);
		sqlite3_reset(st);
		return (0);
	}
	sqlite3_reset(st);
	if (r == SQLITE_DONE)
		return (1);
	return (store_sqlite_error(s, "reading a job", cause));
}

static int
store_sqlite_job_get(void *arg, const char *id, struct job *j, char **cause)
{
	return (store_sqlite_job_lookup(arg, STMT_JOB_GET, id, j, cause));
}

static int
store_sqlite_job_get_by_token(void *arg, const char *token, struct job *j,
    char **cause)
{
	return (store_sqlite_job_lookup(arg, STMT_JOB_GET_TOKEN, token, j,
	    cause));
}

/*
 * Listing with a status mask (bit per job_status, 0: all) after a job id:
 * built per call, since the mask changes the statement.
 */
static int
store_sqlite_job_list(void *arg, uint32_t mask, int64_t after, int max,
    store_job_cb cb, void *cbarg, char **cause)
{
	struct store_sqlite	*s = arg;
	sqlite3_stmt		*st;
	struct buf		 sql;
	struct job		 j;
	int			 i, r, first = 1;

	/* The status mask (a bit per job_status, 0: all) shapes the SQL. */
	buf_init(&sql);
	buf_adds(&sql, "SELECT " JOB_COLUMNS " FROM jobs WHERE rowid > ?1");
	if (mask != 0) {
		buf_adds(&sql, " AND status IN (");
		for (i = 0; i < JOB_NSTATUS; i++) {
			if (mask & (1U << i)) {
				buf_addf(&sql, "%s%d", first ? "" : ",", i);
				first = 0;
			}
		}
		buf_adds(&sql, ")");
	}
	buf_adds(&sql, " ORDER BY rowid LIMIT ?2");
	if (sqlite3_prepare_v2(s->db, sql.data, -1, &st, NULL) != SQLITE_OK) {
		buf_free(&sql);
		return (store_sqlite_error(s, "listing jobs", cause));
	}
	buf_free(&sql);
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int(st, 2, max);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		store_sqlite_read_job(st, &j);
		i = cb(&j, cbarg);
		job_clear(&j);
		if (i != 0) {
			r = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(st);
	if (r != SQLITE_DONE)
		return (store_sqlite_error(s, "listing jobs", cause));
	return (0);
}

static int
store_sqlite_job_delete(void *arg, int64_t rowid, char **cause)
{
	struct store_sqlite	*s = arg;
	sqlite3_stmt		*st;

	st = store_sqlite_stmt(s, STMT_TASKS_DELETE);
	sqlite3_bind_int64(st, 1, TASK_ID(rowid, 0));
	sqlite3_bind_int64(st, 2, TASK_ID(rowid + 1, 0));
	if (store_sqlite_step_done(s, st, "deleting tasks", cause) != 0)
		return (-1);
	st = store_sqlite_stmt(s, STMT_TAGS_DELETE);
	sqlite3_bind_int64(st, 1, rowid);
	if (store_sqlite_step_done(s, st, "deleting tags", cause) != 0)
		return (-1);
	st = store_sqlite_stmt(s, STMT_JOB_DELETE);
	sqlite3_bind_int64(st, 1, rowid);
	return (store_sqlite_step_done(s, st, "deleting a job", cause));
}

static int
store_sqlite_job_counts(void *arg, uint64_t counts[JOB_NSTATUS], char **cause)
{
	struct store_sqlite	*s = arg;
	sqlite3_stmt		*st = store_sqlite_stmt(s, STMT_JOB_COUNTS);
	int			 r, status;

	memset(counts, 0, sizeof(uint64_t) * JOB_NSTATUS);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		status = sqlite3_column_int(st, 0);
		if (status >= 0 && status < JOB_NSTATUS)
			counts[status] = (uint64_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (r != SQLITE_DONE)
		return (store_sqlite_error(s, "counting jobs", cause));
	return (0);
}

static int
store_sqlite_tags_get(void *arg, int64_t job, struct json_object **out,
    char **cause)
{
	struct store_sqlite	*s = arg;
	sqlite3_stmt		*st = store_sqlite_stmt(s, STMT_TAGS_GET);
	struct json_object	*tags, *t;
	int			 r;

	tags = json_object_new_array();
	sqlite3_bind_int64(st, 1, job);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		t = json_object_new_object();
		json_object_object_add(t, "Key", json_object_new_string(
		    (const char *)sqlite3_column_text(st, 0)));
		json_object_object_add(t, "Value", json_object_new_string(
		    (const char *)sqlite3_column_text(st, 1)));
		json_object_array_add(tags, t);
	}
	sqlite3_reset(st);
	if (r != SQLITE_DONE) {
		json_object_put(tags);
		return (store_sqlite_error(s, "reading tags", cause));
	}
	*out = tags;
	return (0);
}

static int
store_sqlite_tags_set(void *arg, int64_t job, struct json_object *tags,
    char **cause)
{
	struct store_sqlite	*s = arg;
	sqlite3_stmt		*st;
	struct json_object	*t, *k, *v;
	size_t			 i, n;

	st = store_sqlite_stmt(s, STMT_TAGS_DELETE);
	sqlite3_bind_int64(st, 1, job);
	if (store_sqlite_step_done(s, st, "deleting tags", cause) != 0)
		return (-1);
	n = tags != NULL ? json_object_array_length(tags) : 0;
	for (i = 0; i < n; i++) {
		t = json_object_array_get_idx(tags, i);
		if (!json_object_object_get_ex(t, "Key", &k))
			continue;
		if (!json_object_object_get_ex(t, "Value", &v))
			v = NULL;
		st = store_sqlite_stmt(s, STMT_TAG_INSERT);
		sqlite3_bind_int64(st, 1, job);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
		sqlite3_bind_text(st, 3, json_object_get_string(k), -1,
		    SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 4, v != NULL ?
		    json_object_get_string(v) : "", -1, SQLITE_TRANSIENT);
		if (store_sqlite_step_done(s, st, "storing a tag", cause) != 0)
			return (-1);
	}
	return (0);
}

static int
store_sqlite_audit(void *arg, const char *job, const struct store_actor *who,
    const char *action, const char *detail, char **cause)
{
	struct store_sqlite	*s = arg;
	sqlite3_stmt		*st = store_sqlite_stmt(s, STMT_AUDIT);

	sqlite3_bind_int64(st, 1, (sqlite3_int64)time_now_ms());
	store_sqlite_bind_text(st, 2, job);
	sqlite3_bind_int64(st, 3, who->uid == STORE_UID_DAEMON ? -1 :
	    who->uid == STORE_UID_API ? -2 : (sqlite3_int64)who->uid);
	sqlite3_bind_text(st, 4, action, -1, SQLITE_STATIC);
	store_sqlite_bind_text(st, 5, detail);
	store_sqlite_bind_text(st, 6, who->key);
	return (store_sqlite_step_done(s, st, "writing the audit trail", cause));
}

static int
store_sqlite_task_add(void *arg, int64_t job, const struct store_task *t,
    char **cause)
{
	struct store_sqlite	*s = arg;
	sqlite3_stmt		*st = store_sqlite_stmt(s, STMT_TASK_ADD);

	if (t->seq < 1 || t->seq >= (int64_t)1 << TASK_SEQ_BITS) {
		xasprintf(cause, "store: task %lld is beyond %lld tasks a job",
		    (long long)t->seq, (long long)1 << TASK_SEQ_BITS);
		return (-1);
	}
	sqlite3_bind_int64(st, 1, TASK_ID(job, t->seq));
	sqlite3_bind_text(st, 2, t->bucket, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, t->key, (int)t->key_len, SQLITE_STATIC);
	store_sqlite_bind_text(st, 4, t->version_id);
	store_sqlite_bind_text(st, 5, t->etag);
	return (store_sqlite_step_done(s, st, "storing a task", cause));
}

static int
store_sqlite_tasks_delete(void *arg, int64_t job, char **cause)
{
	struct store_sqlite	*s = arg;
	sqlite3_stmt		*st = store_sqlite_stmt(s, STMT_TASKS_DELETE);

	sqlite3_bind_int64(st, 1, TASK_ID(job, 0));
	sqlite3_bind_int64(st, 2, TASK_ID(job + 1, 0));
	return (store_sqlite_step_done(s, st, "deleting tasks", cause));
}

static int
store_sqlite_tasks_clone(void *arg, int64_t from, int64_t to, int failed_only,
    uint64_t *n, char **cause)
{
	struct store_sqlite	*s = arg;
	sqlite3_stmt		*st;

	st = store_sqlite_stmt(s, failed_only ? STMT_TASKS_CLONE_FAILED :
	    STMT_TASKS_CLONE_ALL);
	sqlite3_bind_int64(st, 1, TASK_ID(from, 0));
	sqlite3_bind_int64(st, 2, TASK_ID(from + 1, 0));
	sqlite3_bind_int64(st, 3, TASK_ID(to, 0));
	if (store_sqlite_step_done(s, st, "cloning tasks", cause) != 0)
		return (-1);
	*n = (uint64_t)sqlite3_changes(s->db);
	return (0);
}

/* A row of the task queries (they all select the same columns). */
static void
store_sqlite_read_task(sqlite3_stmt *st, struct store_task *t)
{
	memset(t, 0, sizeof *t);
	t->seq = sqlite3_column_int64(st, 0);
	t->bucket = (const char *)sqlite3_column_text(st, 1);
	t->key = sqlite3_column_blob(st, 2);
	t->key_len = (size_t)sqlite3_column_bytes(st, 2);
	t->version_id = (const char *)sqlite3_column_text(st, 3);
	t->etag = (const char *)sqlite3_column_text(st, 4);
	t->state = (enum task_state)sqlite3_column_int(st, 5);
	t->attempts = sqlite3_column_int(st, 6);
	t->http_status = sqlite3_column_int(st, 7);
	t->result_code = (const char *)sqlite3_column_text(st, 8);
	t->result_message = (const char *)sqlite3_column_text(st, 9);
}

/*
 * The end of a loop of sqlite3_step whose last answer was r: st reset,
 * then 0 when the rows ran out or the callback stopped at one, else -1
 * with *cause.
 */
static int
store_sqlite_rows_end(struct store_sqlite *s, sqlite3_stmt *st, int r,
    const char *what, char **cause)
{
	sqlite3_reset(st);
	if (r != SQLITE_DONE && r != SQLITE_ROW)
		return (store_sqlite_error(s, what, cause));
	return (0);
}

static int
store_sqlite_task_list(void *arg, int64_t job, int64_t after, int max,
    int failed_only, store_task_cb cb, void *cbarg, char **cause)
{
	struct store_sqlite	*s = arg;
	sqlite3_stmt		*st;
	struct store_task	 t;
	int			 r;

	st = store_sqlite_stmt(s, failed_only ? STMT_TASK_LIST_FAILED :
	    STMT_TASK_LIST);
	sqlite3_bind_int64(st, 1, TASK_ID(job, 0));
	sqlite3_bind_int64(st, 2, TASK_ID(job + 1, 0));
	sqlite3_bind_int64(st, 3, after);
	sqlite3_bind_int(st, 4, max);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		store_sqlite_read_task(st, &t);
		if (cb(&t, cbarg) != 0)
			break;
	}
	return (store_sqlite_rows_end(s, st, r, "listing tasks", cause));
}

static int
store_sqlite_task_window(void *arg, int64_t job, int64_t after, int max,
    store_task_cb cb, void *cbarg, char **cause)
{
	struct store_sqlite	*s = arg;
	sqlite3_stmt		*st = store_sqlite_stmt(s, STMT_TASK_WINDOW);
	struct store_task	 t;
	int			 r;

	sqlite3_bind_int64(st, 1, TASK_ID(job, 0));
	sqlite3_bind_int64(st, 2, TASK_ID(job + 1, 0));
	sqlite3_bind_int64(st, 3, after);
	sqlite3_bind_int(st, 4, max);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		store_sqlite_read_task(st, &t);
		if (cb(&t, cbarg) != 0)
			break;
	}
	return (store_sqlite_rows_end(s, st, r, "reading tasks", cause));
}

static int
store_sqlite_task_result(void *arg, int64_t job, const struct store_task *t,
    char **cause)
{
	struct store_sqlite	*s = arg;
	sqlite3_stmt		*st = store_sqlite_stmt(s, STMT_TASK_RESULT);

	sqlite3_bind_int64(st, 1, TASK_ID(job, t->seq));
	sqlite3_bind_int(st, 2, (int)t->state);
	sqlite3_bind_int(st, 3, t->attempts);
	sqlite3_bind_int(st, 4, t->http_status);
	store_sqlite_bind_text(st, 5, t->result_code);
	store_sqlite_bind_text(st, 6, t->result_message);
	store_sqlite_bind_text(st, 7, t->etag);
	return (store_sqlite_step_done(s, st, "storing a task result", cause));
}

static int
store_sqlite_task_etag(void *arg, int64_t job, int64_t seq, const char *etag,
    char **cause)
{
	struct store_sqlite	*s = arg;
	sqlite3_stmt		*st = store_sqlite_stmt(s, STMT_TASK_ETAG);

	sqlite3_bind_int64(st, 1, TASK_ID(job, seq));
	store_sqlite_bind_text(st, 2, etag);
	return (store_sqlite_step_done(s, st, "storing a task's ETag", cause));
}

static int
store_sqlite_job_progress(void *arg, const struct job *j, char **cause)
{
	struct store_sqlite	*s = arg;
	sqlite3_stmt		*st = store_sqlite_stmt(s, STMT_JOB_PROGRESS);

	store_sqlite_bind_job(st, j);
	return (store_sqlite_step_done(s, st, "storing progress", cause));
}

static int
store_sqlite_task_counts(void *arg, int64_t job, uint64_t counts[4],
    char **cause)
{
	struct store_sqlite	*s = arg;
	sqlite3_stmt		*st = store_sqlite_stmt(s, STMT_TASK_COUNTS);
	int			 r, state;

	memset(counts, 0, 4 * sizeof counts[0]);
	sqlite3_bind_int64(st, 1, TASK_ID(job, 0));
	sqlite3_bind_int64(st, 2, TASK_ID(job + 1, 0));
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		state = sqlite3_column_int(st, 0);
		if (state >= 0 && state < 4)
			counts[state] = (uint64_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (r != SQLITE_DONE)
		return (store_sqlite_error(s, "counting tasks", cause));
	return (0);
}

static const char *
store_sqlite_text(sqlite3_stmt *st, int col)
{
	return ((const char *)sqlite3_column_text(st, col));
}

static int
store_sqlite_inv_put(void *arg, const struct store_inv *inv, char **cause)
{
	struct store_sqlite	*s = arg;
	sqlite3_stmt		*st = store_sqlite_stmt(s, STMT_INV_PUT);

	sqlite3_bind_text(st, 1, inv->bucket, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, inv->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, inv->doc, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, inv->created_ms);
	sqlite3_bind_int64(st, 5, inv->updated_ms);
	sqlite3_bind_int64(st, 6, inv->last_sched);
	return (store_sqlite_step_done(s, st, "storing an inventory "
	    "configuration", cause));
}

/* Rows of STMT_INV_GET or STMT_INV_LIST to cb; the count in *n. */
static int
store_sqlite_inv_rows(struct store_sqlite *s, sqlite3_stmt *st,
    store_inv_cb cb, void *cbarg, int *n, char **cause)
{
	struct store_inv	 inv;
	int			 r;

	*n = 0;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		inv.bucket = store_sqlite_text(st, 0);
		inv.id = store_sqlite_text(st, 1);
		inv.doc = store_sqlite_text(st, 2);
		inv.created_ms = sqlite3_column_int64(st, 3);
		inv.updated_ms = sqlite3_column_int64(st, 4);
		inv.last_sched = sqlite3_column_int64(st, 5);
		(*n)++;
		if (cb(&inv, cbarg) != 0)
			break;
	}
	return (store_sqlite_rows_end(s, st, r, "reading inventory "
	    "configurations", cause));
}

static int
store_sqlite_inv_get(void *arg, const char *bucket, const char *id,
    store_inv_cb cb, void *cbarg, char **cause)
{
	struct store_sqlite	*s = arg;
	sqlite3_stmt		*st = store_sqlite_stmt(s, STMT_INV_GET);
	int			 n;

	sqlite3_bind_text(st, 1, bucket, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if (store_sqlite_inv_rows(s, st, cb, cbarg, &n, cause) != 0)
		return (-1);
	return (n == 0 ? 1 : 0);
}

static int
store_sqlite_inv_list(void *arg, const char *bucket, const char *after,
    int max, store_inv_cb cb, void *cbarg, char **cause)
{
	struct store_sqlite	*s = arg;
	sqlite3_stmt		*st = store_sqlite_stmt(s, STMT_INV_LIST);
	int			 n;

	store_sqlite_bind_text(st, 1, bucket);
	sqlite3_bind_text(st, 2, after != NULL ? after : "", -1,
	    SQLITE_STATIC);
	sqlite3_bind_int(st, 3, max);
	return (store_sqlite_inv_rows(s, st, cb, cbarg, &n, cause));
}

static int
store_sqlite_inv_delete(void *arg, const char *bucket, const char *id,
    char **cause)
{
	struct store_sqlite	*s = arg;
	sqlite3_stmt		*st = store_sqlite_stmt(s, STMT_INV_DELETE);

	sqlite3_bind_text(st, 1, bucket, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if (store_sqlite_step_done(s, st, "deleting an inventory "
	    "configuration", cause) != 0)
		return (-1);
	return (sqlite3_changes(s->db) == 0 ? 1 : 0);
}

static int
store_sqlite_inv_set_last(void *arg, const char *bucket, const char *id,
    int64_t last, char **cause)
{
	struct store_sqlite	*s = arg;
	sqlite3_stmt		*st = store_sqlite_stmt(s, STMT_INV_SET_LAST);

	sqlite3_bind_text(st, 1, bucket, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, last);
	return (store_sqlite_step_done(s, st, "storing an inventory "
	    "schedule", cause));
}

static void
store_sqlite_bind_inv_run(sqlite3_stmt *st, const struct store_inv_run *r)
{
	sqlite3_bind_text(st, 2, r->run_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->bucket, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->config_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, (int)r->state);
	sqlite3_bind_int64(st, 6, r->sched_time);
	sqlite3_bind_text(st, 7, r->trigger, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, r->start_ms);
	sqlite3_bind_int64(st, 9, r->end_ms);
	sqlite3_bind_int64(st, 10, r->objects);
	sqlite3_bind_int64(st, 11, r->rows);
	sqlite3_bind_int64(st, 12, r->bytes);
	store_sqlite_bind_text(st, 13, r->manifest_key);
	store_sqlite_bind_text(st, 14, r->error_code);
	store_sqlite_bind_text(st, 15, r->error);
	store_sqlite_bind_text(st, 16, r->manifest_etag);
	sqlite3_bind_int(st, 17, (int)r->job_state);
	store_sqlite_bind_text(st, 18, r->job_id);
	store_sqlite_bind_text(st, 19, r->job_error);
	store_sqlite_bind_text(st, 20, r->selection_key);
	store_sqlite_bind_text(st, 21, r->selection_etag);
	sqlite3_bind_int64(st, 22, r->selection_rows);
}

/* STMT_INV_RUN_INSERT or STMT_INV_RUN_UPDATE: the same columns. */
static int
store_sqlite_inv_run_write(struct store_sqlite *s,
    enum store_sqlite_stmt stmt, const struct store_inv_run *r,
    const char *what, char **cause)
{
	sqlite3_stmt	*st = store_sqlite_stmt(s, stmt);

	store_sqlite_bind_inv_run(st, r);
	return (store_sqlite_step_done(s, st, what, cause));
}

static int
store_sqlite_inv_run_insert(void *arg, const struct store_inv_run *r,
    char **cause)
{
	return (store_sqlite_inv_run_write(arg, STMT_INV_RUN_INSERT, r,
	    "inserting an inventory run", cause));
}

static int
store_sqlite_inv_run_update(void *arg, const struct store_inv_run *r,
    char **cause)
{
	return (store_sqlite_inv_run_write(arg, STMT_INV_RUN_UPDATE, r,
	    "updating an inventory run", cause));
}

static int
store_sqlite_inv_run_list(void *arg, const char *bucket, const char *id,
    int state, int job_state, int max, store_inv_run_cb cb, void *cbarg,
    char **cause)
{
	struct store_sqlite	*s = arg;
	sqlite3_stmt		*st = store_sqlite_stmt(s, STMT_INV_RUN_LIST);
	struct store_inv_run	 run;
	int			 r;

	store_sqlite_bind_text(st, 1, bucket);
	store_sqlite_bind_text(st, 2, id);
	sqlite3_bind_int(st, 3, state);
	sqlite3_bind_int(st, 4, max);
	sqlite3_bind_int(st, 5, job_state);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		run.rowid = sqlite3_column_int64(st, 0);
		run.run_id = store_sqlite_text(st, 1);
		run.bucket = store_sqlite_text(st, 2);
		run.config_id = store_sqlite_text(st, 3);
		run.state = (enum store_inv_state)sqlite3_column_int(st, 4);
		run.sched_time = sqlite3_column_int64(st, 5);
		run.trigger = store_sqlite_text(st, 6);
		run.start_ms = sqlite3_column_int64(st, 7);
		run.end_ms = sqlite3_column_int64(st, 8);
		run.objects = sqlite3_column_int64(st, 9);
		run.rows = sqlite3_column_int64(st, 10);
		run.bytes = sqlite3_column_int64(st, 11);
		run.manifest_key = store_sqlite_text(st, 12);
		run.error_code = store_sqlite_text(st, 13);
		run.error = store_sqlite_text(st, 14);
		run.manifest_etag = store_sqlite_text(st, 15);
		run.job_state = (enum store_inv_job)sqlite3_column_int(st, 16);
		run.job_id = store_sqlite_text(st, 17);
		run.job_error = store_sqlite_text(st, 18);
		run.selection_key = store_sqlite_text(st, 19);
		run.selection_etag = store_sqlite_text(st, 20);
		run.selection_rows = sqlite3_column_int64(st, 21);
		if (cb(&run, cbarg) != 0)
			break;
	}
	return (store_sqlite_rows_end(s, st, r, "reading inventory runs",
	    cause));
}

static int
store_sqlite_inv_stats(void *arg, store_inv_stats_cb cb, void *cbarg,
    char **cause)
{
	struct store_sqlite	*s = arg;
	sqlite3_stmt		*st = store_sqlite_stmt(s, STMT_INV_STATS);
	struct store_inv_stats	 is;
	int			 r;

	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		is.bucket = store_sqlite_text(st, 0);
		is.id = store_sqlite_text(st, 1);
		is.succeeded = sqlite3_column_int64(st, 2);
		is.failed = sqlite3_column_int64(st, 3);
		is.running = sqlite3_column_int64(st, 4);
		is.objects = sqlite3_column_int64(st, 5);
		is.rows = sqlite3_column_int64(st, 6);
		is.last_success_ms = sqlite3_column_int64(st, 7);
		is.last_duration_ms = sqlite3_column_int64(st, 8);
		if (cb(&is, cbarg) != 0)
			break;
	}
	return (store_sqlite_rows_end(s, st, r,
	    "reading inventory statistics", cause));
}

const struct store_backend store_sqlite_backend = {
	.name = "sqlite",
	.open = store_sqlite_open,
	.close = store_sqlite_close,
	.begin = store_sqlite_begin,
	.commit = store_sqlite_commit,
	.rollback = store_sqlite_rollback,
	.set_durable = store_sqlite_set_durable,
	.job_insert = store_sqlite_job_insert,
	.job_update = store_sqlite_job_update,
	.job_get = store_sqlite_job_get,
	.job_get_by_token = store_sqlite_job_get_by_token,
	.job_list = store_sqlite_job_list,
	.job_delete = store_sqlite_job_delete,
	.job_counts = store_sqlite_job_counts,
	.tags_get = store_sqlite_tags_get,
	.tags_set = store_sqlite_tags_set,
	.audit = store_sqlite_audit,
	.task_add = store_sqlite_task_add,
	.tasks_delete = store_sqlite_tasks_delete,
	.tasks_clone = store_sqlite_tasks_clone,
	.task_list = store_sqlite_task_list,
	.task_window = store_sqlite_task_window,
	.task_result = store_sqlite_task_result,
	.task_etag = store_sqlite_task_etag,
	.job_progress = store_sqlite_job_progress,
	.task_counts = store_sqlite_task_counts,
	.inv_put = store_sqlite_inv_put,
	.inv_get = store_sqlite_inv_get,
	.inv_list = store_sqlite_inv_list,
	.inv_delete = store_sqlite_inv_delete,
	.inv_set_last = store_sqlite_inv_set_last,
	.inv_run_insert = store_sqlite_inv_run_insert,
	.inv_run_update = store_sqlite_inv_run_update,
	.inv_run_list = store_sqlite_inv_run_list,
	.inv_stats = store_sqlite_inv_stats,
};
