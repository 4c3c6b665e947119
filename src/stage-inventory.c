/*
 * An inventory run: list the source bucket a page at a time (ListObjectsV2
 * for current versions, ListObjectVersions for all), HEAD each object only
 * when the configuration asks for a field the listing does not give (a
 * bounded number at a time), and stream the rows into gzip'd data files in
 * the spool. A data file that reaches INV_FILE_BYTES is closed and
 * uploaded (in parts past INV_PUT_MAX) before the listing goes on, so that
 * memory is one page and disk one data file, whatever the bucket's size.
 * When every data file is at the destination: manifest.json, then
 * manifest.checksum and hive/dt=.../symlink.txt. A run that ends short
 * (failure, stop) deletes the data files it uploaded and never writes
 * manifest.json.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "s3batchd.h"
#include "cfg.h"
#include "core.h"
#include "http.h"
#include "inventory.h"
#include "invfilter.h"
#include "invreport.h"
#include "lister.h"
#include "s3.h"
#include "s3-mpu.h"
#include "s3xml.h"
#include "spool.h"
#include "stage-inventory.h"

#define INV_ROWS_FLUSH		(64 * 1024)	/* CSV text held before deflate */
#define INV_FILE_BYTES		(64ULL * 1024 * 1024)	/* a data file, gzip'd */
#define INV_PUT_MAX		(16ULL * 1024 * 1024)	/* one PUT; else parts */
#define INV_PART_SIZE		(8ULL * 1024 * 1024)
#define INV_PART_PARALLEL	4
#define INV_VERSION		"2016-11-30"

/* FailureCodes of a run (list-inventory-runs shows them). */
#define INV_CODE_SOURCE		"InventorySourceFailed"
#define INV_CODE_DEST		"InventoryDestinationFailed"

/* x-amz-server-side-encryption to EncryptionStatus. */
static const struct {
	const char	*header;
	const char	*status;
} inv_sse_values[] = {
	{ "AES256", "SSE-S3" },
	{ "aws:kms", "SSE-KMS" },
	{ "aws:kms:dsse", "DSSE-KMS" },
};

/* x-amz-checksum-* (HEAD with checksum mode) to ChecksumAlgorithm. */
static const struct {
	const char	*header;
	const char	*name;
} inv_checksums[] = {
	{ "x-amz-checksum-crc32", "CRC32" },
	{ "x-amz-checksum-crc32c", "CRC32C" },
	{ "x-amz-checksum-crc64nvme", "CRC64NVME" },
	{ "x-amz-checksum-sha1", "SHA1" },
	{ "x-amz-checksum-sha256", "SHA256" },
};

/* x-amz-archive-status to IntelligentTieringAccessTier. */
static const struct {
	const char	*header;
	const char	*tier;
} inv_tiers[] = {
	{ "ARCHIVE_ACCESS", "ARCHIVE" },
	{ "DEEP_ARCHIVE_ACCESS", "DEEP_ARCHIVE" },
};

/* The columns only a HEAD answers. */
#define INV_HEAD_COLS	(INVR_COL_BIT(INVR_REPLICATION_STATUS) |	\
			 INVR_COL_BIT(INVR_ENCRYPTION_STATUS) |		\
			 INVR_COL_BIT(INVR_OBJECT_LOCK_RETAIN_UNTIL_DATE) | \
			 INVR_COL_BIT(INVR_OBJECT_LOCK_MODE) |		\
			 INVR_COL_BIT(INVR_OBJECT_LOCK_LEGAL_HOLD_STATUS) | \
			 INVR_COL_BIT(INVR_BUCKET_KEY_STATUS))
#define INV_LOCK_COLS	(INVR_COL_BIT(INVR_OBJECT_LOCK_RETAIN_UNTIL_DATE) | \
			 INVR_COL_BIT(INVR_OBJECT_LOCK_MODE) |		\
			 INVR_COL_BIT(INVR_OBJECT_LOCK_LEGAL_HOLD_STATUS))

/* One listed entry (a version or a delete marker with All versions). */
struct inv_entry {
	struct inv_run		*run;
	struct lister_item	 it;
	char			*checksum;	/* ChecksumAlgorithm */
	int			 is_latest;
	int			 delete_marker;
	int			 head;		/* a HEAD is wanted */
	int			 gone;		/* 404 since it was listed */
	char			 sse[16];
	char			 bucket_key[16];
	char			 repl[16];
	char			 lock_mode[16];
	char			 lock_until[40];
	char			 legal_hold[8];
	char			 tier[32];
	struct s3_call		*call;
};

struct inv_file {
	char		*key;		/* at the destination */
	uint64_t	 rows;
	uint64_t	 size;
	char		 md5[33];
	int		 uploaded;
};

/* A part of a multipart data file upload: its own read position. */
struct inv_part {
	struct inv_run	*run;
	uint64_t	 first;
	uint64_t	 len;
	uint64_t	 pos;
};

enum inv_step {
	INV_STEP_LOCK,
	INV_STEP_LIST,
	INV_STEP_CHECK,
	INV_STEP_UPLOAD,
	INV_STEP_FINAL
};

struct inv_run {
	struct core		*core;
	inv_run_cb		 cb;
	void			*arg;
	char			*run_id;
	char			 spool_id[37];	/* the spool files' name */
	time_t			 when;
	enum inv_step		 step;

	/* The configuration, copied. */
	char			*bucket;
	char			*config_id;
	char			*dest_bucket;
	char			*dest_arn;
	char			*base;		/* prefix/source/config-id/ */
	int			 dest_sse;
	char			*dest_kms_key;
	char			*filter_prefix;
	int			 all_versions;
	uint32_t		 cols;
	int			 lock;		/* the source has Object Lock */
	struct s3_header	 sse_headers[2];
	size_t			 nsse_headers;

	struct s3_call		*call;

	/* The page being listed, and its HEADs. */
	struct lister		*lister;
	struct s3_request	 list_req;
	struct inv_entry	*ents;
	size_t			 nents;
	struct lister_fetch	 fetch;
	size_t			 next_write;	/* rows written up to */
	int			 last_page;
	char			*check_cause;

	/* The data file being written, and those written. */
	struct invreport_file	*file;
	char			*file_path;
	struct buf		 rows;
	struct inv_file		*files;
	size_t			 nfiles;
	uint64_t		 file_bytes;	/* INV_FILE_BYTES */
	uint64_t		 file_rows;	/* 0, or the test's */
	uint64_t		 put_max;	/* INV_PUT_MAX, or the test's */
	int			 bg;		/* S3_BACKGROUND: below jobs */

	/*
	 * A JobFilter's selection: the rows it selects, as a CSV manifest
	 * (Bucket,Key[,VersionId]) written beside the report before its
	 * manifest.json, so that a report that looks complete never points
	 * at a missing selection. sel_error: the filter failed on a row (the
	 * report is still written; the job is not made).
	 */
	struct invfilter	*filter;
	char			*sel_path;
	int			 sel_fd;
	struct buf		 sel_rows;
	int64_t			 sel_n;
	char			*sel_key;
	char			*sel_etag;
	uint64_t		 sel_size;
	char			*sel_error;
	int			 up_sel;	/* the upload is the selection */

	/* The upload of files[nfiles - 1], or of the selection. */
	const char		*up_key;
	int			 up_fd;
	uint64_t		 up_pos;
	uint64_t		 up_len;
	char			*up_cause;
	struct s3_mpu		*mpu;
	struct inv_part		*parts;
	int			 nparts;

	/* The end. */
	int			 final;		/* 0 manifest, 1 checksum, 2 symlink */
	char			*manifest;
	char			*manifest_key;
	char			*manifest_etag;
	char			*checksum_key;
	char			*symlink;
	char			*symlink_key;

	int64_t			 objects;
	int64_t			 nrows;
	int64_t			 bytes;
	uint64_t		 heads;
	uint64_t		 t0;
};

static void	inv_next_page(struct inv_run *);
static void	inv_check_next(struct inv_run *);
static void	inv_finish(struct inv_run *);
static void	inv_finish_manifest(struct inv_run *);
static void	inv_sel_uploaded(struct inv_run *);
static void	inv_select(struct inv_run *, const struct invreport_row *);

/* ---- the end of a run */

static void
inv_ignore_cb(const struct s3_result *r, void *arg)
{
	(void)r;
	(void)arg;
}

/* The data files already at the destination go: no half report stays. */
static void
inv_remove_uploaded(struct inv_run *run)
{
	struct s3_request	req;
	size_t			i;

	for (i = 0; i < run->nfiles; i++) {
		if (!run->files[i].uploaded)
			continue;
		memset(&req, 0, sizeof req);
		req.method = "DELETE";
		req.bucket = run->dest_bucket;
		req.key = run->files[i].key;
		s3_call(run->core->s3, &req, inv_ignore_cb, NULL);
	}
	if (run->sel_etag != NULL) {
		memset(&req, 0, sizeof req);
		req.method = "DELETE";
		req.bucket = run->dest_bucket;
		req.key = run->sel_key;
		s3_call(run->core->s3, &req, inv_ignore_cb, NULL);
	}
	/* A manifest.json whose checksum or symlink failed goes too. */
	if (run->manifest_etag != NULL) {
		memset(&req, 0, sizeof req);
		req.method = "DELETE";
		req.bucket = run->dest_bucket;
		req.key = run->manifest_key;
		s3_call(run->core->s3, &req, inv_ignore_cb, NULL);
	}
}

static void
inv_entries_clear(struct inv_run *run)
{
	struct inv_entry	*e;
	size_t			 i;

	for (i = 0; i < run->nents; i++) {
		e = &run->ents[i];
		if (e->call != NULL)
			s3_call_cancel(e->call);
		lister_item_clear(&e->it);
		free(e->checksum);
	}
	free(run->ents);
	run->ents = NULL;
	run->nents = run->next_write = 0;
	memset(&run->fetch, 0, sizeof run->fetch);
	free(run->check_cause);
	run->check_cause = NULL;
}

static void
inv_free(struct inv_run *run)
{
	size_t	i;

	if (run->call != NULL)
		s3_call_cancel(run->call);
	if (run->mpu != NULL)
		s3_mpu_cancel(run->mpu);
	lister_free(run->lister);
	inv_entries_clear(run);
	invreport_file_free(run->file);
	if (run->file_path != NULL)
		unlink(run->file_path);
	free(run->file_path);
	if (run->up_fd != -1)
		close(run->up_fd);
	for (i = 0; i < run->nfiles; i++)
		free(run->files[i].key);
	free(run->files);
	free(run->parts);
	buf_free(&run->rows);
	free(run->up_cause);
	free(run->manifest);
	free(run->manifest_key);
	free(run->manifest_etag);
	free(run->checksum_key);
	free(run->symlink);
	free(run->symlink_key);
	free(run->run_id);
	free(run->bucket);
	free(run->config_id);
	free(run->dest_bucket);
	free(run->dest_arn);
	free(run->base);
	free(run->dest_kms_key);
	free(run->filter_prefix);
	invfilter_free(run->filter);
	if (run->sel_fd != -1)
		close(run->sel_fd);
	if (run->sel_path != NULL)
		unlink(run->sel_path);
	free(run->sel_path);
	buf_free(&run->sel_rows);
	free(run->sel_key);
	free(run->sel_etag);
	free(run->sel_error);
	free(run);
}

static void
inv_result(struct inv_run *run, enum stage_status status, const char *code,
    const char *reason)
{
	struct inv_run_result	res;

	memset(&res, 0, sizeof res);
	res.status = status;
	res.code = code;
	res.reason = reason;
	res.objects = run->objects;
	res.rows = run->nrows;
	res.bytes = run->bytes;
	if (status == STAGE_DONE) {
		res.manifest_key = run->manifest_key;
		res.manifest_etag = run->manifest_etag;
		res.selection = run->filter != NULL || run->sel_error != NULL;
		res.selection_key = run->sel_etag != NULL ? run->sel_key : NULL;
		res.selection_etag = run->sel_etag;
		res.selection_rows = run->sel_n;
		res.selection_error = run->sel_error;
		log_info("inventory %s of s3://%s: %" PRId64 " objects listed, "
		    "%" PRId64 " rows in %zu files (%" PRId64 " bytes, %llu "
		    "HEADs) in %llu ms: s3://%s/%s", run->config_id,
		    run->bucket, run->objects, run->nrows, run->nfiles,
		    run->bytes, (unsigned long long)run->heads,
		    (unsigned long long)(time_mono_ms() - run->t0),
		    run->dest_bucket, run->manifest_key);
	} else {
		log_warnx("inventory %s of s3://%s: %s", run->config_id,
		    run->bucket, reason);
		inv_remove_uploaded(run);
	}
	run->cb(run->run_id, &res, run->arg);
	inv_free(run);
}

/* LOCAL: the spool, not S3, failed (RETRY); else FAILED with CODE. */
static void
inv_fail(struct inv_run *run, int local, const char *code,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*reason;

	va_start(ap, fmt);
	xvasprintf(&reason, fmt, ap);
	va_end(ap);
	if (local)
		inv_result(run, STAGE_RETRY, STAGE_CODE_LOCAL, reason);
	else
		inv_result(run, STAGE_FAILED, code, reason);
	free(reason);
}

static void
inv_fail_s3(struct inv_run *run, const char *code, const char *what,
    const char *bucket, const char *key, const struct s3_result *r)
{
	char	*text;

	text = lister_result_text(r);
	if (key != NULL)
		inv_fail(run, 0, code, "%s s3://%s/%s: %s", what, bucket, key,
		    text);
	else
		inv_fail(run, 0, code, "%s s3://%s: %s", what, bucket, text);
	free(text);
}

static struct s3_call *
inv_call(struct inv_run *run, const char *method, const char *key,
    size_t key_len, const char *version_id, const char *query,
    const struct s3_header *headers, size_t nheaders, s3_write_cb sink,
    s3_done_cb cb, void *arg)
{
	struct s3_request	req;

	memset(&req, 0, sizeof req);
	req.method = method;
	req.bucket = run->bucket;
	req.key = key;
	req.key_len = key_len;
	req.version_id = version_id;
	req.query = query;
	req.headers = headers;
	req.nheaders = nheaders;
	req.sink = sink;
	req.sink_arg = arg;
	req.flags = run->bg;
	return (s3_call(run->core->s3, &req, cb, arg));
}

/* ---- per-object fields: HEAD, GET ?legal-hold */

static void
inv_entry_done(struct inv_entry *e)
{
	struct inv_run	*run = e->run;

	lister_fetch_done(&run->fetch);
	inv_check_next(run);
}

static void
inv_legal_hold_cb(const struct s3_result *r, void *arg)
{
	struct inv_entry	*e = arg;
	struct inv_run		*run = e->run;
	struct s3xml_legal_hold	 lh;
	char			*why = NULL;

	e->call = NULL;
	run->heads++;
	/* No hold ever set: S3 answers an error, not OFF. */
	if (r->error_code != NULL && (r->status == 404 || r->status == 400)) {
		snprintf(e->legal_hold, sizeof e->legal_hold, "OFF");
		inv_entry_done(e);
		return;
	}
	if (r->error_code != NULL) {
		inv_fail_s3(run, INV_CODE_SOURCE, "cannot read the legal hold "
		    "of", run->bucket, e->it.key, r);
		return;
	}
	memset(&lh, 0, sizeof lh);
	if (r->http == NULL || s3xml_parse_legal_hold(r->http->body.data,
	    r->http->body.len, &lh, &why) != 0) {
		s3xml_legal_hold_free(&lh);
		inv_fail(run, 0, INV_CODE_SOURCE, "the legal hold of "
		    "s3://%s/%s: %s", run->bucket, e->it.key,
		    why != NULL ? why : "no answer");
		free(why);
		return;
	}
	snprintf(e->legal_hold, sizeof e->legal_hold, "%s",
	    lh.status.data != NULL && strcmp(lh.status.data, "ON") == 0 ?
	    "ON" : "OFF");
	s3xml_legal_hold_free(&lh);
	inv_entry_done(e);
}

/* The HEAD's headers into the entry's fields. */
static void
inv_head_fields(struct inv_entry *e, const struct s3_result *r)
{
	const char	*v;
	uint64_t	 ms;
	size_t		 i;
	char		*why = NULL;

	snprintf(e->sse, sizeof e->sse, "NOT-SSE");
	if (r->status == 400 || s3_result_header(r,
	    "x-amz-server-side-encryption-customer-algorithm") != NULL)
		snprintf(e->sse, sizeof e->sse, "SSE-C");
	else if ((v = s3_result_header(r, "x-amz-server-side-encryption")) !=
	    NULL) {
		for (i = 0; i < nitems(inv_sse_values); i++) {
			if (strcmp(v, inv_sse_values[i].header) == 0)
				snprintf(e->sse, sizeof e->sse, "%s",
				    inv_sse_values[i].status);
		}
	}
	v = s3_result_header(r,
	    "x-amz-server-side-encryption-bucket-key-enabled");
	snprintf(e->bucket_key, sizeof e->bucket_key, "%s",
	    v != NULL && strcasecmp(v, "true") == 0 ? "ENABLED" : "DISABLED");
	if ((v = s3_result_header(r, "x-amz-replication-status")) != NULL)
		snprintf(e->repl, sizeof e->repl, "%s",
		    strcmp(v, "COMPLETE") == 0 ? "COMPLETED" : v);
	if ((v = s3_result_header(r, "x-amz-object-lock-mode")) != NULL)
		snprintf(e->lock_mode, sizeof e->lock_mode, "%s", v);
	if ((v = s3_result_header(r,
	    "x-amz-object-lock-retain-until-date")) != NULL) {
		/* The report's form: milliseconds and Z. */
		if (s3xml_parse_time(v, strlen(v), &ms, &why) == 0)
			time_format_utc(ms, e->lock_until,
			    sizeof e->lock_until);
		free(why);
	}
	if ((v = s3_result_header(r, "x-amz-object-lock-legal-hold")) != NULL)
		snprintf(e->legal_hold, sizeof e->legal_hold, "%s", v);
	if (e->it.storage_class != NULL &&
	    strcmp(e->it.storage_class, "INTELLIGENT_TIERING") == 0 &&
	    (v = s3_result_header(r, "x-amz-archive-status")) != NULL) {
		for (i = 0; i < nitems(inv_tiers); i++) {
			if (strcmp(v, inv_tiers[i].header) == 0)
				snprintf(e->tier, sizeof e->tier, "%s",
				    inv_tiers[i].tier);
		}
	}
	if (e->checksum == NULL) {
		for (i = 0; i < nitems(inv_checksums); i++) {
			if (s3_result_header(r, inv_checksums[i].header) !=
			    NULL) {
				e->checksum = xstrdup(inv_checksums[i].name);
				break;
			}
		}
	}
}

static void
inv_head_cb(const struct s3_result *r, void *arg)
{
	struct inv_entry	*e = arg;
	struct inv_run		*run = e->run;

	e->call = NULL;
	run->heads++;
	if (r->status == 404) {
		e->gone = 1;		/* deleted since it was listed */
		inv_entry_done(e);
		return;
	}
	/* A HEAD of an SSE-C object without its key answers 400. */
	if (r->error_code != NULL && r->status != 400) {
		inv_fail_s3(run, INV_CODE_SOURCE, "cannot HEAD", run->bucket,
		    e->it.key, r);
		return;
	}
	inv_head_fields(e, r);
	if ((run->cols & INVR_COL_BIT(INVR_OBJECT_LOCK_LEGAL_HOLD_STATUS)) &&
	    e->legal_hold[0] == '\0') {
		if (!run->lock || r->status == 400) {
			snprintf(e->legal_hold, sizeof e->legal_hold, "OFF");
		} else {
			e->call = inv_call(run, "GET", e->it.key, e->it.key_len,
			    e->it.version_id, "legal-hold", NULL, 0, NULL,
			    inv_legal_hold_cb, e);
			return;
		}
	}
	inv_entry_done(e);
}

/* ---- writing */

static int
inv_rows_flush(struct inv_run *run, char **cause)
{
	int	r;

	r = invreport_file_write(run->file, run->rows.data, run->rows.len,
	    cause);
	buf_reset(&run->rows);
	return (r);
}

static int
inv_file_open(struct inv_run *run, char **cause)
{
	struct inv_file	*f;
	char		 uuid[37];

	run->files = xreallocarray(run->files, run->nfiles + 1,
	    sizeof *run->files);
	f = &run->files[run->nfiles++];
	memset(f, 0, sizeof *f);
	uuid_generate_v4(uuid);
	xasprintf(&f->key, "%sdata/%s.csv.gz", run->base, uuid);
	free(run->file_path);
	run->file_path = spool_inventory_data_path(
	    (*run->core->cfg)->state_dir, run->spool_id, 0);
	if ((run->file = invreport_file_open(run->file_path, cause)) == NULL)
		return (-1);
	return (0);
}

static int
inv_sel_flush(struct inv_run *run)
{
	ssize_t	n;
	size_t	off = 0;

	while (off < run->sel_rows.len) {
		n = write(run->sel_fd, run->sel_rows.data + off,
		    run->sel_rows.len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			xasprintf(&run->sel_error, "cannot write %s: %s",
			    run->sel_path, strerror(errno));
			return (-1);
		}
		off += (size_t)n;
	}
	run->sel_size += run->sel_rows.len;
	buf_reset(&run->sel_rows);
	return (0);
}

/*
 * The JobFilter on a row, its values as the report writes them (the key
 * URL-encoded, absent values empty); a selected row becomes a line of the
 * CSV manifest (the key percent-encoded as a CSV manifest wants it). A
 * failure stops the selection, not the report.
 */
static void
inv_select(struct inv_run *run, const struct invreport_row *row)
{
	const char	*v[INVR_NCOLS];
	size_t		 len[INVR_NCOLS], n = 0;
	struct buf	 key;
	char		*cause = NULL;
	int		 c, r;

	buf_init(&key);
	invreport_key_encode(&key, row->v[INVR_KEY], row->len[INVR_KEY]);
	for (c = 0; c < INVR_NCOLS; c++) {
		if (!(run->cols & INVR_COL_BIT(c)))
			continue;
		if (c == INVR_KEY) {
			v[n] = key.data != NULL ? key.data : "";
			len[n] = key.len;
		} else {
			v[n] = row->v[c] != NULL ? row->v[c] : "";
			len[n] = row->len[c] != 0 ? row->len[c] : strlen(v[n]);
		}
		n++;
	}
	r = invfilter_match(run->filter, v, len, n, &cause);
	buf_free(&key);
	if (r == -1) {
		xasprintf(&run->sel_error, "JobFilter: %s", cause);
		free(cause);
		invfilter_free(run->filter);
		run->filter = NULL;
		return;
	}
	if (r == 0)
		return;
	url_encode(&run->sel_rows, run->bucket, strlen(run->bucket), 0);
	buf_addc(&run->sel_rows, ',');
	url_encode(&run->sel_rows, row->v[INVR_KEY], row->len[INVR_KEY],
	    URLENC_KEEP_SLASH);
	if (run->all_versions) {
		buf_addc(&run->sel_rows, ',');
		if (row->v[INVR_VERSION_ID] != NULL)
			url_encode(&run->sel_rows, row->v[INVR_VERSION_ID],
			    strlen(row->v[INVR_VERSION_ID]), 0);
	}
	buf_addc(&run->sel_rows, '\n');
	run->sel_n++;
	if (run->sel_rows.len >= INV_ROWS_FLUSH && inv_sel_flush(run) != 0) {
		invfilter_free(run->filter);
		run->filter = NULL;
	}
}

static void
inv_row(struct inv_run *run, const struct inv_entry *e)
{
	struct invreport_row	 row;
	char			 size[32], when[40];
	const char		*vid;

	memset(&row, 0, sizeof row);
	row.v[INVR_BUCKET] = run->bucket;
	row.v[INVR_KEY] = e->it.key;
	row.len[INVR_KEY] = e->it.key_len;
	/* The null version has no id in a report. */
	vid = e->it.version_id;
	if (vid != NULL && strcmp(vid, "null") == 0)
		vid = NULL;
	row.v[INVR_VERSION_ID] = vid;
	row.v[INVR_IS_LATEST] = e->is_latest ? "true" : "false";
	row.v[INVR_IS_DELETE_MARKER] = e->delete_marker ? "true" : "false";
	time_format_utc(e->it.mtime, when, sizeof when);
	row.v[INVR_LAST_MODIFIED_DATE] = when;
	if (!e->delete_marker) {
		snprintf(size, sizeof size, "%" PRId64, e->it.size);
		row.v[INVR_SIZE] = size;
		row.v[INVR_ETAG] = e->it.etag;
		row.v[INVR_STORAGE_CLASS] = e->it.storage_class;
		row.v[INVR_IS_MULTIPART_UPLOADED] =
		    strchr(e->it.etag, '-') != NULL ? "true" : "false";
		row.v[INVR_REPLICATION_STATUS] = e->repl;
		row.v[INVR_ENCRYPTION_STATUS] = e->sse;
		row.v[INVR_OBJECT_LOCK_RETAIN_UNTIL_DATE] = e->lock_until;
		row.v[INVR_OBJECT_LOCK_MODE] = e->lock_mode;
		row.v[INVR_OBJECT_LOCK_LEGAL_HOLD_STATUS] = e->legal_hold;
		row.v[INVR_INTELLIGENT_TIERING_ACCESS_TIER] = e->tier;
		row.v[INVR_BUCKET_KEY_STATUS] = e->bucket_key;
		row.v[INVR_CHECKSUM_ALGORITHM] = e->checksum;
	}
	invreport_row(&run->rows, run->cols, &row);
	run->nrows++;
	if (run->filter != NULL)
		inv_select(run, &row);
}

static void	inv_upload(struct inv_run *);

/* Close the data file being written and send it. */
static void
inv_file_finish(struct inv_run *run)
{
	struct inv_file	*f = &run->files[run->nfiles - 1];
	char		*cause = NULL;

	if (inv_rows_flush(run, &cause) != 0 ||
	    invreport_file_close(run->file, f->md5, &cause) != 0) {
		inv_fail(run, 1, NULL, "%s", cause);
		free(cause);
		return;
	}
	f->size = invreport_file_size(run->file);
	invreport_file_free(run->file);
	run->file = NULL;
	run->bytes += (int64_t)f->size;
	run->step = INV_STEP_UPLOAD;
	inv_upload(run);
}

/*
 * Write the page's rows from next_write on. A data file that is full is
 * closed and sent first; its upload's end comes back here for the rest of
 * the page.
 */
static void
inv_page_write(struct inv_run *run)
{
	struct inv_file	*f;
	char		*cause = NULL;
	int		 full;

	while (run->next_write < run->nents) {
		f = &run->files[run->nfiles - 1];
		if (!run->ents[run->next_write].gone) {
			inv_row(run, &run->ents[run->next_write]);
			f->rows++;
		}
		run->next_write++;
		if (run->rows.len >= INV_ROWS_FLUSH &&
		    inv_rows_flush(run, &cause) != 0) {
			inv_fail(run, 1, NULL, "%s", cause);
			free(cause);
			return;
		}
		full = invreport_file_size(run->file) >= run->file_bytes ||
		    (run->file_rows != 0 && f->rows >= run->file_rows);
		if (full && (run->next_write < run->nents ||
		    !run->last_page)) {
			inv_file_finish(run);
			return;
		}
	}
	inv_entries_clear(run);
	if (run->last_page) {
		inv_file_finish(run);
		return;
	}
	inv_next_page(run);
}

/* Start entry I's HEAD if it wants one (lister_fetch_next). */
static int
inv_head_start_cb(size_t i, void *arg)
{
	static const struct s3_header checksum_mode[] = {
		{ "x-amz-checksum-mode", "ENABLED" },
	};
	struct inv_run		*run = arg;
	struct inv_entry	*e = &run->ents[i];
	int			 want_sum;

	if (!e->head)
		return (0);
	want_sum = (run->cols & INVR_COL_BIT(INVR_CHECKSUM_ALGORITHM)) != 0;
	e->call = inv_call(run, "HEAD", e->it.key, e->it.key_len,
	    e->it.version_id, NULL, want_sum ? checksum_mode : NULL,
	    want_sum ? 1 : 0, NULL, inv_head_cb, e);
	return (1);
}

/* HEADs up to LISTER_FETCH_MAX; the page is written when all are in. */
static void
inv_check_next(struct inv_run *run)
{
	if (lister_fetch_next(&run->fetch, run->nents, inv_head_start_cb,
	    run))
		inv_page_write(run);
}

/* ---- listing */

static int
inv_entry_add(struct inv_run *run, const struct lister_entry *le,
    char **cause)
{
	const struct buf	*sum = le->checksum;
	struct inv_entry	*e;
	size_t			 len;

	run->objects++;
	if (lister_page_room(run->nents, cause) != 0)
		return (-1);
	if (run->nents % 256 == 0)
		run->ents = xreallocarray(run->ents, run->nents + 256,
		    sizeof *run->ents);
	e = &run->ents[run->nents++];
	memset(e, 0, sizeof *e);
	e->run = run;
	lister_item_set(&e->it, le);
	if (sum != NULL && sum->len != 0) {
		/* Several algorithms are comma-separated: the first. */
		len = strcspn(sum->data, ",");
		e->checksum = xstrndup(sum->data, len);
	}
	e->is_latest = le->is_latest;
	e->delete_marker = le->delete_marker;
	/* A delete marker has no object to HEAD (405). */
	e->head = !le->delete_marker && ((run->cols & INV_HEAD_COLS) != 0 ||
	    ((run->cols & INVR_COL_BIT(INVR_CHECKSUM_ALGORITHM)) &&
	    (sum == NULL || sum->len == 0)) ||
	    ((run->cols & INVR_COL_BIT(INVR_INTELLIGENT_TIERING_ACCESS_TIER)) &&
	    strcmp(e->it.storage_class, "INTELLIGENT_TIERING") == 0));
	return (0);
}

static int
inv_list_entry_cb(const struct lister_entry *le, void *arg, char **cause)
{
	struct inv_run	*run = arg;

	return (inv_entry_add(run, le, cause));
}

/* A retry sends the page again: forget the first try. */
static void
inv_list_reset_cb(void *arg)
{
	struct inv_run	*run = arg;

	run->objects -= (int64_t)run->nents;
	inv_entries_clear(run);
}

static void
inv_list_page_cb(int last, const struct s3_result *r, const char *cause,
    void *arg)
{
	struct inv_run	*run = arg;

	if (r != NULL) {
		inv_fail_s3(run, INV_CODE_SOURCE, "cannot list", run->bucket,
		    NULL, r);
		return;
	}
	if (cause != NULL) {
		inv_fail(run, 0, INV_CODE_SOURCE, "cannot list s3://%s: %s",
		    run->bucket, cause);
		return;
	}
	run->last_page = last;
	run->step = INV_STEP_CHECK;
	inv_check_next(run);
}

static void
inv_next_page(struct inv_run *run)
{
	run->step = INV_STEP_LIST;
	lister_next(run->lister);
}

/* ---- uploads: data files, then manifest.json, checksum, symlink */

static void
inv_dest_request(struct inv_run *run, struct s3_request *req,
    const char *key)
{
	memset(req, 0, sizeof *req);
	req->method = "PUT";
	req->bucket = run->dest_bucket;
	req->key = key;
	req->headers = run->sse_headers;
	req->nheaders = run->nsse_headers;
}

/* A data file is at the destination: go on listing, or end. */
static void
inv_uploaded(struct inv_run *run)
{
	char	*cause = NULL;

	if (run->up_fd != -1)
		close(run->up_fd);
	run->up_fd = -1;
	free(run->parts);
	run->parts = NULL;
	run->nparts = 0;
	if (run->up_sel) {
		inv_sel_uploaded(run);
		return;
	}
	run->files[run->nfiles - 1].uploaded = 1;
	unlink(run->file_path);
	if (run->last_page && run->next_write == run->nents) {
		inv_finish(run);
		return;
	}
	if (inv_file_open(run, &cause) != 0) {
		inv_fail(run, 1, NULL, "%s", cause);
		free(cause);
		return;
	}
	if (run->next_write < run->nents) {
		run->step = INV_STEP_CHECK;
		inv_page_write(run);
		return;
	}
	inv_entries_clear(run);
	inv_next_page(run);
}

static long
inv_read_at(struct inv_run *run, void *data, size_t size, uint64_t first,
    uint64_t len, uint64_t *pos)
{
	ssize_t	n;
	size_t	want = size;

	if (*pos >= len)
		return (0);
	if (want > len - *pos)
		want = (size_t)(len - *pos);
	do
		n = pread(run->up_fd, data, want, (off_t)(first + *pos));
	while (n == -1 && errno == EINTR);
	if (n <= 0) {
		free(run->up_cause);
		xasprintf(&run->up_cause, "reading the spool: %s", n == 0 ?
		    "file is shorter than when it was written" :
		    strerror(errno));
		return (-1);
	}
	*pos += (uint64_t)n;
	return ((long)n);
}

static long
inv_put_read_cb(void *data, size_t size, void *arg)
{
	struct inv_run	*run = arg;

	return (inv_read_at(run, data, size, 0, run->up_len, &run->up_pos));
}

static int
inv_put_rewind_cb(void *arg)
{
	struct inv_run	*run = arg;

	run->up_pos = 0;
	return (0);
}

static void
inv_put_cb(const struct s3_result *r, void *arg)
{
	struct inv_run	*run = arg;
	char		*text;

	run->call = NULL;
	if (r->error_code != NULL) {
		text = run->up_cause != NULL ? xstrdup(run->up_cause) :
		    lister_result_text(r);
		inv_fail(run, run->up_cause != NULL, INV_CODE_DEST,
		    "cannot write s3://%s/%s: %s", run->dest_bucket,
		    run->up_key, text);
		free(text);
		return;
	}
	inv_uploaded(run);
}

static long
inv_part_read_cb(void *data, size_t size, void *arg)
{
	struct inv_part	*p = arg;

	return (inv_read_at(p->run, data, size, p->first, p->len, &p->pos));
}

static int
inv_part_rewind_cb(void *arg)
{
	struct inv_part	*p = arg;

	p->pos = 0;
	return (0);
}

static void
inv_part_cb(struct s3_mpu *mpu, int index, uint64_t first, uint64_t len,
    void *arg)
{
	struct inv_run		*run = arg;
	struct inv_part		*p;
	struct s3_request	 req;

	if (index >= run->nparts) {
		run->parts = xreallocarray(run->parts, (size_t)index + 1,
		    sizeof *run->parts);
		run->nparts = index + 1;
	}
	p = &run->parts[index];
	p->run = run;
	p->first = first;
	p->len = len;
	p->pos = 0;
	memset(&req, 0, sizeof req);
	req.stream_len = len;
	req.stream_read = inv_part_read_cb;
	req.stream_rewind = inv_part_rewind_cb;
	req.stream_arg = p;
	req.flags = S3_UNSIGNED_PAYLOAD | run->bg;
	/* -1: the upload failed already; its done_cb says so. */
	(void)s3_mpu_part_body(mpu, index, &req);
}

static void
inv_mpu_done_cb(const struct s3_mpu_end *end, void *arg)
{
	struct inv_run	*run = arg;

	run->mpu = NULL;
	if (end->code != NULL) {
		inv_fail(run, run->up_cause != NULL, INV_CODE_DEST,
		    "cannot write s3://%s/%s: %s", run->dest_bucket,
		    run->up_key, run->up_cause != NULL ?
		    run->up_cause : end->message != NULL ? end->message :
		    end->code);
		return;
	}
	inv_uploaded(run);
}

/* Send the file at PATH, SIZE bytes, to KEY: one PUT, or in parts. */
static void
inv_upload_file(struct inv_run *run, const char *path, const char *key,
    uint64_t size)
{
	struct s3_mpu_params	 mp;
	struct s3_request	 req;

	run->up_key = key;
	run->up_fd = open(path, O_RDONLY|O_CLOEXEC);
	if (run->up_fd == -1) {
		inv_fail(run, 1, NULL, "cannot read %s: %s", path,
		    strerror(errno));
		return;
	}
	run->up_pos = 0;
	run->up_len = size;
	if (size <= run->put_max) {
		inv_dest_request(run, &req, key);
		req.stream_len = size;
		req.stream_read = inv_put_read_cb;
		req.stream_rewind = inv_put_rewind_cb;
		req.stream_arg = run;
		req.flags = S3_UNSIGNED_PAYLOAD | run->bg;
		run->call = s3_call(run->core->s3, &req, inv_put_cb, run);
		return;
	}
	memset(&mp, 0, sizeof mp);
	mp.bucket = run->dest_bucket;
	mp.key = key;
	mp.headers = run->sse_headers;
	mp.nheaders = run->nsse_headers;
	mp.size = size;
	mp.part_size = INV_PART_SIZE;
	mp.parallel = INV_PART_PARALLEL;
	mp.part_cb = inv_part_cb;
	mp.done_cb = inv_mpu_done_cb;
	mp.arg = run;
	run->mpu = s3_mpu_start(run->core->s3, &mp);
}

static void
inv_upload(struct inv_run *run)
{
	struct inv_file	*f = &run->files[run->nfiles - 1];

	inv_upload_file(run, run->file_path, f->key, f->size);
}

static void	inv_put_final(struct inv_run *);

static void
inv_final_cb(const struct s3_result *r, void *arg)
{
	struct inv_run	*run = arg;
	const char	*keys[] = {
		run->manifest_key, run->checksum_key, run->symlink_key
	};

	run->call = NULL;
	if (r->error_code != NULL) {
		inv_fail_s3(run, INV_CODE_DEST, "cannot write",
		    run->dest_bucket, keys[run->final], r);
		return;
	}
	if (run->final == 0)
		run->manifest_etag = xstrdup(r->etag != NULL ? r->etag : "");
	if (++run->final < (int)nitems(keys)) {
		inv_put_final(run);
		return;
	}
	inv_result(run, STAGE_DONE, NULL, NULL);
}

/* manifest.json, then manifest.checksum, then symlink.txt. */
static void
inv_put_final(struct inv_run *run)
{
	struct s3_request	 req;
	struct buf		 b;
	unsigned char		 md[16];
	char			 hex[33];
	size_t			 i;

	switch (run->final) {
	case 0:
		inv_dest_request(run, &req, run->manifest_key);
		req.body = run->manifest;
		req.body_len = strlen(run->manifest);
		break;
	case 1:
		/* manifest.checksum: the MD5 of manifest.json, in hex. */
		if (EVP_Digest(run->manifest, strlen(run->manifest), md, NULL,
		    EVP_md5(), NULL) != 1)
			fatalx("MD5 failed");
		hex_encode(md, 16, hex);
		inv_dest_request(run, &req, run->checksum_key);
		req.body = hex;
		req.body_len = 32;
		break;
	default:
		buf_init(&b);
		for (i = 0; i < run->nfiles; i++)
			buf_addf(&b, "s3://%s/%s\n", run->dest_bucket,
			    run->files[i].key);
		free(run->symlink);
		run->symlink = buf_detach(&b);
		inv_dest_request(run, &req, run->symlink_key);
		req.body = run->symlink;
		req.body_len = strlen(run->symlink);
		break;
	}
	req.flags = S3_CONTENT_MD5 | run->bg;
	run->call = s3_call(run->core->s3, &req, inv_final_cb, run);
}

/* The selection's ETag, for the job's manifest to pin. */
static void
inv_sel_head_cb(const struct s3_result *r, void *arg)
{
	struct inv_run	*run = arg;

	run->call = NULL;
	if (r->error_code != NULL || r->etag == NULL) {
		inv_fail_s3(run, INV_CODE_DEST, "cannot HEAD the selection",
		    run->dest_bucket, run->sel_key, r);
		return;
	}
	run->sel_etag = xstrdup(r->etag);
	inv_finish_manifest(run);
}

static void
inv_sel_uploaded(struct inv_run *run)
{
	struct s3_request	req;

	run->up_sel = 0;
	memset(&req, 0, sizeof req);
	req.method = "HEAD";
	req.bucket = run->dest_bucket;
	req.key = run->sel_key;
	req.flags = run->bg;
	run->call = s3_call(run->core->s3, &req, inv_sel_head_cb, run);
}

/*
 * The report's keys; then the selection, if the JobFilter selected rows,
 * goes first (inv_sel_uploaded), then manifest.json and the rest.
 */
static void
inv_finish(struct inv_run *run)
{
	struct tm	 tm;
	char		 folder[32], dt[32];

	gmtime_r(&run->when, &tm);
	strftime(folder, sizeof folder, "%Y-%m-%dT%H-%MZ", &tm);
	strftime(dt, sizeof dt, "%Y-%m-%d-%H-%M", &tm);
	xasprintf(&run->manifest_key, "%s%s/manifest.json", run->base,
	    folder);
	xasprintf(&run->checksum_key, "%s%s/manifest.checksum", run->base,
	    folder);
	xasprintf(&run->symlink_key, "%shive/dt=%s/symlink.txt", run->base,
	    dt);
	xasprintf(&run->sel_key, "%s%s/selected.csv", run->base, folder);
	if (run->filter != NULL && inv_sel_flush(run) == 0 && run->sel_n > 0) {
		close(run->sel_fd);
		run->sel_fd = -1;
		run->up_sel = 1;
		inv_upload_file(run, run->sel_path, run->sel_key,
		    run->sel_size);
		return;
	}
	inv_finish_manifest(run);
}

static void
inv_finish_manifest(struct inv_run *run)
{
	struct invreport_manifest	 m;
	struct invreport_manifest_file	*mf;
	struct buf			 schema;
	size_t				 i;

	buf_init(&schema);
	invreport_schema(&schema, run->cols);
	mf = xcalloc(run->nfiles, sizeof *mf);
	for (i = 0; i < run->nfiles; i++) {
		mf[i].key = run->files[i].key;
		mf[i].size = run->files[i].size;
		mf[i].md5 = run->files[i].md5;
	}
	memset(&m, 0, sizeof m);
	m.source_bucket = run->bucket;
	m.destination_arn = run->dest_arn;
	m.version = INV_VERSION;
	m.creation_ms = (uint64_t)run->when * 1000;
	m.file_schema = schema.data != NULL ? schema.data : "";
	m.files = mf;
	m.nfiles = run->nfiles;
	run->manifest = invreport_manifest_json(&m);
	free(mf);
	buf_free(&schema);
	run->step = INV_STEP_FINAL;
	run->final = 0;
	inv_put_final(run);
}

/* ---- the start */

/*
 * The JobFilter over the report's columns, and the spool file of its
 * selection. A filter that does not compile leaves the report to be
 * written and the job not made (sel_error); -1 only for the spool.
 */
static int
inv_sel_open(struct inv_run *run, const char *where, char **cause)
{
	const char	*names[INVR_NCOLS];
	char		*why = NULL;
	size_t		 n = 0;
	int		 c;

	for (c = 0; c < INVR_NCOLS; c++) {
		if (run->cols & INVR_COL_BIT(c))
			names[n++] = invreport_col_name((enum invreport_col)c);
	}
	if (invfilter_new(where, names, n, &run->filter, &why) != 0) {
		xasprintf(&run->sel_error, "JobFilter: %s", why);
		free(why);
		return (0);
	}
	run->sel_path = spool_inventory_data_path((*run->core->cfg)->state_dir,
	    run->spool_id, 1);
	run->sel_fd = open(run->sel_path, O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC,
	    0600);
	if (run->sel_fd == -1) {
		xasprintf(cause, "cannot write %s: %s", run->sel_path,
		    strerror(errno));
		return (-1);
	}
	return (0);
}

static void
inv_lock_cb(const struct s3_result *r, void *arg)
{
	struct inv_run			*run = arg;
	struct s3xml_object_lock	 ol;
	char				*why = NULL;

	run->call = NULL;
	if (r->error_code == NULL && r->http != NULL) {
		memset(&ol, 0, sizeof ol);
		if (s3xml_parse_object_lock(r->http->body.data,
		    r->http->body.len, &ol, &why) == 0)
			run->lock = ol.enabled.data != NULL &&
			    strcmp(ol.enabled.data, "Enabled") == 0;
		s3xml_object_lock_free(&ol);
		free(why);
	} else if (r->error_code != NULL && r->status != 404 &&
	    r->status != 400) {
		/* 404 (or RGW's 400): no Object Lock configuration. */
		inv_fail_s3(run, INV_CODE_SOURCE, "cannot read the Object Lock "
		    "configuration of", run->bucket, NULL, r);
		return;
	}
	inv_next_page(run);
}

/*
 * Tests only: small data files, to see a report split without millions of
 * objects, and small files sent in parts (a part may be as small as the
 * file when it is the only one).
 */
static void
inv_test_knobs(struct inv_run *run)
{
	const struct {
		const char	*env;
		uint64_t	*value;
		const char	*what;
	} knobs[] = {
		{ STAGE_INVENTORY_TEST_ROWS_ENV, &run->file_rows,
		    "rows per data file at most" },
		{ STAGE_INVENTORY_TEST_PUT_ENV, &run->put_max,
		    "bytes above which a data file is sent in parts" },
	};
	const char	*env;
	char		*end;
	long long	 n;
	size_t		 i;

	for (i = 0; i < nitems(knobs); i++) {
		if ((env = getenv(knobs[i].env)) == NULL || *env == '\0')
			continue;
		errno = 0;
		n = strtoll(env, &end, 10);
		if (*end != '\0' || errno != 0 || n < 0) {
			log_warnx("inventory: %s=\"%s\" is not a number; "
			    "ignored", knobs[i].env, env);
			continue;
		}
		*knobs[i].value = (uint64_t)n;
		log_warnx("inventory: test knob %s=%lld (%s)", knobs[i].env,
		    n, knobs[i].what);
	}
}

static const struct lister_cbs inv_list_cbs = {
	inv_list_entry_cb, inv_list_reset_cb, inv_list_page_cb
};

struct inv_run *
stage_inventory_start(struct core *core, const struct inv_config *c,
    const char *run_id, time_t when, inv_run_cb cb, void *arg)
{
	struct inv_run	*run;
	struct buf	 base;
	const char	*p;
	size_t		 len;
	char		*cause = NULL;

	run = xcalloc(1, sizeof *run);
	run->core = core;
	run->cb = cb;
	run->arg = arg;
	run->run_id = xstrdup(run_id);
	run->when = when;
	run->up_fd = -1;
	run->sel_fd = -1;
	run->t0 = time_mono_ms();
	uuid_generate_v4(run->spool_id);
	buf_init(&run->rows);
	run->bucket = xstrdup(c->bucket);
	run->config_id = xstrdup(c->id);
	run->dest_bucket = xstrdup(c->dest_bucket);
	run->dest_arn = xstrdup(c->dest_arn);
	run->dest_sse = c->dest_sse;
	if (c->dest_kms_key != NULL)
		run->dest_kms_key = xstrdup(c->dest_kms_key);
	if (c->filter_prefix != NULL && *c->filter_prefix != '\0')
		run->filter_prefix = xstrdup(c->filter_prefix);
	run->all_versions = c->all_versions;
	/* Its requests wait behind jobs' unless configured otherwise. */
	run->bg = (*core->cfg)->inventory_priority == CFG_INV_BELOW_JOBS ?
	    S3_BACKGROUND : 0;
	run->list_req.bucket = run->bucket;
	run->list_req.flags = run->bg;
	run->lister = lister_new(core->s3, &run->list_req, run->filter_prefix,
	    run->all_versions, &inv_list_cbs, run);
	run->cols = invreport_columns(c->all_versions, c->fields);
	run->file_bytes = INV_FILE_BYTES;
	run->put_max = INV_PUT_MAX;
	inv_test_knobs(run);
	switch (c->dest_sse) {
	case INV_SSE_S3:
		run->sse_headers[0].name = "x-amz-server-side-encryption";
		run->sse_headers[0].value = "AES256";
		run->nsse_headers = 1;
		break;
	case INV_SSE_KMS:
		run->sse_headers[0].name = "x-amz-server-side-encryption";
		run->sse_headers[0].value = "aws:kms";
		run->sse_headers[1].name =
		    "x-amz-server-side-encryption-aws-kms-key-id";
		run->sse_headers[1].value = run->dest_kms_key;
		run->nsse_headers = run->dest_kms_key != NULL ? 2 : 1;
		break;
	case INV_SSE_NONE:
		break;
	}
	/* prefix/source-bucket/config-id/, the prefix without a last '/'. */
	buf_init(&base);
	if ((p = c->dest_prefix) != NULL) {
		len = strlen(p);
		while (len > 0 && p[len - 1] == '/')
			len--;
		if (len != 0) {
			buf_add(&base, p, len);
			buf_addc(&base, '/');
		}
	}
	buf_addf(&base, "%s/%s/", c->bucket, c->id);
	run->base = buf_detach(&base);
	if (inv_file_open(run, &cause) != 0) {
		inv_fail(run, 1, NULL, "%s", cause);
		free(cause);
		return (NULL);
	}
	if (c->job_filter != NULL && c->job_template != NULL &&
	    inv_sel_open(run, c->job_filter, &cause) != 0) {
		inv_fail(run, 1, NULL, "%s", cause);
		free(cause);
		return (NULL);
	}
	log_info("inventory %s of s3://%s: run %s for s3://%s/%s", c->id,
	    c->bucket, run_id, run->dest_bucket, run->base);
	if (run->cols & INV_LOCK_COLS) {
		run->step = INV_STEP_LOCK;
		run->call = inv_call(run, "GET", NULL, 0, NULL, "object-lock",
		    NULL, 0, NULL, inv_lock_cb, run);
		return (run);
	}
	inv_next_page(run);
	return (run);
}

void
stage_inventory_stop(struct inv_run *run)
{
	if (run == NULL)
		return;
	log_info("inventory %s of s3://%s: run %s stopped", run->config_id,
	    run->bucket, run->run_id);
	inv_remove_uploaded(run);
	inv_free(run);
}
