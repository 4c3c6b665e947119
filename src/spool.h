/*
 * The spool: <state_dir>/spool holds a job's manifest from the moment it
 * arrives until its tasks are stored (the job has left Preparing), and the
 * report's result files while they are uploaded. This module owns its
 * layout: nothing else builds a spool path.
 *
 *	<id>.csv		a streamed or downloaded CSV manifest
 *	<id>.csv.part		the same while it is being written
 *	<id>.manifest.json	an inventory report's manifest.json
 *	<id>.data.<N>.gz	its data files (downloaded or generated)
 *	<id>-report-*.csv	a completion report's result files (report_write
 *				names them inside spool_dir)
 *
 * The generator's GeneratedManifestDescriptor outlives the spool (it is
 * shown by describe-job until the job is purged): <state_dir>/generated/
 * <id>.json, also named here.
 */
#ifndef SPOOL_H
#define SPOOL_H

#include <stddef.h>

struct store;

/* Create the state directory, the spool and the descriptors' directory. */
int	 spool_init(const char *, char **);
char	*spool_dir(const char *);
char	*spool_csv_path(const char *, const char *, int);	/* 1: .part */
char	*spool_inventory_json_path(const char *, const char *);
char	*spool_inventory_data_path(const char *, const char *, size_t);
char	*spool_descriptor_path(const char *, const char *);
/* Remove every spool file of a job (not its descriptor). */
void	 spool_remove(const char *, const char *);
/* Remove a job's descriptor (the job is purged). */
void	 spool_forget(const char *, const char *);
/*
 * At start: remove what no job will read again — partial files, and the
 * files of jobs that are gone or are no longer New or Preparing.
 */
void	 spool_clean(const char *, struct store *);

/*
 * A manifest streamed in (create-job with a local manifest): written to
 * <id>.csv.part (0600), made durable and renamed to <id>.csv by commit;
 * abort removes it. Both free the writer.
 */
struct spool_writer;
struct spool_writer *spool_writer_open(const char *, const char *, char **);
int	 spool_writer_write(struct spool_writer *, const void *, size_t,
	    char **);
int	 spool_writer_commit(struct spool_writer *, char **);
void	 spool_writer_abort(struct spool_writer *);

#endif /* SPOOL_H */
