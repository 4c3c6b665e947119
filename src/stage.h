/*
 * What every stage of a job's life reports when it ends (lifecycle.c
 * decides what follows; a stage never starts a sibling nor moves the job
 * to its next state). A stage has one entry, stage_X_start(..., done_cb,
 * arg), and one stop; stopping calls no callback.
 */
#ifndef STAGE_H
#define STAGE_H

/*
 * STAGE_RETRY: a local cause (the store or the spool could not be written,
 * a full disk) stopped the stage. Nothing is lost: the job stays in its
 * state and the lifecycle starts the stage again later; code
 * (STAGE_CODE_LOCAL) and reason say why.
 */
enum stage_status {
	STAGE_DONE,		/* its work is committed */
	STAGE_FAILED,		/* code and reason say why: the job fails */
	STAGE_STOPPED,		/* the job left the stage's state under it */
	STAGE_RETRY		/* a local cause: started again later */
};

/* The FailureCode shown while a job waits on a local cause. */
#define STAGE_CODE_LOCAL	"LocalStorageUnavailable"

struct stage_result {
	enum stage_status	 status;
	const char		*code;		/* STAGE_FAILED */
	const char		*reason;	/* STAGE_FAILED */
	const char		*text;		/* the plan's text, or NULL */
};

typedef void	(*stage_done_cb)(const char *, const struct stage_result *,
		    void *);

/* Report a stage that failed before it began (no state of its own yet). */
static inline void
stage_fail(stage_done_cb done_cb, const char *id, void *arg, const char *code,
    const char *reason)
{
	struct stage_result	res = { STAGE_FAILED, code, reason, NULL };

	done_cb(id, &res, arg);
}

#endif /* STAGE_H */
