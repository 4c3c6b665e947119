/*
 * Fuzz the inventory manifest.json parser; whatever parses must also make
 * a row parser for each listed file, and a Manifest.Filter must compile
 * against whatever column names its fileSchema has (they go into the
 * filter's table declaration).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "s3batchd.h"
#include "invfilter.h"
#include "manifest.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
fuzz_row_cb(const struct manifest_row *row, void *arg, char **cause)
{
	if (strlen(row->key) != row->key_len)
		abort();
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const char		 row[] = "\"src-bkt\",\"a%20b\"\n";
	struct manifest_inventory	*inv = NULL;
	struct manifest_csv		*mc;
	struct invfilter		*f = NULL;
	char				*cause = NULL;
	size_t				 i;

	if (manifest_inventory_parse(data, len, &inv, &cause) != 0) {
		if (cause == NULL || inv != NULL)
			abort();
		free(cause);
		return (0);
	}
	if (inv->ncolumns < 2 || inv->source_bucket == NULL ||
	    inv->destination_bucket == NULL)
		abort();
	if (invfilter_new("s._1 <> '' AND (s.Key LIKE '%a%' OR s._2 = "
	    "s.\"Bucket\")", (const char *const *)inv->columns,
	    inv->ncolumns, &f, &cause) != 0)
		abort();
	for (i = 0; i < inv->nfiles && i < 4; i++) {
		if (strlen(inv->files[i].md5) != 32)
			abort();
		mc = manifest_inventory_csv_new(inv, inv->files[i].key, &cause);
		if (mc == NULL)
			abort();
		manifest_csv_set_filter(mc, f);
		if (manifest_csv_feed(mc, row, sizeof row - 1, fuzz_row_cb,
		    NULL, &cause) != 0 ||
		    manifest_csv_finish(mc, fuzz_row_cb, NULL, &cause) != 0) {
			free(cause);
			cause = NULL;
		}
		manifest_csv_free(mc);
	}
	invfilter_free(f);
	manifest_inventory_free(inv);
	return (0);
}
