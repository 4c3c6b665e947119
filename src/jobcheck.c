/*
 * The one CreateJob validation. It sits at the operations layer because
 * only an operation knows its own parameters (a copy's target, a
 * restore's days, a Lambda's schema version); everything the formats
 * know is jobspec_check's.
 */
#include <stdlib.h>

#include <json-c/json.h>

#include "s3batchd.h"
#include "jobspec.h"
#include "op.h"
#include "jobcheck.h"

int
jobcheck_create(struct json_object *req, int have_local_manifest,
    char **cause)
{
	const struct op_def	*op;
	struct json_object	*ops, *params = NULL;
	const char		*name;
	void			*ctx = NULL;

	if (jobspec_check(req, have_local_manifest, cause) != 0)
		return (-1);
	/* jobspec_check made sure there is exactly one operation. */
	name = jobspec_operation_name(req);
	if ((op = op_find(name)) == NULL) {
		xasprintf(cause, "Operation.%s: this s3batchd does not run "
		    "that operation yet", name);
		return (-1);
	}
	if (json_object_object_get_ex(req, "Operation", &ops))
		json_object_object_get_ex(ops, name, &params);
	if (op->compile(params, req, &ctx, cause) != 0)
		return (-1);
	op->free(ctx);
	return (0);
}
