/*
 * Amazon's inventory report files: columns, rows, gzip'd data files and
 * manifest.json. Nothing here makes a request: the stages list and upload.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "s3batchd.h"
#include "inventory.h"
#include "invreport.h"

#define INVR_ZCHUNK	(64 * 1024)

static const char *const invreport_names[INVR_NCOLS] = {
	[INVR_BUCKET] = "Bucket",
	[INVR_KEY] = "Key",
	[INVR_VERSION_ID] = "VersionId",
	[INVR_IS_LATEST] = "IsLatest",
	[INVR_IS_DELETE_MARKER] = "IsDeleteMarker",
	[INVR_SIZE] = "Size",
	[INVR_LAST_MODIFIED_DATE] = "LastModifiedDate",
	[INVR_ETAG] = "ETag",
	[INVR_STORAGE_CLASS] = "StorageClass",
	[INVR_IS_MULTIPART_UPLOADED] = "IsMultipartUploaded",
	[INVR_REPLICATION_STATUS] = "ReplicationStatus",
	[INVR_ENCRYPTION_STATUS] = "EncryptionStatus",
	[INVR_OBJECT_LOCK_RETAIN_UNTIL_DATE] = "ObjectLockRetainUntilDate",
	[INVR_OBJECT_LOCK_MODE] = "ObjectLockMode",
	[INVR_OBJECT_LOCK_LEGAL_HOLD_STATUS] = "ObjectLockLegalHoldStatus",
	[INVR_INTELLIGENT_TIERING_ACCESS_TIER] =
	    "IntelligentTieringAccessTier",
	[INVR_BUCKET_KEY_STATUS] = "BucketKeyStatus",
	[INVR_CHECKSUM_ALGORITHM] = "ChecksumAlgorithm",
};

/* OptionalFields (the model's enum order) to the report's columns. */
static const enum invreport_col invreport_field_cols[INV_F_COUNT] = {
	[INV_F_SIZE] = INVR_SIZE,
	[INV_F_LAST_MODIFIED_DATE] = INVR_LAST_MODIFIED_DATE,
	[INV_F_STORAGE_CLASS] = INVR_STORAGE_CLASS,
	[INV_F_ETAG] = INVR_ETAG,
	[INV_F_IS_MULTIPART_UPLOADED] = INVR_IS_MULTIPART_UPLOADED,
	[INV_F_REPLICATION_STATUS] = INVR_REPLICATION_STATUS,
	[INV_F_ENCRYPTION_STATUS] = INVR_ENCRYPTION_STATUS,
	[INV_F_OBJECT_LOCK_RETAIN_UNTIL_DATE] =
	    INVR_OBJECT_LOCK_RETAIN_UNTIL_DATE,
	[INV_F_OBJECT_LOCK_MODE] = INVR_OBJECT_LOCK_MODE,
	[INV_F_OBJECT_LOCK_LEGAL_HOLD_STATUS] =
	    INVR_OBJECT_LOCK_LEGAL_HOLD_STATUS,
	[INV_F_INTELLIGENT_TIERING_ACCESS_TIER] =
	    INVR_INTELLIGENT_TIERING_ACCESS_TIER,
	[INV_F_BUCKET_KEY_STATUS] = INVR_BUCKET_KEY_STATUS,
	[INV_F_CHECKSUM_ALGORITHM] = INVR_CHECKSUM_ALGORITHM,
};

struct invreport_file {
	int		 fd;
	char		*path;
	z_stream	 z;
	EVP_MD_CTX	*md5;
	unsigned char	*zbuf;
	uint64_t	 size;
};

const char *
invreport_col_name(enum invreport_col c)
{
	if ((unsigned)c >= INVR_NCOLS)
		return (NULL);
	return (invreport_names[c]);
}

uint32_t
invreport_columns(int all_versions, uint32_t fields)
{
	uint32_t	cols;
	int		f;

	cols = INVR_COL_BIT(INVR_BUCKET) | INVR_COL_BIT(INVR_KEY);
	if (all_versions)
		cols |= INVR_COL_BIT(INVR_VERSION_ID) |
		    INVR_COL_BIT(INVR_IS_LATEST) |
		    INVR_COL_BIT(INVR_IS_DELETE_MARKER);
	for (f = 0; f < INV_F_COUNT; f++) {
		if (fields & INV_FIELD_BIT(f))
			cols |= INVR_COL_BIT(invreport_field_cols[f]);
	}
	return (cols);
}

void
invreport_schema(struct buf *b, uint32_t cols)
{
	int	c, first = 1;

	for (c = 0; c < INVR_NCOLS; c++) {
		if ((cols & INVR_COL_BIT(c)) == 0)
			continue;
		if (!first)
			buf_adds(b, ", ");
		buf_adds(b, invreport_names[c]);
		first = 0;
	}
}

void
invreport_key_encode(struct buf *b, const char *s, size_t len)
{
	static const char	 hex[] = "0123456789ABCDEF";
	unsigned char		 c;
	size_t			 i;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '-' ||
		    c == '*' || c == '_')
			buf_addc(b, (char)c);
		else if (c == ' ')
			buf_addc(b, '+');
		else {
			buf_addc(b, '%');
			buf_addc(b, hex[c >> 4]);
			buf_addc(b, hex[c & 0xf]);
		}
	}
}

void
invreport_field(struct buf *b, const char *s, size_t len, int last)
{
	const char	*q;

	buf_addc(b, '"');
	while (len > 0 && (q = memchr(s, '"', len)) != NULL) {
		buf_add(b, s, (size_t)(q - s) + 1);
		buf_addc(b, '"');
		len -= (size_t)(q - s) + 1;
		s = q + 1;
	}
	buf_add(b, s, len);
	buf_adds(b, last ? "\"\n" : "\",");
}

void
invreport_row(struct buf *b, uint32_t cols, const struct invreport_row *r)
{
	const char	*v;
	size_t		 len;
	int		 c, last;

	for (c = 0; c < INVR_NCOLS; c++) {
		if ((cols & INVR_COL_BIT(c)) == 0)
			continue;
		last = (cols >> (c + 1)) == 0;
		v = r->v[c] != NULL ? r->v[c] : "";
		len = r->len[c] != 0 ? r->len[c] : strlen(v);
		if (c == INVR_KEY) {
			buf_addc(b, '"');
			invreport_key_encode(b, v, len);
			buf_adds(b, last ? "\"\n" : "\",");
		} else
			invreport_field(b, v, len, last);
	}
}

/* ---- data files */

struct invreport_file *
invreport_file_open(const char *path, char **cause)
{
	struct invreport_file	*f;

	f = xcalloc(1, sizeof *f);
	f->path = xstrdup(path);
	f->fd = open(path, O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0600);
	if (f->fd == -1) {
		xasprintf(cause, "cannot write %s: %s", path, strerror(errno));
		free(f->path);
		free(f);
		return (NULL);
	}
	/* 15 + 16: a gzip wrapper, as inventory data files have. */
	if (deflateInit2(&f->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16,
	    8, Z_DEFAULT_STRATEGY) != Z_OK)
		fatalx("deflateInit2 failed");
	if ((f->md5 = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(f->md5, EVP_md5(), NULL) != 1)
		fatalx("MD5 is not available from libcrypto");
	f->zbuf = xmalloc(INVR_ZCHUNK);
	return (f);
}

static int
invreport_deflate(struct invreport_file *f, const void *data, size_t len,
    int flush, char **cause)
{
	size_t	n;
	int	r;

	f->z.next_in = (unsigned char *)(uintptr_t)data;
	f->z.avail_in = (unsigned)len;
	for (;;) {
		f->z.next_out = f->zbuf;
		f->z.avail_out = INVR_ZCHUNK;
		r = deflate(&f->z, flush);
		if (r == Z_STREAM_ERROR) {
			xasprintf(cause, "deflate failed");
			return (-1);
		}
		n = INVR_ZCHUNK - f->z.avail_out;
		if (n != 0) {
			if (io_write_all(f->fd, f->zbuf, n) != 0) {
				xasprintf(cause, "cannot write %s: %s",
				    f->path, strerror(errno));
				return (-1);
			}
			if (EVP_DigestUpdate(f->md5, f->zbuf, n) != 1)
				fatalx("MD5 update failed");
			f->size += n;
		}
		if (flush == Z_FINISH ? r == Z_STREAM_END :
		    f->z.avail_out != 0)
			break;
	}
	return (0);
}

int
invreport_file_write(struct invreport_file *f, const void *data, size_t len,
    char **cause)
{
	const char	*p = data;
	size_t		 n;

	/* avail_in is an unsigned int: feed big buffers in slices. */
	while (len > 0) {
		n = len > (1U << 30) ? (1U << 30) : len;
		if (invreport_deflate(f, p, n, Z_NO_FLUSH, cause) != 0)
			return (-1);
		p += n;
		len -= n;
	}
	return (0);
}

int
invreport_file_close(struct invreport_file *f, char md5[33], char **cause)
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	mdlen;

	if (invreport_deflate(f, NULL, 0, Z_FINISH, cause) != 0)
		return (-1);
	if (EVP_DigestFinal_ex(f->md5, md, &mdlen) != 1 || mdlen != 16)
		fatalx("MD5 final failed");
	hex_encode(md, 16, md5);
	if (fsync(f->fd) == -1 || close(f->fd) == -1) {
		f->fd = -1;
		xasprintf(cause, "cannot keep %s: %s", f->path,
		    strerror(errno));
		return (-1);
	}
	f->fd = -1;
	return (0);
}

uint64_t
invreport_file_size(const struct invreport_file *f)
{
	return (f->size);
}

void
invreport_file_free(struct invreport_file *f)
{
	if (f == NULL)
		return;
	if (f->fd != -1)
		close(f->fd);
	deflateEnd(&f->z);
	EVP_MD_CTX_free(f->md5);
	free(f->zbuf);
	free(f->path);
	free(f);
}

/* ---- manifest.json */

static void
invreport_json_string(struct buf *b, const char *s)
{
	struct json_object	*o;

	o = json_object_new_string(s);
	buf_adds(b, json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN|JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static void
invreport_json_member(struct buf *b, const char *name, const char *value,
    const char *indent, int last)
{
	buf_adds(b, indent);
	invreport_json_string(b, name);
	buf_adds(b, " : ");
	invreport_json_string(b, value);
	buf_adds(b, last ? "\n" : ",\n");
}

char *
invreport_manifest_json(const struct invreport_manifest *m)
{
	struct buf	b;
	char		ts[32];
	size_t		i;

	buf_init(&b);
	snprintf(ts, sizeof ts, "%" PRIu64, m->creation_ms);
	buf_adds(&b, "{\n");
	invreport_json_member(&b, "sourceBucket", m->source_bucket, "  ", 0);
	invreport_json_member(&b, "destinationBucket", m->destination_arn,
	    "  ", 0);
	invreport_json_member(&b, "version", m->version, "  ", 0);
	invreport_json_member(&b, "creationTimestamp", ts, "  ", 0);
	invreport_json_member(&b, "fileFormat", "CSV", "  ", 0);
	invreport_json_member(&b, "fileSchema", m->file_schema, "  ", 0);
	buf_adds(&b, "  \"files\" : [");
	for (i = 0; i < m->nfiles; i++) {
		buf_adds(&b, i == 0 ? " {\n" : ", {\n");
		invreport_json_member(&b, "key", m->files[i].key, "    ", 0);
		buf_addf(&b, "    \"size\" : %" PRIu64 ",\n", m->files[i].size);
		invreport_json_member(&b, "MD5checksum", m->files[i].md5,
		    "    ", 1);
		buf_adds(&b, "  }");
	}
	buf_adds(&b, m->nfiles != 0 ? " ]\n}" : " ]\n}");
	return (buf_detach(&b));
}
