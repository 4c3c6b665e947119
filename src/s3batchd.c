/*
 * s3batchd: the daemon's main(). It never forks: systemd (Type=notify)
 * supervises it. It assembles the layers: the server (the loop and the
 * daemon core), then the front ends on top of it — the control socket and
 * the metrics listener — which the core never includes.
 */
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

int
main(int argc, char **argv)
{
	struct server	 srv;
	struct cfg	*cfg;
	const char	*path = CFG_DEFAULT_PATH;
	char		*cause = NULL;
	int		 ch, check = 0, debug = 0, flags;

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
	if (check) {
		cfg_print(cfg, stdout);
		fprintf(stderr, "s3batchd: configuration %s is valid\n", path);
		cfg_free(cfg);
		return (0);
	}
	log_setverbose(debug || cfg->log_verbose);
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
