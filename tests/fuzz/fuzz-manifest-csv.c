/*
 * Fuzz the manifest row parser. The first byte picks the column layout,
 * the chunk size and the line limit; the rest is the manifest.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "s3batchd.h"
#include "manifest.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const fuzz_layouts[][4] = {
	{ "Bucket", "Key", NULL, NULL },
	{ "Bucket", "Key", "VersionId", NULL },
	{ "Ignore", "Key", "Ignore", "Bucket" },
};

static const char fuzz_inventory_json[] =
	"{\"sourceBucket\":\"src\",\"destinationBucket\":\"arn:aws:s3:::dst\","
	"\"version\":\"2016-11-30\",\"fileFormat\":\"CSV\","
	"\"fileSchema\":\"Bucket, Key, VersionId, IsLatest, IsDeleteMarker, "
	"Size, ETag\",\"files\":[]}";

/* Whatever the input, a delivered row must be well formed. */
static int
fuzz_row_cb(const struct manifest_row *row, void *arg, char **cause)
{
	if (row->bucket == NULL || strlen(row->bucket) < 3 ||
	    row->key == NULL || row->key_len == 0 ||
	    strlen(row->key) != row->key_len ||
	    row->key_len > MANIFEST_MAX_KEY ||
	    !utf8_valid(row->key, row->key_len) || row->line == 0 ||
	    (row->version_id != NULL && row->version_id[0] == '\0') ||
	    (row->etag != NULL && row->etag[0] == '\0'))
		abort();
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct manifest_inventory	*inv;
	struct manifest_csv			*mc;
	struct manifest_gunzip			*gz = NULL;
	size_t					 layout, chunk, off, n, nf;
	char					*cause = NULL;
	uint8_t					 sel;
	int					 rc = 0;

	if (len == 0)
		return (0);
	sel = data[0];
	data++;
	len--;
	if (inv == NULL && manifest_inventory_parse(fuzz_inventory_json,
	    sizeof fuzz_inventory_json - 1, &inv, &cause) != 0)
		abort();

	layout = sel & 3;
	chunk = 1 + ((sel >> 2) & 0x1f) * 3;
	if (layout < nitems(fuzz_layouts)) {
		for (nf = 0; nf < 4 && fuzz_layouts[layout][nf] != NULL; nf++)
			/* nothing */;
		mc = manifest_csv_new(fuzz_layouts[layout], nf, &cause);
	} else
		mc = manifest_inventory_csv_new(inv, "fuzz.csv", &cause);
	if (mc == NULL)
		abort();
	if (sel & 0x80) {
		if (layout == 3)
			gz = manifest_gunzip_new(mc, NULL);
		else
			manifest_csv_set_max_line(mc, 64);
	}
	for (off = 0; off < len && rc == 0; off += n) {
		n = len - off < chunk ? len - off : chunk;
		if (gz != NULL)
			rc = manifest_gunzip_feed(gz, data + off, n,
			    fuzz_row_cb, NULL, &cause);
		else
			rc = manifest_csv_feed(mc, data + off, n, fuzz_row_cb,
			    NULL, &cause);
	}
	if (rc == 0) {
		if (gz != NULL)
			rc = manifest_gunzip_finish(gz, fuzz_row_cb, NULL,
			    &cause);
		else
			rc = manifest_csv_finish(mc, fuzz_row_cb, NULL, &cause);
	}
	if ((rc == 0) != (cause == NULL))
		abort();
	free(cause);
	manifest_gunzip_free(gz);
	manifest_csv_free(mc);
	return (0);
}
