/*
 * S3PutObjectCopy: every field of Amazon's S3CopyObjectOperation, to
 * another bucket or in place, beyond 5 GiB by multipart UploadPartCopy.
 *
 * A task HEADs its source first: that records the ETag (or checks the
 * pinned one with If-Match) and gives the size that picks a single
 * CopyObject or a multipart copy. Every copy request then carries the ETag
 * as x-amz-copy-source-if-match and, because Ceph RGW ignores that header
 * and honours only its own, as x-amz-copy-if-match too: a source changed
 * after its ETag was known fails the task with 412 and is not copied.
 *
 * Multipart copies carry the source's metadata and tags themselves
 * (UploadPartCopy copies bytes only), copy their parts a few at a time
 * through s3-mpu.h, each retried on its own by the HTTP layer, and abort
 * the upload on failure or cancel. NewObjectTagging is also applied with
 * PutObjectTagging after the copy, because some servers (Ceph RGW) keep
 * the source's tags despite x-amz-tagging-directive: REPLACE.
 *
 * A target bucket on another endpoint than the source's cannot be reached
 * by a server-side copy: the bytes go through the daemon, GET into a
 * bounded buffer then PUT (or UploadPart above the threshold or the part
 * size), one buffer per part in flight and a global budget over all tasks.
 * Each GET is conditioned on the source's ETag; each PUT's ETag is checked
 * against the MD5 computed while receiving, and the completed upload's
 * against the MD5 of the part digests. See docs/operations/S3PutObjectCopy.md.
 *
 * S3UpdateObjectEncryption (op-encrypt.c) is this engine in place: a
 * copy of the object onto itself with COPY directives and only the
 * encryption headers new (op_copy_reencrypt_new). Its HEAD also checks
 * that the object is encrypted (Amazon changes no other), keeps the
 * storage class, and ends at once when the object is already as asked.
 * A server that refuses to copy an encrypted source (Ceph RGW 16 answers
 * CopyObject 501 NotImplemented) gets the bytes through the daemon
 * instead, the cross-endpoint path's GET If-Match then PUT. Every answer
 * must say aws:kms, or the task fails: a server may ignore the headers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sys/queue.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "s3batchd.h"
#include "cfg.h"
#include "http.h"
#include "jobspec.h"
#include "json.h"
#include "model.h"
#include "op.h"
#include "s3.h"
#include "s3-mpu.h"
#include "s3xml.h"

#define OP_COPY_MAX_HEADERS	48
/* S3's largest source for one CopyObject: 5 GiB. */
#define OP_COPY_SINGLE_MAX	(5ULL * 1024 * 1024 * 1024)
#define OP_COPY_PARTS_PARALLEL	4
#define OP_COPY_MIB		(1024ULL * 1024)
/* Bytes buffered by cross-endpoint copies, all tasks together. */
#define OP_COPY_X_BUDGET	(1024 * OP_COPY_MIB)
#define OP_COPY_MD5_LEN		16

struct op_copy_header {
	char	*name;
	char	*value;
};

/* The job's compiled parameters. */
struct op_copy {
	char			*target_bucket;	/* NULL: the source's */
	char			*prefix;	/* TargetKeyPrefix */
	/* For CopyObject and CreateMultipartUpload alike. */
	struct op_copy_header	 common[OP_COPY_MAX_HEADERS];
	size_t			 ncommon;
	/* For CopyObject only (directives, copy-source conditions). */
	struct op_copy_header	 copy_only[12];
	size_t			 ncopy_only;
	int			 replace_metadata;
	int			 replace_tags;
	struct buf		 tagging;	/* Tagging document */
	int			 have_storage_class;
	/* Modified/UnModifiedSinceConstraint, ms; 0: none. */
	int64_t			 modified_since;
	int64_t			 unmodified_since;
	/* S3UpdateObjectEncryption: the KMS key id; NULL: a copy. */
	char			*reencrypt_key;
	int			 reencrypt_bucket_key;
};

/* One task's progress. */
struct op_copy_task {
	char			*target_key;
	size_t			 target_key_len;
	char			*copy_source;
	uint64_t		 size;
	char			*etag;		/* the source's, checked */
	char			*last_modified;	/* the source's, from HEAD */
	/*
	 * The server refused x-amz-copy-source-if-match on a multipart
	 * source although HEAD If-Match held (Swift's s3api compares its
	 * internal ETag): guard with if-unmodified-since instead.
	 */
	int			 guard_unmodified;
	/* CopyObject sent without a HEAD first (op_copy_direct). */
	int			 direct;
	char			*storage_class;	/* the source's, in place */
	int			 same_kms;	/* already aws:kms, the key */
	/* In place through the daemon: the tags read before the PUT. */
	int			 tags_first;
	/* Multipart. */
	struct op_copy_header	 meta[OP_COPY_MAX_HEADERS];
	size_t			 nmeta;
	struct buf		 post_tags;	/* Tagging to PUT after */
	int			 have_post_tags;
	struct s3_mpu		*mpu;
	int			 nparts;
	char			*new_version;
	/* Cross-endpoint: the bytes go through us. */
	int			 cross;
	struct op_copy_xpart	*xparts[OP_COPY_PARTS_PARALLEL];
	unsigned char		(*digests)[OP_COPY_MD5_LEN];	/* parts' */
	char			*checksum_name;	/* the source's, single PUT */
	char			*checksum_value;
};

/* A part of a cross-endpoint copy (the whole object for a single PUT). */
struct op_copy_xpart {
	struct op_run		*run;
	struct op_copy_task	*ct;
	int			 index;
	int			 slot;
	uint64_t		 first;
	uint64_t		 len;
	unsigned char		*data;		/* len bytes, counted in budget */
	uint64_t		 have;		/* received */
	uint64_t		 sent;		/* streamed to the PUT */
	EVP_MD_CTX		*md5;
	unsigned char		 digest[OP_COPY_MD5_LEN];
	struct s3_call		*call;
	int			 waiting;	/* for budget */
	int			 sent_part;	/* given to the upload */
	TAILQ_ENTRY(op_copy_xpart) entry;
};
TAILQ_HEAD(op_copy_xparts, op_copy_xpart);

static struct op_copy_xparts	op_copy_x_waiting =
    TAILQ_HEAD_INITIALIZER(op_copy_x_waiting);
static uint64_t			op_copy_x_used;

static void	op_copy_finish_tags(struct op_run *);
static void	op_copy_head_cb(const struct s3_result *, void *);
static void	op_copy_x_head(struct op_run *);
static int	op_copy_same_key(const char *, const char *);
static void	op_copy_get_source_tags(struct op_run *);
static void	op_copy_source_tags_cb(const struct s3_result *, void *);
static void	op_copy_xpart_free(struct op_copy_xpart *);

static void
op_copy_add(struct op_copy_header *h, size_t *n, size_t max, const char *name,
    const char *value)
{
	if (*n == max)
		fatalx("op-copy: too many headers");
	h[*n].name = xstrdup(name);
	h[*n].value = xstrdup(value);
	(*n)++;
}

static void
op_copy_headers_free(struct op_copy_header *h, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(h[i].name);
		free(h[i].value);
	}
}

void
op_copy_free(void *arg)
{
	struct op_copy	*ctx = arg;

	if (ctx == NULL)
		return;
	free(ctx->reencrypt_key);
	free(ctx->target_bucket);
	free(ctx->prefix);
	op_copy_headers_free(ctx->common, ctx->ncommon);
	op_copy_headers_free(ctx->copy_only, ctx->ncopy_only);
	buf_free(&ctx->tagging);
	free(ctx);
}

/* Times for HTTP date headers (RFC 7231) and ISO 8601 ones. */
enum op_copy_time {
	OP_COPY_TIME_ABSENT,
	OP_COPY_TIME_SET,	/* out (and *msp) filled in */
	OP_COPY_TIME_BAD,	/* *cause says why */
};

static enum op_copy_time
op_copy_time(struct json_object *params, const char *name, int http,
    char *out, size_t len, int64_t *msp, char **cause)
{
	struct json_object	*v;
	int64_t			 ms;
	time_t			 t;
	struct tm		 tm;
	char			*c = NULL;

	if (!json_object_object_get_ex(params, name, &v))
		return (OP_COPY_TIME_ABSENT);
	if (model_timestamp(v, &ms, &c) != 0) {
		xasprintf(cause, "Operation.S3PutObjectCopy.%s: %s", name, c);
		free(c);
		return (OP_COPY_TIME_BAD);
	}
	if (msp != NULL)
		*msp = ms;
	if (!http) {
		time_format_utc((uint64_t)ms, out, len);
		return (OP_COPY_TIME_SET);
	}
	t = (time_t)(ms / 1000);
	gmtime_r(&t, &tm);
	strftime(out, len, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	return (OP_COPY_TIME_SET);
}

/* Simple string fields: JSON member -> header. */
static const struct op_copy_field {
	const char	*object;	/* NULL: the operation; else a member */
	const char	*member;
	const char	*header;
	int		 flags;
#define OP_COPY_F_METADATA	0x1	/* only with REPLACE */
#define OP_COPY_F_COPY_ONLY	0x2	/* CopyObject only */
} op_copy_fields[] = {
	{ NULL, "CannedAccessControlList", "x-amz-acl", 0 },
	{ NULL, "StorageClass", "x-amz-storage-class", 0 },
	{ NULL, "RedirectLocation", "x-amz-website-redirect-location", 0 },
	{ NULL, "SSEAwsKmsKeyId", "x-amz-server-side-encryption-aws-kms-key-id",
	  0 },
	{ NULL, "ChecksumAlgorithm", "x-amz-checksum-algorithm", 0 },
	{ NULL, "ObjectLockLegalHoldStatus", "x-amz-object-lock-legal-hold", 0 },
	{ NULL, "ObjectLockMode", "x-amz-object-lock-mode", 0 },
	{ "NewObjectMetadata", "CacheControl", "Cache-Control",
	  OP_COPY_F_METADATA },
	{ "NewObjectMetadata", "ContentDisposition", "Content-Disposition",
	  OP_COPY_F_METADATA },
	{ "NewObjectMetadata", "ContentEncoding", "Content-Encoding",
	  OP_COPY_F_METADATA },
	{ "NewObjectMetadata", "ContentLanguage", "Content-Language",
	  OP_COPY_F_METADATA },
	{ "NewObjectMetadata", "ContentType", "Content-Type",
	  OP_COPY_F_METADATA },
};

/* AccessControlGrants: Permission -> header. */
static const struct {
	const char	*permission;
	const char	*header;
} op_copy_grants[] = {
	{ "FULL_CONTROL", "x-amz-grant-full-control" },
	{ "READ", "x-amz-grant-read" },
	{ "WRITE", "x-amz-grant-write" },
	{ "READ_ACP", "x-amz-grant-read-acp" },
	{ "WRITE_ACP", "x-amz-grant-write-acp" },
};

static const struct {
	const char	*type;
	const char	*form;
} op_copy_grantees[] = {
	{ "id", "id" },
	{ "emailAddress", "emailAddress" },
	{ "uri", "uri" },
};

static int
op_copy_compile_grants(struct op_copy *ctx, struct json_object *params,
    char **cause)
{
	struct json_object	*list, *g, *grantee, *perm;
	struct buf		 v[nitems(op_copy_grants)];
	const char		*type, *id;
	size_t			 i, j, k, n;
	int			 r = -1;

	if (!json_object_object_get_ex(params, "AccessControlGrants", &list))
		return (0);
	for (k = 0; k < nitems(op_copy_grants); k++)
		buf_init(&v[k]);
	n = json_object_array_length(list);
	for (i = 0; i < n; i++) {
		g = json_object_array_get_idx(list, i);
		if (!json_object_object_get_ex(g, "Grantee", &grantee) ||
		    !json_object_object_get_ex(g, "Permission", &perm)) {
			xasprintf(cause, "Operation.S3PutObjectCopy."
			    "AccessControlGrants[%zu]: Grantee and Permission "
			    "are required", i);
			goto out;
		}
		type = json_path_string(grantee, "TypeIdentifier");
		id = json_path_string(grantee, "Identifier");
		for (j = 0; type != NULL && j < nitems(op_copy_grantees); j++) {
			if (strcmp(op_copy_grantees[j].type, type) == 0)
				break;
		}
		if (type == NULL || id == NULL || j == nitems(op_copy_grantees)) {
			xasprintf(cause, "Operation.S3PutObjectCopy."
			    "AccessControlGrants[%zu].Grantee: TypeIdentifier "
			    "(id, emailAddress or uri) and Identifier are "
			    "required", i);
			goto out;
		}
		for (k = 0; k < nitems(op_copy_grants); k++) {
			if (strcmp(op_copy_grants[k].permission,
			    json_object_get_string(perm)) == 0)
				break;
		}
		if (k == nitems(op_copy_grants)) {
			xasprintf(cause, "Operation.S3PutObjectCopy."
			    "AccessControlGrants[%zu].Permission: unknown", i);
			goto out;
		}
		buf_addf(&v[k], "%s%s=\"%s\"", v[k].len != 0 ? ", " : "",
		    op_copy_grantees[j].form, id);
	}
	for (k = 0; k < nitems(op_copy_grants); k++) {
		if (v[k].len != 0)
			op_copy_add(ctx->common, &ctx->ncommon,
			    OP_COPY_MAX_HEADERS, op_copy_grants[k].header,
			    v[k].data);
	}
	r = 0;
out:
	for (k = 0; k < nitems(op_copy_grants); k++)
		buf_free(&v[k]);
	return (r);
}

static int
op_copy_compile_tags(struct op_copy *ctx, struct json_object *params,
    char **cause)
{
	struct json_object	*set, *t, *k, *v;
	struct s3xml_tagging	*tagging;
	struct buf		 form;
	size_t			 i, n;
	int			 r = -1;

	if (!json_object_object_get_ex(params, "NewObjectTagging", &set))
		return (0);
	n = json_object_array_length(set);
	if (n > 10) {
		xasprintf(cause, "Operation.S3PutObjectCopy.NewObjectTagging: "
		    "%zu tags; S3 allows at most 10 on an object", n);
		return (-1);
	}
	tagging = xcalloc(1, sizeof *tagging);
	buf_init(&form);
	for (i = 0; i < n; i++) {
		t = json_object_array_get_idx(set, i);
		json_object_object_get_ex(t, "Key", &k);
		if (!json_object_object_get_ex(t, "Value", &v))
			v = NULL;
		buf_adds(&tagging->tags[i].key, json_object_get_string(k));
		buf_adds(&tagging->tags[i].value, v != NULL ?
		    json_object_get_string(v) : "");
		if (i != 0)
			buf_addc(&form, '&');
		url_encode(&form, tagging->tags[i].key.data,
		    tagging->tags[i].key.len, 0);
		buf_addc(&form, '=');
		url_encode(&form, tagging->tags[i].value.data,
		    tagging->tags[i].value.len, 0);
	}
	tagging->ntags = n;
	if (s3xml_write_tagging(&ctx->tagging, tagging, cause) != 0)
		goto out;
	ctx->replace_tags = 1;
	op_copy_add(ctx->copy_only, &ctx->ncopy_only, nitems(ctx->copy_only),
	    "x-amz-tagging-directive", "REPLACE");
	if (form.len != 0)
		op_copy_add(ctx->common, &ctx->ncommon, OP_COPY_MAX_HEADERS,
		    "x-amz-tagging", form.data);
	r = 0;
out:
	buf_free(&form);
	s3xml_tagging_free(tagging);
	free(tagging);
	return (r);
}

static int
op_copy_compile(struct json_object *params, struct json_object *spec,
    void **ctxp, char **cause)
{
	struct op_copy			*ctx;
	struct json_object		*meta = NULL, *obj, *v, *um;
	const struct op_copy_field	*f;
	const char			*s, *directive;
	char				*bucket = NULL, tbuf[64], *name;
	size_t				 i;
	enum op_copy_time		 r;

	ctx = xcalloc(1, sizeof *ctx);
	if ((s = json_path_string(params, "TargetResource")) != NULL) {
		if (jobspec_arn_bucket(s, &bucket, NULL, cause) != 0) {
			free(*cause);
			xasprintf(cause, "Operation.S3PutObjectCopy."
			    "TargetResource: \"%.64s\" is not a bucket ARN "
			    "(arn:aws:s3:::bucket)", s);
			goto fail;
		}
		ctx->target_bucket = bucket;
	}
	if ((s = json_path_string(params, "TargetKeyPrefix")) != NULL)
		ctx->prefix = xstrdup(s);
	json_object_object_get_ex(params, "NewObjectMetadata", &meta);
	directive = json_path_string(params, "MetadataDirective");
	/* New metadata means REPLACE unless the job says otherwise. */
	ctx->replace_metadata = directive != NULL ?
	    strcmp(directive, "REPLACE") == 0 : 0;
	if (directive == NULL && meta != NULL) {
		for (i = 0; i < nitems(op_copy_fields); i++) {
			if ((op_copy_fields[i].flags & OP_COPY_F_METADATA) &&
			    json_path_string(meta, op_copy_fields[i].member))
				ctx->replace_metadata = 1;
		}
		if (json_object_object_get_ex(meta, "UserMetadata", NULL) ||
		    json_object_object_get_ex(meta, "HttpExpiresDate", NULL))
			ctx->replace_metadata = 1;
	}
	op_copy_add(ctx->copy_only, &ctx->ncopy_only, nitems(ctx->copy_only),
	    "x-amz-metadata-directive", ctx->replace_metadata ? "REPLACE" :
	    "COPY");
	for (i = 0; i < nitems(op_copy_fields); i++) {
		f = &op_copy_fields[i];
		obj = f->object == NULL ? params : meta;
		if ((s = json_path_string(obj, f->member)) == NULL)
			continue;
		if ((f->flags & OP_COPY_F_METADATA) && !ctx->replace_metadata)
			continue;
		if (strcmp(f->member, "StorageClass") == 0)
			ctx->have_storage_class = 1;
		op_copy_add(ctx->common, &ctx->ncommon, OP_COPY_MAX_HEADERS,
		    f->header, s);
	}
	if (meta != NULL && ctx->replace_metadata) {
		if ((r = op_copy_time(meta, "HttpExpiresDate", 1, tbuf,
		    sizeof tbuf, NULL, cause)) == OP_COPY_TIME_BAD)
			goto fail;
		if (r == OP_COPY_TIME_SET)
			op_copy_add(ctx->common, &ctx->ncommon,
			    OP_COPY_MAX_HEADERS, "Expires", tbuf);
		if (json_object_object_get_ex(meta, "UserMetadata", &um)) {
			json_object_object_foreach(um, k, val) {
				xasprintf(&name, "x-amz-meta-%s", k);
				op_copy_add(ctx->common, &ctx->ncommon,
				    OP_COPY_MAX_HEADERS, name,
				    json_object_get_string(val));
				free(name);
			}
		}
	}
	if (meta != NULL && (s = json_path_string(meta, "SSEAlgorithm")) != NULL)
		op_copy_add(ctx->common, &ctx->ncommon, OP_COPY_MAX_HEADERS,
		    "x-amz-server-side-encryption", strcmp(s, "KMS") == 0 ?
		    "aws:kms" : s);
	if (json_object_object_get_ex(params, "BucketKeyEnabled", &v) &&
	    json_object_get_boolean(v))
		op_copy_add(ctx->common, &ctx->ncommon, OP_COPY_MAX_HEADERS,
		    "x-amz-server-side-encryption-bucket-key-enabled", "true");
	if (json_object_object_get_ex(params, "RequesterPays", &v) &&
	    json_object_get_boolean(v))
		op_copy_add(ctx->common, &ctx->ncommon, OP_COPY_MAX_HEADERS,
		    "x-amz-request-payer", "requester");
	if ((r = op_copy_time(params, "ObjectLockRetainUntilDate", 0, tbuf,
	    sizeof tbuf, NULL, cause)) == OP_COPY_TIME_BAD)
		goto fail;
	if (r == OP_COPY_TIME_SET)
		op_copy_add(ctx->common, &ctx->ncommon, OP_COPY_MAX_HEADERS,
		    "x-amz-object-lock-retain-until-date", tbuf);
	/* The standard headers, RGW's own, and our check of the HEAD. */
	if ((r = op_copy_time(params, "ModifiedSinceConstraint", 1, tbuf,
	    sizeof tbuf, &ctx->modified_since, cause)) == OP_COPY_TIME_BAD)
		goto fail;
	if (r == OP_COPY_TIME_SET) {
		op_copy_add(ctx->copy_only, &ctx->ncopy_only,
		    nitems(ctx->copy_only),
		    "x-amz-copy-source-if-modified-since", tbuf);
		op_copy_add(ctx->copy_only, &ctx->ncopy_only,
		    nitems(ctx->copy_only), "x-amz-copy-if-modified-since",
		    tbuf);
	}
	if ((r = op_copy_time(params, "UnModifiedSinceConstraint", 1, tbuf,
	    sizeof tbuf, &ctx->unmodified_since, cause)) == OP_COPY_TIME_BAD)
		goto fail;
	if (r == OP_COPY_TIME_SET) {
		op_copy_add(ctx->copy_only, &ctx->ncopy_only,
		    nitems(ctx->copy_only),
		    "x-amz-copy-source-if-unmodified-since", tbuf);
		op_copy_add(ctx->copy_only, &ctx->ncopy_only,
		    nitems(ctx->copy_only), "x-amz-copy-if-unmodified-since",
		    tbuf);
	}
	if (op_copy_compile_grants(ctx, params, cause) != 0 ||
	    op_copy_compile_tags(ctx, params, cause) != 0)
		goto fail;
	*ctxp = ctx;
	return (0);
fail:
	op_copy_free(ctx);
	return (-1);
}

void *
op_copy_reencrypt_new(const char *key_id, int bucket_key)
{
	struct op_copy	*ctx;

	ctx = xcalloc(1, sizeof *ctx);
	ctx->reencrypt_key = xstrdup(key_id);
	ctx->reencrypt_bucket_key = bucket_key;
	op_copy_add(ctx->copy_only, &ctx->ncopy_only, nitems(ctx->copy_only),
	    "x-amz-metadata-directive", "COPY");
	op_copy_add(ctx->copy_only, &ctx->ncopy_only, nitems(ctx->copy_only),
	    "x-amz-tagging-directive", "COPY");
	op_copy_add(ctx->common, &ctx->ncommon, OP_COPY_MAX_HEADERS,
	    "x-amz-server-side-encryption", "aws:kms");
	op_copy_add(ctx->common, &ctx->ncommon, OP_COPY_MAX_HEADERS,
	    "x-amz-server-side-encryption-aws-kms-key-id", key_id);
	/* Sent either way: unset, Amazon would take the bucket's default. */
	op_copy_add(ctx->common, &ctx->ncommon, OP_COPY_MAX_HEADERS,
	    "x-amz-server-side-encryption-bucket-key-enabled",
	    bucket_key ? "true" : "false");
	return (ctx);
}

static void
op_copy_task_free(struct op_copy_task *ct)
{
	int	i;

	if (ct == NULL)
		return;
	free(ct->target_key);
	free(ct->copy_source);
	free(ct->etag);
	free(ct->last_modified);
	free(ct->storage_class);
	op_copy_headers_free(ct->meta, ct->nmeta);
	buf_free(&ct->post_tags);
	/* A cancelled task's upload is aborted in the background. */
	s3_mpu_cancel(ct->mpu);
	free(ct->new_version);
	for (i = 0; i < OP_COPY_PARTS_PARALLEL; i++) {
		if (ct->xparts[i] != NULL)
			op_copy_xpart_free(ct->xparts[i]);
	}
	free(ct->digests);
	free(ct->checksum_name);
	free(ct->checksum_value);
	free(ct);
}

static const char *
op_copy_target_bucket(const struct op_run *run)
{
	const struct op_copy	*ctx = run->ctx;

	return (ctx->target_bucket != NULL ? ctx->target_bucket : run->bucket);
}

/* End the task, freeing its state first. */
static void
op_copy_end(struct op_run *run, enum task_state state, int status,
    const char *code, const char *message)
{
	struct op_copy_task	*ct = run->state;
	char			*c, *m;

	c = code != NULL ? xstrdup(code) : NULL;
	m = message != NULL ? xstrdup(message) : NULL;
	run->state = NULL;
	op_copy_task_free(ct);
	if (state == TASK_SUCCEEDED)
		op_succeed(run, status, m);
	else
		op_finish(run, state, status, c, m);
	free(c);
	free(m);
}

static void
op_copy_end_result(struct op_run *run, const struct s3_result *r)
{
	op_copy_end(run, TASK_FAILED, r->status, r->error_code != NULL ?
	    r->error_code : "UnknownError", r->error_message != NULL ?
	    r->error_message : "");
}

/* Headers of a call: a fixed vector on the stack. */
struct op_copy_hv {
	struct s3_header	 h[OP_COPY_MAX_HEADERS * 2 + 8];
	size_t			 n;
};

static void
op_copy_hv_add(struct op_copy_hv *hv, const char *name, const char *value)
{
	if (hv->n == nitems(hv->h))
		fatalx("op-copy: header vector full");
	hv->h[hv->n].name = name;
	hv->h[hv->n].value = value;
	hv->n++;
}

static void
op_copy_hv_addv(struct op_copy_hv *hv, const struct op_copy_header *h,
    size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		op_copy_hv_add(hv, h[i].name, h[i].value);
}

/*
 * The job's headers for a PUT or an upload's start. A cross-endpoint copy
 * leaves out ChecksumAlgorithm: it would oblige every part to carry a
 * checksum we do not compute; the source's own checksum goes instead.
 */
static void
op_copy_hv_common(struct op_copy_hv *hv, const struct op_copy *ctx,
    const struct op_copy_task *ct)
{
	size_t	i;

	for (i = 0; i < ctx->ncommon; i++) {
		if (ct->cross && strcasecmp(ctx->common[i].name,
		    "x-amz-checksum-algorithm") == 0)
			continue;
		op_copy_hv_add(hv, ctx->common[i].name, ctx->common[i].value);
	}
}

static void
op_copy_request(struct op_run *run, struct s3_request *req,
    const char *method, const char *query)
{
	struct op_copy_task	*ct = run->state;

	memset(req, 0, sizeof *req);
	req->method = method;
	req->bucket = op_copy_target_bucket(run);
	req->key = ct->target_key;
	req->key_len = ct->target_key_len;
	req->query = query;
	req->role_arn = run->role_arn;
}

/* S3 answers PutObjectTagging 200 and DeleteObjectTagging 204. */
static const int op_copy_tags_ok[] = { 200, 204, 0 };

/*
 * After the copy: the new tags, where the server may have kept others.
 * Their 2xx must be S3's, bodiless: the copy is not done without them.
 */
static void
op_copy_tags_cb(const struct s3_result *r, void *arg)
{
	struct op_run		*run = arg;
	struct op_copy		*ctx = run->ctx;
	struct op_copy_task	*ct = run->state;
	const struct buf	*body, *tags;
	struct buf		 none = { NULL, 0, 0 };
	char			*cause = NULL;

	op_account(run, r);
	if (r->error_code != NULL) {
		op_copy_end_result(run, r);
		return;
	}
	/* The tags sent, as op_copy_finish_tags chose them. */
	tags = ctx->replace_tags ? &ctx->tagging : &ct->post_tags;
	body = r->http != NULL ? &r->http->body : &none;
	if (s3xml_check_bodiless(tags->len != 0 ? "PutObjectTagging" :
	    "DeleteObjectTagging", r->status, op_copy_tags_ok, body->data,
	    body->len, &cause) != 0) {
		op_copy_end(run, TASK_FAILED, r->status, "InvalidResponse",
		    cause);
		free(cause);
		return;
	}
	op_copy_end(run, TASK_SUCCEEDED, 200, NULL, NULL);
}

/*
 * The tags the copy must end with: NewObjectTagging, or for a multipart
 * copy the source's (servers ignore x-amz-tagging on an upload's start).
 */
static void
op_copy_finish_tags(struct op_run *run)
{
	struct op_copy		*ctx = run->ctx;
	struct op_copy_task	*ct = run->state;
	struct s3_request	 req;
	const struct buf	*tags;

	if (ctx->replace_tags)
		tags = &ctx->tagging;
	else if (ct->have_post_tags)
		tags = &ct->post_tags;
	else {
		op_copy_end(run, TASK_SUCCEEDED, 200, NULL, NULL);
		return;
	}
	op_copy_request(run, &req, tags->len != 0 ? "PUT" : "DELETE",
	    "tagging");
	req.version_id = ct->new_version;
	if (tags->len != 0) {
		req.body = tags->data;
		req.body_len = tags->len;
		req.flags = S3_CONTENT_MD5;
	}
	run->call = s3_call(run->s3, &req, op_copy_tags_cb, run);
}

static void	op_copy_single(struct op_run *);
static int	op_copy_direct_refused(struct op_run *,
		    const struct s3_result *);

/*
 * An in-place re-encryption that the server refused to copy: RGW 16
 * answers CopyObject of an SSE-KMS source 501, and refuses one that only
 * changes the KMS key with 400 InvalidRequest (it sees no change). The
 * bytes go through the daemon then, from a new HEAD on.
 */
static int
op_copy_reencrypt_through(struct op_run *run, const struct s3_result *r)
{
	struct op_copy		*ctx = run->ctx;
	struct op_copy_task	*ct = run->state;

	if (ctx->reencrypt_key == NULL || ct->cross)
		return (0);
	if (r->status != 501 && (r->status != 400 || ct->same_kms ||
	    r->error_code == NULL ||
	    strcmp(r->error_code, "InvalidRequest") != 0))
		return (0);
	log_debug("%s: CopyObject answered %d %s; re-encrypting "
	    "s3://%s/%.*s by GET and PUT", run->job_id != NULL ? run->job_id :
	    "-", r->status, r->error_code, run->bucket, (int)run->key_len,
	    run->key);
	ct->cross = 1;
	/* The PUT replaces the object and its tags: read them first. */
	ct->tags_first = 1;
	op_copy_get_source_tags(run);
	return (1);
}

/*
 * An object already SSE-KMS with the key, asked only for another bucket
 * key setting, whose in-place copy the server refuses as changing nothing
 * (400 InvalidRequest; RGW keeps no S3 Bucket Keys): there is nothing the
 * server can change, and the object is encrypted as asked.
 */
static int
op_copy_reencrypt_nothing(struct op_run *run, const struct s3_result *r)
{
	struct op_copy		*ctx = run->ctx;
	struct op_copy_task	*ct = run->state;
	char			*m;

	if (ctx->reencrypt_key == NULL || !ct->same_kms || ct->cross ||
	    r->status != 400 || r->error_code == NULL ||
	    strcmp(r->error_code, "InvalidRequest") != 0)
		return (0);
	xasprintf(&m, "Successful: already SSE-KMS with key %s; the "
	    "server refused to "
	    "set S3 Bucket Key %s as no change (it keeps no bucket key "
	    "setting)", ctx->reencrypt_key, ctx->reencrypt_bucket_key ?
	    "enabled" : "disabled");
	op_copy_end(run, TASK_SUCCEEDED, 200, NULL, m);
	free(m);
	return (1);
}

/*
 * A re-encryption's write must come back encrypted as asked: a server
 * may take the headers and ignore them. Ends the task and returns 0 if
 * not.
 */
static int
op_copy_reencrypt_applied(struct op_run *run, const struct s3_result *r,
    const char *what)
{
	struct op_copy	*ctx = run->ctx;
	const char	*sse, *key;
	char		*m;

	if (ctx->reencrypt_key == NULL)
		return (1);
	sse = s3_result_header(r, "x-amz-server-side-encryption");
	key = s3_result_header(r,
	    "x-amz-server-side-encryption-aws-kms-key-id");
	if (sse != NULL && strcmp(sse, "aws:kms") == 0 && (key == NULL ||
	    op_copy_same_key(key, ctx->reencrypt_key)))
		return (1);
	xasprintf(&m, "%s answered %d with x-amz-server-side-encryption %s "
	    "and key %s, not aws:kms with key %s: the server did not encrypt "
	    "the object as asked", what, r->status, sse != NULL ? sse :
	    "absent", key != NULL ? key : "absent", ctx->reencrypt_key);
	op_copy_end(run, TASK_FAILED, r->status, "InvalidResponse", m);
	free(m);
	return (0);
}

/* The source still has its ETag (HEAD If-Match): copy under the date. */
static void
op_copy_recheck_cb(const struct s3_result *r, void *arg)
{
	struct op_run		*run = arg;
	struct op_copy_task	*ct = run->state;

	run->attempts += r->attempts;
	run->call = NULL;
	if (r->error_code != NULL) {
		op_copy_end_result(run, r);
		return;
	}
	ct->guard_unmodified = 1;
	op_copy_single(run);
}

/*
 * A 412 to a copy of a multipart source whose ETag HEAD had just
 * confirmed: the server may compare x-amz-copy-source-if-match with an
 * ETag of its own (Swift's s3api). HEAD If-Match again; if it holds, the
 * copy is sent once more guarded by x-amz-copy-source-if-unmodified-since
 * with the source's Last-Modified (a change within the same second is the
 * one it cannot see; docs/COMPATIBILITY.md).
 */
static int
op_copy_recheck(struct op_run *run, const struct s3_result *r)
{
	struct op_copy_task	*ct = run->state;
	struct s3_request	 req;
	struct s3_header	 h;
	char			 quoted[256];

	if (r->status != 412 || ct->guard_unmodified ||
	    ct->last_modified == NULL || strchr(ct->etag, '-') == NULL)
		return (0);
	snprintf(quoted, sizeof quoted, "\"%s\"", ct->etag);
	op_request(run, &req, "HEAD");
	h.name = "If-Match";
	h.value = quoted;
	req.headers = &h;
	req.nheaders = 1;
	run->call = s3_call(run->s3, &req, op_copy_recheck_cb, run);
	return (1);
}

static void
op_copy_single_cb(const struct s3_result *r, void *arg)
{
	struct op_run		*run = arg;
	struct op_copy_task	*ct = run->state;
	struct s3xml_copy	 done;
	char			*cause = NULL;

	run->attempts += r->attempts;
	run->call = NULL;
	if (r->error_code != NULL) {
		if (op_copy_direct_refused(run, r) ||
		    op_copy_reencrypt_nothing(run, r) ||
		    op_copy_reencrypt_through(run, r))
			return;
		if (!op_copy_recheck(run, r))
			op_copy_end_result(run, r);
		return;
	}
	/* A 2xx is a copy only with a CopyObjectResult that says so. */
	memset(&done, 0, sizeof done);
	if (r->http == NULL || s3xml_parse_copy(r->http->body.data,
	    r->http->body.len, &done, &cause) != 0 || done.etag.len == 0) {
		op_copy_end(run, TASK_FAILED, r->status, "InvalidResponse",
		    cause != NULL ? cause : "CopyObject answered without an "
		    "ETag in its CopyObjectResult");
		free(cause);
		s3xml_copy_free(&done);
		return;
	}
	s3xml_copy_free(&done);
	if (!op_copy_reencrypt_applied(run, r, "CopyObject"))
		return;
	if (r->version_id != NULL)
		ct->new_version = xstrdup(r->version_id);
	op_copy_finish_tags(run);
}

/*
 * Whether a copy may go without a HEAD first: one request per task. The
 * HEAD is needed to choose multipart (a threshold below S3's 5 GiB copy
 * limit), for an in-place re-encryption (what the object is now), across
 * endpoints (the bytes go through us), and to check Modified and
 * UnModifiedSinceConstraint ourselves (a server may ignore the copy's own
 * conditions). Otherwise the server checks the pinned ETag
 * (x-amz-copy-source-if-match) and says when the object is too large.
 */
static int
op_copy_direct_ok(const struct op_run *run)
{
	const struct op_copy		*ctx = run->ctx;
	const struct op_copy_task	*ct = run->state;

	return (!ct->cross && ctx->reencrypt_key == NULL &&
	    ctx->modified_since == 0 && ctx->unmodified_since == 0 &&
	    run->cfg->multipart_threshold >= OP_COPY_SINGLE_MAX);
}

/*
 * A copy sent without a HEAD that the server refused for what a HEAD
 * would have told: too large for one CopyObject (400 InvalidRequest or
 * EntityTooLarge), a 412 that may be Swift's multipart ETag (op_copy_recheck
 * needs the HEAD's Last-Modified), or 501. The task goes the long way, HEAD
 * first, as if sent so from the start; the 412 of an object that really
 * changed comes back from the HEAD.
 */
static int
op_copy_direct_refused(struct op_run *run, const struct s3_result *r)
{
	struct op_copy_task	*ct = run->state;

	if (!ct->direct)
		return (0);
	ct->direct = 0;
	if (r->status != 412 && r->status != 501 && (r->status != 400 ||
	    r->error_code == NULL || (strcmp(r->error_code,
	    "InvalidRequest") != 0 && strcmp(r->error_code,
	    "EntityTooLarge") != 0)))
		return (0);
	log_debug("%s: CopyObject of s3://%s/%.*s without a HEAD answered "
	    "%d %s; HEAD first", run->job_id != NULL ? run->job_id : "-",
	    run->bucket, (int)run->key_len, run->key, r->status,
	    r->error_code);
	op_head(run, op_copy_head_cb);
	return (1);
}

static void
op_copy_single(struct op_run *run)
{
	struct op_copy		*ctx = run->ctx;
	struct op_copy_task	*ct = run->state;
	struct op_copy_hv	 hv;
	struct s3_request	 req;
	char			 quoted[256];

	hv.n = 0;
	op_copy_hv_add(&hv, "x-amz-copy-source", ct->copy_source);
	if (ct->etag != NULL) {
		snprintf(quoted, sizeof quoted, "\"%s\"", ct->etag);
		if (ct->guard_unmodified)
			op_copy_hv_add(&hv,
			    "x-amz-copy-source-if-unmodified-since",
			    ct->last_modified);
		else
			op_copy_hv_add(&hv, "x-amz-copy-source-if-match",
			    quoted);
		op_copy_hv_add(&hv, "x-amz-copy-if-match", quoted);
	}
	op_copy_hv_addv(&hv, ctx->copy_only, ctx->ncopy_only);
	op_copy_hv_addv(&hv, ctx->common, ctx->ncommon);
	/* A copy without the header would make the object STANDARD. */
	if (ct->storage_class != NULL)
		op_copy_hv_add(&hv, "x-amz-storage-class", ct->storage_class);
	op_copy_request(run, &req, "PUT", NULL);
	req.headers = hv.h;
	req.nheaders = hv.n;
	req.flags = S3_ERROR_IN_200;
	run->call = s3_call(run->s3, &req, op_copy_single_cb, run);
}

/* --- multipart (s3-mpu.h) */

static void	op_copy_x_part(struct op_run *, int, uint64_t, uint64_t);
static void	op_copy_x_part_done_cb(struct s3_mpu *, int,
		    const struct s3_result *, void *);
static void	op_copy_x_done(struct op_run *);
static int	op_copy_x_verify_complete(struct op_copy_task *,
		    const struct s3_result *, char **);

/* A part of a server-side copy: UploadPartCopy on the source's ETag. */
static void
op_copy_part_cb(struct s3_mpu *mpu, int index, uint64_t first, uint64_t len,
    void *arg)
{
	struct op_run		*run = arg;
	struct op_copy_task	*ct = run->state;
	struct s3_header	 h[2];
	char			 quoted[256];

	snprintf(quoted, sizeof quoted, "\"%s\"", ct->etag);
	h[0].name = "x-amz-copy-source-if-match";
	h[0].value = quoted;
	h[1].name = "x-amz-copy-if-match";
	h[1].value = quoted;
	s3_mpu_part_copy(mpu, index, ct->copy_source, h, nitems(h));
}

/* A part of a cross-endpoint copy: GET into a buffer, then UploadPart. */
static void
op_copy_x_part_cb(struct s3_mpu *mpu, int index, uint64_t first,
    uint64_t len, void *arg)
{
	op_copy_x_part(arg, index, first, len);
}

static void
op_copy_mpu_done_cb(const struct s3_mpu_end *end, void *arg)
{
	struct op_run		*run = arg;
	struct op_copy_task	*ct = run->state;
	const struct s3_result	*r = end->result;
	char			*cause = NULL;

	ct->mpu = NULL;
	run->attempts += end->attempts;
	if (end->code != NULL) {
		op_copy_end(run, TASK_FAILED, end->status, end->code,
		    end->message);
		return;
	}
	if (ct->cross && op_copy_x_verify_complete(ct, r, &cause) != 0) {
		op_copy_end(run, TASK_FAILED, r->status, "BadDigest", cause);
		free(cause);
		return;
	}
	if (r->version_id != NULL)
		ct->new_version = xstrdup(r->version_id);
	if (ct->cross)
		op_copy_x_done(run);
	else
		op_copy_finish_tags(run);
}

static void
op_copy_initiate(struct op_run *run)
{
	struct op_copy		*ctx = run->ctx;
	struct op_copy_task	*ct = run->state;
	struct op_copy_hv	 hv;
	struct s3_mpu_params	 p;

	hv.n = 0;
	if (!ctx->replace_metadata)
		op_copy_hv_addv(&hv, ct->meta, ct->nmeta);
	op_copy_hv_common(&hv, ctx, ct);
	memset(&p, 0, sizeof p);
	p.bucket = op_copy_target_bucket(run);
	p.key = ct->target_key;
	p.key_len = ct->target_key_len;
	p.role_arn = run->role_arn;
	p.headers = hv.h;
	p.nheaders = hv.n;
	p.size = ct->size;
	p.part_size = run->cfg->multipart_part_size;
	p.parallel = OP_COPY_PARTS_PARALLEL;
	p.done_cb = op_copy_mpu_done_cb;
	p.arg = run;
	if (ct->cross) {
		/* The part digests, for the completed upload's ETag. */
		ct->nparts = s3_mpu_nparts(ct->size,
		    s3_mpu_part_size(ct->size, p.part_size));
		ct->digests = xcalloc((size_t)ct->nparts, sizeof *ct->digests);
		p.part_cb = op_copy_x_part_cb;
		p.part_done_cb = op_copy_x_part_done_cb;
	} else
		p.part_cb = op_copy_part_cb;
	ct->mpu = s3_mpu_start(run->s3, &p);
}

static void
op_copy_source_tags_cb(const struct s3_result *r, void *arg)
{
	struct op_run		*run = arg;
	struct op_copy_task	*ct = run->state;
	struct s3xml_tagging	*tagging;
	char			*cause = NULL;

	run->attempts += r->attempts;
	run->call = NULL;
	if (r->error_code != NULL) {
		op_copy_end_result(run, r);
		return;
	}
	tagging = xcalloc(1, sizeof *tagging);
	if (s3xml_parse_tagging(r->http->body.data, r->http->body.len,
	    tagging, &cause) != 0) {
		op_copy_end(run, TASK_FAILED, r->status, "InvalidResponse",
		    cause);
		free(cause);
		s3xml_tagging_free(tagging);
		free(tagging);
		return;
	}
	if (tagging->ntags != 0) {
		if (s3xml_write_tagging(&ct->post_tags, tagging, &cause) != 0) {
			op_copy_end(run, TASK_FAILED, r->status,
			    "InvalidResponse", cause);
			free(cause);
			s3xml_tagging_free(tagging);
			free(tagging);
			return;
		}
		ct->have_post_tags = 1;
	}
	s3xml_tagging_free(tagging);
	free(tagging);
	if (ct->tags_first)
		op_copy_x_head(run);
	else if (ct->cross)
		op_copy_finish_tags(run);
	else
		op_copy_initiate(run);
}

/* The source's tags (for a copy that must carry them itself). */
static void
op_copy_get_source_tags(struct op_run *run)
{
	struct s3_request	 req;

	op_request(run, &req, "GET");
	req.query = "tagging";
	run->call = s3_call(run->s3, &req, op_copy_source_tags_cb, run);
}

/* Response headers of the source's HEAD that a multipart copy carries. */
static void
op_copy_keep_metadata(struct op_copy_task *ct, const struct s3_result *r,
    int keep_class)
{
	static const char *const names[] = {
		"Content-Type", "Cache-Control", "Content-Disposition",
		"Content-Encoding", "Content-Language", "Expires",
		"x-amz-website-redirect-location",
	};
	const struct http_response	*h = r->http;
	const char			*v;
	size_t				 i;

	for (i = 0; i < nitems(names); i++) {
		if ((v = s3_result_header(r, names[i])) != NULL)
			op_copy_add(ct->meta, &ct->nmeta, OP_COPY_MAX_HEADERS,
			    names[i], v);
	}
	if (keep_class && (v = s3_result_header(r, "x-amz-storage-class")) !=
	    NULL)
		op_copy_add(ct->meta, &ct->nmeta, OP_COPY_MAX_HEADERS,
		    "x-amz-storage-class", v);
	for (i = 0; h != NULL && i < h->nheaders; i++) {
		if (strncasecmp(h->headers[i].name, "x-amz-meta-", 11) == 0 &&
		    ct->nmeta < OP_COPY_MAX_HEADERS)
			op_copy_add(ct->meta, &ct->nmeta, OP_COPY_MAX_HEADERS,
			    h->headers[i].name, h->headers[i].value);
	}
}

/*
 * Whether Modified/UnModifiedSinceConstraint hold for the source's
 * Last-Modified.
 */
static int
op_copy_constraints_hold(const struct op_copy *ctx, const char *last_modified)
{
	uint64_t	lm;

	if (ctx->modified_since == 0 && ctx->unmodified_since == 0)
		return (1);
	if (last_modified == NULL || time_parse_http(last_modified, &lm) != 0)
		return (1);	/* the server's own check decides */
	if (ctx->unmodified_since != 0 && (int64_t)lm > ctx->unmodified_since)
		return (0);
	if (ctx->modified_since != 0 && (int64_t)lm <= ctx->modified_since)
		return (0);
	return (1);
}

/* --- cross-endpoint: GET into a bounded buffer, then PUT or UploadPart */

static void	op_copy_x_get(struct op_copy_xpart *);

static void
op_copy_x_release(uint64_t len)
{
	struct op_copy_xpart	*xp;

	op_copy_x_used -= len;
	/* Wake waiters in order while they fit; one always may run. */
	while ((xp = TAILQ_FIRST(&op_copy_x_waiting)) != NULL &&
	    (op_copy_x_used == 0 ||
	    op_copy_x_used + xp->len <= OP_COPY_X_BUDGET)) {
		TAILQ_REMOVE(&op_copy_x_waiting, xp, entry);
		xp->waiting = 0;
		op_copy_x_get(xp);
	}
}

static void
op_copy_xpart_free(struct op_copy_xpart *xp)
{
	struct op_copy_task	*ct = xp->ct;
	uint64_t		 len;

	if (xp->waiting)
		TAILQ_REMOVE(&op_copy_x_waiting, xp, entry);
	if (xp->call != NULL)
		s3_call_cancel(xp->call);
	EVP_MD_CTX_free(xp->md5);
	ct->xparts[xp->slot] = NULL;
	len = xp->data != NULL ? xp->len : 0;
	free(xp->data);
	free(xp);
	if (len != 0)
		op_copy_x_release(len);
}

/*
 * A part failed. A single PUT fails the task. In a multipart upload the
 * failure goes to the upload (which aborts and ends the task once every
 * part is back); the parts still waiting for the budget end with it.
 */
static void
op_copy_x_fail(struct op_copy_xpart *xp, int status, const char *code,
    const char *message)
{
	struct op_run		*run = xp->run;
	struct op_copy_task	*ct = run->state;
	struct op_copy_xpart	*w;
	struct s3_mpu		*mpu = ct->mpu;
	int			 i, index;

	if (mpu == NULL) {
		op_copy_xpart_free(xp);
		op_copy_end(run, TASK_FAILED, status, code, message);
		return;
	}
	/* A part sent to the upload has ended there already. */
	s3_mpu_fail(mpu, xp->sent_part ? -1 : xp->index, status, code,
	    message);
	/* The waiting ones first, so that freeing xp does not wake them. */
	for (i = 0; i < OP_COPY_PARTS_PARALLEL; i++) {
		if ((w = ct->xparts[i]) != NULL && w != xp && w->waiting) {
			index = w->index;
			op_copy_xpart_free(w);
			s3_mpu_fail(mpu, index, status, code, message);
		}
	}
	op_copy_xpart_free(xp);
}

static void
op_copy_x_fail_result(struct op_copy_xpart *xp, const struct s3_result *r,
    const char *what)
{
	char	*m;

	if (r->status == 412) {
		op_copy_x_fail(xp, 412, "PreconditionFailed", "the source "
		    "changed during the copy (its ETag is no longer the one "
		    "first seen)");
		return;
	}
	xasprintf(&m, "%s: %s", what, r->error_message != NULL ?
	    r->error_message : "");
	op_copy_x_fail(xp, r->status, r->error_code != NULL ? r->error_code :
	    "UnknownError", m);
	free(m);
}

/* An ETag that is not an MD5 of the bytes: SSE-KMS and SSE-C objects. */
static int
op_copy_x_etag_opaque(const struct s3_result *r)
{
	const char	*v;

	v = s3_result_header(r, "x-amz-server-side-encryption");
	if (v != NULL && strncmp(v, "aws:kms", 7) == 0)
		return (1);
	return (s3_result_header(r,
	    "x-amz-server-side-encryption-customer-algorithm") != NULL);
}

static int
op_copy_x_etag_equal(const char *etag, const char *hex)
{
	size_t	len = strlen(hex);

	if (etag == NULL)
		return (0);
	if (*etag == '"')
		etag++;
	return (strncasecmp(etag, hex, len) == 0 &&
	    (etag[len] == '\0' || etag[len] == '"'));
}

/* The completed upload's ETag: MD5 of the part digests, "-" and the count. */
static int
op_copy_x_verify_complete(struct op_copy_task *ct, const struct s3_result *r,
    char **cause)
{
	struct s3xml_complete	 done;
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen;
	char			 hex[2 * OP_COPY_MD5_LEN + 16], *c = NULL;
	const char		*etag;
	int			 ok;

	if (op_copy_x_etag_opaque(r))
		return (0);
	if (EVP_Digest(ct->digests, (size_t)ct->nparts * OP_COPY_MD5_LEN, md,
	    &mdlen, EVP_md5(), NULL) != 1)
		fatalx("op-copy: MD5 is not available from libcrypto");
	hex_encode(md, OP_COPY_MD5_LEN, hex);
	snprintf(hex + 2 * OP_COPY_MD5_LEN, sizeof hex - 2 * OP_COPY_MD5_LEN,
	    "-%d", ct->nparts);
	memset(&done, 0, sizeof done);
	etag = r->etag;
	if (r->http != NULL && s3xml_parse_complete(r->http->body.data,
	    r->http->body.len, &done, &c) == 0 && done.etag.len != 0)
		etag = done.etag.data;
	free(c);
	if (etag == NULL) {
		s3xml_complete_free(&done);
		return (0);	/* nothing to compare; the parts were checked */
	}
	ok = op_copy_x_etag_equal(etag, hex);
	if (!ok)
		xasprintf(cause, "the completed upload's ETag %s is not %s, "
		    "the one of the bytes read from the source", etag, hex);
	s3xml_complete_free(&done);
	return (ok ? 0 : -1);
}

static int
op_copy_x_sink_cb(uint64_t off, const void *data, size_t len, void *arg)
{
	struct op_copy_xpart	*xp = arg;

	if (off == 0) {
		/* The first byte, again after a retry. */
		xp->have = 0;
		if (EVP_DigestInit_ex(xp->md5, EVP_md5(), NULL) != 1)
			return (-1);
	}
	if (off != xp->have || len > xp->len - xp->have)
		return (-1);	/* more than the range: not what we asked */
	memcpy(xp->data + xp->have, data, len);
	if (EVP_DigestUpdate(xp->md5, data, len) != 1)
		return (-1);
	xp->have += len;
	return (0);
}

static long
op_copy_x_read_cb(void *buf, size_t len, void *arg)
{
	struct op_copy_xpart	*xp = arg;
	uint64_t		 n;

	n = xp->len - xp->sent;
	if (n > len)
		n = len;
	memcpy(buf, xp->data + xp->sent, (size_t)n);
	xp->sent += n;
	return ((long)n);
}

static int
op_copy_x_rewind_cb(void *arg)
{
	struct op_copy_xpart	*xp = arg;

	xp->sent = 0;
	return (0);
}

/*
 * The data is on the target: the source's tags, then ours. Always asked
 * for: a ranged GET (RGW) or a HEAD (Amazon) does not tell whether the
 * object has any.
 */
static void
op_copy_x_done(struct op_run *run)
{
	struct op_copy		*ctx = run->ctx;
	struct op_copy_task	*ct = run->state;

	if (ctx->replace_tags || ct->tags_first) {
		op_copy_finish_tags(run);
		return;
	}
	op_copy_get_source_tags(run);
}

/* The target's ETag must be the MD5 of the bytes read from the source. */
static int
op_copy_x_put_ok(const struct op_copy_xpart *xp, const struct s3_result *r)
{
	char	hex[2 * OP_COPY_MD5_LEN + 1];

	hex_encode(xp->digest, OP_COPY_MD5_LEN, hex);
	if (r->etag == NULL || *r->etag == '\0')
		return (0);	/* no PutObject answer: nothing was stored */
	return (op_copy_x_etag_opaque(r) || op_copy_x_etag_equal(r->etag,
	    hex));
}

/* The single PUT of an object under the threshold. */
static void
op_copy_x_put_cb(const struct s3_result *r, void *arg)
{
	struct op_copy_xpart	*xp = arg;
	struct op_run		*run = xp->run;
	struct op_copy_task	*ct = run->state;

	xp->call = NULL;
	run->attempts += r->attempts;
	if (r->error_code != NULL) {
		op_copy_x_fail_result(xp, r, "PutObject");
		return;
	}
	if (((struct op_copy *)run->ctx)->reencrypt_key != NULL &&
	    !op_copy_reencrypt_applied(run, r, "PutObject"))
		return;		/* ended: xp was freed with the task */
	if (!op_copy_x_put_ok(xp, r)) {
		op_copy_x_fail(xp, r->status, "BadDigest", "the target's ETag "
		    "is not the MD5 of the bytes read from the source");
		return;
	}
	if (r->version_id != NULL)
		ct->new_version = xstrdup(r->version_id);
	op_copy_xpart_free(xp);
	op_copy_x_done(run);
}

/* A part's UploadPart has ended (the upload counts it and its ETag). */
static void
op_copy_x_part_done_cb(struct s3_mpu *mpu, int index, const struct s3_result *r,
    void *arg)
{
	struct op_run		*run = arg;
	struct op_copy_task	*ct = run->state;
	struct op_copy_xpart	*xp = NULL;
	int			 i;

	for (i = 0; i < OP_COPY_PARTS_PARALLEL; i++) {
		if (ct->xparts[i] != NULL && ct->xparts[i]->index == index)
			xp = ct->xparts[i];
	}
	if (xp == NULL)
		fatalx("op-copy: part %d ended with no buffer", index);
	xp->call = NULL;
	if (r->error_code != NULL) {
		op_copy_x_fail_result(xp, r, "UploadPart");
		return;
	}
	if (!op_copy_x_put_ok(xp, r)) {
		op_copy_x_fail(xp, r->status, "BadDigest", "the target's ETag "
		    "is not the MD5 of the bytes read from the source");
		return;
	}
	memcpy(ct->digests[index], xp->digest, OP_COPY_MD5_LEN);
	op_copy_xpart_free(xp);
}

static void
op_copy_x_put(struct op_copy_xpart *xp)
{
	struct op_run		*run = xp->run;
	struct op_copy		*ctx = run->ctx;
	struct op_copy_task	*ct = run->state;
	struct op_copy_hv	 hv;
	struct s3_request	 req;

	hv.n = 0;
	memset(&req, 0, sizeof req);
	req.flags = S3_UNSIGNED_PAYLOAD;
	if (xp->len != 0) {
		req.stream_len = xp->len;
		req.stream_read = op_copy_x_read_cb;
		req.stream_rewind = op_copy_x_rewind_cb;
		req.stream_arg = xp;
	}
	xp->sent = 0;
	if (ct->mpu != NULL) {
		xp->sent_part = 1;
		/* The upload, failed meanwhile, has ended the part. */
		if (s3_mpu_part_body(ct->mpu, xp->index, &req) != 0)
			op_copy_xpart_free(xp);
		return;
	}
	if (!ctx->replace_metadata)
		op_copy_hv_addv(&hv, ct->meta, ct->nmeta);
	op_copy_hv_common(&hv, ctx, ct);
	if (ct->checksum_name != NULL)
		op_copy_hv_add(&hv, ct->checksum_name, ct->checksum_value);
	req.method = "PUT";
	req.bucket = op_copy_target_bucket(run);
	req.key = ct->target_key;
	req.key_len = ct->target_key_len;
	req.role_arn = run->role_arn;
	req.headers = hv.h;
	req.nheaders = hv.n;
	xp->call = s3_call(run->s3, &req, op_copy_x_put_cb, xp);
}

static void
op_copy_x_get_cb(const struct s3_result *r, void *arg)
{
	struct op_copy_xpart	*xp = arg;
	struct op_run		*run = xp->run;
	struct op_copy_task	*ct = run->state;
	unsigned int		 mdlen;

	xp->call = NULL;
	run->attempts += r->attempts;
	if (r->error_code != NULL) {
		op_copy_x_fail_result(xp, r, "GetObject");
		return;
	}
	if (ct->mpu != NULL && s3_mpu_failed(ct->mpu)) {
		op_copy_x_fail(xp, 0, NULL, NULL);
		return;
	}
	if (xp->len == 0)
		EVP_DigestInit_ex(xp->md5, EVP_md5(), NULL);
	if (xp->have != xp->len) {
		op_copy_x_fail(xp, r->status, "InvalidResponse", "GetObject "
		    "returned fewer bytes than the range asked for");
		return;
	}
	if (EVP_DigestFinal_ex(xp->md5, xp->digest, &mdlen) != 1)
		fatalx("op-copy: MD5 is not available from libcrypto");
	op_copy_x_put(xp);
}

static void
op_copy_x_get(struct op_copy_xpart *xp)
{
	struct op_run		*run = xp->run;
	struct op_copy_task	*ct = run->state;
	struct s3_request	 req;
	struct s3_header	 h[2];
	char			 range[64], quoted[256];

	if (xp->len != 0) {
		xp->data = xmalloc((size_t)xp->len);
		op_copy_x_used += xp->len;
	}
	if ((xp->md5 = EVP_MD_CTX_new()) == NULL)
		fatalx("op-copy: out of memory");
	snprintf(quoted, sizeof quoted, "\"%s\"", ct->etag);
	h[0].name = "If-Match";
	h[0].value = quoted;
	h[1].name = NULL;
	h[1].value = NULL;
	if (xp->len != 0 && xp->len != ct->size) {
		snprintf(range, sizeof range, "bytes=%llu-%llu",
		    (unsigned long long)xp->first,
		    (unsigned long long)(xp->first + xp->len - 1));
		h[1].name = "Range";
		h[1].value = range;
	}
	op_request(run, &req, "GET");
	req.headers = h;
	req.nheaders = nitems(h);
	req.sink = op_copy_x_sink_cb;
	req.sink_arg = xp;
	xp->call = s3_call(run->s3, &req, op_copy_x_get_cb, xp);
}

/* A buffer for bytes [first, first + len): read now, or when it fits. */
static void
op_copy_x_part(struct op_run *run, int index, uint64_t first, uint64_t len)
{
	struct op_copy_task	*ct = run->state;
	struct op_copy_xpart	*xp;
	int			 slot;

	for (slot = 0; ct->xparts[slot] != NULL; slot++)
		;
	xp = xcalloc(1, sizeof *xp);
	xp->run = run;
	xp->ct = ct;
	xp->index = index;
	xp->slot = slot;
	xp->first = first;
	xp->len = len;
	ct->xparts[slot] = xp;
	if (!TAILQ_EMPTY(&op_copy_x_waiting) || (op_copy_x_used != 0 &&
	    op_copy_x_used + xp->len > OP_COPY_X_BUDGET)) {
		/* Over budget, or others wait: in turn. */
		xp->waiting = 1;
		TAILQ_INSERT_TAIL(&op_copy_x_waiting, xp, entry);
		return;
	}
	op_copy_x_get(xp);
}

/* The source's HEAD is in: single PUT or multipart, headers to carry. */
static void
op_copy_x_begin(struct op_run *run, const struct s3_result *r)
{
	static const char *const sums[] = {
		"x-amz-checksum-crc32", "x-amz-checksum-crc32c",
		"x-amz-checksum-crc64nvme", "x-amz-checksum-sha1",
		"x-amz-checksum-sha256",
	};
	struct op_copy		*ctx = run->ctx;
	struct op_copy_task	*ct = run->state;
	const char		*v;
	size_t			 i;

	/* Re-encrypting in place keeps the class; a copy takes its own. */
	op_copy_keep_metadata(ct, r, ctx->reencrypt_key != NULL);
	if (ct->size <= run->cfg->multipart_threshold &&
	    ct->size <= run->cfg->multipart_part_size) {
		/* A whole-object checksum the target verifies on the PUT. */
		for (i = 0; i < nitems(sums); i++) {
			v = s3_result_header(r, sums[i]);
			if (v != NULL && strchr(v, '-') == NULL) {
				ct->checksum_name = xstrdup(sums[i]);
				ct->checksum_value = xstrdup(v);
				break;
			}
		}
		op_copy_x_part(run, 0, 0, ct->size);
		return;
	}
	op_copy_initiate(run);
}

/* The HEAD of a cross-endpoint copy also asks for the source's checksum. */
static void
op_copy_x_head(struct op_run *run)
{
	struct s3_request	 req;
	struct s3_header	 h[2];
	const char		*etag = op_expected_etag(run);
	char			 quoted[256];

	op_request(run, &req, "HEAD");
	h[0].name = "x-amz-checksum-mode";
	h[0].value = "ENABLED";
	h[1].name = NULL;
	h[1].value = NULL;
	if (etag != NULL) {
		snprintf(quoted, sizeof quoted, "\"%s\"", etag);
		h[1].name = "If-Match";
		h[1].value = quoted;
	}
	req.headers = h;
	req.nheaders = nitems(h);
	run->call = s3_call(run->s3, &req, op_copy_head_cb, run);
}

/*
 * Whether a key id the server reports is the one asked for: the same
 * string, or an ARN whose "key/<id>" ends with it (Amazon reports ARNs).
 */
static int
op_copy_same_key(const char *reported, const char *asked)
{
	size_t	rl = strlen(reported), al = strlen(asked);

	if (strcmp(reported, asked) == 0)
		return (1);
	return (rl > al + 4 && strcmp(reported + rl - al, asked) == 0 &&
	    strncmp(reported + rl - al - 4, "key/", 4) == 0);
}

/*
 * The HEAD of an object to re-encrypt: Amazon's UpdateObjectEncryption
 * changes only objects encrypted with SSE-S3 or SSE-KMS; an unencrypted,
 * SSE-C or DSSE-KMS one fails with 400 InvalidRequest. One already
 * encrypted as asked is left alone. Returns 0 to go on (the source's
 * storage class kept), else the task has ended.
 */
static int
op_copy_reencrypt_check(struct op_run *run, const struct s3_result *r)
{
	struct op_copy		*ctx = run->ctx;
	struct op_copy_task	*ct = run->state;
	const char		*sse, *key, *bk, *sc;
	char			*m;
	int			 bucket_key;

	if (ctx->reencrypt_key == NULL)
		return (0);
	sse = s3_result_header(r, "x-amz-server-side-encryption");
	if (s3_result_header(r,
	    "x-amz-server-side-encryption-customer-algorithm") != NULL) {
		op_copy_end(run, TASK_FAILED, 400, "InvalidRequest", "the "
		    "object is encrypted with a customer-provided key (SSE-C); "
		    "UpdateObjectEncryption changes only SSE-S3 and SSE-KMS "
		    "objects");
		return (-1);
	}
	if (sse == NULL || (strcmp(sse, "AES256") != 0 &&
	    strcmp(sse, "aws:kms") != 0)) {
		xasprintf(&m, "the object is %s%s; UpdateObjectEncryption "
		    "changes only SSE-S3 and SSE-KMS objects", sse == NULL ?
		    "not encrypted" : "encrypted with ", sse == NULL ? "" :
		    sse);
		op_copy_end(run, TASK_FAILED, 400, "InvalidRequest", m);
		free(m);
		return (-1);
	}
	key = s3_result_header(r,
	    "x-amz-server-side-encryption-aws-kms-key-id");
	bk = s3_result_header(r,
	    "x-amz-server-side-encryption-bucket-key-enabled");
	bucket_key = bk != NULL && strcasecmp(bk, "true") == 0;
	if (strcmp(sse, "aws:kms") == 0 && key != NULL &&
	    op_copy_same_key(key, ctx->reencrypt_key) &&
	    bucket_key == ctx->reencrypt_bucket_key) {
		xasprintf(&m, "Successful: already SSE-KMS with key %s, "
		    "bucket key %s, nothing to change", key, bucket_key ? "enabled" :
		    "disabled");
		op_copy_end(run, TASK_SUCCEEDED, r->status, NULL, m);
		free(m);
		return (-1);
	}
	ct->same_kms = strcmp(sse, "aws:kms") == 0 && key != NULL &&
	    op_copy_same_key(key, ctx->reencrypt_key);
	sc = s3_result_header(r, "x-amz-storage-class");
	free(ct->storage_class);
	ct->storage_class = sc != NULL ? xstrdup(sc) : NULL;
	return (0);
}

static void
op_copy_head_cb(const struct s3_result *r, void *arg)
{
	struct op_run		*run = arg;
	struct op_copy		*ctx = run->ctx;
	struct op_copy_task	*ct = run->state;
	const char		*lm;

	op_account(run, r);
	if (r->status == 412) {
		op_copy_end(run, TASK_FAILED, 412, "PreconditionFailed",
		    "the object's ETag is no longer the pinned one; it was "
		    "not copied");
		return;
	}
	if (r->status == 404) {
		op_copy_end(run, TASK_FAILED, 404, run->version_id != NULL ?
		    "NoSuchVersion" : "NoSuchKey", "The specified key does "
		    "not exist.");
		return;
	}
	/* Amazon and RGW refuse a HEAD of an SSE-C object without its key. */
	if (ctx->reencrypt_key != NULL && r->status == 400) {
		op_copy_end(run, TASK_FAILED, 400, "InvalidRequest", "HEAD "
		    "answered 400, as S3 does for an object encrypted with a "
		    "customer-provided key (SSE-C); UpdateObjectEncryption "
		    "changes only SSE-S3 and SSE-KMS objects");
		return;
	}
	if (r->error_code != NULL) {
		op_copy_end_result(run, r);
		return;
	}
	if (r->etag == NULL || r->content_length < 0) {
		op_copy_end(run, TASK_FAILED, r->status, "InvalidResponse",
		    "HEAD gave no ETag or Content-Length");
		return;
	}
	if (!op_copy_constraints_hold(ctx, s3_result_header(r,
	    "Last-Modified"))) {
		op_copy_end(run, TASK_FAILED, 412, "PreconditionFailed",
		    "At least one of the pre-conditions you specified did not "
		    "hold");
		return;
	}
	if (op_copy_reencrypt_check(run, r) != 0)
		return;
	free(ct->etag);
	free(ct->last_modified);
	ct->last_modified = NULL;
	ct->etag = xstrdup(r->etag);
	if ((lm = s3_result_header(r, "Last-Modified")) != NULL)
		ct->last_modified = xstrdup(lm);
	ct->size = (uint64_t)r->content_length;
	if (ct->cross) {
		op_copy_x_begin(run, r);
		return;
	}
	if (ct->size <= run->cfg->multipart_threshold) {
		op_copy_single(run);
		return;
	}
	/* Multipart: the source's metadata and tags travel by hand. */
	op_copy_keep_metadata(ct, r, !ctx->have_storage_class);
	if (ctx->replace_tags) {
		op_copy_initiate(run);
		return;
	}
	op_copy_get_source_tags(run);
}

void
op_copy_start(struct op_run *run)
{
	struct op_copy		*ctx = run->ctx;
	struct op_copy_task	*ct;
	struct buf		 b;
	const char		*se, *te;
	size_t			 plen;

	ct = xcalloc(1, sizeof *ct);
	plen = ctx->prefix != NULL ? strlen(ctx->prefix) : 0;
	ct->target_key_len = plen + run->key_len;
	ct->target_key = xmalloc(ct->target_key_len + 1);
	if (plen != 0)
		memcpy(ct->target_key, ctx->prefix, plen);
	memcpy(ct->target_key + plen, run->key, run->key_len);
	ct->target_key[ct->target_key_len] = '\0';
	buf_init(&b);
	buf_addc(&b, '/');
	buf_adds(&b, run->bucket);
	buf_addc(&b, '/');
	url_encode(&b, run->key, run->key_len, URLENC_KEEP_SLASH);
	if (run->version_id != NULL) {
		buf_adds(&b, "?versionId=");
		url_encode(&b, run->version_id, strlen(run->version_id), 0);
	}
	ct->copy_source = buf_detach(&b);
	run->state = ct;
	se = s3_bucket_endpoint(run->s3, run->bucket);
	te = s3_bucket_endpoint(run->s3, op_copy_target_bucket(run));
	ct->cross = se != NULL && te != NULL && strcmp(se, te) != 0;
	if (ct->cross)
		op_copy_x_head(run);
	else if (op_copy_direct_ok(run)) {
		ct->direct = 1;
		if (op_expected_etag(run) != NULL)
			ct->etag = xstrdup(op_expected_etag(run));
		op_copy_single(run);
	} else
		op_head(run, op_copy_head_cb);
}

void
op_copy_cancel(struct op_run *run)
{
	struct op_copy_task	*ct = run->state;

	if (ct == NULL)
		return;
	run->state = NULL;
	op_copy_task_free(ct);
}

const struct op_def op_copy = {
	.name = "S3PutObjectCopy",
	.compile = op_copy_compile,
	.free = op_copy_free,
	.start = op_copy_start,
	.cancel = op_copy_cancel,
};
