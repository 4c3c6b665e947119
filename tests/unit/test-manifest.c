/* Unit tests for manifest.c: CSV manifests, inventory manifest.json, gzip. */
#include <json-c/json.h>
#include <openssl/evp.h>
#define ZLIB_CONST
#include <zlib.h>

#include "s3batchd.h"
#include "invfilter.h"
#include "manifest.h"
#include "unit.h"

static const char *const f_bk[] = { "Bucket", "Key" };
static const char *const f_bkv[] = { "Bucket", "Key", "VersionId" };
static const char *const f_ibik[] = { "Ignore", "Bucket", "Ignore", "Key" };

/* Rows as text, one per line: "line|bucket|key|version|etag". */
static int
collect_cb(const struct manifest_row *row, void *arg, char **cause)
{
	struct buf	*b = arg;

	CHECK(strlen(row->key) == row->key_len);
	buf_addf(b, "%" PRIu64 "|%s|%s|%s|%s\n", row->line, row->bucket,
	    row->key, row->version_id != NULL ? row->version_id : "-",
	    row->etag != NULL ? row->etag : "-");
	return (0);
}

struct result {
	int		 rc;
	char		*cause;
	struct buf	 rows;
};

static void
result_free(struct result *r)
{
	free(r->cause);
	buf_free(&r->rows);
}

/* Feed in pieces of chunk bytes (0: all at once), then finish. */
static void
run_csv(struct manifest_csv *mc, const char *in, size_t len, size_t chunk,
    struct result *r)
{
	size_t	off = 0, n;

	memset(r, 0, sizeof *r);
	buf_init(&r->rows);
	buf_adds(&r->rows, "");
	if (chunk == 0)
		chunk = len == 0 ? 1 : len;
	while (off < len) {
		n = len - off < chunk ? len - off : chunk;
		if (manifest_csv_feed(mc, in + off, n, collect_cb, &r->rows,
		    &r->cause) != 0) {
			r->rc = -1;
			return;
		}
		off += n;
	}
	r->rc = manifest_csv_finish(mc, collect_cb, &r->rows, &r->cause);
}

static const size_t chunks[] = { 0, 1, 2, 3, 7, 64 };

/*
 * Parse with every chunk size; all must agree. Returns the all-at-once
 * result for the caller to check.
 */
static void
parse_len(const char *const *fields, size_t nfields, size_t max_line,
    const char *in, size_t len, struct result *out)
{
	struct manifest_csv	*mc;
	struct result		 r;
	char			*cause = NULL;
	size_t			 i;

	for (i = 0; i < nitems(chunks); i++) {
		mc = manifest_csv_new(fields, nfields, &cause);
		CHECK(mc != NULL);
		if (mc == NULL)
			return;
		if (max_line != 0)
			manifest_csv_set_max_line(mc, max_line);
		run_csv(mc, in, len, chunks[i], &r);
		manifest_csv_free(mc);
		if (i == 0) {
			*out = r;
			continue;
		}
		CHECK_INT(r.rc, out->rc);
		CHECK_STR(r.rows.data, out->rows.data);
		if (out->cause != NULL || r.cause != NULL)
			CHECK_STR(r.cause, out->cause);
		result_free(&r);
	}
}

static void
expect_rows(const char *const *fields, size_t nfields, const char *in,
    size_t len, const char *rows)
{
	struct result	r;

	parse_len(fields, nfields, 0, in, len, &r);
	CHECK_INT(r.rc, 0);
	if (r.rc != 0)
		fprintf(stderr, "  input \"%s\": %s\n", in, r.cause);
	CHECK_STR(r.rows.data, rows);
	result_free(&r);
}

static void
expect_error(const char *const *fields, size_t nfields, size_t max_line,
    const char *in, size_t len, const char *cause)
{
	struct result	r;

	parse_len(fields, nfields, max_line, in, len, &r);
	CHECK_INT(r.rc, -1);
	CHECK_STR(r.cause, cause);
	result_free(&r);
}

#define OK2(in, rows) expect_rows(f_bk, 2, in, sizeof in - 1, rows)
#define OK3(in, rows) expect_rows(f_bkv, 3, in, sizeof in - 1, rows)
#define ERR2(in, cause) expect_error(f_bk, 2, 0, in, sizeof in - 1, cause)
#define ERR3(in, cause) expect_error(f_bkv, 3, 0, in, sizeof in - 1, cause)

static void
test_csv_basic(void)
{
	OK2("", "");
	OK2("b-1,k1\nb-2,k2\n", "1|b-1|k1|-|-\n2|b-2|k2|-|-\n");
	/* No final newline, CRLF, a final CR. */
	OK2("b-1,k1\nb-2,k2", "1|b-1|k1|-|-\n2|b-2|k2|-|-\n");
	OK2("b-1,k1\r\nb-2,k2\r\n", "1|b-1|k1|-|-\n2|b-2|k2|-|-\n");
	OK2("b-1,k1\r\nb-2,k2\r", "1|b-1|k1|-|-\n2|b-2|k2|-|-\n");
	/* Blank lines are skipped but still counted. */
	OK2("\n\nb-1,k1\n\r\n\nb-2,k2\n\n", "3|b-1|k1|-|-\n6|b-2|k2|-|-\n");
	/* A byte order mark, alone or before rows. */
	OK2("\xef\xbb\xbf", "");
	OK2("\xef\xbb\xbf" "b-1,k1\n", "1|b-1|k1|-|-\n");
	/* Legacy bucket names. */
	OK2("My_Old.Bucket,k\n", "1|My_Old.Bucket|k|-|-\n");
	/* Column order from Fields; Ignore columns may hold anything. */
	expect_rows(f_ibik, 4, "x y z,bkt,,k\n", 13, "1|bkt|k|-|-\n");
	expect_error(f_ibik, 4, 0, "x\"y,bkt,,k\n", 11, "line 1: quote inside "
	    "an unquoted field (quote the whole field and double the quote)");
	expect_rows(f_ibik, 4, "\"\",bkt,\"a,b\",key\n", 17,
	    "1|bkt|key|-|-\n");
}

static void
test_csv_quoting(void)
{
	OK2("\"bkt\",\"k\"\n", "1|bkt|k|-|-\n");
	OK2("bkt,\"a,b\"\n", "1|bkt|a,b|-|-\n");
	OK2("bkt,\"a\"\"b\"\n", "1|bkt|a\"b|-|-\n");
	OK2("bkt,\"\"\"\"\n", "1|bkt|\"|-|-\n");
	/* A newline inside quotes: the next row starts on line 3. */
	OK2("bkt,\"a\nb\"\nbkt,c\n", "1|bkt|a\nb|-|-\n3|bkt|c|-|-\n");
	OK2("bkt,\"a\r\nb\"\r\nbkt,c", "1|bkt|a\r\nb|-|-\n3|bkt|c|-|-\n");
	OK2("bkt,\"k\"", "1|bkt|k|-|-\n");
	OK2("bkt,\"k\"\r\n", "1|bkt|k|-|-\n");
	/* Spaces are data, not padding. */
	OK2("bkt, k \n", "1|bkt| k |-|-\n");
}

static void
test_csv_keys(void)
{
	OK2("bkt,a%20b\n", "1|bkt|a b|-|-\n");
	OK2("bkt,a b\n", "1|bkt|a b|-|-\n");
	/* '+' is a plus in batch manifests, never a space. */
	OK2("bkt,a+b\n", "1|bkt|a+b|-|-\n");
	OK2("bkt,a%2Bb\n", "1|bkt|a+b|-|-\n");
	OK2("bkt,100%25\n", "1|bkt|100%|-|-\n");
	OK2("bkt,caf%C3%A9\n", "1|bkt|caf\xc3\xa9|-|-\n");
	OK2("bkt,caf\xc3\xa9\n", "1|bkt|caf\xc3\xa9|-|-\n");
	OK2("bkt,%E2%9C%93/%F0%9F%98%80\n",
	    "1|bkt|\xe2\x9c\x93/\xf0\x9f\x98\x80|-|-\n");
	OK2("bkt,~*()!'\n", "1|bkt|~*()!'|-|-\n");
	OK2("bkt,%7E%2A%28%29%21\n", "1|bkt|~*()!|-|-\n");
	OK2("bkt,dir/sub/\n", "1|bkt|dir/sub/|-|-\n");
	OK2("bkt,dir%2Fsub%2F\n", "1|bkt|dir/sub/|-|-\n");
	OK2("bkt,%2f\n", "1|bkt|/|-|-\n");
	OK2("bkt,\"a%2C b\"\n", "1|bkt|a, b|-|-\n");
	/* Control characters are legal in S3 keys. */
	OK2("bkt,a%0Ab\n", "1|bkt|a\nb|-|-\n");
}

static void
test_csv_versions(void)
{
	OK3("bkt,k,3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY\n",
	    "1|bkt|k|3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY|-\n");
	OK3("bkt,k,null\n", "1|bkt|k|null|-\n");
	OK3("bkt,\"k\",\"v1\"\r\nbkt,k2,v2", "1|bkt|k|v1|-\n2|bkt|k2|v2|-\n");
	ERR3("bkt,k,v1\nbkt,k,\n",
	    "line 2: empty version id (write null for the null version)");
	ERR3("bkt,k,\"\"\n",
	    "line 1: empty version id (write null for the null version)");
	ERR3("bkt,k,v 1\n",
	    "line 1: invalid character 0x20 in version id \"v 1\"");
	ERR3("bkt,k\n", "line 1: expected 3 fields (Bucket,Key,VersionId), "
	    "found 2");
}

static void
test_csv_errors(void)
{
	char	*big, *exp;
	size_t	 i;

	ERR2("Bucket,Key\nbkt,k\n", "line 1: looks like a header row "
	    "(Bucket,Key); manifests have no header");
	ERR2("bucket,key\n", "line 1: looks like a header row (bucket,key); "
	    "manifests have no header");
	ERR2("\n\"Bucket\",\"Object Key\"\n", "line 2: looks like a header "
	    "row (Bucket,Object Key); manifests have no header");
	ERR3("Bucket,Key,VersionId\n", "line 1: looks like a header row "
	    "(Bucket,Key,VersionId); manifests have no header");
	/* Only the first row can be a header. */
	OK2("bkt,k\nbucket,key\n", "1|bkt|k|-|-\n2|bucket|key|-|-\n");

	ERR2("bkt,k\nbkt,k,x\n",
	    "line 2: expected 2 fields (Bucket,Key), found 3");
	ERR2("bkt\n", "line 1: expected 2 fields (Bucket,Key), found 1");
	ERR2(" \n", "line 1: expected 2 fields (Bucket,Key), found 1");
	ERR2("bkt,k,\n", "line 1: expected 2 fields (Bucket,Key), found 3");
	ERR2("bkt,k\n\n,k\n", "line 3: empty bucket name");
	ERR2("bkt,k\r\n\r\nbkt,\r\n", "line 3: empty key");
	ERR2("bkt,\"\"", "line 1: empty key");
	ERR2("bkt,a%zz\n", "line 1: bad URL-encoding in key \"a%zz\": "
	    "invalid percent-escape \"%zz\" at offset 1");
	ERR2("bkt,abc%2\n", "line 1: bad URL-encoding in key \"abc%2\": "
	    "truncated percent-escape at offset 3");
	ERR2("bkt,%FF\n", "line 1: key \"\\xff\" is not valid UTF-8 after "
	    "URL-decoding");
	ERR2("bkt,\xc3\n", "line 1: key \"\\xc3\" is not valid UTF-8 after "
	    "URL-decoding");
	ERR2("bkt,a%00b\n", "line 1: key contains a NUL byte");
	ERR2("bkt,a\0b\n", "line 1: NUL byte in manifest (is it a binary or "
	    "compressed file?)");
	ERR2("bkt,k\n\"bkt\",\"a\0\"\n", "line 2: NUL byte in manifest (is "
	    "it a binary or compressed file?)");
	ERR2("bkt,\"abc\n", "line 1: unterminated quoted field at end of "
	    "input");
	ERR2("bkt,k\nbkt,\"abc\n\ndef\n", "line 2: unterminated quoted field "
	    "at end of input");
	ERR2("my bucket,k\n", "line 1: invalid character 0x20 in bucket name "
	    "\"my bucket\"");
	ERR2("arn:aws:s3:::bkt,k\n", "line 1: invalid character 0x3a in "
	    "bucket name \"arn:aws:s3:::bkt\"");
	ERR2("s3://bkt,k\n", "line 1: invalid character 0x3a in bucket name "
	    "\"s3://bkt\"");
	ERR2("ab,k\n", "line 1: bucket name \"ab\" must be 3 to 255 "
	    "characters long");
	ERR2("bkt,a\"b\n", "line 1: quote inside an unquoted field (quote the "
	    "whole field and double the quote)");
	ERR2("bkt,\"a\"b\n", "line 1: character 0x62 after a closing quote "
	    "(expected a comma or the end of the line)");
	ERR2("bkt,a\rb\n", "line 1: carriage return not followed by a line "
	    "feed");
	ERR2("\x1f\x8b\x08\x00", "line 1: manifest starts with byte 0x1f: is "
	    "it gzip-compressed? CSV manifests must be plain text");
	ERR2("\xef\xbb,k", "line 1: invalid character 0xef in bucket name "
	    "\"\\xef\\xbb\"");

	/* Line limits. */
	expect_error(f_bk, 2, 16, "bkt,0123456789ab\nbkt,0123456789abc\n",
	    35, "line 2: line is longer than 16 bytes");
	expect_error(f_bk, 2, 16, "bkt,\"012\n345\"\"678\"\n", 19,
	    "line 1: line is longer than 16 bytes");
	expect_rows(f_bk, 2, "bkt,0123456789ab\r\n", 18,
	    "1|bkt|0123456789ab|-|-\n");
	big = xmalloc(20000);
	memcpy(big, "bkt,", 4);
	for (i = 4; i < 9000; i++)
		big[i] = 'a';
	big[i++] = '\n';
	expect_error(f_bk, 2, 0, big, i,
	    "line 1: line is longer than 8192 bytes");
	/* 1025 bytes decoded but under the line limit. */
	for (i = 4; i < 4 + 1025; i++)
		big[i] = 'a';
	expect_error(f_bk, 2, 0, big, i, "line 1: key is 1025 bytes long "
	    "after URL-decoding (at most 1024)");
	/* Exactly 1024 is fine. */
	exp = xmalloc(2000);
	memcpy(exp, "1|bkt|", 6);
	memset(exp + 6, 'a', 1024);
	memcpy(exp + 6 + 1024, "|-|-\n", 6);
	expect_rows(f_bk, 2, big, 4 + 1024, exp);
	free(exp);
	free(big);
}

static int
stop_cb(const struct manifest_row *row, void *arg, char **cause)
{
	int	*n = arg;

	if (++*n == 2) {
		if (strcmp(row->key, "why") == 0)
			xasprintf(cause, "store is full");
		return (-1);
	}
	return (0);
}

static void
test_csv_misc(void)
{
	struct manifest_csv	*mc;
	char			*cause = NULL;
	const char		*bad1[] = { "Bucket", "Bucket", "Key" };
	const char		*bad2[] = { "Bucket", "key" };
	const char		*bad3[] = { "Bucket", "Ignore" };
	int			 n = 0;

	CHECK(manifest_csv_new(bad1, 3, &cause) == NULL);
	CHECK_STR(cause, "column Bucket appears more than once");
	free(cause);
	CHECK(manifest_csv_new(bad2, 2, &cause) == NULL);
	CHECK_STR(cause, "unknown manifest field \"key\" (expected Ignore, "
	    "Bucket, Key or VersionId)");
	free(cause);
	CHECK(manifest_csv_new(bad3, 2, &cause) == NULL);
	CHECK_STR(cause, "manifest Fields must include Bucket and Key");
	free(cause);
	CHECK(manifest_csv_new(bad3, 0, &cause) == NULL);
	free(cause);
	cause = NULL;

	/* The callback stops the parse, with or without a reason. */
	mc = manifest_csv_new(f_bk, 2, &cause);
	CHECK_INT(manifest_csv_feed(mc, "bkt,a\nbkt,why\nbkt,c\n", 20,
	    stop_cb, &n, &cause), -1);
	CHECK_STR(cause, "store is full");
	CHECK_INT(manifest_csv_rows(mc), 1);
	free(cause);
	cause = NULL;
	/* Used after an error. */
	CHECK_INT(manifest_csv_finish(mc, stop_cb, &n, &cause), -1);
	CHECK_STR(cause, "manifest parser used after an error");
	free(cause);
	cause = NULL;
	manifest_csv_free(mc);

	n = 0;
	mc = manifest_csv_new(f_bk, 2, &cause);
	manifest_csv_set_name(mc, "s3://bkt/manifest.csv");
	CHECK_INT(manifest_csv_feed(mc, "bkt,a\nbkt,b\n", 12, stop_cb, &n,
	    &cause), -1);
	CHECK_STR(cause, "s3://bkt/manifest.csv: line 2: stopped by the row "
	    "handler");
	free(cause);
	cause = NULL;
	manifest_csv_free(mc);

	mc = manifest_csv_new(f_bk, 2, &cause);
	n = 0;
	CHECK_INT(manifest_csv_feed(mc, "bkt,a\n\nbkt,b", 12, stop_cb, &n,
	    &cause), 0);
	CHECK_INT(manifest_csv_lines(mc), 2);
	n = -100;
	CHECK_INT(manifest_csv_finish(mc, stop_cb, &n, &cause), 0);
	CHECK_INT(manifest_csv_rows(mc), 2);
	CHECK_INT(manifest_csv_lines(mc), 3);
	CHECK_INT(manifest_csv_feed(mc, "x", 1, stop_cb, &n, &cause), -1);
	CHECK_STR(cause, "manifest parser used after finish");
	free(cause);
	manifest_csv_free(mc);
}

/* Many rows, fed in pieces of varying size, against all at once. */
static void
test_csv_bulk(void)
{
	struct manifest_csv	*mc;
	struct result		 whole, piece;
	struct buf		 in;
	char			*cause = NULL;
	size_t			 i, off, n;
	uint32_t		 seed = 12345;

	buf_init(&in);
	for (i = 0; i < 5000; i++) {
		switch (i % 4) {
		case 0:
			buf_addf(&in, "bkt-%zu,dir/key-%zu\n", i % 7, i);
			break;
		case 1:
			buf_addf(&in, "\"bkt-%zu\",\"k,%zu\"\"q\"\r\n", i % 7, i);
			break;
		case 2:
			buf_addf(&in, "bkt-%zu,%%C3%%A9t%%C3%%A9+%zu\n", i % 7,
			    i);
			break;
		default:
			buf_addf(&in, "\nbkt-%zu,\"multi\nline %zu\"\n", i % 7,
			    i);
			break;
		}
	}
	mc = manifest_csv_new(f_bk, 2, &cause);
	run_csv(mc, in.data, in.len, 0, &whole);
	CHECK_INT(whole.rc, 0);
	CHECK_INT(manifest_csv_rows(mc), 5000);
	CHECK_INT(manifest_csv_lines(mc), 5000 + 5000 / 4 * 2);
	manifest_csv_free(mc);

	mc = manifest_csv_new(f_bk, 2, &cause);
	memset(&piece, 0, sizeof piece);
	buf_init(&piece.rows);
	buf_adds(&piece.rows, "");
	for (off = 0; off < in.len; off += n) {
		seed = seed * 1103515245 + 12345;
		n = 1 + (seed >> 16) % 300;
		if (n > in.len - off)
			n = in.len - off;
		CHECK_INT(manifest_csv_feed(mc, in.data + off, n, collect_cb,
		    &piece.rows, &cause), 0);
	}
	CHECK_INT(manifest_csv_finish(mc, collect_cb, &piece.rows, &cause), 0);
	CHECK(strcmp(piece.rows.data, whole.rows.data) == 0);
	manifest_csv_free(mc);
	result_free(&whole);
	result_free(&piece);
	buf_free(&in);
}

static void
test_fields_from_spec(void)
{
	static const struct {
		const char	*json;
		int		 rc;
		size_t		 n;
		const char	*cause;
	} cases[] = {
		{ "{\"Format\":\"S3BatchOperations_CSV_20180820\","
		  "\"Fields\":[\"Bucket\",\"Key\"]}", 0, 2, NULL },
		{ "{\"Format\":\"S3BatchOperations_CSV_20180820\","
		  "\"Fields\":[\"Ignore\",\"Bucket\",\"Key\",\"VersionId\"]}",
		  0, 4, NULL },
		{ "{\"Format\":\"S3InventoryReport_CSV_20161130\"}", 0, 0,
		  NULL },
		{ "{\"Format\":\"S3BatchOperations_CSV_20180820\"}", -1, 0,
		  "Manifest.Spec.Fields is required for "
		  "S3BatchOperations_CSV_20180820 (for example [\"Bucket\", "
		  "\"Key\"])" },
		{ "{\"Format\":\"CSV\",\"Fields\":[\"Bucket\",\"Key\"]}", -1, 0,
		  "unknown manifest format \"CSV\" (expected "
		  "S3BatchOperations_CSV_20180820 or "
		  "S3InventoryReport_CSV_20161130)" },
		{ "{\"Format\":\"S3BatchOperations_CSV_20180820\","
		  "\"Fields\":[\"Bucket\",\"Key\",\"Key\"]}", -1, 0,
		  "Manifest.Spec.Fields: Key appears more than once" },
		{ "{\"Format\":\"S3BatchOperations_CSV_20180820\","
		  "\"Fields\":[\"Bucket\",7]}", -1, 0,
		  "Manifest.Spec.Fields[1] is not a string" },
		{ "{\"Format\":\"S3BatchOperations_CSV_20180820\","
		  "\"Fields\":[\"Bucket\",\"Size\"]}", -1, 0,
		  "Manifest.Spec.Fields[1]: unknown field \"Size\" (expected "
		  "Ignore, Bucket, Key or VersionId)" },
		{ "{\"Format\":\"S3BatchOperations_CSV_20180820\","
		  "\"Fields\":[\"Key\",\"VersionId\"]}", -1, 0,
		  "Manifest.Spec.Fields must include Bucket and Key" },
		{ "{\"Fields\":[\"Bucket\",\"Key\"]}", -1, 0,
		  "Manifest.Spec.Format is missing or not a string" },
		{ "[]", -1, 0, "Manifest.Spec must be an object" },
	};
	struct json_object	*o;
	struct manifest_csv	*mc;
	enum manifest_format	 fmt;
	const char		*fields[MANIFEST_MAX_FIELDS];
	char			*cause;
	size_t			 i, n;

	for (i = 0; i < nitems(cases); i++) {
		cause = NULL;
		o = json_tokener_parse(cases[i].json);
		CHECK(o != NULL);
		CHECK_INT(manifest_fields_from_spec(o, &fmt, fields, &n,
		    &cause), cases[i].rc);
		if (cases[i].rc == 0) {
			CHECK_INT(n, cases[i].n);
			if (n != 0) {
				CHECK_INT(fmt, MANIFEST_FORMAT_CSV);
				mc = manifest_csv_new(fields, n, &cause);
				CHECK(mc != NULL);
				manifest_csv_free(mc);
			} else
				CHECK_INT(fmt, MANIFEST_FORMAT_INVENTORY);
		} else
			CHECK_STR(cause, cases[i].cause);
		free(cause);
		json_object_put(o);
	}
	CHECK_INT(manifest_format_parse("S3InventoryReport_CSV_20211130", &fmt,
	    &cause), 0);
	CHECK_INT(fmt, MANIFEST_FORMAT_INVENTORY);
}

#define INV_SCHEMA "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, " \
	"Size, LastModifiedDate, ETag, StorageClass"

static const char inv_good[] =
	"{\n"
	"  \"sourceBucket\" : \"example-source-bucket\",\n"
	"  \"destinationBucket\" : \"arn:aws:s3:::example-dest\",\n"
	"  \"version\" : \"2016-11-30\",\n"
	"  \"creationTimestamp\" : \"1514944800000\",\n"
	"  \"fileFormat\" : \"CSV\",\n"
	"  \"fileSchema\" : \"" INV_SCHEMA "\",\n"
	"  \"files\" : [ {\n"
	"    \"key\" : \"inv/example-source-bucket/cfg/data/a.csv.gz\",\n"
	"    \"size\" : 2147483647,\n"
	"    \"MD5checksum\" : \"F11166069F1990ABEB9C97ACE9CDFABC\"\n"
	"  }, {\n"
	"    \"key\" : \"inv/example-source-bucket/cfg/data/b.csv.gz\",\n"
	"    \"size\" : 12,\n"
	"    \"MD5checksum\" : \"d41d8cd98f00b204e9800998ecf8427e\"\n"
	"  } ]\n"
	"}\n";

static void
test_inventory_json(void)
{
	static const struct {
		const char	*from;
		const char	*to;
		const char	*cause;
	} bad[] = {
		{ "\"sourceBucket\"", "\"source\"",
		  "inventory manifest.json: sourceBucket is missing" },
		{ "\"example-source-bucket\"", "7",
		  "inventory manifest.json: sourceBucket must be a string" },
		{ "\"example-source-bucket\"", "\"\"",
		  "inventory manifest.json: sourceBucket is empty or contains "
		  "a NUL byte" },
		{ "\"example-source-bucket\"", "\"bad/name\"",
		  "inventory manifest.json: sourceBucket: invalid character "
		  "0x2f in bucket name \"bad/name\"" },
		{ "arn:aws:s3:::example-dest", "arn:aws:sqs:::example-dest",
		  "inventory manifest.json: destinationBucket "
		  "\"arn:aws:sqs:::example-dest\" is not an S3 bucket ARN" },
		{ "\"2016-11-30\"", "\"2030-01-01\"",
		  "inventory manifest.json: unsupported version \"2030-01-01\" "
		  "(expected 2016-11-30)" },
		{ "\"1514944800000\"", "\"soon\"",
		  "inventory manifest.json: creationTimestamp must be "
		  "milliseconds since the epoch" },
		{ "\"CSV\"", "\"ORC\"",
		  "inventory manifest.json: fileFormat \"ORC\" is not supported "
		  "(only CSV)" },
		{ "\"fileFormat\"", "\"format\"",
		  "inventory manifest.json: fileFormat is missing" },
		{ "Bucket, Key,", "Bucket, Object,",
		  "inventory manifest.json: fileSchema has no Key column" },
		{ "Bucket, Key,", "Key,",
		  "inventory manifest.json: fileSchema has no Bucket column" },
		{ "Key, VersionId", "Key, , VersionId",
		  "inventory manifest.json: fileSchema column 3 is empty" },
		{ "StorageClass", "StorageClass,",
		  "inventory manifest.json: fileSchema column 10 is empty" },
		{ "StorageClass", "key",
		  "inventory manifest.json: fileSchema names column \"key\" "
		  "twice" },
		{ "2147483647", "-1",
		  "inventory manifest.json: files[0].size is missing or not a "
		  "non-negative integer" },
		{ "2147483647", "1.5",
		  "inventory manifest.json: files[0].size is missing or not a "
		  "non-negative integer" },
		{ "\"d41d8cd98f00b204e9800998ecf8427e\"",
		  "\"d41d8cd98f00b204e9800998ecf8427\"",
		  "inventory manifest.json: files[1].MD5checksum must be 32 "
		  "hex digits" },
		{ "\"d41d8cd98f00b204e9800998ecf8427e\"",
		  "\"d41d8cd98f00b204e9800998ecf8427g\"",
		  "inventory manifest.json: files[1].MD5checksum must be 32 "
		  "hex digits" },
		{ "\"key\" : \"inv/example-source-bucket/cfg/data/b",
		  "\"name\" : \"inv/example-source-bucket/cfg/data/b",
		  "inventory manifest.json: files[1].key is missing" },
		{ "\"files\" : [", "\"files\" : [,",
		  "inventory manifest.json is not valid JSON: unexpected "
		  "character" },
		{ "\"files\"", "\"data\"",
		  "inventory manifest.json: files is missing or not an array" },
		{ "}\n", "} x\n",
		  "inventory manifest.json has data after the JSON object" },
		{ "  } ]\n}\n", "  } ]\n",
		  "inventory manifest.json is truncated" },
	};
	struct manifest_inventory	*inv;
	struct buf			 b;
	const char			*p;
	char				*cause = NULL;
	size_t				 i;

	CHECK_INT(manifest_inventory_parse(inv_good, sizeof inv_good - 1, &inv,
	    &cause), 0);
	if (inv == NULL) {
		fprintf(stderr, "inventory: %s\n", cause);
		return;
	}
	CHECK_STR(inv->source_bucket, "example-source-bucket");
	CHECK_STR(inv->destination_bucket, "example-dest");
	CHECK_STR(inv->destination_arn, "arn:aws:s3:::example-dest");
	CHECK_STR(inv->version, "2016-11-30");
	CHECK_STR(inv->file_format, "CSV");
	CHECK_STR(inv->file_schema, INV_SCHEMA);
	CHECK_INT(inv->creation_ms, 1514944800000ULL);
	CHECK_INT(inv->ncolumns, 9);
	CHECK_STR(inv->columns[0], "Bucket");
	CHECK_STR(inv->columns[8], "StorageClass");
	CHECK_INT(inv->nfiles, 2);
	CHECK_STR(inv->files[0].key,
	    "inv/example-source-bucket/cfg/data/a.csv.gz");
	CHECK_INT(inv->files[0].size, 2147483647);
	CHECK_STR(inv->files[0].md5, "f11166069f1990abeb9c97ace9cdfabc");
	CHECK_INT(inv->files[1].size, 12);
	manifest_inventory_free(inv);

	for (i = 0; i < nitems(bad); i++) {
		p = strstr(inv_good, bad[i].from);
		CHECK(p != NULL);
		if (p == NULL)
			continue;
		buf_init(&b);
		buf_add(&b, inv_good, (size_t)(p - inv_good));
		buf_adds(&b, bad[i].to);
		buf_adds(&b, p + strlen(bad[i].from));
		cause = NULL;
		inv = (void *)&b;
		CHECK_INT(manifest_inventory_parse(b.data, b.len, &inv, &cause),
		    -1);
		CHECK(inv == NULL);
		CHECK_STR(cause, bad[i].cause);
		free(cause);
		buf_free(&b);
	}

	/* Other accepted shapes: a bare name, no files, no timestamp. */
	p = "{\"sourceBucket\":\"src\",\"destinationBucket\":\"dst\","
	    "\"version\":\"2021-11-30\",\"fileFormat\":\"csv\","
	    "\"fileSchema\":\"Bucket,Key\",\"files\":[]}";
	CHECK_INT(manifest_inventory_parse(p, strlen(p), &inv, &cause), 0);
	if (inv != NULL) {
		CHECK_STR(inv->destination_bucket, "dst");
		CHECK_INT(inv->nfiles, 0);
		CHECK_INT(inv->creation_ms, 0);
		CHECK_INT(inv->ncolumns, 2);
	}
	manifest_inventory_free(inv);

	CHECK_INT(manifest_inventory_parse("{\"a\":\0}", 7, &inv, &cause), -1);
	CHECK_STR(cause, "inventory manifest.json contains a NUL byte");
	free(cause);
	CHECK_INT(manifest_inventory_parse("[1]", 3, &inv, &cause), -1);
	CHECK_STR(cause, "inventory manifest.json must be a JSON object");
	free(cause);
	CHECK_INT(manifest_inventory_parse("", 0, &inv, &cause), -1);
	CHECK_STR(cause, "inventory manifest.json is truncated");
	free(cause);
}

static const char inv_rows[] =
	"\"src-bkt\",\"a+b%2Bc\",\"v1\",\"true\",\"false\",\"12\","
	    "\"2024-01-01T00:00:00.000Z\",\"d41d8cd98f00b204e9800998ecf8427e\","
	    "\"STANDARD\"\n"
	"\"src-bkt\",\"gone\",\"v2\",\"true\",\"true\",\"\",\"\",\"\",\"\"\n"
	"\"src-bkt\",\"plain\",\"\",\"true\",\"false\",\"0\",\"\",\"\",\"\"\n"
	"\"src-bkt\",\"old\",\"\",\"false\",\"false\",\"0\",\"\","
	    "\"\"\"abc-2\"\"\",\"\"\n";

static const char inv_expect[] =
	"1|src-bkt|a b+c|v1|d41d8cd98f00b204e9800998ecf8427e\n"
	"3|src-bkt|plain|-|-\n"
	"4|src-bkt|old|null|abc-2\n";

static struct manifest_inventory *
inventory_get(void)
{
	struct manifest_inventory	*inv;
	char				*cause = NULL;

	if (manifest_inventory_parse(inv_good, sizeof inv_good - 1, &inv,
	    &cause) != 0)
		fatalx("inventory: %s", cause);
	return (inv);
}

static void
test_inventory_rows(void)
{
	static const struct {
		const char	*row;
		const char	*cause;
	} bad[] = {
		{ "\"src-bkt\",\"k\",\"v\",\"yes\",\"false\",\"\",\"\",\"\","
		  "\"\"\n", "data/a.csv: line 1: IsLatest must be true or "
		  "false, not \"yes\"" },
		{ "\"src-bkt\",\"k\",\"v\",\"true\",\"1\",\"\",\"\",\"\","
		  "\"\"\n", "data/a.csv: line 1: IsDeleteMarker must be true "
		  "or false, not \"1\"" },
		{ "\"src-bkt\",\"k\",\"v\",\"true\",\"false\",\"\",\"\","
		  "\"a b\",\"\"\n", "data/a.csv: line 1: invalid character "
		  "0x20 in ETag \"a b\"" },
		{ "\"src-bkt\",\"k\"\n", "data/a.csv: line 1: expected 9 "
		  "fields (Bucket,Key,VersionId,IsLatest,IsDeleteMarker,Size,"
		  "LastModifiedDate,ETag,StorageClass), found 2" },
		{ "\"src-bkt\",\"%G0\",\"\",\"\",\"\",\"\",\"\",\"\",\"\"\n",
		  "data/a.csv: line 1: bad URL-encoding in key \"%G0\": "
		  "invalid percent-escape \"%G0\" at offset 0" },
	};
	struct manifest_inventory	*inv = inventory_get();
	struct manifest_csv		*mc;
	struct result			 r;
	char				*cause = NULL;
	size_t				 i, j;

	for (j = 0; j < nitems(chunks); j++) {
		mc = manifest_inventory_csv_new(inv, "data/a.csv", &cause);
		CHECK(mc != NULL);
		run_csv(mc, inv_rows, sizeof inv_rows - 1, chunks[j], &r);
		CHECK_INT(r.rc, 0);
		CHECK_STR(r.rows.data, inv_expect);
		CHECK_INT(manifest_csv_rows(mc), 3);
		CHECK_INT(manifest_csv_skipped(mc), 1);
		result_free(&r);
		manifest_csv_free(mc);
	}
	for (i = 0; i < nitems(bad); i++) {
		mc = manifest_inventory_csv_new(inv, "data/a.csv", &cause);
		run_csv(mc, bad[i].row, strlen(bad[i].row), 0, &r);
		CHECK_INT(r.rc, -1);
		CHECK_STR(r.cause, bad[i].cause);
		result_free(&r);
		manifest_csv_free(mc);
	}
	manifest_inventory_free(inv);
}

/*
 * Manifest.Filter in the row parser: it sees the fields as the file has
 * them (Key URL-encoded, ETag with its quotes), never a delete marker, and
 * its error stops the parse at the row.
 */
static void
test_inventory_filter(void)
{
	struct manifest_inventory	*inv = inventory_get();
	struct manifest_csv		*mc;
	struct invfilter		*f;
	struct result			 r;
	char				*cause = NULL;
	size_t				 j;

	CHECK_INT(invfilter_new("s.Key = 'a+b%2Bc' OR s._8 = '\"abc-2\"' OR "
	    "s.IsDeleteMarker = 'true'", (const char *const *)inv->columns,
	    inv->ncolumns, &f, &cause), 0);
	for (j = 0; j < nitems(chunks); j++) {
		mc = manifest_inventory_csv_new(inv, "data/a.csv", &cause);
		manifest_csv_set_filter(mc, f);
		run_csv(mc, inv_rows, sizeof inv_rows - 1, chunks[j], &r);
		CHECK_INT(r.rc, 0);
		CHECK_STR(r.rows.data,
		    "1|src-bkt|a b+c|v1|d41d8cd98f00b204e9800998ecf8427e\n"
		    "4|src-bkt|old|null|abc-2\n");
		CHECK_INT(manifest_csv_rows(mc), 2);
		CHECK_INT(manifest_csv_filtered(mc), 1);
		CHECK_INT(manifest_csv_skipped(mc), 1);
		result_free(&r);
		manifest_csv_free(mc);
	}
	invfilter_free(f);

	/* 0 - INT64_MAX - 1 has no absolute value: row 3 (Size 0) fails. */
	CHECK_INT(invfilter_new("abs(CAST(s.Size AS INT) - "
	    "9223372036854775807 - 1) > 0", (const char *const *)inv->columns,
	    inv->ncolumns, &f, &cause), 0);
	mc = manifest_inventory_csv_new(inv, "data/a.csv", &cause);
	manifest_csv_set_filter(mc, f);
	run_csv(mc, inv_rows, sizeof inv_rows - 1, 0, &r);
	CHECK_INT(r.rc, -1);
	CHECK_STR(r.cause, "data/a.csv: line 3: Manifest.Filter: integer "
	    "overflow");
	CHECK_INT(manifest_csv_rows(mc), 1);
	result_free(&r);
	manifest_csv_free(mc);
	invfilter_free(f);
	manifest_inventory_free(inv);
}

/* Gzip with zlib, as Amazon's writer would, in one or more members. */
static void
gzip_make(struct buf *out, const char *in, size_t len)
{
	z_stream	z;
	unsigned char	tmp[4096];
	int		ret;

	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		fatalx("deflateInit2");
	z.next_in = (const unsigned char *)in;
	z.avail_in = (uInt)len;
	do {
		z.next_out = tmp;
		z.avail_out = sizeof tmp;
		ret = deflate(&z, Z_FINISH);
		buf_add(out, tmp, sizeof tmp - z.avail_out);
	} while (ret == Z_OK);
	if (ret != Z_STREAM_END)
		fatalx("deflate");
	deflateEnd(&z);
}

static void
md5_hex(const void *p, size_t len, char out[33])
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	n, i;

	EVP_Digest(p, len, md, &n, EVP_md5(), NULL);
	for (i = 0; i < 16; i++)
		snprintf(out + i * 2, 3, "%02x", md[i]);
}

static int
gunzip_run(struct manifest_inventory *inv,
    const struct manifest_inventory_file *expect, const struct buf *gz,
    size_t chunk, struct result *r, char md5[33])
{
	struct manifest_csv	*mc;
	struct manifest_gunzip	*g;
	size_t			 off, n;

	memset(r, 0, sizeof *r);
	buf_init(&r->rows);
	buf_adds(&r->rows, "");
	mc = manifest_inventory_csv_new(inv, "data/a.csv.gz", &r->cause);
	g = manifest_gunzip_new(mc, expect);
	r->rc = 0;
	for (off = 0; off < gz->len; off += n) {
		n = chunk == 0 || gz->len - off < chunk ? gz->len - off : chunk;
		if (manifest_gunzip_feed(g, gz->data + off, n, collect_cb,
		    &r->rows, &r->cause) != 0) {
			r->rc = -1;
			break;
		}
	}
	if (r->rc == 0)
		r->rc = manifest_gunzip_finish(g, collect_cb, &r->rows,
		    &r->cause);
	if (md5 != NULL)
		memcpy(md5, manifest_gunzip_md5(g), 33);
	CHECK_INT(manifest_gunzip_bytes_in(g), r->rc == 0 ? gz->len :
	    manifest_gunzip_bytes_in(g));
	manifest_gunzip_free(g);
	manifest_csv_free(mc);
	return (r->rc);
}

static void
test_gunzip(void)
{
	static const size_t		 gzchunks[] = { 0, 1, 5, 100, 4096 };
	struct manifest_inventory	*inv = inventory_get();
	struct manifest_inventory_file	 expect;
	struct result			 r;
	struct buf			 gz, big, tmp;
	char				 md5[33], got[33];
	size_t				 i;

	buf_init(&gz);
	gzip_make(&gz, inv_rows, sizeof inv_rows - 1);
	md5_hex(gz.data, gz.len, md5);
	memset(&expect, 0, sizeof expect);
	expect.size = gz.len;
	memcpy(expect.md5, md5, sizeof expect.md5);

	for (i = 0; i < nitems(gzchunks); i++) {
		CHECK_INT(gunzip_run(inv, &expect, &gz, gzchunks[i], &r, got),
		    0);
		CHECK_STR(r.rows.data, inv_expect);
		CHECK_STR(got, md5);
		result_free(&r);
	}
	/* Without a manifest entry: no checks, MD5 still reported. */
	CHECK_INT(gunzip_run(inv, NULL, &gz, 0, &r, got), 0);
	CHECK_STR(got, md5);
	result_free(&r);

	/* A wrong checksum, a wrong size. */
	expect.md5[0] = expect.md5[0] == '0' ? '1' : '0';
	CHECK_INT(gunzip_run(inv, &expect, &gz, 0, &r, NULL), -1);
	buf_init(&tmp);
	buf_addf(&tmp, "data/a.csv.gz: MD5 is %s but manifest.json says %s",
	    md5, expect.md5);
	CHECK_STR(r.cause, tmp.data);
	buf_free(&tmp);
	result_free(&r);
	memcpy(expect.md5, md5, sizeof expect.md5);
	expect.size++;
	CHECK_INT(gunzip_run(inv, &expect, &gz, 0, &r, NULL), -1);
	buf_init(&tmp);
	buf_addf(&tmp, "data/a.csv.gz: size is %zu bytes but manifest.json "
	    "says %zu", gz.len, gz.len + 1);
	CHECK_STR(r.cause, tmp.data);
	buf_free(&tmp);
	result_free(&r);

	/* Truncated, corrupt, empty, not gzip. */
	tmp = gz;
	tmp.len = gz.len - 4;
	CHECK_INT(gunzip_run(inv, NULL, &tmp, 0, &r, NULL), -1);
	CHECK_STR(r.cause, "data/a.csv.gz: truncated gzip data");
	result_free(&r);
	tmp.len = 0;
	CHECK_INT(gunzip_run(inv, NULL, &tmp, 0, &r, NULL), -1);
	CHECK_STR(r.cause, "data/a.csv.gz: empty data file");
	result_free(&r);
	gz.data[gz.len / 2] ^= 0x55;
	gz.data[gz.len / 2 + 1] ^= 0x55;
	CHECK_INT(gunzip_run(inv, NULL, &gz, 0, &r, NULL), -1);
	CHECK(r.cause != NULL && strncmp(r.cause, "data/a.csv.gz: ", 15) == 0);
	result_free(&r);
	buf_reset(&gz);
	buf_adds(&gz, "\"src-bkt\",\"k\"\n");
	CHECK_INT(gunzip_run(inv, NULL, &gz, 0, &r, NULL), -1);
	CHECK_STR(r.cause, "data/a.csv.gz: corrupt gzip data: incorrect "
	    "header check");
	result_free(&r);

	/* Two members (gzip -c a b > c), a row split across them. */
	buf_reset(&gz);
	gzip_make(&gz, inv_rows, 40);
	gzip_make(&gz, inv_rows + 40, sizeof inv_rows - 1 - 40);
	for (i = 0; i < nitems(gzchunks); i++) {
		CHECK_INT(gunzip_run(inv, NULL, &gz, gzchunks[i], &r, NULL), 0);
		CHECK_STR(r.rows.data, inv_expect);
		result_free(&r);
	}

	/* A CSV error inside gzip'd data keeps its line number. */
	buf_init(&big);
	for (i = 0; i < 20000; i++) {
		buf_addf(&big, "\"src-bkt\",\"k%zu\",\"v\",\"true\",\"false\","
		    "\"1\",\"\",\"\",\"\"\n", i);
	}
	buf_adds(&big, "\"src-bkt\",\"\",\"v\",\"true\",\"false\",\"1\","
	    "\"\",\"\",\"\"\n");
	buf_reset(&gz);
	gzip_make(&gz, big.data, big.len);
	CHECK_INT(gunzip_run(inv, NULL, &gz, 777, &r, NULL), -1);
	CHECK_STR(r.cause, "data/a.csv.gz: line 20001: empty key");
	result_free(&r);
	buf_free(&big);
	buf_free(&gz);
	manifest_inventory_free(inv);
}

int
main(void)
{
	test_csv_basic();
	test_csv_quoting();
	test_csv_keys();
	test_csv_versions();
	test_csv_errors();
	test_csv_misc();
	test_csv_bulk();
	test_fields_from_spec();
	test_inventory_json();
	test_inventory_rows();
	test_inventory_filter();
	test_gunzip();
	return (unit_done("test-manifest"));
}
