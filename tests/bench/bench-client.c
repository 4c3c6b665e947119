/*
 * bench-client: the floor to compare the daemon's tagging throughput with.
 * A minimal keep-alive client issuing the same signed PutObjectTagging
 * requests (PUT /bucket/key?tagging, a small Tagging XML body, Content-MD5,
 * x-amz-content-sha256) at a fixed concurrency over libcurl multi, driven by
 * curl_multi_poll() (no event library), signed by the project's sigv4.c.
 * Prints requests/s and latency percentiles; it is not a pass/fail test.
 *
 * usage: bench-client [-v] [-K nkeys] [-r region] [-t key=value] endpoint
 *	      access-key secret bucket key-prefix count concurrency
 *
 * Request i goes to key PREFIX%08u of i modulo nkeys (default count): the
 * keys tests/bench/setup_objects.py creates.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "s3batchd.h"
#include "sigv4.h"

#define BENCH_MAX_STATUS	600
#define BENCH_ERR_SAMPLE	512

struct bench_slot {
	CURL			*easy;
	struct curl_slist	*headers;
	uint64_t		 index;
	uint64_t		 start_us;
	struct buf		 body;		/* reply, kept for errors */
	char			 errbuf[CURL_ERROR_SIZE];
};

struct bench {
	/* What to send. */
	char			*endpoint;	/* scheme://host[:port] */
	char			*host;		/* host[:port] as sent */
	const char		*region;
	struct sigv4_creds	 creds;
	const char		*bucket;
	const char		*prefix;
	uint64_t		 count;
	uint64_t		 nkeys;
	int			 concurrency;
	int			 verbose;
	char			*xml;		/* the Tagging body */
	char			 xml_sha256[SIGV4_HEX_SIZE];
	char			 xml_md5[32];	/* base64 of 16 bytes */

	/* What came back. */
	uint64_t		 next;		/* next request index */
	uint64_t		 done;
	uint64_t		 ok;
	uint64_t		 transport_errors;
	uint64_t		 connections;
	uint64_t		 status[BENCH_MAX_STATUS];
	uint64_t		*latency_us;	/* per request */
	char			*first_error;
};

static __dead void
bench_usage(void)
{
	fprintf(stderr, "usage: bench-client [-v] [-K nkeys] [-r region] "
	    "[-t key=value]\n"
	    "           endpoint access-key secret bucket key-prefix count "
	    "concurrency\n");
	exit(2);
}

static uint64_t
bench_now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000);
}

static uint64_t
bench_number(const char *what, const char *s, uint64_t min, uint64_t max)
{
	char			*end;
	unsigned long long	 n;

	errno = 0;
	n = strtoull(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || *s == '-' ||
	    n < min || n > max) {
		fprintf(stderr, "bench-client: %s: \"%s\" is not a number in "
		    "%" PRIu64 "..%" PRIu64 "\n", what, s, min, max);
		exit(2);
	}
	return (n);
}

/* Split "http://host:port" into the URL base and the Host header. */
static int
bench_endpoint(struct bench *b, const char *url, char **cause)
{
	const char	*p, *slash;
	size_t		 len;

	if ((p = strstr(url, "://")) == NULL ||
	    (strncmp(url, "http://", 7) != 0 &&
	    strncmp(url, "https://", 8) != 0)) {
		xasprintf(cause, "endpoint \"%s\": want http://HOST[:PORT] "
		    "or https://HOST[:PORT]", url);
		return (-1);
	}
	p += 3;
	len = strlen(url);
	while (len > 0 && url[len - 1] == '/')
		len--;
	if ((slash = memchr(p, '/', len - (size_t)(p - url))) != NULL) {
		xasprintf(cause, "endpoint \"%s\": a path is not supported",
		    url);
		return (-1);
	}
	if (p == url + len) {
		xasprintf(cause, "endpoint \"%s\": no host", url);
		return (-1);
	}
	b->endpoint = xstrndup(url, len);
	b->host = xstrndup(p, len - (size_t)(p - url));
	return (0);
}

static void
bench_body(struct bench *b, const char *tag)
{
	struct buf	 xml;
	const char	*eq;
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen;

	if ((eq = strchr(tag, '=')) == NULL || eq == tag) {
		fprintf(stderr, "bench-client: -t %s: want key=value\n", tag);
		exit(2);
	}
	buf_init(&xml);
	buf_adds(&xml, "<Tagging xmlns=\"http://s3.amazonaws.com/doc/"
	    "2006-03-01/\"><TagSet><Tag><Key>");
	buf_add(&xml, tag, (size_t)(eq - tag));
	buf_adds(&xml, "</Key><Value>");
	buf_adds(&xml, eq + 1);
	buf_adds(&xml, "</Value></Tag></TagSet></Tagging>");

	/* The body is the same for every request: hash it once. */
	sigv4_sha256_hex(xml.data, xml.len, b->xml_sha256);
	if (!EVP_Digest(xml.data, xml.len, md, &mdlen, EVP_md5(), NULL))
		fatalx("MD5 failed");
	EVP_EncodeBlock((unsigned char *)b->xml_md5, md, (int)mdlen);
	b->xml = buf_detach(&xml);
}

static size_t
bench_write_cb(char *data, size_t size, size_t n, void *arg)
{
	struct bench_slot	*s = arg;
	size_t			 len = size * n;

	if (s->body.len < BENCH_ERR_SAMPLE)
		buf_add(&s->body, data, len);
	return (len);
}

static void
bench_add_header(struct bench_slot *s, const char *name, const char *value)
{
	char	*line;

	xasprintf(&line, "%s: %s", name, value);
	if ((s->headers = curl_slist_append(s->headers, line)) == NULL)
		fatalx("curl_slist_append failed");
	freezero_str(line);
}

/* Sign request b->next and hand it to slot s. */
static void
bench_prepare(struct bench *b, struct bench_slot *s)
{
	struct sigv4_header	 hdrs[2];
	struct sigv4_request	 req;
	struct sigv4_params	 params;
	struct sigv4_signed	 sig;
	struct buf		 path, url;
	char			*key, *cause = NULL;
	size_t			 i;

	s->index = b->next++;
	xasprintf(&key, "%s%08" PRIu64, b->prefix, s->index % b->nkeys);
	buf_init(&path);
	buf_addc(&path, '/');
	buf_adds(&path, b->bucket);
	buf_addc(&path, '/');
	sigv4_encode_key(&path, key, strlen(key));
	free(key);

	hdrs[0].name = "Content-MD5";
	hdrs[0].value = b->xml_md5;
	hdrs[1].name = "Content-Type";
	hdrs[1].value = "application/xml";
	memset(&req, 0, sizeof req);
	req.method = "PUT";
	req.host = b->host;
	req.path = path.data;
	req.query = "tagging";
	req.headers = hdrs;
	req.nheaders = nitems(hdrs);
	req.payload_hash = b->xml_sha256;
	memset(&params, 0, sizeof params);
	params.region = b->region;
	params.service = "s3";
	params.time_ms = time_now_ms();
	params.s3 = 1;
	if (sigv4_sign(&req, &b->creds, &params, &sig, &cause) != 0)
		fatalx("signing %s: %s", path.data, cause);

	curl_slist_free_all(s->headers);
	s->headers = NULL;
	/* Sent exactly as signed; "Expect:" stops curl's 100-continue. */
	bench_add_header(s, "Host", b->host);
	for (i = 0; i < nitems(hdrs); i++)
		bench_add_header(s, hdrs[i].name, hdrs[i].value);
	for (i = 0; i < sig.nheaders; i++)
		bench_add_header(s, sig.headers[i].name, sig.headers[i].value);
	if ((s->headers = curl_slist_append(s->headers, "Expect:")) == NULL)
		fatalx("curl_slist_append failed");
	sigv4_signed_free(&sig);

	buf_init(&url);
	buf_adds(&url, b->endpoint);
	buf_adds(&url, path.data);
	buf_adds(&url, "?tagging");
	curl_easy_setopt(s->easy, CURLOPT_URL, url.data);
	curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->headers);
	buf_free(&url);
	buf_free(&path);

	buf_reset(&s->body);
	s->errbuf[0] = '\0';
	s->start_us = bench_now_us();
}

static void
bench_slot_init(struct bench *b, struct bench_slot *s)
{
	if ((s->easy = curl_easy_init()) == NULL)
		fatalx("curl_easy_init failed");
	buf_init(&s->body);
	curl_easy_setopt(s->easy, CURLOPT_CUSTOMREQUEST, "PUT");
	curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, b->xml);
	curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(b->xml));
	curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, bench_write_cb);
	curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(s->easy, CURLOPT_ERRORBUFFER, s->errbuf);
	curl_easy_setopt(s->easy, CURLOPT_PRIVATE, s);
	curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->easy, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(s->easy, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, 120000L);
	curl_easy_setopt(s->easy, CURLOPT_VERBOSE, (long)b->verbose);
}

static void
bench_finish(struct bench *b, struct bench_slot *s, CURLcode rc)
{
	long	status = 0;
	long	conns = 0;

	b->latency_us[b->done++] = bench_now_us() - s->start_us;
	curl_easy_getinfo(s->easy, CURLINFO_NUM_CONNECTS, &conns);
	b->connections += (uint64_t)conns;
	if (rc != CURLE_OK) {
		b->transport_errors++;
		if (b->first_error == NULL)
			xasprintf(&b->first_error, "request %" PRIu64 ": %s",
			    s->index, s->errbuf[0] != '\0' ? s->errbuf :
			    curl_easy_strerror(rc));
		return;
	}
	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 0 && status < BENCH_MAX_STATUS)
		b->status[status]++;
	if (status >= 200 && status < 300)
		b->ok++;
	else if (b->first_error == NULL)
		xasprintf(&b->first_error, "request %" PRIu64 ": HTTP %ld: %s",
		    s->index, status, s->body.data);
}

static void
bench_run(struct bench *b)
{
	struct bench_slot	*slots, *s;
	struct CURLMsg		*msg;
	char			*priv;
	CURLM			*multi;
	CURLMcode		 mc;
	CURLcode		 rc;
	int			 i, running, left;

	if ((multi = curl_multi_init()) == NULL)
		fatalx("curl_multi_init failed");
	/* One kept-alive connection per slot, never more. */
	curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS,
	    (long)b->concurrency);
	curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)b->concurrency);
	slots = xcalloc((size_t)b->concurrency, sizeof *slots);
	for (i = 0; i < b->concurrency; i++) {
		bench_slot_init(b, &slots[i]);
		if (b->next < b->count) {
			bench_prepare(b, &slots[i]);
			curl_multi_add_handle(multi, slots[i].easy);
		}
	}

	while (b->done < b->count) {
		if ((mc = curl_multi_perform(multi, &running)) != CURLM_OK)
			fatalx("curl_multi_perform: %s", curl_multi_strerror(mc));
		while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			/* msg is invalid once its handle is removed. */
			rc = msg->data.result;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
			    &priv);
			s = (struct bench_slot *)(void *)priv;
			curl_multi_remove_handle(multi, s->easy);
			bench_finish(b, s, rc);
			if (b->next < b->count) {
				bench_prepare(b, s);
				curl_multi_add_handle(multi, s->easy);
			}
		}
		if (b->done == b->count)
			break;
		mc = curl_multi_poll(multi, NULL, 0, 1000, NULL);
		if (mc != CURLM_OK)
			fatalx("curl_multi_poll: %s", curl_multi_strerror(mc));
	}

	for (i = 0; i < b->concurrency; i++) {
		curl_easy_cleanup(slots[i].easy);
		curl_slist_free_all(slots[i].headers);
		buf_free(&slots[i].body);
	}
	free(slots);
	curl_multi_cleanup(multi);
}

static int
bench_cmp_u64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x < y ? -1 : x > y);
}

/* Nearest-rank percentile of the sorted latencies, in ms. */
static double
bench_pct(const struct bench *b, double pct)
{
	uint64_t	rank;

	rank = (uint64_t)((pct / 100.0) * (double)b->done + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > b->done)
		rank = b->done;
	return ((double)b->latency_us[rank - 1] / 1000.0);
}

static void
bench_print(struct bench *b, double secs)
{
	uint64_t	sum = 0, i;
	double		rps, mean;
	const char	*sep = "";

	qsort(b->latency_us, b->done, sizeof *b->latency_us, bench_cmp_u64);
	for (i = 0; i < b->done; i++)
		sum += b->latency_us[i];
	rps = secs > 0 ? (double)b->done / secs : 0;
	mean = b->done > 0 ? (double)sum / (double)b->done / 1000.0 : 0;

	printf("endpoint       %s (bucket %s, keys %s%08u..%08" PRIu64 ")\n",
	    b->endpoint, b->bucket, b->prefix, 0, b->nkeys - 1);
	printf("requests       %" PRIu64 " PutObjectTagging, concurrency %d\n",
	    b->done, b->concurrency);
	printf("ok (2xx)       %" PRIu64 "\n", b->ok);
	printf("http errors    %" PRIu64, b->done - b->ok - b->transport_errors);
	for (i = 0; i < BENCH_MAX_STATUS; i++) {
		if (b->status[i] == 0 || (i >= 200 && i < 300))
			continue;
		printf("%s%s%" PRIu64 " x %" PRIu64, sep, *sep ? "" : "  (",
		    b->status[i], i);
		sep = ", ";
	}
	printf("%s\n", *sep ? ")" : "");
	printf("transport err  %" PRIu64 "\n", b->transport_errors);
	printf("connections    %" PRIu64 " opened\n", b->connections);
	printf("elapsed        %.3f s\n", secs);
	printf("requests/s     %.1f\n", rps);
	printf("latency ms     mean %.2f  p50 %.2f  p90 %.2f  p99 %.2f  "
	    "p99.9 %.2f  max %.2f\n", mean, bench_pct(b, 50), bench_pct(b, 90),
	    bench_pct(b, 99), bench_pct(b, 99.9), bench_pct(b, 100));
	if (b->first_error != NULL)
		printf("first error    %s\n", b->first_error);
	/* One line for scripts. */
	printf("RESULT client=bench-client requests=%" PRIu64 " ok=%" PRIu64
	    " concurrency=%d seconds=%.3f rps=%.1f p50_ms=%.2f p99_ms=%.2f\n",
	    b->done, b->ok, b->concurrency, secs, rps, bench_pct(b, 50),
	    bench_pct(b, 99));
}

int
main(int argc, char **argv)
{
	struct bench	 b;
	const char	*tag = "bench=done";
	char		*cause = NULL;
	uint64_t	 t0, t1;
	int		 ch;

	log_init(LOG_TO_STDERR, 0);
	memset(&b, 0, sizeof b);
	b.region = "us-east-1";
	while ((ch = getopt(argc, argv, "K:r:t:v")) != -1) {
		switch (ch) {
		case 'K':
			b.nkeys = bench_number("-K", optarg, 1, UINT32_MAX);
			break;
		case 'r':
			b.region = optarg;
			break;
		case 't':
			tag = optarg;
			break;
		case 'v':
			b.verbose = 1;
			break;
		default:
			bench_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 7)
		bench_usage();
	if (bench_endpoint(&b, argv[0], &cause) != 0) {
		fprintf(stderr, "bench-client: %s\n", cause);
		free(cause);
		return (2);
	}
	b.creds.access_key_id = argv[1];
	b.creds.secret_access_key = argv[2];
	b.bucket = argv[3];
	b.prefix = argv[4];
	b.count = bench_number("count", argv[5], 1, UINT32_MAX);
	b.concurrency = (int)bench_number("concurrency", argv[6], 1, 4096);
	if (b.nkeys == 0)
		b.nkeys = b.count;
	bench_body(&b, tag);
	b.latency_us = xcalloc(b.count, sizeof *b.latency_us);

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatalx("curl_global_init failed");
	t0 = bench_now_us();
	bench_run(&b);
	t1 = bench_now_us();
	bench_print(&b, (double)(t1 - t0) / 1e6);
	curl_global_cleanup();

	free(b.endpoint);
	free(b.host);
	free(b.xml);
	free(b.latency_us);
	free(b.first_error);
	return (b.ok == b.count ? 0 : 1);
}
