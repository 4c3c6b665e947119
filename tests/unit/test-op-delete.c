/*
 * Unit tests for op-delete.c: the dry run's SuspendedCause text and the
 * operation's parameters. The S3 behaviour is tested against RGW in
 * tests/integration/test_ops_delete.py.
 */
#include <string.h>

#include <json-c/json.h>

#include "s3batchd.h"
#include "op.h"
#include "op-delete.h"
#include "unit.h"

static void
test_text(void)
{
	struct op_delete_survey	 sv;
	char			*t;
	size_t			 i;

	memset(&sv, 0, sizeof sv);
	sv.tasks = 1236;
	sv.deletable = 1234;
	sv.buckets[0].name = xstrdup("alpha");
	sv.buckets[0].deletable = 1000;
	sv.buckets[1].name = xstrdup("beta");
	sv.buckets[1].deletable = 234;
	sv.nbuckets = 2;
	sv.changed = 1;
	sv.missing = 1;
	t = op_delete_survey_text(&sv);
	CHECK_STR(t, "Delete job: 1,234 objects in 2 buckets would be deleted "
	    "(alpha: 1,000, beta: 234); not deleted: 1 changed since their "
	    "ETag was taken (412), 1 missing (404). Confirm with "
	    "update-job-status --requested-job-status Ready");
	free(t);
	op_delete_survey_free(&sv);

	sv.tasks = sv.deletable = 1;
	sv.markers = 1;
	sv.buckets[0].name = xstrdup("b");
	sv.nbuckets = 1;
	t = op_delete_survey_text(&sv);
	CHECK_STR(t, "Delete job: 1 object in 1 bucket would be deleted (b), "
	    "1 of them by a delete marker (versioned bucket). Confirm with "
	    "update-job-status --requested-job-status Ready");
	free(t);
	op_delete_survey_free(&sv);

	sv.tasks = 2000000;
	sv.failed = xstrdup("no endpoint");
	t = op_delete_survey_text(&sv);
	CHECK_STR(t, "Delete job: the dry run could not run (no endpoint): "
	    "2,000,000 tasks were not checked and would delete what they "
	    "find when they run. Confirm with update-job-status "
	    "--requested-job-status Ready");
	free(t);
	op_delete_survey_free(&sv);

	/* Many long bucket names stay within SuspendedCause's 1024. */
	for (i = 0; i < OP_DELETE_BUCKETS; i++) {
		xasprintf(&sv.buckets[i].name, "%063zu", i);
		sv.buckets[i].deletable = 999999999;
	}
	sv.nbuckets = OP_DELETE_BUCKETS;
	sv.more_buckets = 1;
	sv.deletable = sv.tasks = UINT64_MAX / 2;
	sv.markers = sv.changed = sv.missing = sv.locked = sv.deletable;
	sv.unchecked = 5;
	sv.unchecked_code = xstrdup("403 AccessDenied");
	t = op_delete_survey_text(&sv);
	CHECK(strlen(t) <= 1024);
	CHECK(strstr(t, "more than 64 buckets") != NULL);
	CHECK(strstr(t, "5 not checked (403 AccessDenied)") != NULL);
	free(t);
	op_delete_survey_free(&sv);
}

static void
test_compile(void)
{
	const struct op_def	*op = op_find(OP_DELETE_NAME);
	struct json_object	*p;
	void			*ctx = NULL;
	char			*cause = NULL;

	CHECK(op != NULL);
	if (op == NULL)
		return;
	CHECK(op_delete_is("S3DeleteObject"));
	CHECK(!op_delete_is("S3DeleteObjectTagging"));
	CHECK(!op_delete_is(NULL));
	p = json_tokener_parse("{\"BypassGovernanceRetention\":true}");
	CHECK_INT(op->compile(p, NULL, &ctx, &cause), 0);
	op->free(ctx);
	json_object_put(p);
	ctx = NULL;
	CHECK_INT(op->compile(NULL, NULL, &ctx, &cause), 0);
	op->free(ctx);
	ctx = NULL;
	p = json_tokener_parse("{\"BypassGovernanceRetention\":\"yes\"}");
	CHECK_INT(op->compile(p, NULL, &ctx, &cause), -1);
	CHECK_STR(cause, "Operation.S3DeleteObject.BypassGovernanceRetention: "
	    "expected true or false");
	free(cause);
	json_object_put(p);
}

int
main(void)
{
	test_text();
	test_compile();
	return (unit_done("test-op-delete"));
}
