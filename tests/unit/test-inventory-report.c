/*
 * Unit tests for invreport.c: the columns and fileSchema, the key encoding
 * (checked against Amazon's form and round-tripped through manifest.c's
 * inventory reader), the rows' quoting, and a whole report (a gzip'd data
 * file and manifest.json) read back by the reader, which checks each
 * file's size and MD5.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <unistd.h>

#include <json-c/json.h>

#include "s3batchd.h"
#include "inventory.h"
#include "invreport.h"
#include "manifest.h"
#include "unit.h"

static void
test_columns(void)
{
	struct buf	b;
	uint32_t	all = 0;
	int		f;

	buf_init(&b);
	invreport_schema(&b, invreport_columns(0, 0));
	CHECK_STR(b.data, "Bucket, Key");
	buf_reset(&b);
	invreport_schema(&b, invreport_columns(1, 0));
	CHECK_STR(b.data, "Bucket, Key, VersionId, IsLatest, IsDeleteMarker");
	buf_reset(&b);
	/* OptionalFields' order does not matter: Amazon's column order. */
	invreport_schema(&b, invreport_columns(0,
	    INV_FIELD_BIT(INV_F_ETAG) | INV_FIELD_BIT(INV_F_SIZE) |
	    INV_FIELD_BIT(INV_F_BUCKET_KEY_STATUS) |
	    INV_FIELD_BIT(INV_F_ENCRYPTION_STATUS)));
	CHECK_STR(b.data, "Bucket, Key, Size, ETag, EncryptionStatus, "
	    "BucketKeyStatus");
	buf_reset(&b);
	for (f = 0; f < INV_F_COUNT; f++)
		all |= INV_FIELD_BIT(f);
	invreport_schema(&b, invreport_columns(1, all));
	CHECK_STR(b.data, "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, "
	    "Size, LastModifiedDate, ETag, StorageClass, IsMultipartUploaded, "
	    "ReplicationStatus, EncryptionStatus, ObjectLockRetainUntilDate, "
	    "ObjectLockMode, ObjectLockLegalHoldStatus, "
	    "IntelligentTieringAccessTier, BucketKeyStatus, ChecksumAlgorithm");
	CHECK(invreport_col_name(INVR_NCOLS) == NULL);
	buf_free(&b);
}

static void
test_key_encode(void)
{
	static const struct {
		const char	*key;
		const char	*want;
	} cases[] = {
		{ "plain.txt", "plain.txt" },
		{ "a b", "a+b" },
		{ "a+b", "a%2Bb" },
		{ "100%", "100%25" },
		{ "dir/sub/file", "dir%2Fsub%2Ffile" },
		{ "caf\xc3\xa9", "caf%C3%A9" },
		{ "*-_.~!", "*-_.%7E%21" },
		{ "\"q\",", "%22q%22%2C" },
	};
	struct buf	b;
	size_t		i;

	buf_init(&b);
	for (i = 0; i < nitems(cases); i++) {
		buf_reset(&b);
		invreport_key_encode(&b, cases[i].key, strlen(cases[i].key));
		buf_addc(&b, '\0');
		CHECK_STR(b.data, cases[i].want);
	}
	buf_free(&b);
}

static void
test_row(void)
{
	struct invreport_row	 r;
	struct buf		 b;
	uint32_t		 cols;

	memset(&r, 0, sizeof r);
	r.v[INVR_BUCKET] = "bk";
	r.v[INVR_KEY] = "a \"b\"";
	r.v[INVR_VERSION_ID] = NULL;		/* empty */
	r.v[INVR_IS_LATEST] = "true";
	r.v[INVR_IS_DELETE_MARKER] = "false";
	r.v[INVR_SIZE] = "12";
	r.v[INVR_ETAG] = "x\"y";
	cols = invreport_columns(1, INV_FIELD_BIT(INV_F_SIZE) |
	    INV_FIELD_BIT(INV_F_ETAG));
	buf_init(&b);
	invreport_row(&b, cols, &r);
	buf_addc(&b, '\0');
	CHECK_STR(b.data, "\"bk\",\"a+%22b%22\",\"\",\"true\",\"false\","
	    "\"12\",\"x\"\"y\"\n");
	buf_free(&b);
}

/* ---- a whole report, read back */

static const char *const test_keys[] = {
	"plain", "with space", "plus+sign", "per%cent", "caf\xc3\xa9/\xe2\x82\xac",
	"quote\"comma,", "dir/", NULL	/* the long key */
};
#define NKEYS	nitems(test_keys)

struct readback {
	char	**keys;
	char	**vids;
	size_t	  n;
};

static int
readback_cb(const struct manifest_row *row, void *arg, char **cause)
{
	struct readback	*rb = arg;

	(void)cause;
	rb->keys = xreallocarray(rb->keys, rb->n + 1, sizeof *rb->keys);
	rb->vids = xreallocarray(rb->vids, rb->n + 1, sizeof *rb->vids);
	rb->keys[rb->n] = xstrndup(row->key, row->key_len);
	rb->vids[rb->n] = row->version_id != NULL ?
	    xstrdup(row->version_id) : NULL;
	rb->n++;
	CHECK_STR(row->bucket, "src-bucket");
	return (0);
}

static void
test_report(void)
{
	struct invreport_manifest	 m;
	struct invreport_manifest_file	 mf;
	struct invreport_row		 r;
	struct invreport_file		*f;
	struct manifest_inventory	*inv = NULL;
	struct manifest_csv		*csv;
	struct manifest_gunzip		*gz;
	struct json_object		*o, *v;
	struct readback			 rb;
	struct buf			 rows, schema;
	char				 path[] = "/tmp/test-invreport.XXXXXX";
	char				 md5[33], *json, *cause = NULL;
	char				 longkey[1001], vid[32], data[4096];
	uint32_t			 cols;
	ssize_t				 n;
	size_t				 i;
	int				 fd;

	memset(longkey, 'k', 1000);
	memcpy(longkey, "long key+", 9);
	longkey[1000] = '\0';
	fd = mkstemp(path);
	CHECK(fd != -1);
	close(fd);
	cols = invreport_columns(1, INV_FIELD_BIT(INV_F_SIZE) |
	    INV_FIELD_BIT(INV_F_ETAG) | INV_FIELD_BIT(INV_F_ENCRYPTION_STATUS));
	f = invreport_file_open(path, &cause);
	CHECK(f != NULL);
	if (f == NULL)
		return;
	buf_init(&rows);
	for (i = 0; i < NKEYS; i++) {
		memset(&r, 0, sizeof r);
		r.v[INVR_BUCKET] = "src-bucket";
		r.v[INVR_KEY] = test_keys[i] != NULL ? test_keys[i] : longkey;
		snprintf(vid, sizeof vid, "v%zu", i);
		/* The null version has an empty VersionId. */
		r.v[INVR_VERSION_ID] = i % 2 == 0 ? vid : NULL;
		r.v[INVR_IS_LATEST] = "true";
		r.v[INVR_IS_DELETE_MARKER] = "false";
		r.v[INVR_SIZE] = "3";
		r.v[INVR_ETAG] = "d41d8cd98f00b204e9800998ecf8427e";
		r.v[INVR_ENCRYPTION_STATUS] = "SSE-S3";
		invreport_row(&rows, cols, &r);
	}
	CHECK_INT(invreport_file_write(f, rows.data, rows.len, &cause), 0);
	CHECK_INT(invreport_file_close(f, md5, &cause), 0);
	mf.key = "inv/src-bucket/cfg/data/x.csv.gz";
	mf.size = invreport_file_size(f);
	mf.md5 = md5;
	invreport_file_free(f);
	buf_free(&rows);

	buf_init(&schema);
	invreport_schema(&schema, cols);
	memset(&m, 0, sizeof m);
	m.source_bucket = "src-bucket";
	m.destination_arn = "arn:aws:s3:::dst";
	m.version = "2016-11-30";
	m.creation_ms = 1514944800000ULL;
	m.file_schema = schema.data;
	m.files = &mf;
	m.nfiles = 1;
	json = invreport_manifest_json(&m);
	/* Amazon's layout, member by member. */
	CHECK(strncmp(json, "{\n  \"sourceBucket\" : \"src-bucket\",\n"
	    "  \"destinationBucket\" : \"arn:aws:s3:::dst\",\n"
	    "  \"version\" : \"2016-11-30\",\n"
	    "  \"creationTimestamp\" : \"1514944800000\",\n"
	    "  \"fileFormat\" : \"CSV\",\n", 170) == 0);
	o = json_tokener_parse(json);
	CHECK(o != NULL);
	CHECK(json_object_object_get_ex(o, "files", &v) &&
	    json_object_array_length(v) == 1);
	json_object_put(o);

	CHECK_INT(manifest_inventory_parse(json, strlen(json), &inv, &cause),
	    0);
	if (inv == NULL) {
		fprintf(stderr, "%s\n", cause);
		free(cause);
		free(json);
		return;
	}
	CHECK_STR(inv->destination_bucket, "dst");
	CHECK_INT(inv->creation_ms, 1514944800000ULL);
	CHECK_INT(inv->nfiles, 1);
	CHECK_STR(inv->files[0].md5, md5);
	csv = manifest_inventory_csv_new(inv, "x.csv.gz", &cause);
	CHECK(csv != NULL);
	gz = manifest_gunzip_new(csv, &inv->files[0]);
	memset(&rb, 0, sizeof rb);
	fd = open(path, O_RDONLY);
	while ((n = read(fd, data, sizeof data)) > 0)
		CHECK_INT(manifest_gunzip_feed(gz, data, (size_t)n,
		    readback_cb, &rb, &cause), 0);
	close(fd);
	/* finish checks the size and MD5 that manifest.json lists. */
	CHECK_INT(manifest_gunzip_finish(gz, readback_cb, &rb, &cause), 0);
	if (cause != NULL) {
		fprintf(stderr, "%s\n", cause);
		free(cause);
	}
	CHECK_INT(rb.n, NKEYS);
	for (i = 0; i < rb.n && i < NKEYS; i++) {
		CHECK_STR(rb.keys[i], test_keys[i] != NULL ? test_keys[i] :
		    longkey);
		snprintf(vid, sizeof vid, "v%zu", i);
		if (i % 2 == 0)
			CHECK_STR(rb.vids[i], vid);
		else
			CHECK(rb.vids[i] == NULL);
	}
	for (i = 0; i < rb.n; i++) {
		free(rb.keys[i]);
		free(rb.vids[i]);
	}
	free(rb.keys);
	free(rb.vids);
	manifest_gunzip_free(gz);
	manifest_csv_free(csv);
	manifest_inventory_free(inv);
	buf_free(&schema);
	free(json);
	unlink(path);
}

int
main(void)
{
	test_columns();
	test_key_encode();
	test_row();
	test_report();
	return (unit_done("test-inventory-report"));
}
