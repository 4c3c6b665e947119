/*
 * Fuzz target for s3xml.c. The document kind comes from the root element
 * the input names (else from its first byte); the input is parsed whole and
 * again in small chunks, and both runs must agree. A Tagging or ACL that
 * parses is written back and must parse again to the same thing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "s3batchd.h"
#include "s3xml.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

union fuzz_out {
	struct s3xml_error		 error;
	struct s3xml_list_page		 list;
	struct s3xml_versions_page	 versions;
	struct s3xml_uploads_page	 uploads;
	struct s3xml_delete_result	 deleted;
	struct s3xml_copy		 copy;
	struct s3xml_initiate		 initiate;
	struct s3xml_complete		 complete;
	struct s3xml_tagging		 tagging;
	struct s3xml_legal_hold		 legal_hold;
	struct s3xml_retention		 retention;
	struct s3xml_acl		 acl;
	struct s3xml_replication	 replication;
	struct s3xml_object_lock	 object_lock;
};

static int
fuzz_object_cb(const struct s3xml_object *o, void *arg, char **cause)
{
	(*(uint64_t *)arg) += o->key.len + 1;
	return (0);
}

static int
fuzz_prefix_cb(const struct buf *prefix, void *arg, char **cause)
{
	(*(uint64_t *)arg) += prefix->len + 1;
	return (0);
}

static int
fuzz_version_cb(const struct s3xml_version *v, void *arg, char **cause)
{
	(*(uint64_t *)arg) += v->key.len + 1;
	return (0);
}

static int
fuzz_upload_cb(const struct s3xml_upload *u, void *arg, char **cause)
{
	(*(uint64_t *)arg) += u->key.len + 1;
	return (0);
}

static int
fuzz_deleted_cb(const struct s3xml_deleted *d, void *arg, char **cause)
{
	(*(uint64_t *)arg) += d->key.len + 1;
	return (0);
}

static const struct s3xml_cbs fuzz_cbs = {
	0, fuzz_object_cb, fuzz_prefix_cb, fuzz_version_cb, fuzz_upload_cb,
	fuzz_deleted_cb
};

static enum s3xml_doc
fuzz_pick(const uint8_t *data, size_t size)
{
	const char	*name;
	size_t		 len;
	int		 d;

	for (d = S3XML_DOC_LIST_OBJECTS; d < S3XML_DOC_COUNT; d++) {
		name = s3xml_doc_name(d);
		len = strlen(name);
		if (size > len && memmem(data, size < 512 ? size : 512, name,
		    len) != NULL)
			return (d);
	}
	if (size == 0)
		return (S3XML_DOC_ERROR);
	return (S3XML_DOC_ERROR + data[0] % (S3XML_DOC_COUNT - 1));
}

static int
fuzz_run(enum s3xml_doc doc, const uint8_t *data, size_t size, size_t chunk,
    union fuzz_out *out, uint64_t *entries)
{
	struct s3xml	*p;
	char		*cause = NULL;
	size_t		 off, n;
	int		 rc = 0;

	*entries = 0;
	p = s3xml_new(doc, out, &fuzz_cbs, entries, 4 * 1024 * 1024);
	for (off = 0; rc == 0 && off < size; off += n) {
		n = chunk == 0 ? size : chunk;
		if (n > size - off)
			n = size - off;
		rc = s3xml_feed(p, data + off, n, &cause);
	}
	if (rc == 0)
		rc = s3xml_finish(p, &cause);
	/* Every failure explains itself. */
	if (rc != 0 && cause == NULL)
		abort();
	free(cause);
	s3xml_free(p);
	return (rc);
}

static void
fuzz_round_trip(enum s3xml_doc doc, union fuzz_out *out)
{
	union fuzz_out	 again;
	struct buf	 b;
	char		*cause = NULL;
	size_t		 i;

	buf_init(&b);
	if (doc == S3XML_DOC_TAGGING &&
	    s3xml_write_tagging(&b, &out->tagging, &cause) == 0) {
		if (s3xml_parse_tagging(b.data, b.len, &again.tagging,
		    &cause) != 0 || again.tagging.ntags != out->tagging.ntags)
			abort();
		for (i = 0; i < out->tagging.ntags; i++) {
			if (again.tagging.tags[i].key.len !=
			    out->tagging.tags[i].key.len ||
			    again.tagging.tags[i].value.len !=
			    out->tagging.tags[i].value.len)
				abort();
		}
		s3xml_tagging_free(&again.tagging);
	}
	if (doc == S3XML_DOC_ACL &&
	    s3xml_write_acl(&b, &out->acl, &cause) == 0) {
		if (s3xml_parse_acl(b.data, b.len, &again.acl, &cause) != 0 ||
		    again.acl.ngrants != out->acl.ngrants)
			abort();
		s3xml_acl_free(&again.acl);
	}
	free(cause);
	buf_free(&b);
}

/* The same bytes as a 2xx answer that must have no body. */
static void
fuzz_bodiless(const uint8_t *data, size_t size)
{
	static const int	 ok[] = { 200, 204, 0 };
	char			*cause = NULL;
	size_t			 i;
	int			 blank = 1;

	for (i = 0; i < size; i++) {
		if (data[i] != ' ' && data[i] != '\t' && data[i] != '\r' &&
		    data[i] != '\n')
			blank = 0;
	}
	/* Blanks only is a success; anything else a cause, never both. */
	if (s3xml_check_bodiless("PutObjectTagging", 200, ok, data, size,
	    &cause) != (blank ? 0 : -1) || (cause == NULL) != blank)
		abort();
	/* The cause shows at most 48 bytes, each escaped to at most 4. */
	if (cause != NULL && strlen(cause) > 128 + 48 * 4)
		abort();
	free(cause);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	union fuzz_out	 out;
	enum s3xml_doc	 doc = fuzz_pick(data, size);
	uint64_t	 whole, chunked;
	size_t		 chunk;
	int		 rc1, rc2;

	chunk = 1 + (size > 0 ? data[size - 1] % 13 : 0);
	rc1 = fuzz_run(doc, data, size, 0, &out, &whole);
	if (rc1 == 0)
		fuzz_round_trip(doc, &out);
	s3xml_result_free(doc, &out);
	rc2 = fuzz_run(doc, data, size, chunk, &out, &chunked);
	s3xml_result_free(doc, &out);
	/* Chunking must not change the outcome, nor what was seen. */
	if (rc1 != rc2 || (rc1 == 0 && whole != chunked))
		abort();
	fuzz_bodiless(data, size);
	return (0);
}
