/*
 * s3batchd: the daemon's main(). It never forks: systemd (Type=notify)
 * supervises it. It assembles the layers: the server (the loop and the
 * daemon core), then the front ends on top of it — the control socket and
 * the metrics listener — which the core never includes.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "s3batchd.h"
#include "cfg.h"
#include "control.h"
#include "metrics.h"
#include "sdnotify.h"
#include "server.h"

/* Files 0640 and directories 0750 at most; see harden(). */
#define S3BATCHD_UMASK	027

static __dead void
usage(void)
{
	fprintf(stderr, "usage: s3batchd [-dhnV] [-f file]\n"
	    "  -f file  configuration file (default %s)\n"
	    "  -n       check the configuration, print it, and exit\n"
	    "  -d       debug: verbose logging to stderr\n"
	    "  -h       this help, and every configuration key\n"
	    "  -V       print the version and exit\n", CFG_DEFAULT_PATH);
	exit(2);
}

/*
 * Before anything is read or created. Non-dumpable: no core dump holds the
 * credentials, and other processes of the same (non-root) user can no
 * longer ptrace the daemon or read its /proc/PID/{mem,environ,fd}; root
 * and systemd are not affected. The umask makes every file the daemon
 * creates 0640 at most (directories 0750), whatever the caller's.
 */
static void
harden(void)
{
	umask(S3BATCHD_UMASK);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fprintf(stderr, "s3batchd: PR_SET_DUMPABLE: %s\n",
		    strerror(errno));
}

/*
 * Every control and metrics connection, S3 connection and open file is a
 * descriptor: take what the hard limit allows rather than the 1024 a
 * login shell starts with.
 */
static void
raise_nofile(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		log_warn("raising RLIMIT_NOFILE to %llu",
		    (unsigned long long)rl.rlim_max);
	else
		log_debug("RLIMIT_NOFILE raised to %llu",
		    (unsigned long long)rl.rlim_max);
}

int
main(int argc, char **argv)
{
	struct server	 srv;
	struct cfg	*cfg;
	const char	*path = CFG_DEFAULT_PATH;
	char		*cause = NULL;
	int		 ch, check = 0, debug = 0, flags;

	harden();
	while ((ch = getopt(argc, argv, "df:hnV")) != -1) {
		switch (ch) {
		case 'd':
			debug = 1;
			break;
		case 'f':
			path = optarg;
			break;
		case 'h':
			fprintf(stdout, "usage: s3batchd [-dhnV] [-f file]\n\n");
			cfg_help(stdout);
			return (0);
		case 'n':
			check = 1;
			break;
		case 'V':
			printf("s3batchd %s\n", VERSION);
			return (0);
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	flags = LOG_TO_STDERR;
	if (!debug && sdnotify_journal())
		flags = LOG_TO_JOURNAL;
	log_init(flags, debug);

	if ((cfg = cfg_load(path, &cause)) == NULL) {
		fprintf(stderr, "s3batchd: %s\n", cause);
		free(cause);
		return (1);
	}
	if (cfg_check_files(cfg, &cause) != 0) {
		fprintf(stderr, "s3batchd: %s: %s\n", path, cause);
		free(cause);
		cfg_free(cfg);
		return (1);
	}
	if (check) {
		cfg_print(cfg, stdout);
		fprintf(stderr, "s3batchd: configuration %s is valid\n", path);
		cfg_free(cfg);
		return (0);
	}
	log_setverbose(debug || cfg->log_verbose);
	raise_nofile();
	if (server_init(&srv, path, cfg, debug) != 0)
		goto fail;
	if ((srv.control = control_new(&srv, &cause)) == NULL ||
	    (cfg->metrics_listen != NULL && (srv.metrics = metrics_new(&srv,
	    cfg->metrics_listen, &cause)) == NULL)) {
		log_warnx("%s", cause);
		free(cause);
		goto fail;
	}
	server_run(&srv);
	control_free(srv.control);
	metrics_free(srv.metrics);
	server_free(&srv);
	return (0);
fail:
	control_free(srv.control);
	metrics_free(srv.metrics);
	server_free(&srv);
	return (1);
}
