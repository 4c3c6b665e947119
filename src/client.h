/*
 * s3batchctl: the control-socket client (client.c) and its command table
 * (ctl-*.c). Everything here is in libs3batch.a so that the unit tests
 * exercise the real flag parsing, JSON building and formatting.
 */
#ifndef CLIENT_H
#define CLIENT_H

#include <stdint.h>

#include <json-c/json.h>

#include "s3batchd.h"
#include "json.h"

/* client.c: one connection to the daemon. */
struct client {
	int		 fd;
	char		*path;		/* socket path, for messages */
	uint64_t	 timeout_ms;	/* 0: wait forever */
	uint64_t	 deadline;	/* monotonic ms; 0: none */
	int64_t		 id;		/* id of the last request sent */
	struct buf	 in;		/* bytes read but not yet consumed */
};

/* What a reply is: the final answer, or an invitation to go on. */
#define CLIENT_REPLY_FINAL	0
#define CLIENT_REPLY_CONTINUE	1	/* {"continue":true}: send chunks */
#define CLIENT_REPLY_STREAM	2	/* {"stream":true}: chunks follow */

struct client_reply {
	json_object	*obj;		/* the whole message; owns the rest */
	int		 ok;
	int		 kind;
	json_object	*result;	/* "result", NULL if absent */
	const char	*code;		/* error code when !ok */
	const char	*message;	/* error message when !ok */
};

/*
 * Client functions return 0, or CLIENT_EIO when the daemon cannot be
 * reached or the connection failed (s3batchctl exits 3), or CLIENT_EPROTO
 * when the daemon said something the protocol does not allow (exits 1).
 * Both set *cause.
 */
#define CLIENT_EIO	(-1)
#define CLIENT_EPROTO	(-2)

int		 client_connect(struct client *, const char *, uint64_t,
		     char **);
void		 client_open_fd(struct client *, int, const char *, uint64_t);
void		 client_close(struct client *);
char		*client_request_line(int64_t, const char *, json_object *);
int		 client_parse_reply(const char *, size_t, int64_t,
		     struct client_reply *, char **);
void		 client_reply_free(struct client_reply *);
int		 client_send_request(struct client *, const char *,
		     json_object *, char **);
int		 client_read_reply(struct client *, struct client_reply *,
		     char **);
int		 client_call(struct client *, const char *, json_object *,
		     struct client_reply *, char **);
int		 client_send_stream(struct client *, int, uint64_t *,
		     struct client_reply *, int *, char **);
int		 client_recv_stream(struct client *, int, uint64_t *,
		     struct client_reply *, char **);

/* Printing JSON as the aws cli does: 4-space indent, "/" unescaped. */
void		 client_json_print(struct buf *, json_object *);
/* Parse a whole JSON text (nothing but whitespace after it). */
json_object	*client_json_parse(const char *, size_t, char **);

/* client-cmd.c: the command table and the aws-style flag parser. */
#define CLI_OUTPUT_TEXT	0
#define CLI_OUTPUT_JSON	1

/* Process-wide options: before the verb or anywhere after it. */
struct cli_ctx {
	const char	*socket_path;
	int		 output;
	uint64_t	 timeout_ms;
	int		 tty;		/* stdout is a terminal */
	int		 help;		/* -h / --help seen */
	int		 version;	/* --version seen */
};

enum cli_type {
	CLI_T_STRING,
	CLI_T_INT,
	CLI_T_BOOL,		/* a switch; with CLI_O_NEGATABLE also --no-X */
	CLI_T_ENUM,		/* a string from opt->values */
	CLI_T_LIST,		/* one or more strings (from values if set) */
	CLI_T_JSON,		/* JSON text or file://PATH */
	CLI_T_TAGS,		/* Key=k,Value=v ... or a JSON list */
	CLI_T_DURATION,		/* "2s", "500ms"; stored as milliseconds */
};

struct cli_opt {
	const char		 *name;		/* flag without "--" */
	const char		 *member;	/* args member; NULL: client-side */
	enum cli_type		  type;
	int			  flags;
#define CLI_O_REQUIRED		0x1
#define CLI_O_NEGATABLE		0x2	/* --no-NAME sets false */
#define CLI_O_POSITIONAL	0x4	/* an operand, not a flag */
	const char		 *metavar;
	const char *const	 *values;
	int64_t			  min;
	int64_t			  max;
	const char		 *help;
};

/* One parsed command line: the args to send and the client-side options. */
struct cli_req {
	const struct cli_cmd	*cmd;
	json_object		*args;	/* request args, Amazon's names */
	json_object		*local;	/* client-side options by flag name */
};

struct cli_cmd {
	const char		 *name;
	const char		 *help;		/* one line; usage comes from opts */
	int			  flags;
#define CLI_MUTATING		0x1	/* needs root, the daemon's user or
					   control_group */
#define CLI_NODAEMON		0x2	/* runs without a connection */
	const struct cli_opt	 *opts;
	/* After flag parsing: compose and check args. */
	int			(*parse)(struct cli_req *, char **);
	/* Run the command; NULL: one request, print the result. */
	int			(*exec)(struct cli_ctx *, struct cli_req *);
	/* Text output of a result; NULL: the generic key/value form. */
	void			(*text)(struct buf *, json_object *);
};

/* s3batchctl exit codes. */
#define CLI_EXIT_OK		0
#define CLI_EXIT_REFUSED	1	/* an error reply, or a failed job */
#define CLI_EXIT_USAGE		2
#define CLI_EXIT_UNREACHABLE	3

extern const struct cli_cmd	cli_cmds[];
extern const size_t		cli_ncmds;
extern const char *const	cli_job_statuses[];

const struct cli_cmd	*cli_find(const char *);
void		 cli_ctx_init(struct cli_ctx *);
/* What cli_global_option made of an option. */
enum cli_global {
	CLI_GLOBAL_BAD = -1,	/* a global option with a bad value; *cause */
	CLI_GLOBAL_NO,		/* not a global option */
	CLI_GLOBAL_YES,		/* a global option, applied to the context */
};
enum cli_global	 cli_global_option(struct cli_ctx *, const char *,
		     const char *, int *, char **);
int		 cli_parse(const struct cli_cmd *, struct cli_ctx *, int,
		     char **, struct cli_req *, char **);
void		 cli_req_free(struct cli_req *);
void		 cli_usage(struct buf *, const struct cli_cmd *);
void		 cli_help_all(struct buf *);
int		 cli_run(struct cli_ctx *, struct cli_req *);
json_object	*cli_load_json(const char *, char **);
int		 cli_parse_tags(json_object *, const char *, char **);

/* Helpers shared by the ctl-*.c files. */
int		 cli_connect(struct cli_ctx *, struct client *);
int		 cli_client_error(int, const char *);
int		 cli_reply_error(struct client_reply *);
void		 cli_print_result(struct cli_ctx *, const struct cli_cmd *,
		     json_object *);
void		 cli_text_generic(struct buf *, json_object *);
void		 cli_format_time(json_object *, char *, size_t);

/* client-job.c: the job verbs. */
int		 cli_create_job_parse(struct cli_req *, char **);
int		 cli_create_job_exec(struct cli_ctx *, struct cli_req *);
int		 cli_list_jobs_exec(struct cli_ctx *, struct cli_req *);
/* A reply's one string field on a line of its own; nothing without it. */
void		 cli_text_field(struct buf *, json_object *, const char *);
void		 cli_text_job_id(struct buf *, json_object *);
void		 cli_text_describe_job(struct buf *, json_object *);
void		 cli_text_list_jobs(struct buf *, json_object *);
void		 cli_text_update_priority(struct buf *, json_object *);
void		 cli_text_update_status(struct buf *, json_object *);
void		 cli_text_tags(struct buf *, json_object *);
void		 cli_text_none(struct buf *, json_object *);

/* client-watch.c: live progress and the local report. */
struct cli_progress {
	int64_t		 total;
	int64_t		 succeeded;
	int64_t		 failed;
	double		 rate;		/* tasks per second, smoothed */
	int64_t		 last_done;
	uint64_t	 last_ms;
};
int		 cli_watch_exec(struct cli_ctx *, struct cli_req *);
int		 cli_report_exec(struct cli_ctx *, struct cli_req *);
void		 cli_progress_update(struct cli_progress *, json_object *,
		     uint64_t);
void		 cli_progress_line(struct buf *, struct cli_progress *,
		     const char *, int);
int		 cli_status_terminal(const char *);

/* client-inventory.c: the inventory verbs' text forms. */
void		 cli_text_inventory_config(struct buf *, json_object *);
void		 cli_text_inventory_configs(struct buf *, json_object *);
void		 cli_text_inventory_run_id(struct buf *, json_object *);
void		 cli_text_inventory_runs(struct buf *, json_object *);

/* client-daemon.c: status, check-endpoint, help. */
void		 cli_text_status(struct buf *, json_object *);
void		 cli_text_check_endpoint(struct buf *, json_object *);
int		 cli_help_exec(struct cli_ctx *, struct cli_req *);

#endif /* CLIENT_H */
