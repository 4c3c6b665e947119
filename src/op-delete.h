/*
 * S3DeleteObject (an extension, docs/operations/S3DeleteObject.md): the
 * operation and its dry run are op_delete in op.h (the plan hooks). This
 * header is the dry run's count, for its unit tests: what one task's HEAD
 * said the delete would do, counted into a plan made by op_delete.plan_new;
 * op_delete.plan_text then says what the job would delete.
 */
#ifndef OP_DELETE_H
#define OP_DELETE_H

#define OP_DELETE_BUCKETS	64	/* buckets counted one by one */

enum op_delete_seen {
	OP_DELETE_DELETABLE,	/* there, the ETag matches, not locked */
	OP_DELETE_MARKER,	/* ... deleted by a delete marker */
	OP_DELETE_CHANGED,	/* 412 on the pinned ETag */
	OP_DELETE_MISSING,	/* 404 (or 405: a delete marker) */
	OP_DELETE_LOCKED,	/* Object Lock forbids it */
	OP_DELETE_UNCHECKED,	/* another error; code: "403 AccessDenied" */
};

/* Count one task of the bucket; code only with OP_DELETE_UNCHECKED. */
void	 op_delete_plan_count(void *, const char *, enum op_delete_seen,
	     const char *);

#endif /* OP_DELETE_H */
