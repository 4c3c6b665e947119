/*
 * Unit tests for report.c: CSV and JSON-lines rows, the exact manifest.json,
 * report_write over a real SQLite store (MD5s recomputed here in one shot
 * from the files), and the upload sequence against a scripted stand-in for
 * the S3 layer (s3_call and s3_call_cancel are defined below, so this test
 * does not need s3.c).
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "s3batchd.h"
#include "http.h"
#include "job.h"
#include "report.h"
#include "s3.h"
#include "store.h"
#include "unit.h"

/* --- rows and manifest.json */

static char *
row_csv(const struct store_task *t)
{
	struct buf	b;

	buf_init(&b);
	report_row_csv(&b, t);
	return (buf_detach(&b));
}

static char *
row_jsonl(const struct store_task *t)
{
	struct buf	b;

	buf_init(&b);
	report_row_jsonl(&b, t);
	return (buf_detach(&b));
}

static void
test_rows(void)
{
	static const struct {
		const char	*bucket;
		const char	*key;
		size_t		 key_len;	/* 0: strlen */
		const char	*version_id;
		enum task_state	 state;
		int		 http_status;
		const char	*code;
		const char	*message;
		const char	*csv;
	} cases[] = {
		/* Amazon's own example of a succeeded copy. */
		{ "examplebucket", "photos/jpg/photo1.jpg", 0, NULL,
		  TASK_SUCCEEDED, 200, NULL, NULL,
		  "examplebucket,photos/jpg/photo1.jpg,,succeeded,200,,"
		  "Successful\n" },
		{ "b", "a b+c,d\"e", 0, "3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY",
		  TASK_SUCCEEDED, 200, NULL, NULL,
		  "b,a%20b%2Bc%2Cd%22e,3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY,"
		  "succeeded,200,,Successful\n" },
		{ "b", "caf\xc3\xa9/\xe2\x82\xac.txt", 0, "null",
		  TASK_SUCCEEDED, 204, NULL, NULL,
		  "b,caf%C3%A9/%E2%82%AC.txt,null,succeeded,204,,"
		  "Successful\n" },
		/* Keys are BLOBs: a NUL byte is encoded, not a terminator. */
		{ "b", "a\0b", 3, NULL, TASK_SUCCEEDED, 200, NULL, NULL,
		  "b,a%00b,,succeeded,200,,Successful\n" },
		{ "b", "k", 0, NULL, TASK_FAILED, 404, "NoSuchKey",
		  "The specified key does not exist.",
		  "b,k,,failed,404,NoSuchKey,The specified key does not "
		  "exist.\n" },
		{ "b", "k", 0, "v1", TASK_FAILED, 412, "PreconditionFailed",
		  "ETag \"abc\" changed, object not copied\r\nsecond line",
		  "b,k,v1,failed,412,PreconditionFailed,\"ETag \"\"abc\"\" "
		  "changed, object not copied\r\nsecond line\"\n" },
		{ "b", "k", 0, NULL, TASK_FAILED, 0, "ConnectionError", NULL,
		  "b,k,,failed,,ConnectionError,ConnectionError\n" },
		/* LambdaInvoke's resultString. */
		{ "b", "k", 0, NULL, TASK_SUCCEEDED, 200, NULL,
		  "done, \"ok\"",
		  "b,k,,succeeded,200,,\"done, \"\"ok\"\"\"\n" },
		{ "b", "k", 0, "a,b", TASK_PENDING, 0, NULL, NULL,
		  "b,k,\"a,b\",pending,,,\n" },
	};
	struct store_task	 t;
	size_t			 i;
	char			*s;

	for (i = 0; i < nitems(cases); i++) {
		memset(&t, 0, sizeof t);
		t.seq = (int64_t)i + 1;
		t.bucket = cases[i].bucket;
		t.key = cases[i].key;
		t.key_len = cases[i].key_len != 0 ? cases[i].key_len :
		    strlen(cases[i].key);
		t.version_id = cases[i].version_id;
		t.state = cases[i].state;
		t.http_status = cases[i].http_status;
		t.result_code = cases[i].code;
		t.result_message = cases[i].message;
		s = row_csv(&t);
		CHECK_STR(s, cases[i].csv);
		free(s);
	}

	memset(&t, 0, sizeof t);
	t.bucket = "b";
	t.key = "dir/a b";
	t.key_len = 7;
	t.state = TASK_FAILED;
	t.http_status = 403;
	t.result_code = "AccessDenied";
	t.result_message = "Access \"denied\"\n";
	t.attempts = 3;
	s = row_jsonl(&t);
	CHECK_STR(s, "{\"Bucket\":\"b\",\"Key\":\"dir/a%20b\",\"VersionId\":\"\","
	    "\"TaskStatus\":\"failed\",\"HTTPStatusCode\":403,"
	    "\"ErrorCode\":\"AccessDenied\","
	    "\"ResultMessage\":\"Access \\\"denied\\\"\\n\","
	    "\"Attempts\":3}\n");
	free(s);
	t.state = TASK_SUCCEEDED;
	t.http_status = 0;
	t.version_id = "v";
	t.result_code = t.result_message = NULL;
	t.attempts = 1;
	s = row_jsonl(&t);
	CHECK_STR(s, "{\"Bucket\":\"b\",\"Key\":\"dir/a%20b\",\"VersionId\":\"v\","
	    "\"TaskStatus\":\"succeeded\",\"HTTPStatusCode\":null,"
	    "\"ErrorCode\":\"\",\"ResultMessage\":\"Successful\","
	    "\"Attempts\":1}\n");
	free(s);
}

static void
test_manifest_json(void)
{
	static char		 bucket[] = "my-job-reports";
	static char		 prefix[] = "job-f8fb9d89-a3aa-461d-bddc-"
				    "ea6a1b131955";
	static char		 key0[] = "job-f8fb9d89-a3aa-461d-bddc-"
				    "ea6a1b131955/results/"
				    "6217b0fab0de85c408b4be96aeaca9b195a7daa5.csv";
	static char		 key1[] = "job-f8fb9d89-a3aa-461d-bddc-"
				    "ea6a1b131955/results/"
				    "b2ddad417e94331e9f37b44f1faf8c7ed5873f2e.csv";
	struct report_files	 rf;
	char			*s;

	memset(&rf, 0, sizeof rf);
	rf.bucket = bucket;
	rf.prefix = prefix;
	rf.created_ms = 1554486519725ULL;
	rf.nfiles = 2;
	rf.files[0].key = key0;
	snprintf(rf.files[0].md5, sizeof rf.files[0].md5, "%s",
	    "83b1c4cbe93fc893f54053697e10fd6e");
	rf.files[1].failed = 1;
	rf.files[1].key = key1;
	snprintf(rf.files[1].md5, sizeof rf.files[1].md5, "%s",
	    "22ee037f3515975f7719699e5c416eaa");
	s = report_manifest_json(&rf);
	CHECK_STR(s, "{\"Format\":\"Report_CSV_20180820\","
	    "\"ReportCreationDate\":\"2019-04-05T17:48:39.725Z\","
	    "\"Results\":[{\"TaskExecutionStatus\":\"succeeded\","
	    "\"Bucket\":\"my-job-reports\","
	    "\"MD5Checksum\":\"83b1c4cbe93fc893f54053697e10fd6e\","
	    "\"Key\":\"job-f8fb9d89-a3aa-461d-bddc-ea6a1b131955/results/"
	    "6217b0fab0de85c408b4be96aeaca9b195a7daa5.csv\"},"
	    "{\"TaskExecutionStatus\":\"failed\","
	    "\"Bucket\":\"my-job-reports\","
	    "\"MD5Checksum\":\"22ee037f3515975f7719699e5c416eaa\","
	    "\"Key\":\"job-f8fb9d89-a3aa-461d-bddc-ea6a1b131955/results/"
	    "b2ddad417e94331e9f37b44f1faf8c7ed5873f2e.csv\"}],"
	    "\"ReportSchema\":\"Bucket, Key, VersionId, TaskStatus, ErrorCode, "
	    "HTTPStatusCode, ResultMessage\"}");
	free(s);

	rf.nfiles = 0;
	rf.created_ms = 1767225600000ULL;
	s = report_manifest_json(&rf);
	CHECK_STR(s, "{\"Format\":\"Report_CSV_20180820\","
	    "\"ReportCreationDate\":\"2026-01-01T00:00:00.000Z\","
	    "\"Results\":[],\"ReportSchema\":\"Bucket, Key, VersionId, "
	    "TaskStatus, ErrorCode, HTTPStatusCode, ResultMessage\"}");
	free(s);
}

/* --- report_write over a real store */

#define NTASKS	3000

/* What the test gives task seq: 0 pending, 1 succeeded, 2 failed. */
static int
task_kind(int64_t seq)
{
	if (seq % 7 == 0)
		return (0);
	if (seq % 3 == 0)
		return (2);
	return (1);
}

static void
task_fill(struct store_task *t, int64_t seq, char *key, size_t keysize,
    char *msg, size_t msgsize)
{
	memset(t, 0, sizeof *t);
	t->seq = seq;
	t->bucket = "src-bucket";
	snprintf(key, keysize, "dir %lld/obj,%lld\xc3\xa9", (long long)seq,
	    (long long)seq);
	t->key = key;
	t->key_len = strlen(key);
	t->version_id = seq % 2 == 0 ? "v2" : NULL;
	switch (task_kind(seq)) {
	case 1:
		t->state = TASK_SUCCEEDED;
		t->http_status = 200;
		break;
	case 2:
		t->state = TASK_FAILED;
		t->http_status = 404;
		t->result_code = "NoSuchKey";
		snprintf(msg, msgsize, "task %lld: \"gone\", sorry",
		    (long long)seq);
		t->result_message = msg;
		break;
	}
}

/*
 * store_task_results is not there yet: set the results with SQL. A task's
 * id is its job's rowid << 40 plus its seq (store_sqlite.c).
 */
static void
set_results(const char *dir, int64_t job)
{
	struct store_task	 t;
	sqlite3			*db;
	sqlite3_stmt		*st;
	char			*path, key[128], msg[128];
	int64_t			 seq;

	xasprintf(&path, "%s/s3batchd.db", dir);
	CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	free(path);
	CHECK_INT(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
	CHECK_INT(sqlite3_prepare_v2(db, "UPDATE tasks SET state = ?2, "
	    "http_status = ?3, result_code = ?4, result_message = ?5, "
	    "attempts = 1 WHERE id = ?1", -1, &st, NULL), SQLITE_OK);
	for (seq = 1; seq <= NTASKS; seq++) {
		task_fill(&t, seq, key, sizeof key, msg, sizeof msg);
		if (t.state == TASK_PENDING)
			continue;
		sqlite3_bind_int64(st, 1, (job << 40) + seq);
		sqlite3_bind_int(st, 2, (int)t.state);
		sqlite3_bind_int(st, 3, t.http_status);
		if (t.result_code != NULL)
			sqlite3_bind_text(st, 4, t.result_code, -1,
			    SQLITE_TRANSIENT);
		else
			sqlite3_bind_null(st, 4);
		if (t.result_message != NULL)
			sqlite3_bind_text(st, 5, t.result_message, -1,
			    SQLITE_TRANSIENT);
		else
			sqlite3_bind_null(st, 5);
		CHECK_INT(sqlite3_step(st), SQLITE_DONE);
		CHECK_INT(sqlite3_changes(db), 1);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	CHECK_INT(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* The expected file, built row by row from the test's own table. */
static char *
expected_file(int failed)
{
	struct store_task	 t;
	struct buf		 b;
	char			 key[128], msg[128];
	int64_t			 seq;

	buf_init(&b);
	buf_adds(&b, "");
	for (seq = 1; seq <= NTASKS; seq++) {
		if (task_kind(seq) != (failed ? 2 : 1))
			continue;
		task_fill(&t, seq, key, sizeof key, msg, sizeof msg);
		report_row_csv(&b, &t);
	}
	return (buf_detach(&b));
}

static char *
slurp(const char *path, size_t *len)
{
	struct buf	 b;
	char		 tmp[8192];
	size_t		 n;
	FILE		*fp;

	buf_init(&b);
	buf_adds(&b, "");
	if ((fp = fopen(path, "r")) == NULL) {
		*len = 0;
		return (buf_detach(&b));
	}
	while ((n = fread(tmp, 1, sizeof tmp, fp)) > 0)
		buf_add(&b, tmp, n);
	fclose(fp);
	*len = b.len;
	return (buf_detach(&b));
}

/* MD5 in one shot, apart from report.c's running digest. */
static void
md5_hex(const void *data, size_t len, char out[33])
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	mdlen = 0, i;

	EVP_Digest(data, len, md, &mdlen, EVP_md5(), NULL);
	for (i = 0; i < mdlen; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void
check_file(const struct report_file *f, const char *prefix, int failed)
{
	char	*want, *got, md5[33], *p;
	size_t	 len;

	CHECK_INT(f->failed, failed);
	got = slurp(f->path, &len);
	want = expected_file(failed);
	CHECK_INT(len, strlen(want));
	CHECK(strcmp(got, want) == 0);
	CHECK_INT(f->size, len);
	md5_hex(got, len, md5);
	CHECK_STR(f->md5, md5);
	/* <prefix>/results/<40 hex>.csv */
	CHECK(strncmp(f->key, prefix, strlen(prefix)) == 0);
	p = f->key + strlen(prefix);
	CHECK(strncmp(p, "/results/", 9) == 0);
	CHECK_INT(strlen(p), 9 + 40 + 4);
	CHECK_INT(strspn(p + 9, "0123456789abcdef"), 40);
	CHECK_STR(p + 49, ".csv");
	free(got);
	free(want);
}

static void
job_make(struct job *j, const char *report)
{
	memset(j, 0, sizeof *j);
	uuid_generate_v4(j->id);
	j->status = JOB_NEW;
	j->operation = xstrdup("S3PutObjectTagging");
	xasprintf(&j->spec, "{\"RoleArn\":\"arn:aws:iam::123456789012:role/"
	    "batch\",\"Priority\":10,\"Report\":%s}", report);
	j->created_ms = j->status_ms = time_now_ms();
}

static int
count_rows(int failed)
{
	int64_t	seq;
	int	n = 0;

	for (seq = 1; seq <= NTASKS; seq++)
		n += task_kind(seq) == (failed ? 2 : 1);
	return (n);
}

static void
test_write(void)
{
	char			 dir[] = "/tmp/test-report.XXXXXX";
	char			 spool[] = "/tmp/test-report-spool.XXXXXX";
	char			 key[128], msg[128], *cause = NULL, *prefix;
	char			*path0;
	struct store		*st;
	struct store_task	 t;
	struct report_files	 rf;
	struct job		 j, k, e;
	int64_t			 seq;

	CHECK(mkdtemp(dir) != NULL);
	CHECK(mkdtemp(spool) != NULL);
	st = store_open(dir, 0, &cause);
	CHECK(st != NULL);
	if (st == NULL) {
		fprintf(stderr, "%s\n", cause);
		return;
	}
	job_make(&j, "{\"Bucket\":\"arn:aws:s3:::reports\",\"Format\":"
	    "\"Report_CSV_20180820\",\"Enabled\":true,\"Prefix\":"
	    "\"batch/out/\",\"ReportScope\":\"AllTasks\"}");
	CHECK_INT(store_job_insert(st, &j, STORE_DAEMON, &cause), 0);
	CHECK_INT(store_begin(st, &cause), 0);
	for (seq = 1; seq <= NTASKS; seq++) {
		task_fill(&t, seq, key, sizeof key, msg, sizeof msg);
		t.state = TASK_PENDING;
		t.http_status = 0;
		t.result_code = t.result_message = NULL;
		CHECK_INT(store_task_add(st, j.rowid, &t, &cause), 0);
	}
	CHECK_INT(store_commit(st, &cause), 0);
	set_results(dir, j.rowid);
	CHECK_INT(report_enabled(&j), 1);

	/* AllTasks: both files, succeeded first; pending tasks left out. */
	CHECK_INT(report_write(st, &j, spool, &rf, &cause), 0);
	xasprintf(&prefix, "batch/out/job-%s", j.id);
	CHECK_STR(rf.bucket, "reports");
	CHECK_STR(rf.prefix, prefix);
	CHECK(rf.created_ms != 0);
	CHECK_INT(rf.nfiles, 2);
	if (rf.nfiles == 2) {
		CHECK_INT(rf.files[0].rows, count_rows(0));
		CHECK_INT(rf.files[1].rows, count_rows(1));
		check_file(&rf.files[0], prefix, 0);
		check_file(&rf.files[1], prefix, 1);
		CHECK(strcmp(rf.files[0].key, rf.files[1].key) != 0);
		path0 = xstrdup(rf.files[0].path);
		CHECK(access(path0, F_OK) == 0);
		report_files_free(&rf);
		/* Freeing the files removes them from the spool. */
		CHECK(access(path0, F_OK) == -1);
		free(path0);
	}

	/* Written again, the object names do not change. */
	{
		struct report_files	 again;
		char			*k0;

		CHECK_INT(report_write(st, &j, spool, &rf, &cause), 0);
		k0 = xstrdup(rf.files[0].key);
		report_files_free(&rf);
		CHECK_INT(report_write(st, &j, spool, &again, &cause), 0);
		CHECK_STR(again.files[0].key, k0);
		report_files_free(&again);
		free(k0);
	}

	/* FailedTasksOnly, no prefix: only the failed file. */
	memset(&k, 0, sizeof k);
	job_make(&k, "{\"Bucket\":\"arn:aws:s3:::reports\",\"Format\":"
	    "\"Report_CSV_20180820\",\"Enabled\":true,"
	    "\"ReportScope\":\"FailedTasksOnly\"}");
	memcpy(k.id, j.id, sizeof k.id);
	k.rowid = j.rowid;
	CHECK_INT(report_write(st, &k, spool, &rf, &cause), 0);
	free(prefix);
	xasprintf(&prefix, "job-%s", j.id);
	CHECK_STR(rf.prefix, prefix);
	CHECK_INT(rf.nfiles, 1);
	if (rf.nfiles == 1)
		check_file(&rf.files[0], prefix, 1);
	report_files_free(&rf);
	job_clear(&k);

	/* A job with no tasks that ran: no result file at all. */
	job_make(&e, "{\"Bucket\":\"arn:aws:s3:::reports\",\"Enabled\":true,"
	    "\"Prefix\":\"p\"}");
	CHECK_INT(store_job_insert(st, &e, STORE_DAEMON, &cause), 0);
	t.seq = 1;
	t.state = TASK_PENDING;
	CHECK_INT(store_task_add(st, e.rowid, &t, &cause), 0);
	CHECK_INT(report_write(st, &e, spool, &rf, &cause), 0);
	CHECK_INT(rf.nfiles, 0);
	report_files_free(&rf);
	job_clear(&e);

	/* Disabled, absent, or unusable settings. */
	job_make(&e, "{\"Enabled\":false}");
	CHECK_INT(report_enabled(&e), 0);
	CHECK_INT(report_write(st, &e, spool, &rf, &cause), -1);
	CHECK(cause != NULL && strstr(cause, "no report") != NULL);
	free(cause);
	cause = NULL;
	job_clear(&e);
	job_make(&e, "{\"Enabled\":true,\"Bucket\":\"reports\"}");
	CHECK_INT(report_enabled(&e), 1);
	CHECK_INT(report_write(st, &e, spool, &rf, &cause), -1);
	CHECK(cause != NULL && strstr(cause, "Report.Bucket") != NULL);
	free(cause);
	cause = NULL;
	job_clear(&e);
	job_make(&e, "{\"Enabled\":true,\"Bucket\":\"arn:aws:s3:::r\","
	    "\"Format\":\"Report_JSON\"}");
	CHECK_INT(report_write(st, &e, spool, &rf, &cause), -1);
	CHECK(cause != NULL && strstr(cause, "Report.Format") != NULL);
	free(cause);
	cause = NULL;
	job_clear(&e);

	/* An unwritable spool names the file. */
	CHECK_INT(report_write(st, &j, "/nonexistent-dir", &rf, &cause), -1);
	CHECK(cause != NULL && strstr(cause, "/nonexistent-dir/") != NULL);
	free(cause);
	cause = NULL;

	free(prefix);
	job_clear(&j);
	store_close(st);
	CHECK(rmdir(spool) == 0);
	{
		char	*p;

		xasprintf(&p, "rm -rf '%s'", dir);
		CHECK(system(p) == 0);
		free(p);
	}
}

/* --- upload, against a scripted S3 layer */

struct s3_call {
	struct s3_call	*next;
	char		*method;
	char		*bucket;
	char		*key;
	char		*query;
	char		*role_arn;
	char		*content_md5;
	char		*content_type;
	int		 flags;
	int		 read_failed;
	uint64_t	 stream_len;
	struct buf	 body;		/* a buffered body, or a short stream */
	uint64_t	 body_len;	/* bytes sent */
	char		 md5[33];	/* of the bytes sent */
	s3_done_cb	 done_cb;
	void		*arg;
};

static struct s3_call	*mock_calls, *mock_last;
static int		 mock_cancelled;
static const char	*mock_message;
static struct s3	*mock_s3 = (struct s3 *)&mock_calls;

/* Read a streamed body the way the HTTP layer would, twice (a retry). */
static void
mock_read_stream(struct s3_call *c, const struct s3_request *req)
{
	EVP_MD_CTX	*md;
	unsigned char	 d[EVP_MAX_MD_SIZE];
	char		*tmp, first[33] = "";
	unsigned int	 dlen, i;
	long		 n;
	int		 pass;

	tmp = xmalloc(1 << 20);
	for (pass = 0; pass < 2; pass++) {
		if (pass == 1 && req->stream_rewind(req->stream_arg) != 0)
			break;
		md = EVP_MD_CTX_new();
		EVP_DigestInit_ex(md, EVP_md5(), NULL);
		c->body_len = 0;
		buf_reset(&c->body);
		while ((n = req->stream_read(tmp, 1 << 20,
		    req->stream_arg)) > 0) {
			EVP_DigestUpdate(md, tmp, (size_t)n);
			c->body_len += (uint64_t)n;
			if (c->body.len < 1 << 20)
				buf_add(&c->body, tmp, (size_t)n);
		}
		if (n < 0)
			c->read_failed = 1;
		EVP_DigestFinal_ex(md, d, &dlen);
		EVP_MD_CTX_free(md);
		for (i = 0; i < dlen; i++)
			snprintf(c->md5 + 2 * i, 3, "%02x", d[i]);
		if (c->read_failed)
			break;
		if (pass == 0)
			memcpy(first, c->md5, sizeof first);
		else
			CHECK_STR(c->md5, first);
	}
	free(tmp);
}

struct s3_call *
s3_call(struct s3 *s3, const struct s3_request *req, s3_done_cb done_cb,
    void *arg)
{
	struct s3_call	*c;
	size_t		 i;

	CHECK(s3 == mock_s3);
	c = xcalloc(1, sizeof *c);
	c->method = xstrdup(req->method);
	c->bucket = xstrdup(req->bucket);
	c->key = req->key != NULL ? xstrdup(req->key) : NULL;
	c->query = req->query != NULL ? xstrdup(req->query) : NULL;
	c->role_arn = req->role_arn != NULL ? xstrdup(req->role_arn) : NULL;
	for (i = 0; i < req->nheaders; i++) {
		if (strcmp(req->headers[i].name, "Content-MD5") == 0)
			c->content_md5 = xstrdup(req->headers[i].value);
		if (strcmp(req->headers[i].name, "Content-Type") == 0)
			c->content_type = xstrdup(req->headers[i].value);
	}
	c->flags = req->flags;
	c->done_cb = done_cb;
	c->arg = arg;
	buf_init(&c->body);
	if (req->stream_read != NULL) {
		c->stream_len = req->stream_len;
		mock_read_stream(c, req);
	} else {
		buf_add(&c->body, req->body, req->body_len);
		c->body_len = req->body_len;
		md5_hex(req->body, req->body_len, c->md5);
	}
	if (mock_last == NULL)
		mock_calls = c;
	else
		mock_last->next = c;
	mock_last = c;
	return (c);
}

static void
mock_free(struct s3_call *c)
{
	free(c->method);
	free(c->bucket);
	free(c->key);
	free(c->query);
	free(c->role_arn);
	free(c->content_md5);
	free(c->content_type);
	buf_free(&c->body);
	free(c);
}

static struct s3_call *
mock_pop(void)
{
	struct s3_call	*c = mock_calls;

	if (c != NULL) {
		mock_calls = c->next;
		if (mock_calls == NULL)
			mock_last = NULL;
	}
	return (c);
}

void
s3_call_cancel(struct s3_call *c)
{
	struct s3_call	**pp;

	for (pp = &mock_calls; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	for (mock_last = mock_calls; mock_last != NULL &&
	    mock_last->next != NULL; mock_last = mock_last->next)
		;
	mock_cancelled++;
	mock_free(c);
}

/* Answer the oldest call. */
static void
mock_answer(struct s3_call *c, int status, const char *code,
    const char *etag, const char *xml)
{
	struct http_response	 http;
	struct s3_result	 r;

	memset(&http, 0, sizeof http);
	buf_init(&http.body);
	if (xml != NULL)
		buf_adds(&http.body, xml);
	memset(&r, 0, sizeof r);
	r.status = status;
	r.error_code = code;
	r.error_message = code == NULL ? NULL : mock_message != NULL ?
	    mock_message : "the message";
	r.etag = etag;
	r.content_length = -1;
	r.http = &http;
	r.attempts = 1;
	c->done_cb(&r, c->arg);
	buf_free(&http.body);
	mock_free(c);
}

struct done {
	int	 calls;
	char	*cause;
};

static void
done_cb(const char *cause, void *arg)
{
	struct done	*d = arg;

	d->calls++;
	free(d->cause);
	d->cause = cause != NULL ? xstrdup(cause) : NULL;
}

/* A report_files with one file of each kind and the given sizes. */
static void
upload_files(struct report_files *rf, const char *dir, uint64_t size0,
    uint64_t size1)
{
	uint64_t	 sizes[2] = { size0, size1 };
	char		*data;
	size_t		 len;
	int		 i, fd;

	memset(rf, 0, sizeof *rf);
	rf->bucket = xstrdup("reports");
	rf->prefix = xstrdup("p/job-1");
	rf->created_ms = 1554486519725ULL;
	for (i = 0; i < 2; i++) {
		xasprintf(&rf->files[i].path, "%s/f%d.csv", dir, i);
		xasprintf(&rf->files[i].key, "p/job-1/results/f%d.csv", i);
		rf->files[i].failed = i;
		fd = open(rf->files[i].path, O_RDWR|O_CREAT|O_TRUNC, 0600);
		CHECK(fd != -1);
		if (sizes[i] < 1 << 20) {
			data = xmalloc(sizes[i] + 1);
			memset(data, 'a' + i, sizes[i]);
			CHECK(write(fd, data, sizes[i]) == (ssize_t)sizes[i]);
			md5_hex(data, sizes[i], rf->files[i].md5);
			free(data);
		} else {
			/* Sparse: large without costing the disk. */
			CHECK(ftruncate(fd, (off_t)sizes[i]) == 0);
			data = slurp(rf->files[i].path, &len);
			md5_hex(data, len, rf->files[i].md5);
			free(data);
		}
		close(fd);
		rf->files[i].size = sizes[i];
		rf->files[i].rows = 1;
	}
	rf->nfiles = 2;
}

static void
check_put(struct s3_call *c, const struct report_file *f)
{
	CHECK(c != NULL);
	if (c == NULL)
		return;
	CHECK_STR(c->method, "PUT");
	CHECK_STR(c->bucket, "reports");
	CHECK_STR(c->key, f->key);
	CHECK(c->query == NULL);
	CHECK_STR(c->role_arn, "arn:aws:iam::123456789012:role/batch");
	CHECK_STR(c->content_type, "text/csv");
	CHECK(c->flags & S3_UNSIGNED_PAYLOAD);
	CHECK_INT(c->stream_len, f->size);
	CHECK_INT(c->body_len, f->size);
	CHECK_STR(c->md5, f->md5);
	/* The S3 layer sets Content-MD5 itself, for memory bodies only. */
	CHECK(c->content_md5 == NULL);
}

static void
test_upload(void)
{
	char			 dir[] = "/tmp/test-report-up.XXXXXX";
	struct report_files	 rf;
	struct report_upload	*u;
	struct s3_call		*c;
	struct done		 d;
	struct job		 j;
	char			*manifest, query[128];
	int			 i;

	CHECK(mkdtemp(dir) != NULL);
	job_make(&j, "{\"Bucket\":\"arn:aws:s3:::reports\",\"Enabled\":true,"
	    "\"ExpectedBucketOwner\":\"123456789012\"}");

	/* Two small files, then manifest.json. */
	upload_files(&rf, dir, 1000, 10);
	memset(&d, 0, sizeof d);
	u = report_upload(mock_s3, &j, &rf, done_cb, &d);
	CHECK(u != NULL);
	CHECK_INT(d.calls, 0);
	c = mock_pop();
	check_put(c, &rf.files[0]);
	CHECK(mock_calls == NULL);
	mock_answer(c, 200, NULL, "etag", NULL);
	c = mock_pop();
	check_put(c, &rf.files[1]);
	mock_answer(c, 200, NULL, "etag", NULL);
	c = mock_pop();
	CHECK(c != NULL);
	if (c != NULL) {
		manifest = report_manifest_json(&rf);
		CHECK_STR(c->method, "PUT");
		CHECK_STR(c->key, "p/job-1/manifest.json");
		CHECK_STR(c->content_type, "application/json");
		CHECK(c->flags & S3_CONTENT_MD5);
		CHECK_STR(c->body.data, manifest);
		free(manifest);
		CHECK_INT(d.calls, 0);
		mock_answer(c, 200, NULL, "etag", NULL);
	}
	CHECK_INT(d.calls, 1);
	CHECK(d.cause == NULL);
	CHECK(mock_calls == NULL);

	/* A failed PUT stops there, naming the object and S3's error. */
	memset(&d, 0, sizeof d);
	u = report_upload(mock_s3, &j, &rf, done_cb, &d);
	c = mock_pop();
	mock_answer(c, 403, "AccessDenied", NULL, NULL);
	CHECK_INT(d.calls, 1);
	CHECK(mock_calls == NULL);
	CHECK_STR(d.cause, "uploading s3://reports/p/job-1/results/f0.csv: "
	    "AccessDenied (HTTP 403): the message");
	free(d.cause);

	/* The S3 layer's stand-in message for none is not repeated. */
	memset(&d, 0, sizeof d);
	u = report_upload(mock_s3, &j, &rf, done_cb, &d);
	mock_answer(mock_pop(), 200, NULL, "e", NULL);
	mock_answer(mock_pop(), 200, NULL, "e", NULL);
	mock_message = "HTTP 404";
	mock_answer(mock_pop(), 404, "NoSuchBucket", NULL, NULL);
	mock_message = NULL;
	CHECK_STR(d.cause, "uploading s3://reports/p/job-1/manifest.json: "
	    "NoSuchBucket (HTTP 404)");
	free(d.cause);

	/* A PUT's 200 that is not PutObject's success: the call's check. */
	memset(&d, 0, sizeof d);
	u = report_upload(mock_s3, &j, &rf, done_cb, &d);
	mock_answer(mock_pop(), 200, NULL, "e",
	    "<html><body>It works!</body></html>");
	CHECK_INT(d.calls, 1);
	CHECK(mock_calls == NULL);
	CHECK_STR(d.cause, "uploading s3://reports/p/job-1/results/f0.csv: "
	    "InvalidResponse (HTTP 200): PutObject answered 200 with a body of "
	    "35 bytes where S3 sends none (\"<html><body>It works!</body>"
	    "</html>\")");
	free(d.cause);
	memset(&d, 0, sizeof d);
	u = report_upload(mock_s3, &j, &rf, done_cb, &d);
	mock_answer(mock_pop(), 200, NULL, "e", NULL);
	mock_answer(mock_pop(), 200, NULL, NULL, NULL);
	CHECK_INT(d.calls, 1);
	CHECK(mock_calls == NULL);
	CHECK_STR(d.cause, "uploading s3://reports/p/job-1/results/f1.csv: "
	    "InvalidResponse (HTTP 200): PutObject answered without an ETag");
	free(d.cause);

	/* A file gone from the spool. */
	unlink(rf.files[1].path);
	memset(&d, 0, sizeof d);
	u = report_upload(mock_s3, &j, &rf, done_cb, &d);
	mock_answer(mock_pop(), 200, NULL, "e", NULL);
	c = mock_pop();
	CHECK(c != NULL && c->read_failed);
	mock_answer(c, 0, "InvalidResponse", NULL, NULL);
	CHECK_INT(d.calls, 1);
	CHECK(d.cause != NULL && strstr(d.cause, "opening") != NULL &&
	    strstr(d.cause, "f1.csv") != NULL);
	free(d.cause);
	report_files_free(&rf);

	/* A large file goes in parts: 70 MiB is 4 x 16 MiB + 6 MiB. */
	upload_files(&rf, dir, 70ULL << 20, 5);
	memset(&d, 0, sizeof d);
	u = report_upload(mock_s3, &j, &rf, done_cb, &d);
	c = mock_pop();
	CHECK(c != NULL && strcmp(c->method, "POST") == 0 &&
	    strcmp(c->query, "uploads") == 0 &&
	    strcmp(c->key, rf.files[0].key) == 0);
	mock_answer(c, 200, NULL, NULL, "<?xml version=\"1.0\"?>"
	    "<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/"
	    "doc/2006-03-01/\"><Bucket>reports</Bucket><Key>k</Key>"
	    "<UploadId>2~up/1+x</UploadId></InitiateMultipartUploadResult>");
	{
		char	*zero = xcalloc(1, 16 << 20), hex[33];

		for (i = 1; i <= 5; i++) {
			c = mock_pop();
			CHECK(c != NULL);
			if (c == NULL)
				break;
			snprintf(query, sizeof query, "partNumber=%d&uploadId="
			    "2~up%%2F1%%2Bx", i);
			CHECK_STR(c->method, "PUT");
			CHECK_STR(c->query, query);
			CHECK_INT(c->stream_len, i < 5 ? 16 << 20 : 6 << 20);
			CHECK_INT(c->body_len, c->stream_len);
			/* Parts of a sparse file: zeros. */
			md5_hex(zero, (size_t)c->stream_len, hex);
			CHECK_STR(c->md5, hex);
			snprintf(query, sizeof query, "etag%d", i);
			mock_answer(c, 200, NULL, query, NULL);
		}
		free(zero);
	}
	c = mock_pop();
	CHECK(c != NULL);
	if (c != NULL) {
		CHECK_STR(c->method, "POST");
		CHECK_STR(c->query, "uploadId=2~up%2F1%2Bx");
		CHECK(c->flags & S3_ERROR_IN_200);
		CHECK(strstr(c->body.data, "<Part><PartNumber>1</PartNumber>"
		    "<ETag>&quot;etag1&quot;</ETag></Part>") != NULL);
		CHECK(strstr(c->body.data, "<PartNumber>5</PartNumber>"
		    "<ETag>&quot;etag5&quot;</ETag>") != NULL);
		mock_answer(c, 200, NULL, NULL, "<CompleteMultipartUploadResult>"
		    "<Bucket>reports</Bucket><Key>k</Key><ETag>&quot;x-5&quot;"
		    "</ETag></CompleteMultipartUploadResult>");
	}
	c = mock_pop();
	check_put(c, &rf.files[1]);
	mock_answer(c, 200, NULL, "e", NULL);
	c = mock_pop();
	CHECK(c != NULL && strcmp(c->key, "p/job-1/manifest.json") == 0);
	mock_answer(c, 200, NULL, "e", NULL);
	CHECK_INT(d.calls, 1);
	CHECK(d.cause == NULL);

	/* A failed part aborts the multipart upload before reporting. */
	memset(&d, 0, sizeof d);
	u = report_upload(mock_s3, &j, &rf, done_cb, &d);
	mock_answer(mock_pop(), 200, NULL, NULL, "<InitiateMultipartUploadResult>"
	    "<UploadId>u2</UploadId></InitiateMultipartUploadResult>");
	mock_answer(mock_pop(), 200, NULL, "etag1", NULL);
	mock_answer(mock_pop(), 500, "InternalError", NULL, NULL);
	CHECK_INT(d.calls, 0);
	c = mock_pop();
	CHECK(c != NULL && strcmp(c->method, "DELETE") == 0 &&
	    strcmp(c->query, "uploadId=u2") == 0 &&
	    strcmp(c->key, rf.files[0].key) == 0);
	mock_answer(c, 204, NULL, NULL, NULL);
	CHECK_INT(d.calls, 1);
	CHECK(d.cause != NULL && strstr(d.cause, "InternalError") != NULL &&
	    strstr(d.cause, "part") != NULL);
	free(d.cause);
	CHECK(mock_calls == NULL);

	/* Cancelled mid-way: no callback, the upload is aborted anyway. */
	memset(&d, 0, sizeof d);
	u = report_upload(mock_s3, &j, &rf, done_cb, &d);
	mock_answer(mock_pop(), 200, NULL, NULL, "<InitiateMultipartUploadResult>"
	    "<UploadId>u3</UploadId></InitiateMultipartUploadResult>");
	mock_cancelled = 0;
	report_upload_cancel(u);
	CHECK_INT(mock_cancelled, 1);
	c = mock_pop();
	CHECK(c != NULL && strcmp(c->method, "DELETE") == 0 &&
	    strcmp(c->query, "uploadId=u3") == 0);
	mock_answer(c, 204, NULL, NULL, NULL);
	CHECK(mock_calls == NULL);
	CHECK_INT(d.calls, 0);

	/* An initiate answer without an UploadId. */
	memset(&d, 0, sizeof d);
	u = report_upload(mock_s3, &j, &rf, done_cb, &d);
	mock_answer(mock_pop(), 200, NULL, NULL, "<nonsense/>");
	CHECK_INT(d.calls, 1);
	CHECK(d.cause != NULL && strstr(d.cause, "multipart") != NULL);
	free(d.cause);
	CHECK(mock_calls == NULL);

	report_files_free(&rf);
	job_clear(&j);
	CHECK(rmdir(dir) == 0);
}

int
main(void)
{
	log_init(LOG_TO_STDERR, 0);
	test_rows();
	test_manifest_json();
	test_write();
	test_upload();
	return (unit_done("test-report"));
}
