/*
 * Fuzz target for inventory configurations from clients
 * (put-bucket-inventory-configuration): bytes as JSON, then
 * inv_config_parse (Amazon's model, the extensions, the job template and
 * its filter); a configuration it accepts must schedule sanely.
 */
#include <stdint.h>
#include <stdlib.h>

#include <json-c/json.h>

#include "s3batchd.h"
#include "inventory.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct json_tokener	*tok;
	struct json_object	*doc;
	struct inv_config	*c = NULL;
	char			*cause = NULL;
	time_t			 t0 = 1764806400, t;	/* 2025-12-04 */

	if (len > 1024 * 1024)
		return (0);
	if ((tok = json_tokener_new()) == NULL)
		return (0);
	doc = json_tokener_parse_ex(tok, (const char *)data, (int)len);
	json_tokener_free(tok);
	if (doc == NULL)
		return (0);
	/* Accepted with no cause, or refused with one. */
	if (inv_config_parse(doc, "fuzz-bucket", NULL, &c, &cause) == 0) {
		if (c == NULL || cause != NULL)
			abort();
		t = inv_next_run(c, t0);
		if (t <= t0 || t - t0 > 7 * 86400)
			abort();
		if (inv_last_due(c, t0, t) != t)
			abort();
		inv_config_free(c);
	} else if (c != NULL || cause == NULL)
		abort();
	free(cause);
	json_object_put(doc);
	return (0);
}
