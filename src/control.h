/*
 * The control socket: accepting s3batchctl connections, the framing of
 * src/protocol.h, peer credentials, and dispatch through the command table.
 */
#ifndef CONTROL_H
#define CONTROL_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct buf;
struct evbuffer;
struct json_object;
struct server;
struct ctl_conn;

struct ctl_req {
	struct server		*srv;
	struct ctl_conn		*conn;
	int64_t			 id;
	const char		*cmd;
	struct json_object	*args;
	uid_t			 uid;
	gid_t			 gid;
	struct store_actor	 actor;		/* who, for the audit trail */
	pid_t			 pid;
	int			 replied;
};

/* What receives a stream of manifest bytes after a "continue" reply. */
struct ctl_stream_ops {
	/* Consume exactly len bytes from the buffer; -1 fails the request. */
	int	(*data)(void *, struct evbuffer *, size_t, char **);
	/* The stream ended: must reply (ctl_reply or ctl_reply_error). */
	void	(*end)(struct ctl_req *, void *);
	/* The connection went away or the stream failed: clean up. */
	void	(*abort)(void *);
};

/*
 * What produces a stream of bytes for the client (s3batchctl report):
 * called whenever the connection can take more; append to the buffer and
 * return 0 for more to come, 1 when done (then *result, if set, is the final
 * reply's result), -1 with *cause to fail.
 */
struct ctl_stream_out_ops {
	int	(*produce)(void *, struct buf *, struct json_object **,
		    char **);
	void	(*free)(void *);
};

/* A reply that comes later (after S3 answers). */
struct ctl_pending;

/* A request line's envelope, checked (the parts fuzz-control exercises). */
struct ctl_cmd;
struct ctl_message {
	struct json_object	*msg;
	int64_t			 id;		/* -1: none */
	const struct ctl_cmd	*cmd;
	struct json_object	*args;		/* inside msg */
};
int		 ctl_message_parse(const char *, size_t, struct ctl_message *,
		     const char **, char **);
void		 ctl_message_free(struct ctl_message *);
int		 ctl_message_mutating(const struct ctl_message *);
int		 ctl_chunk_parse(const char *, size_t, uint64_t *, char **);

/*
 * A listening socket (the control socket, metrics) that hands accepted
 * descriptors to a callback, and pauses for accept_pause, with a
 * rate-limited warning, when accept() fails for want of descriptors or
 * memory instead of spinning. The callback owns the descriptor. NULL if
 * libevent cannot listen on fd (which is then not closed).
 */
struct cfg;
struct event_base;
struct ctl_listen;
struct ctl_listen *ctl_listen_new(struct event_base *, struct cfg **, int,
		     const char *, void (*)(int, void *), void *);
void		 ctl_listen_free(struct ctl_listen *);

struct control	*control_new(struct server *, char **);
void		 control_free(struct control *);
size_t		 control_connections(const struct control *);

/* Replies; the result object is consumed. */
void		 ctl_reply(struct ctl_req *, struct json_object *);
void		 ctl_reply_error(struct ctl_req *, const char *, const char *,
		     ...) __attribute__((__format__(__printf__, 3, 4)));
/*
 * Send a stream: {"stream":true}, chunk frames, then the final reply. An
 * unprivileged peer past control_max_pending streams and deferred replies
 * gets ServiceUnavailable instead, and ops->free(arg) is called at once.
 */
void		 ctl_stream_out(struct ctl_req *,
		     const struct ctl_stream_out_ops *, void *);
/*
 * Reply later: the request keeps its connection until then, and the
 * connection reads no other request meanwhile.
 */
struct ctl_pending *ctl_defer(struct ctl_req *);
void		 ctl_pending_reply(struct ctl_pending *, struct json_object *);
void		 ctl_pending_error(struct ctl_pending *, const char *,
		     const char *, ...)
		     __attribute__((__format__(__printf__, 3, 4)));
/* Accept a stream: sends {"continue":true} and routes chunks to ops. */
void		 ctl_stream_in(struct ctl_req *, const struct ctl_stream_ops *,
		     void *);

#endif /* CONTROL_H */
