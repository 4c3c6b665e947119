/*
 * Unit tests for jobcaps.c (a job against an endpoint's capabilities) and
 * the capability names of s3-probe.c. The capabilities are written by hand
 * here, as Swift 2.30's s3api answered the probe; the probe itself runs
 * against RGW and Swift in tests/integration/test_swift_probe.py.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <json-c/json.h>

#include "s3batchd.h"
#include "cfg.h"
#include "s3.h"
#include "s3-probe.h"
#include "jobcaps.h"
#include "unit.h"

static void
caps_set(struct s3_caps *c, enum s3_cap cap, enum s3_cap_state st,
    const char *detail)
{
	free(c->cap[cap].detail);
	c->cap[cap].state = st;
	c->cap[cap].detail = detail != NULL ? xstrdup(detail) : NULL;
}

/* What Swift 2.30's s3api answered. */
static struct s3_caps *
caps_swift(void)
{
	struct s3_caps	*c;
	int		 i;

	c = xcalloc(1, sizeof *c);
	c->endpoint = xstrdup("swift");
	c->bucket = xstrdup("b");
	for (i = 0; i < S3_NCAPS; i++)
		caps_set(c, (enum s3_cap)i, S3_CAP_YES, "answered 200");
	caps_set(c, S3_CAP_TAGGING, S3_CAP_NO,
	    "PutObjectTagging answered 501 NotImplemented");
	caps_set(c, S3_CAP_ACL, S3_CAP_NO,
	    "PutObjectAcl answered 501 NotImplemented");
	caps_set(c, S3_CAP_OBJECT_LOCK, S3_CAP_NO, "GetObjectLockConfiguration"
	    " answered 200 with <ListBucketResult> instead of "
	    "<ObjectLockConfiguration> (the server ignores the subresource)");
	caps_set(c, S3_CAP_SC_GLACIER, S3_CAP_NO, "PutObject with "
	    "x-amz-storage-class answered 400 InvalidStorageClass");
	caps_set(c, S3_CAP_PART_NUMBER, S3_CAP_NO,
	    "HeadObject ?partNumber=1 answered 405 Http405");
	caps_set(c, S3_CAP_COPY_IF_MATCH_MPU, S3_CAP_NO, "CopyObject of a "
	    "multipart source with x-amz-copy-source-if-match answered 412 "
	    "PreconditionFailed");
	caps_set(c, S3_CAP_SSE_S3, S3_CAP_NO,
	    "PutObject with SSE-S3 answered 501 NotImplemented");
	caps_set(c, S3_CAP_SSE_KMS, S3_CAP_NO,
	    "PutObject with SSE-KMS answered 501 NotImplemented");
	caps_set(c, S3_CAP_VERSIONING, S3_CAP_UNKNOWN, NULL);
	return (c);
}

static char *
refusal(const char *spec_json, const struct s3_caps *caps)
{
	struct json_object	*spec;
	char			*r;

	spec = json_tokener_parse(spec_json);
	CHECK(spec != NULL);
	r = jobcaps_refusal(spec, caps);
	json_object_put(spec);
	return (r);
}

/* Whether the refusal contains needle. */
static int
refusal_has(const char *spec_json, const struct s3_caps *caps,
    const char *needle)
{
	char	*r = refusal(spec_json, caps);
	int	 found = r != NULL && strstr(r, needle) != NULL;

	free(r);
	return (found);
}

#define CHECK_REFUSAL(spec, caps, want) do {				\
	char *unit_r = refusal(spec, caps);				\
	CHECK_STR(unit_r != NULL ? unit_r : "(null)", want);		\
	free(unit_r);							\
} while (0)

#define MANIFEST "\"Manifest\":{\"Spec\":{\"Format\":"			\
	"\"S3BatchOperations_CSV_20180820\",\"Fields\":[\"Bucket\",\"Key\"]}}"

static void
test_operations(void)
{
	struct s3_caps	*c = caps_swift();

	CHECK_REFUSAL("{\"Operation\":{\"S3PutObjectTagging\":{\"TagSet\":"
	    "[]}}," MANIFEST "}", c, "endpoint swift does not support object "
	    "tagging (PutObjectTagging answered 501 NotImplemented)");
	CHECK_REFUSAL("{\"Operation\":{\"S3DeleteObjectTagging\":{}}}", c,
	    "endpoint swift does not support object tagging "
	    "(PutObjectTagging answered 501 NotImplemented)");
	CHECK_REFUSAL("{\"Operation\":{\"S3PutObjectAcl\":{}}}", c,
	    "endpoint swift does not support object ACLs "
	    "(PutObjectAcl answered 501 NotImplemented)");
	CHECK_REFUSAL("{\"Operation\":{\"S3PutObjectRetention\":{}}}", c,
	    "endpoint swift does not support Object Lock "
	    "(GetObjectLockConfiguration answered 200 with <ListBucketResult> "
	    "instead of <ObjectLockConfiguration> (the server ignores the "
	    "subresource))");
	CHECK(refusal_has("{\"Operation\":{\"S3PutObjectLegalHold\":{}}}",
	    c, "Object Lock"));
	/* What Swift does, and what the operations absorb, runs. */
	CHECK_REFUSAL("{\"Operation\":{\"S3PutObjectCopy\":{"
	    "\"TargetResource\":\"arn:aws:s3:::t\"}}}", c, "(null)");
	CHECK_REFUSAL("{\"Operation\":{\"S3ComputeObjectChecksum\":{"
	    "\"ChecksumAlgorithm\":\"CRC32\",\"ChecksumType\":\"COMPOSITE\"}}}",
	    c, "(null)");
	CHECK_REFUSAL("{\"Operation\":{\"S3DeleteObject\":{}}}", c, "(null)");
	CHECK_REFUSAL("{\"Operation\":{\"LambdaInvoke\":{}}}", c, "(null)");
	/* No operation, two operations, no caps: nothing to say. */
	CHECK_REFUSAL("{}", c, "(null)");
	CHECK_REFUSAL("{\"Operation\":{\"S3PutObjectAcl\":{},"
	    "\"S3PutObjectTagging\":{}}}", c, "(null)");
	CHECK(jobcaps_refusal(NULL, c) == NULL);
	s3_caps_free(c);
}

static void
test_copy_parameters(void)
{
	struct s3_caps	*c = caps_swift();

	CHECK_REFUSAL("{\"Operation\":{\"S3PutObjectCopy\":{"
	    "\"TargetResource\":\"arn:aws:s3:::t\",\"StorageClass\":"
	    "\"GLACIER\"}}}", c, "endpoint swift does not support storage "
	    "class GLACIER, which S3PutObjectCopy asks for with StorageClass "
	    "(PutObject with x-amz-storage-class answered 400 "
	    "InvalidStorageClass)");
	/* STANDARD always; a class probed YES runs. */
	CHECK_REFUSAL("{\"Operation\":{\"S3PutObjectCopy\":{"
	    "\"StorageClass\":\"STANDARD\"}}}", c, "(null)");
	CHECK_REFUSAL("{\"Operation\":{\"S3PutObjectCopy\":{"
	    "\"StorageClass\":\"STANDARD_IA\"}}}", c, "(null)");
	CHECK_REFUSAL("{\"Operation\":{\"S3PutObjectCopy\":{"
	    "\"NewObjectTagging\":[{\"Key\":\"k\",\"Value\":\"v\"}]}}}", c,
	    "endpoint swift does not support object tagging, which "
	    "S3PutObjectCopy asks for with NewObjectTagging (PutObjectTagging "
	    "answered 501 NotImplemented)");
	/* An empty tag set asks for nothing. */
	CHECK_REFUSAL("{\"Operation\":{\"S3PutObjectCopy\":{"
	    "\"NewObjectTagging\":[]}}}", c, "(null)");
	CHECK(refusal_has("{\"Operation\":{\"S3PutObjectCopy\":{"
	    "\"CannedAccessControlList\":\"private\"}}}", c,
	    "object ACLs, which S3PutObjectCopy asks for with "
	    "CannedAccessControlList"));
	CHECK(refusal_has("{\"Operation\":{\"S3PutObjectCopy\":{"
	    "\"ObjectLockMode\":\"GOVERNANCE\"}}}", c, "Object Lock"));
	CHECK_REFUSAL("{\"Operation\":{\"S3PutObjectCopy\":{"
	    "\"NewObjectMetadata\":{\"SSEAlgorithm\":\"AES256\"}}}}", c,
	    "endpoint swift does not support server-side encryption (SSE-S3), "
	    "which S3PutObjectCopy asks for with "
	    "NewObjectMetadata.SSEAlgorithm (PutObject with SSE-S3 answered "
	    "501 NotImplemented)");
	/* KMS is not probed: no refusal from the SSE-S3 answer. */
	CHECK_REFUSAL("{\"Operation\":{\"S3PutObjectCopy\":{"
	    "\"NewObjectMetadata\":{\"SSEAlgorithm\":\"KMS\"}}}}", c,
	    "(null)");
	/* Re-encryption needs SSE-KMS; UNKNOWN (RGW: a key id needed) runs. */
	CHECK_REFUSAL("{\"Operation\":{\"S3UpdateObjectEncryption\":{"
	    "\"ObjectEncryption\":{\"SSEKMS\":{\"KMSKeyArn\":\"k\"}}}}}", c,
	    "endpoint swift does not support server-side encryption with KMS "
	    "keys (SSE-KMS), which S3UpdateObjectEncryption needs (PutObject "
	    "with SSE-KMS answered 501 NotImplemented)");
	caps_set(c, S3_CAP_SSE_KMS, S3_CAP_UNKNOWN, "PutObject with SSE-KMS "
	    "answered 400 InvalidArgument");
	CHECK_REFUSAL("{\"Operation\":{\"S3UpdateObjectEncryption\":{"
	    "\"ObjectEncryption\":{\"SSEKMS\":{\"KMSKeyArn\":\"k\"}}}}}", c,
	    "(null)");
	s3_caps_free(c);
}

static void
test_unknown_and_versions(void)
{
	struct s3_caps	*c = caps_swift();
	const char	*versioned = "{\"Operation\":{\"S3PutObjectCopy\":{}},"
	    "\"Manifest\":{\"Spec\":{\"Fields\":[\"Bucket\",\"Key\","
	    "\"VersionId\"]}}}";

	/* UNKNOWN never refuses. */
	CHECK_REFUSAL(versioned, c, "(null)");
	caps_set(c, S3_CAP_VERSIONING, S3_CAP_NO,
	    "GetBucketVersioning answered 501 NotImplemented");
	CHECK_REFUSAL(versioned, c, "endpoint swift does not support bucket "
	    "versioning, which the manifest needs for its VersionId field "
	    "(GetBucketVersioning answered 501 NotImplemented)");
	caps_set(c, S3_CAP_TAGGING, S3_CAP_UNKNOWN, "got no answer");
	CHECK_REFUSAL("{\"Operation\":{\"S3PutObjectTagging\":{}}}", c,
	    "(null)");
	s3_caps_free(c);
}

static void
test_bucket(void)
{
	struct json_object	*s;
	char			*b;

	s = json_tokener_parse("{\"Operation\":{\"S3PutObjectCopy\":{"
	    "\"TargetResource\":\"arn:aws:s3:::target-b\"}}}");
	b = jobcaps_bucket(s);
	CHECK_STR(b != NULL ? b : "(null)", "target-b");
	free(b);
	json_object_put(s);
	s = json_tokener_parse("{\"Operation\":{\"S3PutObjectTagging\":{}},"
	    "\"ManifestGenerator\":{\"S3JobManifestGenerator\":{"
	    "\"SourceBucket\":\"arn:aws:s3:::src-b\"}}}");
	b = jobcaps_bucket(s);
	CHECK_STR(b != NULL ? b : "(null)", "src-b");
	free(b);
	json_object_put(s);
	s = json_tokener_parse("{\"Operation\":{\"S3PutObjectTagging\":{}}}");
	CHECK(jobcaps_bucket(s) == NULL);
	json_object_put(s);
}

static void
test_names(void)
{
	struct s3_caps	*c, *d;
	struct s3_caps_cache *cache;
	int		 i;

	for (i = 0; i < S3_NCAPS; i++) {
		CHECK(s3_cap_name((enum s3_cap)i) != NULL);
		CHECK(strcmp(s3_cap_name((enum s3_cap)i), "?") != 0);
		CHECK(strcmp(s3_cap_what((enum s3_cap)i), "?") != 0);
	}
	CHECK_INT(s3_cap_storage_class("GLACIER"), S3_CAP_SC_GLACIER);
	CHECK_INT(s3_cap_storage_class("STANDARD"), -1);
	CHECK_INT(s3_cap_storage_class("PLATINUM"), -1);
	CHECK_STR(s3_cap_state_name(S3_CAP_NO), "no");
	CHECK_STR(s3_cap_name(S3_CAP_SC_GLACIER_IR), "StorageClass.GLACIER_IR");

	c = caps_swift();
	cache = s3_caps_cache_new();
	CHECK(s3_caps_cache_get(cache, "swift") == NULL);
	s3_caps_cache_put(cache, c);
	s3_caps_cache_put(cache, c);	/* replaces, does not add */
	CHECK(s3_caps_cache_get(cache, "swift") != NULL);
	CHECK(s3_caps_cache_get(cache, "swift") != c);
	CHECK_STR(s3_caps_cache_get(cache, "swift")->cap[S3_CAP_TAGGING].detail,
	    "PutObjectTagging answered 501 NotImplemented");
	d = s3_caps_copy(c);
	CHECK_INT(d->cap[S3_CAP_TAGGING].state, S3_CAP_NO);
	s3_caps_free(d);
	s3_caps_free(c);
	s3_caps_cache_free(cache);
}

struct outcome {
	int	 called;
	char	*why;
};

static void
check_done_cb(const char *why, void *arg)
{
	struct outcome	*o = arg;

	o->called++;
	o->why = why != NULL ? xstrdup(why) : NULL;
}

/*
 * jobcaps_check_start without a network: a cached endpoint answers from
 * the cache, a bucket on no endpoint lets the job run (its tasks fail
 * NoSuchEndpoint); neither calls back before returning.
 */
static void
test_check_start(void)
{
	const char		*text = "[endpoint swift]\n"
	    "url = http://127.0.0.1:1\naccess_key_id = AK\n"
	    "secret_access_key = SK\n\n[bucket b]\nendpoint = swift\n";
	struct event_base	*base;
	struct cfg		*cfg;
	struct s3		*s3;
	struct s3_caps_cache	*cache;
	struct s3_caps		*c;
	struct json_object	*spec;
	struct outcome		 o;
	char			*cause = NULL;

	base = event_base_new();
	cfg = cfg_load_buffer("test-jobcaps.conf", text, strlen(text), &cause);
	CHECK(cfg != NULL);
	if (cfg == NULL) {
		fprintf(stderr, "config: %s\n", cause);
		return;
	}
	s3 = s3_new(base, cfg, &cause);
	CHECK(s3 != NULL);
	cache = s3_caps_cache_new();
	c = caps_swift();
	s3_caps_cache_put(cache, c);
	s3_caps_free(c);
	spec = json_tokener_parse("{\"Operation\":{\"S3PutObjectTagging\":"
	    "{\"TagSet\":[]}}}");

	memset(&o, 0, sizeof o);
	jobcaps_check_start(base, s3, cache, spec, "b", check_done_cb, &o);
	CHECK_INT(o.called, 0);
	event_base_dispatch(base);
	CHECK_INT(o.called, 1);
	CHECK_STR(o.why != NULL ? o.why : "(null)", "endpoint swift does not "
	    "support object tagging (PutObjectTagging answered 501 "
	    "NotImplemented)");
	free(o.why);

	memset(&o, 0, sizeof o);
	jobcaps_check_start(base, s3, cache, spec, "nowhere", check_done_cb,
	    &o);
	CHECK_INT(o.called, 0);
	event_base_dispatch(base);
	CHECK_INT(o.called, 1);
	CHECK(o.why == NULL);

	/* Cancelled: no callback, nothing leaks. */
	memset(&o, 0, sizeof o);
	jobcaps_check_cancel(jobcaps_check_start(base, s3, cache, spec, "b",
	    check_done_cb, &o));
	event_base_dispatch(base);
	CHECK_INT(o.called, 0);

	json_object_put(spec);
	s3_caps_cache_free(cache);
	s3_free(s3);
	cfg_free(cfg);
	event_base_free(base);
}

int
main(void)
{
	test_check_start();
	test_operations();
	test_copy_parameters();
	test_unknown_and_versions();
	test_bucket();
	test_names();
	return (unit_done("test-jobcaps"));
}
