/*
 * The client side of the control-socket protocol (protocol.h): connect,
 * send one-line JSON requests, read and check replies, and move manifests
 * and reports as chunk frames. The socket is non-blocking and every wait
 * is a poll() bounded by the client's deadline, so a silent daemon makes
 * s3batchctl time out rather than hang.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "protocol.h"

#define CLIENT_READ_SIZE	(256 * 1024)

static void
client_arm(struct client *c)
{
	c->deadline = c->timeout_ms == 0 ? 0 : time_mono_ms() + c->timeout_ms;
}

/* Wait for events; 0 when ready, CLIENT_EIO on timeout or error. */
static int
client_wait(struct client *c, short events, short *revents, char **cause)
{
	struct pollfd	 pfd;
	uint64_t	 now;
	int		 ms, n;

	for (;;) {
		ms = -1;
		if (c->deadline != 0) {
			now = time_mono_ms();
			if (now >= c->deadline)
				goto timeout;
			ms = c->deadline - now > INT32_MAX ? INT32_MAX :
			    (int)(c->deadline - now);
		}
		pfd.fd = c->fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, ms);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			xasprintf(cause, "%s: poll: %s", c->path,
			    strerror(errno));
			return (CLIENT_EIO);
		}
		if (n == 0)
			goto timeout;
		*revents = pfd.revents;
		return (0);
	}
timeout:
	xasprintf(cause, "%s: no answer from the daemon within %" PRIu64
	    " ms", c->path, c->timeout_ms);
	return (CLIENT_EIO);
}

static int
client_set_nonblock(int fd)
{
	int	 fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1)
		return (-1);
	return (fcntl(fd, F_SETFL, fl | O_NONBLOCK));
}

void
client_open_fd(struct client *c, int fd, const char *path,
    uint64_t timeout_ms)
{
	memset(c, 0, sizeof *c);
	c->fd = fd;
	c->path = xstrdup(path);
	c->timeout_ms = timeout_ms;
	buf_init(&c->in);
	(void)client_set_nonblock(fd);
}

int
client_connect(struct client *c, const char *path, uint64_t timeout_ms,
    char **cause)
{
	struct sockaddr_un	 sun;
	short			 rev;
	int			 fd, err;
	socklen_t		 len;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		xasprintf(cause, "%s: socket path too long", path);
		return (CLIENT_EIO);
	}
	memcpy(sun.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1) {
		xasprintf(cause, "socket: %s", strerror(errno));
		return (CLIENT_EIO);
	}
	client_open_fd(c, fd, path, timeout_ms);
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0)
		return (0);
	if (errno != EINPROGRESS && errno != EAGAIN) {
		err = errno;
		goto fail;
	}
	/* A full listen backlog: wait for room like any other reply. */
	client_arm(c);
	if (client_wait(c, POLLOUT, &rev, cause) != 0) {
		client_close(c);
		return (CLIENT_EIO);
	}
	len = sizeof err;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err == 0)
		return (0);
fail:
	if (err == ENOENT)
		xasprintf(cause, "%s: %s (is s3batchd running?)", path,
		    strerror(err));
	else if (err == ECONNREFUSED)
		xasprintf(cause, "%s: %s (s3batchd is not listening)", path,
		    strerror(err));
	else
		xasprintf(cause, "%s: %s", path, strerror(err));
	client_close(c);
	return (CLIENT_EIO);
}

void
client_close(struct client *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	free(c->path);
	c->path = NULL;
	buf_free(&c->in);
}

/* Bytes of s as JSON text, without the escaping of "/". */
static const char *
client_json_text(json_object *o)
{
	return (json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

char *
client_request_line(int64_t id, const char *cmd, json_object *args)
{
	struct buf	 b;
	json_object	*s;

	buf_init(&b);
	s = json_object_new_string(cmd);
	buf_addf(&b, "{\"v\":%d,\"id\":%" PRId64 ",\"cmd\":%s,\"args\":",
	    PROTOCOL_VERSION, id, client_json_text(s));
	json_object_put(s);
	if (args == NULL)
		buf_adds(&b, "{}");
	else
		buf_adds(&b, client_json_text(args));
	buf_adds(&b, "}\n");
	return (buf_detach(&b));
}

json_object *
client_json_parse(const char *s, size_t len, char **cause)
{
	struct json_tokener	*tok;
	json_object		*o;
	enum json_tokener_error	 jerr;
	size_t			 off;

	if (len > INT32_MAX) {
		xasprintf(cause, "JSON text too large");
		return (NULL);
	}
	tok = json_tokener_new();
	o = json_tokener_parse_ex(tok, s, (int)len);
	jerr = json_tokener_get_error(tok);
	off = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (jerr == json_tokener_continue) {
		xasprintf(cause, "JSON text ends too soon");
		json_object_put(o);
		return (NULL);
	}
	if (jerr != json_tokener_success || o == NULL) {
		xasprintf(cause, "invalid JSON at byte %zu: %s", off,
		    json_tokener_error_desc(jerr));
		json_object_put(o);
		return (NULL);
	}
	while (off < len && (s[off] == ' ' || s[off] == '\t' ||
	    s[off] == '\r' || s[off] == '\n'))
		off++;
	if (off != len) {
		xasprintf(cause, "unexpected text after JSON at byte %zu", off);
		json_object_put(o);
		return (NULL);
	}
	return (o);
}

void
client_reply_free(struct client_reply *r)
{
	json_object_put(r->obj);
	memset(r, 0, sizeof *r);
}

/*
 * Check one reply line against the request it answers. A reply without an
 * id is accepted only as an error: the daemon may not have been able to
 * read ours.
 */
int
client_parse_reply(const char *line, size_t len, int64_t id,
    struct client_reply *r, char **cause)
{
	json_object	*o, *v, *err;
	char		*why = NULL;
	int		 has_id;

	memset(r, 0, sizeof *r);
	if ((o = client_json_parse(line, len, &why)) == NULL) {
		xasprintf(cause, "bad reply from the daemon: %s", why);
		free(why);
		return (CLIENT_EPROTO);
	}
	if (!json_object_is_type(o, json_type_object)) {
		xasprintf(cause, "bad reply from the daemon: not an object");
		goto fail;
	}
	r->obj = o;
	if (!json_object_object_get_ex(o, "ok", &v) ||
	    !json_object_is_type(v, json_type_boolean)) {
		xasprintf(cause, "bad reply from the daemon: no \"ok\"");
		goto fail;
	}
	r->ok = json_object_get_boolean(v);
	if (!r->ok) {
		if (json_object_object_get_ex(o, "error", &err) &&
		    json_object_is_type(err, json_type_object)) {
			r->code = json_path_string(err, "code");
			r->message = json_path_string(err, "message");
		}
		if (r->code == NULL)
			r->code = ERR_INTERNAL;
		if (r->message == NULL)
			r->message = "(no message)";
	}
	if (!json_object_object_get_ex(o, "v", &v) ||
	    !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) != PROTOCOL_VERSION) {
		if (!r->ok)
			xasprintf(cause, "daemon speaks another protocol "
			    "version: %s: %s", r->code, r->message);
		else
			xasprintf(cause, "daemon speaks another protocol "
			    "version (this s3batchctl speaks %d)",
			    PROTOCOL_VERSION);
		goto fail;
	}
	has_id = json_object_object_get_ex(o, "id", &v) &&
	    !json_object_is_type(v, json_type_null);
	if (has_id) {
		if (!json_object_is_type(v, json_type_int) ||
		    json_object_get_int64(v) != id) {
			xasprintf(cause, "bad reply from the daemon: id %s, "
			    "expected %" PRId64, client_json_text(v), id);
			goto fail;
		}
	} else if (r->ok) {
		xasprintf(cause, "bad reply from the daemon: no id");
		goto fail;
	}
	if (r->ok) {
		if (json_path_bool(o, "continue") == 1)
			r->kind = CLIENT_REPLY_CONTINUE;
		else if (json_path_bool(o, "stream") == 1)
			r->kind = CLIENT_REPLY_STREAM;
		if (json_object_object_get_ex(o, "result", &v))
			r->result = v;
	}
	return (0);
fail:
	json_object_put(o);
	memset(r, 0, sizeof *r);
	return (CLIENT_EPROTO);
}

/* Write all of an iovec array, waiting as needed; MSG_NOSIGNAL: no SIGPIPE. */
static int
client_writev(struct client *c, struct iovec *iov, int iovcnt, int stop_on_in,
    int *readable, char **cause)
{
	struct msghdr	 msg;
	ssize_t		 n;
	short		 rev;
	int		 r;

	while (iovcnt > 0) {
		if (iov->iov_len == 0) {
			iov++;
			iovcnt--;
			continue;
		}
		memset(&msg, 0, sizeof msg);
		msg.msg_iov = iov;
		msg.msg_iovlen = (size_t)iovcnt;
		n = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EPIPE || errno == ECONNRESET) {
				/* It may have said why before closing. */
				if (stop_on_in && readable != NULL) {
					*readable = 1;
					return (0);
				}
				xasprintf(cause, "%s: the daemon closed the "
				    "connection", c->path);
				return (CLIENT_EIO);
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				xasprintf(cause, "%s: send: %s", c->path,
				    strerror(errno));
				return (CLIENT_EIO);
			}
			if ((r = client_wait(c, stop_on_in ? POLLOUT|POLLIN :
			    POLLOUT, &rev, cause)) != 0)
				return (r);
			if (stop_on_in && (rev & (POLLIN|POLLHUP))) {
				*readable = 1;
				return (0);
			}
			continue;
		}
		if (c->timeout_ms != 0 && stop_on_in)
			client_arm(c);
		while (n > 0 && iovcnt > 0) {
			if ((size_t)n >= iov->iov_len) {
				n -= (ssize_t)iov->iov_len;
				iov->iov_len = 0;
				iov++;
				iovcnt--;
			} else {
				iov->iov_base = (char *)iov->iov_base + n;
				iov->iov_len -= (size_t)n;
				n = 0;
			}
		}
	}
	return (0);
}

int
client_send_request(struct client *c, const char *cmd, json_object *args,
    char **cause)
{
	struct iovec	 iov;
	char		*line;
	size_t		 len;
	int		 r;

	line = client_request_line(c->id + 1, cmd, args);
	len = strlen(line);
	if (len > PROTOCOL_MAX_LINE) {
		xasprintf(cause, "request is %zu bytes, more than the "
		    "protocol's limit of %d", len, PROTOCOL_MAX_LINE);
		free(line);
		return (CLIENT_EPROTO);
	}
	c->id++;
	client_arm(c);
	iov.iov_base = line;
	iov.iov_len = len;
	r = client_writev(c, &iov, 1, 0, NULL, cause);
	free(line);
	return (r);
}

/* Read more bytes into c->in; 0 on progress, CLIENT_EIO on EOF or error. */
static int
client_fill(struct client *c, char **cause)
{
	char		 tmp[CLIENT_READ_SIZE];
	ssize_t		 n;
	short		 rev;
	int		 r;

	for (;;) {
		n = read(c->fd, tmp, sizeof tmp);
		if (n > 0) {
			buf_add(&c->in, tmp, (size_t)n);
			return (0);
		}
		if (n == 0) {
			xasprintf(cause, "%s: the daemon closed the connection "
			    "without answering", c->path);
			return (CLIENT_EIO);
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			xasprintf(cause, "%s: read: %s", c->path,
			    strerror(errno));
			return (CLIENT_EIO);
		}
		if ((r = client_wait(c, POLLIN, &rev, cause)) != 0)
			return (r);
	}
}

/* Wait for a whole line at the start of c->in; *len excludes the newline. */
static int
client_read_line(struct client *c, size_t *len, char **cause)
{
	char	*nl;
	size_t	 scanned = 0;
	int	 r;

	for (;;) {
		if (c->in.len > scanned &&
		    (nl = memchr(c->in.data + scanned, '\n',
		    c->in.len - scanned)) != NULL) {
			*len = (size_t)(nl - c->in.data);
			if (*len + 1 > PROTOCOL_MAX_LINE)
				break;
			return (0);
		}
		scanned = c->in.len;
		if (c->in.len >= PROTOCOL_MAX_LINE)
			break;
		if ((r = client_fill(c, cause)) != 0)
			return (r);
	}
	xasprintf(cause, "bad reply from the daemon: a line longer than %d "
	    "bytes", PROTOCOL_MAX_LINE);
	return (CLIENT_EPROTO);
}

int
client_read_reply(struct client *c, struct client_reply *r, char **cause)
{
	size_t	 len;
	int	 rv;

	memset(r, 0, sizeof *r);
	if ((rv = client_read_line(c, &len, cause)) != 0)
		return (rv);
	rv = client_parse_reply(c->in.data, len, c->id, r, cause);
	buf_consume(&c->in, len + 1);
	return (rv);
}

int
client_call(struct client *c, const char *cmd, json_object *args,
    struct client_reply *r, char **cause)
{
	int	 rv;

	char	*why = NULL;

	memset(r, 0, sizeof *r);
	if ((rv = client_send_request(c, cmd, args, cause)) != 0) {
		/*
		 * A daemon that refuses a connection (too many from this
		 * uid, shutting down) answers and closes before reading the
		 * request: its answer says why better than EPIPE.
		 */
		if (rv == CLIENT_EIO && client_read_reply(c, r, &why) == 0 &&
		    !r->ok) {
			free(*cause);
			*cause = NULL;
			return (0);
		}
		client_reply_free(r);
		free(why);
		return (rv);
	}
	return (client_read_reply(c, r, cause));
}

/* Has the daemon said something (or hung up) without waiting for us? */
static int
client_peek_in(struct client *c)
{
	struct pollfd	 pfd;

	if (c->in.len != 0)
		return (1);
	pfd.fd = c->fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	return (poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLIN|POLLHUP)));
}

/*
 * Send everything readable from fd as chunk frames, then the end frame.
 * If the daemon answers before we are done (an early error, or it hung
 * up), stop and return that answer in *early with *got_early set.
 */
int
client_send_stream(struct client *c, int fd, uint64_t *sent,
    struct client_reply *early, int *got_early, char **cause)
{
	struct iovec	 iov[2];
	char		 hdr[64], *data;
	ssize_t		 n;
	size_t		 have;
	int		 readable = 0, r;

	*got_early = 0;
	*sent = 0;
	data = xmalloc(PROTOCOL_MAX_CHUNK);
	client_arm(c);
	for (;;) {
		/* Fill whole chunks so that frames stay few and large. */
		if ((n = io_read_full(fd, data, PROTOCOL_MAX_CHUNK)) == -1) {
			xasprintf(cause, "manifest: read: %s", strerror(errno));
			r = CLIENT_EPROTO;
			goto out;
		}
		have = (size_t)n;
		if (client_peek_in(c)) {
			readable = 1;
			break;
		}
		if (*sent + have > PROTOCOL_MAX_MANIFEST) {
			xasprintf(cause, "manifest is larger than %llu bytes",
			    (unsigned long long)PROTOCOL_MAX_MANIFEST);
			r = CLIENT_EPROTO;
			goto out;
		}
		snprintf(hdr, sizeof hdr, "{\"chunk\":%zu}\n", have);
		iov[0].iov_base = hdr;
		iov[0].iov_len = strlen(hdr);
		iov[1].iov_base = data;
		iov[1].iov_len = have;
		if ((r = client_writev(c, iov, 2, 1, &readable, cause)) != 0)
			goto out;
		if (readable)
			break;
		*sent += have;
		if (have == 0)
			break;
	}
	r = 0;
	if (readable) {
		*got_early = 1;
		r = client_read_reply(c, early, cause);
	}
out:
	free(data);
	return (r);
}

/* Parse a frame header line: {"chunk":N}. -1 if it is not one. */
static int
client_chunk_header(const char *line, size_t len, size_t *size)
{
	json_object	*o, *v;
	char		*why = NULL;
	int64_t		 n;
	int		 ok = -1;

	/* Frame headers are short; anything long is a reply. */
	if (len > 64 || memmem(line, len, "\"chunk\"", 7) == NULL)
		return (-1);
	if ((o = client_json_parse(line, len, &why)) == NULL) {
		free(why);
		return (-1);
	}
	if (json_object_is_type(o, json_type_object) &&
	    json_object_object_length(o) == 1 &&
	    json_object_object_get_ex(o, "chunk", &v) &&
	    json_object_is_type(v, json_type_int)) {
		n = json_object_get_int64(v);
		if (n >= 0 && n <= PROTOCOL_MAX_CHUNK) {
			*size = (size_t)n;
			ok = 0;
		}
	}
	json_object_put(o);
	return (ok);
}

/*
 * After a {"stream":true} reply: copy chunk frames to outfd as they come,
 * then read the final reply. The timeout counts from the last data, so a
 * long report streams for as long as it flows.
 */
int
client_recv_stream(struct client *c, int outfd, uint64_t *got,
    struct client_reply *r, char **cause)
{
	size_t	 len, size, take;
	int	 rv, ended = 0;

	*got = 0;
	memset(r, 0, sizeof *r);
	for (;;) {
		client_arm(c);
		if ((rv = client_read_line(c, &len, cause)) != 0)
			return (rv);
		if (client_chunk_header(c->in.data, len, &size) != 0) {
			/* Not a frame: the final reply (or an error). */
			rv = client_parse_reply(c->in.data, len, c->id, r,
			    cause);
			buf_consume(&c->in, len + 1);
			if (rv == 0 && r->ok && !ended) {
				client_reply_free(r);
				xasprintf(cause, "bad reply from the daemon: "
				    "stream ended without its end frame");
				return (CLIENT_EPROTO);
			}
			return (rv);
		}
		buf_consume(&c->in, len + 1);
		if (ended) {
			xasprintf(cause, "bad reply from the daemon: a frame "
			    "after the end frame");
			return (CLIENT_EPROTO);
		}
		if (size == 0) {
			ended = 1;
			continue;
		}
		while (size > 0) {
			if (c->in.len == 0 && (rv = client_fill(c, cause)) != 0)
				return (rv);
			take = c->in.len < size ? c->in.len : size;
			if (io_write_all(outfd, c->in.data, take) != 0) {
				xasprintf(cause, "write: %s", strerror(errno));
				return (CLIENT_EPROTO);
			}
			buf_consume(&c->in, take);
			size -= take;
			*got += take;
			client_arm(c);
		}
	}
}

/* The aws cli's layout: Python's json.dumps(indent=4), keys as received. */
static void
client_json_print_r(struct buf *b, json_object *o, int depth)
{
	struct json_object_iterator	 it, end;
	json_object			*key;
	size_t				 i, n;
	int				 first = 1;

	switch (json_object_get_type(o)) {
	case json_type_object:
		if (json_object_object_length(o) == 0) {
			buf_adds(b, "{}");
			return;
		}
		buf_adds(b, "{\n");
		it = json_object_iter_begin(o);
		end = json_object_iter_end(o);
		while (!json_object_iter_equal(&it, &end)) {
			if (!first)
				buf_adds(b, ",\n");
			first = 0;
			buf_addf(b, "%*s", (depth + 1) * 4, "");
			key = json_object_new_string(
			    json_object_iter_peek_name(&it));
			buf_adds(b, client_json_text(key));
			json_object_put(key);
			buf_adds(b, ": ");
			client_json_print_r(b, json_object_iter_peek_value(&it),
			    depth + 1);
			json_object_iter_next(&it);
		}
		buf_addf(b, "\n%*s}", depth * 4, "");
		return;
	case json_type_array:
		n = json_object_array_length(o);
		if (n == 0) {
			buf_adds(b, "[]");
			return;
		}
		buf_adds(b, "[\n");
		for (i = 0; i < n; i++) {
			if (i != 0)
				buf_adds(b, ",\n");
			buf_addf(b, "%*s", (depth + 1) * 4, "");
			client_json_print_r(b, json_object_array_get_idx(o, i),
			    depth + 1);
		}
		buf_addf(b, "\n%*s]", depth * 4, "");
		return;
	case json_type_null:
		buf_adds(b, "null");
		return;
	default:
		buf_adds(b, client_json_text(o));
		return;
	}
}

void
client_json_print(struct buf *b, json_object *o)
{
	client_json_print_r(b, o, 0);
	buf_addc(b, '\n');
}
