/*
 * S3DeleteObject (an extension, docs/operations/S3DeleteObject.md): the
 * operation itself is op_delete in op.h; this header is its dry run, which
 * the store worker runs on a delete job's tasks after reading the manifest
 * and before the job is Suspended for confirmation. The dry run HEADs every
 * task's object, records the ETag it sees as the task's ETag (so that the
 * delete later acts only on that object), and counts what would be deleted.
 */
#ifndef OP_DELETE_H
#define OP_DELETE_H

#include <stdint.h>

struct job;
struct store;

#define OP_DELETE_NAME		"S3DeleteObject"
#define OP_DELETE_BUCKETS	64	/* buckets counted one by one */

struct op_delete_bucket {
	char		*name;
	uint64_t	 tasks;
	uint64_t	 deletable;
};

struct op_delete_survey {
	uint64_t		 tasks;
	uint64_t		 deletable;	/* exist, match, not locked */
	uint64_t		 markers;	/* ... of which by delete marker */
	uint64_t		 changed;	/* 412 on the pinned ETag */
	uint64_t		 missing;	/* 404 */
	uint64_t		 locked;	/* retention or legal hold */
	uint64_t		 unchecked;	/* another error */
	char			*unchecked_code;	/* the first one's */
	struct op_delete_bucket	 buckets[OP_DELETE_BUCKETS];
	size_t			 nbuckets;
	int			 more_buckets;	/* over OP_DELETE_BUCKETS */
	char			*failed;	/* why the dry run stopped */
};

/* Whether a job's operation is S3DeleteObject. */
int	 op_delete_is(const char *);
/*
 * Run the dry run on a job's tasks with a private event loop and S3 client
 * (configuration read from cfg_path), writing the ETags it records through
 * the given store in batches. still(arg) is asked after every batch whether
 * the job may go on (0: it was cancelled). *stop, read atomically, asks the
 * dry run to stop (the daemon is stopping). Returns 0 when it ran through,
 * 1 when still() or *stop stopped it, -1 with *cause on a store failure.
 * S3 failures are counted per task, not returned; a dry run that cannot
 * start (no configuration) says why in survey->failed and returns 0.
 */
int	 op_delete_survey(struct store *, const char *, const struct job *,
	     const int *, int (*)(void *), void *, struct op_delete_survey *,
	     char **);
/* The SuspendedCause text: what would be deleted, how to confirm. */
char	*op_delete_survey_text(const struct op_delete_survey *);
void	 op_delete_survey_free(struct op_delete_survey *);

#endif /* OP_DELETE_H */
