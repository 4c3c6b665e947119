/*
 * Fuzz target for job specs from clients: bytes as JSON, then
 * jobcheck_create, create-job's one validation (the model, the semantic
 * checks, the operation's parameters), with and without a local manifest.
 */
#include <stdint.h>
#include <stdlib.h>

#include <json-c/json.h>

#include "s3batchd.h"
#include "model.h"
#include "jobspec.h"
#include "jobcheck.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct json_tokener	*tok;
	struct json_object	*req;
	const char		*arn;
	char			*cause = NULL, *bucket, *key;
	int			 local;

	if (len > 1024 * 1024)
		return (0);
	if ((tok = json_tokener_new()) == NULL)
		return (0);
	req = json_tokener_parse_ex(tok, (const char *)data, (int)len);
	json_tokener_free(tok);
	if (req == NULL)
		return (0);

	for (local = 0; local <= 1; local++) {
		/* A valid job has exactly one operation; else it says why. */
		if (jobcheck_create(req, local, &cause) == 0) {
			if (cause != NULL ||
			    jobspec_operation_name(req) == NULL)
				abort();
		} else if (cause == NULL)
			abort();
		free(cause);
		cause = NULL;
	}
	/* The same bytes as the other requests and the daemon's answers. */
	if (model_validate("JobDescriptor", req, &cause) != 0)
		free(cause);
	cause = NULL;
	if (model_validate("ListJobsRequest", req, &cause) != 0)
		free(cause);
	cause = NULL;
	if (jobspec_validate_tags(json_object_object_get(req, "Tags"),
	    &cause) != 0)
		free(cause);
	cause = NULL;

	if (json_object_is_type(req, json_type_string)) {
		arn = json_object_get_string(req);
		bucket = key = NULL;
		if (jobspec_arn_bucket(arn, &bucket, &key, &cause) == 0) {
			free(bucket);
			free(key);
		} else
			free(cause);
		cause = NULL;
		if (model_parse_time(arn, &(int64_t){ 0 }, &cause) != 0)
			free(cause);
	}
	json_object_put(req);
	return (0);
}
