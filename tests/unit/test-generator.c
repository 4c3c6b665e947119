/*
 * Unit tests for stage-generate.c: the spec checks and the filters. The
 * file is included so that its static filter functions are tested as they
 * are.
 */
#include "stage-generate.c"
#include "unit.h"

static struct json_object *
spec_with(const char *filter, const char *extra)
{
	struct json_object	*o;
	char			*s;

	xasprintf(&s, "{\"RoleArn\":\"arn:aws:iam::1:role/r\","
	    "\"ManifestGenerator\":{\"S3JobManifestGenerator\":{"
	    "\"SourceBucket\":\"arn:aws:s3:::src\","
	    "\"EnableManifestOutput\":false%s%s%s}}}",
	    filter != NULL ? ",\"Filter\":" : "", filter != NULL ? filter : "",
	    extra != NULL ? extra : "");
	o = json_tokener_parse(s);
	free(s);
	return (o);
}

static int
parse(const char *filter, const char *extra, struct gen_spec *gs,
    char **cause)
{
	struct json_object	*o = spec_with(filter, extra);
	int			 r;

	*cause = NULL;
	r = gen_spec_parse(o, gs, cause);
	json_object_put(o);
	return (r);
}

static void
test_check(void)
{
	static const struct {
		const char	*filter;
		const char	*extra;
		const char	*want;	/* NULL: accepted; else in the cause */
	} cases[] = {
		{ NULL, NULL, NULL },
		{ "{\"CreatedAfter\":\"2024-01-02T03:04:05Z\"}", NULL, NULL },
		{ "{\"CreatedAfter\":\"yesterday\"}", NULL, "CreatedAfter" },
		{ "{\"ObjectReplicationStatuses\":[\"DONE\"]}", NULL,
		    "ObjectReplicationStatuses[0]" },
		{ "{\"KeyNameConstraint\":{\"MatchAnyPrefix\":[\"\"]}}", NULL,
		    "MatchAnyPrefix[0]" },
		{ "{\"MatchAnyObjectEncryption\":[{}]}", NULL,
		    "MatchAnyObjectEncryption[0]" },
		{ NULL, ",\"EnableManifestOutput\":true",
		    "ManifestOutputLocation" },
		{ NULL, ",\"EnableManifestOutput\":true,"
		    "\"ManifestOutputLocation\":{\"Bucket\":\"arn:aws:s3:::out\","
		    "\"ManifestFormat\":\"S3InventoryReport_CSV_20211130\"}",
		    NULL },
	};
	struct gen_spec	 gs;
	char		*cause;
	size_t		 i;
	int		 r;

	for (i = 0; i < nitems(cases); i++) {
		r = parse(cases[i].filter, cases[i].extra, &gs, &cause);
		if (cases[i].want == NULL) {
			CHECK_INT(r, 0);
			CHECK(cause == NULL);
		} else {
			CHECK_INT(r, -1);
			CHECK(cause != NULL &&
			    strstr(cause, cases[i].want) != NULL);
		}
		free(cause);
		gen_spec_free(&gs);
	}
}

static void
test_listing_filters(void)
{
	struct gen_spec	 gs;
	char		*cause;

	CHECK_INT(parse("{\"KeyNameConstraint\":{"
	    "\"MatchAnyPrefix\":[\"logs/2024\",\"logs/2025\"],"
	    "\"MatchAnySuffix\":[\".gz\",\".zst\"],"
	    "\"MatchAnySubstring\":[\"web\"]},"
	    "\"CreatedAfter\":1000,\"CreatedBefore\":2000,"
	    "\"ObjectSizeGreaterThanBytes\":10,\"ObjectSizeLessThanBytes\":20,"
	    "\"MatchAnyStorageClass\":[\"STANDARD\",\"GLACIER\"]}", NULL, &gs,
	    &cause), 0);
	CHECK_STR(gs.list_prefix, "logs/202");
#define M(key, mtime, size, sc) \
	gen_match_listing(&gs, key, strlen(key), mtime, size, sc)
	CHECK_INT(M("logs/2024/web-1.gz", 1500000, 15, "STANDARD"), 1);
	CHECK_INT(M("logs/2025/web-1.zst", 1500000, 15, "GLACIER"), 1);
	CHECK_INT(M("logs/2025/web-1.zst", 1500000, 15, NULL), 1);
	CHECK_INT(M("logs/2023/web-1.gz", 1500000, 15, "STANDARD"), 0);
	CHECK_INT(M("logs/2024/app-1.gz", 1500000, 15, "STANDARD"), 0);
	CHECK_INT(M("logs/2024/web-1.txt", 1500000, 15, "STANDARD"), 0);
	/* After and before are strict, in ms; sizes too. */
	CHECK_INT(M("logs/2024/web.gz", 1000000, 15, "STANDARD"), 0);
	CHECK_INT(M("logs/2024/web.gz", 1000001, 15, "STANDARD"), 1);
	CHECK_INT(M("logs/2024/web.gz", 2000000, 15, "STANDARD"), 0);
	CHECK_INT(M("logs/2024/web.gz", 1500000, 10, "STANDARD"), 0);
	CHECK_INT(M("logs/2024/web.gz", 1500000, 20, "STANDARD"), 0);
	CHECK_INT(M("logs/2024/web.gz", 1500000, 15, "STANDARD_IA"), 0);
#undef M
	gen_spec_free(&gs);

	/* No common prefix: the whole bucket is listed. */
	CHECK_INT(parse("{\"KeyNameConstraint\":{\"MatchAnyPrefix\":"
	    "[\"a\",\"b\"]}}", NULL, &gs, &cause), 0);
	CHECK(gs.list_prefix == NULL);
	gen_spec_free(&gs);
}

/* A HEAD answer with the given headers (name, value, ..., NULL). */
static void
head_result(struct s3_result *r, struct http_response *resp,
    struct http_header *h, int status, const char *const *kv)
{
	size_t	n = 0;

	memset(r, 0, sizeof *r);
	memset(resp, 0, sizeof *resp);
	while (kv != NULL && kv[n * 2] != NULL) {
		h[n].name = (char *)(uintptr_t)kv[n * 2];
		h[n].value = (char *)(uintptr_t)kv[n * 2 + 1];
		n++;
	}
	resp->status = status;
	resp->headers = h;
	resp->nheaders = n;
	r->status = status;
	r->http = resp;
}

static void
test_head_filters(void)
{
	static const char *const kms[] = {
		"x-amz-server-side-encryption", "aws:kms",
		"x-amz-server-side-encryption-aws-kms-key-id", "k1",
		"x-amz-server-side-encryption-bucket-key-enabled", "true",
		NULL };
	static const char *const s3[] = {
		"x-amz-server-side-encryption", "AES256",
		"x-amz-replication-status", "COMPLETE", NULL };
	struct gen_spec		 gs;
	struct s3_result	 r;
	struct http_response	 resp;
	struct http_header	 h[8];
	char			*cause;

	CHECK_INT(parse("{\"MatchAnyObjectEncryption\":[{\"SSEKMS\":{"
	    "\"KmsKeyArn\":\"arn:aws:kms:us-east-1:123456789012:key/k1\","
	    "\"BucketKeyEnabled\":true}}]}", NULL, &gs, &cause), 0);
	head_result(&r, &resp, h, 200, kms);
	CHECK_INT(gen_match_head(&gs, &r), 1);
	head_result(&r, &resp, h, 200, s3);
	CHECK_INT(gen_match_head(&gs, &r), 0);
	gen_spec_free(&gs);

	CHECK_INT(parse("{\"MatchAnyObjectEncryption\":[{\"SSEC\":{}}]}",
	    NULL, &gs, &cause), 0);
	head_result(&r, &resp, h, 400, NULL);
	CHECK_INT(gen_match_head(&gs, &r), 1);
	head_result(&r, &resp, h, 200, NULL);
	CHECK_INT(gen_match_head(&gs, &r), 0);
	gen_spec_free(&gs);

	CHECK_INT(parse("{\"MatchAnyObjectEncryption\":[{\"NOTSSE\":{}}],"
	    "\"ObjectReplicationStatuses\":[\"NONE\"]}", NULL, &gs, &cause),
	    0);
	head_result(&r, &resp, h, 200, NULL);
	CHECK_INT(gen_match_head(&gs, &r), 1);
	head_result(&r, &resp, h, 200, s3);
	CHECK_INT(gen_match_head(&gs, &r), 0);
	gen_spec_free(&gs);

	CHECK_INT(parse("{\"ObjectReplicationStatuses\":[\"COMPLETED\"]}",
	    NULL, &gs, &cause), 0);
	head_result(&r, &resp, h, 200, s3);
	CHECK_INT(gen_match_head(&gs, &r), 1);
	gen_spec_free(&gs);

	CHECK_INT(gen_kms_key_match(NULL, NULL), 1);
	CHECK_INT(gen_kms_key_match("arn:aws:kms:r:1:key/abc", "abc"), 1);
	CHECK_INT(gen_kms_key_match("abc", "arn:aws:kms:r:1:key/abc"), 1);
	CHECK_INT(gen_kms_key_match("arn:aws:kms:r:1:key/abc", "xabc"), 0);
	CHECK_INT(gen_kms_key_match("abc", NULL), 0);
}

static void
test_replication_rules(void)
{
	static const char xml[] =
	    "<ReplicationConfiguration><Role>r</Role>"
	    "<Rule><Status>Enabled</Status><Priority>1</Priority>"
	    "<Filter><Prefix>a/</Prefix></Filter>"
	    "<Destination><Bucket>arn:aws:s3:::d</Bucket></Destination></Rule>"
	    "<Rule><Status>Enabled</Status><Priority>2</Priority>"
	    "<Filter><And><Prefix>b/</Prefix><Tag><Key>t</Key><Value>v</Value>"
	    "</Tag></And></Filter>"
	    "<Destination><Bucket>arn:aws:s3:::d</Bucket></Destination></Rule>"
	    "<Rule><Status>Disabled</Status><Priority>3</Priority>"
	    "<Filter><Prefix>c/</Prefix></Filter>"
	    "<Destination><Bucket>arn:aws:s3:::d</Bucket></Destination></Rule>"
	    "<Rule><Status>Enabled</Status><Prefix>old/</Prefix>"
	    "<Destination><Bucket>arn:aws:s3:::d</Bucket></Destination></Rule>"
	    "</ReplicationConfiguration>";
	struct s3xml_replication	 repl;
	struct s3xml_tagging		 t;
	char				*cause = NULL;

	memset(&repl, 0, sizeof repl);
	CHECK_INT(s3xml_parse_replication(xml, sizeof xml - 1, &repl, &cause),
	    0);
	free(cause);
	CHECK_INT(gen_match_rules(&repl, "a/x", 3), 1);
	CHECK_INT(gen_match_rules(&repl, "old/x", 5), 1);
	CHECK_INT(gen_match_rules(&repl, "b/x", 3), -1);
	CHECK_INT(gen_match_rules(&repl, "c/x", 3), 0);
	CHECK_INT(gen_match_rules(&repl, "d/x", 3), 0);
	memset(&t, 0, sizeof t);
	buf_adds(&t.tags[0].key, "other");
	buf_adds(&t.tags[0].value, "v");
	buf_adds(&t.tags[1].key, "t");
	buf_adds(&t.tags[1].value, "w");
	t.ntags = 2;
	CHECK_INT(gen_match_tags(&repl, "b/x", 3, &t), 0);
	buf_reset(&t.tags[1].value);
	buf_adds(&t.tags[1].value, "v");
	CHECK_INT(gen_match_tags(&repl, "b/x", 3, &t), 1);
	CHECK_INT(gen_match_tags(&repl, "c/x", 3, &t), 0);
	s3xml_tagging_free(&t);
	s3xml_replication_free(&repl);
}

static void
test_small_parts(void)
{
	struct buf	b;

	buf_init(&b);
	invreport_field(&b, "a\"b", 3, 0);
	invreport_field(&b, "", 0, 1);
	CHECK_STR(b.data, "\"a\"\"b\",\"\"\n");
	buf_reset(&b);
	buf_adds(&b, "<VersioningConfiguration><Status>Suspended</Status>"
	    "</VersioningConfiguration>");
	CHECK_INT(gen_versioning_status(&b), 1);
	buf_reset(&b);
	buf_adds(&b, "<VersioningConfiguration/>");
	CHECK_INT(gen_versioning_status(&b), 0);
	buf_free(&b);
}

int
main(void)
{
	test_check();
	test_listing_filters();
	test_head_filters();
	test_replication_rules();
	test_small_parts();
	return (unit_done("test-generator"));
}
