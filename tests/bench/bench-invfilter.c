/*
 * Inventory row filter throughput (invfilter.h): N synthetic rows of an
 * inventory report with the encryption columns, each through
 * invfilter_match for a few typical filters, and the inventory row parser
 * with and without Manifest.Filter. Prints figures; it is not a pass/fail
 * test. Usage: bench-invfilter [rows]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "s3batchd.h"
#include "invfilter.h"
#include "manifest.h"

#define BENCH_CHUNK	65536
#define BENCH_COLUMNS	11

static const char *const bench_schema[BENCH_COLUMNS] = {
	"Bucket", "Key", "VersionId", "IsLatest", "IsDeleteMarker", "Size",
	"LastModifiedDate", "ETag", "StorageClass", "EncryptionStatus",
	"BucketKeyStatus",
};

static const char *const bench_filters[] = {
	"s._11 = 'DISABLED'",
	"EncryptionStatus = 'SSE-KMS' AND BucketKeyStatus = 'DISABLED'",
	"s.Key LIKE 'data/00%' AND CAST(s.Size AS INT) > 1000",
	"s.StorageClass IN ('STANDARD_IA', 'GLACIER') OR "
	    "lower(s.EncryptionStatus) = 'not-sse'",
};

static double
bench_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/* Row i's fields, written into line (NUL after each). */
static void
bench_row(uint64_t i, char *line, size_t size, const char **v, size_t *lens)
{
	static const char *const enc[] = { "SSE-KMS", "SSE-S3", "NOT-SSE" };
	static const char *const sc[] = { "STANDARD", "STANDARD_IA" };
	char	*p = line, *end = line + size;
	size_t	 k;
	int	 n;

	for (k = 0; k < BENCH_COLUMNS; k++) {
		switch (k) {
		case 0: n = snprintf(p, (size_t)(end - p), "example-bucket");
			break;
		case 1: n = snprintf(p, (size_t)(end - p), "data/%04" PRIu64
			    "/obj%%20%08" PRIu64 ".bin", i % 1000, i);
			break;
		case 2: n = 0;		/* no VersionId: unversioned */
			*p = '\0';
			break;
		case 3: n = snprintf(p, (size_t)(end - p), "true");
			break;
		case 4: n = snprintf(p, (size_t)(end - p), "false");
			break;
		case 5: n = snprintf(p, (size_t)(end - p), "%" PRIu64,
			    (i * 7919) % 100000);
			break;
		case 6: n = snprintf(p, (size_t)(end - p),
			    "2024-01-%02dT10:00:00.000Z", (int)(1 + i % 28));
			break;
		case 7: n = snprintf(p, (size_t)(end - p), "%032" PRIx64, i);
			break;
		case 8: n = snprintf(p, (size_t)(end - p), "%s", sc[i % 2]);
			break;
		case 9: n = snprintf(p, (size_t)(end - p), "%s", enc[i % 3]);
			break;
		default: n = snprintf(p, (size_t)(end - p), "%s",
			    i % 4 == 0 ? "DISABLED" : "ENABLED");
			break;
		}
		v[k] = p;
		lens[k] = (size_t)n;
		p += n + 1;
	}
}

static void
bench_match(const char *where, uint64_t n)
{
	struct invfilter	*f;
	const char		*v[BENCH_COLUMNS];
	size_t			 lens[BENCH_COLUMNS];
	char			 line[512], *cause = NULL;
	uint64_t		 i, sel = 0;
	double			 t, total = 0;
	int			 r;

	if (invfilter_new(where, bench_schema, BENCH_COLUMNS, &f,
	    &cause) != 0)
		fatalx("%s: %s", where, cause);
	for (i = 0; i < n; i++) {
		bench_row(i, line, sizeof line, v, lens);
		t = bench_now();
		r = invfilter_match(f, v, lens, BENCH_COLUMNS, &cause);
		total += bench_now() - t;
		if (r == -1)
			fatalx("%s: %s", where, cause);
		sel += (uint64_t)r;
	}
	invfilter_free(f);
	printf("match  %-62.62s %8" PRIu64 " sel %10.0f rows/s %6.2f us/row\n",
	    where, sel, (double)n / total, total * 1e6 / (double)n);
}

static int
bench_row_cb(const struct manifest_row *row, void *arg, char **cause)
{
	uint64_t	*sum = arg;

	*sum += row->key_len;
	return (0);
}

/* The inventory row parser over the same rows as CSV, filter or none. */
static void
bench_parse(const struct buf *csv, const char *where, uint64_t n)
{
	static const char	 json[] = "{\"sourceBucket\":\"src\","
	    "\"destinationBucket\":\"arn:aws:s3:::dst\",\"version\":"
	    "\"2016-11-30\",\"fileFormat\":\"CSV\",\"fileSchema\":"
	    "\"Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, "
	    "LastModifiedDate, ETag, StorageClass, EncryptionStatus, "
	    "BucketKeyStatus\",\"files\":[]}";
	struct manifest_inventory	*inv;
	struct manifest_csv		*mc;
	struct invfilter		*f = NULL;
	uint64_t			 sum = 0;
	size_t				 off, len;
	char				*cause = NULL;
	double				 t;

	if (manifest_inventory_parse(json, sizeof json - 1, &inv, &cause) != 0)
		fatalx("%s", cause);
	if (where != NULL && invfilter_new(where,
	    (const char *const *)inv->columns, inv->ncolumns, &f, &cause) != 0)
		fatalx("%s", cause);
	t = bench_now();
	if ((mc = manifest_inventory_csv_new(inv, "bench.csv", &cause)) == NULL)
		fatalx("%s", cause);
	manifest_csv_set_filter(mc, f);
	for (off = 0; off < csv->len; off += len) {
		len = csv->len - off < BENCH_CHUNK ? csv->len - off :
		    BENCH_CHUNK;
		if (manifest_csv_feed(mc, csv->data + off, len, bench_row_cb,
		    &sum, &cause) != 0)
			fatalx("%s", cause);
	}
	if (manifest_csv_finish(mc, bench_row_cb, &sum, &cause) != 0)
		fatalx("%s", cause);
	t = bench_now() - t;
	if (manifest_csv_rows(mc) + manifest_csv_filtered(mc) != n)
		fatalx("parsed %" PRIu64 " rows", manifest_csv_rows(mc));
	printf("parse  %-62.62s %8" PRIu64 " sel %10.0f rows/s %6.2f us/row\n",
	    where == NULL ? "(no filter)" : where, manifest_csv_rows(mc),
	    (double)n / t, t * 1e6 / (double)n);
	manifest_csv_free(mc);
	invfilter_free(f);
	manifest_inventory_free(inv);
}

int
main(int argc, char **argv)
{
	struct buf	 csv;
	const char	*v[BENCH_COLUMNS];
	size_t		 lens[BENCH_COLUMNS], k;
	char		 line[512], *end;
	uint64_t	 n = 1000000, i;

	if (argc > 1) {
		n = strtoull(argv[1], &end, 10);
		if (*end != '\0' || n == 0) {
			fprintf(stderr, "usage: bench-invfilter [rows]\n");
			return (1);
		}
	}
	for (k = 0; k < nitems(bench_filters); k++)
		bench_match(bench_filters[k], n);
	buf_init(&csv);
	for (i = 0; i < n; i++) {
		bench_row(i, line, sizeof line, v, lens);
		for (k = 0; k < BENCH_COLUMNS; k++) {
			buf_addf(&csv, "%s\"%.*s\"", k == 0 ? "" : ",",
			    (int)lens[k], v[k]);
		}
		buf_addc(&csv, '\n');
	}
	bench_parse(&csv, NULL, n);
	for (k = 0; k < nitems(bench_filters); k++)
		bench_parse(&csv, bench_filters[k], n);
	buf_free(&csv);
	return (0);
}
