/*
 * Jobs: Amazon's 13 states, the one table of transitions between them, the
 * timers, and the JSON shapes describe-job and list-jobs return.
 */
#ifndef JOB_H
#define JOB_H

#include <stdint.h>

struct json_object;
struct cfg;

/* Amazon's JobStatus enum. */
enum job_status {
	JOB_NEW = 0,
	JOB_PREPARING,
	JOB_SUSPENDED,
	JOB_READY,
	JOB_ACTIVE,
	JOB_PAUSING,
	JOB_PAUSED,
	JOB_COMPLETING,
	JOB_COMPLETE,
	JOB_FAILING,
	JOB_FAILED,
	JOB_CANCELLING,
	JOB_CANCELLED,
	JOB_NSTATUS
};

/* Who may cause a transition. */
#define JOB_BY_USER	0x1	/* update-job-status */
#define JOB_BY_DAEMON	0x2	/* preparation, scheduler, timers, recovery */

/* Where a job's tasks come from. */
enum job_manifest {
	JOB_MANIFEST_LOCAL = 0,		/* streamed by s3batchctl */
	JOB_MANIFEST_S3,		/* Manifest.Location on S3 */
	JOB_MANIFEST_GENERATOR,		/* ManifestGenerator */
	JOB_MANIFEST_CLONE		/* tasks copied from another job */
};

struct job {
	int64_t		 rowid;
	char		 id[37];
	enum job_status	 status;
	int64_t		 priority;
	int		 confirmation_required;
	enum job_manifest manifest;
	char		*description;
	char		*operation;	/* e.g. "S3PutObjectTagging" */
	char		*spec;		/* the CreateJob request as accepted */
	char		*client_token;
	char		*status_reason;
	/*
	 * The latest failure reason (job_add_failure) and, as a JSON array of
	 * {FailureCode, FailureReason}, the ones before it.
	 */
	char		*failure_code;
	char		*failure_reason;
	char		*failure_earlier;
	char		*suspended_cause;
	char		*source_job;	/* clone-job: where the tasks came from */
	int		 source_failed_only;
	uint64_t	 created_ms;
	uint64_t	 status_ms;	/* when status last changed */
	uint64_t	 suspended_ms;
	uint64_t	 terminated_ms;
	uint64_t	 total_tasks;
	uint64_t	 succeeded;
	uint64_t	 failed;
	uint64_t	 active_ms;	/* time spent Active, accumulated */
};

const char	*job_status_name(enum job_status);
int		 job_status_parse(const char *, enum job_status *);
int		 job_status_terminal(enum job_status);
/* Whether from -> to is in the table for this actor. */
int		 job_transition_allowed(enum job_status, enum job_status, int);
/*
 * What update-job-status with RequestedJobStatus does from the current
 * state: 0 and *next, or -1 with *cause as Amazon's JobStatusException says.
 */
int		 job_user_request(enum job_status, const char *,
		     enum job_status *, char **);

/* Timers, from stored times only so they hold across restarts. */
enum job_timer {
	JOB_TIMER_NONE = 0,
	JOB_TIMER_CONFIRM_EXPIRED,	/* Suspended too long: fail it */
	JOB_TIMER_PURGE			/* terminal too long: delete it */
};
enum job_timer	 job_timer_due(const struct job *, uint64_t, uint64_t,
		     uint64_t);
/* When the next timer of this job fires (0: none). */
uint64_t	 job_timer_next(const struct job *, uint64_t, uint64_t);

void		 job_clear(struct job *);

/*
 * FailureReasons keep every reason, oldest first: a threshold failure
 * followed by a report failure shows both. job_add_failure records a
 * reason (a code already recorded gets the newer text, in its place);
 * job_drop_failure forgets a code (a report written after all);
 * job_has_failure says whether a code is recorded.
 */
void		 job_add_failure(struct job *, const char *, const char *);
void		 job_drop_failure(struct job *, const char *);
int		 job_has_failure(const struct job *, const char *);
/* All the reasons as Amazon's FailureReasons array (a new reference). */
struct json_object *job_failures(const struct job *);

/* {"Job":{...}} and one element of {"Jobs":[...]}, in Amazon's shapes. */
struct json_object *job_descriptor(const struct job *, const char *);
struct json_object *job_list_descriptor(const struct job *);
char		*job_arn(const struct job *, const char *);

#endif /* JOB_H */
