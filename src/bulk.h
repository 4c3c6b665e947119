/*
 * The bulk thread: one thread with its own store connection for the work
 * that would hold the event loop too long (a manifest read into tasks, a
 * clone's task copy, a completion report's files, a purge). Items run one
 * at a time in the order given. It knows nothing of jobs: the stages give
 * it functions.
 */
#ifndef BULK_H
#define BULK_H

struct event_base;
struct store;
struct bulk;

/* Open the thread's store connection on state_dir and start it. */
struct bulk	*bulk_new(struct event_base *, const char *, char **);
/*
 * Stop after the item running; then call the done of every item left,
 * run or not, so that it can free its arg (stop the work first).
 */
void		 bulk_free(struct bulk *);
/*
 * fn runs on the bulk thread with the thread's store connection, then
 * done runs on the loop. Both get arg.
 */
void		 bulk_run(struct bulk *, void (*)(struct store *, void *),
		     void (*)(void *), void *);
/* Whether the thread is being stopped (for long fns to give up early). */
int		 bulk_stopping(struct bulk *);
/* Items queued or running (for status). */
unsigned	 bulk_pending(struct bulk *);

#endif /* BULK_H */
