/*
 * Completion reports in Amazon's format (Report_CSV_20180820) and layout:
 * <Prefix>/job-<JobId>/results/<name>.csv files, one for succeeded and one
 * for failed tasks, and <Prefix>/job-<JobId>/manifest.json listing them with
 * their MD5 checksums. Also the same rows for `s3batchctl report`.
 *
 * Building the files reads every task: it runs on the store worker thread
 * (report_write). Uploading them runs on the loop (report_upload).
 */
#ifndef REPORT_H
#define REPORT_H

#include <stdint.h>

struct buf;
struct job;
struct s3;
struct store;
struct store_task;

enum report_scope {
	REPORT_ALL_TASKS,
	REPORT_FAILED_TASKS_ONLY
};

struct report_file {
	char		*path;		/* local file in the spool */
	char		*key;		/* object key in the report bucket */
	int		 failed;	/* TaskExecutionStatus failed/succeeded */
	uint64_t	 rows;
	uint64_t	 size;
	char		 md5[33];	/* hex */
};

struct report_files {
	struct report_file	 files[2];
	int			 nfiles;
	char			*bucket;	/* report bucket name */
	char			*prefix;	/* "<Prefix>/job-<id>" or "job-<id>" */
	uint64_t		 created_ms;
};

/* Report settings of a job spec; 0 if Report.Enabled is false. */
int	report_enabled(const struct job *);

/*
 * Worker thread: write the result files of a finished job into dir (the
 * spool), per its Report settings. -1 with *cause on failure.
 */
int	report_write(struct store *, const struct job *, const char *,
	    struct report_files *, char **);
void	report_files_free(struct report_files *);	/* unlinks the files */

/*
 * Loop: upload the files, then manifest.json; done_cb(cause or NULL). The
 * files must stay on disk until done_cb; the upload is freed when done_cb
 * returns (do not cancel it then). Cancelling calls no callback and aborts
 * a multipart upload in progress.
 */
typedef void	(*report_done_cb)(const char *, void *);
struct report_upload;
struct report_upload *report_upload(struct s3 *, const struct job *,
	    const struct report_files *, report_done_cb, void *);
void	report_upload_cancel(struct report_upload *);

/* One task as a report row (CSV, as Amazon writes it) or a JSON line. */
void	report_row_csv(struct buf *, const struct store_task *);
void	report_row_jsonl(struct buf *, const struct store_task *);
/* The manifest.json text for a set of files. */
char	*report_manifest_json(const struct report_files *);

#endif /* REPORT_H */
