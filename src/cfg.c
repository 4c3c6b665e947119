/*
 * The configuration file. One options table (cfg_options) drives parsing,
 * defaults, bounds, cfg_print, cfg_help, the man page fragments and the
 * reload check; code outside the table only handles what a single key
 * cannot express (sections, credential sources, cross-references).
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "s3batchd.h"
#include "cfg.h"

enum cfg_type {
	CFG_STRING,
	CFG_PATH,	/* absolute; max bounds its length */
	CFG_DURATION,	/* uint64_t milliseconds */
	CFG_SIZE,	/* uint64_t bytes */
	CFG_INT,	/* int */
	CFG_COUNT,	/* uint64_t */
	CFG_DOUBLE,
	CFG_BOOL,	/* int */
	CFG_ENUM,	/* int, from the option's values */
	CFG_GROUP,	/* a group name or number that exists */
	CFG_LISTEN,	/* host:port */
	CFG_URL		/* http(s)://host[:port][/base] */
};

static const char *cfg_type_names[] = {
	"string", "path", "duration", "size", "integer", "integer", "number",
	"boolean", "enum", "group", "host:port", "url"
};

/* Section kinds, as a bit mask so one key may belong to several. */
#define CFG_SEC_DAEMON		0x1
#define CFG_SEC_ENDPOINT	0x2
#define CFG_SEC_BUCKET		0x4
#define CFG_SEC_CREDENTIALS	0x8
#define CFG_SEC_LAMBDA		0x10
#define CFG_SEC_WINDOW		0x20
#define CFG_SEC_CREDS		(CFG_SEC_ENDPOINT|CFG_SEC_CREDENTIALS| \
				    CFG_SEC_LAMBDA)

#define CFG_O_RELOAD	0x1	/* a running daemon takes it on SIGHUP */
#define CFG_O_SECRET	0x2	/* never printed, wiped when freed */
#define CFG_O_REQUIRED	0x4	/* the section is invalid without it */
#define CFG_O_CREDS	0x8	/* offset is into struct cfg_credentials */

struct cfg_enum {
	const char	*name;
	int		 value;
};

static const struct cfg_enum cfg_addressing_values[] = {
	{ "path", CFG_ADDR_PATH },
	{ "virtual", CFG_ADDR_VIRTUAL },
	{ NULL, 0 }
};

static const struct cfg_enum cfg_inventory_priority_values[] = {
	{ "below-jobs", CFG_INV_BELOW_JOBS },
	{ "same-as-jobs", CFG_INV_SAME_AS_JOBS },
	{ NULL, 0 }
};

static const struct cfg_enum cfg_credentials_values[] = {
	{ "env", CFG_CRED_ENV },
	{ "systemd", CFG_CRED_SYSTEMD },
	{ NULL, 0 }
};

struct cfg_option {
	const char		*name;
	int			 sections;
	enum cfg_type		 type;
	size_t			 offset;
	int			 flags;
	const char		*def;	/* NULL: unset */
	const char		*min;	/* parsed like a value; NULL: none */
	const char		*max;
	const struct cfg_enum	*values;
	const char		*help;
};

#define D(f)	offsetof(struct cfg, f)
#define E(f)	offsetof(struct cfg_endpoint, f)
#define B(f)	offsetof(struct cfg_bucket, f)
#define C(f)	offsetof(struct cfg_credentials, f)
#define L(f)	offsetof(struct cfg_lambda, f)
#define W(f)	offsetof(struct cfg_window, f)
#define R	CFG_O_RELOAD

static const struct cfg_option cfg_options[] = {
	/* [daemon] */
	{ "state_dir", CFG_SEC_DAEMON, CFG_PATH, D(state_dir), 0,
	  LOCALSTATEDIR "/lib/s3batchd", NULL, NULL, NULL,
	  "Directory of the job store (SQLite database and its WAL)." },
	{ "control_socket", CFG_SEC_DAEMON, CFG_PATH, D(control_socket), 0,
	  RUNSTATEDIR "/s3batchd/control.sock", NULL, "107", NULL,
	  "Unix socket s3batchctl connects to, unless systemd passes one." },
	{ "control_group", CFG_SEC_DAEMON, CFG_GROUP, D(control_group), R,
	  NULL, NULL, NULL, NULL,
	  "Group whose members may run mutating commands, besides root and "
	  "the daemon's user. Unset: nobody else." },
	{ "metrics_listen", CFG_SEC_DAEMON, CFG_LISTEN, D(metrics_listen), 0,
	  NULL, NULL, NULL, NULL,
	  "Address of the Prometheus /metrics listener, such as "
	  "127.0.0.1:9580 or [::1]:9580. Unset: no listener." },
	{ "confirm_timeout", CFG_SEC_DAEMON, CFG_DURATION,
	  D(confirm_timeout_ms), R, "30d", "1s", "3650d", NULL,
	  "A job Suspended awaiting confirmation longer than this fails." },
	{ "job_retention", CFG_SEC_DAEMON, CFG_DURATION,
	  D(job_retention_ms), R, "90d", "1s", "3650d", NULL,
	  "A job in a terminal state longer than this is purged with its "
	  "tasks." },
	{ "max_inflight", CFG_SEC_DAEMON, CFG_INT, D(max_inflight), R,
	  "256", "1", "65536", NULL,
	  "Global cap on HTTP requests in flight." },
	{ "inventory_priority", CFG_SEC_DAEMON, CFG_ENUM,
	  D(inventory_priority), R, "below-jobs", NULL, NULL,
	  cfg_inventory_priority_values,
	  "below-jobs: an inventory run's requests wait while jobs' requests "
	  "to the same endpoint wait, and take free slots after them; "
	  "same-as-jobs: one queue for both." },
	{ "drain_timeout", CFG_SEC_DAEMON, CFG_DURATION, D(drain_timeout_ms),
	  R, "30s", "0s", "1h", NULL,
	  "On SIGTERM, how long in-flight requests may take to finish." },
	{ "timer_interval", CFG_SEC_DAEMON, CFG_DURATION,
	  D(timer_interval_ms), R, "1s", "10ms", "1h", NULL,
	  "How often the job timers (confirm_timeout, job_retention) are "
	  "checked." },
	{ "max_attempts", CFG_SEC_DAEMON, CFG_INT, D(max_attempts), R,
	  "8", "1", "100", NULL,
	  "Attempts per task, the first included, before a retryable error "
	  "is final." },
	{ "retry_base", CFG_SEC_DAEMON, CFG_DURATION, D(retry_base_ms), R,
	  "100ms", "1ms", "1h", NULL,
	  "First retry delay; it doubles per attempt, with full jitter. "
	  "Must not exceed retry_max." },
	{ "retry_max", CFG_SEC_DAEMON, CFG_DURATION, D(retry_max_ms), R,
	  "20s", "1ms", "1d", NULL,
	  "Longest retry delay (a server's Retry-After may ask for more)." },
	{ "failure_min_tasks", CFG_SEC_DAEMON, CFG_COUNT,
	  D(failure_min_tasks), R, "1000", "0", NULL, NULL,
	  "Tasks a job must have run before failure_percent can fail it." },
	{ "failure_percent", CFG_SEC_DAEMON, CFG_INT, D(failure_percent), R,
	  "50", "1", "100", NULL,
	  "A job whose failed tasks exceed this percentage of those run "
	  "fails." },
	{ "multipart_threshold", CFG_SEC_DAEMON, CFG_SIZE,
	  D(multipart_threshold), R, "5GiB", "5MiB", "5TiB", NULL,
	  "Objects at least this large are copied in parts "
	  "(UploadPartCopy)." },
	{ "multipart_part_size", CFG_SEC_DAEMON, CFG_SIZE,
	  D(multipart_part_size), R, "256MiB", "5MiB", "5GiB", NULL,
	  "Part size of a multipart copy; raised as needed to stay within "
	  "10000 parts." },
	{ "commit_interval", CFG_SEC_DAEMON, CFG_DURATION,
	  D(commit_interval_ms), R, "50ms", "1ms", "10s", NULL,
	  "Task results are group-committed at least this often." },
	{ "commit_batch", CFG_SEC_DAEMON, CFG_INT, D(commit_batch), R,
	  "2000", "1", "1000000", NULL,
	  "Task results are also committed as soon as this many are "
	  "waiting." },
	{ "log_verbose", CFG_SEC_DAEMON, CFG_BOOL, D(log_verbose), R,
	  "no", NULL, NULL, NULL,
	  "Log debug messages." },
	{ "control_max_connections", CFG_SEC_DAEMON, CFG_INT,
	  D(control_max_connections), R, "256", "4", "65536", NULL,
	  "Control connections open at once, all peers together." },
	{ "control_reserved", CFG_SEC_DAEMON, CFG_INT, D(control_reserved), R,
	  "16", "1", "65535", NULL,
	  "Of control_max_connections, slots only root, the daemon's user "
	  "and the control group may take, so that others cannot lock them "
	  "out. Must be below control_max_connections." },
	{ "control_max_per_uid", CFG_SEC_DAEMON, CFG_INT,
	  D(control_max_per_uid), R, "16", "1", "65536", NULL,
	  "Control connections one unprivileged uid may hold open." },
	{ "control_idle_timeout", CFG_SEC_DAEMON, CFG_DURATION,
	  D(control_idle_timeout_ms), R, "30s", "1s", "1d", NULL,
	  "An unprivileged peer that sends nothing, or reads none of its "
	  "replies, this long is disconnected." },
	{ "control_admin_idle_timeout", CFG_SEC_DAEMON, CFG_DURATION,
	  D(control_admin_idle_timeout_ms), R, "10m", "1s", "30d", NULL,
	  "The same for privileged peers (root, the daemon's user, the "
	  "control group)." },
	{ "control_output_limit", CFG_SEC_DAEMON, CFG_SIZE,
	  D(control_output_limit), R, "1MiB", "64KiB", "1GiB", NULL,
	  "Replies buffered for one control connection; past it the daemon "
	  "reads no more requests from that peer until it reads its "
	  "replies." },
	{ "control_max_pending", CFG_SEC_DAEMON, CFG_INT,
	  D(control_max_pending), R, "64", "1", "65536", NULL,
	  "Requests from unprivileged peers waiting for an answer (such as "
	  "one from S3) at once; more are refused with ServiceUnavailable." },
	{ "accept_pause", CFG_SEC_DAEMON, CFG_DURATION, D(accept_pause_ms), R,
	  "1s", "10ms", "1m", NULL,
	  "When accept() fails for want of descriptors (EMFILE, ENFILE), how "
	  "long the control and metrics listeners pause before trying "
	  "again." },
	{ "metrics_max_connections", CFG_SEC_DAEMON, CFG_INT,
	  D(metrics_max_connections), 0, "32", "1", "65536", NULL,
	  "Connections the metrics listener keeps open at once." },
	{ "metrics_timeout", CFG_SEC_DAEMON, CFG_DURATION,
	  D(metrics_timeout_ms), 0, "10s", "1s", "1h", NULL,
	  "A metrics connection idle, or a request not read or written, "
	  "this long is closed." },

	/* [endpoint NAME] */
	{ "url", CFG_SEC_ENDPOINT, CFG_URL, E(url), R|CFG_O_REQUIRED,
	  NULL, NULL, NULL, NULL,
	  "http:// or https://, host, optional port and base path; no query "
	  "or user name." },
	{ "region", CFG_SEC_ENDPOINT, CFG_STRING, E(region), R,
	  "us-east-1", NULL, NULL, NULL,
	  "Region used in SigV4 signatures." },
	{ "addressing", CFG_SEC_ENDPOINT, CFG_ENUM, E(addressing), R,
	  "path", NULL, NULL, cfg_addressing_values,
	  "path: http://host/bucket/key; virtual: http://bucket.host/key." },
	{ "tls_verify", CFG_SEC_ENDPOINT, CFG_BOOL, E(tls_verify), R,
	  "yes", NULL, NULL, NULL,
	  "Verify the server's TLS certificate and host name." },
	{ "ca_file", CFG_SEC_ENDPOINT, CFG_PATH, E(ca_file), R,
	  NULL, NULL, NULL, NULL,
	  "CA certificates (PEM) to verify the server with. Unset: the "
	  "system's." },
	{ "probe", CFG_SEC_ENDPOINT, CFG_BOOL, E(probe), R,
	  "yes", NULL, NULL, NULL,
	  "Probe the endpoint's capabilities before its first job runs "
	  "(scratch objects under .s3batchd-probe/ in the job's bucket, "
	  "removed after); no: jobs run unchecked." },
	{ "max_connections", CFG_SEC_ENDPOINT, CFG_INT, E(max_connections), R,
	  "64", "1", "4096", NULL,
	  "Connections (and so requests in flight) to this endpoint." },
	{ "max_requests_per_second", CFG_SEC_ENDPOINT, CFG_DOUBLE,
	  E(max_requests_per_second), R, "0", "0", "1000000", NULL,
	  "Request rate limit; 0: none." },
	{ "windows", CFG_SEC_ENDPOINT, CFG_STRING, E(windows), R,
	  NULL, NULL, NULL, NULL,
	  "Names of [window] sections, space-separated: the first that holds "
	  "the time sets the endpoint's rate (full, pause or a limit); "
	  "outside them all it runs as configured." },
	{ "adaptive_rate", CFG_SEC_ENDPOINT, CFG_BOOL, E(adaptive_rate), R,
	  "yes", NULL, NULL, NULL,
	  "Halve the request rate when the endpoint throttles (429, 503 "
	  "SlowDown) and raise it back while it does not, below "
	  "max_requests_per_second." },
	{ "connect_timeout", CFG_SEC_ENDPOINT, CFG_DURATION,
	  E(connect_timeout_ms), R, "10s", "1ms", "1h", NULL,
	  "Time allowed to connect (and finish the TLS handshake)." },
	{ "request_timeout", CFG_SEC_ENDPOINT, CFG_DURATION,
	  E(request_timeout_ms), R, "5m", "1s", "1d", NULL,
	  "Time allowed for a whole request." },

	/* Credentials: [endpoint NAME] and [credentials NAME]. */
	{ "access_key_id", CFG_SEC_CREDS, CFG_STRING, C(access_key_id),
	  R|CFG_O_CREDS|CFG_O_SECRET, NULL, NULL, NULL, NULL,
	  "Access key id, inline. Needs secret_access_key." },
	{ "secret_access_key", CFG_SEC_CREDS, CFG_STRING,
	  C(secret_access_key), R|CFG_O_CREDS|CFG_O_SECRET,
	  NULL, NULL, NULL, NULL,
	  "Secret access key, inline." },
	{ "session_token", CFG_SEC_CREDS, CFG_STRING, C(session_token),
	  R|CFG_O_CREDS|CFG_O_SECRET, NULL, NULL, NULL, NULL,
	  "Session token for temporary credentials, inline; optional." },
	{ "access_key_id_file", CFG_SEC_CREDS, CFG_PATH,
	  C(access_key_id_file), R|CFG_O_CREDS, NULL, NULL, NULL, NULL,
	  "File holding the access key id, read at load; must not be "
	  "readable by everyone. Needs secret_access_key_file." },
	{ "secret_access_key_file", CFG_SEC_CREDS, CFG_PATH,
	  C(secret_access_key_file), R|CFG_O_CREDS, NULL, NULL, NULL, NULL,
	  "File holding the secret access key, the same way." },
	{ "session_token_file", CFG_SEC_CREDS, CFG_PATH,
	  C(session_token_file), R|CFG_O_CREDS, NULL, NULL, NULL, NULL,
	  "File holding a session token, the same way; optional." },
	{ "credentials", CFG_SEC_CREDS, CFG_ENUM, C(source), R|CFG_O_CREDS,
	  NULL, NULL, NULL, cfg_credentials_values,
	  "env: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and optional "
	  "AWS_SESSION_TOKEN from the environment; systemd: files "
	  "NAME.access_key_id, NAME.secret_access_key and optional "
	  "NAME.session_token in $CREDENTIALS_DIRECTORY (LoadCredential=)." },

	/* [bucket NAME] */
	{ "endpoint", CFG_SEC_BUCKET, CFG_STRING, B(endpoint),
	  R|CFG_O_REQUIRED, NULL, NULL, NULL, NULL,
	  "The [endpoint NAME] this bucket lives on." },

	/* [lambda NAME]: the same meanings as in [endpoint NAME]. */
	{ "url", CFG_SEC_LAMBDA, CFG_URL, L(url), R|CFG_O_REQUIRED,
	  NULL, NULL, NULL, NULL,
	  "The Lambda endpoint: http:// or https://, host, optional port and "
	  "base path, such as https://lambda.eu-west-1.amazonaws.com." },
	{ "region", CFG_SEC_LAMBDA, CFG_STRING, L(region), R,
	  NULL, NULL, NULL, NULL,
	  "Region used in SigV4 signatures. Unset: the function ARN's." },
	{ "tls_verify", CFG_SEC_LAMBDA, CFG_BOOL, L(tls_verify), R,
	  "yes", NULL, NULL, NULL,
	  "Verify the server's TLS certificate and host name." },
	{ "ca_file", CFG_SEC_LAMBDA, CFG_PATH, L(ca_file), R,
	  NULL, NULL, NULL, NULL,
	  "CA certificates (PEM) to verify the server with. Unset: the "
	  "system's." },
	{ "max_connections", CFG_SEC_LAMBDA, CFG_INT, L(max_connections), R,
	  "64", "1", "4096", NULL,
	  "Connections (and so invocations in flight) to this endpoint." },
	{ "days", CFG_SEC_WINDOW, CFG_STRING, W(days), R, "*", NULL, NULL,
	  NULL,
	  "Days the window opens on: *, Mon-Fri, Sat,Sun, ... (UTC)." },
	{ "start", CFG_SEC_WINDOW, CFG_STRING, W(start), R|CFG_O_REQUIRED,
	  NULL, NULL, NULL, NULL,
	  "Opening time, HH:MM UTC." },
	{ "end", CFG_SEC_WINDOW, CFG_STRING, W(end), R|CFG_O_REQUIRED,
	  NULL, NULL, NULL, NULL,
	  "Closing time, HH:MM UTC (24:00: midnight); not after start: the "
	  "next day." },
	{ "rate", CFG_SEC_WINDOW, CFG_STRING, W(rate), R|CFG_O_REQUIRED,
	  NULL, NULL, NULL, NULL,
	  "Inside the window: full, pause, or requests a second." },
	{ "request_timeout", CFG_SEC_LAMBDA, CFG_DURATION,
	  L(request_timeout_ms), R, "15m", "1s", "1d", NULL,
	  "Time allowed for one invocation (a function may run 15 "
	  "minutes)." },
};
#define CFG_NOPTIONS	nitems(cfg_options)

#undef D
#undef E
#undef B
#undef C
#undef L
#undef W
#undef R

#define CFG_NO_CREDS	SIZE_MAX

/* Enum keys are stored through an int pointer. */
_Static_assert(sizeof(enum cfg_addressing) == sizeof(int), "enum size");
_Static_assert(sizeof(enum cfg_cred_source) == sizeof(int), "enum size");

static const struct cfg_section {
	const char	*name;
	int		 id;
	int		 named;
	size_t		 creds;		/* offset of the credentials */
	const char	*chars;		/* allowed in NAME besides alnum */
	const char	*help;
} cfg_sections[] = {
	{ "daemon", CFG_SEC_DAEMON, 0, CFG_NO_CREDS, "",
	  "The daemon itself." },
	{ "endpoint", CFG_SEC_ENDPOINT, 1, offsetof(struct cfg_endpoint, creds),
	  "._-",
	  "An S3 endpoint and the credentials used with it: exactly one "
	  "source, given with the keys of [credentials NAME]. A bucket "
	  "without a [bucket] section uses the endpoint named default." },
	{ "credentials", CFG_SEC_CREDENTIALS, 1,
	  offsetof(struct cfg_profile, creds), "+=,.@_-",
	  "A profile a job's RoleArn names by its last path component: "
	  "arn:aws:iam::123456789012:role/batch uses [credentials batch]. "
	  "Its keys are valid in [endpoint NAME] too; exactly one source: "
	  "the inline keys, the *_file keys, or credentials." },
	{ "bucket", CFG_SEC_BUCKET, 1, CFG_NO_CREDS, "._-",
	  "Which endpoint a bucket lives on." },
	{ "lambda", CFG_SEC_LAMBDA, 1, offsetof(struct cfg_lambda, creds),
	  "._-",
	  "An AWS Lambda endpoint for LambdaInvoke jobs whose FunctionArn is a "
	  "Lambda ARN: a function in region R is invoked through [lambda R], "
	  "else [lambda default], signed (SigV4, service lambda) with the "
	  "credentials of the job's RoleArn profile, else the section's own: "
	  "exactly one source, given with the keys of [credentials NAME]. "
	  "A FunctionArn that is an http(s) URL needs no section." },
	{ "window", CFG_SEC_WINDOW, 1, CFG_NO_CREDS, "._-",
	  "A time window (UTC) with the rate it allows: an endpoint names "
	  "it in its windows key, a job in its s3batchd:window tag." },
};

/* Where a section was opened, for messages about it later. */
struct cfg_where {
	const struct cfg_section	*sec;
	void				*obj;
	const char			*name;
	u_int				 line;
	u_int				 key_line;	/* bucket: "endpoint =" */
};

struct cfg_parse {
	const char			*file;
	u_int				 line;
	struct cfg			*cfg;
	const struct cfg_section	*sec;	/* NULL before the first */
	void				*obj;
	const char			*name;
	u_int				 sec_line;
	u_int				 seen[CFG_NOPTIONS];	/* lines */
	struct cfg_where		*where;
	size_t				 nwhere;
};

static int	cfg_set(const struct cfg_option *, void *, const char *,
		    char **);

static void *
cfg_option_ptr(const struct cfg_option *o, const struct cfg_section *sec,
    void *obj)
{
	char	*base = obj;

	if (o->flags & CFG_O_CREDS)
		base += sec->creds;
	return (base + o->offset);
}

static const struct cfg_option *
cfg_option_find(const char *name, int sections)
{
	size_t	i;

	for (i = 0; i < CFG_NOPTIONS; i++) {
		if ((cfg_options[i].sections & sections) &&
		    strcmp(cfg_options[i].name, name) == 0)
			return (&cfg_options[i]);
	}
	return (NULL);
}

static const struct cfg_section *
cfg_section_find(const char *name)
{
	size_t	i;

	for (i = 0; i < nitems(cfg_sections); i++) {
		if (strcmp(cfg_sections[i].name, name) == 0)
			return (&cfg_sections[i]);
	}
	return (NULL);
}

/* Case-insensitive edit distance, for "did you mean". */
static u_int
cfg_distance(const char *a, const char *b)
{
	u_int	 d[65][65];
	size_t	 la = strlen(a), lb = strlen(b), i, j;
	u_int	 cost, v;

	if (la > 64 || lb > 64)
		return (UINT_MAX);
	for (i = 0; i <= la; i++)
		d[i][0] = (u_int)i;
	for (j = 0; j <= lb; j++)
		d[0][j] = (u_int)j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			cost = tolower((u_char)a[i - 1]) !=
			    tolower((u_char)b[j - 1]);
			v = d[i - 1][j - 1] + cost;
			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			d[i][j] = v;
		}
	}
	return (d[la][lb]);
}

/* The closest of a set of names, if close enough to be a likely typo. */
static const char *
cfg_suggest(const char *word, const char **names, size_t n)
{
	const char	*best = NULL;
	u_int		 bestd = UINT_MAX, d, limit;
	size_t		 i;

	limit = (u_int)(strlen(word) + 2) / 3;
	if (limit < 2)
		limit = 2;
	for (i = 0; i < n; i++) {
		d = cfg_distance(word, names[i]);
		if (d < bestd) {
			bestd = d;
			best = names[i];
		}
	}
	return (bestd <= limit ? best : NULL);
}

static int printflike(4, 5)
cfg_error(struct cfg_parse *p, u_int line, char **cause, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	xasprintf(cause, "%s:%u: %s", p->file, line, msg);
	free(msg);
	return (-1);
}

static int
cfg_has_control(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((u_char)*s < 0x20 || *s == 0x7f)
			return (1);
	}
	return (0);
}

/* Durations, sizes and integers: a uint64_t; doubles: a double. */
static int
cfg_parse_number(const struct cfg_option *o, const char *s, uint64_t *u,
    double *d, char **cause)
{
	const char	*p;
	char		*end;

	switch (o->type) {
	case CFG_DURATION:
		return (parse_duration(s, u, cause));
	case CFG_SIZE:
		return (parse_size(s, u, cause));
	case CFG_INT:
	case CFG_COUNT:
		*u = 0;
		for (p = s; *p != '\0'; p++) {
			if (!isdigit((u_char)*p) ||
			    *u > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
				goto bad;
			*u = *u * 10 + (uint64_t)(*p - '0');
		}
		if (p == s || (o->type == CFG_INT && *u > INT_MAX))
			goto bad;
		return (0);
	case CFG_DOUBLE:
		/* Plain decimal only: no hex, inf or nan. */
		if (*s == '\0' || strspn(s, "0123456789.eE+-") != strlen(s))
			goto bad;
		errno = 0;
		*d = strtod(s, &end);
		if (*end != '\0' || errno != 0 || !isfinite(*d))
			goto bad;
		return (0);
	default:
		fatalx("%s: not a number type", __func__);
	}
bad:
	xasprintf(cause, "invalid %s \"%s\"", cfg_type_names[o->type], s);
	return (-1);
}

static int
cfg_check_bound(const struct cfg_option *o, const char *bound, int is_max,
    uint64_t u, double d, const char *s, char **cause)
{
	uint64_t	 bu = 0;
	double		 bd = 0;
	char		*bcause = NULL;
	int		 bad;

	if (bound == NULL)
		return (0);
	if (cfg_parse_number(o, bound, &bu, &bd, &bcause) != 0)
		fatalx("%s: bad bound %s: %s", o->name, bound, bcause);
	if (o->type == CFG_DOUBLE)
		bad = is_max ? d > bd : d < bd;
	else
		bad = is_max ? u > bu : u < bu;
	if (bad) {
		xasprintf(cause, "%s is %s the %s %s", s,
		    is_max ? "above" : "below", is_max ? "maximum" : "minimum",
		    bound);
		return (-1);
	}
	return (0);
}

static int
cfg_check_port(const char *s, char **cause)
{
	u_long	 port = 0;
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++) {
		if (!isdigit((u_char)s[i]) || i >= 5)
			goto bad;
		port = port * 10 + (u_long)(s[i] - '0');
	}
	if (i == 0 || port == 0 || port > 65535)
		goto bad;
	return (0);
bad:
	xasprintf(cause, "invalid port \"%s\"", s);
	return (-1);
}

/* A host name, an IPv4 address or, in brackets, an IPv6 address. */
static int
cfg_check_host(const char *s, size_t len, char **cause)
{
	size_t	 i;

	if (len == 0) {
		xasprintf(cause, "missing host");
		return (-1);
	}
	if (s[0] == '[') {
		if (len < 3 || s[len - 1] != ']')
			goto bad;
		for (i = 1; i < len - 1; i++) {
			if (!isxdigit((u_char)s[i]) && s[i] != ':' &&
			    s[i] != '.')
				goto bad;
		}
		return (0);
	}
	for (i = 0; i < len; i++) {
		if (!isalnum((u_char)s[i]) && s[i] != '.' && s[i] != '-' &&
		    s[i] != '_')
			goto bad;
	}
	return (0);
bad:
	xasprintf(cause, "invalid host \"%.*s\"%s", (int)len, s,
	    memchr(s, ':', len) != NULL && s[0] != '[' ?
	    " (put an IPv6 address in brackets)" : "");
	return (-1);
}

/* host:port, the port mandatory. */
static int
cfg_check_listen(const char *s, char **cause)
{
	const char	*colon;

	if (s[0] == '[') {
		if ((colon = strstr(s, "]:")) != NULL)
			colon++;
	} else
		colon = strrchr(s, ':');
	if (colon == NULL) {
		xasprintf(cause, "\"%s\" is not host:port", s);
		return (-1);
	}
	if (cfg_check_host(s, (size_t)(colon - s), cause) != 0)
		return (-1);
	return (cfg_check_port(colon + 1, cause));
}

static int
cfg_check_url(const char *s, char **cause)
{
	const char	*p, *auth, *end, *colon;

	if (strncmp(s, "http://", 7) == 0)
		auth = s + 7;
	else if (strncmp(s, "https://", 8) == 0)
		auth = s + 8;
	else {
		xasprintf(cause, "\"%s\" is not an http:// or https:// url", s);
		return (-1);
	}
	for (p = s; *p != '\0'; p++) {
		if (isspace((u_char)*p) || (u_char)*p >= 0x80) {
			xasprintf(cause, "url \"%s\" has a space or a non-ASCII "
			    "character", s);
			return (-1);
		}
	}
	if (strpbrk(s, "?#") != NULL) {
		xasprintf(cause, "url \"%s\" must not have a query or "
		    "fragment", s);
		return (-1);
	}
	end = auth + strcspn(auth, "/");
	if (memchr(auth, '@', (size_t)(end - auth)) != NULL) {
		xasprintf(cause, "url \"%s\" must not carry credentials; use "
		    "the credential keys", s);
		return (-1);
	}
	/* The port follows the last colon, unless that is inside [ ]. */
	colon = NULL;
	for (p = auth; p < end; p++) {
		if (*p == ':')
			colon = p;
		else if (*p == ']')
			colon = NULL;
	}
	if (cfg_check_host(auth, (size_t)((colon != NULL ? colon : end) -
	    auth), cause) != 0)
		return (-1);
	if (colon != NULL) {
		char	*port = xstrndup(colon + 1, (size_t)(end - colon - 1));
		int	 r = cfg_check_port(port, cause);

		free(port);
		if (r != 0)
			return (-1);
	}
	return (0);
}

static int
cfg_check_group(const char *s, char **cause)
{
	struct group	 gr, *res = NULL;
	char		 buf[16384];
	const char	*p;
	int		 numeric = 1, error;

	if (strlen(s) > 64)
		goto bad;
	for (p = s; *p != '\0'; p++) {
		if (!isdigit((u_char)*p))
			numeric = 0;
		if (!isalnum((u_char)*p) && strchr("._-", *p) == NULL &&
		    !(*p == '$' && p[1] == '\0'))
			goto bad;
	}
	if (s[0] == '-')
		goto bad;
	if (numeric) {
		errno = 0;
		error = getgrgid_r((gid_t)strtoul(s, NULL, 10), &gr, buf,
		    sizeof buf, &res);
	} else
		error = getgrnam_r(s, &gr, buf, sizeof buf, &res);
	if (res == NULL) {
		if (error != 0 && error != ENOENT && error != ESRCH)
			xasprintf(cause, "group \"%s\": %s", s, strerror(error));
		else
			xasprintf(cause, "group \"%s\" does not exist", s);
		return (-1);
	}
	return (0);
bad:
	xasprintf(cause, "invalid group name \"%s\"", s);
	return (-1);
}

static void
cfg_set_string(const struct cfg_option *o, void *ptr, char *v)
{
	char	**sp = ptr;

	if (o->flags & CFG_O_SECRET)
		secret_free(*sp);
	else
		free(*sp);
	*sp = v;
}

/*
 * Parse and check one value and store it. Messages must not quote the
 * value of a secret key: they end up in logs.
 */
static int
cfg_set(const struct cfg_option *o, void *ptr, const char *s, char **cause)
{
	const struct cfg_enum	*e;
	struct buf		 b;
	uint64_t		 u = 0;
	double			 d = 0;
	size_t			 len;
	int			 v;

	if (*s == '\0') {
		xasprintf(cause, "empty value (leave the key out for the "
		    "default)");
		return (-1);
	}
	switch (o->type) {
	case CFG_STRING:
	case CFG_PATH:
	case CFG_GROUP:
	case CFG_LISTEN:
	case CFG_URL:
		if (cfg_has_control(s)) {
			xasprintf(cause, "value has a control character");
			return (-1);
		}
		break;
	default:
		break;
	}
	switch (o->type) {
	case CFG_STRING:
		cfg_set_string(o, ptr, (o->flags & CFG_O_SECRET) ?
		    secret_strdup(s) : xstrdup(s));
		return (0);
	case CFG_PATH:
		if (s[0] != '/') {
			xasprintf(cause, "\"%s\" is not an absolute path", s);
			return (-1);
		}
		if (o->max != NULL && strlen(s) > strtoul(o->max, NULL, 10)) {
			xasprintf(cause, "\"%s\" is longer than %s bytes", s,
			    o->max);
			return (-1);
		}
		cfg_set_string(o, ptr, xstrdup(s));
		return (0);
	case CFG_GROUP:
		if (cfg_check_group(s, cause) != 0)
			return (-1);
		cfg_set_string(o, ptr, xstrdup(s));
		return (0);
	case CFG_LISTEN:
		if (cfg_check_listen(s, cause) != 0)
			return (-1);
		cfg_set_string(o, ptr, xstrdup(s));
		return (0);
	case CFG_URL:
		if (cfg_check_url(s, cause) != 0)
			return (-1);
		/* Keep "http://h/base", not "http://h/base/". */
		len = strlen(s);
		while (len > 0 && s[len - 1] == '/' && s[len - 2] != '/')
			len--;
		cfg_set_string(o, ptr, xstrndup(s, len));
		return (0);
	case CFG_DURATION:
	case CFG_SIZE:
	case CFG_INT:
	case CFG_COUNT:
	case CFG_DOUBLE:
		if (cfg_parse_number(o, s, &u, &d, cause) != 0 ||
		    cfg_check_bound(o, o->min, 0, u, d, s, cause) != 0 ||
		    cfg_check_bound(o, o->max, 1, u, d, s, cause) != 0)
			return (-1);
		if (o->type == CFG_INT)
			*(int *)ptr = (int)u;
		else if (o->type == CFG_DOUBLE)
			*(double *)ptr = d;
		else
			*(uint64_t *)ptr = u;
		return (0);
	case CFG_BOOL:
		if (parse_bool(s, &v) != 0) {
			xasprintf(cause, "\"%s\" is not yes or no", s);
			return (-1);
		}
		*(int *)ptr = v;
		return (0);
	case CFG_ENUM:
		for (e = o->values; e->name != NULL; e++) {
			if (strcmp(e->name, s) == 0) {
				*(int *)ptr = e->value;
				return (0);
			}
		}
		buf_init(&b);
		for (e = o->values; e->name != NULL; e++) {
			buf_addf(&b, "%s%s", e == o->values ? "" :
			    e[1].name == NULL ? " or " : ", ", e->name);
		}
		xasprintf(cause, "\"%s\" is not %s", s, b.data);
		buf_free(&b);
		return (-1);
	}
	fatalx("%s: unknown type", __func__);
}

static void
cfg_format_size(struct buf *b, uint64_t v)
{
	static const char	*units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	size_t			 i = 0;

	while (i + 1 < nitems(units) && v != 0 && v % 1024 == 0) {
		v /= 1024;
		i++;
	}
	buf_addf(b, "%" PRIu64 "%s", v, units[i]);
}

static void
cfg_format_string(struct buf *b, const char *s)
{
	if (*s != '\0' && strpbrk(s, " \t#;\"\\") == NULL) {
		buf_adds(b, s);
		return;
	}
	buf_addc(b, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			buf_addc(b, '\\');
		buf_addc(b, *s);
	}
	buf_addc(b, '"');
}

/*
 * Append a value as it would be written in the file; 0 if it is unset.
 * A secret is never formatted: it is "(set)".
 */
static int
cfg_format(const struct cfg_option *o, const void *ptr, struct buf *b)
{
	const struct cfg_enum	*e;
	const char		*s;
	char			 tmp[64];
	int			 v;

	switch (o->type) {
	case CFG_STRING:
	case CFG_PATH:
	case CFG_GROUP:
	case CFG_LISTEN:
	case CFG_URL:
		if ((s = *(char *const *)ptr) == NULL)
			return (0);
		if (o->flags & CFG_O_SECRET)
			buf_adds(b, "(set)");
		else
			cfg_format_string(b, s);
		return (1);
	case CFG_DURATION:
		format_duration(*(const uint64_t *)ptr, tmp, sizeof tmp);
		buf_adds(b, tmp);
		return (1);
	case CFG_SIZE:
		cfg_format_size(b, *(const uint64_t *)ptr);
		return (1);
	case CFG_INT:
		buf_addf(b, "%d", *(const int *)ptr);
		return (1);
	case CFG_COUNT:
		buf_addf(b, "%" PRIu64, *(const uint64_t *)ptr);
		return (1);
	case CFG_DOUBLE:
		buf_addf(b, "%.15g", *(const double *)ptr);
		return (1);
	case CFG_BOOL:
		buf_adds(b, *(const int *)ptr ? "yes" : "no");
		return (1);
	case CFG_ENUM:
		v = *(const int *)ptr;
		for (e = o->values; e->name != NULL; e++) {
			if (e->value == v) {
				buf_adds(b, e->name);
				return (1);
			}
		}
		return (0);
	}
	fatalx("%s: unknown type", __func__);
}

/* Every key of a section takes its default: a new section or the daemon. */
static void
cfg_apply_defaults(const struct cfg_section *sec, void *obj)
{
	const struct cfg_option	*o;
	char			*cause = NULL;
	size_t			 i;

	for (i = 0; i < CFG_NOPTIONS; i++) {
		o = &cfg_options[i];
		if ((o->sections & sec->id) == 0 || o->def == NULL)
			continue;
		if (cfg_set(o, cfg_option_ptr(o, sec, obj), o->def,
		    &cause) != 0)
			fatalx("default of %s: %s", o->name, cause);
	}
}

static void
cfg_free_values(const struct cfg_section *sec, void *obj)
{
	const struct cfg_option	*o;
	size_t			 i;

	for (i = 0; i < CFG_NOPTIONS; i++) {
		o = &cfg_options[i];
		if ((o->sections & sec->id) == 0)
			continue;
		switch (o->type) {
		case CFG_STRING:
		case CFG_PATH:
		case CFG_GROUP:
		case CFG_LISTEN:
		case CFG_URL:
			cfg_set_string(o, cfg_option_ptr(o, sec, obj), NULL);
			break;
		default:
			break;
		}
	}
}

static struct cfg *
cfg_new(void)
{
	struct cfg	*cfg;

	cfg = xcalloc(1, sizeof *cfg);
	cfg->refs = 1;
	TAILQ_INIT(&cfg->endpoints);
	TAILQ_INIT(&cfg->buckets);
	TAILQ_INIT(&cfg->profiles);
	TAILQ_INIT(&cfg->lambdas);
	TAILQ_INIT(&cfg->windows);
	cfg_apply_defaults(cfg_section_find("daemon"), cfg);
	return (cfg);
}

struct cfg *
cfg_default(void)
{
	return (cfg_new());
}

struct cfg *
cfg_ref(struct cfg *cfg)
{
	cfg->refs++;
	return (cfg);
}

void
cfg_free(struct cfg *cfg)
{
	struct cfg_endpoint	*ep;
	struct cfg_bucket	*bk;
	struct cfg_profile	*pr;
	struct cfg_lambda	*lm;
	struct cfg_window	*wn;

	if (cfg == NULL || --cfg->refs > 0)
		return;
	while ((ep = TAILQ_FIRST(&cfg->endpoints)) != NULL) {
		TAILQ_REMOVE(&cfg->endpoints, ep, entry);
		cfg_free_values(cfg_section_find("endpoint"), ep);
		free(ep->name);
		free(ep);
	}
	while ((bk = TAILQ_FIRST(&cfg->buckets)) != NULL) {
		TAILQ_REMOVE(&cfg->buckets, bk, entry);
		cfg_free_values(cfg_section_find("bucket"), bk);
		free(bk->name);
		free(bk);
	}
	while ((pr = TAILQ_FIRST(&cfg->profiles)) != NULL) {
		TAILQ_REMOVE(&cfg->profiles, pr, entry);
		cfg_free_values(cfg_section_find("credentials"), pr);
		free(pr->name);
		free(pr);
	}
	while ((lm = TAILQ_FIRST(&cfg->lambdas)) != NULL) {
		TAILQ_REMOVE(&cfg->lambdas, lm, entry);
		cfg_free_values(cfg_section_find("lambda"), lm);
		free(lm->name);
		free(lm);
	}
	while ((wn = TAILQ_FIRST(&cfg->windows)) != NULL) {
		TAILQ_REMOVE(&cfg->windows, wn, entry);
		cfg_free_values(cfg_section_find("window"), wn);
		free(wn->name);
		free(wn);
	}
	cfg_free_values(cfg_section_find("daemon"), cfg);
	free(cfg->path);
	free(cfg);
}

const struct cfg_endpoint *
cfg_endpoint_find(const struct cfg *cfg, const char *name)
{
	const struct cfg_endpoint	*ep;

	if (name == NULL)
		return (NULL);
	TAILQ_FOREACH(ep, &cfg->endpoints, entry) {
		if (strcmp(ep->name, name) == 0)
			return (ep);
	}
	return (NULL);
}

static const struct cfg_bucket *
cfg_bucket_find(const struct cfg *cfg, const char *name)
{
	const struct cfg_bucket	*bk;

	TAILQ_FOREACH(bk, &cfg->buckets, entry) {
		if (strcmp(bk->name, name) == 0)
			return (bk);
	}
	return (NULL);
}

const struct cfg_endpoint *
cfg_bucket_endpoint(const struct cfg *cfg, const char *bucket)
{
	const struct cfg_bucket	*bk;

	if (bucket != NULL && (bk = cfg_bucket_find(cfg, bucket)) != NULL)
		return (cfg_endpoint_find(cfg, bk->endpoint));
	return (cfg_endpoint_find(cfg, "default"));
}

const struct cfg_lambda *
cfg_lambda_find(const struct cfg *cfg, const char *name)
{
	const struct cfg_lambda	*lm;

	if (name == NULL)
		return (NULL);
	TAILQ_FOREACH(lm, &cfg->lambdas, entry) {
		if (strcmp(lm->name, name) == 0)
			return (lm);
	}
	return (NULL);
}

const struct cfg_window *
cfg_window_find(const struct cfg *cfg, const char *name)
{
	const struct cfg_window	*wn;

	TAILQ_FOREACH(wn, &cfg->windows, entry) {
		if (strcmp(wn->name, name) == 0)
			return (wn);
	}
	return (NULL);
}

double
cfg_window_rate(const struct cfg *cfg, const char *names, time_t t,
    const char **name)
{
	const struct cfg_window	*wn;
	const char		*p = names;
	char			 one[CFG_NAME_MAX + 1];
	size_t			 len;

	*name = NULL;
	while (p != NULL && *p != '\0') {
		p += strspn(p, " \t,");
		if ((len = strcspn(p, " \t,")) == 0)
			break;
		if (len < sizeof one) {
			memcpy(one, p, len);
			one[len] = '\0';
			if ((wn = cfg_window_find(cfg, one)) != NULL &&
			    window_contains(&wn->w, t)) {
				*name = wn->name;
				return (wn->w.rate);
			}
		}
		p += len;
	}
	return (WINDOW_FULL);
}

const struct cfg_profile *
cfg_profile_find(const struct cfg *cfg, const char *name)
{
	const struct cfg_profile	*pr;

	if (name == NULL)
		return (NULL);
	TAILQ_FOREACH(pr, &cfg->profiles, entry) {
		if (strcmp(pr->name, name) == 0)
			return (pr);
	}
	return (NULL);
}

const struct cfg_profile *
cfg_profile_for_role(const struct cfg *cfg, const char *arn)
{
	const char	*role, *name;

	/* arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME */
	if (arn == NULL || strncmp(arn, "arn:", 4) != 0 ||
	    (role = strstr(arn, ":role/")) == NULL)
		return (NULL);
	name = strrchr(role, '/') + 1;
	if (*name == '\0')
		return (NULL);
	return (cfg_profile_find(cfg, name));
}

const char *
cfg_cred_source_name(enum cfg_cred_source source)
{
	static const char	*names[] = {
		"none", "inline", "file", "env", "systemd"
	};

	if ((u_int)source >= nitems(names))
		return ("none");
	return (names[source]);
}

/*
 * Read a secret from a file that must not be readable by everyone;
 * surrounding whitespace (the trailing newline) is dropped. *out (from
 * secret_strdup) is NULL if the file does not exist and missing_ok is set.
 */
static int
cfg_read_secret(const char *path, int missing_ok, char **out, char **cause)
{
	char		 buf[CFG_LINE_MAX + 1];
	struct stat	 st;
	size_t		 len = 0, start = 0;
	ssize_t		 n;
	int		 fd, r = -1;

	*out = NULL;
	if ((fd = open(path, O_RDONLY|O_CLOEXEC|O_NOCTTY)) == -1) {
		if (errno == ENOENT && missing_ok)
			return (0);
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return (-1);
	}
	if (fstat(fd, &st) != 0) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		xasprintf(cause, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_mode & S_IROTH) {
		xasprintf(cause, "%s is readable by everyone (mode %04o); "
		    "chmod o-r it", path, (u_int)(st.st_mode & 07777));
		goto out;
	}
	if ((n = io_read_full(fd, buf, sizeof buf)) == -1) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		goto out;
	}
	len = (size_t)n;
	if (len == sizeof buf) {
		xasprintf(cause, "%s: longer than %d bytes", path,
		    CFG_LINE_MAX);
		goto out;
	}
	buf[len] = '\0';
	while (len > 0 && isspace((u_char)buf[len - 1]))
		buf[--len] = '\0';
	while (start < len && isspace((u_char)buf[start]))
		start++;
	if (start == len) {
		xasprintf(cause, "%s is empty", path);
		goto out;
	}
	if (cfg_has_control(buf + start) || strlen(buf + start) !=
	    len - start) {
		xasprintf(cause, "%s has a control character", path);
		goto out;
	}
	*out = secret_strdup(buf + start);
	r = 0;
out:
	explicit_wipe(buf, sizeof buf);
	close(fd);
	return (r);
}

static int
cfg_read_env(const char *var, int missing_ok, char **out, char **cause)
{
	const char	*v = getenv(var);

	*out = NULL;
	if (v == NULL || *v == '\0') {
		if (missing_ok)
			return (0);
		xasprintf(cause, "%s is not set in the environment", var);
		return (-1);
	}
	if (cfg_has_control(v)) {
		xasprintf(cause, "%s has a control character", var);
		return (-1);
	}
	*out = secret_strdup(v);
	return (0);
}

/* The line of the key that chose a source, else the section's. */
static u_int
cfg_key_line(struct cfg_parse *p, const char *key)
{
	const struct cfg_option	*o = cfg_option_find(key, p->sec->id);

	if (o != NULL && p->seen[o - cfg_options] != 0)
		return (p->seen[o - cfg_options]);
	return (p->sec_line);
}

/* Check that exactly one source is given and fill the three secrets. */
static int
cfg_creds_resolve(struct cfg_parse *p, struct cfg_credentials *cr,
    char **cause)
{
	static const char	*parts[] = {
		"access_key_id", "secret_access_key", "session_token"
	};
	static const char	*envs[] = {
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"
	};
	char			**values[3], *files[3], *path, *err = NULL;
	const char		*dir;
	int			 inline_set, file_set, nsources, r;
	size_t			 i;

	values[0] = &cr->access_key_id;
	values[1] = &cr->secret_access_key;
	values[2] = &cr->session_token;
	files[0] = cr->access_key_id_file;
	files[1] = cr->secret_access_key_file;
	files[2] = cr->session_token_file;

	inline_set = *values[0] != NULL || *values[1] != NULL ||
	    *values[2] != NULL;
	file_set = files[0] != NULL || files[1] != NULL || files[2] != NULL;
	nsources = inline_set + file_set + (cr->source != CFG_CRED_NONE);
	if (nsources == 0) {
		return (cfg_error(p, p->sec_line, cause, "[%s %s]: no "
		    "credentials: set access_key_id and secret_access_key, "
		    "access_key_id_file and secret_access_key_file, or "
		    "credentials = env or systemd", p->sec->name, p->name));
	}
	if (nsources > 1) {
		return (cfg_error(p, p->sec_line, cause, "[%s %s]: more than "
		    "one credential source (inline keys, *_file keys, "
		    "credentials =); choose one", p->sec->name, p->name));
	}
	if (inline_set) {
		cr->source = CFG_CRED_INLINE;
		for (i = 0; i < 2; i++) {
			if (*values[i] == NULL) {
				return (cfg_error(p, p->sec_line, cause,
				    "[%s %s]: %s is set but %s is missing",
				    p->sec->name, p->name, parts[1 - i],
				    parts[i]));
			}
		}
		return (0);
	}
	if (file_set) {
		cr->source = CFG_CRED_FILE;
		for (i = 0; i < 2; i++) {
			if (files[i] == NULL) {
				return (cfg_error(p, p->sec_line, cause,
				    "[%s %s]: %s_file is set but %s_file is "
				    "missing", p->sec->name, p->name,
				    parts[1 - i], parts[i]));
			}
		}
		for (i = 0; i < 3; i++) {
			if (files[i] == NULL)
				continue;
			if (cfg_read_secret(files[i], 0, values[i], &err) != 0)
				goto fail_key;
		}
		return (0);
	}
	if (cr->source == CFG_CRED_ENV) {
		for (i = 0; i < 3; i++) {
			if (cfg_read_env(envs[i], i == 2, values[i], &err) != 0)
				goto fail_source;
		}
		return (0);
	}
	/* systemd's LoadCredential=: files in $CREDENTIALS_DIRECTORY. */
	if ((dir = getenv("CREDENTIALS_DIRECTORY")) == NULL || *dir == '\0') {
		xasprintf(&err, "CREDENTIALS_DIRECTORY is not set (is the "
		    "daemon started by systemd with LoadCredential=?)");
		goto fail_source;
	}
	for (i = 0; i < 3; i++) {
		xasprintf(&path, "%s/%s.%s", dir, p->name, parts[i]);
		r = cfg_read_secret(path, i == 2, values[i], &err);
		free(path);
		if (r != 0)
			goto fail_source;
	}
	return (0);

fail_key:
	xasprintf(&path, "%s_file", parts[i]);
	cfg_error(p, cfg_key_line(p, path), cause, "[%s %s]: %s", p->sec->name,
	    p->name, err);
	free(path);
	free(err);
	return (-1);
fail_source:
	cfg_error(p, cfg_key_line(p, "credentials"), cause, "[%s %s]: %s",
	    p->sec->name, p->name, err);
	free(err);
	return (-1);
}

/* The end of a section: required keys, credentials, cross-checks. */
static int
cfg_section_close(struct cfg_parse *p, char **cause)
{
	const struct cfg_option	*o;
	struct cfg		*cfg = p->cfg;
	size_t			 i;

	if (p->sec == NULL)
		return (0);
	for (i = 0; i < CFG_NOPTIONS; i++) {
		o = &cfg_options[i];
		if ((o->sections & p->sec->id) && (o->flags & CFG_O_REQUIRED) &&
		    p->seen[i] == 0) {
			return (cfg_error(p, p->sec_line, cause,
			    "[%s %s]: missing required key \"%s\"",
			    p->sec->name, p->name, o->name));
		}
	}
	if (p->sec->creds != CFG_NO_CREDS &&
	    cfg_creds_resolve(p, (struct cfg_credentials *)
	    ((char *)p->obj + p->sec->creds), cause) != 0)
		return (-1);
	if (p->sec->id == CFG_SEC_BUCKET)
		p->where[p->nwhere - 1].key_line = cfg_key_line(p, "endpoint");
	if (p->sec->id == CFG_SEC_DAEMON &&
	    cfg->retry_base_ms > cfg->retry_max_ms) {
		return (cfg_error(p, cfg_key_line(p, "retry_base"), cause,
		    "retry_base is larger than retry_max"));
	}
	if (p->sec->id == CFG_SEC_DAEMON &&
	    cfg->control_reserved >= cfg->control_max_connections) {
		return (cfg_error(p, cfg_key_line(p, "control_reserved"), cause,
		    "control_reserved (%d) must be below "
		    "control_max_connections (%d)", cfg->control_reserved,
		    cfg->control_max_connections));
	}
	return (0);
}

static int
cfg_section_open(struct cfg_parse *p, char *text, char **cause)
{
	const struct cfg_section	*sec;
	struct cfg_endpoint		*ep;
	struct cfg_bucket		*bk;
	struct cfg_profile		*pr;
	struct cfg_lambda		*lm;
	struct cfg_window		*wn;
	const char			*names[nitems(cfg_sections)], *hint;
	const char			*oname;
	char				*kind, *name, *q;
	size_t				 i;
	void				*obj;

	kind = text;
	name = kind + strcspn(kind, " \t");
	if (*name != '\0') {
		*name++ = '\0';
		name += strspn(name, " \t");
	}
	if ((sec = cfg_section_find(kind)) == NULL) {
		for (i = 0; i < nitems(cfg_sections); i++)
			names[i] = cfg_sections[i].name;
		hint = cfg_suggest(kind, names, nitems(names));
		return (cfg_error(p, p->line, cause, "unknown section [%s]%s%s%s",
		    kind, hint != NULL ? " (did you mean [" : "",
		    hint != NULL ? hint : "", hint != NULL ? "]?)" : ""));
	}
	if (!sec->named && *name != '\0')
		return (cfg_error(p, p->line, cause, "[%s] takes no name",
		    sec->name));
	if (sec->named && *name == '\0')
		return (cfg_error(p, p->line, cause, "[%s] needs a name: "
		    "[%s NAME]", sec->name, sec->name));
	for (q = name; *q != '\0'; q++) {
		if (!isalnum((u_char)*q) && strchr(sec->chars, *q) == NULL)
			break;
	}
	if (*q != '\0' || name[0] == '.' || strlen(name) > CFG_NAME_MAX) {
		return (cfg_error(p, p->line, cause, "invalid %s name \"%s\" "
		    "(up to %d letters, digits and %s, not starting with .)",
		    sec->name, name, CFG_NAME_MAX, sec->chars));
	}
	for (i = 0; i < p->nwhere; i++) {
		if (p->where[i].sec == sec &&
		    strcmp(p->where[i].name, name) == 0) {
			return (cfg_error(p, p->line, cause, "duplicate "
			    "section [%s%s%s] (first at line %u)", sec->name,
			    sec->named ? " " : "", name, p->where[i].line));
		}
	}

	switch (sec->id) {
	case CFG_SEC_DAEMON:
		obj = p->cfg;
		oname = "";
		break;
	case CFG_SEC_ENDPOINT:
		ep = xcalloc(1, sizeof *ep);
		ep->name = xstrdup(name);
		TAILQ_INSERT_TAIL(&p->cfg->endpoints, ep, entry);
		obj = ep;
		oname = ep->name;
		break;
	case CFG_SEC_BUCKET:
		bk = xcalloc(1, sizeof *bk);
		bk->name = xstrdup(name);
		TAILQ_INSERT_TAIL(&p->cfg->buckets, bk, entry);
		obj = bk;
		oname = bk->name;
		break;
	case CFG_SEC_CREDENTIALS:
		pr = xcalloc(1, sizeof *pr);
		pr->name = xstrdup(name);
		TAILQ_INSERT_TAIL(&p->cfg->profiles, pr, entry);
		obj = pr;
		oname = pr->name;
		break;
	case CFG_SEC_LAMBDA:
		lm = xcalloc(1, sizeof *lm);
		lm->name = xstrdup(name);
		TAILQ_INSERT_TAIL(&p->cfg->lambdas, lm, entry);
		obj = lm;
		oname = lm->name;
		break;
	case CFG_SEC_WINDOW:
		wn = xcalloc(1, sizeof *wn);
		wn->name = xstrdup(name);
		TAILQ_INSERT_TAIL(&p->cfg->windows, wn, entry);
		obj = wn;
		oname = wn->name;
		break;
	default:
		fatalx("%s: unknown section", __func__);
	}
	if (sec->id != CFG_SEC_DAEMON)
		cfg_apply_defaults(sec, obj);

	p->where = xreallocarray(p->where, p->nwhere + 1, sizeof *p->where);
	p->where[p->nwhere].sec = sec;
	p->where[p->nwhere].obj = obj;
	p->where[p->nwhere].name = oname;
	p->where[p->nwhere].line = p->line;
	p->where[p->nwhere].key_line = p->line;
	p->nwhere++;

	p->sec = sec;
	p->obj = obj;
	p->name = oname;
	p->sec_line = p->line;
	memset(p->seen, 0, sizeof p->seen);
	return (0);
}

static int
cfg_unknown_key(struct cfg_parse *p, const char *key, char **cause)
{
	const struct cfg_option	*o;
	const char		*names[CFG_NOPTIONS], *hint;
	size_t			 i, n = 0;

	if ((o = cfg_option_find(key, ~0)) != NULL) {
		for (i = 0; i < nitems(cfg_sections); i++) {
			if (o->sections & cfg_sections[i].id)
				break;
		}
		return (cfg_error(p, p->line, cause, "key \"%s\" does not "
		    "belong in [%s%s%s]; it goes in [%s%s]", key, p->sec->name,
		    p->sec->named ? " " : "", p->name, cfg_sections[i].name,
		    cfg_sections[i].named ? " NAME" : ""));
	}
	for (i = 0; i < CFG_NOPTIONS; i++) {
		if (cfg_options[i].sections & p->sec->id)
			names[n++] = cfg_options[i].name;
	}
	hint = cfg_suggest(key, names, n);
	return (cfg_error(p, p->line, cause, "unknown key \"%s\" in [%s%s%s]%s%s%s",
	    key, p->sec->name, p->sec->named ? " " : "", p->name,
	    hint != NULL ? " (did you mean \"" : "", hint != NULL ? hint : "",
	    hint != NULL ? "\"?)" : ""));
}

/* A comment starts with # or ; at the start or after whitespace. */
static int
cfg_is_comment(const char *line, const char *p)
{
	return ((*p == '#' || *p == ';') &&
	    (p == line || p[-1] == ' ' || p[-1] == '\t'));
}

/*
 * The value after "=", unquoted in place: "..." with \" and \\, or bare
 * text up to a comment. *out points into line.
 */
static int
cfg_value(struct cfg_parse *p, char *line, char *s, char **out,
    char **cause)
{
	char	*r, *w, *end;

	s += strspn(s, " \t");
	if (*s == '"') {
		for (r = w = s + 1; *r != '"'; r++) {
			if (*r == '\0')
				return (cfg_error(p, p->line, cause,
				    "unterminated quoted value"));
			if (*r == '\\') {
				r++;
				if (*r != '"' && *r != '\\')
					return (cfg_error(p, p->line, cause,
					    "only \\\" and \\\\ may be escaped "
					    "in a quoted value"));
			}
			*w++ = *r;
		}
		end = r + 1;
		end += strspn(end, " \t");
		if (*end != '\0' && !cfg_is_comment(line, end))
			return (cfg_error(p, p->line, cause,
			    "text after a quoted value"));
		*w = '\0';
		*out = s + 1;
		return (0);
	}
	for (r = s; *r != '\0'; r++) {
		if (cfg_is_comment(line, r))
			break;
	}
	*r = '\0';
	while (r > s && (r[-1] == ' ' || r[-1] == '\t'))
		*--r = '\0';
	*out = s;
	return (0);
}

static int
cfg_line(struct cfg_parse *p, char *line, char **cause)
{
	const struct cfg_option	*o;
	char			*s, *end, *rest, *key, *value = NULL;
	char			*err = NULL;
	size_t			 idx;

	s = line + strspn(line, " \t");
	if (*s == '\0' || *s == '#' || *s == ';')
		return (0);

	if (*s == '[') {
		if ((end = strchr(s, ']')) == NULL)
			return (cfg_error(p, p->line, cause,
			    "missing ] in section header"));
		*end++ = '\0';
		end += strspn(end, " \t");
		if (*end != '\0' && !cfg_is_comment(line, end))
			return (cfg_error(p, p->line, cause,
			    "text after section header"));
		s++;
		s += strspn(s, " \t");
		end = s + strlen(s);
		while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (cfg_section_close(p, cause) != 0)
			return (-1);
		return (cfg_section_open(p, s, cause));
	}

	/* Say nothing about the line's text: it may be a secret. */
	if ((end = strchr(s, '=')) == NULL)
		return (cfg_error(p, p->line, cause,
		    "expected key = value or [section] (missing =)"));
	key = s;
	*end = '\0';
	rest = end + 1;
	while (end > key && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	if (*key == '\0')
		return (cfg_error(p, p->line, cause, "missing key before ="));
	/* A key with a space may be a secret with a stray "=" in it. */
	if (strcspn(key, " \t") != strlen(key))
		return (cfg_error(p, p->line, cause,
		    "expected key = value (a key has no spaces)"));
	if (strspn(key, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") != strlen(key) ||
	    strlen(key) > 64)
		return (cfg_error(p, p->line, cause, "invalid key \"%.64s\"",
		    key));
	if (p->sec == NULL)
		return (cfg_error(p, p->line, cause, "key \"%s\" before any "
		    "section; start with [daemon]", key));
	if ((o = cfg_option_find(key, p->sec->id)) == NULL)
		return (cfg_unknown_key(p, key, cause));
	idx = (size_t)(o - cfg_options);
	if (p->seen[idx] != 0)
		return (cfg_error(p, p->line, cause, "duplicate key \"%s\" "
		    "(first at line %u)", key, p->seen[idx]));
	p->seen[idx] = p->line;

	if (cfg_value(p, line, rest, &value, cause) != 0)
		return (-1);
	if (cfg_set(o, cfg_option_ptr(o, p->sec, p->obj), value, &err) != 0) {
		cfg_error(p, p->line, cause, "%s: %s", key, err);
		free(err);
		return (-1);
	}
	return (0);
}

/* After the whole file: references between sections. */
static int
cfg_check_refs(struct cfg_parse *p, char **cause)
{
	struct cfg_bucket	*bk;
	struct cfg_window	*wn;
	struct cfg_endpoint	*ep;
	const char		*w;
	char			*why = NULL;
	size_t			 i, len;
	int			 r;

	for (i = 0; i < p->nwhere; i++) {
		if (p->where[i].sec->id != CFG_SEC_WINDOW)
			continue;
		wn = p->where[i].obj;
		if (window_parse_days(wn->days, &wn->w.days, &why) != 0 ||
		    window_parse_time(wn->start, 0, &wn->w.start, &why) != 0 ||
		    window_parse_time(wn->end, 1, &wn->w.end, &why) != 0 ||
		    window_parse_rate(wn->rate, &wn->w.rate, &why) != 0) {
			r = cfg_error(p, p->where[i].line, cause,
			    "[window %s]: %s", wn->name, why);
			free(why);
			return (r);
		}
	}
	for (i = 0; i < p->nwhere; i++) {
		if (p->where[i].sec->id != CFG_SEC_ENDPOINT)
			continue;
		ep = p->where[i].obj;
		for (w = ep->windows; w != NULL && *w != '\0'; w += len) {
			w += strspn(w, " \t,");
			if ((len = strcspn(w, " \t,")) == 0)
				break;
			TAILQ_FOREACH(wn, &p->cfg->windows, entry) {
				if (strlen(wn->name) == len &&
				    strncmp(wn->name, w, len) == 0)
					break;
			}
			if (wn == NULL)
				return (cfg_error(p, p->where[i].line, cause,
				    "[endpoint %s]: window \"%.*s\" is not "
				    "defined (no [window %.*s])", ep->name,
				    (int)len, w, (int)len, w));
		}
	}
	for (i = 0; i < p->nwhere; i++) {
		if (p->where[i].sec->id != CFG_SEC_BUCKET)
			continue;
		bk = p->where[i].obj;
		if (cfg_endpoint_find(p->cfg, bk->endpoint) == NULL) {
			return (cfg_error(p, p->where[i].key_line, cause,
			    "[bucket %s]: endpoint \"%s\" is not defined "
			    "(no [endpoint %s])", bk->name, bk->endpoint,
			    bk->endpoint));
		}
	}
	return (0);
}

struct cfg *
cfg_load_buffer(const char *name, const char *data, size_t len,
    char **cause)
{
	struct cfg_parse	 p;
	char			 line[CFG_LINE_MAX + 1];
	const char		*nl, *end = data + len;
	size_t			 n;
	int			 r = -1;

	memset(&p, 0, sizeof p);
	p.file = name;
	p.cfg = cfg_new();
	p.cfg->path = xstrdup(name);

	/* Editors on some systems start a UTF-8 file with a BOM: skip it. */
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		data += 3;
	while (data < end) {
		p.line++;
		if ((nl = memchr(data, '\n', (size_t)(end - data))) == NULL)
			nl = end;
		n = (size_t)(nl - data);
		if (n > 0 && data[n - 1] == '\r')
			n--;
		if (n > CFG_LINE_MAX) {
			cfg_error(&p, p.line, cause, "line longer than %d "
			    "bytes", CFG_LINE_MAX);
			goto out;
		}
		if (memchr(data, '\0', n) != NULL) {
			cfg_error(&p, p.line, cause, "NUL byte in line");
			goto out;
		}
		if (!utf8_valid(data, n)) {
			cfg_error(&p, p.line, cause, "line is not valid UTF-8");
			goto out;
		}
		memcpy(line, data, n);
		line[n] = '\0';
		data = nl < end ? nl + 1 : end;
		if (cfg_line(&p, line, cause) != 0)
			goto out;
	}
	p.line++;
	if (cfg_section_close(&p, cause) != 0 || cfg_check_refs(&p, cause) != 0)
		goto out;
	r = 0;
out:
	/* The line may have held a secret. */
	explicit_wipe(line, sizeof line);
	free(p.where);
	if (r != 0) {
		cfg_free(p.cfg);
		return (NULL);
	}
	return (p.cfg);
}

struct cfg *
cfg_load(const char *path, char **cause)
{
	struct cfg		*cfg = NULL;
	const struct cfg_endpoint *ep;
	const struct cfg_profile *pr;
	const struct cfg_lambda	*lm;
	struct stat		 st;
	char			*data;
	size_t			 len = 0, size;
	ssize_t			 n;
	int			 fd, inline_secrets = 0;

	if ((fd = open(path, O_RDONLY|O_CLOEXEC|O_NOCTTY)) == -1) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return (NULL);
	}
	if (fstat(fd, &st) != 0) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		close(fd);
		return (NULL);
	}
	if (!S_ISREG(st.st_mode) || st.st_size > CFG_FILE_MAX) {
		xasprintf(cause, "%s: %s", path, !S_ISREG(st.st_mode) ?
		    "not a regular file" : "file is too large");
		close(fd);
		return (NULL);
	}
	/* One read buffer of the final size: no copies of secrets left. */
	size = (size_t)st.st_size + 1;
	data = xmalloc(size);
	if ((n = io_read_full(fd, data, size)) == -1) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		goto out;
	}
	len = (size_t)n;
	if (len == size) {
		xasprintf(cause, "%s: file changed while read", path);
		goto out;
	}
	if ((cfg = cfg_load_buffer(path, data, len, cause)) == NULL)
		goto out;
	TAILQ_FOREACH(ep, &cfg->endpoints, entry)
		inline_secrets |= ep->creds.source == CFG_CRED_INLINE;
	TAILQ_FOREACH(pr, &cfg->profiles, entry)
		inline_secrets |= pr->creds.source == CFG_CRED_INLINE;
	TAILQ_FOREACH(lm, &cfg->lambdas, entry)
		inline_secrets |= lm->creds.source == CFG_CRED_INLINE;
	if (inline_secrets && (st.st_mode & S_IROTH))
		log_warnx("%s holds secret keys and is readable by everyone; "
		    "chmod o-r it", path);
out:
	explicit_wipe(data, size);
	free(data);
	close(fd);
	return (cfg);
}

static void
cfg_print_section(const struct cfg_section *sec, const char *name,
    const void *obj, FILE *f)
{
	const struct cfg_option		*o;
	const struct cfg_credentials	*cr;
	struct buf			 b;
	size_t				 i;

	fprintf(f, "\n[%s%s%s]\n", sec->name, sec->named ? " " : "", name);
	if (sec->creds != CFG_NO_CREDS) {
		cr = (const void *)((const char *)obj + sec->creds);
		fprintf(f, "# credentials from: %s\n",
		    cfg_cred_source_name(cr->source));
	}
	buf_init(&b);
	for (i = 0; i < CFG_NOPTIONS; i++) {
		o = &cfg_options[i];
		if ((o->sections & sec->id) == 0)
			continue;
		buf_reset(&b);
		if (cfg_format(o, cfg_option_ptr(o, sec, (void *)(uintptr_t)obj),
		    &b))
			fprintf(f, "%s = %s\n", o->name, b.data);
		else if ((o->flags & CFG_O_CREDS) == 0)
			fprintf(f, "# %s is not set\n", o->name);
	}
	buf_free(&b);
}

void
cfg_print(const struct cfg *cfg, FILE *f)
{
	const struct cfg_endpoint	*ep;
	const struct cfg_profile	*pr;
	const struct cfg_bucket		*bk;
	const struct cfg_lambda		*lm;
	const struct cfg_window		*wn;

	fprintf(f, "# s3batchd configuration%s%s\n",
	    cfg->path != NULL ? " from " : " (defaults)",
	    cfg->path != NULL ? cfg->path : "");
	cfg_print_section(cfg_section_find("daemon"), "", cfg, f);
	TAILQ_FOREACH(ep, &cfg->endpoints, entry)
		cfg_print_section(cfg_section_find("endpoint"), ep->name, ep, f);
	TAILQ_FOREACH(pr, &cfg->profiles, entry) {
		cfg_print_section(cfg_section_find("credentials"), pr->name,
		    pr, f);
	}
	TAILQ_FOREACH(bk, &cfg->buckets, entry)
		cfg_print_section(cfg_section_find("bucket"), bk->name, bk, f);
	TAILQ_FOREACH(lm, &cfg->lambdas, entry)
		cfg_print_section(cfg_section_find("lambda"), lm->name, lm, f);
	TAILQ_FOREACH(wn, &cfg->windows, entry)
		cfg_print_section(cfg_section_find("window"), wn->name, wn, f);
}

/* "duration, 10ms to 1h": the type with its bounds. */
/* The credential keys are listed once, under [credentials NAME]. */
static int
cfg_help_shows(const struct cfg_section *sec, const struct cfg_option *o)
{
	if ((o->sections & sec->id) == 0)
		return (0);
	return ((o->flags & CFG_O_CREDS) == 0 ||
	    sec->id == CFG_SEC_CREDENTIALS);
}

static void
cfg_help_type(const struct cfg_option *o, struct buf *b)
{
	const struct cfg_enum	*e;

	if (o->type == CFG_ENUM) {
		for (e = o->values; e->name != NULL; e++)
			buf_addf(b, "%s%s", e == o->values ? "" : "|", e->name);
	} else
		buf_adds(b, cfg_type_names[o->type]);
	if (o->flags & CFG_O_SECRET)
		buf_adds(b, ", secret");
	if (o->flags & CFG_O_REQUIRED)
		buf_adds(b, ", required");
	if (o->type == CFG_PATH && o->max != NULL)
		buf_addf(b, ", at most %s bytes", o->max);
	else if (o->min != NULL && o->max != NULL)
		buf_addf(b, ", %s to %s", o->min, o->max);
	else if (o->min != NULL)
		buf_addf(b, ", at least %s", o->min);
	else if (o->max != NULL)
		buf_addf(b, ", at most %s", o->max);
}

/* Words of s on lines of at most 78 columns, each indented. */
static void
cfg_help_wrap(FILE *f, const char *s, int indent)
{
	size_t	 col = 0, n;

	while (*s != '\0') {
		s += strspn(s, " ");
		n = strcspn(s, " ");
		if (n == 0)
			break;
		if (col != 0 && col + 1 + n > 78) {
			fputc('\n', f);
			col = 0;
		}
		if (col == 0)
			col = (size_t)fprintf(f, "%*s%.*s", indent, "", (int)n, s);
		else
			col += (size_t)fprintf(f, " %.*s", (int)n, s);
		s += n;
	}
	fputc('\n', f);
}

void
cfg_help(FILE *f)
{
	const struct cfg_section	*sec;
	const struct cfg_option		*o;
	struct buf			 b;
	size_t				 i, j;

	buf_init(&b);
	for (i = 0; i < nitems(cfg_sections); i++) {
		sec = &cfg_sections[i];
		fprintf(f, "%s[%s%s]\n", i == 0 ? "" : "\n", sec->name,
		    sec->named ? " NAME" : "");
		cfg_help_wrap(f, sec->help, 2);
		for (j = 0; j < CFG_NOPTIONS; j++) {
			o = &cfg_options[j];
			if (!cfg_help_shows(sec, o))
				continue;
			buf_reset(&b);
			cfg_help_type(o, &b);
			if (o->def != NULL)
				fprintf(f, "  %s = %s\n", o->name, o->def);
			else
				fprintf(f, "  %s (unset)\n", o->name);
			fprintf(f, "      %s; %s\n", b.data,
			    (o->flags & CFG_O_RELOAD) ? "reloadable" :
			    "needs a restart");
			cfg_help_wrap(f, o->help, 6);
		}
	}
	buf_free(&b);
}

/* Text for a roff line: no leading dot or quote, backslashes escaped. */
static void
cfg_man_text(FILE *f, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", f);
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\e", f);
		else
			fputc(*s, f);
	}
	fputc('\n', f);
}

void
cfg_help_man(FILE *f)
{
	const struct cfg_section	*sec;
	const struct cfg_option		*o;
	struct buf			 b;
	size_t				 i, j;

	buf_init(&b);
	for (i = 0; i < nitems(cfg_sections); i++) {
		sec = &cfg_sections[i];
		fprintf(f, ".Ss \"[%s%s]\"\n", sec->name,
		    sec->named ? " NAME" : "");
		cfg_man_text(f, sec->help);
		fprintf(f, ".Bl -tag -width Ds\n");
		for (j = 0; j < CFG_NOPTIONS; j++) {
			o = &cfg_options[j];
			if (!cfg_help_shows(sec, o))
				continue;
			buf_reset(&b);
			cfg_help_type(o, &b);
			fprintf(f, ".It Ic %s Ar %s\n", o->name,
			    o->type == CFG_ENUM ? b.data :
			    cfg_type_names[o->type]);
			cfg_man_text(f, o->help);
			buf_reset(&b);
			if (o->flags & CFG_O_REQUIRED)
				buf_adds(&b, "Required.");
			else
				buf_addf(&b, "Default: %s.", o->def != NULL ?
				    o->def : "unset");
			if (o->type == CFG_PATH && o->max != NULL)
				buf_addf(&b, " At most %s bytes.", o->max);
			else if (o->min != NULL && o->max != NULL)
				buf_addf(&b, " Range: %s to %s.", o->min,
				    o->max);
			else if (o->min != NULL)
				buf_addf(&b, " At least %s.", o->min);
			if (o->flags & CFG_O_SECRET)
				buf_adds(&b, " Secret: never printed.");
			buf_addf(&b, " %s.", (o->flags & CFG_O_RELOAD) ?
			    "Reloadable" : "Needs a restart");
			cfg_man_text(f, b.data);
		}
		fprintf(f, ".El\n");
	}
	buf_free(&b);
}

/*
 * A CA file is read by curl only when the first request is made: check at
 * load time that it opens, and holds at least one PEM certificate and
 * nothing that fails to parse.
 */
static int
cfg_check_ca_file(const char *sec, const char *name, const char *path,
    char **cause)
{
	BIO		*bio;
	X509		*x;
	unsigned long	 err;
	int		 n = 0;

	if (path == NULL)
		return (0);
	if (access(path, R_OK) == -1) {
		xasprintf(cause, "[%s %s] ca_file %s: %s", sec, name, path,
		    strerror(errno));
		return (-1);
	}
	if ((bio = BIO_new_file(path, "r")) == NULL) {
		xasprintf(cause, "[%s %s] ca_file %s: cannot be opened", sec,
		    name, path);
		ERR_clear_error();
		return (-1);
	}
	ERR_clear_error();
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		X509_free(x);
		n++;
	}
	err = ERR_peek_last_error();
	ERR_clear_error();
	BIO_free(bio);
	/* The loop ends with "no start line" at the end of the file. */
	if (err != 0 && !(ERR_GET_LIB(err) == ERR_LIB_PEM &&
	    ERR_GET_REASON(err) == PEM_R_NO_START_LINE)) {
		xasprintf(cause, "[%s %s] ca_file %s: certificate %d does not "
		    "parse as PEM", sec, name, path, n + 1);
		return (-1);
	}
	if (n == 0) {
		xasprintf(cause, "[%s %s] ca_file %s: no PEM certificate in it",
		    sec, name, path);
		return (-1);
	}
	return (0);
}

int
cfg_check_files(const struct cfg *cfg, char **cause)
{
	const struct cfg_endpoint	*ep;
	const struct cfg_lambda		*lm;

	TAILQ_FOREACH(ep, &cfg->endpoints, entry) {
		if (cfg_check_ca_file("endpoint", ep->name, ep->ca_file,
		    cause) != 0)
			return (-1);
	}
	TAILQ_FOREACH(lm, &cfg->lambdas, entry) {
		if (cfg_check_ca_file("lambda", lm->name, lm->ca_file,
		    cause) != 0)
			return (-1);
	}
	return (0);
}

int
cfg_check_reload(const struct cfg *old, const struct cfg *new, char **cause)
{
	const struct cfg_section	*sec = cfg_section_find("daemon");
	const struct cfg_option		*o;
	struct buf			 a, b, names;
	size_t				 i;
	int				 sa, sb;

	/* Only [daemon] has keys that need a restart. */
	buf_init(&a);
	buf_init(&b);
	buf_init(&names);
	for (i = 0; i < CFG_NOPTIONS; i++) {
		o = &cfg_options[i];
		if ((o->sections & CFG_SEC_DAEMON) == 0 ||
		    (o->flags & CFG_O_RELOAD))
			continue;
		buf_reset(&a);
		buf_reset(&b);
		sa = cfg_format(o, cfg_option_ptr(o, sec,
		    (void *)(uintptr_t)old), &a);
		sb = cfg_format(o, cfg_option_ptr(o, sec,
		    (void *)(uintptr_t)new), &b);
		if (sa != sb || (sa && strcmp(a.data, b.data) != 0))
			buf_addf(&names, "%s%s", names.len ? ", " : "", o->name);
	}
	buf_free(&a);
	buf_free(&b);
	if (names.len != 0) {
		xasprintf(cause, "changed keys need a restart: %s", names.data);
		buf_free(&names);
		return (-1);
	}
	buf_free(&names);
	return (0);
}
