/*
 * Unit tests for model.c (the service-model validator), jobspec.c and
 * jobcheck.c, the one CreateJob validation the daemon runs.
 */
#include <json-c/json.h>

#include "s3batchd.h"
#include "model.h"
#include "jobspec.h"
#include "jobcheck.h"
#include "unit.h"

#define J unit_json

/* A valid tagging job, the base that the cases below change. */
static const char *base_job =
    "{ 'AccountId': '123456789012',"
    "  'ClientRequestToken': '6f2f5a5e-1c0e-4c67-a1a4-4a3e0bd1b8a1',"
    "  'ConfirmationRequired': true,"
    "  'Operation': { 'S3PutObjectTagging': { 'TagSet': ["
    "    { 'Key': 'a', 'Value': '1' }, { 'Key': 'b', 'Value': '2' } ] } },"
    "  'Report': { 'Bucket': 'arn:aws:s3:::reports', 'Prefix': 'batch',"
    "    'Format': 'Report_CSV_20180820', 'Enabled': true,"
    "    'ReportScope': 'AllTasks' },"
    "  'Manifest': {"
    "    'Spec': { 'Format': 'S3BatchOperations_CSV_20180820',"
    "      'Fields': [ 'Bucket', 'Key' ] },"
    "    'Location': { 'ObjectArn': 'arn:aws:s3:::manifests/list.csv',"
    "      'ETag': '60e460c9d1046e73f7dde5043ac3ae85' } },"
    "  'Priority': 10,"
    "  'RoleArn': 'arn:aws:iam::123456789012:role/batch',"
    "  'Description': 'tag things',"
    "  'Tags': [ { 'Key': 'team', 'Value': 'storage' } ] }";

/*
 * Set (or with value NULL delete) the member at a path like
 * "Operation.S3PutObjectTagging.TagSet[1].Key". Intermediate objects are
 * made as needed.
 */
static void
set_path(struct json_object *root, const char *path, const char *value)
{
	struct json_object	*cur = root, *next, *v;
	char			*copy, *seg, *rest, *br;
	size_t			 idx;
	int			 last;

	copy = xstrdup(path);
	rest = copy;
	while ((seg = strsep(&rest, ".")) != NULL) {
		last = rest == NULL;
		br = strchr(seg, '[');
		if (br != NULL)
			*br = '\0';
		if (!json_object_object_get_ex(cur, seg, &next)) {
			if (last && br == NULL && value == NULL)
				break;
			next = json_object_new_object();
			json_object_object_add(cur, seg, next);
		}
		if (br == NULL) {
			if (last) {
				if (value == NULL)
					json_object_object_del(cur, seg);
				else
					json_object_object_add(cur, seg,
					    J(value));
				break;
			}
			cur = next;
			continue;
		}
		idx = strtoul(br + 1, NULL, 10);
		if (last) {
			if (value == NULL)
				json_object_array_del_idx(next, idx, 1);
			else {
				v = J(value);
				json_object_array_put_idx(next, idx, v);
			}
			break;
		}
		cur = json_object_array_get_idx(next, idx);
	}
	free(copy);
}

static void
expect(const char *shape, struct json_object *v, const char *want, int line)
{
	char	*cause = NULL;
	int	 r;

	r = model_validate(shape, v, &cause);
	if (want == NULL) {
		if (r != 0)
			fprintf(stderr, "line %d: unexpected: %s\n", line, cause);
		CHECK_INT(r, 0);
	} else {
		if (r == 0)
			fprintf(stderr, "line %d: passed, wanted %s\n", line,
			    want);
		CHECK_INT(r, -1);
		if (r != 0 && strcmp(cause, want) != 0)
			fprintf(stderr, "case at %d:\n", line);
		if (r != 0)
			CHECK_STR(cause, want);
	}
	free(cause);
}

#define EXPECT(shape, json, want) do {					\
	struct json_object *expect_v = J(json);				\
	CHECK(expect_v != NULL);					\
	expect((shape), expect_v, (want), __LINE__);			\
	json_object_put(expect_v);					\
} while (0)

/* Changes to the base job that the model must reject (or accept). */
static const struct mutation {
	const char	*path;
	const char	*value;		/* NULL: delete */
	const char	*cause;		/* NULL: still valid */
} model_mutations[] = {
	/* Unknown fields, at every depth. */
	{ "Foo", "1", "Foo: unknown field" },
	{ "Operation.S3PutObjectTagging.Bar", "{}",
	  "Operation.S3PutObjectTagging.Bar: unknown field" },
	{ "Report.bucket", "'x'", "Report.bucket: unknown field" },
	{ "Manifest.Spec.Fields", "['Bucket','Key']", NULL },
	{ "a b", "1", "[\"a b\"]: unknown field" },
	/* Required members. */
	{ "Manifest.Spec.Format", NULL, "Manifest.Spec.Format: required" },
	{ "Manifest.Spec", NULL, "Manifest.Spec: required" },
	{ "Manifest.Location", NULL, "Manifest.Location: required" },
	{ "Manifest.Location.ETag", NULL, "Manifest.Location.ETag: required" },
	{ "Manifest.Location.ObjectArn", NULL,
	  "Manifest.Location.ObjectArn: required" },
	{ "RoleArn", NULL, "RoleArn: required" },
	{ "Priority", NULL, "Priority: required" },
	{ "Report", NULL, "Report: required" },
	{ "Report.Enabled", NULL, "Report.Enabled: required" },
	{ "Operation", NULL, "Operation: required" },
	{ "Operation.S3PutObjectTagging.TagSet[1].Value", NULL,
	  "Operation.S3PutObjectTagging.TagSet[1].Value: required" },
	/* Relaxed: filled in by the client or the daemon, or ignored. */
	{ "AccountId", NULL, NULL },
	{ "ClientRequestToken", NULL, NULL },
	{ "Description", NULL, NULL },
	{ "Tags", NULL, NULL },
	{ "ConfirmationRequired", NULL, NULL },
	/* Types. */
	{ "Priority", "'10'", "Priority: expected an integer" },
	{ "Priority", "10.0", "Priority: expected an integer" },
	{ "Priority", "true", "Priority: expected an integer" },
	{ "Priority", "null", "Priority: expected an integer" },
	{ "ConfirmationRequired", "'true'",
	  "ConfirmationRequired: expected true or false" },
	{ "ConfirmationRequired", "1",
	  "ConfirmationRequired: expected true or false" },
	{ "Description", "5", "Description: expected a string" },
	{ "Description", "null", "Description: expected a string" },
	{ "Operation", "'S3PutObjectTagging'", "Operation: expected an object" },
	{ "Tags", "{}", "Tags: expected an array" },
	{ "Manifest.Spec.Fields", "'Bucket,Key'",
	  "Manifest.Spec.Fields: expected an array" },
	{ "Manifest.Spec.Fields[1]", "3",
	  "Manifest.Spec.Fields[1]: expected a string" },
	/* Integer bounds. */
	{ "Priority", "0", NULL },
	{ "Priority", "2147483647", NULL },
	{ "Priority", "-1", "Priority: -1 is below the minimum of 0" },
	{ "Priority", "2147483648",
	  "Priority: 2147483648 is out of range for an integer" },
	{ "Priority", "99999999999999999999",
	  "Priority: 18446744073709551615 is out of range" },
	/* String lengths, in characters. */
	{ "Description", "''",
	  "Description: length 0 is below the minimum of 1" },
	{ "ClientRequestToken",
	  "'0123456789012345678901234567890123456789012345678901234567890123'",
	  NULL },
	{ "ClientRequestToken",
	  "'01234567890123456789012345678901234567890123456789012345678901234'",
	  "ClientRequestToken: length 65 is above the maximum of 64" },
	{ "Operation.S3PutObjectTagging.TagSet[1].Key", "''",
	  "Operation.S3PutObjectTagging.TagSet[1].Key: length 0 is below the "
	  "minimum of 1" },
	{ "Operation.S3PutObjectTagging.TagSet[1].Value", "''", NULL },
	{ "Report.Prefix", "''", "Report.Prefix: length 0 is below the "
	  "minimum of 1" },
	/* Enums, exact and case-sensitive. */
	{ "Report.Format", "'CSV'",
	  "Report.Format: \"CSV\" is not one of Report_CSV_20180820" },
	{ "Report.ReportScope", "'alltasks'",
	  "Report.ReportScope: \"alltasks\" is not one of AllTasks, "
	  "FailedTasksOnly" },
	{ "Report.ReportScope", "'FailedTasksOnly'", NULL },
	{ "Manifest.Spec.Format", "'S3BatchOperations_CSV_20180820 '",
	  "Manifest.Spec.Format: \"S3BatchOperations_CSV_20180820 \" is not "
	  "one of S3BatchOperations_CSV_20180820, "
	  "S3InventoryReport_CSV_20161130" },
	{ "Manifest.Spec.Fields[2]", "'Version'",
	  "Manifest.Spec.Fields[2]: \"Version\" is not one of Ignore, Bucket, "
	  "Key, VersionId" },
	/* Patterns. */
	{ "AccountId", "'12345678901'", "AccountId: \"12345678901\" does not "
	  "match the pattern ^\\d{12}$" },
	{ "AccountId", "'1234567890123'", "AccountId: \"1234567890123\" does "
	  "not match the pattern ^\\d{12}$" },
	{ "RoleArn", "'arn:aws:iam::1234:role/x'",
	  "RoleArn: \"arn:aws:iam::1234:role/x\" does not match the pattern "
	  "arn:[^:]+:iam::\\d{12}:role/.*" },
	{ "RoleArn", "'arn:aws-cn:iam::123456789012:role/path/name'", NULL },
	{ "Report.Bucket", "'reports'", "Report.Bucket: \"reports\" does not "
	  "match the pattern arn:[^:]+:s3:.*" },
	{ "Tags[0].Key", "'a*b'", "Tags[0].Key: \"a*b\" does not match the "
	  "pattern ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$" },
	{ "Tags[0].Key", "'a b_c.d:e/f=g+h-i@j'", NULL },
	{ "Tags[0].Key", "'\\u043a\\u043b\\u044e\\u0447 9'", NULL },
	{ "Tags[0].Key", "'\\u043a\\u043b\\u044e\\u0447*'",
	  "Tags[0].Key: \"\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87*\" does not match "
	  "the pattern ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$" },
	{ "Tags[0].Value", "'tab\\there'", "Tags[0].Value: \"tab\\x09here\" "
	  "does not match the pattern ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$" },
	/* Strings a C program could not hold. */
	{ "Description", "'a\\u0000b'",
	  "Description: contains a NUL character" },
	/* Unions. */
	{ "Operation.S3DeleteObjectTagging", "{}",
	  "Operation: only one member may be set, not both "
	  "S3DeleteObjectTagging and S3PutObjectTagging" },
	{ "Operation", "{}", "Operation: exactly one member must be set, one "
	  "of LambdaInvoke, S3ComputeObjectChecksum, S3DeleteObject, "
	  "S3DeleteObjectTagging, S3InitiateRestoreObject, S3PutObjectAcl, "
	  "S3PutObjectCopy, "
	  "S3PutObjectLegalHold, S3PutObjectRetention, S3PutObjectTagging, "
	  "S3ReplicateObject, S3UpdateObjectEncryption" },
	{ "ManifestGenerator", "{}", "ManifestGenerator: exactly one member "
	  "must be set, one of S3JobManifestGenerator" },
	/* Lists of structures, deep paths. */
	{ "Operation", "{ 'S3PutObjectCopy': { 'Foo': 1 } }",
	  "Operation.S3PutObjectCopy.Foo: unknown field" },
	{ "Operation.S3PutObjectTagging.TagSet", "[ { 'Key': 'a', 'Value': "
	  "'' }, { 'Key': 'b', 'Value': '' }, { 'Key': 'c', 'Value': '' }, "
	  "{ 'Key': '', 'Value': '' } ]", "Operation.S3PutObjectTagging."
	  "TagSet[3].Key: length 0 is below the minimum of 1" },
	{ "Operation.S3PutObjectTagging.TagSet[2]", "{'Key':'c','Value':'3'}",
	  NULL },
	{ "Operation.S3PutObjectTagging.TagSet[1]", "'x'",
	  "Operation.S3PutObjectTagging.TagSet[1]: expected an object" },
	{ "Operation.S3PutObjectTagging.TagSet[1].Colour", "'red'",
	  "Operation.S3PutObjectTagging.TagSet[1].Colour: unknown field" },
};

static void
test_mutations(void)
{
	struct json_object	*v;
	size_t			 i;

	v = J(base_job);
	CHECK(v != NULL);
	expect("CreateJobRequest", v, NULL, __LINE__);
	json_object_put(v);

	for (i = 0; i < nitems(model_mutations); i++) {
		v = J(base_job);
		set_path(v, model_mutations[i].path, model_mutations[i].value);
		expect("CreateJobRequest", v, model_mutations[i].cause,
		    (int)i);
		json_object_put(v);
	}
}

static void
test_unicode_lengths(void)
{
	struct json_object	*v;
	struct buf		 b;
	int			 i;

	/* 256 two-byte characters: 512 bytes but within the 256 limit. */
	buf_init(&b);
	for (i = 0; i < 256; i++)
		buf_adds(&b, "\xc3\xa9");
	v = J(base_job);
	json_object_object_add(v, "Description",
	    json_object_new_string(b.data));
	expect("CreateJobRequest", v, NULL, __LINE__);
	buf_adds(&b, "\xc3\xa9");
	json_object_object_add(v, "Description",
	    json_object_new_string(b.data));
	expect("CreateJobRequest", v, "Description: length 257 is above the "
	    "maximum of 256", __LINE__);

	/* Four-byte characters count once each too. */
	buf_reset(&b);
	for (i = 0; i < 256; i++)
		buf_adds(&b, "\xf0\x9f\x93\xa6");
	json_object_object_add(v, "Description",
	    json_object_new_string(b.data));
	expect("CreateJobRequest", v, NULL, __LINE__);

	/* Bytes that are not UTF-8. */
	json_object_object_add(v, "Description",
	    json_object_new_string_len("ab\xff", 3));
	expect("CreateJobRequest", v, "Description: is not valid UTF-8",
	    __LINE__);

	/* A long bad value is cut in the message. */
	buf_reset(&b);
	for (i = 0; i < 100; i++)
		buf_addc(&b, 'x');
	json_object_object_add(v, "Description", json_object_new_string(""));
	json_object_object_add(v, "RoleArn", json_object_new_string(b.data));
	expect("CreateJobRequest", v, "RoleArn: \"xxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...\" does not match the "
	    "pattern arn:[^:]+:iam::\\d{12}:role/.*", __LINE__);
	json_object_put(v);
	buf_free(&b);
}

static void
test_maps(void)
{
	static const char *lambda = "{ 'FunctionArn': "
	    "'arn:aws:lambda:us-east-1:123456789012:function:f',"
	    "'InvocationSchemaVersion': '2.0' }";
	static const struct {
		const char	*args;
		const char	*cause;
	} cases[] = {
		{ "{ 'k': 'v' }", NULL },
		{ "{ 'k': '' }", NULL },
		{ "{}", "Operation.LambdaInvoke.UserArguments: size 0 is below "
		  "the minimum of 1" },
		{ "{ '': 'v' }", "Operation.LambdaInvoke.UserArguments: key \"\": "
		  "length 0 is below the minimum of 1" },
		{ "{ 'k': 5 }", "Operation.LambdaInvoke.UserArguments[\"k\"]: "
		  "expected a string" },
		{ "{ 'a.b': null }", "Operation.LambdaInvoke.UserArguments"
		  "[\"a.b\"]: expected a string" },
		{ "{ '1':'','2':'','3':'','4':'','5':'','6':'','7':'','8':'',"
		  "'9':'','10':'','11':'' }", "Operation.LambdaInvoke."
		  "UserArguments: size 11 is above the maximum of 10" },
		{ "[]", "Operation.LambdaInvoke.UserArguments: expected an "
		  "object" },
	};
	struct json_object	*v;
	struct buf		 b;
	size_t			 i;

	for (i = 0; i < nitems(cases); i++) {
		v = J(base_job);
		set_path(v, "Operation", "{}");
		set_path(v, "Operation.LambdaInvoke", lambda);
		set_path(v, "Operation.LambdaInvoke.UserArguments",
		    cases[i].args);
		expect("CreateJobRequest", v, cases[i].cause, __LINE__);
		json_object_put(v);
	}

	/* Long key and long value in S3UserMetadata. */
	buf_init(&b);
	for (i = 0; i < 1025; i++)
		buf_addc(&b, 'v');
	v = J(base_job);
	set_path(v, "Operation", "{ 'S3PutObjectCopy': { 'TargetResource': "
	    "'arn:aws:s3:::dest', 'NewObjectMetadata': { 'UserMetadata': {} } "
	    "} }");
	expect("CreateJobRequest", v, NULL, __LINE__);
	json_object_object_add(json_object_object_get(json_object_object_get(
	    json_object_object_get(json_object_object_get(v, "Operation"),
	    "S3PutObjectCopy"), "NewObjectMetadata"), "UserMetadata"), "color",
	    json_object_new_string(b.data));
	expect("CreateJobRequest", v, "Operation.S3PutObjectCopy."
	    "NewObjectMetadata.UserMetadata[\"color\"]: length 1025 is above "
	    "the maximum of 1024", __LINE__);
	json_object_put(v);
	buf_free(&b);
}

static void
test_lists_and_generator(void)
{
	static const char *gen = "{ 'S3JobManifestGenerator': {"
	    "'SourceBucket': 'arn:aws:s3:::source',"
	    "'EnableManifestOutput': false,"
	    "'Filter': {} } }";
	static const struct {
		const char	*list;
		const char	*cause;
	} cases[] = {
		{ "[ { 'SSES3': {} } ]", NULL },
		{ "[ { 'SSEKMS': { 'KmsKeyArn': 'arn:aws:kms:us-east-1:"
		  "123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab' } } ]",
		  NULL },
		{ "[ { 'SSEKMS': { 'KmsKeyArn': 'arn:aws:kms:us-east-1:"
		  "123456789012:alias/x' } } ]",
		  "ManifestGenerator.S3JobManifestGenerator.Filter."
		  "MatchAnyObjectEncryption[0].SSEKMS.KmsKeyArn: \"arn:aws:kms:"
		  "us-east-1:123456789012:alias/x\" does not match the pattern "
		  "arn:aws[a-zA-Z0-9-]*:kms:[a-z0-9-]+:[0-9]{12}:key/"
		  "[a-zA-Z0-9-]+" },
		{ "[]", "ManifestGenerator.S3JobManifestGenerator.Filter."
		  "MatchAnyObjectEncryption: size 0 is below the minimum of 1" },
		{ "[ { 'SSES3': {} }, { 'NOTSSE': {} } ]",
		  "ManifestGenerator.S3JobManifestGenerator.Filter."
		  "MatchAnyObjectEncryption: size 2 is above the maximum of 1" },
		{ "[ { 'SSES3': {}, 'SSEC': {} } ]",
		  "ManifestGenerator.S3JobManifestGenerator.Filter."
		  "MatchAnyObjectEncryption[0]: only one member may be set, not "
		  "both SSEC and SSES3" },
		{ "[ {} ]", "ManifestGenerator.S3JobManifestGenerator.Filter."
		  "MatchAnyObjectEncryption[0]: exactly one member must be set, "
		  "one of DSSEKMS, NOTSSE, SSEC, SSEKMS, SSES3" },
		{ "[ { 'SSE-S3': {} } ]", "ManifestGenerator."
		  "S3JobManifestGenerator.Filter.MatchAnyObjectEncryption[0]."
		  "SSE-S3: unknown field" },
	};
	struct json_object	*v;
	size_t			 i;

	for (i = 0; i < nitems(cases); i++) {
		v = J(base_job);
		set_path(v, "Manifest", NULL);
		set_path(v, "ManifestGenerator", gen);
		set_path(v, "ManifestGenerator.S3JobManifestGenerator.Filter."
		    "MatchAnyObjectEncryption", cases[i].list);
		expect("CreateJobRequest", v, cases[i].cause, __LINE__);
		json_object_put(v);
	}
}

static void
test_timestamps_and_longs(void)
{
	static const struct {
		const char	*path;
		const char	*value;
		const char	*cause;
	} cases[] = {
		{ "Retention.RetainUntilDate", "'2030-01-01T00:00:00Z'", NULL },
		{ "Retention.RetainUntilDate", "'2030-01-01T00:00:00.123+02:00'",
		  NULL },
		{ "Retention.RetainUntilDate", "'2030-01-01'", NULL },
		{ "Retention.RetainUntilDate", "1893456000", NULL },
		{ "Retention.RetainUntilDate", "1893456000.5", NULL },
		{ "Retention.RetainUntilDate", "'tomorrow'",
		  "Operation.S3PutObjectRetention.Retention.RetainUntilDate: "
		  "\"tomorrow\" is not an ISO 8601 time" },
		{ "Retention.RetainUntilDate", "'2030-02-30T00:00:00Z'",
		  "Operation.S3PutObjectRetention.Retention.RetainUntilDate: "
		  "\"2030-02-30T00:00:00Z\" is not an ISO 8601 time" },
		{ "Retention.RetainUntilDate", "true",
		  "Operation.S3PutObjectRetention.Retention.RetainUntilDate: "
		  "expected a timestamp (an ISO 8601 string or seconds since the "
		  "epoch)" },
		{ "Retention.Mode", "'governance'",
		  "Operation.S3PutObjectRetention.Retention.Mode: \"governance\" "
		  "is not one of COMPLIANCE, GOVERNANCE" },
		{ "BypassGovernanceRetention", "'yes'",
		  "Operation.S3PutObjectRetention.BypassGovernanceRetention: "
		  "expected true or false" },
		{ "Retention", NULL,
		  "Operation.S3PutObjectRetention.Retention: required" },
	};
	static const struct {
		const char	*value;
		const char	*cause;
	} sizes[] = {
		{ "0", NULL },
		{ "-5", NULL },
		{ "9223372036854775807", NULL },
		{ "'5'", "ManifestGenerator.S3JobManifestGenerator.Filter."
		  "ObjectSizeGreaterThanBytes: expected an integer" },
		{ "18446744073709551615", "ManifestGenerator."
		  "S3JobManifestGenerator.Filter.ObjectSizeGreaterThanBytes: "
		  "18446744073709551615 is out of range" },
	};
	struct json_object	*v;
	struct buf		 b;
	size_t			 i;

	for (i = 0; i < nitems(cases); i++) {
		v = J(base_job);
		set_path(v, "Operation", "{ 'S3PutObjectRetention': { "
		    "'BypassGovernanceRetention': true, 'Retention': { "
		    "'Mode': 'GOVERNANCE' } } }");
		buf_init(&b);
		buf_addf(&b, "Operation.S3PutObjectRetention.%s",
		    cases[i].path);
		set_path(v, b.data, cases[i].value);
		expect("CreateJobRequest", v, cases[i].cause, __LINE__);
		buf_free(&b);
		json_object_put(v);
	}
	for (i = 0; i < nitems(sizes); i++) {
		v = J(base_job);
		set_path(v, "Manifest", NULL);
		set_path(v, "ManifestGenerator", "{ 'S3JobManifestGenerator': {"
		    "'SourceBucket': 'arn:aws:s3:::source',"
		    "'EnableManifestOutput': false } }");
		set_path(v, "ManifestGenerator.S3JobManifestGenerator.Filter."
		    "ObjectSizeGreaterThanBytes", sizes[i].value);
		expect("CreateJobRequest", v, sizes[i].cause, __LINE__);
		json_object_put(v);
	}
	v = J(base_job);
	set_path(v, "Operation", "{ 'S3PutObjectCopy': { 'NewObjectMetadata':"
	    " { 'ContentLength': -1 } } }");
	expect("CreateJobRequest", v, "Operation.S3PutObjectCopy."
	    "NewObjectMetadata.ContentLength: -1 is below the minimum of 0",
	    __LINE__);
	json_object_put(v);
}

static void
test_other_requests(void)
{
	EXPECT("DescribeJobRequest", "{ 'JobId': 'abcde' }", NULL);
	EXPECT("DescribeJobRequest", "{ 'AccountId': '123456789012', "
	    "'JobId': '9d2f4e2b-3c1a-4f0e-8b7d-6a5c4b3a2f10' }", NULL);
	EXPECT("DescribeJobRequest", "{}", "JobId: required");
	EXPECT("DescribeJobRequest", "{ 'JobId': 'abc' }",
	    "JobId: length 3 is below the minimum of 5");
	EXPECT("DescribeJobRequest", "{ 'JobId': '!!!!!' }",
	    "JobId: \"!!!!!\" does not match the pattern [a-zA-Z0-9\\-\\_]+");
	EXPECT("DescribeJobRequest", "[]",
	    "DescribeJobRequest: expected an object");
	EXPECT("GetJobTaggingRequest", "{ 'JobId': 'abcde' }", NULL);
	EXPECT("DeleteJobTaggingRequest", "{ 'JobId': 'abcde', 'Tags': [] }",
	    "Tags: unknown field");
	EXPECT("PutJobTaggingRequest", "{ 'JobId': 'abcde' }",
	    "Tags: required");
	EXPECT("PutJobTaggingRequest", "{ 'JobId': 'abcde', 'Tags': [] }",
	    NULL);
	EXPECT("PutJobTaggingRequest", "{ 'JobId': 'abcde', 'Tags': "
	    "[ { 'Key': 'k' } ] }", "Tags[0].Value: required");
	EXPECT("UpdateJobPriorityRequest", "{ 'JobId': 'abcde', "
	    "'Priority': 5 }", NULL);
	EXPECT("UpdateJobPriorityRequest", "{ 'JobId': 'abcde' }",
	    "Priority: required");
	EXPECT("UpdateJobStatusRequest", "{ 'JobId': 'abcde', "
	    "'RequestedJobStatus': 'Ready', 'StatusUpdateReason': 'ok' }",
	    NULL);
	EXPECT("UpdateJobStatusRequest", "{ 'JobId': 'abcde', "
	    "'RequestedJobStatus': 'Paused' }", "RequestedJobStatus: "
	    "\"Paused\" is not one of Cancelled, Ready");
	EXPECT("UpdateJobStatusRequest", "{ 'JobId': 'abcde', "
	    "'RequestedJobStatus': 'Ready', 'StatusUpdateReason': '' }",
	    "StatusUpdateReason: length 0 is below the minimum of 1");
	EXPECT("ListJobsRequest", "{}", NULL);
	EXPECT("ListJobsRequest", "{ 'JobStatuses': [ 'Active', 'Complete' ], "
	    "'MaxResults': 1000, 'NextToken': 'abc=' }", NULL);
	EXPECT("ListJobsRequest", "{ 'JobStatuses': [ 'Active', 'Bogus' ] }",
	    "JobStatuses[1]: \"Bogus\" is not one of Active, Cancelled, "
	    "Cancelling, Complete, Completing, Failed, Failing, New, Paused, "
	    "Pausing, Preparing, Ready, Suspended");
	EXPECT("ListJobsRequest", "{ 'MaxResults': 1001 }",
	    "MaxResults: 1001 is above the maximum of 1000");
	EXPECT("ListJobsRequest", "{ 'NextToken': 'a b' }", "NextToken: "
	    "\"a b\" does not match the pattern "
	    "^[A-Za-z0-9\\+\\:\\/\\=\\?\\#-_]+$");
	EXPECT("NoSuchShape", "{}", "NoSuchShape: no such shape in the model");

	/* What the daemon answers with, checked against the model too. */
	EXPECT("JobDescriptor", "{ 'JobId': 'abcde', 'ConfirmationRequired': "
	    "false, 'Description': 'd', 'JobArn': 'arn:aws:s3:us-east-1:"
	    "123456789012:job/abcde', 'Status': 'Active', 'Manifest': { "
	    "'Spec': { 'Format': 'S3BatchOperations_CSV_20180820', 'Fields': "
	    "['Bucket','Key'] }, 'Location': { 'ObjectArn': 'arn:aws:s3:::m/k',"
	    " 'ETag': 'e' } }, 'Operation': { 'S3DeleteObjectTagging': {} }, "
	    "'Priority': 10, 'ProgressSummary': { 'TotalNumberOfTasks': 100, "
	    "'NumberOfTasksSucceeded': 50, 'NumberOfTasksFailed': 1, "
	    "'Timers': { 'ElapsedTimeInActiveSeconds': 12 } }, "
	    "'FailureReasons': [ { 'FailureCode': 'c', 'FailureReason': 'r' } "
	    "], 'Report': { 'Enabled': false }, 'CreationTime': "
	    "'2026-11-22T02:13:03.123000+00:00', 'TerminationDate': 1795309983, "
	    "'RoleArn': 'arn:aws:iam::123456789012:role/r', "
	    "'SuspendedDate': '2026-11-22T02:13:03Z', 'SuspendedCause': 'c', "
	    "'StatusUpdateReason': 'r' }", NULL);
	EXPECT("JobDescriptor", "{ 'ProgressSummary': { 'NumberOfTasksFailed': "
	    "-1 } }", "ProgressSummary.NumberOfTasksFailed: -1 is below the "
	    "minimum of 0");
	EXPECT("JobListDescriptor", "{ 'JobId': 'abcde', 'Operation': "
	    "'S3PutObjectTagging', 'Priority': 1, 'Status': 'New', "
	    "'CreationTime': '2026-11-22T02:13:03Z' }", NULL);
	EXPECT("JobListDescriptor", "{ 'Operation': 'S3Nothing' }",
	    "Operation: \"S3Nothing\" is not one of LambdaInvoke, "
	    "S3PutObjectCopy, S3PutObjectAcl, S3PutObjectTagging, "
	    "S3DeleteObjectTagging, S3InitiateRestoreObject, "
	    "S3PutObjectLegalHold, S3PutObjectRetention, S3ReplicateObject, "
	    "S3ComputeObjectChecksum, S3UpdateObjectEncryption");
	EXPECT("ListJobsResult", "{ 'Jobs': [ { 'JobId': 'abcde' } ] }", NULL);
}

static void
test_tables(void)
{
	const char *const		*e;
	const struct model_shape	*sh;
	size_t				 i, j, n;

	CHECK(model_nshapes > 100);
	for (i = 0; i < model_nshapes; i++) {
		sh = &model_shapes[i];
		if (i > 0)
			CHECK(strcmp(model_shapes[i - 1].name, sh->name) < 0);
		CHECK(model_find(sh->name) == sh);
		for (j = 0; j < sh->nmembers; j++) {
			CHECK(sh->members[j].shape < model_nshapes);
			if (j > 0)
				CHECK(strcmp(sh->members[j - 1].name,
				    sh->members[j].name) < 0);
		}
		CHECK(sh->member < model_nshapes && sh->key < model_nshapes);
		/* Every pattern translated; each compiles on first use. */
		CHECK((sh->pattern == NULL) == (sh->regex == NULL));
	}
	CHECK(model_find("JobDescriptor") != NULL);
	CHECK(model_find("JobListDescriptor") != NULL);
	CHECK(model_find("CreateJobRequest") != NULL);
	CHECK(model_find("BadRequestException") == NULL);
	CHECK(model_find("") == NULL);

	e = model_enum_values("JobStatus");
	CHECK(e != NULL);
	for (n = 0; e != NULL && e[n] != NULL; n++)
		;
	CHECK_INT(n, 13);
	if (e != NULL)
		CHECK_STR(e[0], "Active");
	e = model_enum_values("RequestedJobStatus");
	CHECK(e != NULL && strcmp(e[0], "Cancelled") == 0 &&
	    strcmp(e[1], "Ready") == 0 && e[2] == NULL);
	CHECK(model_enum_values("JobId") == NULL);
	CHECK(model_enum_values("NoSuchShape") == NULL);
}

static void
test_parse_time(void)
{
	static const struct {
		const char	*in;
		int		 ok;
		int64_t		 ms;
	} cases[] = {
		{ "1970-01-01T00:00:00Z", 1, 0 },
		{ "1970-01-01", 1, 0 },
		{ "1970-01-01T00:00:01.5Z", 1, 1500 },
		{ "1970-01-01T00:00:00.000999999Z", 1, 0 },
		{ "2026-11-22T02:13:03.123+01:00", 1, INT64_C(1795309983123) },
		{ "2026-11-22T02:13:03.123+0100", 1, INT64_C(1795309983123) },
		{ "2026-11-22T02:13:03-05", 1, INT64_C(1795331583000) },
		{ "2026-11-22 02:13:03-05:00", 1, INT64_C(1795331583000) },
		{ "2026-11-22t07:13:03z", 1, INT64_C(1795331583000) },
		{ "2026-11-22T07:13", 1, INT64_C(1795331580000) },
		{ "1900-03-01", 1, INT64_C(-2203891200000) },
		{ "2024-02-29", 1, INT64_C(1709164800000) },
		{ "2023-02-29", 0, 0 },
		{ "1900-02-29", 0, 0 },
		{ "2026-13-01", 0, 0 },
		{ "2026-00-01", 0, 0 },
		{ "2026-11-31", 0, 0 },
		{ "2026-11-22T24:00", 0, 0 },
		{ "2026-11-22T23:60", 0, 0 },
		{ "2026-11-22T02:13:03.Z", 0, 0 },
		{ "2026-11-22T02:13:03.1234567891Z", 0, 0 },
		{ "2026-11-22T02:13:03+01:", 0, 0 },
		{ "2026-11-22T02:13:03+1", 0, 0 },
		{ "2026-11-22T02:13:03Zjunk", 0, 0 },
		{ "2026-11-22T", 0, 0 },
		{ "2026-11-2", 0, 0 },
		{ "26-11-22", 0, 0 },
		{ "", 0, 0 },
		{ "1795309983", 0, 0 },
	};
	struct json_object	*v;
	size_t			 i;
	int64_t			 ms;
	char			*cause;
	int			 r;

	for (i = 0; i < nitems(cases); i++) {
		cause = NULL;
		ms = -1;
		r = model_parse_time(cases[i].in, &ms, &cause);
		if ((r == 0) != cases[i].ok)
			fprintf(stderr, "time case %zu: %s\n", i, cases[i].in);
		CHECK_INT(r == 0, cases[i].ok);
		if (cases[i].ok)
			CHECK_INT(ms, cases[i].ms);
		else
			CHECK(cause != NULL);
		free(cause);
	}

	v = json_object_new_int64(1795309983);
	CHECK_INT(model_timestamp(v, &ms, &cause), 0);
	CHECK_INT(ms, INT64_C(1795309983000));
	json_object_put(v);
	v = json_object_new_double(1.25);
	CHECK_INT(model_timestamp(v, &ms, &cause), 0);
	CHECK_INT(ms, 1250);
	json_object_put(v);
	v = json_object_new_int64(INT64_MAX);
	cause = NULL;
	CHECK_INT(model_timestamp(v, &ms, &cause), -1);
	free(cause);
	json_object_put(v);
	v = json_object_new_double(1e300);
	cause = NULL;
	CHECK_INT(model_timestamp(v, &ms, &cause), -1);
	free(cause);
	json_object_put(v);
	cause = NULL;
	CHECK_INT(model_timestamp(NULL, &ms, &cause), -1);
	CHECK_STR(cause, "expected a timestamp (an ISO 8601 string or seconds "
	    "since the epoch)");
	free(cause);
}

/* Real-world jobs for every operation: the model and jobspec take them. */
static const struct {
	const char	*name;
	const char	*operation;
	const char	*generator;	/* replaces Manifest if set */
} real_jobs[] = {
	{ "S3PutObjectTagging", "{ 'S3PutObjectTagging': { 'TagSet': [ "
	  "{ 'Key': 'classification', 'Value': 'confidential' } ] } }", NULL },
	{ "S3PutObjectTagging", "{ 'S3PutObjectTagging': { 'TagSet': [] } }",
	  NULL },
	{ "S3DeleteObjectTagging", "{ 'S3DeleteObjectTagging': {} }", NULL },
	{ "S3PutObjectCopy", "{ 'S3PutObjectCopy': {"
	  "'TargetResource': 'arn:aws:s3:::destination-bucket',"
	  "'CannedAccessControlList': 'bucket-owner-full-control',"
	  "'AccessControlGrants': [ { 'Grantee': { 'Identifier': "
	  "'79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be',"
	  "'TypeIdentifier': 'id', 'DisplayName': 'owner' }, 'Permission': "
	  "'READ' }, { 'Grantee': { 'Identifier': "
	  "'http://acs.amazonaws.com/groups/global/AllUsers', "
	  "'TypeIdentifier': 'uri' }, 'Permission': 'READ_ACP' } ],"
	  "'MetadataDirective': 'REPLACE',"
	  "'ModifiedSinceConstraint': '2024-01-01T00:00:00Z',"
	  "'UnModifiedSinceConstraint': 1893456000,"
	  "'NewObjectMetadata': { 'CacheControl': 'max-age=3600',"
	  "  'ContentDisposition': 'attachment', 'ContentEncoding': 'gzip',"
	  "  'ContentLanguage': 'en', 'ContentType': 'text/csv',"
	  "  'ContentLength': 1024, 'ContentMD5': 'rL0Y20zC+Fzt72VPzMSk2A==',"
	  "  'HttpExpiresDate': '2030-01-01T00:00:00Z',"
	  "  'RequesterCharged': false, 'SSEAlgorithm': 'KMS',"
	  "  'UserMetadata': { 'origin': 'batch', 'x': '' } },"
	  "'NewObjectTagging': [ { 'Key': 'copied', 'Value': 'yes' } ],"
	  "'RedirectLocation': '/other/key',"
	  "'RequesterPays': false,"
	  "'StorageClass': 'GLACIER_IR',"
	  "'SSEAwsKmsKeyId': 'arn:aws:kms:eu-west-1:123456789012:key/"
	  "1234abcd-12ab-34cd-56ef-1234567890ab',"
	  "'TargetKeyPrefix': 'copies/2026/',"
	  "'ObjectLockLegalHoldStatus': 'OFF',"
	  "'ObjectLockMode': 'GOVERNANCE',"
	  "'ObjectLockRetainUntilDate': '2030-06-30T12:00:00.000Z',"
	  "'BucketKeyEnabled': true,"
	  "'ChecksumAlgorithm': 'SHA256' } }", NULL },
	{ "S3PutObjectAcl", "{ 'S3PutObjectAcl': { 'AccessControlPolicy': {"
	  "'AccessControlList': { 'Owner': { 'ID': 'owner-id', "
	  "'DisplayName': 'owner' }, 'Grants': [ { 'Grantee': { "
	  "'Identifier': 'user@example.com', 'TypeIdentifier': "
	  "'emailAddress' }, 'Permission': 'FULL_CONTROL' } ] } } } }", NULL },
	{ "S3PutObjectAcl", "{ 'S3PutObjectAcl': { 'AccessControlPolicy': {"
	  "'CannedAccessControlList': 'private' } } }", NULL },
	{ "S3InitiateRestoreObject", "{ 'S3InitiateRestoreObject': {"
	  "'ExpirationInDays': 5, 'GlacierJobTier': 'BULK' } }", NULL },
	{ "S3PutObjectRetention", "{ 'S3PutObjectRetention': {"
	  "'BypassGovernanceRetention': true, 'Retention': { 'Mode': "
	  "'COMPLIANCE', 'RetainUntilDate': '2030-01-01T00:00:00Z' } } }",
	  NULL },
	{ "S3PutObjectLegalHold", "{ 'S3PutObjectLegalHold': { 'LegalHold': "
	  "{ 'Status': 'ON' } } }", NULL },
	{ "S3ReplicateObject", "{ 'S3ReplicateObject': {} }",
	  "{ 'S3JobManifestGenerator': { 'ExpectedBucketOwner': "
	  "'123456789012', 'SourceBucket': 'arn:aws:s3:::source-bucket', "
	  "'EnableManifestOutput': true, 'ManifestOutputLocation': { "
	  "'ExpectedManifestBucketOwner': '123456789012', 'Bucket': "
	  "'arn:aws:s3:::manifest-bucket', 'ManifestPrefix': 'generated', "
	  "'ManifestEncryption': { 'SSES3': {} }, 'ManifestFormat': "
	  "'S3InventoryReport_CSV_20211130' }, 'Filter': { "
	  "'EligibleForReplication': true, 'CreatedAfter': "
	  "'2024-01-01T00:00:00Z', 'CreatedBefore': 1767225600, "
	  "'ObjectReplicationStatuses': [ 'NONE', 'FAILED' ], "
	  "'KeyNameConstraint': { 'MatchAnyPrefix': [ 'logs/' ], "
	  "'MatchAnySuffix': [ '.gz' ], 'MatchAnySubstring': [ '2024' ] }, "
	  "'MatchAnyStorageClass': [ 'STANDARD', 'STANDARD_IA' ], "
	  "'ObjectSizeGreaterThanBytes': 0, 'ObjectSizeLessThanBytes': "
	  "1073741824 } } }" },
	{ "LambdaInvoke", "{ 'LambdaInvoke': { 'FunctionArn': "
	  "'arn:aws:lambda:us-west-2:123456789012:function:my-fn:$LATEST', "
	  "'InvocationSchemaVersion': '2.0', 'UserArguments': { "
	  "'mode': 'dry-run', 'threshold': '10' } } }", NULL },
	{ "LambdaInvoke", "{ 'LambdaInvoke': { 'FunctionArn': "
	  "'https://hooks.example.com/batch', 'InvocationSchemaVersion': "
	  "'1.0' } }", NULL },
	{ "S3ComputeObjectChecksum", "{ 'S3ComputeObjectChecksum': { "
	  "'ChecksumAlgorithm': 'CRC64NVME', 'ChecksumType': 'FULL_OBJECT' } }",
	  NULL },
};

static void
test_real_jobs(void)
{
	struct json_object	*v;
	size_t			 i;
	char			*cause;

	for (i = 0; i < nitems(real_jobs); i++) {
		v = J(base_job);
		set_path(v, "Operation", real_jobs[i].operation);
		if (real_jobs[i].generator != NULL) {
			set_path(v, "Manifest", NULL);
			set_path(v, "ManifestGenerator",
			    real_jobs[i].generator);
		}
		cause = NULL;
		if (jobcheck_create(v, 0, &cause) != 0)
			fprintf(stderr, "job %zu (%s): %s\n", i,
			    real_jobs[i].name, cause);
		CHECK(cause == NULL);
		free(cause);
		CHECK_STR(jobspec_operation_name(v), real_jobs[i].name);
		json_object_put(v);
	}
}

static void
test_examples(void)
{
	static const struct {
		const char	*file;
		const char	*operation;
	} files[] = {
		{ "job-tagging.json", "S3PutObjectTagging" },
		{ "job-copy.json", "S3PutObjectCopy" },
		{ "job-delete-tagging.json", "S3DeleteObjectTagging" },
	};
	const char		*srcdir = getenv("srcdir");
	struct json_object	*v;
	char			*path, *cause;
	size_t			 i;

	for (i = 0; i < nitems(files); i++) {
		xasprintf(&path, "%s/docs/examples/%s",
		    srcdir != NULL ? srcdir : ".", files[i].file);
		v = json_object_from_file(path);
		if (v == NULL)
			fprintf(stderr, "cannot read %s\n", path);
		CHECK(v != NULL);
		cause = NULL;
		if (v != NULL && jobcheck_create(v, 0, &cause) != 0)
			fprintf(stderr, "%s: %s\n", path, cause);
		CHECK(cause == NULL);
		CHECK_STR(jobspec_operation_name(v), files[i].operation);
		/* The examples leave the token to the client. */
		CHECK(!json_object_object_get_ex(v, "ClientRequestToken",
		    NULL));
		free(cause);
		free(path);
		json_object_put(v);
	}
}

/* Changes that pass the model but not the semantic checks. */
static const struct mutation jobspec_mutations[] = {
	{ "ManifestGenerator", "{ 'S3JobManifestGenerator': { 'SourceBucket': "
	  "'arn:aws:s3:::source', 'EnableManifestOutput': false } }",
	  "ManifestGenerator: only one of Manifest and ManifestGenerator may "
	  "be set" },
	{ "Manifest", NULL,
	  "Manifest: either Manifest or ManifestGenerator is required" },
	{ "Report", "{ 'Enabled': false }", NULL },
	{ "Report", "{ 'Enabled': false, 'Bucket': 'arn:aws:s3:::rep/x' }",
	  "Report.Bucket: names an object; expected a bucket ARN, "
	  "arn:aws:s3:::bucket" },
	{ "Report.Bucket", NULL,
	  "Report.Bucket: required when Report.Enabled is true" },
	{ "Report.Format", NULL,
	  "Report.Format: required when Report.Enabled is true" },
	{ "Report.ReportScope", NULL,
	  "Report.ReportScope: required when Report.Enabled is true" },
	{ "Report.Prefix", NULL, NULL },
	{ "Report.Bucket", "'arn:aws:s3:us-east-1:123456789012:accesspoint/ap'",
	  "Report.Bucket: access point and other regional S3 ARNs are not "
	  "supported; expected arn:aws:s3:::bucket" },
	{ "Report.Bucket", "'arn:aws:s3:::reports/prefix'",
	  "Report.Bucket: names an object; expected a bucket ARN, "
	  "arn:aws:s3:::bucket" },
	{ "Report.Bucket", "'arn:aws:s3:::r'",
	  "Report.Bucket: \"arn:aws:s3:::r\" is not an S3 bucket ARN "
	  "(arn:aws:s3:::bucket)" },
	{ "Manifest.Location.ObjectArn", "'arn:aws:s3:::manifests'",
	  "Manifest.Location.ObjectArn: names no object key; expected "
	  "arn:aws:s3:::bucket/key" },
	{ "Manifest.Location.ObjectArn", "'arn:aws:s3:::manifests/'",
	  "Manifest.Location.ObjectArn: names no object key; expected "
	  "arn:aws:s3:::bucket/key" },
	{ "Manifest.Location.ObjectArn", "'arn:aws:s3:::manifests/a/b c.csv'",
	  NULL },
	{ "Manifest.Location.ObjectArn",
	  "'arn:aws:s3express:us-east-1:123456789012:bucket/b--use1-az4--x-s3'",
	  "Manifest.Location.ObjectArn: \"arn:aws:s3express:us-east-1:"
	  "123456789012:bucket/b--use1-az4--x-s...\" does not match the "
	  "pattern arn:[^:]+:s3:.*" },
	{ "Manifest.Spec.Fields", NULL, "Manifest.Spec.Fields: required for "
	  "S3BatchOperations_CSV_20180820" },
	{ "Manifest.Spec.Fields", "[]", "Manifest.Spec.Fields: must contain "
	  "Bucket for S3BatchOperations_CSV_20180820" },
	{ "Manifest.Spec.Fields", "['Bucket']", "Manifest.Spec.Fields: must "
	  "contain Key for S3BatchOperations_CSV_20180820" },
	{ "Manifest.Spec.Fields", "['Bucket','Key','Key']",
	  "Manifest.Spec.Fields[2]: Key appears more than once" },
	{ "Manifest.Spec.Fields", "['Bucket','Bucket','Key']",
	  "Manifest.Spec.Fields[1]: Bucket appears more than once" },
	{ "Manifest.Spec.Fields", "['Bucket','Key','VersionId','VersionId']",
	  "Manifest.Spec.Fields[3]: VersionId appears more than once" },
	{ "Manifest.Spec.Fields", "['Ignore','Bucket','Ignore','Key',"
	  "'VersionId','Ignore']", NULL },
	{ "Manifest.Spec.Fields", "['Key','Bucket']", NULL },
	{ "Manifest.Spec", "{ 'Format': 'S3InventoryReport_CSV_20161130' }",
	  NULL },
	{ "Manifest.Spec", "{ 'Format': 'S3InventoryReport_CSV_20161130', "
	  "'Fields': ['Bucket','Key'] }", "Manifest.Spec.Fields: must be "
	  "absent for S3InventoryReport_CSV_20161130 (the inventory's "
	  "manifest.json gives the columns)" },
	{ "Tags[1]", "{ 'Key': 'team', 'Value': 'other' }",
	  "Tags[1].Key: \"team\" is already the key of Tags[0]" },
	{ "Tags[1]", "{ 'Key': 'Team', 'Value': 'other' }", NULL },
};

static void
test_jobspec(void)
{
	struct json_object	*v, *tags;
	size_t			 i;
	char			*cause;
	int			 r;

	for (i = 0; i < nitems(jobspec_mutations); i++) {
		v = J(base_job);
		set_path(v, jobspec_mutations[i].path,
		    jobspec_mutations[i].value);
		cause = NULL;
		r = jobspec_check(v, 0, &cause);
		if ((r == 0) != (jobspec_mutations[i].cause == NULL))
			fprintf(stderr, "jobspec case %zu: %s\n", i,
			    cause != NULL ? cause : "passed");
		if (jobspec_mutations[i].cause == NULL)
			CHECK_INT(r, 0);
		else
			CHECK_STR(cause, jobspec_mutations[i].cause);
		free(cause);
		json_object_put(v);
	}

	/* A generator: ARNs and an output location when output is on. */
	v = J(base_job);
	set_path(v, "Manifest", NULL);
	set_path(v, "ManifestGenerator", "{ 'S3JobManifestGenerator': { "
	    "'SourceBucket': 'arn:aws:s3:::source/prefix', "
	    "'EnableManifestOutput': false } }");
	cause = NULL;
	CHECK_INT(jobspec_check(v, 0, &cause), -1);
	CHECK_STR(cause, "ManifestGenerator.S3JobManifestGenerator."
	    "SourceBucket: names an object; expected a bucket ARN, "
	    "arn:aws:s3:::bucket");
	free(cause);
	set_path(v, "ManifestGenerator.S3JobManifestGenerator.SourceBucket",
	    "'arn:aws:s3:::source'");
	set_path(v, "ManifestGenerator.S3JobManifestGenerator."
	    "EnableManifestOutput", "true");
	cause = NULL;
	CHECK_INT(jobspec_check(v, 0, &cause), -1);
	CHECK_STR(cause, "ManifestGenerator.S3JobManifestGenerator."
	    "ManifestOutputLocation: required when EnableManifestOutput is "
	    "true");
	free(cause);
	set_path(v, "ManifestGenerator.S3JobManifestGenerator."
	    "ManifestOutputLocation", "{ 'Bucket': 'arn:aws:s3:::x', "
	    "'ManifestFormat': 'S3InventoryReport_CSV_20211130' }");
	cause = NULL;
	CHECK_INT(jobspec_check(v, 0, &cause), -1);
	CHECK_STR(cause, "ManifestGenerator.S3JobManifestGenerator."
	    "ManifestOutputLocation.Bucket: \"arn:aws:s3:::x\" is not an S3 "
	    "bucket ARN (arn:aws:s3:::bucket)");
	free(cause);
	set_path(v, "ManifestGenerator.S3JobManifestGenerator."
	    "ManifestOutputLocation.Bucket", "'arn:aws:s3:::out'");
	cause = NULL;
	CHECK_INT(jobspec_check(v, 0, &cause), 0);
	free(cause);
	/* A generator cannot go with a local manifest file. */
	cause = NULL;
	CHECK_INT(jobspec_check(v, 1, &cause), -1);
	CHECK_STR(cause, "ManifestGenerator: cannot be used with a local "
	    "manifest file");
	free(cause);
	json_object_put(v);

	/* A local manifest: Location may go, Spec must stay. */
	v = J(base_job);
	set_path(v, "Manifest.Location", NULL);
	cause = NULL;
	CHECK_INT(model_validate("CreateJobRequest", v, &cause), -1);
	CHECK_STR(cause, "Manifest.Location: required");
	free(cause);
	cause = NULL;
	CHECK_INT(jobspec_check(v, 0, &cause), -1);
	CHECK_STR(cause, "Manifest.Location: required");
	free(cause);
	cause = NULL;
	CHECK_INT(jobspec_check(v, 1, &cause), 0);
	CHECK(cause == NULL);
	/* Only that path is excepted. */
	set_path(v, "Manifest.Spec.Format", NULL);
	CHECK_INT(jobspec_check(v, 1, &cause), -1);
	CHECK_STR(cause, "Manifest.Spec.Format: required");
	free(cause);
	set_path(v, "Manifest.Spec", NULL);
	cause = NULL;
	CHECK_INT(jobspec_check(v, 1, &cause), -1);
	CHECK_STR(cause, "Manifest.Spec: required");
	free(cause);
	set_path(v, "Manifest", NULL);
	cause = NULL;
	CHECK_INT(jobspec_check(v, 1, &cause), -1);
	CHECK_STR(cause, "Manifest: required with a local manifest file, to "
	    "give its Spec");
	free(cause);
	json_object_put(v);
	/* With a local manifest a Location may still be given. */
	v = J(base_job);
	cause = NULL;
	CHECK_INT(jobspec_check(v, 1, &cause), 0);
	free(cause);
	/* The daemon parses a streamed manifest as CSV, nothing else. */
	set_path(v, "Manifest.Spec", "{ 'Format': "
	    "'S3InventoryReport_CSV_20161130' }");
	cause = NULL;
	CHECK_INT(jobspec_check(v, 0, &cause), 0);
	CHECK_INT(jobspec_check(v, 1, &cause), -1);
	CHECK_STR(cause, "Manifest.Spec.Format: a manifest streamed by "
	    "s3batchctl must be S3BatchOperations_CSV_20180820; an inventory "
	    "report is read from S3");
	free(cause);
	json_object_put(v);

	/* Job tags: at most 50, keys unique. */
	tags = json_object_new_array();
	for (i = 0; i < JOBSPEC_MAX_TAGS; i++) {
		xasprintf(&cause, "tag%zu", i);
		v = json_object_new_object();
		json_object_object_add(v, "Key", json_object_new_string(cause));
		free(cause);
		json_object_object_add(v, "Value", json_object_new_string(""));
		json_object_array_add(tags, v);
	}
	cause = NULL;
	CHECK_INT(jobspec_validate_tags(tags, &cause), 0);
	v = json_object_new_object();
	json_object_object_add(v, "Key", json_object_new_string("extra"));
	json_object_object_add(v, "Value", json_object_new_string(""));
	json_object_array_add(tags, v);
	CHECK_INT(jobspec_validate_tags(tags, &cause), -1);
	CHECK_STR(cause, "Tags: 51 tags is more than the 50 a job may have");
	free(cause);
	json_object_put(tags);
	tags = J("[ { 'Key': 'a', 'Value': '' }, { 'Key': 'b', 'Value': '' },"
	    "{ 'Key': 'a', 'Value': 'x' } ]");
	cause = NULL;
	CHECK_INT(jobspec_validate_tags(tags, &cause), -1);
	CHECK_STR(cause, "Tags[2].Key: \"a\" is already the key of Tags[0]");
	free(cause);
	json_object_put(tags);
	cause = NULL;
	CHECK_INT(jobspec_validate_tags(NULL, &cause), -1);
	CHECK_STR(cause, "Tags: expected an array");
	free(cause);

	/* The operation's name. */
	v = J("{ 'Operation': { 'LambdaInvoke': {} } }");
	CHECK_STR(jobspec_operation_name(v), "LambdaInvoke");
	json_object_put(v);
	v = J("{ 'Operation': {} }");
	CHECK(jobspec_operation_name(v) == NULL);
	json_object_put(v);
	v = J("{ 'Operation': 'S3PutObjectTagging' }");
	CHECK(jobspec_operation_name(v) == NULL);
	json_object_put(v);
	v = J("{}");
	CHECK(jobspec_operation_name(v) == NULL);
	json_object_put(v);
	CHECK(jobspec_operation_name(NULL) == NULL);
}

/*
 * Changes that only jobcheck_create catches beyond jobspec_check: the
 * operation's own parameters. The rest are here because create-job
 * reaches them through it (a generator's filter, a streamed manifest).
 */
static const struct mutation jobcheck_mutations[] = {
	{ "Operation", "{ 'S3ComputeObjectChecksum': { 'ChecksumAlgorithm': "
	  "'SHA256', 'ChecksumType': 'FULL_OBJECT' } }",
	  "Operation.S3ComputeObjectChecksum.ChecksumType: S3 has no "
	  "FULL_OBJECT SHA256 checksum (SHA256 is COMPOSITE only)" },
	{ "Operation", "{ 'S3ComputeObjectChecksum': { 'ChecksumAlgorithm': "
	  "'CRC64NVME', 'ChecksumType': 'FULL_OBJECT' } }", NULL },
	{ "Operation", "{ 'S3PutObjectRetention': { 'Retention': { 'Mode': "
	  "'GOVERNANCE' } } }",
	  "Operation.S3PutObjectRetention.Retention: Mode without "
	  "RetainUntilDate (give both, or neither to remove the retention)" },
	{ "Operation", "{ 'S3PutObjectAcl': { 'AccessControlPolicy': {} } }",
	  "Operation.S3PutObjectAcl.AccessControlPolicy: give either "
	  "AccessControlList or CannedAccessControlList" },
	{ "Operation", "{ 'S3InitiateRestoreObject': { 'ExpirationInDays': 1, "
	  "'GlacierJobTier': 'BULK' } }", NULL },
	{ "Operation", "{ 'S3UpdateObjectEncryption': {} }",
	  "Operation.S3UpdateObjectEncryption.ObjectEncryption: required "
	  "(SSEKMS with a KMSKeyArn)" },
	{ "Operation.S3PutObjectTagging.TagSet[0].Key", "''",
	  "Operation.S3PutObjectTagging.TagSet[0].Key: length 0 is below the "
	  "minimum of 1" },
};

/* A generator's filter, checked by the model before any listing. */
static const struct mutation jobcheck_filters[] = {
	{ "CreatedAfter", "'yesterday'",
	  "ManifestGenerator.S3JobManifestGenerator.Filter.CreatedAfter: "
	  "\"yesterday\" is not an ISO 8601 time" },
	{ "CreatedBefore", "'2026-11-22T02:13:03Z'", NULL },
	{ "ObjectReplicationStatuses", "[ 'DONE' ]",
	  "ManifestGenerator.S3JobManifestGenerator.Filter."
	  "ObjectReplicationStatuses[0]: \"DONE\" is not one of COMPLETED, "
	  "FAILED, REPLICA, NONE" },
	{ "MatchAnyStorageClass", "[ 'COLD' ]",
	  "ManifestGenerator.S3JobManifestGenerator.Filter."
	  "MatchAnyStorageClass[0]: \"COLD\" is not one of STANDARD, "
	  "STANDARD_IA, ONEZONE_IA, GLACIER, INTELLIGENT_TIERING, "
	  "DEEP_ARCHIVE, GLACIER_IR" },
	{ "KeyNameConstraint.MatchAnyPrefix", "[ '' ]",
	  "ManifestGenerator.S3JobManifestGenerator.Filter.KeyNameConstraint."
	  "MatchAnyPrefix[0]: length 0 is below the minimum of 1" },
	{ "KeyNameConstraint.MatchAnySuffix", "[ 'x', '' ]",
	  "ManifestGenerator.S3JobManifestGenerator.Filter.KeyNameConstraint."
	  "MatchAnySuffix[1]: length 0 is below the minimum of 1" },
	{ "MatchAnyObjectEncryption", "[ {} ]",
	  "ManifestGenerator.S3JobManifestGenerator.Filter."
	  "MatchAnyObjectEncryption[0]: exactly one member must be set, one of "
	  "DSSEKMS, NOTSSE, SSEC, SSEKMS, SSES3" },
	{ "MatchAnyObjectEncryption", "[ { 'SSEKMS': { 'KmsKeyArn': "
	  "'arn:aws:kms:us-east-1:123456789012:key/k' } } ]", NULL },
};

/* A streamed manifest: CSV only; an inventory is read from S3. */
static const struct mutation jobcheck_streamed[] = {
	{ "Manifest.Location", NULL, NULL },
	{ "Manifest.Spec", "{ 'Format': 'S3InventoryReport_CSV_20161130' }",
	  "Manifest.Spec.Format: a manifest streamed by s3batchctl must be "
	  "S3BatchOperations_CSV_20180820; an inventory report is read from "
	  "S3" },
	{ "ManifestGenerator", "{ 'S3JobManifestGenerator': { 'SourceBucket': "
	  "'arn:aws:s3:::source', 'EnableManifestOutput': false } }",
	  "ManifestGenerator: cannot be used with a local manifest file" },
};

/* Each set of cases, and how a case is applied to the base job. */
static const struct {
	const char		*what;
	const struct mutation	*cases;
	size_t			 n;
	int			 local;	/* a streamed manifest */
	const char		*under;	/* prefix of paths, or NULL */
} jobcheck_sets[] = {
	{ "jobcheck", jobcheck_mutations, nitems(jobcheck_mutations), 0, NULL },
	{ "jobcheck", jobcheck_mutations, nitems(jobcheck_mutations), 1, NULL },
	{ "filter", jobcheck_filters, nitems(jobcheck_filters), 0,
	  "ManifestGenerator.S3JobManifestGenerator.Filter." },
	/* The jobspec half's cases reach the daemon through it unchanged. */
	{ "jobspec", jobspec_mutations, nitems(jobspec_mutations), 0, NULL },
	{ "streamed", jobcheck_streamed, nitems(jobcheck_streamed), 1, NULL },
};

static void
test_jobcheck(void)
{
	const struct mutation	*m;
	struct json_object	*v;
	char			*path, *cause;
	size_t			 i, j;
	int			 r;

	for (i = 0; i < nitems(jobcheck_sets); i++) {
		for (j = 0; j < jobcheck_sets[i].n; j++) {
			m = &jobcheck_sets[i].cases[j];
			v = J(base_job);
			if (jobcheck_sets[i].under != NULL) {
				set_path(v, "Manifest", NULL);
				set_path(v, "ManifestGenerator", "{ "
				    "'S3JobManifestGenerator': { "
				    "'SourceBucket': 'arn:aws:s3:::source', "
				    "'EnableManifestOutput': false } }");
			}
			xasprintf(&path, "%s%s",
			    jobcheck_sets[i].under != NULL ?
			    jobcheck_sets[i].under : "", m->path);
			set_path(v, path, m->value);
			free(path);
			cause = NULL;
			r = jobcheck_create(v, jobcheck_sets[i].local, &cause);
			if ((r == 0) != (m->cause == NULL))
				fprintf(stderr, "%s case %zu (local %d): %s\n",
				    jobcheck_sets[i].what, j,
				    jobcheck_sets[i].local, cause != NULL ?
				    cause : "passed");
			if (m->cause == NULL)
				CHECK_INT(r, 0);
			else
				CHECK_STR(cause, m->cause);
			free(cause);
			json_object_put(v);
		}
	}
}

static void
test_arn(void)
{
	static const struct {
		const char	*arn;
		int		 object;
		int		 ok;
		const char	*bucket;
		const char	*key;
	} cases[] = {
		{ "arn:aws:s3:::bucket", 0, 1, "bucket", NULL },
		{ "arn:aws-cn:s3:::bucket", 0, 1, "bucket", NULL },
		{ "arn:aws-us-gov:s3:::my.bucket-1", 0, 1, "my.bucket-1", NULL },
		{ "arn:aws:s3:::Legacy_Bucket", 0, 1, "Legacy_Bucket", NULL },
		{ "arn:aws:s3:::bucket/key", 1, 1, "bucket", "key" },
		{ "arn:aws:s3:::bucket/a/b:c d.csv", 1, 1, "bucket",
		  "a/b:c d.csv" },
		{ "arn:aws:s3:::bucket//x", 1, 1, "bucket", "/x" },
		{ "arn:aws:s3:::bucket/key", 0, 0, NULL, NULL },
		{ "arn:aws:s3:::bucket", 1, 0, NULL, NULL },
		{ "arn:aws:s3:::bucket/", 1, 0, NULL, NULL },
		{ "arn:aws:s3:::bucket/", 0, 0, NULL, NULL },
		{ "arn:aws:s3:::", 0, 0, NULL, NULL },
		{ "arn:aws:s3:::/key", 1, 0, NULL, NULL },
		{ "arn:aws:s3:::ab", 0, 0, NULL, NULL },
		{ "arn:aws:s3:::b!d", 0, 0, NULL, NULL },
		{ "arn:aws:s3:us-east-1::bucket", 0, 0, NULL, NULL },
		{ "arn:aws:s3::123456789012:bucket", 0, 0, NULL, NULL },
		{ "arn:aws:s3express:us-east-1:123456789012:bucket/b", 0, 0,
		  NULL, NULL },
		{ "arn:aws:iam::123456789012:role/x", 0, 0, NULL, NULL },
		{ "arn::s3:::bucket", 0, 0, NULL, NULL },
		{ "arn:aws:s3", 0, 0, NULL, NULL },
		{ "arn:aws:s3::", 0, 0, NULL, NULL },
		{ "arn:", 0, 0, NULL, NULL },
		{ "bucket", 0, 0, NULL, NULL },
		{ "s3://bucket/key", 1, 0, NULL, NULL },
		{ "", 0, 0, NULL, NULL },
	};
	struct buf	 b;
	size_t		 i;
	char		*bucket, *key, *cause;
	int		 r;

	for (i = 0; i < nitems(cases); i++) {
		bucket = key = cause = NULL;
		r = jobspec_arn_bucket(cases[i].arn, &bucket,
		    cases[i].object ? &key : NULL, &cause);
		if ((r == 0) != cases[i].ok)
			fprintf(stderr, "arn case %s: %s\n", cases[i].arn,
			    cause != NULL ? cause : "passed");
		CHECK_INT(r == 0, cases[i].ok);
		if (cases[i].ok) {
			CHECK_STR(bucket, cases[i].bucket);
			if (cases[i].key != NULL)
				CHECK_STR(key, cases[i].key);
			CHECK(cause == NULL);
		} else {
			CHECK(cause != NULL);
			CHECK(bucket == NULL && key == NULL);
		}
		free(bucket);
		free(key);
		free(cause);
	}

	/* The bucket may be left out; keys stop at 1024 bytes. */
	CHECK_INT(jobspec_arn_bucket("arn:aws:s3:::bucket", NULL, NULL,
	    &cause), 0);
	buf_init(&b);
	buf_adds(&b, "arn:aws:s3:::bucket/");
	for (i = 0; i < 1024; i++)
		buf_addc(&b, 'k');
	key = NULL;
	CHECK_INT(jobspec_arn_bucket(b.data, NULL, &key, &cause), 0);
	CHECK_INT(strlen(key), 1024);
	free(key);
	buf_addc(&b, 'k');
	key = NULL;
	cause = NULL;
	CHECK_INT(jobspec_arn_bucket(b.data, NULL, &key, &cause), -1);
	CHECK_STR(cause, "object key is longer than 1024 bytes");
	CHECK(key == NULL);
	free(cause);
	buf_free(&b);
}

int
main(void)
{
	test_tables();
	test_mutations();
	test_unicode_lengths();
	test_maps();
	test_lists_and_generator();
	test_timestamps_and_longs();
	test_other_requests();
	test_parse_time();
	test_real_jobs();
	test_examples();
	test_jobspec();
	test_jobcheck();
	test_arn();
	return (unit_done("test-model"));
}
