/*
 * Fuzz target for the configuration parser: cfg_load_buffer on arbitrary
 * bytes, then the code that walks a loaded configuration.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "s3batchd.h"
#include "cfg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static FILE	*devnull;
	struct cfg	*cfg, *def;
	char		*cause = NULL;

	if (devnull == NULL && (devnull = fopen("/dev/null", "w")) == NULL)
		abort();
	cfg = cfg_load_buffer("fuzz.conf", (const char *)data, len, &cause);
	if (cfg == NULL) {
		if (cause == NULL)
			abort();
		free(cause);
		return (0);
	}
	cfg_print(cfg, devnull);
	def = cfg_default();
	if (cfg_check_reload(def, cfg, &cause) != 0)
		free(cause);
	cfg_free(def);
	(void)cfg_bucket_endpoint(cfg, "bucket");
	(void)cfg_profile_for_role(cfg, "arn:aws:iam::123456789012:role/p");
	cfg_free(cfg);
	return (0);
}
