/*
 * The configuration file (s3batchd.conf(5)): INI sections [daemon],
 * [endpoint NAME], [bucket NAME], [credentials NAME], [lambda NAME]. Every
 * key comes from one options table in cfg.c (name, type, default, bounds,
 * reloadable, help); `s3batchd -n` and the man page are derived from it.
 */
#ifndef CFG_H
#define CFG_H

#include "window.h"

#include <sys/queue.h>

#include <stdint.h>
#include <stdio.h>

#define CFG_DEFAULT_PATH	SYSCONFDIR "/s3batchd/s3batchd.conf"
#define CFG_LINE_MAX		4096		/* bytes per line, without newline */
#define CFG_FILE_MAX		(1024 * 1024)	/* bytes per file */
#define CFG_NAME_MAX		200		/* a section NAME */

enum cfg_addressing {
	CFG_ADDR_PATH = 0,
	CFG_ADDR_VIRTUAL
};

/* How inventory runs' requests rank against jobs' (http.h). */
enum cfg_inventory_priority {
	CFG_INV_BELOW_JOBS = 0,
	CFG_INV_SAME_AS_JOBS
};

/* Where a set of credentials came from; exactly one per section. */
enum cfg_cred_source {
	CFG_CRED_NONE = 0,
	CFG_CRED_INLINE,	/* access_key_id = ... in the file */
	CFG_CRED_FILE,		/* access_key_id_file = PATH, ... */
	CFG_CRED_ENV,		/* credentials = env: AWS_ACCESS_KEY_ID, ... */
	CFG_CRED_SYSTEMD	/* credentials = systemd: $CREDENTIALS_DIRECTORY */
};

/*
 * A set of credentials; secrets are wiped when the config is freed. The
 * three secrets are filled at load whatever the source.
 */
struct cfg_credentials {
	char			*access_key_id;
	char			*secret_access_key;
	char			*session_token;		/* may be NULL */
	enum cfg_cred_source	 source;
	char			*access_key_id_file;	/* CFG_CRED_FILE only */
	char			*secret_access_key_file;
	char			*session_token_file;	/* may be NULL */
};

struct cfg_endpoint {
	char			*name;
	char			*url;		/* scheme://host[:port][/base] */
	char			*region;
	enum cfg_addressing	 addressing;
	struct cfg_credentials	 creds;
	int			 tls_verify;
	char			*ca_file;	/* NULL: the system default */
	int			 probe;		/* capability probe before jobs */
	int			 max_connections;
	double			 max_requests_per_second;	/* 0: none */
	int			 adaptive_rate;		/* AIMD (http.h) */
	char			*windows;	/* [window] names; NULL: none */
	uint64_t		 connect_timeout_ms;
	uint64_t		 request_timeout_ms;
	TAILQ_ENTRY(cfg_endpoint) entry;
};
TAILQ_HEAD(cfg_endpoints, cfg_endpoint);

/* [bucket NAME]: which endpoint a bucket lives on. */
struct cfg_bucket {
	char			*name;
	char			*endpoint;
	TAILQ_ENTRY(cfg_bucket)	 entry;
};
TAILQ_HEAD(cfg_buckets, cfg_bucket);

/* [credentials NAME]: a profile a job's RoleArn may name. */
struct cfg_profile {
	char			*name;
	struct cfg_credentials	 creds;
	TAILQ_ENTRY(cfg_profile) entry;
};
TAILQ_HEAD(cfg_profiles, cfg_profile);

/*
 * [lambda NAME]: an AWS Lambda endpoint for LambdaInvoke. A function ARN in
 * region R uses [lambda R], else [lambda default].
 */
struct cfg_lambda {
	char			*name;
	char			*url;		/* scheme://host[:port][/base] */
	char			*region;	/* NULL: the function ARN's */
	struct cfg_credentials	 creds;
	int			 tls_verify;
	char			*ca_file;	/* NULL: the system default */
	int			 max_connections;
	uint64_t		 request_timeout_ms;
	TAILQ_ENTRY(cfg_lambda)	 entry;
};
TAILQ_HEAD(cfg_lambdas, cfg_lambda);

/*
 * [window NAME]: when an endpoint (its windows key) or a job (tag
 * s3batchd:window) may run at full rate, a lower rate or not at all
 * (window.h). The strings are as written; w is what they say.
 */
struct cfg_window {
	char			*name;
	char			*days;
	char			*start;
	char			*end;
	char			*rate;
	struct window		 w;
	TAILQ_ENTRY(cfg_window)	 entry;
};
TAILQ_HEAD(cfg_windows, cfg_window);

struct cfg {
	char			*path;
	/*
	 * References: the daemon's, and one per task started under this
	 * configuration, so that a reload does not free what a running task
	 * reads. cfg_free drops one.
	 */
	int			 refs;

	/* [daemon] */
	char			*state_dir;
	char			*control_socket;
	char			*control_group;		/* NULL: none */
	char			*metrics_listen;	/* NULL: off */
	uint64_t		 confirm_timeout_ms;
	uint64_t		 job_retention_ms;
	int			 max_inflight;
	enum cfg_inventory_priority inventory_priority;
	uint64_t		 drain_timeout_ms;
	uint64_t		 timer_interval_ms;	/* how often timers run */
	int			 max_attempts;
	uint64_t		 retry_base_ms;
	uint64_t		 retry_max_ms;
	uint64_t		 failure_min_tasks;	/* 1000 */
	int			 failure_percent;	/* 50 */
	uint64_t		 multipart_threshold;	/* bytes, 5 GiB */
	uint64_t		 multipart_part_size;	/* bytes */
	uint64_t		 commit_interval_ms;
	int			 commit_batch;
	int			 log_verbose;
	/* Peers of the control socket and the metrics listener. */
	int			 control_max_connections;
	int			 control_reserved;	/* privileged only */
	int			 control_max_per_uid;	/* unprivileged */
	uint64_t		 control_idle_timeout_ms;
	uint64_t		 control_admin_idle_timeout_ms;
	uint64_t		 control_output_limit;	/* bytes */
	int			 control_max_pending;
	uint64_t		 accept_pause_ms;	/* EMFILE, ENFILE */
	int			 metrics_max_connections;
	uint64_t		 metrics_timeout_ms;

	struct cfg_endpoints	 endpoints;
	struct cfg_buckets	 buckets;
	struct cfg_profiles	 profiles;
	struct cfg_lambdas	 lambdas;
	struct cfg_windows	 windows;
};

/*
 * Load and check a file. NULL with *cause set ("FILE:LINE: what is
 * wrong") on any error; nothing half-loaded is returned.
 */
struct cfg			*cfg_load(const char *, char **);
/*
 * The same from bytes in memory (need not be NUL-terminated); the name is
 * used in messages and as cfg->path. cfg_load and the fuzzer use it.
 */
struct cfg			*cfg_load_buffer(const char *, const char *,
				     size_t, char **);
/* The defaults alone, as if from an empty file. */
struct cfg			*cfg_default(void);
void				 cfg_free(struct cfg *);
/* Another reference; cfg_free drops it. */
struct cfg			*cfg_ref(struct cfg *);
const struct cfg_endpoint	*cfg_endpoint_find(const struct cfg *,
				     const char *);
const struct cfg_lambda		*cfg_lambda_find(const struct cfg *,
				     const char *);
const struct cfg_window		*cfg_window_find(const struct cfg *,
				     const char *);
/*
 * The rate a list of window names (space-separated, as an endpoint's
 * windows key or a job's s3batchd:window tag) gives at a time: that of
 * the first window holding the time (WINDOW_FULL, WINDOW_PAUSE or /s),
 * with *name set to it; WINDOW_FULL and NULL when none holds it. Unknown
 * names are skipped.
 */
double				 cfg_window_rate(const struct cfg *,
				     const char *, time_t, const char **);
/* The endpoint a bucket resolves to: its [bucket] section, else "default". */
const struct cfg_endpoint	*cfg_bucket_endpoint(const struct cfg *,
				     const char *);
const struct cfg_profile	*cfg_profile_find(const struct cfg *,
				     const char *);
/*
 * The profile a job's RoleArn names: the last path component of the role,
 * "arn:aws:iam::123456789012:role/batch" -> [credentials batch]. NULL if
 * the ARN is not a role ARN or no such profile exists.
 */
const struct cfg_profile	*cfg_profile_for_role(const struct cfg *,
				     const char *);
/* "inline", "file", "env", "systemd" or "none". */
const char			*cfg_cred_source_name(enum cfg_cred_source);
/* The effective configuration, secrets shown as "(set)". */
void				 cfg_print(const struct cfg *, FILE *);
/* Every key from the options table with its type, default and help. */
void				 cfg_help(FILE *);
/* The same as mdoc(7) .It entries, for docs/s3batchd.conf.5. */
void				 cfg_help_man(FILE *);
/*
 * What cfg_load leaves to the daemon (the fuzzer loads without files):
 * every ca_file exists, is readable and holds PEM certificates. -1 with
 * *cause naming the section and the file.
 */
int				 cfg_check_files(const struct cfg *, char **);
/*
 * Which keys differ between two loads that a running daemon cannot take
 * on SIGHUP; -1 with *cause naming them, 0 if the new one can be applied.
 */
int				 cfg_check_reload(const struct cfg *,
				     const struct cfg *, char **);

#endif /* CFG_H */
