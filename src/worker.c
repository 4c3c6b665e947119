/*
 * The store worker thread. Items are job ids; each is done in batches of
 * committed transactions, re-reading the job's status at every batch so
 * that a cancel requested meanwhile wins. After a crash the same item is
 * submitted again at start (Preparing restarts cleanly: its tasks are
 * deleted and the spool is read again). Results go back to the loop through
 * an event made active from this thread.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>
#include <json-c/json.h>

#include "s3batchd.h"
#include "cfg.h"
#include "fetch.h"
#include "generator.h"
#include "job.h"
#include "manifest.h"
#include "op-delete.h"
#include "server.h"
#include "store.h"
#include "worker.h"

#define WORKER_BATCH_ROWS	100000
#define WORKER_READ_SIZE	(1024 * 1024)

struct worker_item {
	enum worker_kind	 kind;
	char			 id[37];
	void			 (*fn)(struct store *, void *);
	void			 (*fn_done)(void *);
	void			*arg;
	struct worker_item	*next;
};

struct worker {
	struct server		*srv;
	char			*state_dir;
	struct store		*store;		/* this thread's connection */
	pthread_t		 thread;
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;
	struct worker_item	*queue, *tail;	/* to do */
	struct worker_item	*done;		/* for the loop */
	unsigned		 pending;
	int			 stop;		/* atomic: read unlocked */
	struct event		*ev_done;
};

/* What the row callback needs while preparing one job. */
struct worker_prepare {
	struct worker		*w;
	struct job		*job;
	uint64_t		 seq;
	uint64_t		 batch;
	int			 stopped;	/* status changed under us */
};

char *
worker_spool_path(const char *state_dir, const char *id, int partial)
{
	char	*path;

	xasprintf(&path, "%s/spool/%s.csv%s", state_dir, id,
	    partial ? ".part" : "");
	return (path);
}

/* Re-read the job inside the open transaction: is it still Preparing? */
static int
worker_still_preparing(struct worker *w, struct job *j, char **cause)
{
	struct job	now;
	int		r;

	if ((r = store_job_get(w->store, j->id, &now, cause)) != 0)
		return (r == 1 ? 0 : -1);
	r = now.status == JOB_PREPARING;
	j->status = now.status;
	job_clear(&now);
	return (r);
}

static int
worker_row_cb(const struct manifest_row *row, void *arg, char **cause)
{
	struct worker_prepare	*p = arg;
	struct store_task	 t;
	int			 r;

	memset(&t, 0, sizeof t);
	t.seq = (int64_t)++p->seq;
	t.bucket = row->bucket;
	t.key = row->key;
	t.key_len = row->key_len;
	t.version_id = row->version_id;
	t.etag = row->etag;
	if (store_task_add(p->w->store, p->job->rowid, &t, cause) != 0)
		return (-1);
	if (++p->batch < WORKER_BATCH_ROWS)
		return (0);
	p->batch = 0;
	if (store_commit(p->w->store, cause) != 0 ||
	    store_begin(p->w->store, cause) != 0)
		return (-1);
	if ((r = worker_still_preparing(p->w, p->job, cause)) != 1) {
		if (r == 0) {
			p->stopped = 1;
			xasprintf(cause, "the job is now %s",
			    job_status_name(p->job->status));
		}
		return (-1);
	}
	return (0);
}

/* Read one file into a parser (plain CSV, or gzip'd inventory data). */
static int
worker_feed_file(struct worker *w, const char *path, struct manifest_csv *csv,
    struct manifest_gunzip *gz, struct worker_prepare *p, char *buf,
    char **cause)
{
	ssize_t	n;
	int	fd, r = -1;

	if ((fd = open(path, O_RDONLY|O_CLOEXEC)) == -1) {
		xasprintf(cause, "the manifest is gone from the spool (%s: "
		    "%s)", path, strerror(errno));
		return (-1);
	}
	for (;;) {
		n = read(fd, buf, WORKER_READ_SIZE);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			xasprintf(cause, "reading %s: %s", path,
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if ((gz != NULL ? manifest_gunzip_feed(gz, buf, (size_t)n,
		    worker_row_cb, p, cause) : manifest_csv_feed(csv, buf,
		    (size_t)n, worker_row_cb, p, cause)) != 0)
			goto out;
		if (__atomic_load_n(&w->stop, __ATOMIC_RELAXED)) {
			xasprintf(cause, "the daemon is stopping");
			p->stopped = 1;
			goto out;
		}
	}
	if ((gz != NULL ? manifest_gunzip_finish(gz, worker_row_cb, p, cause) :
	    manifest_csv_finish(csv, worker_row_cb, p, cause)) != 0)
		goto out;
	r = 0;
out:
	close(fd);
	return (r);
}

/*
 * An inventory report: its manifest.json and data files were downloaded
 * into the spool; each data file's size and MD5 are checked as it is read.
 */
static int
worker_read_inventory(struct worker *w, struct job *j,
    struct worker_prepare *p, char *buf, char **cause)
{
	struct manifest_inventory	*inv = NULL;
	struct manifest_csv		*csv = NULL;
	struct manifest_gunzip		*gz = NULL;
	struct buf			 json;
	char				*path;
	ssize_t				 n;
	size_t				 i;
	int				 fd, r = -1;

	buf_init(&json);
	path = fetch_inventory_json_path(w->state_dir, j->id);
	if ((fd = open(path, O_RDONLY|O_CLOEXEC)) == -1) {
		xasprintf(cause, "the inventory manifest.json is gone from "
		    "the spool (%s)", strerror(errno));
		free(path);
		return (-1);
	}
	free(path);
	while ((n = read(fd, buf, WORKER_READ_SIZE)) > 0)
		buf_add(&json, buf, (size_t)n);
	close(fd);
	if (manifest_inventory_parse(json.data, json.len, &inv, cause) != 0)
		goto out;
	for (i = 0; i < inv->nfiles; i++) {
		if ((csv = manifest_inventory_csv_new(inv, inv->files[i].key,
		    cause)) == NULL)
			goto out;
		gz = manifest_gunzip_new(csv, &inv->files[i]);
		path = fetch_inventory_file_path(w->state_dir, j->id, i);
		r = worker_feed_file(w, path, csv, gz, p, buf, cause);
		free(path);
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
	if (inv != NULL)
		manifest_inventory_free(inv);
	return (r);
}

/* Feed the spool file to the manifest parser inside batched transactions. */
static int
worker_read_spool(struct worker *w, struct job *j, struct worker_prepare *p,
    char **cause)
{
	struct json_object	*spec, *manifest, *mspec;
	struct manifest_csv	*csv = NULL;
	enum manifest_format	 format;
	const char		*fields[MANIFEST_MAX_FIELDS];
	size_t			 nfields;
	char			*path, *buf = NULL;
	int			 r = -1;

	spec = json_tokener_parse(j->spec);
	if (j->manifest == JOB_MANIFEST_GENERATOR)
		format = MANIFEST_FORMAT_INVENTORY;	/* generator.c's */
	else if (spec == NULL ||
	    !json_object_object_get_ex(spec, "Manifest", &manifest) ||
	    !json_object_object_get_ex(manifest, "Spec", &mspec)) {
		xasprintf(cause, "the job has no Manifest.Spec");
		goto out;
	} else if (manifest_fields_from_spec(mspec, &format, fields, &nfields,
	    cause) != 0)
		goto out;
	buf = xmalloc(WORKER_READ_SIZE);
	/*
	 * The batches need not survive a power cut: a job still Preparing
	 * after one starts again from its spool. The last commit, which lets
	 * the spool go, is made durable (worker_prepared).
	 */
	if (store_set_durable(w->store, 0, cause) != 0 ||
	    store_begin(w->store, cause) != 0)
		goto out;
	if (format == MANIFEST_FORMAT_INVENTORY)
		r = worker_read_inventory(w, j, p, buf, cause);
	else if ((csv = manifest_csv_new(fields, nfields, cause)) == NULL)
		r = -1;
	else {
		path = worker_spool_path(w->state_dir, j->id, 0);
		r = worker_feed_file(w, path, csv, NULL, p, buf, cause);
		free(path);
	}
	if (r != 0) {
		store_rollback(w->store);
		r = -1;
		goto out;
	}
	r = -1;
	if (store_commit(w->store, cause) != 0)
		goto out;
	r = 0;
out:
	if (r != 0)
		store_set_durable(w->store, 1, NULL);
	free(buf);
	manifest_csv_free(csv);
	json_object_put(spec);
	return (r);
}

struct worker_dry_run {
	struct worker	*w;
	struct job	*job;
};

static int
worker_dry_run_still_cb(void *arg)
{
	struct worker_dry_run	*d = arg;
	char			*cause = NULL;
	int			 r;

	if ((r = worker_still_preparing(d->w, d->job, &cause)) == -1) {
		log_job(LOG_WARNING, d->job->id, "worker: %s", cause);
		free(cause);
	}
	return (r == 1);
}

/*
 * S3DeleteObject's dry run (op-delete.h), while the job is still Preparing
 * so that a restart simply runs it again: it records each object's ETag on
 * its task and returns the SuspendedCause text. 1: the job was cancelled or
 * the daemon is stopping.
 */
static int
worker_dry_run(struct worker *w, struct job *j, char **text, char **cause)
{
	struct op_delete_survey	 sv;
	struct worker_dry_run	 d;
	uint64_t		 t0 = time_mono_ms();
	int			 r;

	memset(&sv, 0, sizeof sv);
	d.w = w;
	d.job = j;
	r = op_delete_survey(w->store, w->srv->cfg_path, j, &w->stop,
	    worker_dry_run_still_cb, &d, &sv, cause);
	if (r == 0) {
		*text = op_delete_survey_text(&sv);
		log_job(LOG_INFO, j->id, "dry run of %llu tasks in %llu ms: "
		    "%s", (unsigned long long)sv.tasks,
		    (unsigned long long)(time_mono_ms() - t0), *text);
	}
	op_delete_survey_free(&sv);
	return (r);
}

/*
 * Tasks are in: total them and move on to Suspended or Ready. Returns 1
 * when the job left Preparing meanwhile (a cancel won).
 */
static int
worker_prepared(struct worker *w, struct job *j, uint64_t total, char **cause)
{
	enum job_status	 to;
	char		*text = NULL;
	int		 r;

	/* A delete never runs unconfirmed: Suspended with its dry run. */
	if (op_delete_is(j->operation)) {
		if ((r = worker_dry_run(w, j, &text, cause)) != 0)
			return (r);
		j->confirmation_required = 1;
	}
	if (store_set_durable(w->store, 1, cause) != 0 ||
	    store_begin(w->store, cause) != 0) {
		free(text);
		return (-1);
	}
	if ((r = worker_still_preparing(w, j, cause)) != 1) {
		store_rollback(w->store);
		free(text);
		return (r == 0 ? 1 : -1);
	}
	j->total_tasks = total;
	if (j->confirmation_required) {
		to = JOB_SUSPENDED;
		free(j->suspended_cause);
		j->suspended_cause = text != NULL ? text : xstrdup("The job "
		    "requires confirmation before it runs");
	} else
		to = JOB_READY;
	if (store_job_transition(w->store, j, to, JOB_BY_DAEMON,
	    STORE_UID_DAEMON, NULL, cause) != 0) {
		store_rollback(w->store);
		return (-1);
	}
	return (store_commit(w->store, cause));
}

/* A job that stopped preparing: Cancelling becomes Cancelled, tasks go. */
static void
worker_discard(struct worker *w, struct job *j, const char *code,
    const char *reason)
{
	char	*cause = NULL;

	if (store_begin(w->store, &cause) != 0 ||
	    store_tasks_delete(w->store, j->rowid, &cause) != 0)
		goto fail;
	if (worker_still_preparing(w, j, &cause) == -1)
		goto fail;
	if (j->status == JOB_PREPARING && code != NULL) {
		free(j->failure_code);
		free(j->failure_reason);
		j->failure_code = xstrdup(code);
		j->failure_reason = xstrdup(reason);
		j->total_tasks = 0;
		if (store_job_transition(w->store, j, JOB_FAILED,
		    JOB_BY_DAEMON, STORE_UID_DAEMON, reason, &cause) != 0)
			goto fail;
	} else if (j->status == JOB_CANCELLING) {
		if (store_job_transition(w->store, j, JOB_CANCELLED,
		    JOB_BY_DAEMON, STORE_UID_DAEMON, NULL, &cause) != 0)
			goto fail;
	}
	if (store_commit(w->store, &cause) != 0)
		goto fail;
	return;
fail:
	store_rollback(w->store);
	log_job(LOG_WARNING, j->id, "worker: %s", cause);
	free(cause);
}

/* Every spool file of a job: <id>.csv, <id>.manifest.json, <id>.data.N.gz. */
static void
worker_remove_spool(struct worker *w, const char *id)
{
	struct dirent	*de;
	DIR		*d;
	char		*dir, *path;

	xasprintf(&dir, "%s/spool", w->state_dir);
	if ((d = opendir(dir)) == NULL) {
		free(dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, id, 36) != 0 || de->d_name[36] != '.')
			continue;
		xasprintf(&path, "%s/%s", dir, de->d_name);
		if (unlink(path) == -1 && errno != ENOENT)
			log_warn("worker: unlink %s", path);
		free(path);
	}
	closedir(d);
	free(dir);
}

static void
worker_prepare(struct worker *w, struct job *j)
{
	struct worker_prepare	 p;
	char			*cause = NULL;
	uint64_t		 t0 = time_mono_ms();

	if (j->status != JOB_PREPARING) {
		if (j->status == JOB_CANCELLING)
			worker_discard(w, j, NULL, NULL);
		return;
	}
	/* A restart after a crash begins again from an empty task list. */
	if (store_tasks_delete(w->store, j->rowid, &cause) != 0)
		goto fail;
	memset(&p, 0, sizeof p);
	p.w = w;
	p.job = j;
	if (worker_read_spool(w, j, &p, &cause) != 0) {
		if (__atomic_load_n(&w->stop, __ATOMIC_RELAXED))
			goto out;	/* redone at the next start */
		if (p.stopped) {
			worker_discard(w, j, NULL, NULL);
			worker_remove_spool(w, j->id);
			goto out;
		}
		goto fail;
	}
	switch (worker_prepared(w, j, p.seq, &cause)) {
	case -1:
		goto fail;
	case 1:
		/* A delete's dry run stopped by shutdown: redone at start. */
		if (__atomic_load_n(&w->stop, __ATOMIC_RELAXED))
			goto out;
		worker_discard(w, j, NULL, NULL);
		worker_remove_spool(w, j->id);
		goto out;
	}
	log_job(LOG_INFO, j->id, "prepared %llu tasks in %llu ms; now %s",
	    (unsigned long long)p.seq,
	    (unsigned long long)(time_mono_ms() - t0),
	    job_status_name(j->status));
	worker_remove_spool(w, j->id);
	goto out;
fail:
	log_job(LOG_WARNING, j->id, "manifest rejected: %s", cause);
	worker_discard(w, j, "InvalidManifest", cause);
	worker_remove_spool(w, j->id);
out:
	free(cause);
}

static void
worker_clone(struct worker *w, struct job *j)
{
	struct job	 src;
	char		*cause = NULL;
	uint64_t	 n = 0;
	int		 r;

	if (j->status != JOB_PREPARING) {
		if (j->status == JOB_CANCELLING)
			worker_discard(w, j, NULL, NULL);
		return;
	}
	if ((r = store_job_get(w->store, j->source_job, &src, &cause)) != 0) {
		if (r == 1)
			xasprintf(&cause, "the source job %s no longer exists",
			    j->source_job);
		goto fail;
	}
	if (store_begin(w->store, &cause) != 0)
		goto fail_src;
	if (store_tasks_delete(w->store, j->rowid, &cause) != 0 ||
	    store_tasks_clone(w->store, src.rowid, j->rowid,
	    j->source_failed_only, &n, &cause) != 0) {
		store_rollback(w->store);
		goto fail_src;
	}
	if (store_commit(w->store, &cause) != 0)
		goto fail_src;
	job_clear(&src);
	switch (worker_prepared(w, j, n, &cause)) {
	case -1:
		goto fail;
	case 1:
		worker_discard(w, j, NULL, NULL);
		return;
	}
	log_job(LOG_INFO, j->id, "cloned %llu tasks from job %s; now %s",
	    (unsigned long long)n, j->source_job, job_status_name(j->status));
	return;
fail_src:
	job_clear(&src);
fail:
	log_job(LOG_WARNING, j->id, "clone failed: %s", cause);
	worker_discard(w, j, "CloneFailed", cause);
	free(cause);
}

static void
worker_do(struct worker *w, struct worker_item *it)
{
	struct job	 j;
	char		*cause = NULL;
	int		 r;

	if (it->kind == WORKER_FN) {
		it->fn(w->store, it->arg);
		return;
	}
	if ((r = store_job_get(w->store, it->id, &j, &cause)) != 0) {
		if (r == -1) {
			log_job(LOG_WARNING, it->id, "worker: %s", cause);
			free(cause);
		}
		return;
	}
	switch (it->kind) {
	case WORKER_PREPARE:
		worker_prepare(w, &j);
		break;
	case WORKER_CLONE:
		worker_clone(w, &j);
		break;
	case WORKER_FN:
		break;
	case WORKER_PURGE:
		if (store_job_purge(w->store, &j, &cause) != 0) {
			log_job(LOG_WARNING, j.id, "purge failed: %s", cause);
			free(cause);
		} else {
			generator_forget(w->state_dir, j.id);
			log_job(LOG_INFO, j.id, "purged after its retention "
			    "time");
		}
		break;
	}
	job_clear(&j);
}

static void *
worker_main(void *arg)
{
	struct worker		*w = arg;
	struct worker_item	*it;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (w->queue == NULL && !w->stop)
			pthread_cond_wait(&w->cond, &w->lock);
		if (w->stop)
			break;
		it = w->queue;
		w->queue = it->next;
		if (w->queue == NULL)
			w->tail = NULL;
		pthread_mutex_unlock(&w->lock);

		worker_do(w, it);

		pthread_mutex_lock(&w->lock);
		it->next = w->done;
		w->done = it;
		w->pending--;
		event_active(w->ev_done, EV_READ, 0);
	}
	pthread_mutex_unlock(&w->lock);
	return (NULL);
}

/* On the loop: tell the server which jobs moved. */
static void
worker_done_cb(evutil_socket_t fd, short events, void *arg)
{
	struct worker		*w = arg;
	struct worker_item	*done, *it;

	pthread_mutex_lock(&w->lock);
	done = w->done;
	w->done = NULL;
	pthread_mutex_unlock(&w->lock);
	while ((it = done) != NULL) {
		done = it->next;
		if (it->kind == WORKER_FN)
			it->fn_done(it->arg);
		else
			server_job_changed(w->srv, it->id);
		free(it);
	}
}

struct worker *
worker_new(struct server *srv, char **cause)
{
	struct worker	*w;
	int		 error;

	w = xcalloc(1, sizeof *w);
	w->srv = srv;
	w->state_dir = xstrdup(srv->cfg->state_dir);
	if ((w->store = store_open(w->state_dir, 0, cause)) == NULL) {
		free(w->state_dir);
		free(w);
		return (NULL);
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->ev_done = event_new(srv->base, -1, 0, worker_done_cb, w);
	if ((error = pthread_create(&w->thread, NULL, worker_main, w)) != 0)
		fatalx("worker: pthread_create: %s", strerror(error));
	return (w);
}

void
worker_free(struct worker *w)
{
	struct worker_item	*it;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	__atomic_store_n(&w->stop, 1, __ATOMIC_RELAXED);
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	while ((it = w->queue) != NULL) {
		w->queue = it->next;
		free(it);
	}
	while ((it = w->done) != NULL) {
		w->done = it->next;
		free(it);
	}
	event_free(w->ev_done);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	store_close(w->store);
	free(w->state_dir);
	free(w);
}

static void
worker_enqueue(struct worker *w, struct worker_item *it)
{
	pthread_mutex_lock(&w->lock);
	if (w->tail != NULL)
		w->tail->next = it;
	else
		w->queue = it;
	w->tail = it;
	w->pending++;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

void
worker_submit(struct worker *w, enum worker_kind kind, const char *id)
{
	struct worker_item	*it;

	it = xcalloc(1, sizeof *it);
	it->kind = kind;
	snprintf(it->id, sizeof it->id, "%s", id);
	worker_enqueue(w, it);
}

void
worker_run(struct worker *w, void (*fn)(struct store *, void *),
    void (*done)(void *), void *arg)
{
	struct worker_item	*it;

	it = xcalloc(1, sizeof *it);
	it->kind = WORKER_FN;
	it->fn = fn;
	it->fn_done = done;
	it->arg = arg;
	worker_enqueue(w, it);
}

unsigned
worker_pending(struct worker *w)
{
	unsigned	n;

	pthread_mutex_lock(&w->lock);
	n = w->pending;
	pthread_mutex_unlock(&w->lock);
	return (n);
}
