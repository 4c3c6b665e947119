/*
 * The daemon: its one event loop and the core assembled on it — the store,
 * the shared S3 client, the bulk thread, the lifecycle (with its scheduler)
 * — plus signals, reload and the systemd watchdog. It includes no front
 * end: s3batchd.c (main) starts the control socket and the metrics
 * listener on top of a running server and keeps them in the two opaque
 * pointers below, so that the front ends can reach each other. The core
 * modules never see struct server: they get struct core (core.h).
 */
#ifndef SERVER_H
#define SERVER_H

#include <sys/types.h>

#include <stdint.h>

#include "core.h"

struct event;
struct cfg;
struct lifecycle;
struct sched;
struct invsched;
struct control;
struct metrics;

struct server {
	struct event_base	*base;
	char			*cfg_path;
	struct cfg		*cfg;		/* the current one */
	struct store		*store;
	struct bulk		*bulk;
	struct s3		*s3;
	struct core		 core;		/* points at the above */
	struct lifecycle	*lifecycle;
	struct sched		*sched;		/* the lifecycle's */
	struct invsched		*invsched;	/* inventory runs */
	struct control		*control;	/* set by main */
	struct metrics		*metrics;	/* set by main */
	struct event		*ev_timer;
	struct event		*ev_watchdog;
	struct event		*ev_signal[4];
	uint64_t		 started_ms;
	int			 stopping;
	int			 debug;
	gid_t			 control_gid;
	int			 have_control_gid;
};

/* Open the store, the bulk thread, S3; recover the jobs. */
int		 server_init(struct server *, const char *, struct cfg *,
		     int);
int		 server_run(struct server *);
void		 server_free(struct server *);
/* The region jobs' ARNs carry: the default endpoint's. */
const char	*server_region(const struct server *);
/* Whether a peer may run mutating commands. */
int		 server_peer_may_mutate(const struct server *, uid_t, gid_t);

#endif /* SERVER_H */
