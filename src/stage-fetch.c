/*
 * Downloading manifests from S3 into the spool. Each download streams to a
 * file (never held in memory) and checks the object's ETag against the one
 * the job names (a mismatch fails the job before any task exists).
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
#include "cfg.h"
#include "core.h"
#include "http.h"
#include "job.h"
#include "jobspec.h"
#include "manifest.h"
#include "s3.h"
#include "spool.h"
#include "stage-fetch.h"
#include "store.h"

struct stage_fetch {
	struct core		*core;
	stage_done_cb		 done_cb;
	void			*arg;
	char			 id[37];
	enum manifest_format	 format;
	char			*role_arn;
	char			*etag;		/* the job's, unquoted */
	char			*version_id;
	char			*bucket;
	char			*key;
	/* The download under way. */
	struct s3_call		*call;
	int			 fd;
	char			*part;		/* being written */
	char			*path;		/* when complete */
	struct buf		 json;		/* an inventory manifest.json */
	struct manifest_inventory *inv;
	size_t			 next_file;
	int			 local;		/* a spool write failed */
	};

static void
fetch_free(struct stage_fetch *f)
{
	if (f->call != NULL)
		s3_call_cancel(f->call);
	if (f->fd != -1)
		close(f->fd);
	if (f->part != NULL)
		unlink(f->part);
	free(f->part);
	free(f->path);
	free(f->role_arn);
	free(f->etag);
	free(f->version_id);
	free(f->bucket);
	free(f->key);
	buf_free(&f->json);
	if (f->inv != NULL)
		manifest_inventory_free(f->inv);
	free(f);
}

/* The end: the manifest is in the spool, or code and reason say why not. */
static void
fetch_done(struct stage_fetch *f, const char *code, const char *reason)
{
	struct stage_result	res;

	memset(&res, 0, sizeof res);
	if (code != NULL && f->local) {
		/* The spool, not the manifest: download it again later. */
		res.status = STAGE_RETRY;
		res.code = STAGE_CODE_LOCAL;
		res.reason = reason;
	} else if (code != NULL) {
		log_job(LOG_WARNING, f->id, "manifest: %s", reason);
		res.status = STAGE_FAILED;
		res.code = code;
		res.reason = reason;
	} else {
		log_job(LOG_INFO, f->id, "manifest downloaded");
		res.status = STAGE_DONE;
	}
	f->done_cb(f->id, &res, f->arg);
	fetch_free(f);
}

static void
fetch_fail_result(struct stage_fetch *f, const char *what,
    const struct s3_result *r)
{
	char	*reason;

	xasprintf(&reason, "cannot read %s s3://%s/%s: %s%s%s (HTTP %d)",
	    what, f->bucket, f->key, r->error_code != NULL ? r->error_code :
	    "error", r->error_message != NULL ? ": " : "",
	    r->error_message != NULL ? r->error_message : "", r->status);
	fetch_done(f, r->status == 412 ? "ManifestETagMismatch" :
	    "ManifestUnreadable", reason);
	free(reason);
}

static int
fetch_sink_cb(uint64_t offset, const void *data, size_t len, void *arg)
{
	struct stage_fetch	*f = arg;
	if (f->fd == -1) {
		if (f->json.len + len > MANIFEST_MAX_JSON)
			return (-1);
		buf_add(&f->json, data, len);
		return (0);
	}
	if (io_write_all(f->fd, data, len) != 0) {
		f->local = 1;
		return (-1);
	}
	return (0);
}

static int
fetch_open(struct stage_fetch *f, char *path, char **cause)
{
	free(f->path);
	free(f->part);
	f->path = path;
	xasprintf(&f->part, "%s.part", path);
	f->fd = open(f->part, O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0600);
	if (f->fd == -1) {
		xasprintf(cause, "cannot write %s: %s", f->part,
		    strerror(errno));
		f->local = 1;
		return (-1);
	}
	return (0);
}

/* The file is complete: on disk, under its final name. */
static int
fetch_close(struct stage_fetch *f, char **cause)
{
	int	r = 0;

	if (fsync(f->fd) == -1 || close(f->fd) == -1 ||
	    rename(f->part, f->path) == -1) {
		xasprintf(cause, "cannot keep %s: %s", f->path,
		    strerror(errno));
		f->local = 1;
		r = -1;
	}
	f->fd = -1;
	free(f->part);
	f->part = NULL;
	return (r);
}

static void	fetch_next_file(struct stage_fetch *);

static void
fetch_get(struct stage_fetch *f, const char *bucket, const char *key,
    const char *version_id, const char *etag, s3_done_cb cb)
{
	struct s3_request	 req;
	struct s3_header	 h;
	char			 quoted[256];

	memset(&req, 0, sizeof req);
	req.method = "GET";
	req.bucket = bucket;
	req.key = key;
	req.version_id = version_id;
	req.role_arn = f->role_arn;
	req.sink = fetch_sink_cb;
	req.sink_arg = f;
	if (etag != NULL) {
		snprintf(quoted, sizeof quoted, "\"%s\"", etag);
		h.name = "If-Match";
		h.value = quoted;
		req.headers = &h;
		req.nheaders = 1;
	}
	f->call = s3_call(f->core->s3, &req, cb, f);
}

/* Both without quotes. */
static int
fetch_etag_matches(const char *want, const char *got)
{
	if (want == NULL)
		return (1);
	return (got != NULL && strcmp(want, got) == 0);
}

static void
fetch_data_cb(const struct s3_result *r, void *arg)
{
	struct stage_fetch	*f = arg;
	char		*cause = NULL;

	f->call = NULL;
	if (r->error_code != NULL) {
		fetch_fail_result(f, "inventory data file", r);
		return;
	}
	if (fetch_close(f, &cause) != 0) {
		fetch_done(f, "ManifestUnreadable", cause);
		free(cause);
		return;
	}
	fetch_next_file(f);
}

static void
fetch_next_file(struct stage_fetch *f)
{
	const struct manifest_inventory_file	*file;
	char					*cause = NULL;

	if (f->next_file == f->inv->nfiles) {
		fetch_done(f, NULL, NULL);
		return;
	}
	file = &f->inv->files[f->next_file];
	if (fetch_open(f, spool_inventory_data_path((*f->core->cfg)->state_dir,
	    f->id, f->next_file), &cause) != 0) {
		fetch_done(f, "ManifestUnreadable", cause);
		free(cause);
		return;
	}
	free(f->key);
	f->key = xstrdup(file->key);
	free(f->bucket);
	f->bucket = xstrdup(f->inv->destination_bucket);
	f->next_file++;
	fetch_get(f, f->inv->destination_bucket, file->key, NULL, NULL,
	    fetch_data_cb);
}

static void
fetch_manifest_cb(const struct s3_result *r, void *arg)
{
	struct stage_fetch	*f = arg;
	char		*cause = NULL, *reason, *path;
	int		 fd;

	f->call = NULL;
	if (r->error_code != NULL) {
		fetch_fail_result(f, "the manifest", r);
		return;
	}
	if (!fetch_etag_matches(f->etag, r->etag)) {
		xasprintf(&reason, "the manifest s3://%s/%s has ETag %s, not "
		    "the %s the job names", f->bucket, f->key,
		    r->etag != NULL ? r->etag : "(none)", f->etag);
		fetch_done(f, "ManifestETagMismatch", reason);
		free(reason);
		return;
	}
	if (f->format == MANIFEST_FORMAT_CSV) {
		if (fetch_close(f, &cause) != 0) {
			fetch_done(f, "ManifestUnreadable", cause);
			free(cause);
			return;
		}
		fetch_done(f, NULL, NULL);
		return;
	}
	/* An inventory's manifest.json: keep it, then fetch its files. */
	if (manifest_inventory_parse(f->json.data, f->json.len, &f->inv,
	    &cause) != 0) {
		xasprintf(&reason, "s3://%s/%s: %s", f->bucket, f->key, cause);
		fetch_done(f, "InvalidManifest", reason);
		free(reason);
		free(cause);
		return;
	}
	path = spool_inventory_json_path((*f->core->cfg)->state_dir, f->id);
	fd = open(path, O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0600);
	if (fd == -1 || write(fd, f->json.data, f->json.len) !=
	    (ssize_t)f->json.len || fsync(fd) == -1) {
		xasprintf(&reason, "cannot keep %s: %s", path, strerror(errno));
		f->local = 1;
		if (fd != -1)
			close(fd);
		free(path);
		fetch_done(f, "ManifestUnreadable", reason);
		free(reason);
		return;
	}
	close(fd);
	free(path);
	fetch_next_file(f);
}

struct stage_fetch *
stage_fetch_start(struct core *core, const char *id, stage_done_cb done_cb,
    void *arg)
{
	struct stage_fetch		*f;
	struct job		 j;
	struct json_object	*spec = NULL, *m, *loc, *mspec, *v;
	const char		*fields[MANIFEST_MAX_FIELDS];
	size_t			 nfields;
	char			*cause = NULL, *reason;

	f = xcalloc(1, sizeof *f);
	f->core = core;
	f->done_cb = done_cb;
	f->arg = arg;
	f->fd = -1;
	snprintf(f->id, sizeof f->id, "%s", id);
	if (store_job_get(core->store, id, &j, &cause) != 0) {
		fetch_done(f, "InvalidManifest", cause != NULL ? cause :
		    "the job is gone");
		free(cause);
		return (NULL);
	}
	spec = json_tokener_parse(j.spec);
	job_clear(&j);
	if (spec == NULL || !json_object_object_get_ex(spec, "Manifest", &m) ||
	    !json_object_object_get_ex(m, "Location", &loc) ||
	    !json_object_object_get_ex(m, "Spec", &mspec) ||
	    !json_object_object_get_ex(loc, "ObjectArn", &v)) {
		fetch_done(f, "InvalidManifest", "Manifest.Location is "
		    "missing");
		f = NULL;
		goto out;
	}
	if (jobspec_arn_bucket(json_object_get_string(v), &f->bucket, &f->key,
	    &cause) != 0 || manifest_fields_from_spec(mspec, &f->format,
	    fields, &nfields, &cause) != 0) {
		xasprintf(&reason, "Manifest: %s", cause);
		fetch_done(f, "InvalidManifest", reason);
		free(reason);
		f = NULL;
		goto out;
	}
	if (json_object_object_get_ex(loc, "ObjectVersionId", &v))
		f->version_id = xstrdup(json_object_get_string(v));
	if (json_object_object_get_ex(loc, "ETag", &v)) {
		/* Given with or without its quotes. */
		f->etag = xstrdup(json_object_get_string(v));
		if (f->etag[0] == '"' && strlen(f->etag) >= 2) {
			memmove(f->etag, f->etag + 1, strlen(f->etag));
			f->etag[strlen(f->etag) - 1] = '\0';
		}
	}
	if (json_object_object_get_ex(spec, "RoleArn", &v))
		f->role_arn = xstrdup(json_object_get_string(v));
	if (f->format == MANIFEST_FORMAT_CSV &&
	    fetch_open(f, spool_csv_path((*core->cfg)->state_dir, f->id, 0),
	    &cause) != 0) {
		fetch_done(f, "ManifestUnreadable", cause);
		f = NULL;
		goto out;
	}
	log_job(LOG_INFO, f->id, "downloading the manifest s3://%s/%s",
	    f->bucket, f->key);
	fetch_get(f, f->bucket, f->key, f->version_id, f->etag,
	    fetch_manifest_cb);
out:
	free(cause);
	json_object_put(spec);
	return (f);
}

void
stage_fetch_stop(struct stage_fetch *f)
{
	if (f != NULL)
		fetch_free(f);
}
