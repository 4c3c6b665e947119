/*
 * S3DeleteObject (an extension): delete the listed objects, safely.
 *
 * A delete job is always created Suspended (control-job.c). Before that, while
 * the job is still Preparing, the store worker runs this file's dry run:
 * a HEAD of every task's object that records the ETag it sees as the
 * task's ETag and counts what would be deleted, for SuspendedCause. So
 * the delete acts only on the object the user was shown, whatever happens
 * to it while the job waits for confirmation.
 *
 * A task: HEAD (version-pinned, If-Match on the pinned or recorded ETag);
 * a changed object fails 412 and is not deleted. Then one DELETE:
 *
 *  - with a version id from the manifest, DELETE ?versionId= removes that
 *    version for good. Versions never change, so the HEAD is the whole
 *    check. Object Lock is checked from the HEAD's headers first (a legal
 *    hold or COMPLIANCE retention is never deleted, GOVERNANCE only with
 *    BypassGovernanceRetention, which also sends
 *    x-amz-bypass-governance-retention: true); the server checks again.
 *  - without one, DELETE of the key deletes the current version: for good
 *    in an unversioned bucket, by a delete marker in a versioned one (the
 *    data stays as a noncurrent version, as S3's own DeleteObject does).
 *    It carries If-Match on the ETag, honoured by Amazon S3 and recent
 *    Ceph; a server that ignores it (Ceph Pacific) leaves only the time
 *    between our HEAD and the DELETE for a change to slip in.
 *
 * One DELETE per object, not DeleteObjects: every object needs its own
 * conditional check anyway (RGW has no per-key ETag in DeleteObjects), and
 * the scheduler runs one task at a time through an operation.
 *
 * An object already gone (HEAD 404) succeeds without a DELETE, as S3's
 * DeleteObject of a missing key does; a named version with no ETag to
 * check is deleted even then (it may be a delete marker, which HEAD
 * cannot see).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>
#include <json-c/json.h>

#include "s3batchd.h"
#include "cfg.h"
#include "job.h"
#include "model.h"
#include "op.h"
#include "op-delete.h"
#include "s3.h"
#include "store.h"

#define OP_DELETE_PAGE		1000	/* dry run: tasks per batch */
#define OP_DELETE_PARALLEL	32	/* dry run: HEADs in flight */
#define OP_DELETE_SHOWN		5	/* buckets named in the text */

struct op_delete {
	int	bypass;		/* BypassGovernanceRetention */
};

static int
op_delete_compile(struct json_object *params, struct json_object *spec,
    void **ctxp, char **cause)
{
	struct op_delete	*ctx;
	struct json_object	*v;

	ctx = xcalloc(1, sizeof *ctx);
	if (params != NULL && json_object_object_get_ex(params,
	    "BypassGovernanceRetention", &v)) {
		if (!json_object_is_type(v, json_type_boolean)) {
			xasprintf(cause, "Operation.%s.BypassGovernance"
			    "Retention: expected true or false", OP_DELETE_NAME);
			free(ctx);
			return (-1);
		}
		ctx->bypass = json_object_get_boolean(v);
	}
	*ctxp = ctx;
	return (0);
}

static void
op_delete_free(void *arg)
{
	free(arg);
}

int
op_delete_is(const char *operation)
{
	return (operation != NULL && strcmp(operation, OP_DELETE_NAME) == 0);
}

/* A HEAD answer for an object that is not there (AWS: 405 for a marker). */
static int
op_delete_absent(const struct s3_result *r)
{
	return (r->status == 404 || r->status == 405);
}

/*
 * Whether Object Lock forbids deleting the version a HEAD described; the
 * reason in buf. An unreadable retain-until date counts as locked.
 */
static int
op_delete_locked(const struct s3_result *r, int bypass, char *buf,
    size_t len)
{
	const char	*hold, *mode, *until;
	int64_t		 until_ms;
	char		*c = NULL;

	hold = s3_result_header(r, "x-amz-object-lock-legal-hold");
	if (hold != NULL && strcasecmp(hold, "ON") == 0) {
		snprintf(buf, len, "the version is under a legal hold");
		return (1);
	}
	mode = s3_result_header(r, "x-amz-object-lock-mode");
	until = s3_result_header(r, "x-amz-object-lock-retain-until-date");
	if (mode == NULL || until == NULL)
		return (0);
	if (model_parse_time(until, &until_ms, &c) != 0) {
		free(c);
		snprintf(buf, len, "the version is locked in %.32s mode (retain "
		    "until \"%.64s\", unreadable)", mode, until);
		return (1);
	}
	if (until_ms <= (int64_t)time_now_ms())
		return (0);
	if (strcasecmp(mode, "GOVERNANCE") == 0 && bypass)
		return (0);
	if (strcasecmp(mode, "GOVERNANCE") == 0)
		snprintf(buf, len, "the version is locked in GOVERNANCE mode "
		    "until %.64s and the job does not set "
		    "BypassGovernanceRetention", until);
	else
		snprintf(buf, len, "the version is locked in %.32s mode until "
		    "%.64s", mode, until);
	return (1);
}

static void
op_delete_done_cb(const struct s3_result *r, void *arg)
{
	struct op_run	*run = arg;
	const char	*marker, *vid;
	char		*msg;

	op_account(run, r);
	if (r->status == 412) {
		op_fail(run, 412, "PreconditionFailed", "the object's ETag is "
		    "no longer %s; it was not deleted", op_expected_etag(run));
		return;
	}
	if (r->error_code != NULL) {
		op_fail_result(run, r);
		return;
	}
	marker = s3_result_header(r, "x-amz-delete-marker");
	vid = r->version_id;
	if (run->version_id == NULL && marker != NULL &&
	    strcasecmp(marker, "true") == 0 && vid != NULL) {
		xasprintf(&msg, "Successful: delete marker %s created", vid);
		op_succeed(run, r->status, msg);
		free(msg);
		return;
	}
	op_succeed(run, r->status, NULL);
}

static void
op_delete_call(struct op_run *run)
{
	struct op_delete	*ctx = run->ctx;
	struct s3_request	 req;
	struct s3_header	 h[2];
	const char		*etag = op_expected_etag(run);
	char			 quoted[256];
	size_t			 n = 0;

	memset(&req, 0, sizeof req);
	req.method = "DELETE";
	req.bucket = run->bucket;
	req.key = run->key;
	req.key_len = run->key_len;
	req.version_id = run->version_id;
	req.role_arn = run->role_arn;
	/* S3 evaluates If-Match on the current version only. */
	if (run->version_id == NULL && etag != NULL) {
		snprintf(quoted, sizeof quoted, "\"%s\"", etag);
		h[n].name = "If-Match";
		h[n++].value = quoted;
	}
	if (ctx->bypass) {
		h[n].name = "x-amz-bypass-governance-retention";
		h[n++].value = "true";
	}
	req.headers = h;
	req.nheaders = n;
	run->call = s3_call(run->s3, &req, op_delete_done_cb, run);
}

static void
op_delete_head_cb(const struct s3_result *r, void *arg)
{
	struct op_run		*run = arg;
	struct op_delete	*ctx = run->ctx;
	char			 why[256];

	op_account(run, r);
	if (r->status == 412) {
		op_fail(run, 412, "PreconditionFailed", "the object's ETag is "
		    "no longer %s; it was not deleted", op_expected_etag(run));
		return;
	}
	if (op_delete_absent(r)) {
		if (run->version_id != NULL && op_expected_etag(run) == NULL)
			op_delete_call(run);
		else
			op_succeed(run, 204, "Successful: already absent, "
			    "nothing was deleted");
		return;
	}
	if (r->error_code != NULL) {
		op_fail_result(run, r);
		return;
	}
	/* A delete marker on a locked object is allowed; a version is not. */
	if (run->version_id != NULL &&
	    op_delete_locked(r, ctx->bypass, why, sizeof why)) {
		op_fail(run, 403, "AccessDenied", "%s; it was not deleted", why);
		return;
	}
	op_delete_call(run);
}

static void
op_delete_start(struct op_run *run)
{
	op_head(run, op_delete_head_cb);
}

static void
op_delete_cancel(struct op_run *run)
{
}

const struct op_def op_delete = {
	.name = OP_DELETE_NAME,
	.flags = OP_CONFIRM,
	.compile = op_delete_compile,
	.free = op_delete_free,
	.start = op_delete_start,
	.cancel = op_delete_cancel,
};

/*
 * The dry run. It runs on the store worker's thread with an event loop and
 * S3 client of its own, a page of tasks at a time.
 */
struct op_delete_probe {
	struct op_run		 run;		/* first: callbacks get it */
	struct op_delete_walk	*walk;
	int64_t			 seq;
	char			*bucket;
	char			*key;
	size_t			 key_len;
	char			*version_id;
	char			*etag;		/* pinned by the manifest */
};

struct op_delete_walk {
	struct event_base	*base;
	struct s3		*s3;
	struct op_delete	 ctx;
	const char		*role_arn;
	struct op_delete_survey	*survey;
	const int		*stop;
	struct op_delete_probe	*probes;
	size_t			 nprobes;
	size_t			 next;
	size_t			 inflight;
	int64_t			 after;
};

static struct op_delete_bucket *
op_delete_bucket(struct op_delete_survey *sv, const char *name)
{
	size_t	i;

	for (i = 0; i < sv->nbuckets; i++) {
		if (strcmp(sv->buckets[i].name, name) == 0)
			return (&sv->buckets[i]);
	}
	if (sv->nbuckets == OP_DELETE_BUCKETS) {
		sv->more_buckets = 1;
		return (NULL);
	}
	sv->buckets[sv->nbuckets].name = xstrdup(name);
	return (&sv->buckets[sv->nbuckets++]);
}

static void	op_delete_walk_next(struct op_delete_walk *);

static void
op_delete_probe_cb(const struct s3_result *r, void *arg)
{
	struct op_delete_probe	*p = arg;
	struct op_delete_walk	*w = p->walk;
	struct op_delete_survey	*sv = w->survey;
	struct op_delete_bucket	*b;
	const char		*vid;
	char			 why[256];

	op_account(&p->run, r);
	w->inflight--;
	b = op_delete_bucket(sv, p->bucket);
	if (b != NULL)
		b->tasks++;
	if (r->status == 412)
		sv->changed++;
	else if (op_delete_absent(r))
		sv->missing++;
	else if (r->error_code != NULL) {
		sv->unchecked++;
		if (sv->unchecked_code == NULL)
			xasprintf(&sv->unchecked_code, "%d %s", r->status,
			    r->error_code);
	} else if (p->version_id != NULL && op_delete_locked(r,
	    w->ctx.bypass, why, sizeof why))
		sv->locked++;
	else {
		sv->deletable++;
		if (b != NULL)
			b->deletable++;
		vid = r->version_id;
		if (p->version_id == NULL && vid != NULL &&
		    strcmp(vid, "null") != 0)
			sv->markers++;
	}
	op_delete_walk_next(w);
}

/* Start HEADs up to the cap; break the loop when the page is done. */
static void
op_delete_walk_next(struct op_delete_walk *w)
{
	struct op_delete_probe	*p;

	while (w->inflight < OP_DELETE_PARALLEL && w->next < w->nprobes &&
	    !__atomic_load_n(w->stop, __ATOMIC_RELAXED)) {
		p = &w->probes[w->next++];
		memset(&p->run, 0, sizeof p->run);
		p->run.bucket = p->bucket;
		p->run.key = p->key;
		p->run.key_len = p->key_len;
		p->run.version_id = p->version_id;
		p->run.etag = p->etag;
		p->run.role_arn = w->role_arn;
		p->run.s3 = w->s3;
		w->inflight++;
		op_head(&p->run, op_delete_probe_cb);
	}
	if (w->inflight == 0)
		event_base_loopbreak(w->base);
}

static int
op_delete_page_cb(const struct store_task *t, void *arg)
{
	struct op_delete_walk	*w = arg;
	struct op_delete_probe	*p = &w->probes[w->nprobes++];

	memset(p, 0, sizeof *p);
	p->walk = w;
	p->seq = t->seq;
	p->bucket = xstrdup(t->bucket);
	p->key = xmalloc(t->key_len + 1);
	memcpy(p->key, t->key, t->key_len);
	p->key[t->key_len] = '\0';
	p->key_len = t->key_len;
	if (t->version_id != NULL)
		p->version_id = xstrdup(t->version_id);
	if (t->etag != NULL)
		p->etag = xstrdup(t->etag);
	w->after = t->seq;
	return (0);
}

static void
op_delete_page_free(struct op_delete_walk *w)
{
	struct op_delete_probe	*p;
	size_t			 i;

	for (i = 0; i < w->nprobes; i++) {
		p = &w->probes[i];
		free(p->bucket);
		free(p->key);
		free(p->version_id);
		free(p->etag);
		free(p->run.recorded_etag);
	}
	w->nprobes = w->next = 0;
}

/* Record the ETags this page saw on tasks that had none. */
static int
op_delete_page_store(struct store *st, const struct job *j,
    struct op_delete_walk *w, char **cause)
{
	struct op_delete_probe	*p;
	struct store_task	 t;
	size_t			 i;

	for (i = 0; i < w->nprobes; i++) {
		p = &w->probes[i];
		if (p->etag != NULL || p->run.recorded_etag == NULL)
			continue;
		memset(&t, 0, sizeof t);
		t.seq = p->seq;
		t.state = TASK_PENDING;
		t.etag = p->run.recorded_etag;
		if (store_task_result(st, j->rowid, &t, cause) != 0)
			return (-1);
	}
	return (0);
}

int
op_delete_survey(struct store *st, const char *cfg_path, const struct job *j,
    const int *stop, int (*still)(void *), void *arg,
    struct op_delete_survey *sv, char **cause)
{
	struct op_delete_walk	 w;
	struct json_object	*spec = NULL, *ops, *params, *v;
	struct cfg		*cfg = NULL;
	char			*c = NULL;
	int			 r = -1;

	memset(&w, 0, sizeof w);
	w.survey = sv;
	w.stop = stop;
	if ((spec = json_tokener_parse(j->spec)) != NULL) {
		if (json_object_object_get_ex(spec, "RoleArn", &v))
			w.role_arn = json_object_get_string(v);
		if (json_object_object_get_ex(spec, "Operation", &ops) &&
		    json_object_object_get_ex(ops, OP_DELETE_NAME, &params) &&
		    json_object_object_get_ex(params,
		    "BypassGovernanceRetention", &v))
			w.ctx.bypass = json_object_get_boolean(v);
	}
	if (cfg_path == NULL)
		c = xstrdup("no configuration file to read endpoints from");
	else if ((cfg = cfg_load(cfg_path, &c)) != NULL) {
		w.base = event_base_new();
		if (w.base == NULL)
			c = xstrdup("cannot make an event loop");
		else
			w.s3 = s3_new(w.base, cfg, &c);
	}
	if (w.s3 == NULL) {
		sv->failed = c;
		r = 0;
		goto out;
	}
	w.probes = xcalloc(OP_DELETE_PAGE, sizeof *w.probes);
	for (;;) {
		if (store_task_list(st, j->rowid, w.after, OP_DELETE_PAGE, 0,
		    op_delete_page_cb, &w, cause) != 0)
			goto out;
		if (w.nprobes == 0)
			break;
		sv->tasks += w.nprobes;
		op_delete_walk_next(&w);
		if (w.inflight != 0)
			event_base_dispatch(w.base);
		if (store_begin(st, cause) != 0)
			goto out;
		if (op_delete_page_store(st, j, &w, cause) != 0) {
			store_rollback(st);
			goto out;
		}
		if (store_commit(st, cause) != 0)
			goto out;
		if (__atomic_load_n(stop, __ATOMIC_RELAXED) || !still(arg)) {
			r = 1;
			goto out;
		}
		if (w.nprobes < OP_DELETE_PAGE)
			break;
		op_delete_page_free(&w);
	}
	r = 0;
out:
	if (w.probes != NULL) {
		op_delete_page_free(&w);
		free(w.probes);
	}
	s3_free(w.s3);
	if (w.base != NULL)
		event_base_free(w.base);
	if (cfg != NULL)
		cfg_free(cfg);
	json_object_put(spec);
	return (r);
}

/* 1234567 as "1,234,567". */
static void
op_delete_count(struct buf *b, uint64_t n)
{
	char	digits[32];
	size_t	i, len;

	len = (size_t)snprintf(digits, sizeof digits, "%llu",
	    (unsigned long long)n);
	for (i = 0; i < len; i++) {
		if (i != 0 && (len - i) % 3 == 0)
			buf_addc(b, ',');
		buf_addc(b, digits[i]);
	}
}

char *
op_delete_survey_text(const struct op_delete_survey *sv)
{
	struct buf	 b;
	size_t		 i;
	uint64_t	 not = sv->changed + sv->missing + sv->locked;
	const char	*sep = "";

	buf_init(&b);
	buf_adds(&b, "Delete job: ");
	if (sv->failed != NULL) {
		buf_adds(&b, "the dry run could not run (");
		buf_add(&b, sv->failed, strnlen(sv->failed, 200));
		buf_adds(&b, "): ");
		op_delete_count(&b, sv->tasks);
		buf_adds(&b, " tasks were not checked and would delete what "
		    "they find when they run");
		goto confirm;
	}
	op_delete_count(&b, sv->deletable);
	buf_adds(&b, sv->deletable == 1 ? " object" : " objects");
	buf_adds(&b, " in ");
	if (sv->more_buckets)
		buf_addf(&b, "more than %d", OP_DELETE_BUCKETS);
	else
		op_delete_count(&b, sv->nbuckets);
	buf_adds(&b, sv->nbuckets == 1 ? " bucket" : " buckets");
	buf_adds(&b, " would be deleted");
	if (sv->nbuckets > 1) {
		buf_adds(&b, " (");
		for (i = 0; i < sv->nbuckets && i < OP_DELETE_SHOWN; i++) {
			buf_addf(&b, "%s%.63s: ", i == 0 ? "" : ", ",
			    sv->buckets[i].name);
			op_delete_count(&b, sv->buckets[i].deletable);
		}
		if (sv->nbuckets > OP_DELETE_SHOWN)
			buf_adds(&b, ", ...");
		buf_addc(&b, ')');
	} else if (sv->nbuckets == 1)
		buf_addf(&b, " (%.63s)", sv->buckets[0].name);
	if (sv->markers != 0) {
		buf_adds(&b, ", ");
		op_delete_count(&b, sv->markers);
		buf_adds(&b, " of them by a delete marker (versioned bucket)");
	}
	if (not != 0 || sv->unchecked != 0) {
		buf_adds(&b, "; not deleted: ");
		if (sv->changed != 0) {
			op_delete_count(&b, sv->changed);
			buf_adds(&b, " changed since their ETag was taken (412)");
			sep = ", ";
		}
		if (sv->missing != 0) {
			buf_adds(&b, sep);
			op_delete_count(&b, sv->missing);
			buf_adds(&b, " missing (404)");
			sep = ", ";
		}
		if (sv->locked != 0) {
			buf_adds(&b, sep);
			op_delete_count(&b, sv->locked);
			buf_adds(&b, " locked (Object Lock)");
			sep = ", ";
		}
		if (sv->unchecked != 0) {
			buf_adds(&b, sep);
			op_delete_count(&b, sv->unchecked);
			buf_addf(&b, " not checked (%.64s)", sv->unchecked_code);
		}
	}
confirm:
	buf_adds(&b, ". Confirm with update-job-status --requested-job-status "
	    "Ready");
	return (buf_detach(&b));
}

void
op_delete_survey_free(struct op_delete_survey *sv)
{
	size_t	i;

	for (i = 0; i < sv->nbuckets; i++)
		free(sv->buckets[i].name);
	free(sv->unchecked_code);
	free(sv->failed);
	memset(sv, 0, sizeof *sv);
}
