/*
 * S3 XML bodies: a streaming expat core that tracks the element path and
 * collects the text of leaf elements, driven by one table per document kind
 * (element path -> field setter, entry path -> begin/end hooks); and writers
 * for request bodies.
 */
#include <sys/types.h>

#include <expat.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "s3batchd.h"
#include "s3xml.h"

enum s3xml_type {
	S3XML_T_STR,		/* text as sent */
	S3XML_T_KEY,		/* URL-decoded when EncodingType=url */
	S3XML_T_LIST,		/* repeated element: values comma-joined */
	S3XML_T_INT,		/* non-negative 64-bit integer */
	S3XML_T_BOOL,		/* true / false */
	S3XML_T_TIME,		/* ISO 8601, to ms */
	S3XML_T_ENCODING	/* EncodingType: turns URL decoding on */
};

/* What a field's offset is relative to. */
#define S3XML_BASE_DOC		0	/* the result struct ("out") */
#define S3XML_BASE_ENTRY	1	/* the entry being read */
#define S3XML_BASE_SUB		2	/* an entry inside the entry */
#define S3XML_NBASES		3

struct s3xml_field {
	const char		*path;	/* below the root; "a/b@attr" */
	enum s3xml_type		 type;
	int			 base;
	size_t			 off;
};

struct s3xml;
struct s3xml_entry {
	const char		*path;
	int			(*begin)(struct s3xml *);
	int			(*end)(struct s3xml *);
};

struct s3xml_spec {
	enum s3xml_doc		 doc;
	const char		*root;
	const struct s3xml_field *fields;
	size_t			 nfields;
	const struct s3xml_entry *entries;
	size_t			 nentries;
	const char		*required;	/* a field that must be set */
	size_t			 required_off;
	size_t			 size;		/* of the result struct */
	enum s3xml_doc		 sibling;	/* same result, other root */
};

struct s3xml_frame {
	size_t			 pathlen;	/* path length to restore */
	int			 field;		/* index in fields or -1 */
	int			 entry;		/* index in entries or -1 */
};

struct s3xml {
	XML_Parser		 parser;
	const struct s3xml_spec	*want;		/* the kind asked for */
	const struct s3xml_spec	*spec;		/* the kind being read */
	enum s3xml_doc		 kind;
	struct s3xml_cbs	 cbs;
	void			*arg;
	void			*out;
	struct s3xml_error	 error;		/* an <Error> root */

	size_t			 max_bytes;
	size_t			 total;
	int			 url;		/* keys are URL-encoded */
	int			 raw_keys;	/* keys handed out undecoded */
	int			 root_closed;
	int			 finished;
	char			*cause;		/* the first failure */

	struct s3xml_frame	 stack[S3XML_MAX_DEPTH];
	int			 depth;
	struct buf		 path;
	struct buf		 text;
	struct buf		 tmp;
	void			*base[S3XML_NBASES];

	/* The entry being read, reused from one to the next. */
	struct s3xml_object	 object;
	struct s3xml_version	 version;
	struct s3xml_upload	 upload;
	struct s3xml_deleted	 deleted;
	struct buf		 prefix;
	size_t			 rules_cap;
};

/* ---- failure */

static void
s3xml_stop(struct s3xml *p, char *cause)
{
	if (p->cause == NULL)
		p->cause = cause;
	else
		free(cause);
	XML_StopParser(p->parser, XML_FALSE);
}

static void printflike(2, 3)
s3xml_fail(struct s3xml *p, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg, *cause;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	xasprintf(&cause, "XML line %lu: %s",
	    (unsigned long)XML_GetCurrentLineNumber(p->parser), msg);
	free(msg);
	s3xml_stop(p, cause);
}

/* ---- value parsing */

static void
s3xml_trim(const char **s, size_t *len)
{
	while (*len > 0 && strchr(" \t\r\n", (*s)[0]) != NULL) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && strchr(" \t\r\n", (*s)[*len - 1]) != NULL)
		(*len)--;
}

int
s3xml_parse_time(const char *s, size_t len, uint64_t *ms, char **cause)
{
	int64_t	 t;

	if (time_parse_iso(s, len, TIME_ISO_RFC3339, &t) != 0 || t < 0) {
		xasprintf(cause, "\"%.*s\" is not an ISO 8601 UTC time",
		    (int)(len > 64 ? 64 : len), s);
		return (-1);
	}
	*ms = (uint64_t)t;
	return (0);
}

static int
s3xml_parse_int(const char *s, size_t len, int64_t *v)
{
	size_t	 i;
	int	 d;

	if (len == 0 || len > 19)
		return (-1);
	*v = 0;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		d = s[i] - '0';
		if (*v > (INT64_MAX - d) / 10)
			return (-1);
		*v = *v * 10 + d;
	}
	return (0);
}

static int
s3xml_parse_bool(const char *s, size_t len, int *v)
{
	if (len == 4 && strncasecmp(s, "true", 4) == 0)
		*v = 1;
	else if (len == 5 && strncasecmp(s, "false", 5) == 0)
		*v = 0;
	else
		return (-1);
	return (0);
}

static int
s3xml_decode_key(struct s3xml *p, struct buf *b, const char *s, size_t len,
    const char *path)
{
	char	*cause = NULL;

	buf_reset(&p->tmp);
	if (url_decode(&p->tmp, s, len, URLENC_PLUS_SPACE, &cause) != 0) {
		s3xml_fail(p, "%s: bad URL encoding (EncodingType is url): %s",
		    path, cause);
		free(cause);
		return (-1);
	}
	buf_reset(b);
	buf_add(b, p->tmp.data, p->tmp.len);
	return (0);
}

/* Store the text of one element into its field. */
static int
s3xml_set(struct s3xml *p, const struct s3xml_field *f, const char *s,
    size_t len)
{
	char		*dst, *cause = NULL;
	struct buf	*b;

	if (p->base[f->base] == NULL)
		return (0);
	dst = (char *)p->base[f->base] + f->off;
	b = (struct buf *)(void *)dst;
	if (f->type != S3XML_T_STR && f->type != S3XML_T_KEY &&
	    f->type != S3XML_T_LIST)
		s3xml_trim(&s, &len);
	switch (f->type) {
	case S3XML_T_STR:
		buf_reset(b);
		buf_add(b, s, len);
		break;
	case S3XML_T_KEY:
		/* Page-level keys are decoded at the end (see s3xml_close). */
		if (p->url && f->base != S3XML_BASE_DOC)
			return (s3xml_decode_key(p, b, s, len, f->path));
		if (f->base != S3XML_BASE_DOC)
			p->raw_keys = 1;
		buf_reset(b);
		buf_add(b, s, len);
		break;
	case S3XML_T_LIST:
		if (b->len != 0)
			buf_addc(b, ',');
		buf_add(b, s, len);
		break;
	case S3XML_T_INT:
		if (s3xml_parse_int(s, len, (int64_t *)(void *)dst) != 0) {
			s3xml_fail(p, "%s: \"%.*s\" is not a non-negative "
			    "integer", f->path, (int)(len > 32 ? 32 : len), s);
			return (-1);
		}
		break;
	case S3XML_T_BOOL:
		if (s3xml_parse_bool(s, len, (int *)(void *)dst) != 0) {
			s3xml_fail(p, "%s: \"%.*s\" is not true or false",
			    f->path, (int)(len > 32 ? 32 : len), s);
			return (-1);
		}
		break;
	case S3XML_T_TIME:
		if (s3xml_parse_time(s, len, (uint64_t *)(void *)dst,
		    &cause) != 0) {
			s3xml_fail(p, "%s: %s", f->path, cause);
			free(cause);
			return (-1);
		}
		break;
	case S3XML_T_ENCODING:
		buf_reset(b);
		buf_add(b, s, len);
		if (len == 0)
			break;
		if (len != 3 || strncmp(s, "url", 3) != 0) {
			s3xml_fail(p, "%s: unknown encoding \"%.*s\"", f->path,
			    (int)(len > 32 ? 32 : len), s);
			return (-1);
		}
		/* Too late: keys went out undecoded before we knew. */
		if (p->raw_keys && !p->url) {
			s3xml_fail(p, "EncodingType url arrived after keys "
			    "were passed on undecoded (set S3XML_URL_ENCODED)");
			return (-1);
		}
		p->url = 1;
		break;
	}
	return (0);
}

/* ---- entry hooks */

static int
s3xml_cb_result(struct s3xml *p, int rc, char *cause, const char *what)
{
	if (rc == 0) {
		free(cause);
		return (0);
	}
	if (cause == NULL)
		xasprintf(&cause, "%s callback stopped the parse", what);
	s3xml_stop(p, cause);
	return (-1);
}

static void
s3xml_object_reset(struct s3xml_object *o)
{
	buf_reset(&o->key);
	o->last_modified = 0;
	buf_reset(&o->etag);
	o->size = 0;
	buf_reset(&o->storage_class);
	buf_reset(&o->owner_id);
	buf_reset(&o->owner_name);
	buf_reset(&o->checksum_algorithm);
	buf_reset(&o->checksum_type);
}

static int
s3xml_contents_begin(struct s3xml *p)
{
	s3xml_object_reset(&p->object);
	p->base[S3XML_BASE_ENTRY] = &p->object;
	return (0);
}

static int
s3xml_contents_end(struct s3xml *p)
{
	struct s3xml_list_page	*page = p->out;
	char			*cause = NULL;
	int			 rc;

	p->base[S3XML_BASE_ENTRY] = NULL;
	page->objects++;
	if (p->cbs.object_cb == NULL)
		return (0);
	rc = p->cbs.object_cb(&p->object, p->arg, &cause);
	return (s3xml_cb_result(p, rc, cause, "object"));
}

static int
s3xml_prefix_begin(struct s3xml *p)
{
	buf_reset(&p->prefix);
	p->base[S3XML_BASE_ENTRY] = &p->prefix;
	return (0);
}

static int
s3xml_prefix_end(struct s3xml *p)
{
	char	*cause = NULL;
	int	 rc;

	p->base[S3XML_BASE_ENTRY] = NULL;
	switch (p->spec->doc) {
	case S3XML_DOC_LIST_OBJECTS:
		((struct s3xml_list_page *)p->out)->prefixes++;
		break;
	case S3XML_DOC_LIST_VERSIONS:
		((struct s3xml_versions_page *)p->out)->prefixes++;
		break;
	case S3XML_DOC_LIST_UPLOADS:
		((struct s3xml_uploads_page *)p->out)->prefixes++;
		break;
	default:
		break;
	}
	if (p->cbs.prefix_cb == NULL)
		return (0);
	rc = p->cbs.prefix_cb(&p->prefix, p->arg, &cause);
	return (s3xml_cb_result(p, rc, cause, "prefix"));
}

static void
s3xml_version_reset(struct s3xml_version *v, int delete_marker)
{
	v->delete_marker = delete_marker;
	buf_reset(&v->key);
	buf_reset(&v->version_id);
	v->is_latest = 0;
	v->last_modified = 0;
	buf_reset(&v->etag);
	v->size = 0;
	buf_reset(&v->storage_class);
	buf_reset(&v->owner_id);
	buf_reset(&v->owner_name);
}

static int
s3xml_version_begin(struct s3xml *p)
{
	s3xml_version_reset(&p->version, 0);
	p->base[S3XML_BASE_ENTRY] = &p->version;
	return (0);
}

static int
s3xml_marker_begin(struct s3xml *p)
{
	s3xml_version_reset(&p->version, 1);
	p->base[S3XML_BASE_ENTRY] = &p->version;
	return (0);
}

static int
s3xml_version_end(struct s3xml *p)
{
	struct s3xml_versions_page	*page = p->out;
	char				*cause = NULL;
	int				 rc;

	p->base[S3XML_BASE_ENTRY] = NULL;
	if (p->version.delete_marker)
		page->delete_markers++;
	else
		page->versions++;
	if (p->cbs.version_cb == NULL)
		return (0);
	rc = p->cbs.version_cb(&p->version, p->arg, &cause);
	return (s3xml_cb_result(p, rc, cause, "version"));
}

static int
s3xml_upload_begin(struct s3xml *p)
{
	buf_reset(&p->upload.key);
	buf_reset(&p->upload.upload_id);
	p->upload.initiated = 0;
	buf_reset(&p->upload.storage_class);
	p->base[S3XML_BASE_ENTRY] = &p->upload;
	return (0);
}

static int
s3xml_upload_end(struct s3xml *p)
{
	struct s3xml_uploads_page	*page = p->out;
	char				*cause = NULL;
	int				 rc;

	p->base[S3XML_BASE_ENTRY] = NULL;
	page->uploads++;
	if (p->cbs.upload_cb == NULL)
		return (0);
	rc = p->cbs.upload_cb(&p->upload, p->arg, &cause);
	return (s3xml_cb_result(p, rc, cause, "upload"));
}

static void
s3xml_deleted_reset(struct s3xml_deleted *d, int error)
{
	d->error = error;
	buf_reset(&d->key);
	buf_reset(&d->version_id);
	d->delete_marker = 0;
	buf_reset(&d->delete_marker_version_id);
	buf_reset(&d->code);
	buf_reset(&d->message);
}

static int
s3xml_deleted_begin(struct s3xml *p)
{
	s3xml_deleted_reset(&p->deleted, 0);
	p->base[S3XML_BASE_ENTRY] = &p->deleted;
	return (0);
}

static int
s3xml_delerr_begin(struct s3xml *p)
{
	s3xml_deleted_reset(&p->deleted, 1);
	p->base[S3XML_BASE_ENTRY] = &p->deleted;
	return (0);
}

static int
s3xml_deleted_end(struct s3xml *p)
{
	struct s3xml_delete_result	*r = p->out;
	char				*cause = NULL;
	int				 rc;

	p->base[S3XML_BASE_ENTRY] = NULL;
	if (p->deleted.error)
		r->errors++;
	else
		r->deleted++;
	if (p->cbs.deleted_cb == NULL)
		return (0);
	rc = p->cbs.deleted_cb(&p->deleted, p->arg, &cause);
	return (s3xml_cb_result(p, rc, cause, "delete"));
}

static int
s3xml_tag_begin(struct s3xml *p)
{
	struct s3xml_tagging	*t = p->out;

	if (t->ntags == S3XML_MAX_TAGS) {
		s3xml_fail(p, "more than %d tags", S3XML_MAX_TAGS);
		return (-1);
	}
	p->base[S3XML_BASE_ENTRY] = &t->tags[t->ntags++];
	return (0);
}

static int
s3xml_entry_end(struct s3xml *p)
{
	p->base[S3XML_BASE_ENTRY] = NULL;
	return (0);
}

static int
s3xml_grant_begin(struct s3xml *p)
{
	struct s3xml_acl	*acl = p->out;

	if (acl->ngrants == S3XML_MAX_GRANTS) {
		s3xml_fail(p, "more than %d grants", S3XML_MAX_GRANTS);
		return (-1);
	}
	p->base[S3XML_BASE_ENTRY] = &acl->grants[acl->ngrants++];
	return (0);
}

static int
s3xml_rule_begin(struct s3xml *p)
{
	struct s3xml_replication	*r = p->out;
	struct s3xml_repl_rule		*rule;

	if (r->nrules == S3XML_MAX_RULES) {
		s3xml_fail(p, "more than %d replication rules",
		    S3XML_MAX_RULES);
		return (-1);
	}
	if (r->nrules == p->rules_cap) {
		p->rules_cap = p->rules_cap == 0 ? 4 : p->rules_cap * 2;
		r->rules = xreallocarray(r->rules, p->rules_cap,
		    sizeof *r->rules);
	}
	rule = &r->rules[r->nrules++];
	memset(rule, 0, sizeof *rule);
	rule->priority = -1;
	p->base[S3XML_BASE_ENTRY] = rule;
	return (0);
}

static int
s3xml_filter_begin(struct s3xml *p)
{
	struct s3xml_repl_rule	*rule = p->base[S3XML_BASE_ENTRY];

	if (rule != NULL)
		rule->has_filter = 1;
	return (0);
}

static int
s3xml_filter_tag_begin(struct s3xml *p)
{
	struct s3xml_repl_rule	*rule = p->base[S3XML_BASE_ENTRY];

	if (rule == NULL)
		return (0);
	if (rule->nfilter_tags == S3XML_MAX_FILTER_TAGS) {
		s3xml_fail(p, "more than %d tags in a replication filter",
		    S3XML_MAX_FILTER_TAGS);
		return (-1);
	}
	p->base[S3XML_BASE_SUB] = &rule->filter_tags[rule->nfilter_tags++];
	return (0);
}

static int
s3xml_sub_end(struct s3xml *p)
{
	p->base[S3XML_BASE_SUB] = NULL;
	return (0);
}

/* ---- the tables */

#define FIELD(path, type, base, st, member) \
	{ path, S3XML_T_##type, S3XML_BASE_##base, offsetof(struct st, member) }
#define SPEC(doc, root, st, fields, entries, req, reqm, sibling) \
	{ doc, root, fields, nitems(fields), entries, nitems(entries), req, \
	    offsetof(struct st, reqm), sizeof(struct st), sibling }
#define SPEC_FLAT(doc, root, st, fields, req, reqm, sibling) \
	{ doc, root, fields, nitems(fields), NULL, 0, req, \
	    offsetof(struct st, reqm), sizeof(struct st), sibling }

static const struct s3xml_field s3xml_error_fields[] = {
	FIELD("Code", STR, DOC, s3xml_error, code),
	FIELD("Message", STR, DOC, s3xml_error, message),
	FIELD("RequestId", STR, DOC, s3xml_error, request_id),
	FIELD("HostId", STR, DOC, s3xml_error, host_id),
	FIELD("Resource", STR, DOC, s3xml_error, resource),
	FIELD("Key", STR, DOC, s3xml_error, key),
	FIELD("VersionId", STR, DOC, s3xml_error, version_id),
	FIELD("BucketName", STR, DOC, s3xml_error, bucket_name),
	FIELD("Region", STR, DOC, s3xml_error, region),
	FIELD("Endpoint", STR, DOC, s3xml_error, endpoint),
};

static const struct s3xml_field s3xml_list_fields[] = {
	FIELD("Name", STR, DOC, s3xml_list_page, name),
	FIELD("Prefix", KEY, DOC, s3xml_list_page, prefix),
	FIELD("Delimiter", KEY, DOC, s3xml_list_page, delimiter),
	FIELD("StartAfter", KEY, DOC, s3xml_list_page, start_after),
	FIELD("ContinuationToken", STR, DOC, s3xml_list_page,
	    continuation_token),
	FIELD("NextContinuationToken", STR, DOC, s3xml_list_page,
	    next_continuation_token),
	FIELD("EncodingType", ENCODING, DOC, s3xml_list_page, encoding_type),
	FIELD("KeyCount", INT, DOC, s3xml_list_page, key_count),
	FIELD("MaxKeys", INT, DOC, s3xml_list_page, max_keys),
	FIELD("IsTruncated", BOOL, DOC, s3xml_list_page, is_truncated),
	FIELD("Contents/Key", KEY, ENTRY, s3xml_object, key),
	FIELD("Contents/LastModified", TIME, ENTRY, s3xml_object,
	    last_modified),
	FIELD("Contents/ETag", STR, ENTRY, s3xml_object, etag),
	FIELD("Contents/Size", INT, ENTRY, s3xml_object, size),
	FIELD("Contents/StorageClass", STR, ENTRY, s3xml_object,
	    storage_class),
	FIELD("Contents/Owner/ID", STR, ENTRY, s3xml_object, owner_id),
	FIELD("Contents/Owner/DisplayName", STR, ENTRY, s3xml_object,
	    owner_name),
	FIELD("Contents/ChecksumAlgorithm", LIST, ENTRY, s3xml_object,
	    checksum_algorithm),
	FIELD("Contents/ChecksumType", STR, ENTRY, s3xml_object,
	    checksum_type),
	{ "CommonPrefixes/Prefix", S3XML_T_KEY, S3XML_BASE_ENTRY, 0 },
};
static const struct s3xml_entry s3xml_list_entries[] = {
	{ "Contents", s3xml_contents_begin, s3xml_contents_end },
	{ "CommonPrefixes", s3xml_prefix_begin, s3xml_prefix_end },
};

static const struct s3xml_field s3xml_versions_fields[] = {
	FIELD("Name", STR, DOC, s3xml_versions_page, name),
	FIELD("Prefix", KEY, DOC, s3xml_versions_page, prefix),
	FIELD("Delimiter", KEY, DOC, s3xml_versions_page, delimiter),
	FIELD("KeyMarker", KEY, DOC, s3xml_versions_page, key_marker),
	FIELD("VersionIdMarker", STR, DOC, s3xml_versions_page,
	    version_id_marker),
	FIELD("NextKeyMarker", KEY, DOC, s3xml_versions_page,
	    next_key_marker),
	FIELD("NextVersionIdMarker", STR, DOC, s3xml_versions_page,
	    next_version_id_marker),
	FIELD("EncodingType", ENCODING, DOC, s3xml_versions_page,
	    encoding_type),
	FIELD("MaxKeys", INT, DOC, s3xml_versions_page, max_keys),
	FIELD("IsTruncated", BOOL, DOC, s3xml_versions_page, is_truncated),
	FIELD("Version/Key", KEY, ENTRY, s3xml_version, key),
	FIELD("Version/VersionId", STR, ENTRY, s3xml_version, version_id),
	FIELD("Version/IsLatest", BOOL, ENTRY, s3xml_version, is_latest),
	FIELD("Version/LastModified", TIME, ENTRY, s3xml_version,
	    last_modified),
	FIELD("Version/ETag", STR, ENTRY, s3xml_version, etag),
	FIELD("Version/Size", INT, ENTRY, s3xml_version, size),
	FIELD("Version/StorageClass", STR, ENTRY, s3xml_version,
	    storage_class),
	FIELD("Version/Owner/ID", STR, ENTRY, s3xml_version, owner_id),
	FIELD("Version/Owner/DisplayName", STR, ENTRY, s3xml_version,
	    owner_name),
	FIELD("DeleteMarker/Key", KEY, ENTRY, s3xml_version, key),
	FIELD("DeleteMarker/VersionId", STR, ENTRY, s3xml_version,
	    version_id),
	FIELD("DeleteMarker/IsLatest", BOOL, ENTRY, s3xml_version, is_latest),
	FIELD("DeleteMarker/LastModified", TIME, ENTRY, s3xml_version,
	    last_modified),
	FIELD("DeleteMarker/Owner/ID", STR, ENTRY, s3xml_version, owner_id),
	FIELD("DeleteMarker/Owner/DisplayName", STR, ENTRY, s3xml_version,
	    owner_name),
	{ "CommonPrefixes/Prefix", S3XML_T_KEY, S3XML_BASE_ENTRY, 0 },
};
static const struct s3xml_entry s3xml_versions_entries[] = {
	{ "Version", s3xml_version_begin, s3xml_version_end },
	{ "DeleteMarker", s3xml_marker_begin, s3xml_version_end },
	{ "CommonPrefixes", s3xml_prefix_begin, s3xml_prefix_end },
};

static const struct s3xml_field s3xml_uploads_fields[] = {
	FIELD("Bucket", STR, DOC, s3xml_uploads_page, bucket),
	FIELD("Prefix", KEY, DOC, s3xml_uploads_page, prefix),
	FIELD("Delimiter", KEY, DOC, s3xml_uploads_page, delimiter),
	FIELD("KeyMarker", KEY, DOC, s3xml_uploads_page, key_marker),
	FIELD("UploadIdMarker", STR, DOC, s3xml_uploads_page,
	    upload_id_marker),
	FIELD("NextKeyMarker", KEY, DOC, s3xml_uploads_page, next_key_marker),
	FIELD("NextUploadIdMarker", STR, DOC, s3xml_uploads_page,
	    next_upload_id_marker),
	FIELD("EncodingType", ENCODING, DOC, s3xml_uploads_page,
	    encoding_type),
	FIELD("MaxUploads", INT, DOC, s3xml_uploads_page, max_uploads),
	FIELD("IsTruncated", BOOL, DOC, s3xml_uploads_page, is_truncated),
	FIELD("Upload/Key", KEY, ENTRY, s3xml_upload, key),
	FIELD("Upload/UploadId", STR, ENTRY, s3xml_upload, upload_id),
	FIELD("Upload/Initiated", TIME, ENTRY, s3xml_upload, initiated),
	FIELD("Upload/StorageClass", STR, ENTRY, s3xml_upload, storage_class),
	{ "CommonPrefixes/Prefix", S3XML_T_KEY, S3XML_BASE_ENTRY, 0 },
};
static const struct s3xml_entry s3xml_uploads_entries[] = {
	{ "Upload", s3xml_upload_begin, s3xml_upload_end },
	{ "CommonPrefixes", s3xml_prefix_begin, s3xml_prefix_end },
};

static const struct s3xml_field s3xml_delete_fields[] = {
	FIELD("Deleted/Key", STR, ENTRY, s3xml_deleted, key),
	FIELD("Deleted/VersionId", STR, ENTRY, s3xml_deleted, version_id),
	FIELD("Deleted/DeleteMarker", BOOL, ENTRY, s3xml_deleted,
	    delete_marker),
	FIELD("Deleted/DeleteMarkerVersionId", STR, ENTRY, s3xml_deleted,
	    delete_marker_version_id),
	FIELD("Error/Key", STR, ENTRY, s3xml_deleted, key),
	FIELD("Error/VersionId", STR, ENTRY, s3xml_deleted, version_id),
	FIELD("Error/Code", STR, ENTRY, s3xml_deleted, code),
	FIELD("Error/Message", STR, ENTRY, s3xml_deleted, message),
};
static const struct s3xml_entry s3xml_delete_entries[] = {
	{ "Deleted", s3xml_deleted_begin, s3xml_deleted_end },
	{ "Error", s3xml_delerr_begin, s3xml_deleted_end },
};

static const struct s3xml_field s3xml_copy_fields[] = {
	FIELD("ETag", STR, DOC, s3xml_copy, etag),
	FIELD("LastModified", TIME, DOC, s3xml_copy, last_modified),
	FIELD("ChecksumCRC32", STR, DOC, s3xml_copy, checksum_crc32),
	FIELD("ChecksumCRC32C", STR, DOC, s3xml_copy, checksum_crc32c),
	FIELD("ChecksumCRC64NVME", STR, DOC, s3xml_copy, checksum_crc64nvme),
	FIELD("ChecksumSHA1", STR, DOC, s3xml_copy, checksum_sha1),
	FIELD("ChecksumSHA256", STR, DOC, s3xml_copy, checksum_sha256),
	FIELD("ChecksumType", STR, DOC, s3xml_copy, checksum_type),
};

static const struct s3xml_field s3xml_initiate_fields[] = {
	FIELD("Bucket", STR, DOC, s3xml_initiate, bucket),
	FIELD("Key", STR, DOC, s3xml_initiate, key),
	FIELD("UploadId", STR, DOC, s3xml_initiate, upload_id),
};

static const struct s3xml_field s3xml_complete_fields[] = {
	FIELD("Location", STR, DOC, s3xml_complete, location),
	FIELD("Bucket", STR, DOC, s3xml_complete, bucket),
	FIELD("Key", STR, DOC, s3xml_complete, key),
	FIELD("ETag", STR, DOC, s3xml_complete, etag),
	FIELD("ChecksumCRC32", STR, DOC, s3xml_complete, checksum_crc32),
	FIELD("ChecksumCRC32C", STR, DOC, s3xml_complete, checksum_crc32c),
	FIELD("ChecksumCRC64NVME", STR, DOC, s3xml_complete,
	    checksum_crc64nvme),
	FIELD("ChecksumSHA1", STR, DOC, s3xml_complete, checksum_sha1),
	FIELD("ChecksumSHA256", STR, DOC, s3xml_complete, checksum_sha256),
	FIELD("ChecksumType", STR, DOC, s3xml_complete, checksum_type),
};

static const struct s3xml_field s3xml_tagging_fields[] = {
	FIELD("TagSet/Tag/Key", STR, ENTRY, s3xml_tag, key),
	FIELD("TagSet/Tag/Value", STR, ENTRY, s3xml_tag, value),
};
static const struct s3xml_entry s3xml_tagging_entries[] = {
	{ "TagSet/Tag", s3xml_tag_begin, s3xml_entry_end },
};

static const struct s3xml_field s3xml_legal_hold_fields[] = {
	FIELD("Status", STR, DOC, s3xml_legal_hold, status),
};

static const struct s3xml_field s3xml_retention_fields[] = {
	FIELD("Mode", STR, DOC, s3xml_retention, mode),
	FIELD("RetainUntilDate", TIME, DOC, s3xml_retention, retain_until),
};

static const struct s3xml_field s3xml_acl_fields[] = {
	FIELD("Owner/ID", STR, DOC, s3xml_acl, owner_id),
	FIELD("Owner/DisplayName", STR, DOC, s3xml_acl, owner_name),
	FIELD("AccessControlList/Grant/Grantee@type", STR, ENTRY, s3xml_grant,
	    type),
	FIELD("AccessControlList/Grant/Grantee/ID", STR, ENTRY, s3xml_grant,
	    id),
	FIELD("AccessControlList/Grant/Grantee/DisplayName", STR, ENTRY,
	    s3xml_grant, display_name),
	FIELD("AccessControlList/Grant/Grantee/URI", STR, ENTRY, s3xml_grant,
	    uri),
	FIELD("AccessControlList/Grant/Grantee/EmailAddress", STR, ENTRY,
	    s3xml_grant, email),
	FIELD("AccessControlList/Grant/Permission", STR, ENTRY, s3xml_grant,
	    permission),
};
static const struct s3xml_entry s3xml_acl_entries[] = {
	{ "AccessControlList/Grant", s3xml_grant_begin, s3xml_entry_end },
};

static const struct s3xml_field s3xml_replication_fields[] = {
	FIELD("Role", STR, DOC, s3xml_replication, role),
	FIELD("Rule/ID", STR, ENTRY, s3xml_repl_rule, id),
	FIELD("Rule/Priority", INT, ENTRY, s3xml_repl_rule, priority),
	FIELD("Rule/Status", STR, ENTRY, s3xml_repl_rule, status),
	FIELD("Rule/Prefix", STR, ENTRY, s3xml_repl_rule, prefix),
	FIELD("Rule/Filter/Prefix", STR, ENTRY, s3xml_repl_rule,
	    filter_prefix),
	FIELD("Rule/Filter/Tag/Key", STR, SUB, s3xml_tag, key),
	FIELD("Rule/Filter/Tag/Value", STR, SUB, s3xml_tag, value),
	FIELD("Rule/Filter/And/Prefix", STR, ENTRY, s3xml_repl_rule,
	    filter_prefix),
	FIELD("Rule/Filter/And/Tag/Key", STR, SUB, s3xml_tag, key),
	FIELD("Rule/Filter/And/Tag/Value", STR, SUB, s3xml_tag, value),
	FIELD("Rule/Destination/Bucket", STR, ENTRY, s3xml_repl_rule,
	    dest_bucket),
	FIELD("Rule/Destination/StorageClass", STR, ENTRY, s3xml_repl_rule,
	    dest_storage_class),
	FIELD("Rule/Destination/Account", STR, ENTRY, s3xml_repl_rule,
	    dest_account),
	FIELD("Rule/Destination/AccessControlTranslation/Owner", STR, ENTRY,
	    s3xml_repl_rule, dest_owner),
	FIELD("Rule/Destination/EncryptionConfiguration/ReplicaKmsKeyID", STR,
	    ENTRY, s3xml_repl_rule, dest_kms_key_id),
	FIELD("Rule/DeleteMarkerReplication/Status", STR, ENTRY,
	    s3xml_repl_rule, delete_marker_replication),
	FIELD("Rule/ExistingObjectReplication/Status", STR, ENTRY,
	    s3xml_repl_rule, existing_object_replication),
	FIELD("Rule/SourceSelectionCriteria/SseKmsEncryptedObjects/Status",
	    STR, ENTRY, s3xml_repl_rule, sse_kms_encrypted_objects),
};
static const struct s3xml_entry s3xml_replication_entries[] = {
	{ "Rule", s3xml_rule_begin, s3xml_entry_end },
	{ "Rule/Filter", s3xml_filter_begin, NULL },
	{ "Rule/Filter/Tag", s3xml_filter_tag_begin, s3xml_sub_end },
	{ "Rule/Filter/And/Tag", s3xml_filter_tag_begin, s3xml_sub_end },
};

static const struct s3xml_field s3xml_object_lock_fields[] = {
	FIELD("ObjectLockEnabled", STR, DOC, s3xml_object_lock, enabled),
	FIELD("Rule/DefaultRetention/Mode", STR, DOC, s3xml_object_lock, mode),
	FIELD("Rule/DefaultRetention/Days", INT, DOC, s3xml_object_lock, days),
	FIELD("Rule/DefaultRetention/Years", INT, DOC, s3xml_object_lock,
	    years),
};

static const struct s3xml_spec s3xml_specs[] = {
	{ S3XML_DOC_NONE, "", NULL, 0, NULL, 0, NULL, 0, 0, S3XML_DOC_NONE },
	SPEC_FLAT(S3XML_DOC_ERROR, "Error", s3xml_error, s3xml_error_fields,
	    "Code", code, S3XML_DOC_NONE),
	SPEC(S3XML_DOC_LIST_OBJECTS, "ListBucketResult", s3xml_list_page,
	    s3xml_list_fields, s3xml_list_entries, NULL, name,
	    S3XML_DOC_NONE),
	SPEC(S3XML_DOC_LIST_VERSIONS, "ListVersionsResult",
	    s3xml_versions_page, s3xml_versions_fields,
	    s3xml_versions_entries, NULL, name, S3XML_DOC_NONE),
	SPEC(S3XML_DOC_LIST_UPLOADS, "ListMultipartUploadsResult",
	    s3xml_uploads_page, s3xml_uploads_fields, s3xml_uploads_entries,
	    NULL, bucket, S3XML_DOC_NONE),
	SPEC(S3XML_DOC_DELETE_RESULT, "DeleteResult", s3xml_delete_result,
	    s3xml_delete_fields, s3xml_delete_entries, NULL, deleted,
	    S3XML_DOC_NONE),
	SPEC_FLAT(S3XML_DOC_COPY_OBJECT, "CopyObjectResult", s3xml_copy,
	    s3xml_copy_fields, "ETag", etag, S3XML_DOC_COPY_PART),
	SPEC_FLAT(S3XML_DOC_COPY_PART, "CopyPartResult", s3xml_copy,
	    s3xml_copy_fields, "ETag", etag,
	    S3XML_DOC_COPY_OBJECT),
	SPEC_FLAT(S3XML_DOC_INITIATE_MULTIPART,
	    "InitiateMultipartUploadResult", s3xml_initiate,
	    s3xml_initiate_fields, "UploadId", upload_id, S3XML_DOC_NONE),
	SPEC_FLAT(S3XML_DOC_COMPLETE_MULTIPART,
	    "CompleteMultipartUploadResult", s3xml_complete,
	    s3xml_complete_fields, "ETag", etag, S3XML_DOC_NONE),
	SPEC(S3XML_DOC_TAGGING, "Tagging", s3xml_tagging,
	    s3xml_tagging_fields, s3xml_tagging_entries, NULL, ntags,
	    S3XML_DOC_NONE),
	SPEC_FLAT(S3XML_DOC_LEGAL_HOLD, "LegalHold", s3xml_legal_hold,
	    s3xml_legal_hold_fields, "Status", status,
	    S3XML_DOC_NONE),
	SPEC_FLAT(S3XML_DOC_RETENTION, "Retention", s3xml_retention,
	    s3xml_retention_fields, NULL, mode, S3XML_DOC_NONE),
	SPEC(S3XML_DOC_ACL, "AccessControlPolicy", s3xml_acl, s3xml_acl_fields,
	    s3xml_acl_entries, NULL, owner_id, S3XML_DOC_NONE),
	SPEC(S3XML_DOC_REPLICATION, "ReplicationConfiguration",
	    s3xml_replication, s3xml_replication_fields,
	    s3xml_replication_entries, NULL, role, S3XML_DOC_NONE),
	SPEC_FLAT(S3XML_DOC_OBJECT_LOCK, "ObjectLockConfiguration",
	    s3xml_object_lock, s3xml_object_lock_fields, NULL,
	    enabled, S3XML_DOC_NONE),
};

const char *
s3xml_doc_name(enum s3xml_doc doc)
{
	if ((size_t)doc >= nitems(s3xml_specs) || doc == S3XML_DOC_NONE)
		return ("none");
	return (s3xml_specs[doc].root);
}

/* ---- expat callbacks */

static const char *
s3xml_local(const char *name)
{
	const char	*colon = strrchr(name, ':');

	return (colon != NULL ? colon + 1 : name);
}

static int
s3xml_find_field(const struct s3xml_spec *spec, const char *path)
{
	size_t	 i;

	for (i = 0; i < spec->nfields; i++) {
		if (strcmp(spec->fields[i].path, path) == 0)
			return ((int)i);
	}
	return (-1);
}

static int
s3xml_find_entry(const struct s3xml_spec *spec, const char *path)
{
	size_t	 i;

	for (i = 0; i < spec->nentries; i++) {
		if (strcmp(spec->entries[i].path, path) == 0)
			return ((int)i);
	}
	return (-1);
}

static void
s3xml_root(struct s3xml *p, const char *name)
{
	const struct s3xml_spec	*sibling = &s3xml_specs[p->want->sibling];

	if (strcmp(name, p->want->root) == 0) {
		p->spec = p->want;
		p->base[S3XML_BASE_DOC] = p->out;
	} else if (sibling->doc != S3XML_DOC_NONE &&
	    strcmp(name, sibling->root) == 0) {
		p->spec = sibling;
		p->base[S3XML_BASE_DOC] = p->out;
	} else if (strcmp(name, "Error") == 0) {
		p->spec = &s3xml_specs[S3XML_DOC_ERROR];
		p->base[S3XML_BASE_DOC] = &p->error;
	} else {
		s3xml_fail(p, "unexpected root element <%.64s>, expected <%s>",
		    name, p->want->root);
		return;
	}
	p->kind = p->spec->doc;
}

static void
s3xml_attrs(struct s3xml *p, const char **attrs)
{
	const struct s3xml_field	*f;
	size_t				 len;
	int				 i;

	for (; attrs[0] != NULL; attrs += 2) {
		buf_reset(&p->tmp);
		buf_add(&p->tmp, p->path.data, p->path.len);
		buf_addc(&p->tmp, '@');
		buf_adds(&p->tmp, s3xml_local(attrs[0]));
		if ((i = s3xml_find_field(p->spec, p->tmp.data)) == -1)
			continue;
		f = &p->spec->fields[i];
		len = strlen(attrs[1]);
		if (len > S3XML_MAX_TEXT) {
			s3xml_fail(p, "attribute of %s longer than %d bytes",
			    f->path, S3XML_MAX_TEXT);
			return;
		}
		if (s3xml_set(p, f, attrs[1], len) != 0)
			return;
	}
}

static void
s3xml_start_cb(void *arg, const XML_Char *qname, const XML_Char **attrs)
{
	struct s3xml		*p = arg;
	struct s3xml_frame	*f, *top;
	const char		*name = s3xml_local(qname);
	size_t			 len = strlen(name);

	if (p->cause != NULL)
		return;
	if (len > S3XML_MAX_NAME) {
		s3xml_fail(p, "element name longer than %d bytes",
		    S3XML_MAX_NAME);
		return;
	}
	if (p->depth == S3XML_MAX_DEPTH) {
		s3xml_fail(p, "element nesting deeper than %d",
		    S3XML_MAX_DEPTH);
		return;
	}
	f = &p->stack[p->depth];
	f->pathlen = p->path.len;
	f->field = f->entry = -1;
	if (p->depth == 0) {
		s3xml_root(p, name);
		if (p->cause != NULL)
			return;
		p->depth++;
		return;
	}
	top = &p->stack[p->depth - 1];
	if (top->field != -1) {
		s3xml_fail(p, "unexpected element <%s> inside %s", name,
		    p->spec->fields[top->field].path);
		return;
	}
	if (p->path.len != 0)
		buf_addc(&p->path, '/');
	buf_add(&p->path, name, len);
	p->depth++;

	if ((f->entry = s3xml_find_entry(p->spec, p->path.data)) != -1 &&
	    p->spec->entries[f->entry].begin != NULL &&
	    p->spec->entries[f->entry].begin(p) != 0)
		return;
	if ((f->field = s3xml_find_field(p->spec, p->path.data)) != -1)
		buf_reset(&p->text);
	if (attrs[0] != NULL)
		s3xml_attrs(p, attrs);
}

static void
s3xml_text_cb(void *arg, const XML_Char *s, int len)
{
	struct s3xml		*p = arg;
	struct s3xml_frame	*top;

	if (p->cause != NULL || p->depth == 0 || len <= 0)
		return;
	top = &p->stack[p->depth - 1];
	if (top->field == -1)
		return;
	if (p->text.len + (size_t)len > S3XML_MAX_TEXT) {
		s3xml_fail(p, "text of %s longer than %d bytes",
		    p->spec->fields[top->field].path, S3XML_MAX_TEXT);
		return;
	}
	buf_add(&p->text, s, (size_t)len);
}

/* The root closed: decode page-level keys, check required fields. */
static void
s3xml_close(struct s3xml *p)
{
	const struct s3xml_field	*f;
	const struct s3xml_spec		*spec = p->spec;
	struct buf			*b;
	size_t				 i;

	p->root_closed = 1;
	for (i = 0; p->url && i < spec->nfields; i++) {
		f = &spec->fields[i];
		if (f->type != S3XML_T_KEY || f->base != S3XML_BASE_DOC)
			continue;
		b = (struct buf *)(void *)((char *)p->base[S3XML_BASE_DOC] +
		    f->off);
		if (b->len != 0 && s3xml_decode_key(p, b, b->data, b->len,
		    f->path) != 0)
			return;
	}
	if (spec->required != NULL) {
		b = (struct buf *)(void *)((char *)p->base[S3XML_BASE_DOC] +
		    spec->required_off);
		if (b->len == 0)
			s3xml_fail(p, "<%s> has no %s", spec->root,
			    spec->required);
	}
}

static void
s3xml_end_cb(void *arg, const XML_Char *name)
{
	struct s3xml		*p = arg;
	struct s3xml_frame	*f;
	const struct s3xml_entry *e;

	if (p->cause != NULL || p->depth == 0)
		return;
	f = &p->stack[p->depth - 1];
	if (f->field != -1 && s3xml_set(p, &p->spec->fields[f->field],
	    p->text.data != NULL ? p->text.data : "", p->text.len) != 0)
		return;
	if (f->entry != -1) {
		e = &p->spec->entries[f->entry];
		if (e->end != NULL && e->end(p) != 0)
			return;
	}
	p->path.len = f->pathlen;
	if (p->path.data != NULL)
		p->path.data[p->path.len] = '\0';
	if (--p->depth == 0)
		s3xml_close(p);
}

static void
s3xml_doctype_cb(void *arg, const XML_Char *name, const XML_Char *sysid,
    const XML_Char *pubid, int has_internal_subset)
{
	/* S3 never sends one, and every entity attack needs one. */
	s3xml_fail(arg, "DOCTYPE is not allowed in an S3 response");
}

static void
s3xml_entity_cb(void *arg, const XML_Char *name, int is_param,
    const XML_Char *value, int value_len, const XML_Char *base,
    const XML_Char *sysid, const XML_Char *pubid, const XML_Char *notation)
{
	s3xml_fail(arg, "entity declarations are not allowed");
}

static int
s3xml_extent_cb(XML_Parser parser, const XML_Char *context,
    const XML_Char *base, const XML_Char *sysid, const XML_Char *pubid)
{
	return (XML_STATUS_ERROR);
}

/* ---- the stream */

struct s3xml *
s3xml_new(enum s3xml_doc doc, void *out, const struct s3xml_cbs *cbs,
    void *arg, size_t max_bytes)
{
	struct s3xml		*p;
	const struct s3xml_spec	*spec;

	if ((size_t)doc >= nitems(s3xml_specs) || doc == S3XML_DOC_NONE)
		fatalx("%s: bad document kind %d", __func__, (int)doc);
	spec = &s3xml_specs[doc];
	memset(out, 0, spec->size);

	p = xcalloc(1, sizeof *p);
	p->want = spec;
	p->spec = spec;
	p->out = out;
	if (cbs != NULL)
		p->cbs = *cbs;
	p->arg = arg;
	p->max_bytes = max_bytes;
	p->url = (p->cbs.flags & S3XML_URL_ENCODED) != 0;

	/* Forcing UTF-8 overrides any encoding the document declares. */
	if ((p->parser = XML_ParserCreate("UTF-8")) == NULL)
		fatalx("%s: XML_ParserCreate failed", __func__);
	XML_SetUserData(p->parser, p);
	XML_SetElementHandler(p->parser, s3xml_start_cb, s3xml_end_cb);
	XML_SetCharacterDataHandler(p->parser, s3xml_text_cb);
	XML_SetStartDoctypeDeclHandler(p->parser, s3xml_doctype_cb);
	XML_SetEntityDeclHandler(p->parser, s3xml_entity_cb);
	XML_SetExternalEntityRefHandler(p->parser, s3xml_extent_cb);
	XML_SetParamEntityParsing(p->parser, XML_PARAM_ENTITY_PARSING_NEVER);
	return (p);
}

void
s3xml_free(struct s3xml *p)
{
	if (p == NULL)
		return;
	XML_ParserFree(p->parser);
	s3xml_error_free(&p->error);
	s3xml_object_free(&p->object);
	s3xml_version_free(&p->version);
	s3xml_upload_free(&p->upload);
	s3xml_deleted_free(&p->deleted);
	buf_free(&p->prefix);
	buf_free(&p->path);
	buf_free(&p->text);
	buf_free(&p->tmp);
	free(p->cause);
	free(p);
}

enum s3xml_doc
s3xml_kind(const struct s3xml *p)
{
	return (p->kind);
}

const struct s3xml_error *
s3xml_get_error(const struct s3xml *p)
{
	if (p->kind != S3XML_DOC_ERROR)
		return (NULL);
	if (p->want->doc == S3XML_DOC_ERROR)
		return (p->out);
	return (&p->error);
}

static int
s3xml_failed(struct s3xml *p, char **cause)
{
	enum XML_Error	 code;

	if (p->cause == NULL) {
		code = XML_GetErrorCode(p->parser);
		if (code == XML_ERROR_NO_ELEMENTS ||
		    code == XML_ERROR_UNCLOSED_TOKEN ||
		    code == XML_ERROR_PARTIAL_CHAR)
			xasprintf(&p->cause, "XML line %lu column %lu: "
			    "document truncated or empty (%s)",
			    (unsigned long)XML_GetCurrentLineNumber(p->parser),
			    (unsigned long)XML_GetCurrentColumnNumber(
			    p->parser), XML_ErrorString(code));
		else
			xasprintf(&p->cause, "XML line %lu column %lu: %s",
			    (unsigned long)XML_GetCurrentLineNumber(p->parser),
			    (unsigned long)XML_GetCurrentColumnNumber(
			    p->parser), XML_ErrorString(code));
	}
	if (cause != NULL)
		*cause = xstrdup(p->cause);
	return (-1);
}

int
s3xml_feed(struct s3xml *p, const void *data, size_t len, char **cause)
{
	const char	*s = data;
	size_t		 n;

	if (p->cause != NULL)
		return (s3xml_failed(p, cause));
	if (p->finished) {
		if (cause != NULL)
			*cause = xstrdup("XML: data after the end of the "
			    "document");
		return (-1);
	}
	if (p->max_bytes != 0 && len > p->max_bytes - p->total) {
		xasprintf(&p->cause, "XML: document larger than %zu bytes",
		    p->max_bytes);
		return (s3xml_failed(p, cause));
	}
	p->total += len;
	while (len > 0) {
		n = len > INT_MAX / 2 ? INT_MAX / 2 : len;
		if (XML_Parse(p->parser, s, (int)n, 0) != XML_STATUS_OK ||
		    p->cause != NULL)
			return (s3xml_failed(p, cause));
		s += n;
		len -= n;
	}
	return (0);
}

int
s3xml_finish(struct s3xml *p, char **cause)
{
	const struct s3xml_error	*e;

	if (p->cause != NULL)
		return (s3xml_failed(p, cause));
	if (!p->finished) {
		p->finished = 1;
		if (XML_Parse(p->parser, "", 0, 1) != XML_STATUS_OK ||
		    p->cause != NULL)
			return (s3xml_failed(p, cause));
	}
	if (!p->root_closed) {
		/* Expat reports truncation itself; this is a backstop. */
		xasprintf(&p->cause, "XML: document truncated");
		return (s3xml_failed(p, cause));
	}
	if (p->kind == S3XML_DOC_ERROR && p->want->doc != S3XML_DOC_ERROR) {
		e = &p->error;
		if (cause != NULL)
			xasprintf(cause, "S3 error %s: %s", e->code.data,
			    e->message.len != 0 ? e->message.data :
			    "(no message)");
		return (-1);
	}
	return (0);
}

int
s3xml_parse(enum s3xml_doc doc, const void *data, size_t len, void *out,
    const struct s3xml_cbs *cbs, void *arg, char **cause)
{
	struct s3xml	*p;
	int		 rc;

	p = s3xml_new(doc, out, cbs, arg, 0);
	rc = s3xml_feed(p, data, len, cause);
	if (rc == 0)
		rc = s3xml_finish(p, cause);
	s3xml_free(p);
	return (rc);
}

int
s3xml_parse_error(const void *data, size_t len, struct s3xml_error *out,
    char **cause)
{
	return (s3xml_parse(S3XML_DOC_ERROR, data, len, out, NULL, NULL,
	    cause));
}

int
s3xml_parse_copy(const void *data, size_t len, struct s3xml_copy *out,
    char **cause)
{
	/* Takes CopyPartResult too: its sibling in the table. */
	return (s3xml_parse(S3XML_DOC_COPY_OBJECT, data, len, out, NULL, NULL,
	    cause));
}

int
s3xml_parse_initiate(const void *data, size_t len, struct s3xml_initiate *out,
    char **cause)
{
	return (s3xml_parse(S3XML_DOC_INITIATE_MULTIPART, data, len, out,
	    NULL, NULL, cause));
}

int
s3xml_parse_complete(const void *data, size_t len, struct s3xml_complete *out,
    char **cause)
{
	return (s3xml_parse(S3XML_DOC_COMPLETE_MULTIPART, data, len, out,
	    NULL, NULL, cause));
}

int
s3xml_parse_tagging(const void *data, size_t len, struct s3xml_tagging *out,
    char **cause)
{
	return (s3xml_parse(S3XML_DOC_TAGGING, data, len, out, NULL, NULL,
	    cause));
}

int
s3xml_parse_legal_hold(const void *data, size_t len,
    struct s3xml_legal_hold *out, char **cause)
{
	return (s3xml_parse(S3XML_DOC_LEGAL_HOLD, data, len, out, NULL, NULL,
	    cause));
}

int
s3xml_parse_retention(const void *data, size_t len,
    struct s3xml_retention *out, char **cause)
{
	return (s3xml_parse(S3XML_DOC_RETENTION, data, len, out, NULL, NULL,
	    cause));
}

int
s3xml_parse_acl(const void *data, size_t len, struct s3xml_acl *out,
    char **cause)
{
	return (s3xml_parse(S3XML_DOC_ACL, data, len, out, NULL, NULL,
	    cause));
}

int
s3xml_parse_replication(const void *data, size_t len,
    struct s3xml_replication *out, char **cause)
{
	return (s3xml_parse(S3XML_DOC_REPLICATION, data, len, out, NULL, NULL,
	    cause));
}

int
s3xml_parse_object_lock(const void *data, size_t len,
    struct s3xml_object_lock *out, char **cause)
{
	return (s3xml_parse(S3XML_DOC_OBJECT_LOCK, data, len, out, NULL, NULL,
	    cause));
}

/* ---- freeing results */

void
s3xml_error_free(struct s3xml_error *e)
{
	buf_free(&e->code);
	buf_free(&e->message);
	buf_free(&e->request_id);
	buf_free(&e->host_id);
	buf_free(&e->resource);
	buf_free(&e->key);
	buf_free(&e->version_id);
	buf_free(&e->bucket_name);
	buf_free(&e->region);
	buf_free(&e->endpoint);
}

void
s3xml_object_free(struct s3xml_object *o)
{
	buf_free(&o->key);
	buf_free(&o->etag);
	buf_free(&o->storage_class);
	buf_free(&o->owner_id);
	buf_free(&o->owner_name);
	buf_free(&o->checksum_algorithm);
	buf_free(&o->checksum_type);
}

void
s3xml_list_page_free(struct s3xml_list_page *l)
{
	buf_free(&l->name);
	buf_free(&l->prefix);
	buf_free(&l->delimiter);
	buf_free(&l->start_after);
	buf_free(&l->continuation_token);
	buf_free(&l->next_continuation_token);
	buf_free(&l->encoding_type);
}

void
s3xml_version_free(struct s3xml_version *v)
{
	buf_free(&v->key);
	buf_free(&v->version_id);
	buf_free(&v->etag);
	buf_free(&v->storage_class);
	buf_free(&v->owner_id);
	buf_free(&v->owner_name);
}

void
s3xml_versions_page_free(struct s3xml_versions_page *l)
{
	buf_free(&l->name);
	buf_free(&l->prefix);
	buf_free(&l->delimiter);
	buf_free(&l->key_marker);
	buf_free(&l->version_id_marker);
	buf_free(&l->next_key_marker);
	buf_free(&l->next_version_id_marker);
	buf_free(&l->encoding_type);
}

void
s3xml_upload_free(struct s3xml_upload *u)
{
	buf_free(&u->key);
	buf_free(&u->upload_id);
	buf_free(&u->storage_class);
}

void
s3xml_uploads_page_free(struct s3xml_uploads_page *l)
{
	buf_free(&l->bucket);
	buf_free(&l->prefix);
	buf_free(&l->delimiter);
	buf_free(&l->key_marker);
	buf_free(&l->upload_id_marker);
	buf_free(&l->next_key_marker);
	buf_free(&l->next_upload_id_marker);
	buf_free(&l->encoding_type);
}

void
s3xml_deleted_free(struct s3xml_deleted *d)
{
	buf_free(&d->key);
	buf_free(&d->version_id);
	buf_free(&d->delete_marker_version_id);
	buf_free(&d->code);
	buf_free(&d->message);
}

void
s3xml_delete_result_free(struct s3xml_delete_result *r)
{
	/* Counts only: kept for a uniform API. */
}

void
s3xml_copy_free(struct s3xml_copy *c)
{
	buf_free(&c->etag);
	buf_free(&c->checksum_crc32);
	buf_free(&c->checksum_crc32c);
	buf_free(&c->checksum_crc64nvme);
	buf_free(&c->checksum_sha1);
	buf_free(&c->checksum_sha256);
	buf_free(&c->checksum_type);
}

void
s3xml_initiate_free(struct s3xml_initiate *i)
{
	buf_free(&i->bucket);
	buf_free(&i->key);
	buf_free(&i->upload_id);
}

void
s3xml_complete_free(struct s3xml_complete *c)
{
	buf_free(&c->location);
	buf_free(&c->bucket);
	buf_free(&c->key);
	buf_free(&c->etag);
	buf_free(&c->checksum_crc32);
	buf_free(&c->checksum_crc32c);
	buf_free(&c->checksum_crc64nvme);
	buf_free(&c->checksum_sha1);
	buf_free(&c->checksum_sha256);
	buf_free(&c->checksum_type);
}

static void
s3xml_tag_free(struct s3xml_tag *t)
{
	buf_free(&t->key);
	buf_free(&t->value);
}

void
s3xml_tagging_free(struct s3xml_tagging *t)
{
	size_t	 i;

	for (i = 0; i < t->ntags; i++)
		s3xml_tag_free(&t->tags[i]);
	t->ntags = 0;
}

void
s3xml_legal_hold_free(struct s3xml_legal_hold *l)
{
	buf_free(&l->status);
}

void
s3xml_retention_free(struct s3xml_retention *r)
{
	buf_free(&r->mode);
}

void
s3xml_acl_free(struct s3xml_acl *acl)
{
	struct s3xml_grant	*g;
	size_t			 i;

	buf_free(&acl->owner_id);
	buf_free(&acl->owner_name);
	for (i = 0; i < acl->ngrants; i++) {
		g = &acl->grants[i];
		buf_free(&g->type);
		buf_free(&g->id);
		buf_free(&g->display_name);
		buf_free(&g->uri);
		buf_free(&g->email);
		buf_free(&g->permission);
	}
	acl->ngrants = 0;
}

void
s3xml_replication_free(struct s3xml_replication *r)
{
	struct s3xml_repl_rule	*rule;
	size_t			 i, j;

	buf_free(&r->role);
	for (i = 0; i < r->nrules; i++) {
		rule = &r->rules[i];
		buf_free(&rule->id);
		buf_free(&rule->status);
		buf_free(&rule->prefix);
		buf_free(&rule->filter_prefix);
		for (j = 0; j < rule->nfilter_tags; j++)
			s3xml_tag_free(&rule->filter_tags[j]);
		buf_free(&rule->dest_bucket);
		buf_free(&rule->dest_storage_class);
		buf_free(&rule->dest_account);
		buf_free(&rule->dest_owner);
		buf_free(&rule->dest_kms_key_id);
		buf_free(&rule->delete_marker_replication);
		buf_free(&rule->existing_object_replication);
		buf_free(&rule->sse_kms_encrypted_objects);
	}
	free(r->rules);
	r->rules = NULL;
	r->nrules = 0;
}

void
s3xml_object_lock_free(struct s3xml_object_lock *l)
{
	buf_free(&l->enabled);
	buf_free(&l->mode);
}

void
s3xml_result_free(enum s3xml_doc doc, void *out)
{
	switch (doc) {
	case S3XML_DOC_ERROR:
		s3xml_error_free(out);
		break;
	case S3XML_DOC_LIST_OBJECTS:
		s3xml_list_page_free(out);
		break;
	case S3XML_DOC_LIST_VERSIONS:
		s3xml_versions_page_free(out);
		break;
	case S3XML_DOC_LIST_UPLOADS:
		s3xml_uploads_page_free(out);
		break;
	case S3XML_DOC_DELETE_RESULT:
		s3xml_delete_result_free(out);
		break;
	case S3XML_DOC_COPY_OBJECT:
	case S3XML_DOC_COPY_PART:
		s3xml_copy_free(out);
		break;
	case S3XML_DOC_INITIATE_MULTIPART:
		s3xml_initiate_free(out);
		break;
	case S3XML_DOC_COMPLETE_MULTIPART:
		s3xml_complete_free(out);
		break;
	case S3XML_DOC_TAGGING:
		s3xml_tagging_free(out);
		break;
	case S3XML_DOC_LEGAL_HOLD:
		s3xml_legal_hold_free(out);
		break;
	case S3XML_DOC_RETENTION:
		s3xml_retention_free(out);
		break;
	case S3XML_DOC_ACL:
		s3xml_acl_free(out);
		break;
	case S3XML_DOC_REPLICATION:
		s3xml_replication_free(out);
		break;
	case S3XML_DOC_OBJECT_LOCK:
		s3xml_object_lock_free(out);
		break;
	case S3XML_DOC_NONE:
	case S3XML_DOC_COUNT:
		break;
	}
}

/* ---- writers */

int
s3xml_escape(struct buf *b, const char *s, size_t len, char **cause)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i, start;

	if (!utf8_valid(s, len)) {
		xasprintf(cause, "\"%.*s\" is not valid UTF-8",
		    (int)(len > 64 ? 64 : len), s);
		return (-1);
	}
	for (i = 0; i < len; i++) {
		if (u[i] < 0x20 && u[i] != '\t' && u[i] != '\n' &&
		    u[i] != '\r') {
			xasprintf(cause, "control character 0x%02x at offset "
			    "%zu cannot be sent in XML 1.0", u[i], i);
			return (-1);
		}
		/* U+FFFE and U+FFFF are not XML characters either. */
		if (u[i] == 0xef && i + 2 < len && u[i + 1] == 0xbf &&
		    (u[i + 2] == 0xbe || u[i + 2] == 0xbf)) {
			xasprintf(cause, "non-character U+FFF%c at offset %zu "
			    "cannot be sent in XML 1.0",
			    u[i + 2] == 0xbe ? 'E' : 'F', i);
			return (-1);
		}
	}
	for (start = i = 0; i < len; i++) {
		const char	*rep;

		switch (s[i]) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&apos;";
			break;
		/* As references, so that no parser normalises them. */
		case '\t':
			rep = "&#9;";
			break;
		case '\n':
			rep = "&#10;";
			break;
		case '\r':
			rep = "&#13;";
			break;
		default:
			continue;
		}
		buf_add(b, s + start, i - start);
		buf_adds(b, rep);
		start = i + 1;
	}
	buf_add(b, s + start, len - start);
	return (0);
}

static int
s3xml_element(struct buf *b, const char *name, const char *s, size_t len,
    const char *what, char **cause)
{
	char	*why = NULL;

	buf_addf(b, "<%s>", name);
	if (s3xml_escape(b, s, len, &why) != 0) {
		xasprintf(cause, "%s: %s", what, why);
		free(why);
		return (-1);
	}
	buf_addf(b, "</%s>", name);
	return (0);
}

static int
s3xml_element_str(struct buf *b, const char *name, const char *s,
    const char *what, char **cause)
{
	return (s3xml_element(b, name, s, strlen(s), what, cause));
}

static int
s3xml_one_of(const char *s, const char *const *allowed, size_t n)
{
	size_t	 i;

	for (i = 0; s != NULL && i < n; i++) {
		if (strcmp(s, allowed[i]) == 0)
			return (1);
	}
	return (0);
}

static void
s3xml_open(struct buf *b, const char *root)
{
	buf_addf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<%s xmlns=\"%s\">", root, S3XML_NS);
}

/* Append the finished body to out, or drop it on failure. */
static int
s3xml_done(struct buf *out, struct buf *b, int rc)
{
	if (rc == 0)
		buf_add(out, b->data, b->len);
	buf_free(b);
	return (rc);
}

int
s3xml_write_tagging(struct buf *out, const struct s3xml_tagging *t,
    char **cause)
{
	struct buf	 b;
	size_t		 i;
	char		 what[32];

	buf_init(&b);
	if (t->ntags > S3XML_MAX_TAGS) {
		xasprintf(cause, "more than %d tags", S3XML_MAX_TAGS);
		return (s3xml_done(out, &b, -1));
	}
	s3xml_open(&b, "Tagging");
	buf_adds(&b, "<TagSet>");
	for (i = 0; i < t->ntags; i++) {
		snprintf(what, sizeof what, "tag %zu", i + 1);
		if (t->tags[i].key.len == 0) {
			xasprintf(cause, "%s: empty key", what);
			return (s3xml_done(out, &b, -1));
		}
		buf_adds(&b, "<Tag>");
		if (s3xml_element(&b, "Key", t->tags[i].key.data,
		    t->tags[i].key.len, what, cause) != 0 ||
		    s3xml_element(&b, "Value", t->tags[i].value.data != NULL ?
		    t->tags[i].value.data : "", t->tags[i].value.len, what,
		    cause) != 0)
			return (s3xml_done(out, &b, -1));
		buf_adds(&b, "</Tag>");
	}
	buf_adds(&b, "</TagSet></Tagging>");
	return (s3xml_done(out, &b, 0));
}

int
s3xml_write_complete(struct buf *out, const struct s3xml_part *parts,
    size_t n, char **cause)
{
	struct buf	 b;
	size_t		 i;
	int		 last = 0;
	char		 what[32];

	buf_init(&b);
	if (n == 0 || n > S3XML_MAX_PARTS) {
		xasprintf(cause, "%zu parts: a multipart upload has 1 to %d",
		    n, S3XML_MAX_PARTS);
		return (s3xml_done(out, &b, -1));
	}
	s3xml_open(&b, "CompleteMultipartUpload");
	for (i = 0; i < n; i++) {
		if (parts[i].number <= last ||
		    parts[i].number > S3XML_MAX_PARTS) {
			xasprintf(cause, "part number %d out of order or out "
			    "of range", parts[i].number);
			return (s3xml_done(out, &b, -1));
		}
		if (parts[i].etag == NULL || *parts[i].etag == '\0') {
			xasprintf(cause, "part %d has no ETag",
			    parts[i].number);
			return (s3xml_done(out, &b, -1));
		}
		last = parts[i].number;
		snprintf(what, sizeof what, "part %d", last);
		buf_addf(&b, "<Part><PartNumber>%d</PartNumber>", last);
		if (s3xml_element_str(&b, "ETag", parts[i].etag, what,
		    cause) != 0)
			return (s3xml_done(out, &b, -1));
		buf_adds(&b, "</Part>");
	}
	buf_adds(&b, "</CompleteMultipartUpload>");
	return (s3xml_done(out, &b, 0));
}

int
s3xml_write_delete(struct buf *out, const struct s3xml_object_id *objs,
    size_t n, int quiet, char **cause)
{
	struct buf	 b;
	size_t		 i;
	char		 what[32];

	buf_init(&b);
	if (n == 0 || n > S3XML_MAX_DELETE) {
		xasprintf(cause, "%zu objects: DeleteObjects takes 1 to %d",
		    n, S3XML_MAX_DELETE);
		return (s3xml_done(out, &b, -1));
	}
	s3xml_open(&b, "Delete");
	if (quiet)
		buf_adds(&b, "<Quiet>true</Quiet>");
	for (i = 0; i < n; i++) {
		snprintf(what, sizeof what, "object %zu", i + 1);
		if (objs[i].key == NULL || *objs[i].key == '\0') {
			xasprintf(cause, "%s: empty key", what);
			return (s3xml_done(out, &b, -1));
		}
		buf_adds(&b, "<Object>");
		if (s3xml_element_str(&b, "Key", objs[i].key, what,
		    cause) != 0)
			return (s3xml_done(out, &b, -1));
		if (objs[i].version_id != NULL &&
		    s3xml_element_str(&b, "VersionId", objs[i].version_id,
		    what, cause) != 0)
			return (s3xml_done(out, &b, -1));
		buf_adds(&b, "</Object>");
	}
	buf_adds(&b, "</Delete>");
	return (s3xml_done(out, &b, 0));
}

int
s3xml_write_legal_hold(struct buf *out, const char *status, char **cause)
{
	static const char *const allowed[] = { "ON", "OFF" };
	struct buf	 b;

	buf_init(&b);
	if (!s3xml_one_of(status, allowed, nitems(allowed))) {
		xasprintf(cause, "legal hold status \"%s\": expected ON or OFF",
		    status != NULL ? status : "");
		return (s3xml_done(out, &b, -1));
	}
	s3xml_open(&b, "LegalHold");
	buf_addf(&b, "<Status>%s</Status></LegalHold>", status);
	return (s3xml_done(out, &b, 0));
}

int
s3xml_write_retention(struct buf *out, const char *mode, uint64_t until,
    char **cause)
{
	static const char *const allowed[] = { "GOVERNANCE", "COMPLIANCE" };
	struct buf	 b;
	char		 when[40];

	buf_init(&b);
	if (!s3xml_one_of(mode, allowed, nitems(allowed))) {
		xasprintf(cause, "retention mode \"%s\": expected GOVERNANCE "
		    "or COMPLIANCE", mode != NULL ? mode : "");
		return (s3xml_done(out, &b, -1));
	}
	if (until == 0) {
		xasprintf(cause, "retention without a retain-until date");
		return (s3xml_done(out, &b, -1));
	}
	time_format_utc(until, when, sizeof when);
	s3xml_open(&b, "Retention");
	buf_addf(&b, "<Mode>%s</Mode><RetainUntilDate>%s</RetainUntilDate>"
	    "</Retention>", mode, when);
	return (s3xml_done(out, &b, 0));
}

/* Which Grantee child each xsi:type needs. */
static const struct {
	const char	*type;
	const char	*element;
	size_t		 off;
} s3xml_grantee_types[] = {
	{ "CanonicalUser", "ID", offsetof(struct s3xml_grant, id) },
	{ "Group", "URI", offsetof(struct s3xml_grant, uri) },
	{ "AmazonCustomerByEmail", "EmailAddress",
	    offsetof(struct s3xml_grant, email) },
};

static int
s3xml_write_grant(struct buf *b, const struct s3xml_grant *g, size_t idx,
    char **cause)
{
	static const char *const perms[] = { "FULL_CONTROL", "WRITE",
	    "WRITE_ACP", "READ", "READ_ACP" };
	const struct buf	*v;
	size_t			 i;
	char			 what[32];

	snprintf(what, sizeof what, "grant %zu", idx + 1);
	for (i = 0; i < nitems(s3xml_grantee_types); i++) {
		if (g->type.data != NULL &&
		    strcmp(g->type.data, s3xml_grantee_types[i].type) == 0)
			break;
	}
	if (i == nitems(s3xml_grantee_types)) {
		xasprintf(cause, "%s: grantee type \"%s\" is not "
		    "CanonicalUser, Group or AmazonCustomerByEmail", what,
		    g->type.data != NULL ? g->type.data : "");
		return (-1);
	}
	if (!s3xml_one_of(g->permission.data, perms, nitems(perms))) {
		xasprintf(cause, "%s: unknown permission \"%s\"", what,
		    g->permission.data != NULL ? g->permission.data : "");
		return (-1);
	}
	v = (const struct buf *)(const void *)((const char *)g +
	    s3xml_grantee_types[i].off);
	if (v->len == 0) {
		xasprintf(cause, "%s: a %s grantee needs %s", what,
		    s3xml_grantee_types[i].type,
		    s3xml_grantee_types[i].element);
		return (-1);
	}
	buf_addf(b, "<Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/"
	    "XMLSchema-instance\" xsi:type=\"%s\">",
	    s3xml_grantee_types[i].type);
	if (s3xml_element(b, s3xml_grantee_types[i].element, v->data, v->len,
	    what, cause) != 0)
		return (-1);
	if (i == 0 && g->display_name.len != 0 && s3xml_element(b,
	    "DisplayName", g->display_name.data, g->display_name.len, what,
	    cause) != 0)
		return (-1);
	buf_addf(b, "</Grantee><Permission>%s</Permission></Grant>",
	    g->permission.data);
	return (0);
}

int
s3xml_write_acl(struct buf *out, const struct s3xml_acl *acl, char **cause)
{
	struct buf	 b;
	size_t		 i;

	buf_init(&b);
	if (acl->owner_id.len == 0) {
		xasprintf(cause, "access control policy without an owner ID");
		return (s3xml_done(out, &b, -1));
	}
	if (acl->ngrants > S3XML_MAX_GRANTS) {
		xasprintf(cause, "more than %d grants", S3XML_MAX_GRANTS);
		return (s3xml_done(out, &b, -1));
	}
	s3xml_open(&b, "AccessControlPolicy");
	buf_adds(&b, "<Owner>");
	if (s3xml_element(&b, "ID", acl->owner_id.data, acl->owner_id.len,
	    "owner", cause) != 0)
		return (s3xml_done(out, &b, -1));
	if (acl->owner_name.len != 0 && s3xml_element(&b, "DisplayName",
	    acl->owner_name.data, acl->owner_name.len, "owner", cause) != 0)
		return (s3xml_done(out, &b, -1));
	buf_adds(&b, "</Owner><AccessControlList>");
	for (i = 0; i < acl->ngrants; i++) {
		if (s3xml_write_grant(&b, &acl->grants[i], i, cause) != 0)
			return (s3xml_done(out, &b, -1));
	}
	buf_adds(&b, "</AccessControlList></AccessControlPolicy>");
	return (s3xml_done(out, &b, 0));
}

int
s3xml_write_restore(struct buf *out, int64_t days, const char *tier,
    char **cause)
{
	static const char *const tiers[] = { "Standard", "Bulk", "Expedited" };
	struct buf	 b;

	buf_init(&b);
	if (tier != NULL && !s3xml_one_of(tier, tiers, nitems(tiers))) {
		xasprintf(cause, "restore tier \"%s\": expected Standard, Bulk "
		    "or Expedited", tier);
		return (s3xml_done(out, &b, -1));
	}
	s3xml_open(&b, "RestoreRequest");
	if (days > 0)
		buf_addf(&b, "<Days>%lld</Days>", (long long)days);
	if (tier != NULL)
		buf_addf(&b, "<GlacierJobParameters><Tier>%s</Tier>"
		    "</GlacierJobParameters>", tier);
	buf_adds(&b, "</RestoreRequest>");
	return (s3xml_done(out, &b, 0));
}

/* ---- answers without a body */

/* How much of an unexpected body a cause shows. */
#define S3XML_SHOW_MAX	48

int
s3xml_check_bodiless(const char *call, int status, const int *ok,
    const void *data, size_t len, char **cause)
{
	const unsigned char	*p = data;
	struct buf		 b;
	size_t			 start, i, n;

	for (; *ok != 0; ok++) {
		if (*ok == status)
			break;
	}
	if (*ok == 0) {
		xasprintf(cause, "%s answered %d, which is not its success",
		    call, status);
		return (-1);
	}
	for (start = 0; start < len; start++) {
		if (p[start] != ' ' && p[start] != '\t' &&
		    p[start] != '\r' && p[start] != '\n')
			break;
	}
	if (start == len)
		return (0);
	/* Show where the content starts: an HTML title, an XML root. */
	buf_init(&b);
	n = len - start < S3XML_SHOW_MAX ? len - start : S3XML_SHOW_MAX;
	for (i = start; i < start + n; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\' &&
		    p[i] != '"')
			buf_addc(&b, (char)p[i]);
		else
			buf_addf(&b, "\\x%02x", p[i]);
	}
	xasprintf(cause, "%s answered %d with a body of %zu bytes where S3 "
	    "sends none (\"%s%s\")", call, status, len, b.data,
	    len - start > n ? "..." : "");
	buf_free(&b);
	return (-1);
}
