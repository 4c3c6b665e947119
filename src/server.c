/*
 * The daemon's event loop and what hangs off it: signals (one switch), the
 * systemd status and watchdog, reload. Jobs are the lifecycle's business:
 * at start it recovers them, and it owns their timers.
 */
#include <sys/types.h>

#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "s3batchd.h"
#include "bulk.h"
#include "cfg.h"
#include "job.h"
#include "invsched.h"
#include "lifecycle.h"
#include "s3.h"
#include "sched.h"
#include "sdnotify.h"
#include "server.h"
#include "spool.h"
#include "store.h"

static const int server_signals[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1 };

const char *
server_region(const struct server *srv)
{
	const struct cfg_endpoint	*ep;

	if ((ep = cfg_endpoint_find(srv->cfg, "default")) != NULL &&
	    ep->region != NULL)
		return (ep->region);
	return ("us-east-1");
}

int
server_peer_may_mutate(const struct server *srv, uid_t uid, gid_t gid)
{
	struct passwd	 pw, *res;
	gid_t		 groups[256];
	char		 pwbuf[4096];
	int		 n = (int)nitems(groups), i;

	if (uid == 0 || uid == geteuid())
		return (1);
	if (!srv->have_control_gid)
		return (0);
	if (gid == srv->control_gid)
		return (1);
	if (getpwuid_r(uid, &pw, pwbuf, sizeof pwbuf, &res) != 0 || res == NULL)
		return (0);
	if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &n) == -1)
		return (0);
	for (i = 0; i < n; i++) {
		if (groups[i] == srv->control_gid)
			return (1);
	}
	return (0);
}

static int
server_control_group(struct server *srv, const struct cfg *cfg, char **cause)
{
	struct group	 gr, *res;
	char		 buf[8192];

	srv->have_control_gid = 0;
	if (cfg->control_group == NULL)
		return (0);
	if (getgrnam_r(cfg->control_group, &gr, buf, sizeof buf, &res) != 0 ||
	    res == NULL) {
		xasprintf(cause, "control_group \"%s\" does not exist",
		    cfg->control_group);
		return (-1);
	}
	srv->control_gid = gr.gr_gid;
	srv->have_control_gid = 1;
	return (0);
}

static void
server_update_status(struct server *srv)
{
	uint64_t	 counts[JOB_NSTATUS];
	char		*cause = NULL;

	if (store_job_counts(srv->store, counts, &cause) != 0) {
		free(cause);
		return;
	}
	sdnotify_status("%llu active, %llu ready, %llu preparing, %llu "
	    "suspended", (unsigned long long)counts[JOB_ACTIVE],
	    (unsigned long long)counts[JOB_READY],
	    (unsigned long long)counts[JOB_PREPARING],
	    (unsigned long long)counts[JOB_SUSPENDED]);
}

static void
server_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	server_update_status(arg);
}

static void
server_watchdog_cb(evutil_socket_t fd, short events, void *arg)
{
	sdnotify_watchdog();
}

static void
server_timer_start(struct server *srv)
{
	struct timeval	tv;

	tv.tv_sec = (time_t)(srv->cfg->timer_interval_ms / 1000);
	tv.tv_usec = (suseconds_t)(srv->cfg->timer_interval_ms % 1000) * 1000;
	if (srv->ev_timer != NULL)
		event_free(srv->ev_timer);
	srv->ev_timer = event_new(srv->base, -1, EV_PERSIST, server_timer_cb,
	    srv);
	event_add(srv->ev_timer, &tv);
}

static void
server_reload(struct server *srv)
{
	struct cfg	*cfg;
	char		*cause = NULL;

	sdnotify_reloading();
	if ((cfg = cfg_load(srv->cfg_path, &cause)) == NULL) {
		log_warnx("reload: %s; keeping the running configuration",
		    cause);
		goto out;
	}
	if (cfg_check_files(cfg, &cause) != 0 ||
	    cfg_check_reload(srv->cfg, cfg, &cause) != 0 ||
	    server_control_group(srv, cfg, &cause) != 0) {
		log_warnx("reload: %s; keeping the running configuration",
		    cause);
		free(cause);
		cause = NULL;
		server_control_group(srv, srv->cfg, &cause);
		cfg_free(cfg);
		goto out;
	}
	if (s3_reconfigure(srv->s3, cfg, &cause) != 0) {
		log_warnx("reload: %s; keeping the running configuration",
		    cause);
		cfg_free(cfg);
		goto out;
	}
	cfg_free(srv->cfg);
	srv->cfg = cfg;
	log_setverbose(srv->debug || cfg->log_verbose);
	server_timer_start(srv);
	lifecycle_reload(srv->lifecycle);
	log_info("reload: configuration %s applied", srv->cfg_path);
out:
	free(cause);
	sdnotify_ready();
}

static void
server_drained(void *arg)
{
	struct server	*srv = arg;

	event_base_loopexit(srv->base, NULL);
}

static void
server_signal(evutil_socket_t sig, short events, void *arg)
{
	struct server	*srv = arg;

	switch (sig) {
	case SIGTERM:
	case SIGINT:
		if (srv->stopping)
			break;
		log_info("received %s: stopping", strsignal((int)sig));
		srv->stopping = 1;
		sdnotify_stopping();
		sched_drain(srv->sched, srv->cfg->drain_timeout_ms,
		    server_drained, srv);
		break;
	case SIGHUP:
		log_info("received SIGHUP: reloading %s", srv->cfg_path);
		server_reload(srv);
		break;
	case SIGUSR1:
		log_setverbose(!log_getverbose());
		log_info("verbose logging %s", log_getverbose() ? "on" : "off");
		break;
	}
}

int
server_init(struct server *srv, const char *cfg_path, struct cfg *cfg,
    int debug)
{
	struct event_config	*ec;
	char			*cause = NULL;
	uint64_t		 wd;
	struct timeval		 tv;
	size_t			 i;

	memset(srv, 0, sizeof *srv);
	srv->cfg_path = xstrdup(cfg_path);
	srv->cfg = cfg;
	srv->debug = debug;
	srv->started_ms = time_now_ms();
	signal(SIGPIPE, SIG_IGN);
	if (evthread_use_pthreads() != 0)
		fatalx("libevent: no pthreads support");
	if ((ec = event_config_new()) == NULL)
		fatalx("event_config_new");
	if ((srv->base = event_base_new_with_config(ec)) == NULL)
		fatalx("event_base_new");
	event_config_free(ec);

	if (server_control_group(srv, cfg, &cause) != 0)
		goto fail;
	if (spool_init(cfg->state_dir, &cause) != 0)
		goto fail;
	if ((srv->store = store_open(cfg->state_dir, 0, &cause)) == NULL)
		goto fail;
	if ((srv->bulk = bulk_new(srv->base, cfg->state_dir, &cause)) == NULL)
		goto fail;
	if ((srv->s3 = s3_new(srv->base, cfg, &cause)) == NULL)
		goto fail;
	srv->core.base = srv->base;
	srv->core.store = srv->store;
	srv->core.cfg = &srv->cfg;
	srv->core.s3 = srv->s3;
	srv->core.bulk = srv->bulk;
	srv->lifecycle = lifecycle_new(&srv->core);
	srv->sched = lifecycle_sched(srv->lifecycle);
	lifecycle_recover(srv->lifecycle);
	srv->invsched = invsched_new(&srv->core, srv->lifecycle);

	for (i = 0; i < nitems(server_signals); i++) {
		srv->ev_signal[i] = evsignal_new(srv->base, server_signals[i],
		    server_signal, srv);
		evsignal_add(srv->ev_signal[i], NULL);
	}
	server_timer_start(srv);
	if ((wd = sdnotify_watchdog_ms()) != 0) {
		tv.tv_sec = (time_t)(wd / 2000);
		tv.tv_usec = (suseconds_t)((wd / 2) % 1000) * 1000;
		srv->ev_watchdog = event_new(srv->base, -1, EV_PERSIST,
		    server_watchdog_cb, srv);
		event_add(srv->ev_watchdog, &tv);
	}
	return (0);
fail:
	log_warnx("%s", cause);
	free(cause);
	return (-1);
}

int
server_run(struct server *srv)
{
	log_info("s3batchd %s ready (state in %s)", VERSION,
	    srv->cfg->state_dir);
	server_update_status(srv);
	sdnotify_ready();
	event_base_dispatch(srv->base);
	log_info("stopped");
	return (0);
}

void
server_free(struct server *srv)
{
	size_t	i;

	/* Stages first (a stopped bulk item frees itself), then the thread. */
	invsched_free(srv->invsched);
	lifecycle_free(srv->lifecycle);
	bulk_free(srv->bulk);
	s3_free(srv->s3);
	for (i = 0; i < nitems(srv->ev_signal); i++) {
		if (srv->ev_signal[i] != NULL)
			event_free(srv->ev_signal[i]);
	}
	if (srv->ev_timer != NULL)
		event_free(srv->ev_timer);
	if (srv->ev_watchdog != NULL)
		event_free(srv->ev_watchdog);
	store_close(srv->store);
	if (srv->base != NULL)
		event_base_free(srv->base);
	cfg_free(srv->cfg);
	free(srv->cfg_path);
	libevent_global_shutdown();
}
