/*
 * Completion reports (DESIGN.md §8, docs/REPORTS.md): Amazon's
 * Report_CSV_20180820 files, written from the store in windows of tasks so
 * that memory does not grow with the job, then uploaded with manifest.json
 * last, so that whoever sees manifest.json sees complete results.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "s3batchd.h"
#include "http.h"
#include "job.h"
#include "json.h"
#include "jobspec.h"
#include "report.h"
#include "s3.h"
#include "s3-mpu.h"
#include "s3xml.h"
#include "store.h"

#define REPORT_FORMAT		"Report_CSV_20180820"
/* Amazon's string, although its rows put HTTPStatusCode first. */
#define REPORT_SCHEMA		"Bucket, Key, VersionId, TaskStatus, " \
				"ErrorCode, HTTPStatusCode, ResultMessage"
#define REPORT_WINDOW		1000		/* tasks per store read */
#define REPORT_SINGLE_PUT_MAX	(64ULL * 1024 * 1024)
#define REPORT_PART_SIZE	(16ULL * 1024 * 1024)

/* The Report member of a job spec. */
struct report_spec {
	int			 enabled;
	enum report_scope	 scope;
	char			*bucket;
	char			*prefix;	/* "<Prefix>/job-<id>" */
	char			*owner;		/* ExpectedBucketOwner */
	char			*role_arn;
};

/* The two result files, by TaskExecutionStatus. */
static const char *const report_status_names[] = { "succeeded", "failed" };

static void
report_spec_free(struct report_spec *rs)
{
	free(rs->bucket);
	free(rs->prefix);
	free(rs->owner);
	free(rs->role_arn);
	memset(rs, 0, sizeof *rs);
}

/*
 * Read the Report settings of a job. With enabled false nothing else is
 * filled in. The spec already passed jobspec_check when the job was
 * created; these checks guard against a spec stored by an older version.
 */
static int
report_spec_parse(const struct job *j, struct report_spec *rs, char **cause)
{
	struct json_object	*spec, *report;
	const char		*s, *prefix;
	size_t			 len;
	char			*msg = NULL;

	memset(rs, 0, sizeof *rs);
	if (j->spec == NULL || (spec = json_tokener_parse(j->spec)) == NULL) {
		xasprintf(cause, "job %s has no readable spec", j->id);
		return (-1);
	}
	report = json_path(spec, "Report");
	if (json_path_bool(report, "Enabled") != 1) {
		json_object_put(spec);
		return (0);
	}
	rs->enabled = 1;

	if ((s = json_path_string(report, "Format")) != NULL &&
	    strcmp(s, REPORT_FORMAT) != 0) {
		xasprintf(cause, "Report.Format: %s is not supported, only "
		    REPORT_FORMAT, s);
		goto fail;
	}
	s = json_path_string(report, "ReportScope");
	if (s == NULL || strcmp(s, "AllTasks") == 0)
		rs->scope = REPORT_ALL_TASKS;
	else if (strcmp(s, "FailedTasksOnly") == 0)
		rs->scope = REPORT_FAILED_TASKS_ONLY;
	else {
		xasprintf(cause, "Report.ReportScope: %s is not AllTasks or "
		    "FailedTasksOnly", s);
		goto fail;
	}
	if ((s = json_path_string(report, "Bucket")) == NULL) {
		xasprintf(cause, "Report.Bucket is required when "
		    "Report.Enabled is true");
		goto fail;
	}
	if (jobspec_arn_bucket(s, &rs->bucket, NULL, &msg) != 0) {
		xasprintf(cause, "Report.Bucket: %s", msg);
		free(msg);
		goto fail;
	}

	/* A trailing '/' would give "prefix//job-...": drop it. */
	prefix = json_path_string(report, "Prefix");
	len = prefix != NULL ? strlen(prefix) : 0;
	while (len > 0 && prefix[len - 1] == '/')
		len--;
	if (len == 0)
		xasprintf(&rs->prefix, "job-%s", j->id);
	else
		xasprintf(&rs->prefix, "%.*s/job-%s", (int)len, prefix, j->id);

	if ((s = json_path_string(report, "ExpectedBucketOwner")) != NULL)
		rs->owner = xstrdup(s);
	if ((s = json_path_string(spec, "RoleArn")) != NULL)
		rs->role_arn = xstrdup(s);
	json_object_put(spec);
	return (0);
fail:
	json_object_put(spec);
	report_spec_free(rs);
	rs->enabled = 1;
	return (-1);
}

int
report_enabled(const struct job *j)
{
	struct report_spec	 rs;
	char			*cause = NULL;
	int			 enabled;

	/* Enabled but unusable still counts: report_write then says why. */
	if (report_spec_parse(j, &rs, &cause) != 0)
		free(cause);
	enabled = rs.enabled;
	report_spec_free(&rs);
	return (enabled);
}

/* RFC 4180: quote a field holding a comma, a quote or a line break. */
static void
report_csv_field(struct buf *b, const char *s)
{
	const char	*p;

	if (s == NULL)
		return;
	if (strpbrk(s, ",\"\r\n") == NULL) {
		buf_adds(b, s);
		return;
	}
	buf_addc(b, '"');
	for (p = s; *p != '\0'; p++) {
		if (*p == '"')
			buf_addc(b, '"');
		buf_addc(b, *p);
	}
	buf_addc(b, '"');
}

static const char *
report_task_status(const struct store_task *t)
{
	switch (t->state) {
	case TASK_SUCCEEDED:
		return ("succeeded");
	case TASK_FAILED:
		return ("failed");
	default:
		return ("pending");	/* local reports of a running job */
	}
}

/* What Amazon writes in ErrorCode and ResultMessage. */
static void
report_task_result(const struct store_task *t, const char **code,
    const char **message)
{
	if (t->state == TASK_SUCCEEDED) {
		*code = NULL;
		*message = t->result_message != NULL ? t->result_message :
		    "Successful";
	} else if (t->state == TASK_FAILED) {
		*code = t->result_code;
		*message = t->result_message != NULL ? t->result_message :
		    t->result_code;
	} else {
		*code = NULL;
		*message = NULL;
	}
}

void
report_row_csv(struct buf *b, const struct store_task *t)
{
	const char	*code, *message;

	report_task_result(t, &code, &message);
	report_csv_field(b, t->bucket);
	buf_addc(b, ',');
	/* Encoded keys hold only unreserved bytes, '/' and '%': no quoting. */
	url_encode(b, t->key, t->key_len, URLENC_KEEP_SLASH);
	buf_addc(b, ',');
	report_csv_field(b, t->version_id);
	buf_addc(b, ',');
	buf_adds(b, report_task_status(t));
	buf_addc(b, ',');
	if (t->http_status != 0)
		buf_addf(b, "%d", t->http_status);
	buf_addc(b, ',');
	report_csv_field(b, code);
	buf_addc(b, ',');
	report_csv_field(b, message);
	buf_addc(b, '\n');
}

static struct json_object *
report_json_string(const char *s)
{
	return (json_object_new_string(s != NULL ? s : ""));
}

void
report_row_jsonl(struct buf *b, const struct store_task *t)
{
	struct json_object	*o;
	struct buf		 key;
	const char		*code, *message;

	report_task_result(t, &code, &message);
	buf_init(&key);
	url_encode(&key, t->key, t->key_len, URLENC_KEEP_SLASH);
	o = json_object_new_object();
	json_object_object_add(o, "Bucket", report_json_string(t->bucket));
	json_object_object_add(o, "Key", report_json_string(key.data));
	json_object_object_add(o, "VersionId",
	    report_json_string(t->version_id));
	json_object_object_add(o, "TaskStatus",
	    report_json_string(report_task_status(t)));
	json_object_object_add(o, "HTTPStatusCode", t->http_status != 0 ?
	    json_object_new_int(t->http_status) : NULL);
	json_object_object_add(o, "ErrorCode", report_json_string(code));
	json_object_object_add(o, "ResultMessage",
	    report_json_string(message));
	/* An extension: HTTP attempts, retries included (0 while pending). */
	json_object_object_add(o, "Attempts",
	    json_object_new_int(t->attempts));
	buf_adds(b, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	buf_addc(b, '\n');
	json_object_put(o);
	buf_free(&key);
}

char *
report_manifest_json(const struct report_files *rf)
{
	struct json_object		*o, *results, *r;
	const struct report_file	*f;
	char				 when[32], *s;
	int				 i;

	time_format_utc(rf->created_ms, when, sizeof when);
	o = json_object_new_object();
	json_object_object_add(o, "Format",
	    json_object_new_string(REPORT_FORMAT));
	json_object_object_add(o, "ReportCreationDate",
	    json_object_new_string(when));
	results = json_object_new_array();
	for (i = 0; i < rf->nfiles; i++) {
		f = &rf->files[i];
		r = json_object_new_object();
		json_object_object_add(r, "TaskExecutionStatus",
		    json_object_new_string(report_status_names[f->failed ?
		    1 : 0]));
		json_object_object_add(r, "Bucket",
		    report_json_string(rf->bucket));
		json_object_object_add(r, "MD5Checksum",
		    json_object_new_string(f->md5));
		json_object_object_add(r, "Key", report_json_string(f->key));
		json_object_array_add(results, r);
	}
	json_object_object_add(o, "Results", results);
	json_object_object_add(o, "ReportSchema",
	    json_object_new_string(REPORT_SCHEMA));
	s = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return (s);
}

/*
 * Result object names look like Amazon's (40 hex digits) and are derived
 * from the job and the status, so that a report written again after a
 * restart replaces the same objects instead of adding new ones.
 */
static void
report_object_name(const char *id, const char *status, char out[41])
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	char		*in;

	xasprintf(&in, "%s/%s", id, status);
	if (EVP_Digest(in, strlen(in), md, &mdlen, EVP_sha1(), NULL) != 1 ||
	    mdlen != 20)
		fatalx("report: SHA-1 failed");
	free(in);
	hex_encode(md, 20, out);
}

/* State of report_write while it streams the tasks. */
struct report_writer {
	struct report_files	*rf;
	const char		*dir;
	const char		*id;
	FILE			*fp[2];
	EVP_MD_CTX		*md[2];
	struct report_file	 file[2];
	struct buf		 row;
	int64_t			 last;		/* seq of the last task read */
	int			 seen;		/* tasks in this window */
	char			*cause;		/* set: stop */
};

static int
report_writer_open(struct report_writer *w, int i)
{
	struct report_file	*f = &w->file[i];
	char			 name[41];
	int			 fd;

	xasprintf(&f->path, "%s/%s-report-%s.csv", w->dir, w->id,
	    report_status_names[i]);
	fd = open(f->path, O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0640);
	if (fd == -1 || (w->fp[i] = fdopen(fd, "w")) == NULL) {
		xasprintf(&w->cause, "creating %s: %s", f->path,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return (-1);
	}
	if ((w->md[i] = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(w->md[i], EVP_md5(), NULL) != 1)
		fatalx("report: MD5 is not available");
	f->failed = i;
	report_object_name(w->id, report_status_names[i], name);
	xasprintf(&f->key, "%s/results/%s.csv", w->rf->prefix, name);
	return (0);
}

static int
report_writer_cb(const struct store_task *t, void *arg)
{
	struct report_writer	*w = arg;
	struct report_file	*f;
	int			 i;

	w->seen++;
	w->last = t->seq;
	/* Tasks that never ran (a cancelled job) are not in the report. */
	if (t->state != TASK_SUCCEEDED && t->state != TASK_FAILED)
		return (0);
	i = t->state == TASK_FAILED;
	f = &w->file[i];
	if (w->fp[i] == NULL && report_writer_open(w, i) != 0)
		return (1);
	buf_reset(&w->row);
	report_row_csv(&w->row, t);
	if (fwrite(w->row.data, 1, w->row.len, w->fp[i]) != w->row.len) {
		xasprintf(&w->cause, "writing %s: %s", f->path,
		    strerror(errno));
		return (1);
	}
	if (EVP_DigestUpdate(w->md[i], w->row.data, w->row.len) != 1)
		fatalx("report: MD5 update failed");
	f->rows++;
	f->size += w->row.len;
	return (0);
}

/* Close the files; 0 if every byte reached the disk's cache. */
static int
report_writer_close(struct report_writer *w)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen;
	int		 i;

	for (i = 0; i < 2; i++) {
		if (w->fp[i] != NULL) {
			if (fclose(w->fp[i]) != 0 && w->cause == NULL)
				xasprintf(&w->cause, "writing %s: %s",
				    w->file[i].path, strerror(errno));
			w->fp[i] = NULL;
		}
		if (w->md[i] != NULL) {
			mdlen = 0;
			if (EVP_DigestFinal_ex(w->md[i], md, &mdlen) != 1 ||
			    mdlen != 16)
				fatalx("report: MD5 final failed");
			hex_encode(md, 16, w->file[i].md5);
			EVP_MD_CTX_free(w->md[i]);
			w->md[i] = NULL;
		}
	}
	return (w->cause == NULL ? 0 : -1);
}

int
report_write(struct store *st, const struct job *j, const char *dir,
    struct report_files *rf, char **cause)
{
	struct report_spec	 rs;
	struct report_writer	 w;
	int			 i, failed_only;

	memset(rf, 0, sizeof *rf);
	if (report_spec_parse(j, &rs, cause) != 0)
		return (-1);
	if (!rs.enabled) {
		xasprintf(cause, "job %s has no report enabled",
		    j->id);
		return (-1);
	}
	rf->bucket = rs.bucket;
	rf->prefix = rs.prefix;
	rs.bucket = rs.prefix = NULL;
	rf->created_ms = time_now_ms();
	failed_only = rs.scope == REPORT_FAILED_TASKS_ONLY;
	report_spec_free(&rs);

	memset(&w, 0, sizeof w);
	w.rf = rf;
	w.dir = dir;
	w.id = j->id;
	buf_init(&w.row);
	do {
		w.seen = 0;
		if (store_task_list(st, j->rowid, w.last, REPORT_WINDOW,
		    failed_only, report_writer_cb, &w, cause) != 0) {
			report_writer_close(&w);
			free(w.cause);
			goto fail;
		}
	} while (w.cause == NULL && w.seen == REPORT_WINDOW);
	buf_free(&w.row);
	if (report_writer_close(&w) != 0) {
		*cause = w.cause;
		goto fail;
	}

	/* Succeeded first, as Amazon lists them; empty files are left out. */
	for (i = 0; i < 2; i++) {
		if (w.file[i].rows == 0)
			continue;
		rf->files[rf->nfiles++] = w.file[i];
		memset(&w.file[i], 0, sizeof w.file[i]);
	}
	return (0);
fail:
	buf_free(&w.row);
	for (i = 0; i < 2; i++) {
		if (w.file[i].path != NULL)
			unlink(w.file[i].path);
		free(w.file[i].path);
		free(w.file[i].key);
	}
	report_files_free(rf);
	return (-1);
}

void
report_files_free(struct report_files *rf)
{
	int	i;

	for (i = 0; i < rf->nfiles; i++) {
		if (rf->files[i].path != NULL)
			unlink(rf->files[i].path);
		free(rf->files[i].path);
		free(rf->files[i].key);
	}
	free(rf->bucket);
	free(rf->prefix);
	memset(rf, 0, sizeof *rf);
}

/*
 * Upload. One file at a time: each result file by a single PUT streamed
 * from the file, or by a multipart upload (s3-mpu.h) when it is large,
 * then manifest.json. The parts go one at a time, read from the file as
 * they are sent. A failed multipart upload is aborted before done_cb.
 */
enum report_step {
	REPORT_PUT,
	REPORT_MULTIPART,
	REPORT_MANIFEST
};

struct report_upload_file {
	char		*path;
	char		*key;
	uint64_t	 size;
};

struct report_upload {
	struct s3			*s3;
	report_done_cb			 done_cb;
	void				*arg;
	char				*bucket;
	char				*role_arn;
	char				*owner;
	struct report_upload_file	 files[2];
	int				 nfiles;
	char				*manifest_key;
	char				*manifest;

	int				 cur;	/* files[cur]; nfiles: manifest */
	enum report_step		 step;
	struct s3_call			*call;	/* a single PUT */
	struct s3_mpu			*mpu;	/* a multipart upload */
	struct s3_header		 headers[3];
	size_t				 nheaders;
	struct buf			 body;

	/* The body being streamed: [start, start + len) of files[cur]. */
	int				 fd;
	uint64_t			 start;
	uint64_t			 len;
	uint64_t			 pos;
	char				*io_cause;
};

static void	report_upload_next(struct report_upload *);
static void	report_upload_done_cb(const struct s3_result *, void *);

static long
report_upload_read_cb(void *data, size_t size, void *arg)
{
	struct report_upload		*u = arg;
	struct report_upload_file	*f = &u->files[u->cur];
	ssize_t				 n;
	size_t				 want;

	if (u->io_cause != NULL)
		return (-1);
	if (u->fd == -1 &&
	    (u->fd = open(f->path, O_RDONLY|O_CLOEXEC)) == -1) {
		xasprintf(&u->io_cause, "opening %s: %s", f->path,
		    strerror(errno));
		return (-1);
	}
	if (u->pos >= u->len)
		return (0);
	want = size;
	if (want > u->len - u->pos)
		want = (size_t)(u->len - u->pos);
	n = pread(u->fd, data, want, (off_t)(u->start + u->pos));
	if (n == -1 && errno == EINTR)
		n = pread(u->fd, data, want, (off_t)(u->start + u->pos));
	if (n <= 0) {
		xasprintf(&u->io_cause, "reading %s: %s", f->path, n == 0 ?
		    "file is shorter than when it was written" :
		    strerror(errno));
		return (-1);
	}
	u->pos += (uint64_t)n;
	return ((long)n);
}

static int
report_upload_rewind_cb(void *arg)
{
	struct report_upload	*u = arg;

	if (u->io_cause != NULL)
		return (-1);
	u->pos = 0;
	return (0);
}

static void
report_upload_close_file(struct report_upload *u)
{
	if (u->fd != -1)
		close(u->fd);
	u->fd = -1;
}

static void
report_upload_free(struct report_upload *u)
{
	int	i;

	report_upload_close_file(u);
	for (i = 0; i < u->nfiles; i++) {
		free(u->files[i].path);
		free(u->files[i].key);
	}
	free(u->bucket);
	free(u->role_arn);
	free(u->owner);
	free(u->manifest_key);
	free(u->manifest);
	free(u->io_cause);
	buf_free(&u->body);
	free(u);
}

static void
report_upload_finish(struct report_upload *u, const char *cause)
{
	u->call = NULL;
	u->mpu = NULL;
	u->done_cb(cause, u->arg);
	report_upload_free(u);
}

/* The headers of every call: Content-Type (if any), the bucket's owner. */
static void
report_upload_headers(struct report_upload *u, const char *content_type)
{
	u->nheaders = 0;
	if (content_type != NULL) {
		u->headers[u->nheaders].name = "Content-Type";
		u->headers[u->nheaders++].value = content_type;
	}
	if (u->owner != NULL) {
		u->headers[u->nheaders].name = "x-amz-expected-bucket-owner";
		u->headers[u->nheaders++].value = u->owner;
	}
}

/* The streamed body: [start, start + len) of files[cur]. */
static void
report_upload_stream(struct report_upload *u, struct s3_request *req,
    uint64_t start, uint64_t len)
{
	u->start = start;
	u->len = len;
	u->pos = 0;
	req->stream_len = len;
	req->stream_read = report_upload_read_cb;
	req->stream_rewind = report_upload_rewind_cb;
	req->stream_arg = u;
	req->flags |= S3_UNSIGNED_PAYLOAD;
}

/* A PUT of a whole file (stream) or of manifest.json (body). */
static void
report_upload_put(struct report_upload *u, const char *key,
    const char *content_type)
{
	struct s3_request	 req;

	report_upload_headers(u, content_type);
	memset(&req, 0, sizeof req);
	req.method = "PUT";
	req.bucket = u->bucket;
	req.key = key;
	req.headers = u->headers;
	req.nheaders = u->nheaders;
	req.role_arn = u->role_arn;
	if (u->step == REPORT_PUT)
		report_upload_stream(u, &req, 0, u->files[u->cur].size);
	else {
		req.body = u->body.data;
		req.body_len = u->body.len;
		req.flags = S3_CONTENT_MD5;
	}
	req.flags |= S3_ERROR_IN_200;
	u->call = s3_call(u->s3, &req, report_upload_done_cb, u);
}

/* Stop at a failure: "<what> s3://bucket/key: <why>". */
static void
report_upload_fail(struct report_upload *u, const char *what, int status,
    const char *code, const char *message)
{
	const char	*key;
	char		*cause, s[32];

	key = u->cur < u->nfiles ? u->files[u->cur].key : u->manifest_key;
	if (u->io_cause != NULL)
		xasprintf(&cause, "%s s3://%s/%s: %s", what, u->bucket,
		    key, u->io_cause);
	else {
		/* The S3 layer says "HTTP 404" when S3 gave no message. */
		snprintf(s, sizeof s, "HTTP %d", status);
		if (message != NULL && (*message == '\0' ||
		    strcmp(message, s) == 0))
			message = NULL;
		xasprintf(&cause, "%s s3://%s/%s: %s (%s)%s%s", what,
		    u->bucket, key, code != NULL ? code : "error",
		    status != 0 ? s : "no HTTP answer",
		    message != NULL ? ": " : "", message != NULL ? message :
		    "");
	}
	report_upload_finish(u, cause);
	free(cause);
}

static const int report_put_ok[] = { 200, 0 };

static void
report_upload_done_cb(const struct s3_result *r, void *arg)
{
	struct report_upload	*u = arg;
	const struct buf	*body;
	struct buf		 none = { NULL, 0, 0 };
	char			*cause = NULL;

	u->call = NULL;
	if (r->error_code != NULL || r->status < 200 || r->status > 299) {
		report_upload_fail(u, "uploading", r->status, r->error_code,
		    r->error_message);
		return;
	}
	/* PutObject's success is a 200 with the new object's ETag, no body. */
	body = r->http != NULL ? &r->http->body : &none;
	if (s3xml_check_bodiless("PutObject", r->status, report_put_ok,
	    body->data, body->len, &cause) != 0 || r->etag == NULL) {
		report_upload_fail(u, "uploading", r->status, "InvalidResponse",
		    cause != NULL ? cause : "PutObject answered without an "
		    "ETag");
		free(cause);
		return;
	}
	if (u->step == REPORT_MANIFEST) {
		report_upload_finish(u, NULL);
		return;
	}
	report_upload_close_file(u);
	u->cur++;
	report_upload_next(u);
}

/* The multipart upload's next part: one at a time, from the file. */
static void
report_upload_part_cb(struct s3_mpu *mpu, int index, uint64_t first,
    uint64_t len, void *arg)
{
	struct report_upload	*u = arg;
	struct s3_request	 req;

	memset(&req, 0, sizeof req);
	report_upload_stream(u, &req, first, len);
	s3_mpu_part_body(mpu, index, &req);
}

static void
report_upload_mpu_done_cb(const struct s3_mpu_end *end, void *arg)
{
	struct report_upload	*u = arg;
	static const char *const what[] = {
		[S3_MPU_CREATE] = "starting the multipart upload of",
		[S3_MPU_PART] = "uploading a part of",
		[S3_MPU_COMPLETE] = "completing the multipart upload of",
	};

	u->mpu = NULL;
	if (end->code != NULL) {
		report_upload_fail(u, what[end->step], end->status, end->code,
		    end->message);
		return;
	}
	report_upload_close_file(u);
	u->cur++;
	report_upload_next(u);
}

static void
report_upload_multipart(struct report_upload *u)
{
	struct s3_mpu_params	 p;

	report_upload_headers(u, "text/csv");
	memset(&p, 0, sizeof p);
	p.bucket = u->bucket;
	p.key = u->files[u->cur].key;
	p.role_arn = u->role_arn;
	p.owner = u->owner;
	/* The owner goes on every call; Content-Type on the start only. */
	p.headers = u->headers;
	p.nheaders = 1;
	p.size = u->files[u->cur].size;
	p.part_size = REPORT_PART_SIZE;
	p.parallel = 1;
	p.part_cb = report_upload_part_cb;
	p.done_cb = report_upload_mpu_done_cb;
	p.arg = u;
	u->mpu = s3_mpu_start(u->s3, &p);
}

static void
report_upload_next(struct report_upload *u)
{
	buf_reset(&u->body);
	if (u->cur == u->nfiles) {
		u->step = REPORT_MANIFEST;
		buf_adds(&u->body, u->manifest);
		report_upload_put(u, u->manifest_key, "application/json");
		return;
	}
	if (u->files[u->cur].size <= REPORT_SINGLE_PUT_MAX) {
		u->step = REPORT_PUT;
		report_upload_put(u, u->files[u->cur].key, "text/csv");
		return;
	}
	u->step = REPORT_MULTIPART;
	report_upload_multipart(u);
}

struct report_upload *
report_upload(struct s3 *s3, const struct job *j,
    const struct report_files *rf, report_done_cb done_cb, void *arg)
{
	struct report_upload	*u;
	struct report_spec	 rs;
	char			*cause = NULL;
	int			 i;

	u = xcalloc(1, sizeof *u);
	u->s3 = s3;
	u->done_cb = done_cb;
	u->arg = arg;
	u->fd = -1;
	buf_init(&u->body);
	u->bucket = xstrdup(rf->bucket);
	xasprintf(&u->manifest_key, "%s/manifest.json", rf->prefix);
	u->manifest = report_manifest_json(rf);
	/* The role and owner come from the spec report_write already read. */
	if (report_spec_parse(j, &rs, &cause) == 0) {
		u->role_arn = rs.role_arn;
		u->owner = rs.owner;
		rs.role_arn = rs.owner = NULL;
		report_spec_free(&rs);
	} else {
		log_warnx("%s", cause);
		free(cause);
	}
	for (i = 0; i < rf->nfiles && i < 2; i++) {
		u->files[i].path = xstrdup(rf->files[i].path);
		u->files[i].key = xstrdup(rf->files[i].key);
		u->files[i].size = rf->files[i].size;
	}
	u->nfiles = i;
	report_upload_next(u);
	return (u);
}

void
report_upload_cancel(struct report_upload *u)
{
	if (u == NULL)
		return;
	if (u->call != NULL)
		s3_call_cancel(u->call);
	/* Aborts an open multipart upload in the background. */
	s3_mpu_cancel(u->mpu);
	report_upload_free(u);
}
