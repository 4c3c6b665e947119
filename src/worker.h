/*
 * The store worker: one thread with its own SQLite connection for the work
 * that would hold the event loop too long — reading a streamed manifest
 * into tasks, copying a job's tasks for clone-job, purging an expired job.
 */
#ifndef WORKER_H
#define WORKER_H

struct server;
struct store;
struct worker;

enum worker_kind {
	WORKER_PREPARE,		/* spool file -> tasks, then Suspended/Ready */
	WORKER_CLONE,		/* source job's tasks -> tasks */
	WORKER_PURGE,		/* delete a job and its tasks */
	WORKER_FN		/* worker_run */
};

struct worker	*worker_new(struct server *, char **);
/* Stop after the current item (remaining items redo at next start). */
void		 worker_free(struct worker *);
void		 worker_submit(struct worker *, enum worker_kind, const char *);
/*
 * Any other work: fn runs on the worker thread with the worker's store
 * connection, then done runs on the loop. Both get arg.
 */
void		 worker_run(struct worker *, void (*)(struct store *, void *),
		     void (*)(void *), void *);
/* Items queued or running (for status). */
unsigned	 worker_pending(struct worker *);
/* Where a job's streamed manifest is spooled until it is prepared. */
char		*worker_spool_path(const char *, const char *, int);

#endif /* WORKER_H */
