/*
 * s3batchctl watch and report: following a job by polling describe-job,
 * and copying a job's results from the daemon to standard output.
 */
#include <sys/ioctl.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "protocol.h"

#define WATCH_DEFAULT_INTERVAL	2000	/* ms */
#define WATCH_BAR_WIDTH		20

int
cli_status_terminal(const char *status)
{
	return (status != NULL && (strcmp(status, "Complete") == 0 ||
	    strcmp(status, "Failed") == 0 || strcmp(status, "Cancelled") == 0));
}

/* Take a describe-job result's counts; the rate is smoothed over polls. */
void
cli_progress_update(struct cli_progress *p, json_object *job, uint64_t now)
{
	json_object	*ps;
	int64_t		 done;
	double		 inst, secs;

	if (json_object_object_get_ex(job, "ProgressSummary", &ps)) {
		(void)json_path_int64(ps, "TotalNumberOfTasks", &p->total);
		(void)json_path_int64(ps, "NumberOfTasksSucceeded", &p->succeeded);
		(void)json_path_int64(ps, "NumberOfTasksFailed", &p->failed);
	}
	done = p->succeeded + p->failed;
	if (p->last_ms != 0 && now > p->last_ms && done >= p->last_done) {
		secs = (double)(now - p->last_ms) / 1000.0;
		inst = (double)(done - p->last_done) / secs;
		p->rate = p->rate == 0 ? inst : 0.7 * p->rate + 0.3 * inst;
	}
	p->last_done = done;
	p->last_ms = now;
}

/*
 * One progress line. With width > 0 (a terminal), a bar that fits in
 * width columns; otherwise plain words for logs.
 */
void
cli_progress_line(struct buf *b, struct cli_progress *p, const char *status,
    int width)
{
	char		 eta[64], bar[WATCH_BAR_WIDTH + 1];
	int64_t		 done = p->succeeded + p->failed, left;
	double		 pct;
	size_t		 start = b->len;
	int		 i, fill;

	pct = p->total > 0 ? 100.0 * (double)done / (double)p->total : 0.0;
	if (pct > 100.0)
		pct = 100.0;
	left = p->total > done ? p->total - done : 0;
	/* Only a running job has an end in sight. */
	if (strcmp(status, "Active") != 0 || p->total <= 0)
		snprintf(eta, sizeof eta, "-");
	else if (left == 0)
		snprintf(eta, sizeof eta, "0s");
	else if (p->rate > 0.0 && (double)left / p->rate < 1e9)
		format_duration((uint64_t)((double)left / p->rate + 0.5) *
		    1000, eta, sizeof eta);
	else
		snprintf(eta, sizeof eta, "?");
	if (width > 0) {
		fill = (int)(pct / 100.0 * WATCH_BAR_WIDTH);
		for (i = 0; i < WATCH_BAR_WIDTH; i++)
			bar[i] = i < fill ? '#' : '-';
		bar[WATCH_BAR_WIDTH] = '\0';
		buf_addf(b, "[%s] %5.1f%% %-10s %" PRId64 "/%" PRId64
		    " ok %" PRId64 " failed %" PRId64 " %.1f/s ETA %s", bar,
		    pct, status, done, p->total, p->succeeded, p->failed,
		    p->rate, eta);
		/* Too wide for the terminal: \r would not rewind. */
		if (b->len - start >= (size_t)width) {
			b->len = start + (size_t)width - 1;
			b->data[b->len] = '\0';
		}
		return;
	}
	buf_addf(b, "%s %" PRId64 "/%" PRId64 " (%.1f%%) succeeded %" PRId64
	    " failed %" PRId64 " %.1f tasks/s ETA %s\n", status, done,
	    p->total, pct, p->succeeded, p->failed, p->rate, eta);
}

static int
cli_term_width(void)
{
	struct winsize	 ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
		return (ws.ws_col);
	return (80);
}

static void
cli_sleep_ms(uint64_t ms)
{
	struct timespec	 ts;

	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* describe-job, reconnecting once if the daemon dropped the connection. */
static int
cli_watch_poll(struct cli_ctx *ctx, struct client *c, int *connected,
    json_object *args, struct client_reply *r)
{
	char	*cause = NULL;
	int	 rv, tries;

	for (tries = 0; tries < 2; tries++) {
		if (!*connected) {
			if (cli_connect(ctx, c) != 0)
				return (CLI_EXIT_UNREACHABLE);
			*connected = 1;
		}
		rv = client_call(c, "describe-job", args, r, &cause);
		if (rv == 0)
			return (0);
		client_close(c);
		*connected = 0;
		if (rv != CLIENT_EIO || tries == 1)
			break;
		free(cause);
		cause = NULL;
	}
	rv = cli_client_error(rv, cause);
	free(cause);
	return (rv);
}

int
cli_watch_exec(struct cli_ctx *ctx, struct cli_req *req)
{
	struct client		 c;
	struct client_reply	 r;
	struct cli_progress	 p;
	struct buf		 line, last;
	json_object		*job;
	const char		*status;
	int64_t			 interval = WATCH_DEFAULT_INTERVAL;
	int			 connected = 0, rv, tty, json;

	(void)json_path_int64(req->local, "interval", &interval);
	json = ctx->output == CLI_OUTPUT_JSON;
	tty = !json && isatty(STDOUT_FILENO);
	memset(&p, 0, sizeof p);
	buf_init(&line);
	buf_init(&last);
	for (;;) {
		if ((rv = cli_watch_poll(ctx, &c, &connected, req->args,
		    &r)) != 0)
			break;
		if (!r.ok) {
			rv = cli_reply_error(&r);
			client_reply_free(&r);
			break;
		}
		if (r.result == NULL ||
		    !json_object_object_get_ex(r.result, "Job", &job) ||
		    (status = json_path_string(job, "Status")) == NULL) {
			fprintf(stderr, "s3batchctl: describe-job result has "
			    "no Job.Status\n");
			client_reply_free(&r);
			rv = CLI_EXIT_REFUSED;
			break;
		}
		cli_progress_update(&p, job, time_mono_ms());
		buf_reset(&line);
		if (tty) {
			buf_adds(&line, "\r\033[K");
			cli_progress_line(&line, &p, status, cli_term_width());
		} else if (!json)
			cli_progress_line(&line, &p, status, 0);
		/* In a log, a line only when something changed. */
		if (tty || last.data == NULL || strcmp(last.data,
		    line.data == NULL ? "" : line.data) != 0) {
			fwrite(line.data == NULL ? "" : line.data, 1, line.len,
			    stdout);
			fflush(stdout);
		}
		buf_reset(&last);
		buf_adds(&last, line.data == NULL ? "" : line.data);
		if (cli_status_terminal(status)) {
			if (tty)
				fputc('\n', stdout);
			if (json)
				cli_print_result(ctx, req->cmd, r.result);
			else if (strcmp(status, "Complete") != 0)
				fprintf(stderr, "s3batchctl: job %s\n", status);
			rv = strcmp(status, "Complete") == 0 ?
			    CLI_EXIT_OK : CLI_EXIT_REFUSED;
			client_reply_free(&r);
			break;
		}
		client_reply_free(&r);
		cli_sleep_ms((uint64_t)interval);
	}
	if (connected)
		client_close(&c);
	buf_free(&line);
	buf_free(&last);
	return (rv);
}

int
cli_report_exec(struct cli_ctx *ctx, struct cli_req *req)
{
	struct client		 c;
	struct client_reply	 r;
	uint64_t		 got;
	char			*cause = NULL;
	int			 rv;

	if (cli_connect(ctx, &c) != 0)
		return (CLI_EXIT_UNREACHABLE);
	if ((rv = client_call(&c, req->cmd->name, req->args, &r, &cause)) !=
	    0)
		goto fail;
	if (r.ok && r.kind == CLIENT_REPLY_STREAM) {
		client_reply_free(&r);
		fflush(stdout);
		if ((rv = client_recv_stream(&c, STDOUT_FILENO, &got, &r,
		    &cause)) != 0)
			goto fail;
	}
	client_close(&c);
	if (!r.ok)
		rv = cli_reply_error(&r);
	else if (r.kind != CLIENT_REPLY_FINAL) {
		fprintf(stderr, "s3batchctl: unexpected reply from the "
		    "daemon\n");
		rv = CLI_EXIT_REFUSED;
	} else
		rv = CLI_EXIT_OK;
	client_reply_free(&r);
	return (rv);
fail:
	client_close(&c);
	rv = cli_client_error(rv, cause);
	free(cause);
	return (rv);
}
