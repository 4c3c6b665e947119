/*
 * The control socket. One line of JSON per message (protocol.h), bounded
 * in size; streamed manifests arrive as chunk frames after a "continue"
 * reply. Peer credentials come from SO_PEERCRED at accept: anyone who can
 * connect may read, mutating commands need root, the daemon's user or the
 * control group. Every failure is a structured reply; a connection whose
 * framing is broken gets its error and is closed, the daemon goes on.
 *
 * No peer can starve the others (cfg control_*): a connection runs one
 * request at a time, and its requests are not read while a reply is owed
 * or while more than control_output_limit of replies wait unread
 * (back-pressure: the kernel's socket buffer then stops the peer). An
 * unprivileged uid holds at most control_max_per_uid connections, and
 * control_reserved slots are kept for privileged peers; idle peers are
 * dropped, unprivileged ones sooner. Out of descriptors, the listener
 * pauses instead of spinning on accept().
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <json-c/json.h>

#include "s3batchd.h"
#include "cfg.h"
#include "control-cmd.h"
#include "control.h"
#include "protocol.h"
#include "sdnotify.h"
#include "server.h"

#define CTL_JSON_DEPTH		32
#define CTL_LOG_EVERY		10	/* seconds between like warnings */
#define CTL_ERR_BUSY		ERR_SHUTTING_DOWN	/* "ServiceUnavailable" */

#define CTL_MUTATING	0x1	/* changes state: needs a privileged peer */

struct ctl_cmd {
	const char	*name;
	int		 flags;
	void		 (*exec)(struct ctl_req *);
};

static const struct ctl_cmd ctl_cmds[] = {
	{ "create-job",		 CTL_MUTATING,	cmd_create_job },
	{ "describe-job",	 0,		cmd_describe_job },
	{ "list-jobs",		 0,		cmd_list_jobs },
	{ "update-job-priority", CTL_MUTATING,	cmd_update_job_priority },
	{ "update-job-status",	 CTL_MUTATING,	cmd_update_job_status },
	{ "get-job-tagging",	 0,		cmd_get_job_tagging },
	{ "put-job-tagging",	 CTL_MUTATING,	cmd_put_job_tagging },
	{ "delete-job-tagging",	 CTL_MUTATING,	cmd_delete_job_tagging },
	{ "clone-job",		 CTL_MUTATING,	cmd_clone_job },
	{ "status",		 0,		cmd_status },
	{ "report",		 0,		cmd_report },
	{ "retry-report",	 CTL_MUTATING,	cmd_retry_report },
	{ "check-endpoint",	 CTL_MUTATING,	cmd_check_endpoint },
	{ "put-bucket-inventory-configuration", CTL_MUTATING,
	  cmd_put_bucket_inventory_configuration },
	{ "get-bucket-inventory-configuration", 0,
	  cmd_get_bucket_inventory_configuration },
	{ "list-bucket-inventory-configurations", 0,
	  cmd_list_bucket_inventory_configurations },
	{ "delete-bucket-inventory-configuration", CTL_MUTATING,
	  cmd_delete_bucket_inventory_configuration },
	{ "run-inventory",	 CTL_MUTATING,	cmd_run_inventory },
	{ "list-inventory-runs", 0,		cmd_list_inventory_runs },
};

#define CTL_OUT_CHUNK		(256 * 1024)	/* bytes per frame we send */
#define CTL_OUT_LOW		(1024 * 1024)	/* produce below this */

enum ctl_state {
	CTL_LINE,		/* waiting for a request line */
	CTL_CHUNK_HEADER,	/* streaming: waiting for {"chunk":N} */
	CTL_CHUNK_DATA		/* streaming: N raw bytes to go */
};

struct ctl_conn {
	struct control			*control;
	struct bufferevent		*bev;
	uid_t				 uid;
	gid_t				 gid;
	pid_t				 pid;
	int				 privileged;	/* may mutate */
	enum ctl_state			 state;
	int				 closing;
	int				 throttled;	/* replies unread */
	int				 work;		/* counted in nwork */
	uint64_t			 remaining;	/* of this chunk */
	uint64_t			 streamed;	/* in all chunks */
	/* The request a stream belongs to. */
	int64_t				 stream_id;
	char				*stream_cmd;
	const struct ctl_stream_ops	*stream_ops;
	void				*stream_arg;
	/* A stream we send, and a reply we owe. */
	const struct ctl_stream_out_ops	*out_ops;
	void				*out_arg;
	int64_t				 out_id;
	struct ctl_pending		*pending;
	struct ctl_conn			*next;
	struct ctl_conn			*prev;
};

struct control {
	struct server		*srv;
	struct ctl_listen	*listener;
	char			*path;		/* NULL: activated by systemd */
	struct ctl_conn		*conns;
	size_t			 nconns;
	/* Unprivileged streams and deferred replies under way. */
	int			 nwork;
	struct log_limit	 refuse_ll;
	struct log_limit	 throttle_ll;
};

struct ctl_pending {
	struct ctl_conn		*conn;		/* NULL: the client left */
	int64_t			 id;
	char			*cmd;
};

static void	ctl_conn_free(struct ctl_conn *);
static void	ctl_out_pump(struct ctl_conn *);

/*
 * Whether to read the peer's next request: not while a reply is owed (a
 * stream going out, a deferred reply) and not while its unread replies
 * exceed control_output_limit, until they drain to half of it. Requests
 * already buffered are run from a deferred read callback.
 */
static void
ctl_read_update(struct ctl_conn *c)
{
	const struct cfg	*cfg = c->control->srv->cfg;
	size_t			 out, limit;

	out = evbuffer_get_length(bufferevent_get_output(c->bev));
	limit = (size_t)cfg->control_output_limit;
	if (!c->throttled && out >= limit) {
		c->throttled = 1;
		log_limited(&c->control->throttle_ll, CTL_LOG_EVERY,
		    LOG_INFO, NULL, "control: uid %u (pid %d) does not read "
		    "its replies (%zu bytes waiting): not reading its "
		    "requests", (unsigned)c->uid, (int)c->pid, out);
	} else if (c->throttled && out <= limit / 2)
		c->throttled = 0;
	if (c->closing || c->pending != NULL || c->out_ops != NULL ||
	    c->throttled) {
		bufferevent_disable(c->bev, EV_READ);
		return;
	}
	if (bufferevent_get_enabled(c->bev) & EV_READ)
		return;
	bufferevent_enable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_input(c->bev)) != 0)
		bufferevent_trigger(c->bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS|
		    BEV_TRIG_DEFER_CALLBACKS);
}

/* A stream or a deferred reply of an unprivileged peer, within bounds. */
static int
ctl_work_begin(struct ctl_conn *c)
{
	struct control	*ctl = c->control;

	if (c->privileged)
		return (0);
	if (ctl->nwork >= ctl->srv->cfg->control_max_pending)
		return (-1);
	ctl->nwork++;
	c->work = 1;
	return (0);
}

static void
ctl_work_end(struct ctl_conn *c)
{
	if (c->work) {
		c->control->nwork--;
		c->work = 0;
	}
}

static void
ctl_send(struct ctl_conn *c, struct json_object *msg)
{
	const char	*s;

	s = json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN|
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	bufferevent_write(c->bev, s, strlen(s));
	bufferevent_write(c->bev, "\n", 1);
}

static struct json_object *
ctl_envelope(int64_t id, int ok)
{
	struct json_object	*msg;

	msg = json_object_new_object();
	json_object_object_add(msg, "v", json_object_new_int(PROTOCOL_VERSION));
	json_object_object_add(msg, "id", id >= 0 ?
	    json_object_new_int64(id) : NULL);
	json_object_object_add(msg, "ok", json_object_new_boolean(ok));
	return (msg);
}

static void
ctl_send_error(struct ctl_conn *c, int64_t id, const char *code,
    const char *message)
{
	struct json_object	*msg, *err;

	msg = ctl_envelope(id, 0);
	err = json_object_new_object();
	json_object_object_add(err, "code", json_object_new_string(code));
	json_object_object_add(err, "message", json_object_new_string(message));
	json_object_object_add(msg, "error", err);
	ctl_send(c, msg);
	json_object_put(msg);
}

/* Reply, then close once the reply is written: the framing is lost. */
static void
ctl_fail_conn(struct ctl_conn *c, int64_t id, const char *code,
    const char *message)
{
	log_debug("control: closing connection from uid %u: %s: %s",
	    (unsigned)c->uid, code, message);
	ctl_send_error(c, id, code, message);
	if (c->stream_ops != NULL) {
		c->stream_ops->abort(c->stream_arg);
		c->stream_ops = NULL;
	}
	c->closing = 1;
	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		ctl_conn_free(c);
}

void
ctl_reply(struct ctl_req *req, struct json_object *result)
{
	struct json_object	*msg;

	if (req->replied)
		fatalx("control: second reply to %s", req->cmd);
	req->replied = 1;
	msg = ctl_envelope(req->id, 1);
	json_object_object_add(msg, "result", result != NULL ? result :
	    json_object_new_object());
	ctl_send(req->conn, msg);
	json_object_put(msg);
}

void
ctl_reply_error(struct ctl_req *req, const char *code, const char *fmt, ...)
{
	va_list	 ap;
	char	*message;

	if (req->replied)
		fatalx("control: second reply to %s", req->cmd);
	req->replied = 1;
	va_start(ap, fmt);
	xvasprintf(&message, fmt, ap);
	va_end(ap);
	log_debug("control: %s from uid %u: %s: %s", req->cmd,
	    (unsigned)req->uid, code, message);
	ctl_send_error(req->conn, req->id, code, message);
	free(message);
}

void
ctl_stream_in(struct ctl_req *req, const struct ctl_stream_ops *ops, void *arg)
{
	struct ctl_conn		*c = req->conn;
	struct json_object	*msg;

	req->replied = 1;
	c->state = CTL_CHUNK_HEADER;
	c->stream_ops = ops;
	c->stream_arg = arg;
	c->stream_id = req->id;
	c->streamed = 0;
	free(c->stream_cmd);
	c->stream_cmd = xstrdup(req->cmd);
	msg = ctl_envelope(req->id, 1);
	json_object_object_add(msg, "continue", json_object_new_boolean(1));
	ctl_send(c, msg);
	json_object_put(msg);
}

void
ctl_stream_out(struct ctl_req *req, const struct ctl_stream_out_ops *ops,
    void *arg)
{
	struct ctl_conn		*c = req->conn;
	struct json_object	*msg;

	if (ctl_work_begin(c) != 0) {
		ops->free(arg);
		ctl_reply_error(req, CTL_ERR_BUSY, "%d requests of unprivileged "
		    "peers are under way; try again later",
		    c->control->srv->cfg->control_max_pending);
		return;
	}
	req->replied = 1;
	c->out_ops = ops;
	c->out_arg = arg;
	c->out_id = req->id;
	/* No more requests are read until the stream is out. */
	bufferevent_disable(c->bev, EV_READ);
	msg = ctl_envelope(req->id, 1);
	json_object_object_add(msg, "stream", json_object_new_boolean(1));
	ctl_send(c, msg);
	json_object_put(msg);
	ctl_out_pump(c);
}

static void
ctl_out_end(struct ctl_conn *c)
{
	if (c->out_ops != NULL)
		c->out_ops->free(c->out_arg);
	c->out_ops = NULL;
	c->out_arg = NULL;
	ctl_work_end(c);
	ctl_read_update(c);
}

/* Fill the output while it is below the low mark, one frame at a time. */
static void
ctl_out_pump(struct ctl_conn *c)
{
	struct evbuffer		*out = bufferevent_get_output(c->bev);
	struct json_object	*result = NULL, *msg;
	struct buf		 b;
	char			*cause = NULL, hdr[64];
	int			 r = 0;

	buf_init(&b);
	while (c->out_ops != NULL && evbuffer_get_length(out) < CTL_OUT_LOW) {
		buf_reset(&b);
		while (r == 0 && b.len < CTL_OUT_CHUNK)
			r = c->out_ops->produce(c->out_arg, &b, &result, &cause);
		if (b.len != 0) {
			snprintf(hdr, sizeof hdr, "{\"chunk\":%zu}\n", b.len);
			evbuffer_add(out, hdr, strlen(hdr));
			evbuffer_add(out, b.data, b.len);
		}
		if (r == 0)
			continue;
		evbuffer_add(out, "{\"chunk\":0}\n", 12);
		if (r < 0) {
			ctl_send_error(c, c->out_id, ERR_INTERNAL, cause);
			free(cause);
		} else {
			msg = ctl_envelope(c->out_id, 1);
			json_object_object_add(msg, "result", result != NULL ?
			    result : json_object_new_object());
			ctl_send(c, msg);
			json_object_put(msg);
		}
		ctl_out_end(c);
	}
	buf_free(&b);
}

struct ctl_pending *
ctl_defer(struct ctl_req *req)
{
	struct ctl_pending	*p;

	req->replied = 1;
	p = xcalloc(1, sizeof *p);
	p->conn = req->conn;
	p->id = req->id;
	p->cmd = xstrdup(req->cmd);
	req->conn->pending = p;
	/*
	 * One request at a time: read the next once this one is answered.
	 * Counted like a stream, but never refused: the handler has begun.
	 */
	if (!req->conn->privileged) {
		req->conn->control->nwork++;
		req->conn->work = 1;
	}
	bufferevent_disable(req->conn->bev, EV_READ);
	return (p);
}

static void
ctl_pending_done(struct ctl_pending *p)
{
	if (p->conn != NULL) {
		p->conn->pending = NULL;
		ctl_work_end(p->conn);
		ctl_read_update(p->conn);
	}
	free(p->cmd);
	free(p);
}

void
ctl_pending_reply(struct ctl_pending *p, struct json_object *result)
{
	struct json_object	*msg;

	if (p->conn != NULL) {
		msg = ctl_envelope(p->id, 1);
		json_object_object_add(msg, "result", result != NULL ? result :
		    json_object_new_object());
		ctl_send(p->conn, msg);
		json_object_put(msg);
	} else
		json_object_put(result);
	ctl_pending_done(p);
}

void
ctl_pending_error(struct ctl_pending *p, const char *code, const char *fmt,
    ...)
{
	va_list	 ap;
	char	*message;

	va_start(ap, fmt);
	xvasprintf(&message, fmt, ap);
	va_end(ap);
	if (p->conn != NULL)
		ctl_send_error(p->conn, p->id, code, message);
	free(message);
	ctl_pending_done(p);
}

static struct json_object *
ctl_parse(const char *line, size_t len, char **cause)
{
	struct json_tokener	*tok;
	struct json_object	*obj;
	enum json_tokener_error	 jerr;

	tok = json_tokener_new_ex(CTL_JSON_DEPTH);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, line, (int)len);
	jerr = json_tokener_get_error(tok);
	if (obj == NULL || jerr != json_tokener_success) {
		xasprintf(cause, "malformed JSON at offset %zu: %s",
		    json_tokener_get_parse_end(tok),
		    jerr == json_tokener_continue ? "unexpected end of line" :
		    json_tokener_error_desc(jerr));
		json_object_put(obj);
		json_tokener_free(tok);
		return (NULL);
	}
	if (json_tokener_get_parse_end(tok) != len) {
		xasprintf(cause, "trailing bytes after the JSON object at "
		    "offset %zu", json_tokener_get_parse_end(tok));
		json_object_put(obj);
		json_tokener_free(tok);
		return (NULL);
	}
	json_tokener_free(tok);
	return (obj);
}

static const struct ctl_cmd *
ctl_find(const char *name)
{
	size_t	i;

	for (i = 0; i < nitems(ctl_cmds); i++) {
		if (strcmp(ctl_cmds[i].name, name) == 0)
			return (&ctl_cmds[i]);
	}
	return (NULL);
}

/*
 * Check a request line's envelope: JSON object, integer "id" (optional),
 * "v" the protocol version, "cmd" a known command, "args" an object. On
 * failure *code and *cause say what to answer (and *id whom).
 */
int
ctl_message_parse(const char *line, size_t len, struct ctl_message *m,
    const char **code, char **cause)
{
	struct json_object	*msg, *v, *id, *cmd, *args;

	memset(m, 0, sizeof *m);
	m->id = -1;
	*code = ERR_PROTOCOL;
	if ((msg = ctl_parse(line, len, cause)) == NULL)
		return (-1);
	m->msg = msg;
	if (!json_object_is_type(msg, json_type_object)) {
		xasprintf(cause, "a message must be a JSON object");
		goto fail;
	}
	if (json_object_object_get_ex(msg, "id", &id)) {
		if (!json_object_is_type(id, json_type_int)) {
			xasprintf(cause, "\"id\" must be an integer");
			goto fail;
		}
		m->id = json_object_get_int64(id);
	}
	if (!json_object_object_get_ex(msg, "v", &v) ||
	    !json_object_is_type(v, json_type_int)) {
		xasprintf(cause, "\"v\" (the protocol version) is missing or "
		    "not an integer");
		goto fail;
	}
	if (json_object_get_int64(v) != PROTOCOL_VERSION) {
		*code = ERR_VERSION;
		xasprintf(cause, "protocol version %lld is not supported; this "
		    "daemon speaks version %d", (long long)json_object_get_int64(v),
		    PROTOCOL_VERSION);
		goto fail;
	}
	if (!json_object_object_get_ex(msg, "cmd", &cmd) ||
	    !json_object_is_type(cmd, json_type_string)) {
		xasprintf(cause, "\"cmd\" is missing or not a string");
		goto fail;
	}
	if (!json_object_object_get_ex(msg, "args", &args)) {
		args = json_object_new_object();
		json_object_object_add(msg, "args", args);
	} else if (!json_object_is_type(args, json_type_object)) {
		xasprintf(cause, "\"args\" must be a JSON object");
		goto fail;
	}
	if ((m->cmd = ctl_find(json_object_get_string(cmd))) == NULL) {
		*code = ERR_UNKNOWN_COMMAND;
		xasprintf(cause, "unknown command \"%.64s\"",
		    json_object_get_string(cmd));
		goto fail;
	}
	m->args = args;
	return (0);
fail:
	json_object_put(msg);
	m->msg = NULL;
	return (-1);
}

void
ctl_message_free(struct ctl_message *m)
{
	json_object_put(m->msg);
	m->msg = NULL;
}

int
ctl_message_mutating(const struct ctl_message *m)
{
	return ((m->cmd->flags & CTL_MUTATING) != 0);
}

static void
ctl_dispatch(struct ctl_conn *c, const char *line, size_t len)
{
	struct server		*srv = c->control->srv;
	struct ctl_message	 m;
	const struct ctl_cmd	*cc;
	struct ctl_req		 req;
	const char		*code;
	char			*cause = NULL;
	int64_t			 rid;

	if (ctl_message_parse(line, len, &m, &code, &cause) != 0) {
		ctl_send_error(c, m.id, code, cause);
		free(cause);
		return;
	}
	cc = m.cmd;
	rid = m.id;
	if ((cc->flags & CTL_MUTATING) && !c->privileged) {
		xasprintf(&cause, "%s changes state: uid %u is not root, the "
		    "daemon's user, or in the control group", cc->name,
		    (unsigned)c->uid);
		ctl_send_error(c, rid, ERR_ACCESS_DENIED, cause);
		log_warnx("control: refused %s from uid %u (pid %d)", cc->name,
		    (unsigned)c->uid, (int)c->pid);
		free(cause);
		goto out;
	}
	if (srv->stopping && (cc->flags & CTL_MUTATING)) {
		ctl_send_error(c, rid, ERR_SHUTTING_DOWN, "the daemon is "
		    "shutting down");
		goto out;
	}
	memset(&req, 0, sizeof req);
	req.srv = srv;
	req.conn = c;
	req.id = rid;
	req.cmd = cc->name;
	req.args = m.args;
	req.uid = c->uid;
	req.actor.uid = c->uid;
	req.gid = c->gid;
	req.pid = c->pid;
	cc->exec(&req);
	if (!req.replied)
		fatalx("control: %s did not reply", cc->name);
out:
	ctl_message_free(&m);
}

/* {"chunk":N}: the length of the next frame, 0 to end. */
int
ctl_chunk_parse(const char *line, size_t len, uint64_t *size, char **cause)
{
	struct json_object	*msg, *n;
	int64_t			 v;

	if ((msg = ctl_parse(line, len, cause)) == NULL)
		return (-1);
	if (!json_object_is_type(msg, json_type_object) ||
	    !json_object_object_get_ex(msg, "chunk", &n) ||
	    !json_object_is_type(n, json_type_int)) {
		json_object_put(msg);
		xasprintf(cause, "expected a {\"chunk\":LENGTH} frame");
		return (-1);
	}
	v = json_object_get_int64(n);
	json_object_put(msg);
	if (v < 0 || v > PROTOCOL_MAX_CHUNK) {
		xasprintf(cause, "chunk length %lld is outside 0..%d",
		    (long long)v, PROTOCOL_MAX_CHUNK);
		return (-1);
	}
	*size = (uint64_t)v;
	return (0);
}

static int
ctl_chunk_header(struct ctl_conn *c, const char *line, size_t len)
{
	char		*cause = NULL;
	uint64_t	 size;

	if (ctl_chunk_parse(line, len, &size, &cause) != 0)
		goto bad;
	if (size == 0) {
		struct ctl_req			 req;
		const struct ctl_stream_ops	*ops = c->stream_ops;

		memset(&req, 0, sizeof req);
		req.srv = c->control->srv;
		req.conn = c;
		req.id = c->stream_id;
		req.cmd = c->stream_cmd;
		req.uid = c->uid;
		req.actor.uid = c->uid;
		req.gid = c->gid;
		req.pid = c->pid;
		c->state = CTL_LINE;
		c->stream_ops = NULL;
		ops->end(&req, c->stream_arg);
		if (!req.replied)
			fatalx("control: stream end did not reply");
		return (0);
	}
	if (c->streamed + size > PROTOCOL_MAX_MANIFEST) {
		xasprintf(&cause, "the stream exceeds %llu bytes",
		    (unsigned long long)PROTOCOL_MAX_MANIFEST);
		goto bad;
	}
	c->remaining = size;
	c->state = CTL_CHUNK_DATA;
	return (0);
bad:
	ctl_fail_conn(c, c->stream_id, ERR_PROTOCOL, cause);
	free(cause);
	return (-1);
}

static void
ctl_read_cb(struct bufferevent *bev, void *arg)
{
	struct ctl_conn		*c = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct evbuffer_ptr	 eol;
	size_t			 len, eol_len, n;
	char			*line, *cause = NULL, msg[128];

	while (!c->closing) {
		/* A reply owed or unread: the rest waits (ctl_read_update). */
		if (c->pending != NULL || c->out_ops != NULL ||
		    (c->state == CTL_LINE && evbuffer_get_length(
		    bufferevent_get_output(bev)) >=
		    c->control->srv->cfg->control_output_limit)) {
			ctl_read_update(c);
			return;
		}
		if (c->state == CTL_CHUNK_DATA) {
			len = evbuffer_get_length(in);
			if (len == 0)
				return;
			n = len < c->remaining ? len : (size_t)c->remaining;
			if (c->stream_ops->data(c->stream_arg, in, n,
			    &cause) != 0) {
				ctl_fail_conn(c, c->stream_id, ERR_BAD_REQUEST,
				    cause);
				free(cause);
				return;
			}
			c->remaining -= n;
			c->streamed += n;
			if (c->remaining == 0)
				c->state = CTL_CHUNK_HEADER;
			continue;
		}
		eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
		if (eol.pos == -1) {
			if (evbuffer_get_length(in) >= PROTOCOL_MAX_LINE) {
				snprintf(msg, sizeof msg, "a message is longer "
				    "than %d bytes", PROTOCOL_MAX_LINE);
				ctl_fail_conn(c, -1, ERR_TOO_LARGE, msg);
			}
			return;
		}
		len = (size_t)eol.pos;
		if (len + 1 > PROTOCOL_MAX_LINE) {
			snprintf(msg, sizeof msg, "a message is longer than %d "
			    "bytes", PROTOCOL_MAX_LINE);
			ctl_fail_conn(c, -1, ERR_TOO_LARGE, msg);
			return;
		}
		line = xmalloc(len + 1);
		evbuffer_remove(in, line, len);
		evbuffer_drain(in, eol_len);
		line[len] = '\0';
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		if (c->state == CTL_LINE) {
			if (len != 0)
				ctl_dispatch(c, line, len);
		} else if (ctl_chunk_header(c, line, len) != 0) {
			free(line);
			return;
		}
		free(line);
	}
}

static void
ctl_write_cb(struct bufferevent *bev, void *arg)
{
	struct ctl_conn	*c = arg;

	if (c->closing) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			ctl_conn_free(c);
		return;
	}
	if (c->out_ops != NULL)
		ctl_out_pump(c);
	else
		ctl_read_update(c);
}

static void
ctl_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct ctl_conn	*c = arg;

	if (what & BEV_EVENT_TIMEOUT)
		log_debug("control: connection from uid %u closed: nothing %s "
		    "for too long", (unsigned)c->uid, (what & BEV_EVENT_READING) ?
		    "sent" : "read");
	if (what & (BEV_EVENT_EOF|BEV_EVENT_ERROR|BEV_EVENT_TIMEOUT))
		ctl_conn_free(c);
}

static void
ctl_conn_free(struct ctl_conn *c)
{
	struct control	*ctl = c->control;

	if (c->stream_ops != NULL)
		c->stream_ops->abort(c->stream_arg);
	if (c->out_ops != NULL)
		c->out_ops->free(c->out_arg);
	if (c->pending != NULL)
		c->pending->conn = NULL;
	ctl_work_end(c);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		ctl->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	ctl->nconns--;
	bufferevent_free(c->bev);
	free(c->stream_cmd);
	free(c);
}

/* How many connections a uid holds. */
static int
ctl_uid_connections(const struct control *ctl, uid_t uid)
{
	const struct ctl_conn	*c;
	int			 n = 0;

	for (c = ctl->conns; c != NULL; c = c->next) {
		if (c->uid == uid)
			n++;
	}
	return (n);
}

/* Say why, if the socket takes it at once, and close. */
static void
ctl_refuse(struct control *ctl, int fd, const struct ucred *cred,
    const char *why)
{
	struct json_object	*msg, *err;
	const char		*s;

	log_limited(&ctl->refuse_ll, CTL_LOG_EVERY, LOG_WARNING, NULL,
	    "control: refusing uid %u (pid %d): %s", (unsigned)cred->uid,
	    (int)cred->pid, why);
	msg = ctl_envelope(-1, 0);
	err = json_object_new_object();
	json_object_object_add(err, "code", json_object_new_string(
	    CTL_ERR_BUSY));
	json_object_object_add(err, "message", json_object_new_string(why));
	json_object_object_add(msg, "error", err);
	s = json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN);
	if (send(fd, s, strlen(s), MSG_DONTWAIT|MSG_NOSIGNAL) == -1 ||
	    send(fd, "\n", 1, MSG_DONTWAIT|MSG_NOSIGNAL) == -1)
		log_debug("control: send: %s", strerror(errno));
	json_object_put(msg);
	close(fd);
}

static void
ctl_accept_cb(int fd, void *arg)
{
	struct control		*ctl = arg;
	const struct cfg	*cfg = ctl->srv->cfg;
	struct ctl_conn		*c;
	struct ucred		 cred;
	socklen_t		 len = sizeof cred;
	struct timeval		 tv;
	uint64_t		 idle;
	char			 why[128];
	int			 privileged, max = cfg->control_max_connections;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_limited(&ctl->refuse_ll, CTL_LOG_EVERY, LOG_WARNING, NULL,
		    "control: SO_PEERCRED: %s", strerror(errno));
		close(fd);
		return;
	}
	privileged = server_peer_may_mutate(ctl->srv, cred.uid, cred.gid);
	if (ctl->nconns >= (size_t)max) {
		snprintf(why, sizeof why, "too many control connections (%d)",
		    max);
		ctl_refuse(ctl, fd, &cred, why);
		return;
	}
	if (!privileged && ctl->nconns >= (size_t)(max -
	    cfg->control_reserved)) {
		snprintf(why, sizeof why, "too many control connections; the "
		    "last %d are kept for privileged peers",
		    cfg->control_reserved);
		ctl_refuse(ctl, fd, &cred, why);
		return;
	}
	if (!privileged && ctl_uid_connections(ctl, cred.uid) >=
	    cfg->control_max_per_uid) {
		snprintf(why, sizeof why, "uid %u holds %d control "
		    "connections already", (unsigned)cred.uid,
		    cfg->control_max_per_uid);
		ctl_refuse(ctl, fd, &cred, why);
		return;
	}
	evutil_make_socket_nonblocking(fd);
	c = xcalloc(1, sizeof *c);
	c->control = ctl;
	c->uid = cred.uid;
	c->gid = cred.gid;
	c->pid = cred.pid;
	c->privileged = privileged;
	c->state = CTL_LINE;
	c->stream_id = -1;
	c->bev = bufferevent_socket_new(ctl->srv->base, fd,
	    BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL)
		fatalx("control: bufferevent_socket_new");
	bufferevent_setcb(c->bev, ctl_read_cb, ctl_write_cb, ctl_event_cb, c);
	/*
	 * Nothing sent (while a request is read) or nothing of the replies
	 * read (while they wait) for this long: the peer is gone or hostile.
	 */
	idle = privileged ? cfg->control_admin_idle_timeout_ms :
	    cfg->control_idle_timeout_ms;
	tv.tv_sec = (time_t)(idle / 1000);
	tv.tv_usec = (suseconds_t)(idle % 1000) * 1000;
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	/*
	 * The write callback fires when the output runs low: a stream
	 * produces more, a throttled peer is read again.
	 */
	bufferevent_setwatermark(c->bev, EV_WRITE, CTL_OUT_LOW / 2 <
	    cfg->control_output_limit / 2 ? CTL_OUT_LOW / 2 :
	    (size_t)cfg->control_output_limit / 2, 0);
	bufferevent_enable(c->bev, EV_READ|EV_WRITE);
	c->next = ctl->conns;
	if (ctl->conns != NULL)
		ctl->conns->prev = c;
	ctl->conns = c;
	ctl->nconns++;
}

struct ctl_listen {
	struct evconnlistener	*listener;
	struct event		*ev_resume;
	struct cfg		**cfg;
	const char		*what;
	void			 (*accept)(int, void *);
	void			*arg;
	struct log_limit	 ll;
};

static void
ctl_listen_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct ctl_listen	*cl = arg;

	cl->accept(fd, cl->arg);
}

static void
ctl_listen_resume_cb(evutil_socket_t fd, short events, void *arg)
{
	struct ctl_listen	*cl = arg;

	evconnlistener_enable(cl->listener);
}

/*
 * accept() failed for a reason libevent does not retry by itself: out of
 * descriptors (EMFILE, ENFILE) or memory. Retrying at once would spin;
 * pause for accept_pause, and say so at most every CTL_LOG_EVERY seconds.
 */
static void
ctl_listen_error_cb(struct evconnlistener *l, void *arg)
{
	struct ctl_listen	*cl = arg;
	int			 err = EVUTIL_SOCKET_ERROR();
	struct timeval		 tv;
	uint64_t		 ms = (*cl->cfg)->accept_pause_ms;

	evconnlistener_disable(l);
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(cl->ev_resume, &tv);
	log_limited(&cl->ll, CTL_LOG_EVERY, LOG_WARNING, NULL,
	    "%s: accept: %s; pausing %llu ms", cl->what,
	    evutil_socket_error_to_string(err), (unsigned long long)ms);
}

struct ctl_listen *
ctl_listen_new(struct event_base *base, struct cfg **cfg, int fd,
    const char *what, void (*accept_cb)(int, void *), void *arg)
{
	struct ctl_listen	*cl;

	cl = xcalloc(1, sizeof *cl);
	cl->cfg = cfg;
	cl->what = what;
	cl->accept = accept_cb;
	cl->arg = arg;
	cl->listener = evconnlistener_new(base, ctl_listen_accept_cb, cl,
	    LEV_OPT_CLOSE_ON_FREE|LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	if (cl->listener == NULL) {
		free(cl);
		return (NULL);
	}
	if ((cl->ev_resume = evtimer_new(base, ctl_listen_resume_cb,
	    cl)) == NULL)
		fatalx("%s: evtimer_new", what);
	evconnlistener_set_error_cb(cl->listener, ctl_listen_error_cb);
	return (cl);
}

void
ctl_listen_free(struct ctl_listen *cl)
{
	if (cl == NULL)
		return;
	evconnlistener_free(cl->listener);
	event_free(cl->ev_resume);
	free(cl);
}

/*
 * Bind the socket ourselves. A path that answers belongs to a live daemon:
 * refuse rather than steal it; a dead one is removed.
 */
static int
ctl_bind(const char *path, char **cause)
{
	struct sockaddr_un	 sun;
	int			 fd, probe;
	mode_t			 old;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		xasprintf(cause, "control socket path is too long: %s", path);
		return (-1);
	}
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	if ((probe = socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0)) == -1) {
		xasprintf(cause, "socket: %s", strerror(errno));
		return (-1);
	}
	if (connect(probe, (struct sockaddr *)&sun, sizeof sun) == 0) {
		close(probe);
		xasprintf(cause, "another s3batchd answers on %s; not "
		    "taking its socket", path);
		return (-1);
	}
	close(probe);
	if (unlink(path) == -1 && errno != ENOENT) {
		xasprintf(cause, "cannot remove stale %s: %s", path,
		    strerror(errno));
		return (-1);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK,
	    0)) == -1) {
		xasprintf(cause, "socket: %s", strerror(errno));
		return (-1);
	}
	/* Anyone may connect and read; mutating is checked per peer. */
	old = umask(0111);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		umask(old);
		xasprintf(cause, "bind %s: %s", path, strerror(errno));
		close(fd);
		return (-1);
	}
	umask(old);
	if (listen(fd, 64) == -1) {
		xasprintf(cause, "listen %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return (-1);
	}
	return (fd);
}

struct control *
control_new(struct server *srv, char **cause)
{
	struct control	*ctl;
	int		 fd;

	ctl = xcalloc(1, sizeof *ctl);
	ctl->srv = srv;
	if ((fd = sdnotify_listen_fd()) != -1) {
		log_info("control: using the socket systemd activated");
		evutil_make_socket_nonblocking(fd);
	} else {
		if ((fd = ctl_bind(srv->cfg->control_socket, cause)) == -1) {
			free(ctl);
			return (NULL);
		}
		ctl->path = xstrdup(srv->cfg->control_socket);
		log_info("control: listening on %s", ctl->path);
	}
	ctl->listener = ctl_listen_new(srv->base, &srv->cfg, fd, "control",
	    ctl_accept_cb, ctl);
	if (ctl->listener == NULL) {
		xasprintf(cause, "control: cannot listen");
		close(fd);
		free(ctl->path);
		free(ctl);
		return (NULL);
	}
	return (ctl);
}

void
control_free(struct control *ctl)
{
	if (ctl == NULL)
		return;
	while (ctl->conns != NULL)
		ctl_conn_free(ctl->conns);
	ctl_listen_free(ctl->listener);
	if (ctl->path != NULL) {
		unlink(ctl->path);
		free(ctl->path);
	}
	free(ctl);
}

size_t
control_connections(const struct control *ctl)
{
	return (ctl->nconns);
}
