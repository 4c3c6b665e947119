/*
 * The durable job store behind a narrow interface (DESIGN.md §12): a
 * backend is a table of functions, so that a PostgreSQL backend can claim
 * tasks for several daemons without the operations changing. store.c holds
 * what is common (transitions with their audit records); store_sqlite.c is
 * the SQLite backend.
 *
 * Every function returns 0 on success and -1 with *cause set on failure;
 * lookups return 1 when nothing matched.
 */
#ifndef STORE_H
#define STORE_H

#include <sys/types.h>

#include <stdint.h>

#include "job.h"

struct json_object;

/* Task states as stored. */
enum task_state {
	TASK_PENDING = 0,
	TASK_RUNNING,		/* claimed by this daemon; pending after a crash */
	TASK_SUCCEEDED,
	TASK_FAILED
};

struct store_task {
	int64_t		 seq;		/* 1-based manifest order */
	const char	*bucket;
	const char	*key;
	size_t		 key_len;
	const char	*version_id;	/* NULL: none */
	const char	*etag;		/* NULL: not pinned yet */
	enum task_state	 state;
	int		 attempts;
	int		 http_status;
	const char	*result_code;
	const char	*result_message;
};

/*
 * An inventory configuration as stored: the canonical document
 * (inventory.h compiles it) and last_sched, the scheduled time (UTC
 * seconds) that the newest run was started for, or the creation time:
 * the next run is the first scheduled time after it.
 */
struct store_inv {
	const char	*bucket;
	const char	*id;
	const char	*doc;
	int64_t		 created_ms;
	int64_t		 updated_ms;
	int64_t		 last_sched;
};

enum store_inv_state {
	STORE_INV_RUNNING = 0,
	STORE_INV_SUCCEEDED,
	STORE_INV_FAILED
};

/* The job a finished report feeds (a configuration's JobTemplate). */
enum store_inv_job {
	STORE_INV_JOB_NONE = 0,
	STORE_INV_JOB_PENDING,		/* to be made: at start if not yet */
	STORE_INV_JOB_CREATED,		/* job_id */
	STORE_INV_JOB_REFUSED		/* job_error */
};

/* One inventory run. Strings are the caller's (or valid in a callback). */
struct store_inv_run {
	int64_t			 rowid;
	const char		*run_id;
	const char		*bucket;
	const char		*config_id;
	enum store_inv_state	 state;
	int64_t			 sched_time;	/* UTC seconds */
	const char		*trigger;	/* "schedule", "command", ... */
	int64_t			 start_ms;
	int64_t			 end_ms;	/* 0 while running */
	int64_t			 objects;
	int64_t			 rows;
	int64_t			 bytes;
	const char		*manifest_key;	/* Succeeded */
	const char		*error_code;	/* Failed */
	const char		*error;
	const char		*manifest_etag;	/* Succeeded */
	enum store_inv_job	 job_state;
	const char		*job_id;
	const char		*job_error;
	/* A JobFilter's selection beside the report (Succeeded). */
	const char		*selection_key;
	const char		*selection_etag;
	int64_t			 selection_rows;
};

/* Per configuration, from its runs (metrics). */
struct store_inv_stats {
	const char	*bucket;
	const char	*id;
	int64_t		 succeeded;
	int64_t		 failed;
	int64_t		 running;
	int64_t		 objects;	/* listed, all runs */
	int64_t		 rows;		/* written, all runs */
	int64_t		 last_success_ms;	/* 0: never */
	int64_t		 last_duration_ms;	/* the newest ended run's */
};

/*
 * Who asked for a change, for the audit trail: a local peer (its uid), an
 * API client (uid STORE_UID_API and its access key id), or the daemon
 * itself (STORE_DAEMON).
 */
struct store_actor {
	uid_t		 uid;
	const char	*key;		/* the API access key id, else NULL */
};
extern const struct store_actor	store_actor_daemon;
#define STORE_DAEMON	(&store_actor_daemon)

typedef int	(*store_inv_cb)(const struct store_inv *, void *);
typedef int	(*store_inv_stats_cb)(const struct store_inv_stats *, void *);
typedef int	(*store_inv_run_cb)(const struct store_inv_run *, void *);
typedef int	(*store_job_cb)(const struct job *, void *);
typedef int	(*store_task_cb)(const struct store_task *, void *);

struct store_backend {
	const char	*name;
	void		*(*open)(const char *, int, char **);
	void		 (*close)(void *);
	int		 (*begin)(void *, char **);
	int		 (*commit)(void *, char **);
	void		 (*rollback)(void *);
	/* Commits durable against power loss (1) or only against a crash. */
	int		 (*set_durable)(void *, int, char **);

	int		 (*job_insert)(void *, struct job *, char **);
	int		 (*job_update)(void *, const struct job *, char **);
	int		 (*job_get)(void *, const char *, struct job *, char **);
	int		 (*job_get_by_token)(void *, const char *, struct job *,
			     char **);
	/* In creation order, after the given rowid (0: from the start). */
	int		 (*job_list)(void *, uint32_t, int64_t, int,
			     store_job_cb, void *, char **);
	int		 (*job_delete)(void *, int64_t, char **);
	int		 (*job_counts)(void *, uint64_t [JOB_NSTATUS], char **);

	/* Tags as Amazon's [{"Key":..,"Value":..}] list. */
	int		 (*tags_get)(void *, int64_t, struct json_object **,
			     char **);
	int		 (*tags_set)(void *, int64_t, struct json_object *,
			     char **);

	int		 (*audit)(void *, const char *,
			     const struct store_actor *, const char *,
			     const char *, char **);

	int		 (*task_add)(void *, int64_t, const struct store_task *,
			     char **);
	int		 (*tasks_delete)(void *, int64_t, char **);
	/*
	 * Copy tasks into another job, as pending: all, or (failed_only)
	 * those that did not succeed, failed or never run.
	 */
	int		 (*tasks_clone)(void *, int64_t, int64_t, int,
			     uint64_t *, char **);
	int		 (*task_list)(void *, int64_t, int64_t, int, int,
			     store_task_cb, void *, char **);
	/* Pending tasks of a job after a position, in order. */
	int		 (*task_window)(void *, int64_t, int64_t, int,
			     store_task_cb, void *, char **);
	/* A task's final result (state, attempts, status, code, message). */
	int		 (*task_result)(void *, int64_t,
			     const struct store_task *, char **);
	/* A pending task's ETag, if it has none yet (a plan's HEAD). */
	int		 (*task_etag)(void *, int64_t, int64_t, const char *,
			     char **);
	/* The progress counters of a job, nothing else of its row. */
	int		 (*job_progress)(void *, const struct job *, char **);
	/* Tasks by state, counted (for recovery of progress counters). */
	int		 (*task_counts)(void *, int64_t, uint64_t [4], char **);

	/*
	 * Inventory configurations: put inserts or replaces the document (a
	 * replaced one keeps created_ms and last_sched); get and delete
	 * return 1 when there is none; list goes by bucket then id, after
	 * the given id (in one bucket, or in all when it is NULL). A
	 * callback returning nonzero stops the walk.
	 */
	int		 (*inv_put)(void *, const struct store_inv *, char **);
	int		 (*inv_get)(void *, const char *, const char *,
			     store_inv_cb, void *, char **);
	int		 (*inv_list)(void *, const char *, const char *, int,
			     store_inv_cb, void *, char **);
	int		 (*inv_delete)(void *, const char *, const char *,
			     char **);
	int		 (*inv_set_last)(void *, const char *, const char *,
			     int64_t, char **);
	/*
	 * Runs: update writes the outcome and the job's; list is newest
	 * first, by bucket, id, state and job_state (NULL or -1: any).
	 */
	int		 (*inv_run_insert)(void *, const struct store_inv_run *,
			     char **);
	int		 (*inv_run_update)(void *, const struct store_inv_run *,
			     char **);
	int		 (*inv_run_list)(void *, const char *, const char *, int,
			     int, int, store_inv_run_cb, void *, char **);
	/* One row per configuration, by bucket and id. */
	int		 (*inv_stats)(void *, store_inv_stats_cb, void *,
			     char **);
};

extern const struct store_backend store_sqlite_backend;

struct store {
	const struct store_backend	*backend;
	void				*impl;
};

#define STORE_READONLY	0x1

struct store	*store_open(const char *, int, char **);
void		 store_close(struct store *);
int		 store_begin(struct store *, char **);
int		 store_commit(struct store *, char **);
void		 store_rollback(struct store *);
int		 store_set_durable(struct store *, int, char **);

int		 store_job_insert(struct store *, struct job *,
		     const struct store_actor *, char **);
int		 store_job_get(struct store *, const char *, struct job *,
		     char **);
int		 store_job_get_by_token(struct store *, const char *,
		     struct job *, char **);
int		 store_job_list(struct store *, uint32_t, int64_t, int,
		     store_job_cb, void *, char **);
int		 store_job_counts(struct store *, uint64_t [JOB_NSTATUS],
		     char **);
/* Plain field updates (priority, progress); audited by the caller. */
int		 store_job_update(struct store *, const struct job *, char **);
/*
 * Move a job to another state if the table allows it for this actor,
 * stamping the times and writing the audit record, in one transaction
 * unless one is open. The job is updated in place.
 */
int		 store_job_transition(struct store *, struct job *,
		     enum job_status, int, const struct store_actor *,
		     const char *, char **);
int		 store_job_purge(struct store *, struct job *, char **);
int		 store_job_leave_new(struct store *, const char *, const char *,
		     const char *, char **);
int		 store_tags_get(struct store *, int64_t, struct json_object **,
		     char **);
int		 store_tags_set(struct store *, const struct job *,
		     struct json_object *, const struct store_actor *, char **);
int		 store_audit(struct store *, const char *,
		     const struct store_actor *, const char *,
		     const char *, char **);
int		 store_task_add(struct store *, int64_t,
		     const struct store_task *, char **);
int		 store_tasks_delete(struct store *, int64_t, char **);
int		 store_tasks_clone(struct store *, int64_t, int64_t, int,
		     uint64_t *, char **);
int		 store_task_list(struct store *, int64_t, int64_t, int, int,
		     store_task_cb, void *, char **);
int		 store_task_window(struct store *, int64_t, int64_t, int,
		     store_task_cb, void *, char **);
int		 store_task_result(struct store *, int64_t,
		     const struct store_task *, char **);
int		 store_task_etag(struct store *, int64_t, int64_t,
		     const char *, char **);
int		 store_job_progress(struct store *, const struct job *,
		     char **);
int		 store_task_counts(struct store *, int64_t, uint64_t [4],
		     char **);

/*
 * Inventory configurations and runs (see the backend's functions above).
 * put and delete write an audit record for the peer uid; run_start
 * inserts the run and moves the configuration's last_sched to its
 * scheduled time in one transaction (so a restart neither repeats nor
 * loses it); run_end records the outcome. The bucket or id of a list may
 * be NULL (all); state and job state -1 are every state; max -1 is no
 * limit.
 */
int		 store_inv_put(struct store *, const struct store_inv *,
		     const struct store_actor *,
		     char **);
int		 store_inv_get(struct store *, const char *, const char *,
		     store_inv_cb, void *, char **);
int		 store_inv_list(struct store *, const char *, const char *, int,
		     store_inv_cb, void *, char **);
int		 store_inv_delete(struct store *, const char *, const char *,
		     const struct store_actor *, char **);
int		 store_inv_run_start(struct store *, const struct store_inv_run *,
		     const struct store_actor *, char **);
int		 store_inv_run_end(struct store *, const struct store_inv_run *,
		     char **);
int		 store_inv_run_list(struct store *, const char *, const char *,
		     int, int, int, store_inv_run_cb, void *, char **);
/* The job of a finished run: made (job id) or refused (why). */
int		 store_inv_run_job(struct store *, const struct store_inv_run *,
		     char **);
int		 store_inv_stats(struct store *, store_inv_stats_cb, void *,
		     char **);
const char	*store_inv_state_name(enum store_inv_state);

/* The uids recorded for the daemon itself and for API clients. */
#define STORE_UID_DAEMON	((uid_t)-1)
#define STORE_UID_API		((uid_t)-2)

#endif /* STORE_H */
