/*
 * The scheduler (DESIGN.md §5): the run stage and the plan stage of a job.
 *
 * Run: the tasks of Active jobs, highest priority first and fairly among
 * equals, under a global cap on tasks in flight (endpoints cap their own
 * connections and request rate in the HTTP layer). Tasks come from the
 * store in windows; results go back in group commits. It moves a job
 * Ready -> Active and out of the run stage (Paused, Cancelled, Completing,
 * Failing), then tells the lifecycle through left_cb; it never decides
 * what follows (the report, the terminal state).
 *
 * Plan: op_def.plan_task over every task of a Preparing job, read and
 * started like a run under the same limits; the tasks stay pending and
 * only the ETags they recorded are kept.
 *
 * It knows the daemon only through struct sched_env, so that the unit
 * tests can run it with a stand-in operation and no server.
 */
#ifndef SCHED_H
#define SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "job.h"
#include "stage.h"

struct event_base;
struct store;
struct cfg;
struct s3;
struct op_def;

struct sched_env {
	struct event_base	*base;
	struct store		*store;		/* the loop's connection */
	struct cfg		**cfg;		/* the current one; reload swaps */
	struct s3		*s3;
	const struct op_def	*(*op_find)(const char *);
	/* A job left the run stage: Paused, Cancelled, Completing, Failing. */
	void			 (*left_cb)(const char *, enum job_status,
				     void *);
	void			*arg;
};

struct sched_stats {
	uint64_t	 inflight;
	uint64_t	 jobs;			/* tracked */
	uint64_t	 tasks_started;
	uint64_t	 tasks_succeeded;
	uint64_t	 tasks_failed;
	uint64_t	 commits;
	/*
	 * Outages (docs/OUTAGES.md). Waiting: tasks in flight whose call is
	 * held by an endpoint's open breaker (s3_endpoint_state() has them
	 * per endpoint). Requeued: tasks that ended unable to reach their
	 * endpoint and went back to pending, uncounted (cumulative).
	 */
	uint64_t	 tasks_waiting;
	uint64_t	 tasks_requeued;
	/* Group commits failing (disk full): no task starts meanwhile. */
	uint64_t	 results_buffered;
	int		 commit_failing;
	/* Jobs whose time window (tag s3batchd:window) holds them now. */
	uint64_t	 jobs_held_by_window;
};

struct sched	*sched_new(const struct sched_env *);
void		 sched_free(struct sched *);
/* The configuration changed: look at the jobs' time windows again. */
void		 sched_reload(struct sched *);
/*
 * A job changed in the store: re-read it and act (take up a Ready job,
 * follow a priority change, pause or cancel one it runs).
 */
void		 sched_job_changed(struct sched *, const char *);
/*
 * Stop starting tasks; let those in flight end within the drain time,
 * commit, then call done.
 */
void		 sched_drain(struct sched *, uint64_t, void (*)(void *),
		     void *);
void		 sched_stats(struct sched *, struct sched_stats *);
/*
 * The plan stage of a Preparing job whose operation has a plan: ends with
 * done_cb (text: the plan's SuspendedCause), maybe before returning.
 * Stopping calls no callback; the plan runs again from the start.
 */
void		 sched_plan_start(struct sched *, const char *, stage_done_cb,
		     void *);
void		 sched_plan_stop(struct sched *, const char *);

#endif /* SCHED_H */
