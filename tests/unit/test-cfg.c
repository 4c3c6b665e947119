/*
 * Unit tests for cfg.c: every key, defaults, bounds, units, each error
 * message, quoting and comments, credential sources, reload checks, bucket
 * resolution, and that secrets never reach cfg_print.
 *
 * Hidden options: "test-cfg --man" prints the options table as mdoc(7)
 * entries (the source of docs/s3batchd.conf.5), "--help" as cfg_help.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "s3batchd.h"
#include "cfg.h"
#include "unit.h"

/* Every key, so the man page and example file can be checked for it. */
static const char *all_keys[] = {
	"state_dir", "control_socket", "control_group", "metrics_listen",
	"confirm_timeout", "job_retention", "max_inflight", "drain_timeout",
	"timer_interval", "max_attempts", "retry_base", "retry_max",
	"failure_min_tasks", "failure_percent", "multipart_threshold",
	"multipart_part_size", "commit_interval", "commit_batch",
	"log_verbose", "control_max_connections", "control_reserved",
	"control_max_per_uid", "control_idle_timeout",
	"control_admin_idle_timeout", "control_output_limit",
	"control_max_pending", "accept_pause", "metrics_max_connections",
	"metrics_timeout",
	"url", "region", "addressing", "tls_verify", "ca_file",
	"max_connections", "max_requests_per_second", "connect_timeout",
	"request_timeout", "access_key_id", "secret_access_key",
	"session_token", "access_key_id_file", "secret_access_key_file",
	"session_token_file", "credentials",
	"endpoint",
};

#define EP	"[endpoint default]\nurl = http://127.0.0.1:7480\n" \
		"access_key_id = AK\nsecret_access_key = SK\n"

static char	 tmpdir[PATH_MAX];

static struct cfg *
load(const char *text, char **cause)
{
	*cause = NULL;
	return (cfg_load_buffer("t.conf", text, strlen(text), cause));
}

/* A load that must fail with exactly this message. */
static void
check_error(int line, const char *text, const char *msg)
{
	struct cfg	*cfg;
	char		*cause;

	cfg = load(text, &cause);
	CHECK(cfg == NULL);
	if (cause == NULL || strcmp(cause, msg) != 0)
		fprintf(stderr, "test-cfg.c:%d: got \"%s\"\n    expected \"%s\"\n",
		    line, cause != NULL ? cause : "(null)", msg);
	CHECK_STR(cause, msg);
	cfg_free(cfg);
	free(cause);
}
#define ERR(text, msg)	check_error(__LINE__, text, msg)

/* A load that must fail with a message containing this. */
static void
check_error_has(int line, const char *text, const char *part)
{
	struct cfg	*cfg;
	char		*cause;

	cfg = load(text, &cause);
	CHECK(cfg == NULL);
	CHECK(cause != NULL && strstr(cause, part) != NULL);
	if (cause == NULL || strstr(cause, part) == NULL)
		fprintf(stderr, "test-cfg.c:%d: got \"%s\"\n    wanted \"%s\"\n",
		    line, cause != NULL ? cause : "(null)", part);
	cfg_free(cfg);
	free(cause);
}
#define ERR_HAS(text, part)	check_error_has(__LINE__, text, part)

static struct cfg *
load_ok(int line, const char *text)
{
	struct cfg	*cfg;
	char		*cause;

	cfg = load(text, &cause);
	if (cfg == NULL)
		fprintf(stderr, "test-cfg.c:%d: unexpected error: %s\n", line,
		    cause);
	CHECK(cfg != NULL);
	free(cause);
	return (cfg);
}
#define OK(text)	load_ok(__LINE__, text)

static void
write_file(const char *name, const char *text, mode_t mode)
{
	char	path[PATH_MAX + 64];
	int	fd;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	unlink(path);
	if ((fd = open(path, O_WRONLY|O_CREAT|O_TRUNC, 0600)) == -1)
		fatal("open %s", path);
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		fatal("write %s", path);
	if (fchmod(fd, mode) != 0)
		fatal("fchmod %s", path);
	close(fd);
}

static char *
slurp(const char *path)
{
	struct buf	 b;
	char		 tmp[4096];
	size_t		 n;
	FILE		*f;

	if ((f = fopen(path, "r")) == NULL)
		return (NULL);
	buf_init(&b);
	while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
		buf_add(&b, tmp, n);
	fclose(f);
	if (b.data == NULL)
		buf_adds(&b, "");
	return (buf_detach(&b));
}

static char *
print_cfg(const struct cfg *cfg)
{
	char	*out = NULL;
	size_t	 len = 0;
	FILE	*f;

	if ((f = open_memstream(&out, &len)) == NULL)
		fatal("open_memstream");
	cfg_print(cfg, f);
	fclose(f);
	return (out);
}

static void
test_defaults(void)
{
	struct cfg			*cfg;
	const struct cfg_endpoint	*ep;
	char				*cause;

	cfg = cfg_default();
	CHECK(cfg->path == NULL);
	CHECK_STR(cfg->state_dir, LOCALSTATEDIR "/lib/s3batchd");
	CHECK_STR(cfg->control_socket, RUNSTATEDIR "/s3batchd/control.sock");
	CHECK(cfg->control_group == NULL);
	CHECK(cfg->metrics_listen == NULL);
	CHECK_INT(cfg->confirm_timeout_ms, 30ULL * 86400 * 1000);
	CHECK_INT(cfg->job_retention_ms, 90ULL * 86400 * 1000);
	CHECK_INT(cfg->max_inflight, 256);
	CHECK_INT(cfg->drain_timeout_ms, 30000);
	CHECK_INT(cfg->timer_interval_ms, 1000);
	CHECK_INT(cfg->max_attempts, 8);
	CHECK_INT(cfg->retry_base_ms, 100);
	CHECK_INT(cfg->retry_max_ms, 20000);
	CHECK_INT(cfg->failure_min_tasks, 1000);
	CHECK_INT(cfg->failure_percent, 50);
	CHECK_INT(cfg->multipart_threshold, 5ULL << 30);
	CHECK_INT(cfg->multipart_part_size, 256ULL << 20);
	CHECK_INT(cfg->commit_interval_ms, 50);
	CHECK_INT(cfg->commit_batch, 2000);
	CHECK_INT(cfg->log_verbose, 0);
	CHECK(TAILQ_EMPTY(&cfg->endpoints));
	CHECK(cfg_bucket_endpoint(cfg, "any") == NULL);
	cfg_free(cfg);

	/* An empty file, and one of comments only, is the defaults. */
	cfg = load("", &cause);
	CHECK(cfg != NULL);
	CHECK_STR(cfg->path, "t.conf");
	CHECK_INT(cfg->max_inflight, 256);
	cfg_free(cfg);
	cfg = OK("# nothing\n\n; here\n   \n");
	cfg_free(cfg);

	cfg = OK(EP);
	ep = cfg_endpoint_find(cfg, "default");
	CHECK(ep != NULL);
	if (ep != NULL) {
		CHECK_STR(ep->url, "http://127.0.0.1:7480");
		CHECK_STR(ep->region, "us-east-1");
		CHECK_INT(ep->addressing, CFG_ADDR_PATH);
		CHECK_INT(ep->tls_verify, 1);
		CHECK(ep->ca_file == NULL);
		CHECK_INT(ep->max_connections, 64);
		CHECK(ep->max_requests_per_second == 0);
		CHECK_INT(ep->connect_timeout_ms, 10000);
		CHECK_INT(ep->request_timeout_ms, 300000);
		CHECK_INT(ep->creds.source, CFG_CRED_INLINE);
		CHECK_STR(ep->creds.access_key_id, "AK");
		CHECK_STR(ep->creds.secret_access_key, "SK");
		CHECK(ep->creds.session_token == NULL);
	}
	cfg_free(cfg);
}

static void
test_all_keys(void)
{
	struct cfg			*cfg;
	const struct cfg_endpoint	*ep;
	const struct cfg_profile	*pr;

	cfg = OK(
	    "[daemon]\n"
	    "state_dir = /srv/s3b\n"
	    "control_socket = /run/s3b.sock\n"
	    "control_group = root\n"
	    "metrics_listen = 127.0.0.1:9580\n"
	    "confirm_timeout = 2d\n"
	    "job_retention = 1w\n"
	    "max_inflight = 1000\n"
	    "drain_timeout = 1m\n"
	    "timer_interval = 250ms\n"
	    "max_attempts = 3\n"
	    "retry_base = 1s\n"
	    "retry_max = 1m\n"
	    "failure_min_tasks = 10\n"
	    "failure_percent = 5\n"
	    "multipart_threshold = 100MiB\n"
	    "multipart_part_size = 16MiB\n"
	    "commit_interval = 1s\n"
	    "commit_batch = 10\n"
	    "log_verbose = yes\n"
	    "[endpoint e1]\n"
	    "url = https://s3.example.com:8443/base/\n"
	    "region = eu-west-1\n"
	    "addressing = virtual\n"
	    "tls_verify = no\n"
	    "ca_file = /etc/ssl/ca.pem\n"
	    "max_connections = 8\n"
	    "max_requests_per_second = 2.5\n"
	    "connect_timeout = 500ms\n"
	    "request_timeout = 1h\n"
	    "access_key_id = AK1\n"
	    "secret_access_key = SK1\n"
	    "session_token = ST1\n"
	    "[credentials batch]\n"
	    "access_key_id = AK2\n"
	    "secret_access_key = SK2\n"
	    "[bucket b1]\n"
	    "endpoint = e1\n");
	if (cfg == NULL)
		return;
	CHECK_STR(cfg->state_dir, "/srv/s3b");
	CHECK_STR(cfg->control_socket, "/run/s3b.sock");
	CHECK_STR(cfg->control_group, "root");
	CHECK_STR(cfg->metrics_listen, "127.0.0.1:9580");
	CHECK_INT(cfg->confirm_timeout_ms, 2 * 86400 * 1000);
	CHECK_INT(cfg->job_retention_ms, 7 * 86400 * 1000);
	CHECK_INT(cfg->max_inflight, 1000);
	CHECK_INT(cfg->drain_timeout_ms, 60000);
	CHECK_INT(cfg->timer_interval_ms, 250);
	CHECK_INT(cfg->max_attempts, 3);
	CHECK_INT(cfg->retry_base_ms, 1000);
	CHECK_INT(cfg->retry_max_ms, 60000);
	CHECK_INT(cfg->failure_min_tasks, 10);
	CHECK_INT(cfg->failure_percent, 5);
	CHECK_INT(cfg->multipart_threshold, 100ULL << 20);
	CHECK_INT(cfg->multipart_part_size, 16ULL << 20);
	CHECK_INT(cfg->commit_interval_ms, 1000);
	CHECK_INT(cfg->commit_batch, 10);
	CHECK_INT(cfg->log_verbose, 1);
	ep = cfg_endpoint_find(cfg, "e1");
	CHECK(ep != NULL);
	if (ep != NULL) {
		CHECK_STR(ep->url, "https://s3.example.com:8443/base");
		CHECK_STR(ep->region, "eu-west-1");
		CHECK_INT(ep->addressing, CFG_ADDR_VIRTUAL);
		CHECK_INT(ep->tls_verify, 0);
		CHECK_STR(ep->ca_file, "/etc/ssl/ca.pem");
		CHECK_INT(ep->max_connections, 8);
		CHECK(ep->max_requests_per_second == 2.5);
		CHECK_INT(ep->connect_timeout_ms, 500);
		CHECK_INT(ep->request_timeout_ms, 3600000);
		CHECK_STR(ep->creds.access_key_id, "AK1");
		CHECK_STR(ep->creds.secret_access_key, "SK1");
		CHECK_STR(ep->creds.session_token, "ST1");
	}
	pr = cfg_profile_find(cfg, "batch");
	CHECK(pr != NULL);
	if (pr != NULL) {
		CHECK_STR(pr->creds.access_key_id, "AK2");
		CHECK_STR(pr->creds.secret_access_key, "SK2");
		CHECK_INT(pr->creds.source, CFG_CRED_INLINE);
	}
	CHECK(cfg_bucket_endpoint(cfg, "b1") == ep);
	cfg_free(cfg);
}

static void
test_bounds(void)
{
	static const struct {
		const char	*line;
		int		 ok;
	} cases[] = {
		{ "max_inflight = 1", 1 }, { "max_inflight = 65536", 1 },
		{ "max_inflight = 0", 0 }, { "max_inflight = 65537", 0 },
		{ "max_inflight = -1", 0 }, { "max_inflight = 1.5", 0 },
		{ "max_inflight = 99999999999999999999999", 0 },
		{ "timer_interval = 10ms", 1 }, { "timer_interval = 1h", 1 },
		{ "timer_interval = 9ms", 0 }, { "timer_interval = 61m", 0 },
		{ "max_attempts = 1", 1 }, { "max_attempts = 100", 1 },
		{ "max_attempts = 0", 0 }, { "max_attempts = 101", 0 },
		{ "failure_percent = 1", 1 }, { "failure_percent = 100", 1 },
		{ "failure_percent = 0", 0 }, { "failure_percent = 101", 0 },
		{ "failure_min_tasks = 0", 1 },
		{ "failure_min_tasks = 18446744073709551615", 1 },
		{ "multipart_threshold = 5MiB", 1 },
		{ "multipart_threshold = 5TiB", 1 },
		{ "multipart_threshold = 5242879", 0 },
		{ "multipart_threshold = 6TiB", 0 },
		{ "multipart_part_size = 5MiB", 1 },
		{ "multipart_part_size = 5GiB", 1 },
		{ "multipart_part_size = 4MiB", 0 },
		{ "multipart_part_size = 5121MiB", 0 },
		{ "drain_timeout = 0s", 1 }, { "drain_timeout = 2h", 0 },
		{ "commit_batch = 0", 0 }, { "commit_interval = 0ms", 0 },
		{ "confirm_timeout = 3650d", 1 },
		{ "confirm_timeout = 3651d", 0 },
		{ "control_socket = /run/s3batchd/a-rather-long-name-that-is-"
		  "still-allowed-because-it-fits-in-sun-path.sock", 1 },
		{ "control_socket = /run/s3batchd/a-name-far-too-long-for-a-"
		  "unix-socket-address-which-holds-at-most-one-hundred-and-"
		  "seven-bytes.sock", 0 },
	}, ep_cases[] = {
		{ "max_connections = 1", 1 }, { "max_connections = 4096", 1 },
		{ "max_connections = 0", 0 }, { "max_connections = 4097", 0 },
		{ "max_requests_per_second = 0", 1 },
		{ "max_requests_per_second = 0.5", 1 },
		{ "max_requests_per_second = 1e6", 1 },
		{ "max_requests_per_second = 1000001", 0 },
		{ "max_requests_per_second = -1", 0 },
		{ "max_requests_per_second = nan", 0 },
		{ "max_requests_per_second = inf", 0 },
		{ "max_requests_per_second = 0x10", 0 },
		{ "max_requests_per_second = 1..2", 0 },
		{ "connect_timeout = 0s", 0 }, { "request_timeout = 25h", 0 },
	};
	struct cfg	*cfg;
	char		*text, *cause;
	size_t		 i;

	for (i = 0; i < nitems(cases); i++) {
		xasprintf(&text, "[daemon]\n%s\n", cases[i].line);
		cfg = load(text, &cause);
		if ((cfg != NULL) != cases[i].ok)
			fprintf(stderr, "bounds: \"%s\": %s\n", cases[i].line,
			    cause != NULL ? cause : "accepted");
		CHECK_INT(cfg != NULL, cases[i].ok);
		if (!cases[i].ok)
			CHECK(cause != NULL &&
			    strncmp(cause, "t.conf:2: ", 10) == 0);
		cfg_free(cfg);
		free(cause);
		free(text);
	}
	for (i = 0; i < nitems(ep_cases); i++) {
		xasprintf(&text, EP "%s\n", ep_cases[i].line);
		cfg = load(text, &cause);
		if ((cfg != NULL) != ep_cases[i].ok)
			fprintf(stderr, "bounds: \"%s\": %s\n",
			    ep_cases[i].line,
			    cause != NULL ? cause : "accepted");
		CHECK_INT(cfg != NULL, ep_cases[i].ok);
		cfg_free(cfg);
		free(cause);
		free(text);
	}
}

static void
test_units(void)
{
	static const struct {
		const char	*line;
		size_t		 off;
		uint64_t	 want;
	} cases[] = {
		{ "timer_interval = 1h", offsetof(struct cfg, timer_interval_ms),
		  3600000 },
		{ "retry_max = 1m30s", offsetof(struct cfg, retry_max_ms),
		  90000 },
		{ "drain_timeout = 45", offsetof(struct cfg, drain_timeout_ms),
		  45000 },
		{ "job_retention = 1w2d", offsetof(struct cfg, job_retention_ms),
		  9ULL * 86400 * 1000 },
		{ "commit_interval = 500ms",
		  offsetof(struct cfg, commit_interval_ms), 500 },
		{ "multipart_threshold = 5G",
		  offsetof(struct cfg, multipart_threshold), 5ULL << 30 },
		{ "multipart_threshold = 1TiB",
		  offsetof(struct cfg, multipart_threshold), 1ULL << 40 },
		{ "multipart_part_size = 10MiB",
		  offsetof(struct cfg, multipart_part_size), 10ULL << 20 },
		{ "multipart_part_size = 8388608",
		  offsetof(struct cfg, multipart_part_size), 8ULL << 20 },
		{ "multipart_part_size = 6144k",
		  offsetof(struct cfg, multipart_part_size), 6ULL << 20 },
	};
	struct cfg	*cfg;
	char		*text;
	size_t		 i;

	for (i = 0; i < nitems(cases); i++) {
		xasprintf(&text, "[daemon]\n%s\n", cases[i].line);
		cfg = OK(text);
		if (cfg != NULL)
			CHECK_INT(*(uint64_t *)((char *)cfg + cases[i].off),
			    cases[i].want);
		cfg_free(cfg);
		free(text);
	}
	ERR("[daemon]\nretry_max = 1.5s\n",
	    "t.conf:2: retry_max: invalid duration \"1.5s\"");
	ERR("[daemon]\nmultipart_part_size = 10 MiB\n",
	    "t.conf:2: multipart_part_size: invalid size \"10 MiB\"");
	ERR("[daemon]\nmultipart_part_size = 10XB\n",
	    "t.conf:2: multipart_part_size: invalid size \"10XB\"");
}

static void
test_errors(void)
{
	char	 big[CFG_LINE_MAX + 64];
	char	*cause;

	ERR("[daemon]\nmax_inflite = 5\n", "t.conf:2: unknown key "
	    "\"max_inflite\" in [daemon] (did you mean \"max_inflight\"?)");
	ERR("[daemon]\nMax_Inflight = 5\n", "t.conf:2: unknown key "
	    "\"Max_Inflight\" in [daemon] (did you mean \"max_inflight\"?)");
	ERR(EP "sesion_token = x\n", "t.conf:5: unknown key \"sesion_token\" "
	    "in [endpoint default] (did you mean \"session_token\"?)");
	ERR("[daemon]\nfrobnicate = 5\n",
	    "t.conf:2: unknown key \"frobnicate\" in [daemon]");
	ERR("[daemon]\nurl = http://x\n", "t.conf:2: key \"url\" does not "
	    "belong in [daemon]; it goes in [endpoint NAME]");
	ERR(EP "endpoint = x\n", "t.conf:5: key \"endpoint\" does not belong "
	    "in [endpoint default]; it goes in [bucket NAME]");
	ERR("\n[deamon]\n",
	    "t.conf:2: unknown section [deamon] (did you mean [daemon]?)");
	ERR("[endpoints x]\n",
	    "t.conf:1: unknown section [endpoints] (did you mean [endpoint]?)");
	ERR("[zzz]\n", "t.conf:1: unknown section [zzz]");
	ERR("[daemon]\nmax_inflight = 5\nmax_inflight = 6\n",
	    "t.conf:3: duplicate key \"max_inflight\" (first at line 2)");
	ERR("[daemon]\n[daemon]\n",
	    "t.conf:2: duplicate section [daemon] (first at line 1)");
	ERR(EP "\n" EP, "t.conf:6: duplicate section [endpoint default] "
	    "(first at line 1)");
	ERR("[daemon]\nmax_inflight 5\n",
	    "t.conf:2: expected key = value or [section] (missing =)");
	ERR("[daemon]\n= 5\n", "t.conf:2: missing key before =");
	ERR("[daemon]\nmax inflight = 5\n",
	    "t.conf:2: expected key = value (a key has no spaces)");
	ERR("[daemon]\nmax/inflight = 5\n",
	    "t.conf:2: invalid key \"max/inflight\"");
	ERR("max_inflight = 5\n", "t.conf:1: key \"max_inflight\" before any "
	    "section; start with [daemon]");
	ERR("[daemon]\nmax_inflight = 0\n",
	    "t.conf:2: max_inflight: 0 is below the minimum 1");
	ERR("[daemon]\ntimer_interval = 2h\n",
	    "t.conf:2: timer_interval: 2h is above the maximum 1h");
	ERR("[daemon]\nconfirm_timeout = soon\n",
	    "t.conf:2: confirm_timeout: invalid duration \"soon\"");
	ERR("[daemon]\nmax_attempts = many\n",
	    "t.conf:2: max_attempts: invalid integer \"many\"");
	ERR("[daemon]\nlog_verbose = maybe\n",
	    "t.conf:2: log_verbose: \"maybe\" is not yes or no");
	ERR("[daemon]\nstate_dir = var/lib\n",
	    "t.conf:2: state_dir: \"var/lib\" is not an absolute path");
	ERR("[daemon]\nstate_dir =\n", "t.conf:2: state_dir: empty value "
	    "(leave the key out for the default)");
	ERR("[daemon]\nstate_dir = \"\"\n", "t.conf:2: state_dir: empty value "
	    "(leave the key out for the default)");
	ERR("[daemon]\nstate_dir = \"/abc\n",
	    "t.conf:2: unterminated quoted value");
	ERR("[daemon]\nstate_dir = \"/abc\" x\n",
	    "t.conf:2: text after a quoted value");
	ERR("[daemon]\nstate_dir = \"/a\\bc\"\n", "t.conf:2: only \\\" and "
	    "\\\\ may be escaped in a quoted value");
	ERR("[daemon]\nretry_base = 30s\n",
	    "t.conf:2: retry_base is larger than retry_max");
	ERR("[daemon\n", "t.conf:1: missing ] in section header");
	ERR("[daemon] x\n", "t.conf:1: text after section header");
	ERR("[daemon x]\n", "t.conf:1: [daemon] takes no name");
	ERR("[endpoint]\n", "t.conf:1: [endpoint] needs a name: "
	    "[endpoint NAME]");
	ERR("[endpoint a/b]\n", "t.conf:1: invalid endpoint name \"a/b\" "
	    "(up to 200 letters, digits and ._-, not starting with .)");
	ERR("[endpoint .hidden]\n", "t.conf:1: invalid endpoint name "
	    "\".hidden\" (up to 200 letters, digits and ._-, not starting "
	    "with .)");
	ERR("[endpoint x]\nregion = r\n",
	    "t.conf:1: [endpoint x]: missing required key \"url\"");
	ERR("[bucket b]\n", "t.conf:1: [bucket b]: missing required key "
	    "\"endpoint\"");
	ERR(EP "[bucket b]\n\nendpoint = nope\n", "t.conf:7: [bucket b]: "
	    "endpoint \"nope\" is not defined (no [endpoint nope])");
	ERR(EP "addressing = virtual-host\n", "t.conf:5: addressing: "
	    "\"virtual-host\" is not path or virtual");
	ERR(EP "tls_verify = perhaps\n",
	    "t.conf:5: tls_verify: \"perhaps\" is not yes or no");
	ERR("[endpoint e]\nurl = http://h\ncredentials = vault\n",
	    "t.conf:3: credentials: \"vault\" is not env or systemd");
	ERR("[daemon]\ncontrol_group = no-such-group-zz9\n", "t.conf:2: "
	    "control_group: group \"no-such-group-zz9\" does not exist");
	ERR("[daemon]\ncontrol_group = bad/name\n",
	    "t.conf:2: control_group: invalid group name \"bad/name\"");
	ERR("[daemon]\nmetrics_listen = 9580\n",
	    "t.conf:2: metrics_listen: \"9580\" is not host:port");
	ERR("[daemon]\nmetrics_listen = localhost:\n",
	    "t.conf:2: metrics_listen: invalid port \"\"");
	ERR("[daemon]\nmetrics_listen = localhost:70000\n",
	    "t.conf:2: metrics_listen: invalid port \"70000\"");
	ERR("[daemon]\nmetrics_listen = ::1:9580\n",
	    "t.conf:2: metrics_listen: invalid host \"::1\" (put an IPv6 "
	    "address in brackets)");

	/* URLs. */
	ERR_HAS(EP "[endpoint u]\nurl = ftp://h\n",
	    "t.conf:6: url: \"ftp://h\" is not an http:// or https:// url");
	ERR_HAS(EP "[endpoint u]\nurl = http://h/?x=1\n",
	    "t.conf:6: url: url \"http://h/?x=1\" must not have a query");
	ERR_HAS(EP "[endpoint u]\nurl = http://h#f\n",
	    "must not have a query or fragment");
	ERR_HAS(EP "[endpoint u]\nurl = http://u:p@h/\n",
	    "must not carry credentials");
	ERR_HAS(EP "[endpoint u]\nurl = http://h:0\n", "invalid port \"0\"");
	ERR_HAS(EP "[endpoint u]\nurl = http://h:99999\n",
	    "invalid port \"99999\"");
	ERR_HAS(EP "[endpoint u]\nurl = http://h:x\n", "invalid port \"x\"");
	ERR_HAS(EP "[endpoint u]\nurl = http://\n", "missing host");
	ERR_HAS(EP "[endpoint u]\nurl = http:///b\n", "missing host");
	ERR_HAS(EP "[endpoint u]\nurl = \"http://a b\"\n", "has a space");
	ERR_HAS(EP "[endpoint u]\nurl = HTTP://h\n", "is not an http://");
	ERR_HAS(EP "[endpoint u]\nurl = http://h%/\n", "invalid host");

	/* Line-level errors. */
	memset(big, 'a', sizeof big);
	memcpy(big, "[daemon]\n# ", 11);
	big[sizeof big - 1] = '\0';
	ERR(big, "t.conf:2: line longer than 4096 bytes");
	CHECK(cfg_load_buffer("t.conf", "[daemon]\nx\0y = 1\n", 16,
	    &cause) == NULL);
	CHECK_STR(cause, "t.conf:2: NUL byte in line");
	free(cause);
	ERR("[daemon]\nregion = \xff\xfe\n",
	    "t.conf:2: line is not valid UTF-8");
	ERR("[daemon]\nstate_dir = \"/a\x01\"\n",
	    "t.conf:2: state_dir: value has a control character");
}

static void
test_quoting(void)
{
	struct cfg			*cfg;
	const struct cfg_endpoint	*ep;

	setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "SKENV", 1);
	cfg = OK(
	    "# a comment\n"
	    "; another\n"
	    "   \t\n"
	    "  [ endpoint   e1 ]   # header comment\r\n"
	    "  url   =   http://h:80/   ; a comment\r\n"
	    "access_key_id=AK\n"
	    "secret_access_key = \"S K#;\\\"\\\\\"  # quoted\n"
	    "region = a;b\n"
	    "ca_file = /etc/x#y\n"
	    "[endpoint e2]\n"
	    "url = http://[::1]:7480\n"
	    "region = \"eu west # 1\"  # c\n"
	    "credentials = env\n"
	    "[endpoint e3]\n"
	    "url = http://h\n"
	    "region = a\t;b\n"
	    "credentials = env # c\n"
	    "[daemon]\n"
	    "state_dir = \"/var/lib/my dir\"\n");
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	if (cfg == NULL)
		return;
	ep = cfg_endpoint_find(cfg, "e1");
	CHECK(ep != NULL);
	if (ep != NULL) {
		CHECK_STR(ep->url, "http://h:80");
		CHECK_STR(ep->creds.secret_access_key, "S K#;\"\\");
		CHECK_STR(ep->region, "a;b");
		CHECK_STR(ep->ca_file, "/etc/x#y");
	}
	ep = cfg_endpoint_find(cfg, "e2");
	CHECK(ep != NULL && strcmp(ep->region, "eu west # 1") == 0);
	CHECK(ep != NULL && strcmp(ep->url, "http://[::1]:7480") == 0);
	ep = cfg_endpoint_find(cfg, "e3");
	CHECK(ep != NULL && strcmp(ep->region, "a") == 0);
	CHECK_STR(cfg->state_dir, "/var/lib/my dir");
	cfg_free(cfg);
}

static void
test_credentials(void)
{
	struct cfg			*cfg;
	const struct cfg_endpoint	*ep;
	const struct cfg_profile	*pr;
	char				*text, dir[PATH_MAX + 16];

	write_file("ak", "AKFILE\n", 0600);
	write_file("sk", "  SKFILE \r\n", 0640);
	write_file("st", "TOKENFILE", 0400);
	write_file("world", "AKWORLD\n", 0644);
	write_file("empty", "\n", 0600);

	xasprintf(&text, "[endpoint default]\nurl = http://h\n"
	    "access_key_id_file = %s/ak\nsecret_access_key_file = %s/sk\n"
	    "session_token_file = %s/st\n", tmpdir, tmpdir, tmpdir);
	cfg = OK(text);
	free(text);
	ep = cfg != NULL ? cfg_endpoint_find(cfg, "default") : NULL;
	CHECK(ep != NULL);
	if (ep != NULL) {
		CHECK_INT(ep->creds.source, CFG_CRED_FILE);
		CHECK_STR(ep->creds.access_key_id, "AKFILE");
		CHECK_STR(ep->creds.secret_access_key, "SKFILE");
		CHECK_STR(ep->creds.session_token, "TOKENFILE");
	}
	cfg_free(cfg);

	/* World-readable, missing, empty. */
	xasprintf(&text, "[endpoint default]\nurl = http://h\n"
	    "secret_access_key_file = %s/sk\naccess_key_id_file = %s/world\n",
	    tmpdir, tmpdir);
	ERR_HAS(text, "t.conf:4: [endpoint default]: ");
	ERR_HAS(text, "/world is readable by everyone (mode 0644); chmod o-r");
	free(text);
	xasprintf(&text, "[credentials p]\n"
	    "access_key_id_file = %s/ak\nsecret_access_key_file = %s/nope\n",
	    tmpdir, tmpdir);
	ERR_HAS(text, "t.conf:3: [credentials p]: ");
	ERR_HAS(text, "/nope: No such file or directory");
	free(text);
	xasprintf(&text, "[credentials p]\n"
	    "access_key_id_file = %s/empty\nsecret_access_key_file = %s/sk\n",
	    tmpdir, tmpdir);
	ERR_HAS(text, "/empty is empty");
	free(text);
	xasprintf(&text, "[credentials p]\n"
	    "access_key_id_file = %s\nsecret_access_key_file = %s/sk\n",
	    tmpdir, tmpdir);
	ERR_HAS(text, "not a regular file");
	free(text);

	/* Exactly one complete source. */
	ERR("[endpoint e]\nurl = http://h\n", "t.conf:1: [endpoint e]: no "
	    "credentials: set access_key_id and secret_access_key, "
	    "access_key_id_file and secret_access_key_file, or credentials = "
	    "env or systemd");
	ERR("[endpoint e]\nurl = http://h\naccess_key_id = A\n",
	    "t.conf:1: [endpoint e]: access_key_id is set but "
	    "secret_access_key is missing");
	ERR("[endpoint e]\nurl = http://h\nsession_token = T\n"
	    "secret_access_key = S\n", "t.conf:1: [endpoint e]: "
	    "secret_access_key is set but access_key_id is missing");
	ERR("[credentials c]\naccess_key_id_file = /a\n",
	    "t.conf:1: [credentials c]: access_key_id_file is set but "
	    "secret_access_key_file is missing");
	ERR("[endpoint e]\nurl = http://h\naccess_key_id = A\n"
	    "secret_access_key = S\ncredentials = env\n",
	    "t.conf:1: [endpoint e]: more than one credential source (inline "
	    "keys, *_file keys, credentials =); choose one");
	ERR("[credentials c]\naccess_key_id = A\nsecret_access_key = S\n"
	    "secret_access_key_file = /s\n", "t.conf:1: [credentials c]: more "
	    "than one credential source (inline keys, *_file keys, "
	    "credentials =); choose one");

	/* The environment. */
	setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "SKENV", 1);
	unsetenv("AWS_SESSION_TOKEN");
	cfg = OK("[credentials batch]\ncredentials = env\n");
	pr = cfg != NULL ? cfg_profile_find(cfg, "batch") : NULL;
	CHECK(pr != NULL);
	if (pr != NULL) {
		CHECK_INT(pr->creds.source, CFG_CRED_ENV);
		CHECK_STR(pr->creds.access_key_id, "AKENV");
		CHECK_STR(pr->creds.secret_access_key, "SKENV");
		CHECK(pr->creds.session_token == NULL);
	}
	cfg_free(cfg);
	setenv("AWS_SESSION_TOKEN", "STENV", 1);
	cfg = OK("[credentials batch]\ncredentials = env\n");
	pr = cfg != NULL ? cfg_profile_find(cfg, "batch") : NULL;
	CHECK(pr != NULL && pr->creds.session_token != NULL &&
	    strcmp(pr->creds.session_token, "STENV") == 0);
	cfg_free(cfg);
	unsetenv("AWS_SECRET_ACCESS_KEY");
	ERR("[credentials batch]\n\ncredentials = env\n",
	    "t.conf:3: [credentials batch]: AWS_SECRET_ACCESS_KEY is not set "
	    "in the environment");
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SESSION_TOKEN");

	/* systemd's $CREDENTIALS_DIRECTORY. */
	snprintf(dir, sizeof dir, "%s/creds", tmpdir);
	CHECK(mkdir(dir, 0700) == 0);
	write_file("creds/default.access_key_id", "AKSYS\n", 0400);
	write_file("creds/default.secret_access_key", "SKSYS\n", 0400);
	write_file("creds/other.access_key_id", "AKO\n", 0400);
	write_file("creds/other.secret_access_key", "SKO\n", 0400);
	write_file("creds/other.session_token", "STO\n", 0400);
	unsetenv("CREDENTIALS_DIRECTORY");
	ERR_HAS("[endpoint default]\nurl = http://h\ncredentials = systemd\n",
	    "t.conf:3: [endpoint default]: CREDENTIALS_DIRECTORY is not set");
	setenv("CREDENTIALS_DIRECTORY", dir, 1);
	cfg = OK("[endpoint default]\nurl = http://h\ncredentials = systemd\n"
	    "[endpoint other]\nurl = http://o\ncredentials = systemd\n");
	ep = cfg != NULL ? cfg_endpoint_find(cfg, "default") : NULL;
	CHECK(ep != NULL);
	if (ep != NULL) {
		CHECK_INT(ep->creds.source, CFG_CRED_SYSTEMD);
		CHECK_STR(ep->creds.access_key_id, "AKSYS");
		CHECK_STR(ep->creds.secret_access_key, "SKSYS");
		CHECK(ep->creds.session_token == NULL);
	}
	ep = cfg != NULL ? cfg_endpoint_find(cfg, "other") : NULL;
	CHECK(ep != NULL && ep->creds.session_token != NULL &&
	    strcmp(ep->creds.session_token, "STO") == 0);
	cfg_free(cfg);
	ERR_HAS("[credentials nobody]\ncredentials = systemd\n",
	    "/nobody.access_key_id: No such file or directory");
	unsetenv("CREDENTIALS_DIRECTORY");

	/* RoleArn -> [credentials NAME]. */
	cfg = OK("[credentials batch]\naccess_key_id = A\n"
	    "secret_access_key = S\n"
	    "[credentials ops+admin@x]\naccess_key_id = A\n"
	    "secret_access_key = S\n");
	if (cfg != NULL) {
		pr = cfg_profile_find(cfg, "batch");
		CHECK(pr != NULL);
		CHECK(cfg_profile_for_role(cfg,
		    "arn:aws:iam::123456789012:role/batch") == pr);
		CHECK(cfg_profile_for_role(cfg,
		    "arn:aws:iam::123456789012:role/team/a/batch") == pr);
		CHECK(cfg_profile_for_role(cfg,
		    "arn:aws:iam::123456789012:role/ops+admin@x") ==
		    cfg_profile_find(cfg, "ops+admin@x"));
		CHECK(cfg_profile_for_role(cfg,
		    "arn:aws:iam::123456789012:user/batch") == NULL);
		CHECK(cfg_profile_for_role(cfg,
		    "arn:aws:iam::123456789012:role/") == NULL);
		CHECK(cfg_profile_for_role(cfg,
		    "arn:aws:iam::123456789012:role/other") == NULL);
		CHECK(cfg_profile_for_role(cfg, "batch") == NULL);
		CHECK(cfg_profile_for_role(cfg, NULL) == NULL);
	}
	cfg_free(cfg);
	CHECK_STR(cfg_cred_source_name(CFG_CRED_SYSTEMD), "systemd");
	CHECK_STR(cfg_cred_source_name(CFG_CRED_NONE), "none");
}

static void
test_reload(void)
{
	struct cfg	*a, *b, *c, *d;
	char		*cause = NULL;

	a = OK("[daemon]\nstate_dir = /a\n" EP);
	b = OK("[daemon]\nstate_dir = /b\ncontrol_socket = /run/x.sock\n"
	    "max_inflight = 5\n");
	c = OK("[daemon]\nstate_dir = /a\nmax_inflight = 5\nretry_max = 1m\n"
	    "control_group = root\nlog_verbose = yes\n"
	    "[endpoint default]\nurl = http://other:9000\n"
	    "access_key_id = AK2\nsecret_access_key = SK2\n"
	    "[endpoint more]\nurl = http://more\naccess_key_id = A\n"
	    "secret_access_key = S\n"
	    "[bucket x]\nendpoint = more\n");
	d = OK("[daemon]\nstate_dir = /a\nmetrics_listen = [::1]:9580\n");
	if (a == NULL || b == NULL || d == NULL) {
		cfg_free(a);
		cfg_free(b);
		cfg_free(c);
		cfg_free(d);
		return;
	}
	CHECK_INT(cfg_check_reload(a, a, &cause), 0);
	CHECK_INT(cfg_check_reload(a, b, &cause), -1);
	CHECK_STR(cause, "changed keys need a restart: state_dir, "
	    "control_socket");
	free(cause);
	cause = NULL;
	if (c != NULL)
		CHECK_INT(cfg_check_reload(a, c, &cause), 0);
	CHECK(cause == NULL);
	CHECK_INT(cfg_check_reload(a, d, &cause), -1);
	CHECK_STR(cause, "changed keys need a restart: metrics_listen");
	free(cause);
	cause = NULL;
	CHECK_INT(cfg_check_reload(d, a, &cause), -1);
	free(cause);
	cfg_free(a);
	cfg_free(b);
	cfg_free(c);
	cfg_free(d);
}

/* 2026-12-04 was a Friday; T(d, h, m) is day d of that week (0 Sunday). */
#define FRI	((time_t)1796342400)	/* 2026-12-04T00:00:00Z */
#define T(d, h, m) (FRI + ((d) - 5) * 86400 + (h) * 3600 + (m) * 60)

static void
test_windows(void)
{
	struct cfg		*cfg;
	struct window		 w;
	const char		*name;
	char			*cause = NULL;
	uint8_t			 days;

	CHECK_INT(window_parse_days("*", &days, &cause), 0);
	CHECK_INT(days, 0x7f);
	CHECK_INT(window_parse_days("Mon-Fri", &days, &cause), 0);
	CHECK_INT(days, 0x3e);
	CHECK_INT(window_parse_days("sat,SUN", &days, &cause), 0);
	CHECK_INT(days, 0x41);
	CHECK_INT(window_parse_days("Fri-Mon,Wed", &days, &cause), 0);
	CHECK_INT(days, 0x63 | 0x08);
	CHECK_INT(window_parse_days("Mon-Funday", &days, &cause), -1);
	CHECK(cause != NULL && strstr(cause, "Mon-Funday") != NULL);
	free(cause);
	cause = NULL;

	memset(&w, 0, sizeof w);
	w.days = 0x20;				/* Friday */
	CHECK_INT(window_parse_time("22:00", 0, &w.start, &cause), 0);
	CHECK_INT(window_parse_time("06:00", 1, &w.end, &cause), 0);
	CHECK_INT(window_parse_time("24:00", 0, &w.end, &cause), -1);
	free(cause);
	cause = NULL;
	CHECK_INT(window_parse_time("6:00", 1, &w.end, &cause), -1);
	free(cause);
	cause = NULL;
	CHECK_INT(w.end, 360);
	/* Friday 22:00 to Saturday 06:00. */
	CHECK_INT(window_contains(&w, T(5, 21, 59)), 0);
	CHECK_INT(window_contains(&w, T(5, 22, 0)), 1);
	CHECK_INT(window_contains(&w, T(6, 5, 59)), 1);
	CHECK_INT(window_contains(&w, T(6, 6, 0)), 0);
	CHECK_INT(window_contains(&w, T(6, 22, 30)), 0);
	CHECK_INT(window_contains(&w, T(4, 23, 0)), 0);
	w.start = 8 * 60;
	w.end = 18 * 60;
	CHECK_INT(window_contains(&w, T(5, 8, 0)), 1);
	CHECK_INT(window_contains(&w, T(5, 17, 59)), 1);
	CHECK_INT(window_contains(&w, T(5, 18, 0)), 0);
	CHECK_INT(window_contains(&w, T(4, 12, 0)), 0);

	CHECK_INT(window_parse_rate("full", &w.rate, &cause), 0);
	CHECK(w.rate == WINDOW_FULL);
	CHECK_INT(window_parse_rate("pause", &w.rate, &cause), 0);
	CHECK(w.rate == WINDOW_PAUSE);
	CHECK_INT(window_parse_rate("12.5", &w.rate, &cause), 0);
	CHECK(w.rate == 12.5);
	CHECK_INT(window_parse_rate("0", &w.rate, &cause), -1);
	free(cause);
	cause = NULL;

	cfg = OK(EP "windows = day, night\n"
	    "[window day]\ndays = Mon-Fri\nstart = 08:00\nend = 18:00\n"
	    "rate = 50\n"
	    "[window night]\nstart = 22:00\nend = 06:00\nrate = pause\n");
	if (cfg != NULL) {
		CHECK(cfg_window_rate(cfg, "day night", T(5, 9, 0), &name) ==
		    50);
		CHECK_STR(name, "day");
		CHECK(cfg_window_rate(cfg, "day night", T(6, 23, 0), &name) ==
		    WINDOW_PAUSE);
		CHECK_STR(name, "night");
		CHECK(cfg_window_rate(cfg, "day night", T(6, 12, 0), &name) ==
		    WINDOW_FULL);
		CHECK(name == NULL);
		CHECK(cfg_window_rate(cfg, "nope", T(5, 9, 0), &name) ==
		    WINDOW_FULL);
		cfg_free(cfg);
	}
	ERR(EP "windows = later\n", "t.conf:1: [endpoint default]: window "
	    "\"later\" is not defined (no [window later])");
	ERR("[window w]\nstart = 8:00\nend = 09:00\nrate = full\n",
	    "t.conf:1: [window w]: \"8:00\" is not a time of day (HH:MM, "
	    "UTC)");
	ERR_HAS("[window w]\nstart = 08:00\nend = 09:00\n", "rate");
}

static void
test_buckets(void)
{
	struct cfg			*cfg;
	const struct cfg_endpoint	*ep;

	cfg = OK("[bucket archive-eu]\nendpoint = other\n"
	    EP
	    "[endpoint other]\nurl = https://s3.eu-west-1.amazonaws.com\n"
	    "region = eu-west-1\naccess_key_id = A\nsecret_access_key = S\n"
	    "[bucket local.data]\nendpoint = default\n");
	if (cfg == NULL)
		return;
	ep = cfg_bucket_endpoint(cfg, "archive-eu");
	CHECK(ep != NULL && strcmp(ep->name, "other") == 0);
	ep = cfg_bucket_endpoint(cfg, "local.data");
	CHECK(ep != NULL && strcmp(ep->name, "default") == 0);
	ep = cfg_bucket_endpoint(cfg, "anything-else");
	CHECK(ep != NULL && strcmp(ep->name, "default") == 0);
	CHECK(cfg_bucket_endpoint(cfg, NULL) == cfg_endpoint_find(cfg,
	    "default"));
	CHECK(cfg_endpoint_find(cfg, "nope") == NULL);
	CHECK(cfg_endpoint_find(cfg, NULL) == NULL);
	cfg_free(cfg);

	/* No default endpoint: an unlisted bucket resolves to nothing. */
	cfg = OK("[endpoint other]\nurl = http://o\naccess_key_id = A\n"
	    "secret_access_key = S\n[bucket b]\nendpoint = other\n");
	if (cfg == NULL)
		return;
	CHECK(cfg_bucket_endpoint(cfg, "b") == cfg_endpoint_find(cfg,
	    "other"));
	CHECK(cfg_bucket_endpoint(cfg, "c") == NULL);
	cfg_free(cfg);
}

static void
test_print(void)
{
	struct cfg	*cfg, *again;
	char		*out, *out2, *cause, *body;
	char		 path[PATH_MAX + 16];

	snprintf(path, sizeof path, "%s/ak", tmpdir);
	setenv("AWS_ACCESS_KEY_ID", "AKENVSECRET4", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "SKENVSECRET5", 1);
	setenv("AWS_SESSION_TOKEN", "STENVSECRET6", 1);
	xasprintf(&body, "[daemon]\nstate_dir = \"/var/lib/my dir\"\n"
	    "metrics_listen = 127.0.0.1:9580\nmax_inflight = 7\n"
	    "[endpoint default]\nurl = http://h\n"
	    "access_key_id = AKSECRETVALUE1\n"
	    "secret_access_key = SKSECRETVALUE2\n"
	    "session_token = TOKENSECRETVALUE3\n"
	    "[endpoint f]\nurl = http://f\naccess_key_id_file = %s\n"
	    "secret_access_key_file = %s\n"
	    "[credentials batch]\ncredentials = env\n"
	    "[bucket b]\nendpoint = f\n", path, path);
	cfg = OK(body);
	free(body);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
	if (cfg == NULL)
		return;
	out = print_cfg(cfg);
	CHECK(strstr(out, "SECRET") == NULL);
	CHECK(strstr(out, "AKFILE") == NULL);
	CHECK(strstr(out, "access_key_id = (set)\n") != NULL);
	CHECK(strstr(out, "secret_access_key = (set)\n") != NULL);
	CHECK(strstr(out, "session_token = (set)\n") != NULL);
	CHECK(strstr(out, "# credentials from: inline\n") != NULL);
	CHECK(strstr(out, "# credentials from: file\n") != NULL);
	CHECK(strstr(out, "# credentials from: env\n") != NULL);
	CHECK(strstr(out, "credentials = env\n") != NULL);
	CHECK(strstr(out, "access_key_id_file = /") != NULL);
	CHECK(strstr(out, "\n[daemon]\n") != NULL);
	CHECK(strstr(out, "state_dir = \"/var/lib/my dir\"\n") != NULL);
	CHECK(strstr(out, "max_inflight = 7\n") != NULL);
	CHECK(strstr(out, "confirm_timeout = 30d\n") != NULL);
	CHECK(strstr(out, "multipart_threshold = 5GiB\n") != NULL);
	CHECK(strstr(out, "multipart_part_size = 256MiB\n") != NULL);
	CHECK(strstr(out, "retry_base = 100ms\n") != NULL);
	CHECK(strstr(out, "log_verbose = no\n") != NULL);
	CHECK(strstr(out, "# control_group is not set\n") != NULL);
	CHECK(strstr(out, "addressing = path\n") != NULL);
	CHECK(strstr(out, "max_requests_per_second = 0\n") != NULL);
	CHECK(strstr(out, "\n[bucket b]\nendpoint = f\n") != NULL);
	cfg_free(cfg);
	free(out);

	/* The [daemon] part of the output reads back to the same output. */
	cfg = OK("[daemon]\nstate_dir = \"/x y/\\\"q\\\"\"\n"
	    "control_group = 0\ncommit_batch = 3\nretry_max = 1h30m\n"
	    "multipart_part_size = 5242881\n");
	if (cfg == NULL)
		return;
	out = print_cfg(cfg);
	again = load(strchr(out, '\n') + 1, &cause);
	CHECK(again != NULL);
	if (again != NULL) {
		out2 = print_cfg(again);
		CHECK_STR(strchr(out, '\n'), strchr(out2, '\n'));
		CHECK_STR(again->state_dir, "/x y/\"q\"");
		free(out2);
	}
	free(cause);
	cfg_free(again);
	cfg_free(cfg);
	free(out);
}

static void
test_load_file(void)
{
	struct cfg	*cfg;
	char		 path[PATH_MAX + 16], *cause = NULL, *want;

	snprintf(path, sizeof path, "%s/s3batchd.conf", tmpdir);
	write_file("s3batchd.conf", "[daemon]\nmax_inflight = 12\n", 0600);
	cfg = cfg_load(path, &cause);
	CHECK(cfg != NULL);
	if (cfg != NULL) {
		CHECK_STR(cfg->path, path);
		CHECK_INT(cfg->max_inflight, 12);
	}
	cfg_free(cfg);

	write_file("s3batchd.conf", "[daemon]\nmax_inflight = 12\nbogus = 1\n",
	    0600);
	CHECK(cfg_load(path, &cause) == NULL);
	xasprintf(&want, "%s:3: unknown key \"bogus\" in [daemon]", path);
	CHECK_STR(cause, want);
	free(want);
	free(cause);

	write_file("s3batchd.conf", "", 0600);
	cfg = cfg_load(path, &cause);
	CHECK(cfg != NULL);
	cfg_free(cfg);

	snprintf(path, sizeof path, "%s/missing.conf", tmpdir);
	CHECK(cfg_load(path, &cause) == NULL);
	xasprintf(&want, "%s: No such file or directory", path);
	CHECK_STR(cause, want);
	free(want);
	free(cause);
	CHECK(cfg_load(tmpdir, &cause) == NULL);
	CHECK(cause != NULL && strstr(cause, "not a regular file") != NULL);
	free(cause);
}

/* The peer limits: defaults, values, the reserved-below-max cross-check. */
static void
test_peers(void)
{
	struct cfg	*cfg;

	cfg = OK(EP);
	if (cfg != NULL) {
		CHECK_INT(cfg->control_max_connections, 256);
		CHECK_INT(cfg->control_reserved, 16);
		CHECK_INT(cfg->control_max_per_uid, 16);
		CHECK(cfg->control_idle_timeout_ms == 30000);
		CHECK(cfg->control_admin_idle_timeout_ms == 600000);
		CHECK(cfg->control_output_limit == 1024 * 1024);
		CHECK_INT(cfg->control_max_pending, 64);
		CHECK(cfg->accept_pause_ms == 1000);
		CHECK_INT(cfg->metrics_max_connections, 32);
		CHECK(cfg->metrics_timeout_ms == 10000);
	}
	cfg_free(cfg);
	cfg = OK("[daemon]\ncontrol_max_connections = 8\n"
	    "control_reserved = 2\ncontrol_max_per_uid = 3\n"
	    "control_idle_timeout = 2s\ncontrol_admin_idle_timeout = 1h\n"
	    "control_output_limit = 256KiB\ncontrol_max_pending = 5\n"
	    "accept_pause = 250ms\nmetrics_max_connections = 4\n"
	    "metrics_timeout = 3s\n" EP);
	if (cfg != NULL) {
		CHECK_INT(cfg->control_max_connections, 8);
		CHECK_INT(cfg->control_reserved, 2);
		CHECK_INT(cfg->control_max_per_uid, 3);
		CHECK(cfg->control_idle_timeout_ms == 2000);
		CHECK(cfg->control_admin_idle_timeout_ms == 3600000);
		CHECK(cfg->control_output_limit == 256 * 1024);
		CHECK_INT(cfg->control_max_pending, 5);
		CHECK(cfg->accept_pause_ms == 250);
		CHECK_INT(cfg->metrics_max_connections, 4);
		CHECK(cfg->metrics_timeout_ms == 3000);
	}
	cfg_free(cfg);
	ERR("[daemon]\ncontrol_max_connections = 8\ncontrol_reserved = 8\n"
	    EP, "t.conf:3: control_reserved (8) must be below "
	    "control_max_connections (8)");
	ERR_HAS("[daemon]\ncontrol_output_limit = 1KiB\n" EP,
	    "t.conf:2:");
	ERR_HAS("[daemon]\naccept_pause = 0s\n" EP, "t.conf:2:");
}

/* A UTF-8 BOM in front of the first line is skipped; elsewhere not. */
static void
test_bom(void)
{
	struct cfg	*cfg;

	cfg = OK("\xef\xbb\xbf[daemon]\nmax_inflight = 7\n" EP);
	if (cfg != NULL)
		CHECK_INT(cfg->max_inflight, 7);
	cfg_free(cfg);
	ERR_HAS("[daemon]\n\xef\xbb\xbfmax_inflight = 7\n" EP, "t.conf:2:");
}

/* ca_file: missing, not PEM, good; secrets readable and freed. */
static void
test_files(void)
{
	struct cfg	*cfg;
	char		 text[2 * PATH_MAX + 256], *cause = NULL;
	char		 bad[PATH_MAX + 16], good[PATH_MAX + 16], *sec;
	FILE		*f;

	snprintf(bad, sizeof bad, "%s/bad.pem", tmpdir);
	write_file("bad.pem", "-----BEGIN CERTIFICATE-----\nnot base64 "
	    "!!\n-----END CERTIFICATE-----\n", 0644);
	snprintf(text, sizeof text, EP "ca_file = %s/none.pem\n", tmpdir);
	cfg = OK(text);
	CHECK(cfg != NULL && cfg_check_files(cfg, &cause) == -1);
	CHECK(cause != NULL && strstr(cause, "[endpoint default] ca_file") !=
	    NULL && strstr(cause, "No such file") != NULL);
	free(cause);
	cause = NULL;
	cfg_free(cfg);
	snprintf(text, sizeof text, EP "ca_file = %s\n", bad);
	cfg = OK(text);
	CHECK(cfg != NULL && cfg_check_files(cfg, &cause) == -1);
	CHECK(cause != NULL && strstr(cause, "does not parse as PEM") != NULL);
	free(cause);
	cause = NULL;
	cfg_free(cfg);
	write_file("empty.pem", "hello\n", 0644);
	snprintf(text, sizeof text, EP "ca_file = %s/empty.pem\n", tmpdir);
	cfg = OK(text);
	CHECK(cfg != NULL && cfg_check_files(cfg, &cause) == -1);
	CHECK(cause != NULL && strstr(cause, "no PEM certificate") != NULL);
	free(cause);
	cause = NULL;
	cfg_free(cfg);
	/* The system's bundle, where there is one. */
	snprintf(good, sizeof good, "/etc/ssl/certs/ca-certificates.crt");
	if ((f = fopen(good, "r")) != NULL) {
		fclose(f);
		snprintf(text, sizeof text, EP "ca_file = %s\n", good);
		cfg = OK(text);
		CHECK(cfg != NULL && cfg_check_files(cfg, &cause) == 0);
		free(cause);
		cause = NULL;
		cfg_free(cfg);
	}
	cfg = OK(EP);
	CHECK(cfg != NULL && cfg_check_files(cfg, &cause) == 0);
	cfg_free(cfg);

	sec = secret_strdup("SECRET");
	CHECK_STR(sec, "SECRET");
	secret_free(sec);
	secret_free(NULL);
}

/* The shipped files: the example loads; it and the man page name every key. */
static void
test_shipped(void)
{
	const char	*srcdir = getenv("srcdir");
	struct cfg	*cfg;
	char		 path[PATH_MAX], *text, *cause = NULL, *help = NULL;
	char		 want[128];
	size_t		 i, len = 0;
	FILE		*f;

	if ((f = open_memstream(&help, &len)) == NULL)
		fatal("open_memstream");
	cfg_help(f);
	fclose(f);
	for (i = 0; i < nitems(all_keys); i++) {
		snprintf(want, sizeof want, "\n  %s ", all_keys[i]);
		CHECK(strstr(help, want) != NULL);
	}
	CHECK(strstr(help, "[endpoint NAME]") != NULL);
	free(help);

	if (srcdir == NULL)
		srcdir = ".";
	snprintf(path, sizeof path, "%s/docs/s3batchd.conf.5", srcdir);
	if ((text = slurp(path)) == NULL) {
		fprintf(stderr, "%s: cannot read\n", path);
		CHECK(0);
	} else {
		for (i = 0; i < nitems(all_keys); i++) {
			snprintf(want, sizeof want, ".It Ic %s Ar ",
			    all_keys[i]);
			if (strstr(text, want) == NULL)
				fprintf(stderr, "man page lacks %s\n",
				    all_keys[i]);
			CHECK(strstr(text, want) != NULL);
		}
		free(text);
	}

	snprintf(path, sizeof path, "%s/etc/s3batchd.conf", srcdir);
	if ((text = slurp(path)) == NULL) {
		fprintf(stderr, "%s: cannot read\n", path);
		CHECK(0);
		return;
	}
	for (i = 0; i < nitems(all_keys); i++) {
		snprintf(want, sizeof want, "\n%s = ", all_keys[i]);
		if (strstr(text, want) == NULL) {
			snprintf(want, sizeof want, "\n#%s = ", all_keys[i]);
			if (strstr(text, want) == NULL)
				fprintf(stderr, "example lacks %s\n",
				    all_keys[i]);
			CHECK(strstr(text, want) != NULL);
		}
	}
	free(text);
	setenv("AWS_ACCESS_KEY_ID", "AKEXAMPLE", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "SKEXAMPLE", 1);
	cfg = cfg_load(path, &cause);
	if (cfg == NULL)
		fprintf(stderr, "example: %s\n", cause);
	CHECK(cfg != NULL);
	if (cfg != NULL) {
		CHECK(cfg_endpoint_find(cfg, "default") != NULL);
		CHECK(cfg_endpoint_find(cfg, "other") != NULL);
		CHECK(cfg_bucket_endpoint(cfg, "archive-eu") ==
		    cfg_endpoint_find(cfg, "other"));
		CHECK(cfg_profile_for_role(cfg,
		    "arn:aws:iam::123456789012:role/batch") != NULL);
	}
	cfg_free(cfg);
	free(cause);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
}

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return (remove(path));
}

int
main(int argc, char **argv)
{
	char	tmpl[] = "test-cfg.XXXXXX";

	if (argc > 1 && strcmp(argv[1], "--man") == 0) {
		cfg_help_man(stdout);
		return (0);
	}
	if (argc > 1 && strcmp(argv[1], "--help") == 0) {
		cfg_help(stdout);
		return (0);
	}
	log_init(LOG_TO_STDERR, 0);
	if (mkdtemp(tmpl) == NULL || realpath(tmpl, tmpdir) == NULL)
		fatal("mkdtemp");

	test_defaults();
	test_all_keys();
	test_bounds();
	test_units();
	test_errors();
	test_quoting();
	test_credentials();
	test_reload();
	test_buckets();
	test_windows();
	test_print();
	test_load_file();
	test_shipped();
	test_peers();
	test_bom();
	test_files();

	nftw(tmpdir, rm_cb, 8, FTW_DEPTH|FTW_PHYS);
	return (unit_done("test-cfg"));
}
