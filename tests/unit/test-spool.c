/*
 * Unit tests for spool.c: the layout, the streamed-manifest writer (durable
 * rename, abort), removing a job's files, and the cleanup at start that
 * keeps only the files of New and Preparing jobs.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "s3batchd.h"
#include "job.h"
#include "spool.h"
#include "store.h"
#include "unit.h"

static int
exists(const char *path)
{
	struct stat	sb;

	return (stat(path, &sb) == 0);
}

static void
touch(const char *path)
{
	int	fd;

	if ((fd = open(path, O_WRONLY|O_CREAT|O_TRUNC, 0600)) == -1)
		fatal("open %s", path);
	close(fd);
}

static size_t
count_files(const char *dir)
{
	struct dirent	*de;
	DIR		*d;
	size_t		 n = 0;

	if ((d = opendir(dir)) == NULL)
		return (0);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.')
			n++;
	}
	closedir(d);
	return (n);
}

static void
test_paths(void)
{
	const char	*id = "0a1b2c3d-0000-4000-8000-000000000000";
	char		*p;

	p = spool_csv_path("/s", id, 0);
	CHECK_STR(p, "/s/spool/0a1b2c3d-0000-4000-8000-000000000000.csv");
	free(p);
	p = spool_csv_path("/s", id, 1);
	CHECK_STR(p, "/s/spool/0a1b2c3d-0000-4000-8000-000000000000.csv.part");
	free(p);
	p = spool_inventory_json_path("/s", id);
	CHECK_STR(p, "/s/spool/0a1b2c3d-0000-4000-8000-000000000000."
	    "manifest.json");
	free(p);
	p = spool_inventory_data_path("/s", id, 3);
	CHECK_STR(p, "/s/spool/0a1b2c3d-0000-4000-8000-000000000000.data.3.gz");
	free(p);
	p = spool_descriptor_path("/s", id);
	CHECK_STR(p, "/s/generated/0a1b2c3d-0000-4000-8000-000000000000.json");
	free(p);
}

static void
test_writer(const char *dir)
{
	struct spool_writer	*w;
	struct stat		 sb;
	char			 id[37], *path, *part, *cause = NULL, buf[16];
	int			 fd;

	uuid_generate_v4(id);
	path = spool_csv_path(dir, id, 0);
	part = spool_csv_path(dir, id, 1);
	w = spool_writer_open(dir, id, &cause);
	CHECK(w != NULL);
	CHECK(exists(part) && !exists(path));
	CHECK_INT(spool_writer_write(w, "b,k1\n", 5, &cause), 0);
	CHECK_INT(spool_writer_write(w, "b,k2\n", 5, &cause), 0);
	CHECK_INT(spool_writer_commit(w, &cause), 0);
	CHECK(exists(path) && !exists(part));
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	fd = open(path, O_RDONLY);
	CHECK_INT(io_read_full(fd, buf, sizeof buf), 10);
	CHECK(memcmp(buf, "b,k1\nb,k2\n", 10) == 0);
	close(fd);
	spool_remove(dir, id);
	CHECK(!exists(path));
	free(path);
	free(part);

	uuid_generate_v4(id);
	path = spool_csv_path(dir, id, 0);
	part = spool_csv_path(dir, id, 1);
	w = spool_writer_open(dir, id, &cause);
	CHECK(w != NULL);
	CHECK_INT(spool_writer_write(w, "x", 1, &cause), 0);
	spool_writer_abort(w);
	CHECK(!exists(path) && !exists(part));
	free(path);
	free(part);
}

static void
add_job(struct store *st, char id[37], enum job_status status)
{
	struct job	 j;
	char		*cause = NULL;

	memset(&j, 0, sizeof j);
	uuid_generate_v4(j.id);
	j.status = status;
	j.operation = xstrdup("S3PutObjectTagging");
	j.spec = xstrdup("{}");
	j.created_ms = j.status_ms = time_now_ms();
	if (store_job_insert(st, &j, STORE_DAEMON, &cause) != 0)
		fatalx("adding a job: %s", cause);
	memcpy(id, j.id, 37);
	job_clear(&j);
}

static void
test_clean(const char *dir)
{
	struct store	*st;
	char		 keep[37], gone[37], fresh[37], *p, *spool, *cause = NULL;

	if ((st = store_open(dir, 0, &cause)) == NULL)
		fatalx("store_open: %s", cause);
	add_job(st, keep, JOB_PREPARING);
	add_job(st, fresh, JOB_NEW);
	add_job(st, gone, JOB_COMPLETE);
	spool = spool_dir(dir);
	CHECK_INT(count_files(spool), 0);
	/* A Preparing job's manifest and inventory files stay. */
	p = spool_csv_path(dir, keep, 0);
	touch(p);
	free(p);
	p = spool_inventory_data_path(dir, keep, 0);
	touch(p);
	free(p);
	/* A New job's download in progress: the finished file stays. */
	p = spool_inventory_json_path(dir, fresh);
	touch(p);
	free(p);
	/* Partial files never complete after a restart. */
	p = spool_csv_path(dir, keep, 1);
	touch(p);
	free(p);
	/* A finished job's files, an unknown job's, a report's, junk. */
	p = spool_csv_path(dir, gone, 0);
	touch(p);
	free(p);
	p = spool_csv_path(dir, "ffffffff-ffff-4fff-bfff-ffffffffffff", 0);
	touch(p);
	free(p);
	xasprintf(&p, "%s/%s-report-succeeded.csv", spool, gone);
	touch(p);
	free(p);
	xasprintf(&p, "%s/junk", spool);
	touch(p);
	free(p);
	CHECK_INT(count_files(spool), 8);
	spool_clean(dir, st);
	CHECK_INT(count_files(spool), 3);
	p = spool_csv_path(dir, keep, 0);
	CHECK(exists(p));
	free(p);
	p = spool_inventory_data_path(dir, keep, 0);
	CHECK(exists(p));
	free(p);
	p = spool_inventory_json_path(dir, fresh);
	CHECK(exists(p));
	free(p);
	/* Removing a job's files leaves the others'. */
	spool_remove(dir, keep);
	CHECK_INT(count_files(spool), 1);
	free(spool);
	store_close(st);
}

int
main(void)
{
	char	 dir[] = "/tmp/test-spool.XXXXXX", *cause = NULL, *cmd;

	log_init(LOG_TO_STDERR, 0);
	if (mkdtemp(dir) == NULL)
		fatal("mkdtemp");
	CHECK_INT(spool_init(dir, &cause), 0);
	CHECK(exists(dir));
	test_paths();
	test_writer(dir);
	test_clean(dir);
	xasprintf(&cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	free(cmd);
	return (unit_done("test-spool"));
}
