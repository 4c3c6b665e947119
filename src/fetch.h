/*
 * Manifests on S3 (Manifest.Location): the daemon downloads the manifest
 * object — or an inventory report's manifest.json and every data file it
 * lists — into the spool, checking the ETag the job names before anything
 * else, then hands the job to the store worker to prepare like a streamed
 * manifest. A job waits in New while its manifest downloads.
 */
#ifndef FETCH_H
#define FETCH_H

struct server;
struct fetch;

/* Download the manifest of a New job whose manifest is on S3. */
void	fetch_start(struct server *, const char *);
/* Cancel every download (at shutdown; New jobs fetch again at start). */
void	fetch_free_all(struct server *);
/* Spool names of an inventory job's files. */
char	*fetch_inventory_json_path(const char *, const char *);
char	*fetch_inventory_file_path(const char *, const char *, size_t);

#endif /* FETCH_H */
