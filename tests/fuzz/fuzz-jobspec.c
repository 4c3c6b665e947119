/*
 * Fuzz target for job specs from clients: bytes as JSON, then the model
 * validator and the semantic checks, with and without a local manifest.
 */
#include <stdint.h>
#include <stdlib.h>

#include <json-c/json.h>

#include "s3batchd.h"
#include "model.h"
#include "jobspec.h"

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
		if (jobspec_check(req, local, &cause) == 0)
			(void)jobspec_operation_name(req);
		free(cause);
		cause = NULL;
	}
	if (model_validate("CreateJobRequest", req, &cause) == 0 &&
	    jobspec_validate(req, 0, &cause) == 0 &&
	    jobspec_operation_name(req) == NULL)
		abort();	/* a valid job has exactly one operation */
	free(cause);
	cause = NULL;
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
