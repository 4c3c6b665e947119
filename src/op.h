/*
 * Operations: one module per JobOperation behind one small interface —
 * compile the job's parameters once, run one task (a chain of S3 calls),
 * finish it with a result. The scheduler owns tasks; an operation only
 * sees the object and its own context.
 */
#ifndef OP_H
#define OP_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct json_object;
struct cfg;
struct s3;
struct s3_call;
struct s3_result;

/* One task being run. */
struct op_run {
	/* The object. */
	const char		*bucket;
	const char		*key;
	size_t			 key_len;
	const char		*version_id;	/* NULL: the current version */
	const char		*etag;		/* pinned; NULL: none yet */
	const char		*role_arn;	/* the job's, for credentials */
	const char		*job_id;	/* LambdaInvoke's job.id */
	/* The job's compiled parameters (from op_def.compile). */
	void			*ctx;
	struct s3		*s3;
	/* Held (cfg_ref) for the task's life: a reload cannot free it. */
	struct cfg		*cfg;
	/* The operation's own state for this task. */
	void			*state;
	/* The job's plan state (op_def.plan_new) while planning; else NULL. */
	void			*plan;
	/* The call in flight, so that a stop can cancel it. */
	struct s3_call		*call;
	int			 attempts;	/* HTTP attempts, all calls */
	char			*recorded_etag;	/* the first touch's ETag */
	/* Set by the scheduler. */
	void			 (*done)(struct op_run *, enum task_state, int,
				     const char *, const char *);
	void			*owner;
};

struct op_def {
	const char	*name;		/* the JobOperation member */
	int		 flags;
#define OP_CONFIRM	0x1	/* always confirmed by a person first */
#define OP_AT_LEAST_ONCE 0x2	/* a task cut short by a crash may run twice */
	/* Check and compile Operation.<name>; the whole spec for context. */
	int		 (*compile)(struct json_object *, struct json_object *,
			     void **, char **);
	void		 (*free)(void *);
	/* Start a task; it ends with op_finish (maybe before returning). */
	void		 (*start)(struct op_run *);
	/* Free op-specific task state after a cancel. */
	void		 (*cancel)(struct op_run *);
	/*
	 * The plan (optional; NULL: none): a pass over every task while the
	 * job is still Preparing, before it is Suspended or Ready, run by the
	 * scheduler under the same limits as the tasks themselves (the
	 * S3DeleteObject dry run). plan_new makes the job's plan state from
	 * its compiled ctx; plan_task runs one task's part (run->plan is that
	 * state) and ends with op_finish like start, but its result is not
	 * the task's: the task stays pending and only the ETag it recorded is
	 * kept as the task's; plan_text is the SuspendedCause it leads to.
	 */
	void		*(*plan_new)(void *);
	void		 (*plan_task)(struct op_run *);
	char		*(*plan_text)(void *);
	void		 (*plan_free)(void *);
};

const struct op_def	*op_find(const char *);

/* End a task: SUCCEEDED with an optional message, or FAILED with S3's error. */
void		 op_finish(struct op_run *, enum task_state, int, const char *,
		     const char *);
void		 op_succeed(struct op_run *, int, const char *);
/* Fail from a call's result (its status, code and message). */
void		 op_fail_result(struct op_run *, const struct s3_result *);
void		 op_fail(struct op_run *, int, const char *, const char *, ...)
		     __attribute__((__format__(__printf__, 4, 5)));
/* Count a call's attempts; remember the first ETag seen. */
void		 op_account(struct op_run *, const struct s3_result *);

/*
 * The ETag check of DESIGN.md §4: the ETag this task must see, the pinned
 * one or the one the first touch recorded; NULL when neither is known.
 */
const char	*op_expected_etag(const struct op_run *);
/*
 * A request (METHOD, zeroed otherwise) for the task's object: its bucket,
 * key, version and the job's role; the caller adds query and headers.
 */
struct s3_request;
void		 op_request(const struct op_run *, struct s3_request *,
		     const char *);
/* A HEAD of the task's object (versioned), If-Match on a known ETag. */
struct s3_call	*op_head(struct op_run *, void (*)(const struct s3_result *,
		     void *));

/*
 * op-copy.c's engine, shared with S3UpdateObjectEncryption (op-encrypt.c):
 * op_copy_reencrypt_new makes the compiled ctx of an in-place copy that
 * changes only the encryption to SSE-KMS with a key id (and the bucket
 * key on or off), run by op_copy_start and freed by op_copy_free like a
 * copy's. The source must be encrypted (SSE-S3 or SSE-KMS) or the task
 * fails 400 InvalidRequest; one already as asked succeeds untouched.
 */
void		*op_copy_reencrypt_new(const char *, int);
void		 op_copy_free(void *);
void		 op_copy_start(struct op_run *);
void		 op_copy_cancel(struct op_run *);

extern const struct op_def op_put_tagging;
extern const struct op_def op_delete_tagging;
extern const struct op_def op_copy;
extern const struct op_def op_replicate;	/* op-replicate.c */
extern const struct op_def op_delete;	/* op-delete.c */
extern const struct op_def op_compute_checksum;
extern const struct op_def op_restore;
extern const struct op_def op_lambda;
extern const struct op_def op_update_encryption;	/* op-encrypt.c */
/*
 * op-acl.c, op-lock.c: S3PutObjectAcl, S3PutObjectRetention and
 * S3PutObjectLegalHold are one PUT ?<subresource> each; their compiled
 * ctx is a struct op_subres, run by op-lock.c's op_subres_* functions.
 */
struct op_subres {
	const char	*query;		/* "acl", "retention", "legal-hold" */
	const char	*what;		/* for messages: "ACL", ... */
	char		*header;	/* one header or NULL (x-amz-acl, ...) */
	char		*value;
	char		*body;		/* NULL: none */
	size_t		 body_len;
};
void		 op_subres_free(void *);
void		 op_subres_start(struct op_run *);
void		 op_subres_cancel(struct op_run *);
extern const struct op_def op_put_acl;
extern const struct op_def op_put_retention;
extern const struct op_def op_put_legal_hold;

#endif /* OP_H */
