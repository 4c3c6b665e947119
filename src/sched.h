/*
 * The scheduler (DESIGN.md §5): runs the tasks of Active jobs, highest
 * priority first and fairly among equals, under a global cap on tasks in
 * flight (endpoints cap their own connections in the HTTP layer). Tasks
 * come from the store in windows; results go back in group commits. It
 * moves jobs through Active, Pausing/Paused, Cancelling/Cancelled,
 * Failing/Failed and Completing/Complete, writing the completion report on
 * the way out.
 */
#ifndef SCHED_H
#define SCHED_H

#include <stddef.h>
#include <stdint.h>

struct server;
struct s3;

struct sched_stats {
	uint64_t	 inflight;
	uint64_t	 jobs;			/* tracked */
	uint64_t	 tasks_started;
	uint64_t	 tasks_succeeded;
	uint64_t	 tasks_failed;
	uint64_t	 commits;
};

struct sched	*sched_new(struct server *, struct s3 *);
void		 sched_free(struct sched *);
/* Take up every job that should run (at start, after recovery). */
void		 sched_start(struct sched *);
/* A job changed in the store: re-read it and act. */
void		 sched_job_changed(struct sched *, const char *);
/*
 * Stop starting tasks; let those in flight end within the drain time,
 * commit, then call done.
 */
void		 sched_drain(struct sched *, uint64_t, void (*)(void *),
		     void *);
void		 sched_stats(struct sched *, struct sched_stats *);
/* The in-memory counters of a job being run, if it is (for describe). */
int		 sched_job_inflight(struct sched *, const char *);

#endif /* SCHED_H */
