/*
 * Unit tests for op-acl.c and op-lock.c: what each operation's compile
 * makes of Amazon's JSON (the request body and header every task sends)
 * and the create-job messages for bad parameters.
 */
#include <json-c/json.h>

#include "s3batchd.h"
#include "op.h"
#include "s3xml.h"
#include "unit.h"

/* Compile params (JSON text) for an operation; the ctx or NULL + cause. */
static struct op_subres *
compile(const char *name, const char *json, char **cause)
{
	const struct op_def	*op = op_find(name);
	struct json_object	*params = json_tokener_parse(json);
	void			*ctx = NULL;

	*cause = NULL;
	CHECK(op != NULL);
	CHECK(params != NULL);
	if (op == NULL || op->compile(params, NULL, &ctx, cause) != 0)
		ctx = NULL;
	json_object_put(params);
	return (ctx);
}

/* The compile fails with a message containing what. */
static void
check_refused(const char *name, const char *json, const char *what)
{
	struct op_subres	*ctx;
	char			*cause;

	ctx = compile(name, json, &cause);
	CHECK(ctx == NULL);
	CHECK(cause != NULL && strstr(cause, what) != NULL);
	if (cause == NULL || strstr(cause, what) == NULL)
		fprintf(stderr, "  %s: cause \"%s\", expected \"%s\"\n", json,
		    cause != NULL ? cause : "(null)", what);
	op_subres_free(ctx);
	free(cause);
}

static void
test_acl_list(void)
{
	struct op_subres	*ctx;
	struct s3xml_acl	*acl;
	char			*cause;

	ctx = compile("S3PutObjectAcl", "{\"AccessControlPolicy\": "
	    "{\"AccessControlList\": {\"Owner\": {\"ID\": \"tester\", "
	    "\"DisplayName\": \"Tester\"}, \"Grants\": ["
	    "{\"Grantee\": {\"TypeIdentifier\": \"id\", \"Identifier\": "
	    "\"tester\", \"DisplayName\": \"Tester\"}, \"Permission\": "
	    "\"FULL_CONTROL\"},"
	    "{\"Grantee\": {\"TypeIdentifier\": \"uri\", \"Identifier\": "
	    "\"http://acs.amazonaws.com/groups/global/AllUsers\"}, "
	    "\"Permission\": \"READ\"},"
	    "{\"Grantee\": {\"TypeIdentifier\": \"emailAddress\", "
	    "\"Identifier\": \"a&b@example.com\"}, \"Permission\": "
	    "\"READ_ACP\"}]}}}", &cause);
	CHECK(ctx != NULL);
	if (ctx == NULL) {
		fprintf(stderr, "  %s\n", cause);
		free(cause);
		return;
	}
	CHECK_STR(ctx->query, "acl");
	CHECK(ctx->header == NULL);
	CHECK(ctx->body != NULL && ctx->body_len == strlen(ctx->body));
	/* Read the body back with the project's parser. */
	acl = xcalloc(1, sizeof *acl);
	CHECK_INT(s3xml_parse_acl(ctx->body, ctx->body_len, acl, &cause), 0);
	CHECK_STR(acl->owner_id.data, "tester");
	CHECK_STR(acl->owner_name.data, "Tester");
	CHECK_INT(acl->ngrants, 3);
	if (acl->ngrants == 3) {
		CHECK_STR(acl->grants[0].type.data, "CanonicalUser");
		CHECK_STR(acl->grants[0].id.data, "tester");
		CHECK_STR(acl->grants[0].permission.data, "FULL_CONTROL");
		CHECK_STR(acl->grants[1].type.data, "Group");
		CHECK_STR(acl->grants[1].uri.data,
		    "http://acs.amazonaws.com/groups/global/AllUsers");
		CHECK_STR(acl->grants[1].permission.data, "READ");
		CHECK_STR(acl->grants[2].type.data, "AmazonCustomerByEmail");
		CHECK_STR(acl->grants[2].email.data, "a&b@example.com");
		CHECK_STR(acl->grants[2].permission.data, "READ_ACP");
	}
	CHECK(strstr(ctx->body, "a&amp;b@example.com") != NULL);
	s3xml_acl_free(acl);
	free(acl);
	op_subres_free(ctx);

	/* No grants at all is a valid (if drastic) ACL. */
	ctx = compile("S3PutObjectAcl", "{\"AccessControlPolicy\": "
	    "{\"AccessControlList\": {\"Owner\": {\"ID\": \"o\"}}}}", &cause);
	CHECK(ctx != NULL && strstr(ctx->body, "<AccessControlList>"
	    "</AccessControlList>") != NULL);
	op_subres_free(ctx);
	free(cause);
}

static void
test_acl_canned(void)
{
	struct op_subres	*ctx;
	char			*cause;

	ctx = compile("S3PutObjectAcl", "{\"AccessControlPolicy\": "
	    "{\"CannedAccessControlList\": \"public-read\"}}", &cause);
	CHECK(ctx != NULL);
	if (ctx != NULL) {
		CHECK_STR(ctx->header, "x-amz-acl");
		CHECK_STR(ctx->value, "public-read");
		CHECK(ctx->body == NULL && ctx->body_len == 0);
	}
	op_subres_free(ctx);
	free(cause);
}

static void
test_acl_refused(void)
{
	static const struct {
		const char	*json;
		const char	*what;
	} cases[] = {
		{ "{}", "AccessControlPolicy: required" },
		{ "{\"AccessControlPolicy\": {}}", "give either" },
		{ "{\"AccessControlPolicy\": {\"CannedAccessControlList\": "
		  "\"private\", \"AccessControlList\": {\"Owner\": {\"ID\": "
		  "\"o\"}}}}", "not both" },
		{ "{\"AccessControlPolicy\": {\"CannedAccessControlList\": "
		  "\"everyone\"}}", "CannedAccessControlList: not one of" },
		{ "{\"AccessControlPolicy\": {\"AccessControlList\": "
		  "{\"Owner\": {}}}}", "AccessControlList.Owner.ID: required" },
		{ "{\"AccessControlPolicy\": {\"AccessControlList\": "
		  "{\"Owner\": {\"ID\": \"o\"}, \"Grants\": [{\"Permission\": "
		  "\"READ\"}]}}}", "Grants[0].Grantee: required" },
		{ "{\"AccessControlPolicy\": {\"AccessControlList\": "
		  "{\"Owner\": {\"ID\": \"o\"}, \"Grants\": [{\"Grantee\": "
		  "{\"TypeIdentifier\": \"id\", \"Identifier\": \"x\"}, "
		  "\"Permission\": \"READ\"}, {\"Grantee\": "
		  "{\"TypeIdentifier\": \"group\", \"Identifier\": \"x\"}, "
		  "\"Permission\": \"READ\"}]}}}",
		  "Grants[1].Grantee.TypeIdentifier" },
		{ "{\"AccessControlPolicy\": {\"AccessControlList\": "
		  "{\"Owner\": {\"ID\": \"o\"}, \"Grants\": [{\"Grantee\": "
		  "{\"TypeIdentifier\": \"id\"}, \"Permission\": \"READ\"}]}}}",
		  "Grants[0].Grantee.Identifier: required" },
		{ "{\"AccessControlPolicy\": {\"AccessControlList\": "
		  "{\"Owner\": {\"ID\": \"o\"}, \"Grants\": [{\"Grantee\": "
		  "{\"TypeIdentifier\": \"id\", \"Identifier\": \"x\"}, "
		  "\"Permission\": \"ALL\"}]}}}", "Grants[0].Permission" },
		/* XML 1.0 cannot carry most control characters. */
		{ "{\"AccessControlPolicy\": {\"AccessControlList\": "
		  "{\"Owner\": {\"ID\": \"o\\u0001\"}}}}",
		  "Operation.S3PutObjectAcl.AccessControlPolicy."
		  "AccessControlList: " },
	};
	size_t	i;

	for (i = 0; i < nitems(cases); i++)
		check_refused("S3PutObjectAcl", cases[i].json, cases[i].what);
}

static void
test_retention(void)
{
	struct op_subres	*ctx;
	char			*cause;

	ctx = compile("S3PutObjectRetention", "{\"Retention\": {\"Mode\": "
	    "\"GOVERNANCE\", \"RetainUntilDate\": \"2031-02-03T04:05:06Z\"}, "
	    "\"BypassGovernanceRetention\": true}", &cause);
	CHECK(ctx != NULL);
	if (ctx != NULL) {
		CHECK_STR(ctx->query, "retention");
		CHECK_STR(ctx->header, "x-amz-bypass-governance-retention");
		CHECK_STR(ctx->value, "true");
		CHECK(strstr(ctx->body, "<Mode>GOVERNANCE</Mode>"
		    "<RetainUntilDate>2031-02-03T04:05:06.000Z"
		    "</RetainUntilDate>") != NULL);
	}
	op_subres_free(ctx);
	free(cause);

	/* Seconds since the epoch, as the aws cli takes them; no bypass. */
	ctx = compile("S3PutObjectRetention", "{\"Retention\": {\"Mode\": "
	    "\"COMPLIANCE\", \"RetainUntilDate\": 1924992000}, "
	    "\"BypassGovernanceRetention\": false}", &cause);
	CHECK(ctx != NULL);
	if (ctx != NULL) {
		CHECK(ctx->header == NULL);
		CHECK(strstr(ctx->body, "<Mode>COMPLIANCE</Mode>"
		    "<RetainUntilDate>2031-01-01T00:00:00.000Z"
		    "</RetainUntilDate>") != NULL);
	}
	op_subres_free(ctx);
	free(cause);

	/* Neither: Amazon's "remove the retention", an empty document. */
	ctx = compile("S3PutObjectRetention", "{\"Retention\": {}}", &cause);
	CHECK(ctx != NULL);
	if (ctx != NULL) {
		CHECK(strstr(ctx->body, "<Retention xmlns=\"" S3XML_NS
		    "\"/>") != NULL);
		CHECK(ctx->header == NULL);
	}
	op_subres_free(ctx);
	free(cause);

	check_refused("S3PutObjectRetention", "{}", "Retention: required");
	check_refused("S3PutObjectRetention", "{\"Retention\": {\"Mode\": "
	    "\"GOVERNANCE\"}}", "Mode without RetainUntilDate");
	check_refused("S3PutObjectRetention", "{\"Retention\": "
	    "{\"RetainUntilDate\": \"2031-01-01\"}}",
	    "RetainUntilDate without Mode");
	check_refused("S3PutObjectRetention", "{\"Retention\": {\"Mode\": "
	    "\"FOREVER\", \"RetainUntilDate\": \"2031-01-01\"}}",
	    "Operation.S3PutObjectRetention.Retention: retention mode");
	check_refused("S3PutObjectRetention", "{\"Retention\": {\"Mode\": "
	    "\"GOVERNANCE\", \"RetainUntilDate\": \"next tuesday\"}}",
	    "Retention.RetainUntilDate: ");
	check_refused("S3PutObjectRetention", "{\"Retention\": {\"Mode\": "
	    "\"GOVERNANCE\", \"RetainUntilDate\": 0}}",
	    "RetainUntilDate: must be after 1970");
}

static void
test_legal_hold(void)
{
	struct op_subres	*ctx;
	char			*cause;

	ctx = compile("S3PutObjectLegalHold", "{\"LegalHold\": {\"Status\": "
	    "\"ON\"}}", &cause);
	CHECK(ctx != NULL);
	if (ctx != NULL) {
		CHECK_STR(ctx->query, "legal-hold");
		CHECK(ctx->header == NULL);
		CHECK(strstr(ctx->body, "<LegalHold xmlns=\"" S3XML_NS "\">"
		    "<Status>ON</Status></LegalHold>") != NULL);
	}
	op_subres_free(ctx);
	free(cause);

	check_refused("S3PutObjectLegalHold", "{}", "LegalHold.Status: "
	    "required");
	check_refused("S3PutObjectLegalHold", "{\"LegalHold\": {}}",
	    "LegalHold.Status: required");
	check_refused("S3PutObjectLegalHold", "{\"LegalHold\": {\"Status\": "
	    "\"on\"}}", "LegalHold.Status: legal hold status \"on\"");
}

int
main(void)
{
	test_acl_list();
	test_acl_canned();
	test_acl_refused();
	test_retention();
	test_legal_hold();
	return (unit_done("test-op-acl-lock"));
}
