/* The daemon: its one event loop, what it owns, and how the parts reach each other. */
#ifndef SERVER_H
#define SERVER_H

#include <sys/types.h>

#include <stdint.h>

struct event_base;
struct event;
struct cfg;
struct store;
struct control;
struct worker;
struct s3;
struct sched;
struct metrics;

struct server {
	struct event_base	*base;
	char			*cfg_path;
	struct cfg		*cfg;
	struct store		*store;
	struct control		*control;
	struct worker		*worker;
	struct s3		*s3;
	struct sched		*sched;
	struct metrics		*metrics;
	struct event		*ev_timer;
	struct event		*ev_watchdog;
	struct event		*ev_signal[4];
	uint64_t		 started_ms;
	int			 stopping;
	int			 debug;
	gid_t			 control_gid;
	int			 have_control_gid;
};

int		 server_init(struct server *, const char *, struct cfg *,
		     int);
int		 server_run(struct server *);
void		 server_free(struct server *);
/* The region jobs' ARNs carry: the default endpoint's. */
const char	*server_region(const struct server *);
/* A job's tasks are ready, or it changed state: wake whoever waits. */
void		 server_job_changed(struct server *, const char *);
/* Whether a peer may run mutating commands. */
int		 server_peer_may_mutate(const struct server *, uid_t, gid_t);

#endif /* SERVER_H */
