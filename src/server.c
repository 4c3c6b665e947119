/*
 * The daemon's event loop and what hangs off it: signals (one switch),
 * the job timers, the systemd watchdog, recovery at start, reload.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
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
#include "cfg.h"
#include "control.h"
#include "fetch.h"
#include "generator.h"
#include "job.h"
#include "metrics.h"
#include "s3.h"
#include "sched.h"
#include "sdnotify.h"
#include "server.h"
#include "store.h"
#include "worker.h"

#define SERVER_LIST_PAGE	1000

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

void
server_job_changed(struct server *srv, const char *id)
{
	if (srv->sched != NULL)
		sched_job_changed(srv->sched, id);
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

/* Jobs a pass over the timers must act on, collected first. */
struct server_due {
	struct server		*srv;
	uint64_t		 now;
	int64_t			 last;
	int			 n;
	char			 (*expired)[37];
	size_t			 nexpired;
	char			 (*purge)[37];
	size_t			 npurge;
};

static int
server_due_cb(const struct job *j, void *arg)
{
	struct server_due	*d = arg;
	const struct cfg	*cfg = d->srv->cfg;

	d->last = j->rowid;
	d->n++;
	switch (job_timer_due(j, d->now, cfg->confirm_timeout_ms,
	    cfg->job_retention_ms)) {
	case JOB_TIMER_CONFIRM_EXPIRED:
		d->expired = xreallocarray(d->expired, d->nexpired + 1,
		    sizeof *d->expired);
		memcpy(d->expired[d->nexpired++], j->id, 37);
		break;
	case JOB_TIMER_PURGE:
		d->purge = xreallocarray(d->purge, d->npurge + 1,
		    sizeof *d->purge);
		memcpy(d->purge[d->npurge++], j->id, 37);
		break;
	case JOB_TIMER_NONE:
		break;
	}
	return (0);
}

/* A job not confirmed in time fails, as Amazon's do after 30 days. */
static void
server_expire(struct server *srv, const char *id)
{
	struct job	 j;
	char		*cause = NULL, timeout[32], *reason;

	if (store_begin(srv->store, &cause) != 0)
		goto fail;
	if (store_job_get(srv->store, id, &j, &cause) != 0) {
		store_rollback(srv->store);
		goto fail;
	}
	if (j.status != JOB_SUSPENDED) {
		store_rollback(srv->store);
		job_clear(&j);
		return;
	}
	format_duration(srv->cfg->confirm_timeout_ms, timeout, sizeof timeout);
	xasprintf(&reason, "The job was not confirmed within %s of being "
	    "suspended", timeout);
	free(j.failure_code);
	free(j.failure_reason);
	j.failure_code = xstrdup("ConfirmationTimeout");
	j.failure_reason = reason;
	if (store_job_transition(srv->store, &j, JOB_FAILED, JOB_BY_DAEMON,
	    STORE_UID_DAEMON, reason, &cause) != 0 ||
	    store_commit(srv->store, &cause) != 0) {
		store_rollback(srv->store);
		job_clear(&j);
		goto fail;
	}
	log_job(LOG_NOTICE, id, "failed: %s", reason);
	job_clear(&j);
	return;
fail:
	log_job(LOG_WARNING, id, "timer: %s", cause);
	free(cause);
}

static void
server_timers(struct server *srv)
{
	struct server_due	 d;
	uint32_t		 mask;
	char			*cause = NULL;
	size_t			 i;

	mask = 1U << JOB_SUSPENDED | 1U << JOB_COMPLETE | 1U << JOB_FAILED |
	    1U << JOB_CANCELLED;
	memset(&d, 0, sizeof d);
	d.srv = srv;
	d.now = time_now_ms();
	do {
		d.n = 0;
		if (store_job_list(srv->store, mask, d.last, SERVER_LIST_PAGE,
		    server_due_cb, &d, &cause) != 0) {
			log_warnx("timers: %s", cause);
			free(cause);
			break;
		}
	} while (d.n == SERVER_LIST_PAGE);
	for (i = 0; i < d.nexpired; i++)
		server_expire(srv, d.expired[i]);
	for (i = 0; i < d.npurge; i++)
		worker_submit(srv->worker, WORKER_PURGE, d.purge[i]);
	free(d.expired);
	free(d.purge);
}

static void
server_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct server	*srv = arg;

	server_timers(srv);
	server_update_status(srv);
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
	if (cfg_check_reload(srv->cfg, cfg, &cause) != 0 ||
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

static int
server_mkdir(const char *path, char **cause)
{
	if (mkdir(path, 0750) == -1 && errno != EEXIST) {
		xasprintf(cause, "cannot create %s: %s", path, strerror(errno));
		return (-1);
	}
	return (0);
}

/* Spool files of jobs that are no longer preparing are leftovers. */
static void
server_clean_spool(struct server *srv)
{
	struct dirent	*de;
	struct job	 j;
	DIR		*d;
	char		*dir, *path, id[37], *cause = NULL;
	size_t		 len;
	int		 keep;

	xasprintf(&dir, "%s/spool", srv->cfg->state_dir);
	if ((d = opendir(dir)) == NULL) {
		free(dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		len = strlen(de->d_name);
		keep = 0;
		/* <id>.csv, <id>.manifest.json, <id>.data.N.gz; not .part. */
		if (len > 37 && de->d_name[36] == '.' &&
		    (len < 5 || strcmp(de->d_name + len - 5, ".part") != 0)) {
			memcpy(id, de->d_name, 36);
			id[36] = '\0';
			if (store_job_get(srv->store, id, &j, &cause) == 0) {
				keep = j.status == JOB_PREPARING;
				job_clear(&j);
			}
			free(cause);
			cause = NULL;
		}
		if (keep)
			continue;
		xasprintf(&path, "%s/%s", dir, de->d_name);
		log_info("removing leftover spool file %s", path);
		unlink(path);
		free(path);
	}
	closedir(d);
	free(dir);
}

struct server_recover {
	struct server	*srv;
	int64_t		 last;
	int		 n;
	struct job	*jobs;
	size_t		 njobs;
};

static int
server_recover_cb(const struct job *j, void *arg)
{
	struct server_recover	*r = arg;

	r->last = j->rowid;
	r->n++;
	r->jobs = xreallocarray(r->jobs, r->njobs + 1, sizeof *r->jobs);
	memset(&r->jobs[r->njobs], 0, sizeof *r->jobs);
	r->jobs[r->njobs].rowid = j->rowid;
	memcpy(r->jobs[r->njobs].id, j->id, sizeof j->id);
	r->jobs[r->njobs].status = j->status;
	r->jobs[r->njobs].manifest = j->manifest;
	r->njobs++;
	return (0);
}

/*
 * After a crash or a stop: Preparing starts again, Cancelling and Pausing
 * finish (nothing is in flight after a restart).
 */
static void
server_recover(struct server *srv)
{
	struct server_recover	 r;
	struct job		 j;
	enum job_status		 to;
	char			*cause = NULL;
	uint32_t		 mask;
	size_t			 i;

	mask = 1U << JOB_PREPARING | 1U << JOB_CANCELLING | 1U << JOB_PAUSING;
	memset(&r, 0, sizeof r);
	r.srv = srv;
	do {
		r.n = 0;
		if (store_job_list(srv->store, mask, r.last, SERVER_LIST_PAGE,
		    server_recover_cb, &r, &cause) != 0)
			fatalx("recovery: %s", cause);
	} while (r.n == SERVER_LIST_PAGE);
	for (i = 0; i < r.njobs; i++) {
		switch (r.jobs[i].status) {
		case JOB_PREPARING:
			log_job(LOG_INFO, r.jobs[i].id, "preparing again after "
			    "a restart");
			worker_submit(srv->worker,
			    r.jobs[i].manifest == JOB_MANIFEST_CLONE ?
			    WORKER_CLONE : WORKER_PREPARE, r.jobs[i].id);
			continue;
		case JOB_CANCELLING:
			to = JOB_CANCELLED;
			break;
		case JOB_PAUSING:
			to = JOB_PAUSED;
			break;
		default:
			continue;
		}
		if (store_job_get(srv->store, r.jobs[i].id, &j, &cause) != 0 ||
		    store_job_transition(srv->store, &j, to, JOB_BY_DAEMON,
		    STORE_UID_DAEMON, "daemon restarted", &cause) != 0)
			fatalx("recovery of job %s: %s", r.jobs[i].id, cause);
		log_job(LOG_INFO, j.id, "now %s after a restart",
		    job_status_name(j.status));
		job_clear(&j);
	}
	free(r.jobs);
}

/* New jobs download their manifest from S3, or list their bucket, again. */
static void
server_fetch_new(struct server *srv)
{
	struct server_recover	 r;
	char			*cause = NULL;
	size_t			 i;

	memset(&r, 0, sizeof r);
	r.srv = srv;
	do {
		r.n = 0;
		if (store_job_list(srv->store, 1U << JOB_NEW, r.last,
		    SERVER_LIST_PAGE, server_recover_cb, &r, &cause) != 0) {
			log_warnx("%s", cause);
			free(cause);
			break;
		}
	} while (r.n == SERVER_LIST_PAGE);
	for (i = 0; i < r.njobs; i++) {
		if (r.jobs[i].manifest == JOB_MANIFEST_S3)
			fetch_start(srv, r.jobs[i].id);
		else if (r.jobs[i].manifest == JOB_MANIFEST_GENERATOR)
			generator_start(srv, r.jobs[i].id);
	}
	free(r.jobs);
}

int
server_init(struct server *srv, const char *cfg_path, struct cfg *cfg,
    int debug)
{
	struct event_config	*ec;
	char			*cause = NULL, *spool;
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
	xasprintf(&spool, "%s/spool", cfg->state_dir);
	if (server_mkdir(cfg->state_dir, &cause) != 0 ||
	    server_mkdir(spool, &cause) != 0) {
		free(spool);
		goto fail;
	}
	free(spool);
	if ((srv->store = store_open(cfg->state_dir, 0, &cause)) == NULL)
		goto fail;
	if ((srv->worker = worker_new(srv, &cause)) == NULL)
		goto fail;
	server_clean_spool(srv);
	server_recover(srv);
	server_timers(srv);
	if ((srv->s3 = s3_new(srv->base, cfg, &cause)) == NULL)
		goto fail;
	srv->sched = sched_new(srv, srv->s3);
	if ((srv->control = control_new(srv, &cause)) == NULL)
		goto fail;
	if (cfg->metrics_listen != NULL &&
	    (srv->metrics = metrics_new(srv, cfg->metrics_listen,
	    &cause)) == NULL)
		goto fail;
	sched_start(srv->sched);
	server_fetch_new(srv);

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

	control_free(srv->control);
	metrics_free(srv->metrics);
	fetch_free_all(srv);
	generator_free_all(srv);
	worker_free(srv->worker);
	sched_free(srv->sched);
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
