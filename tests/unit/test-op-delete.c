/*
 * Unit tests for op-delete.c: the dry run's count and SuspendedCause text
 * (a plan fed by hand) and the operation's parameters. The S3 behaviour is
 * tested against RGW in tests/integration/test_ops_delete.py.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "s3batchd.h"
#include "op.h"
#include "op-delete.h"
#include "unit.h"

/* A plan with n tasks of the bucket counted as seen. */
static void
count(void *plan, const char *bucket, enum op_delete_seen seen, int n)
{
	while (n-- > 0)
		op_delete_plan_count(plan, bucket, seen, NULL);
}

static void *
plan_new(int bypass)
{
	struct json_object	*p;
	void			*ctx = NULL, *plan;
	char			*cause = NULL;

	p = json_object_new_object();
	json_object_object_add(p, "BypassGovernanceRetention",
	    json_object_new_boolean(bypass));
	CHECK_INT(op_delete.compile(p, NULL, &ctx, &cause), 0);
	json_object_put(p);
	plan = op_delete.plan_new(ctx);
	/* The plan does not keep the compiled ctx. */
	op_delete.free(ctx);
	return (plan);
}

static void
test_text(void)
{
	void	*plan;
	char	*t, name[64];
	size_t	 i;

	plan = plan_new(0);
	count(plan, "alpha", OP_DELETE_DELETABLE, 1000);
	count(plan, "beta", OP_DELETE_DELETABLE, 234);
	count(plan, "alpha", OP_DELETE_CHANGED, 1);
	count(plan, "beta", OP_DELETE_MISSING, 1);
	t = op_delete.plan_text(plan);
	CHECK_STR(t, "Delete job: 1,234 objects in 2 buckets would be deleted "
	    "(alpha: 1,000, beta: 234); not deleted: 1 changed since their "
	    "ETag was taken (412), 1 missing (404). Confirm with "
	    "update-job-status --requested-job-status Ready");
	free(t);
	op_delete.plan_free(plan);

	plan = plan_new(0);
	count(plan, "b", OP_DELETE_MARKER, 1);
	t = op_delete.plan_text(plan);
	CHECK_STR(t, "Delete job: 1 object in 1 bucket would be deleted (b), "
	    "1 of them by a delete marker (versioned bucket). Confirm with "
	    "update-job-status --requested-job-status Ready");
	free(t);
	op_delete.plan_free(plan);

	/* Locked and unchecked: the first error's code is named. */
	plan = plan_new(1);
	count(plan, "b", OP_DELETE_DELETABLE, 2);
	count(plan, "b", OP_DELETE_LOCKED, 3);
	op_delete_plan_count(plan, "b", OP_DELETE_UNCHECKED,
	    "403 AccessDenied");
	op_delete_plan_count(plan, "b", OP_DELETE_UNCHECKED,
	    "500 InternalError");
	t = op_delete.plan_text(plan);
	CHECK_STR(t, "Delete job: 2 objects in 1 bucket would be deleted (b); "
	    "not deleted: 3 locked (Object Lock), 2 not checked (403 "
	    "AccessDenied). Confirm with update-job-status "
	    "--requested-job-status Ready");
	free(t);
	op_delete.plan_free(plan);

	/* Nothing to delete. */
	plan = plan_new(0);
	count(plan, "gone", OP_DELETE_MISSING, 2);
	t = op_delete.plan_text(plan);
	CHECK_STR(t, "Delete job: 0 objects in 1 bucket would be deleted "
	    "(gone); not deleted: 2 missing (404). Confirm with "
	    "update-job-status --requested-job-status Ready");
	free(t);
	op_delete.plan_free(plan);

	/* Many long bucket names stay within SuspendedCause's 1024. */
	plan = plan_new(0);
	for (i = 0; i < OP_DELETE_BUCKETS + 10; i++) {
		snprintf(name, sizeof name, "%063zu", i);
		count(plan, name, OP_DELETE_DELETABLE, 1);
		count(plan, name, OP_DELETE_MARKER, 1);
		count(plan, name, OP_DELETE_CHANGED, 1);
		count(plan, name, OP_DELETE_MISSING, 1);
		count(plan, name, OP_DELETE_LOCKED, 1);
	}
	op_delete_plan_count(plan, "x", OP_DELETE_UNCHECKED,
	    "403 AccessDenied");
	t = op_delete.plan_text(plan);
	CHECK(strlen(t) <= 1024);
	CHECK(strstr(t, "Delete job: 148 objects in more than 64 buckets") ==
	    t);
	CHECK(strstr(t, "74 of them by a delete marker") != NULL);
	CHECK(strstr(t, "1 not checked (403 AccessDenied)") != NULL);
	free(t);
	op_delete.plan_free(plan);
}

static void
test_compile(void)
{
	const struct op_def	*op = op_find("S3DeleteObject");
	struct json_object	*p;
	void			*ctx = NULL;
	char			*cause = NULL;

	CHECK(op == &op_delete);
	if (op == NULL)
		return;
	CHECK(op->flags & OP_CONFIRM);
	CHECK(op->plan_new != NULL && op->plan_task != NULL &&
	    op->plan_text != NULL && op->plan_free != NULL);
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
