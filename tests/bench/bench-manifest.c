/*
 * Manifest parser throughput: generate N rows in memory and parse them in
 * 64 KiB chunks, as plain CSV and as gzip'd inventory data. Prints figures;
 * it is not a pass/fail test. Usage: bench-manifest [rows]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ZLIB_CONST
#include <zlib.h>

#include "s3batchd.h"
#include "manifest.h"

#define BENCH_CHUNK	65536

static int
bench_row_cb(const struct manifest_row *row, void *arg, char **cause)
{
	uint64_t	*sum = arg;

	*sum += row->key_len;
	return (0);
}

static double
bench_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static void
bench_report(const char *what, uint64_t rows, size_t bytes, double secs)
{
	printf("%-28s %10" PRIu64 " rows %8.1f MB %7.3f s %12.0f rows/s "
	    "%8.1f MB/s\n", what, rows, (double)bytes / 1e6, secs,
	    (double)rows / secs, (double)bytes / 1e6 / secs);
}

static void
bench_csv(const struct buf *in, uint64_t n)
{
	static const char *const fields[] = { "Bucket", "Key" };
	struct manifest_csv	*mc;
	uint64_t		 sum = 0;
	size_t			 off, len;
	char			*cause = NULL;
	double			 t;

	t = bench_now();
	if ((mc = manifest_csv_new(fields, 2, &cause)) == NULL)
		fatalx("%s", cause);
	for (off = 0; off < in->len; off += len) {
		len = in->len - off < BENCH_CHUNK ? in->len - off : BENCH_CHUNK;
		if (manifest_csv_feed(mc, in->data + off, len, bench_row_cb,
		    &sum, &cause) != 0)
			fatalx("%s", cause);
	}
	if (manifest_csv_finish(mc, bench_row_cb, &sum, &cause) != 0)
		fatalx("%s", cause);
	t = bench_now() - t;
	if (manifest_csv_rows(mc) != n)
		fatalx("parsed %" PRIu64 " rows, expected %" PRIu64,
		    manifest_csv_rows(mc), n);
	manifest_csv_free(mc);
	bench_report("S3BatchOperations_CSV", n, in->len, t);
}

static void
bench_inventory(const struct buf *in, uint64_t n)
{
	static const char	 json[] = "{\"sourceBucket\":\"src\","
	    "\"destinationBucket\":\"arn:aws:s3:::dst\",\"version\":"
	    "\"2016-11-30\",\"fileFormat\":\"CSV\",\"fileSchema\":"
	    "\"Bucket, Key, Size, ETag\",\"files\":[]}";
	struct manifest_inventory	*inv;
	struct manifest_csv		*mc;
	struct manifest_gunzip		*g;
	struct buf			 gz;
	z_stream			 z;
	unsigned char			 tmp[BENCH_CHUNK];
	uint64_t			 sum = 0;
	size_t				 off, len;
	char				*cause = NULL;
	double				 t;
	int				 ret;

	if (manifest_inventory_parse(json, sizeof json - 1, &inv, &cause) != 0)
		fatalx("%s", cause);
	buf_init(&gz);
	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		fatalx("deflateInit2");
	z.next_in = (const unsigned char *)in->data;
	z.avail_in = (uInt)in->len;
	do {
		z.next_out = tmp;
		z.avail_out = sizeof tmp;
		ret = deflate(&z, Z_FINISH);
		buf_add(&gz, tmp, sizeof tmp - z.avail_out);
	} while (ret == Z_OK);
	deflateEnd(&z);

	t = bench_now();
	if ((mc = manifest_inventory_csv_new(inv, "bench.csv.gz",
	    &cause)) == NULL)
		fatalx("%s", cause);
	g = manifest_gunzip_new(mc, NULL);
	for (off = 0; off < gz.len; off += len) {
		len = gz.len - off < BENCH_CHUNK ? gz.len - off : BENCH_CHUNK;
		if (manifest_gunzip_feed(g, gz.data + off, len, bench_row_cb,
		    &sum, &cause) != 0)
			fatalx("%s", cause);
	}
	if (manifest_gunzip_finish(g, bench_row_cb, &sum, &cause) != 0)
		fatalx("%s", cause);
	t = bench_now() - t;
	if (manifest_csv_rows(mc) != n)
		fatalx("parsed %" PRIu64 " inventory rows", manifest_csv_rows(mc));
	manifest_gunzip_free(g);
	manifest_csv_free(mc);
	bench_report("Inventory CSV (gzip + MD5)", n, in->len, t);
	printf("%-28s %10s      %8.1f MB compressed\n", "", "",
	    (double)gz.len / 1e6);
	buf_free(&gz);
	manifest_inventory_free(inv);
}

int
main(int argc, char **argv)
{
	struct buf	 csv, inv;
	uint64_t	 n = 1000000, i;
	char		*end;

	if (argc > 1) {
		n = strtoull(argv[1], &end, 10);
		if (*end != '\0' || n == 0) {
			fprintf(stderr, "usage: bench-manifest [rows]\n");
			return (1);
		}
	}
	buf_init(&csv);
	buf_init(&inv);
	for (i = 0; i < n; i++) {
		/* Some keys need decoding, as real manifests do. */
		buf_addf(&csv, "example-bucket-%u,data/%04" PRIu64 "/obj%s"
		    "%08" PRIu64 ".bin\n", (unsigned)(i % 3), i % 1000,
		    i % 4 == 0 ? "%20" : "-", i);
		buf_addf(&inv, "\"example-bucket\",\"data/%04" PRIu64 "/obj+%08"
		    PRIu64 ".bin\",\"%" PRIu64 "\",\"%032" PRIx64 "\"\n",
		    i % 1000, i, i * 7, i);
	}
	bench_csv(&csv, n);
	bench_inventory(&inv, n);
	buf_free(&csv);
	buf_free(&inv);
	return (0);
}
