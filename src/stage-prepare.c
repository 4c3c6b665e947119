/*
 * The prepare stage. Everything but the start and the end runs on the bulk
 * thread, against the thread's store connection; the loop only learns the
 * outcome. A stop while the thread works marks the stage: the thread gives
 * up at its next batch (bulk_stopping at shutdown) and the stage frees
 * itself when the item comes back.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <json-c/json.h>

#include "s3batchd.h"
#include "bulk.h"
#include "cfg.h"
#include "core.h"
#include "invfilter.h"
#include "job.h"
#include "manifest.h"
#include "spool.h"
#include "stage-prepare.h"
#include "store.h"

#define PREPARE_BATCH_ROWS	100000
#define PREPARE_READ_SIZE	(1024 * 1024)

struct stage_prepare {
	struct core		*core;
	struct bulk		*bulk;
	char			 id[37];
	char			*state_dir;
	int			 clone;
	int			 stopped;	/* by the lifecycle */
	/* Set on the bulk thread, read on the loop when it comes back. */
	struct stage_result	 res;
	char			*code;
	char			*reason;
	uint64_t		 tasks;
	uint64_t		 filtered;	/* rows Manifest.Filter left out */
	/* The bulk thread's work. */
	struct store		*st;
	struct job		*job;
	uint64_t		 batch;
	int			 left;		/* the job left Preparing */
	int			 local;		/* the store or spool failed */
	stage_done_cb		 done_cb;
	void			*arg;
};

/*
 * A local cause (the store, the spool's disk): the job waits and prepares
 * again, it does not fail. Returns -1 for the caller's convenience.
 */
static int
prepare_local(struct stage_prepare *p)
{
	p->local = 1;
	return (-1);
}

/* Re-read the job inside the open transaction: is it still Preparing? */
static int
prepare_still(struct stage_prepare *p, char **cause)
{
	struct job	now;
	int		r;

	if ((r = store_job_get(p->st, p->job->id, &now, cause)) != 0)
		return (r == 1 ? 0 : prepare_local(p));
	r = now.status == JOB_PREPARING;
	p->job->status = now.status;
	job_clear(&now);
	return (r);
}

/* Whether to give up: the daemon is stopping or the stage was stopped. */
static int
prepare_stopping(struct stage_prepare *p)
{
	return (bulk_stopping(p->bulk) ||
	    __atomic_load_n(&p->stopped, __ATOMIC_RELAXED));
}

static int
prepare_row_cb(const struct manifest_row *row, void *arg, char **cause)
{
	struct stage_prepare	*p = arg;
	struct store_task	 t;
	int			 r;

	memset(&t, 0, sizeof t);
	t.seq = (int64_t)++p->tasks;
	t.bucket = row->bucket;
	t.key = row->key;
	t.key_len = row->key_len;
	t.version_id = row->version_id;
	t.etag = row->etag;
	if (store_task_add(p->st, p->job->rowid, &t, cause) != 0)
		return (prepare_local(p));
	if (++p->batch < PREPARE_BATCH_ROWS)
		return (0);
	p->batch = 0;
	if (store_commit(p->st, cause) != 0 || store_begin(p->st, cause) != 0)
		return (prepare_local(p));
	if ((r = prepare_still(p, cause)) != 1) {
		if (r == 0) {
			p->left = 1;
			xasprintf(cause, "the job is now %s",
			    job_status_name(p->job->status));
		}
		return (-1);
	}
	return (0);
}

/* Read one file into a parser (plain CSV, or gzip'd inventory data). */
static int
prepare_feed_file(struct stage_prepare *p, const char *path,
    struct manifest_csv *csv, struct manifest_gunzip *gz, char *buf,
    char **cause)
{
	ssize_t	n;
	int	fd, r = -1;

	if ((fd = open(path, O_RDONLY|O_CLOEXEC)) == -1) {
		xasprintf(cause, "the manifest is gone from the spool (%s: "
		    "%s)", path, strerror(errno));
		return (errno == ENOENT ? -1 : prepare_local(p));
	}
	for (;;) {
		n = io_read_full(fd, buf, PREPARE_READ_SIZE);
		if (n == -1) {
			xasprintf(cause, "reading %s: %s", path,
			    strerror(errno));
			prepare_local(p);
			goto out;
		}
		if (n == 0)
			break;
		if ((gz != NULL ? manifest_gunzip_feed(gz, buf, (size_t)n,
		    prepare_row_cb, p, cause) : manifest_csv_feed(csv, buf,
		    (size_t)n, prepare_row_cb, p, cause)) != 0)
			goto out;
		if (prepare_stopping(p)) {
			xasprintf(cause, "the daemon is stopping");
			goto out;
		}
	}
	if ((gz != NULL ? manifest_gunzip_finish(gz, prepare_row_cb, p,
	    cause) : manifest_csv_finish(csv, prepare_row_cb, p, cause)) != 0)
		goto out;
	r = 0;
out:
	close(fd);
	return (r);
}

/*
 * An inventory report: its manifest.json and data files are in the spool;
 * each data file's size and MD5 are checked as it is read. With a filter
 * (Manifest.Filter, checked at create-job against Amazon's column names),
 * compiled here against the report's own fileSchema, only the rows it
 * selects become tasks.
 */
static int
prepare_read_inventory(struct stage_prepare *p, const char *where, char *buf,
    char **cause)
{
	struct manifest_inventory	*inv = NULL;
	struct manifest_csv		*csv = NULL;
	struct manifest_gunzip		*gz = NULL;
	struct invfilter		*filter = NULL;
	struct buf			 json;
	char				*path, *why = NULL;
	size_t				 i;
	int				 fd, r = -1;

	buf_init(&json);
	path = spool_inventory_json_path(p->state_dir, p->id);
	if ((fd = open(path, O_RDONLY|O_CLOEXEC)) == -1) {
		xasprintf(cause, "the inventory manifest.json is gone from "
		    "the spool (%s)", strerror(errno));
		free(path);
		return (errno == ENOENT ? -1 : prepare_local(p));
	}
	if (io_read_buf(fd, &json, MANIFEST_MAX_JSON) != 0) {
		xasprintf(cause, "reading %s: %s", path, strerror(errno));
		if (errno != EFBIG)
			prepare_local(p);
		free(path);
		close(fd);
		goto out;
	}
	free(path);
	close(fd);
	if (manifest_inventory_parse(json.data, json.len, &inv, cause) != 0)
		goto out;
	if (where != NULL && invfilter_new(where,
	    (const char *const *)inv->columns, inv->ncolumns, &filter,
	    &why) != 0) {
		xasprintf(cause, "Manifest.Filter: %s (the report's columns: "
		    "%s)", why, inv->file_schema);
		free(why);
		goto out;
	}
	for (i = 0; i < inv->nfiles; i++) {
		if ((csv = manifest_inventory_csv_new(inv, inv->files[i].key,
		    cause)) == NULL)
			goto out;
		manifest_csv_set_filter(csv, filter);
		gz = manifest_gunzip_new(csv, &inv->files[i]);
		path = spool_inventory_data_path(p->state_dir, p->id, i);
		r = prepare_feed_file(p, path, csv, gz, buf, cause);
		free(path);
		p->filtered += manifest_csv_filtered(csv);
		manifest_gunzip_free(gz);
		manifest_csv_free(csv);
		csv = NULL;
		if (r != 0)
			goto out;
		r = -1;
	}
	r = 0;
out:
	buf_free(&json);
	invfilter_free(filter);
	if (inv != NULL)
		manifest_inventory_free(inv);
	return (r);
}

/* Feed the spool to the manifest parser inside batched transactions. */
static int
prepare_read_spool(struct stage_prepare *p, char **cause)
{
	struct json_object	*spec, *manifest, *mspec, *o;
	struct manifest_csv	*csv = NULL;
	enum manifest_format	 format;
	const char		*fields[MANIFEST_MAX_FIELDS], *where = NULL;
	size_t			 nfields;
	char			*path, *buf = NULL;
	int			 r = -1;

	spec = json_tokener_parse(p->job->spec);
	if (p->job->manifest == JOB_MANIFEST_GENERATOR)
		format = MANIFEST_FORMAT_INVENTORY;	/* stage-generate's */
	else if (spec == NULL ||
	    !json_object_object_get_ex(spec, "Manifest", &manifest) ||
	    !json_object_object_get_ex(manifest, "Spec", &mspec)) {
		xasprintf(cause, "the job has no Manifest.Spec");
		goto out;
	} else if (manifest_fields_from_spec(mspec, &format, fields, &nfields,
	    cause) != 0)
		goto out;
	else if (json_object_object_get_ex(manifest, "Filter", &o) &&
	    json_object_is_type(o, json_type_string))
		where = json_object_get_string(o);
	/* create-job refuses it; a spec stored otherwise must not pass. */
	if (where != NULL && format != MANIFEST_FORMAT_INVENTORY) {
		xasprintf(cause, "Manifest.Filter: only an inventory report "
		    "can be filtered");
		goto out;
	}
	buf = xmalloc(PREPARE_READ_SIZE);
	/*
	 * The batches need not survive a power cut: a job still Preparing
	 * after one starts again from its spool. The last commit, which
	 * stores the count, is made durable (prepare_end).
	 */
	if (store_set_durable(p->st, 0, cause) != 0 ||
	    store_begin(p->st, cause) != 0) {
		prepare_local(p);
		goto out;
	}
	if (format == MANIFEST_FORMAT_INVENTORY)
		r = prepare_read_inventory(p, where, buf, cause);
	else if ((csv = manifest_csv_new(fields, nfields, cause)) == NULL)
		r = -1;
	else {
		path = spool_csv_path(p->state_dir, p->id, 0);
		r = prepare_feed_file(p, path, csv, NULL, buf, cause);
		free(path);
	}
	if (r != 0) {
		store_rollback(p->st);
		r = -1;
		goto out;
	}
	r = -1;
	if (store_commit(p->st, cause) != 0) {
		prepare_local(p);
		goto out;
	}
	r = 0;
out:
	free(buf);
	manifest_csv_free(csv);
	json_object_put(spec);
	return (r);
}

/* The tasks are in: store their count, durably, if still Preparing. */
static int
prepare_end(struct stage_prepare *p, char **cause)
{
	int	r;

	if (store_set_durable(p->st, 1, cause) != 0 ||
	    store_begin(p->st, cause) != 0)
		return (prepare_local(p));
	if ((r = prepare_still(p, cause)) != 1) {
		store_rollback(p->st);
		if (r == 0)
			p->left = 1;
		return (-1);
	}
	p->job->total_tasks = p->tasks;
	p->job->succeeded = 0;
	p->job->failed = 0;
	if (store_job_progress(p->st, p->job, cause) != 0 ||
	    store_commit(p->st, cause) != 0) {
		store_rollback(p->st);
		return (prepare_local(p));
	}
	return (0);
}

/* Bulk thread only: a full disk would repeat it at every retry. */
static struct log_limit	prepare_discard_ll;

/* A failed or stopped stage leaves no tasks behind. */
static void
prepare_discard(struct stage_prepare *p)
{
	char	*cause = NULL;

	store_set_durable(p->st, 1, NULL);
	if (store_begin(p->st, &cause) != 0 ||
	    store_tasks_delete(p->st, p->job->rowid, &cause) != 0 ||
	    store_commit(p->st, &cause) != 0) {
		store_rollback(p->st);
		/* The next prepare, or the purge, deletes them. */
		log_limited(&prepare_discard_ll, 10, LOG_WARNING, p->id,
		    "prepare: cannot delete the tasks stored so far: %s",
		    cause);
		free(cause);
	}
}

static int
prepare_clone(struct stage_prepare *p, char **cause)
{
	struct job	src;
	int		r;

	if ((r = store_job_get(p->st, p->job->source_job, &src, cause)) != 0) {
		if (r == 1)
			xasprintf(cause, "the source job %s no longer exists",
			    p->job->source_job);
		return (r == 1 ? -1 : prepare_local(p));
	}
	if (store_begin(p->st, cause) != 0) {
		job_clear(&src);
		return (prepare_local(p));
	}
	if (store_tasks_clone(p->st, src.rowid, p->job->rowid,
	    p->job->source_failed_only, &p->tasks, cause) != 0 ||
	    store_commit(p->st, cause) != 0) {
		store_rollback(p->st);
		job_clear(&src);
		return (prepare_local(p));
	}
	job_clear(&src);
	return (0);
}

/* Bulk thread. */
static void
prepare_run(struct store *st, void *arg)
{
	struct stage_prepare	*p = arg;
	struct job		 j;
	char			*cause = NULL;
	uint64_t		 t0 = time_mono_ms();
	int			 r;

	p->st = st;
	if ((r = store_job_get(st, p->id, &j, &cause)) != 0) {
		p->res.status = STAGE_STOPPED;
		if (r == -1) {
			p->res.status = STAGE_RETRY;
			p->code = xstrdup(STAGE_CODE_LOCAL);
			p->reason = cause;
		}
		return;
	}
	p->job = &j;
	if (j.status != JOB_PREPARING) {
		/* Cancelled before it began: what a crash left goes. */
		prepare_discard(p);
		p->res.status = STAGE_STOPPED;
		goto out;
	}
	/* A restart after a crash begins again from an empty task list. */
	if (store_tasks_delete(st, j.rowid, &cause) != 0) {
		prepare_local(p);
		goto fail;
	}
	if ((p->clone ? prepare_clone(p, &cause) :
	    prepare_read_spool(p, &cause)) != 0 ||
	    prepare_end(p, &cause) != 0) {
		store_set_durable(st, 1, NULL);
		if (prepare_stopping(p))
			goto out;	/* prepared again at the next start */
		if (p->left) {
			prepare_discard(p);
			p->res.status = STAGE_STOPPED;
			goto out;
		}
		goto fail;
	}
	if (p->filtered != 0)
		log_job(LOG_INFO, j.id, "Manifest.Filter left out %llu rows",
		    (unsigned long long)p->filtered);
	log_job(LOG_INFO, j.id, "%s %llu tasks in %llu ms",
	    p->clone ? "cloned" : "prepared", (unsigned long long)p->tasks,
	    (unsigned long long)(time_mono_ms() - t0));
	p->res.status = STAGE_DONE;
	goto out;
fail:
	prepare_discard(p);
	if (p->local) {
		/* The lifecycle logs it, rate-limited, and tries again. */
		p->res.status = STAGE_RETRY;
		p->code = xstrdup(STAGE_CODE_LOCAL);
		p->reason = cause;
		cause = NULL;
		goto out;
	}
	log_job(LOG_WARNING, j.id, "%s: %s", p->clone ? "clone failed" :
	    "manifest rejected", cause);
	p->res.status = STAGE_FAILED;
	p->code = xstrdup(p->clone ? "CloneFailed" : "InvalidManifest");
	p->reason = cause;
	cause = NULL;
out:
	free(cause);
	p->job = NULL;
	p->st = NULL;
	job_clear(&j);
}

static void
prepare_free(struct stage_prepare *p)
{
	free(p->state_dir);
	free(p->code);
	free(p->reason);
	free(p);
}

/* Loop. */
static void
prepare_done(void *arg)
{
	struct stage_prepare	*p = arg;

	if (!__atomic_load_n(&p->stopped, __ATOMIC_RELAXED) &&
	    !bulk_stopping(p->bulk)) {
		p->res.code = p->code;
		p->res.reason = p->reason;
		p->done_cb(p->id, &p->res, p->arg);
	}
	prepare_free(p);
}

static struct stage_prepare *
prepare_start(struct core *core, const char *id, int clone,
    stage_done_cb done_cb, void *arg)
{
	struct stage_prepare	*p;

	p = xcalloc(1, sizeof *p);
	p->core = core;
	p->bulk = core->bulk;
	snprintf(p->id, sizeof p->id, "%s", id);
	p->state_dir = xstrdup((*core->cfg)->state_dir);
	p->clone = clone;
	p->done_cb = done_cb;
	p->arg = arg;
	bulk_run(core->bulk, prepare_run, prepare_done, p);
	return (p);
}

struct stage_prepare *
stage_prepare_start(struct core *core, const char *id, stage_done_cb done_cb,
    void *arg)
{
	return (prepare_start(core, id, 0, done_cb, arg));
}

struct stage_prepare *
stage_clone_start(struct core *core, const char *id, stage_done_cb done_cb,
    void *arg)
{
	return (prepare_start(core, id, 1, done_cb, arg));
}

void
stage_prepare_stop(struct stage_prepare *p)
{
	/* The item is queued or running: it frees the stage when back. */
	if (p != NULL)
		__atomic_store_n(&p->stopped, 1, __ATOMIC_RELAXED);
}
