/*
 * s3batchctl: the command-line client of s3batchd. Verbs, flags and
 * --output json follow aws s3control; see s3batchctl(1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "protocol.h"

static int
usage_error(const struct cli_cmd *cmd, const char *cause)
{
	struct buf	 b;

	buf_init(&b);
	if (cmd != NULL) {
		buf_addf(&b, "s3batchctl: %s: %s\n", cmd->name, cause);
		cli_usage(&b, cmd);
	} else {
		buf_addf(&b, "s3batchctl: %s\nusage: s3batchctl [-s SOCKET] "
		    "[--output json|text] [--timeout DURATION] COMMAND [ARGS]\n"
		    "Run \"s3batchctl help\" for the commands.\n", cause);
	}
	fwrite(b.data, 1, b.len, stderr);
	buf_free(&b);
	return (CLI_EXIT_USAGE);
}

static int
print_help(const struct cli_cmd *cmd)
{
	struct buf	 b;

	buf_init(&b);
	if (cmd != NULL)
		cli_usage(&b, cmd);
	else
		cli_help_all(&b);
	fwrite(b.data, 1, b.len, stdout);
	buf_free(&b);
	return (CLI_EXIT_OK);
}

static int
print_version(void)
{
	printf("s3batchctl %s (protocol %d)\n", PACKAGE_VERSION,
	    PROTOCOL_VERSION);
	return (CLI_EXIT_OK);
}

int
main(int argc, char **argv)
{
	struct cli_ctx		 ctx;
	struct cli_req		 req;
	const struct cli_cmd	*cmd;
	const char		*arg, *name, *eq, *value;
	char			*cause = NULL, *gname, *msg;
	enum cli_global		 g;
	int			 i, used, rv;

	cli_ctx_init(&ctx);
	for (i = 1; i < argc; i++) {
		arg = argv[i];
		if (arg[0] != '-' || arg[1] == '\0')
			break;
		name = arg + (arg[1] == '-' ? 2 : 1);
		eq = strchr(name, '=');
		gname = eq != NULL ? xstrndup(name, (size_t)(eq - name)) :
		    xstrdup(name);
		value = eq != NULL ? eq + 1 : (i + 1 < argc ? argv[i + 1] :
		    NULL);
		g = cli_global_option(&ctx, gname, value, &used, &cause);
		free(gname);
		if (g == CLI_GLOBAL_BAD) {
			rv = usage_error(NULL, cause);
			free(cause);
			return (rv);
		}
		if (g == CLI_GLOBAL_NO) {
			xasprintf(&msg, "unknown option %s", arg);
			rv = usage_error(NULL, msg);
			free(msg);
			return (rv);
		}
		if (used && eq == NULL)
			i++;
	}
	if (ctx.version)
		return (print_version());
	if (i == argc) {
		if (ctx.help)
			return (print_help(NULL));
		return (usage_error(NULL, "no command given"));
	}
	if ((cmd = cli_find(argv[i])) == NULL) {
		xasprintf(&msg, "no command \"%s\"", argv[i]);
		rv = usage_error(NULL, msg);
		free(msg);
		return (rv);
	}
	if (cli_parse(cmd, &ctx, argc - i - 1, argv + i + 1, &req,
	    &cause) != 0) {
		/* -h after a usage error still wants the help. */
		if (ctx.help) {
			free(cause);
			cli_req_free(&req);
			return (print_help(cmd));
		}
		rv = usage_error(cmd, cause);
		free(cause);
		cli_req_free(&req);
		return (rv);
	}
	if (ctx.version) {
		cli_req_free(&req);
		return (print_version());
	}
	if (ctx.help && (cmd->flags & CLI_NODAEMON) == 0) {
		cli_req_free(&req);
		return (print_help(cmd));
	}
	rv = cli_run(&ctx, &req);
	cli_req_free(&req);
	return (rv);
}
