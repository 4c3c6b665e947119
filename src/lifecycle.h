/*
 * The job lifecycle: the one place where a job's next stage is decided,
 * from its stored state (DESIGN.md §2, §13):
 *
 *	New (S3 manifest)	fetch	 --done-->  Preparing
 *	New (generator)		generate --done-->  Preparing
 *	Preparing		prepare (clone: the source's tasks)
 *				  --done--> plan, if the operation has one
 *				  --done--> Suspended (confirmation required,
 *					    or the operation's OP_CONFIRM) or
 *					    Ready
 *	Ready, Active, Pausing,	run (the scheduler) --left--> Paused,
 *	Cancelling		  Cancelled, Completing or Failing
 *	Completing, Failing	report	 --done-->  Complete or Failed
 *	Suspended, Paused,	nothing (a person or a timer moves them)
 *	  terminal
 *
 * A stage that fails fails the job with its code and reason. Cancelling
 * with no stage running ends as Cancelled, Pausing as Paused. Each stage
 * is started here, reports back here, and never starts a sibling; whoever
 * changes a job (the control commands, the timers, a stage's end) calls
 * lifecycle_advance and nothing else. The job timers (confirm_timeout,
 * job_retention) live here too.
 */
#ifndef LIFECYCLE_H
#define LIFECYCLE_H

#include <sys/types.h>

#include "job.h"

struct core;
struct lifecycle;
struct sched;
struct store;
struct store_actor;

/* Make the lifecycle, its scheduler and its timers. */
struct lifecycle *lifecycle_new(struct core *);
/* Stop every stage (a restart resumes them); free the scheduler. */
void		 lifecycle_free(struct lifecycle *);
/* A job changed (or may move on): start its next stage if not running. */
void		 lifecycle_advance(struct lifecycle *, const char *);
/*
 * At start, nothing runs: Pausing becomes Paused, Cancelling Cancelled,
 * leftover spool files go, then every other non-terminal job advances.
 */
void		 lifecycle_recover(struct lifecycle *);
/* The configuration changed: re-arm the timers on its interval. */
void		 lifecycle_reload(struct lifecycle *);
/*
 * Why a job waits to start its stage again (a local cause such as a full
 * disk, or a report not yet uploaded), or NULL: the reason, and its code in
 * *code, both valid until the job next advances. Not stored: describe-job
 * adds it to the job's FailureReasons.
 */
const char	*lifecycle_waiting(struct lifecycle *, const char *,
		     const char **);
/*
 * s3batchctl retry-report, for an actor: write the report of a job that
 * failed with ReportFailed again, or now if it waits for its next attempt.
 * 0 started, 1 no such job, 2 the job's report did not fail (*cause says
 * why), -1 the store failed.
 */
int		 lifecycle_retry_report(struct lifecycle *, const char *,
		     const struct store_actor *, char **);
/*
 * A new job (in memory, New) from a checked CreateJob request, as every
 * way of making one does: create-job, clone-job, an inventory's template.
 * Operations that always wait for a person (OP_CONFIRM) get
 * ConfirmationRequired whatever the request says. The caller stores it.
 */
struct json_object;
void		 lifecycle_job_init(struct job *, struct json_object *,
		     enum job_manifest);
/* A request as stored in a job's spec: the text idempotency compares. */
const char	*lifecycle_spec_text(struct json_object *);
/*
 * Idempotency on the request's ClientRequestToken: 1 when it has none or
 * no job was made under it; 0 when this same request made job id; 2 when
 * another request used the token (*cause says which job); -1 when the
 * store could not be read (*cause).
 */
int		 lifecycle_job_by_token(struct store *, struct json_object *,
		     char [37], char **);
/*
 * Create a job, for an actor, from a CreateJob request whose Manifest is on
 * S3 (not streamed), as create-job does: checked by jobcheck_create,
 * idempotent on its ClientRequestToken (the same request again gives the
 * first job's id; another request under the token is refused), stored New
 * with its tags, then advanced. 0 with id, -1 with *cause.
 */
int		 lifecycle_create_job(struct lifecycle *, struct json_object *,
		     const struct store_actor *, char [37], char **);
/* The run stage, for drain, stats and describe. */
struct sched	*lifecycle_sched(struct lifecycle *);

#endif /* LIFECYCLE_H */
