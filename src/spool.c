/*
 * The spool's layout and its cleanup. Files are named after their job's id
 * (36 characters) followed by a dot, so that a job's files are found by
 * their prefix; anything else (a report's files, which only live while they
 * upload) is a leftover at start.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "s3batchd.h"
#include "job.h"
#include "spool.h"
#include "store.h"

#define SPOOL_ID_LEN	36

struct spool_writer {
	char	*part;
	char	*path;
	int	 fd;
};

static int
spool_mkdir(const char *path, char **cause)
{
	if (mkdir(path, 0750) == -1 && errno != EEXIST) {
		xasprintf(cause, "cannot create %s: %s", path, strerror(errno));
		return (-1);
	}
	return (0);
}

int
spool_init(const char *state_dir, char **cause)
{
	char	*dir;
	int	 r;

	if (spool_mkdir(state_dir, cause) != 0)
		return (-1);
	dir = spool_dir(state_dir);
	r = spool_mkdir(dir, cause);
	free(dir);
	if (r != 0)
		return (-1);
	xasprintf(&dir, "%s/generated", state_dir);
	r = spool_mkdir(dir, cause);
	free(dir);
	return (r);
}

char *
spool_dir(const char *state_dir)
{
	char	*path;

	xasprintf(&path, "%s/spool", state_dir);
	return (path);
}

char *
spool_csv_path(const char *state_dir, const char *id, int partial)
{
	char	*path;

	xasprintf(&path, "%s/spool/%s.csv%s", state_dir, id,
	    partial ? ".part" : "");
	return (path);
}

char *
spool_inventory_json_path(const char *state_dir, const char *id)
{
	char	*path;

	xasprintf(&path, "%s/spool/%s.manifest.json", state_dir, id);
	return (path);
}

char *
spool_inventory_data_path(const char *state_dir, const char *id, size_t i)
{
	char	*path;

	xasprintf(&path, "%s/spool/%s.data.%zu.gz", state_dir, id, i);
	return (path);
}

char *
spool_descriptor_path(const char *state_dir, const char *id)
{
	char	*path;

	xasprintf(&path, "%s/generated/%s.json", state_dir, id);
	return (path);
}

/* A spool file's job id, or -1 if the name is not one of ours. */
static int
spool_name_id(const char *name, char id[SPOOL_ID_LEN + 1])
{
	if (strlen(name) <= SPOOL_ID_LEN + 1 || name[SPOOL_ID_LEN] != '.')
		return (-1);
	memcpy(id, name, SPOOL_ID_LEN);
	id[SPOOL_ID_LEN] = '\0';
	return (0);
}

void
spool_remove(const char *state_dir, const char *id)
{
	struct dirent	*de;
	DIR		*d;
	char		*dir, *path, fid[SPOOL_ID_LEN + 1];

	dir = spool_dir(state_dir);
	if ((d = opendir(dir)) == NULL) {
		free(dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (spool_name_id(de->d_name, fid) != 0 ||
		    strcmp(fid, id) != 0)
			continue;
		xasprintf(&path, "%s/%s", dir, de->d_name);
		if (unlink(path) == -1 && errno != ENOENT)
			log_warn("spool: unlink %s", path);
		free(path);
	}
	closedir(d);
	free(dir);
}

void
spool_forget(const char *state_dir, const char *id)
{
	char	*path;

	path = spool_descriptor_path(state_dir, id);
	if (unlink(path) == -1 && errno != ENOENT)
		log_warn("spool: unlink %s", path);
	free(path);
}

/* Whether a file names a job that will read it again (New or Preparing). */
static int
spool_wanted(struct store *st, const char *name)
{
	struct job	 j;
	char		 id[SPOOL_ID_LEN + 1], *cause = NULL;
	size_t		 len = strlen(name);
	int		 keep = 0;

	/* A .part never completes after a restart: its writer is gone. */
	if (len >= 5 && strcmp(name + len - 5, ".part") == 0)
		return (0);
	if (spool_name_id(name, id) != 0)
		return (0);
	switch (store_job_get(st, id, &j, &cause)) {
	case 0:
		keep = j.status == JOB_NEW || j.status == JOB_PREPARING;
		job_clear(&j);
		break;
	case -1:
		/* Not known to be unwanted: never guess a manifest away. */
		log_warnx("spool: keeping %s: %s", name, cause);
		keep = 1;
		break;
	}
	free(cause);
	return (keep);
}

void
spool_clean(const char *state_dir, struct store *st)
{
	struct dirent	*de;
	DIR		*d;
	char		*dir, *path;

	dir = spool_dir(state_dir);
	if ((d = opendir(dir)) == NULL) {
		free(dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || spool_wanted(st, de->d_name))
			continue;
		xasprintf(&path, "%s/%s", dir, de->d_name);
		log_info("removing leftover spool file %s", path);
		unlink(path);
		free(path);
	}
	closedir(d);
	free(dir);
}

static void
spool_writer_free(struct spool_writer *w)
{
	if (w->fd != -1)
		close(w->fd);
	free(w->part);
	free(w->path);
	free(w);
}

struct spool_writer *
spool_writer_open(const char *state_dir, const char *id, char **cause)
{
	struct spool_writer	*w;

	w = xcalloc(1, sizeof *w);
	w->part = spool_csv_path(state_dir, id, 1);
	w->path = spool_csv_path(state_dir, id, 0);
	w->fd = open(w->part, O_WRONLY|O_CREAT|O_EXCL|O_CLOEXEC, 0600);
	if (w->fd == -1) {
		xasprintf(cause, "cannot spool the manifest: %s",
		    strerror(errno));
		spool_writer_free(w);
		return (NULL);
	}
	return (w);
}

int
spool_writer_write(struct spool_writer *w, const void *data, size_t len,
    char **cause)
{
	if (io_write_all(w->fd, data, len) != 0) {
		xasprintf(cause, "cannot spool the manifest: %s",
		    strerror(errno));
		return (-1);
	}
	return (0);
}

static int
spool_fsync_dir(const char *path)
{
	char	*dir, *slash;
	int	 fd, r;

	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	if ((fd = open(dir, O_RDONLY|O_DIRECTORY|O_CLOEXEC)) == -1) {
		free(dir);
		return (-1);
	}
	r = fsync(fd);
	close(fd);
	free(dir);
	return (r);
}

int
spool_writer_commit(struct spool_writer *w, char **cause)
{
	/* The reply promises a durable manifest: file, name, directory. */
	if (fsync(w->fd) == -1 || rename(w->part, w->path) == -1 ||
	    spool_fsync_dir(w->path) == -1) {
		xasprintf(cause, "cannot keep the manifest in %s: %s",
		    w->path, strerror(errno));
		unlink(w->part);
		unlink(w->path);
		spool_writer_free(w);
		return (-1);
	}
	spool_writer_free(w);
	return (0);
}

void
spool_writer_abort(struct spool_writer *w)
{
	unlink(w->part);
	spool_writer_free(w);
}
