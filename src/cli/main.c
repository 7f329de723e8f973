/*
 * main.c - confab-cli's entry point: command-line options, then either one-shot -x mode
 * (run api commands, exit with their status) or the interactive console.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

struct opts {
	const char *host, *port, *password, *log_level;
	const char **cmds;          /* -x commands, in order */
	size_t ncmds;
	int timeout_ms;
	bool quiet, debug;
};

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("confab-cli: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void usage(FILE *fp)
{
	fputs("Usage: confab-cli [options]\n"
	      "Console for a confab (or FreeSWITCH) event socket.\n\n"
	      "  -H, --host HOST        server name or address, IPv6 literals too"
	      " (default 127.0.0.1)\n"
	      "  -P, --port PORT        event socket port (default 8021)\n"
	      "  -p, --password PASS    event socket password (default ClueCon)\n"
	      "  -x, --execute COMMAND  run the api COMMAND, print its output and exit;\n"
	      "                         repeat to run several in order\n"
	      "  -t, --timeout MS       connect and reply timeout in milliseconds,"
	      " 0 = none (default 10000)\n"
	      "  -l, --log LEVEL        console: show log lines at LEVEL and above\n"
	      "                         (console alert crit err warning notice info debug)\n"
	      "  -q, --quiet            no banner\n"
	      "  -d, --debug            trace frames sent and received on stderr\n"
	      "  -h, --help             this text\n"
	      "  -V, --version          print the version\n\n"
	      "Exit status: 0 success; 1 a command answered -ERR or -USAGE;\n"
	      "2 bad usage, no connection, authentication or protocol failure.\n"
	      "In the console, type /help for its commands.\n", fp);
}

static bool parse_int(const char *s, long min, long max, int *vp)
{
	char *end;
	long v;

	if (!*s)
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*vp = (int)v;
	return true;
}

/* A password or command becomes one protocol line (spec §2.1): a line break in it
 * would start a header or a second command. */
static bool one_line(const char *what, const char *s)
{
	if (!strpbrk(s, "\r\n"))
		return true;
	cli_error("%s must not contain a line break", what);
	return false;
}

static bool check_opts(const struct opts *o)
{
	int port;

	if (!*o->host) {
		cli_error("empty host");
		return false;
	}
	if (!parse_int(o->port, 1, 65535, &port)) {
		cli_error("invalid port '%s' (1-65535)", o->port);
		return false;
	}
	if (!one_line("the password", o->password) ||
	    (o->log_level && !one_line("the log level", o->log_level)))
		return false;
	for (size_t i = 0; i < o->ncmds; i++) {
		if (!*o->cmds[i] || strspn(o->cmds[i], " \t") == strlen(o->cmds[i])) {
			cli_error("empty command given to -x");
			return false;
		}
		if (!one_line("a command", o->cmds[i]))
			return false;
	}
	return true;
}

/* Returns -1 to carry on, else the exit status. */
static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "port", required_argument, NULL, 'P' },
		{ "password", required_argument, NULL, 'p' },
		{ "execute", required_argument, NULL, 'x' },
		{ "timeout", required_argument, NULL, 't' },
		{ "log", required_argument, NULL, 'l' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":H:P:p:x:t:l:qdhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'H': o->host = optarg; break;
		case 'P': o->port = optarg; break;
		case 'p': o->password = optarg; break;
		case 'x': o->cmds[o->ncmds++] = optarg; break;
		case 'l': o->log_level = optarg; break;
		case 'q': o->quiet = true; break;
		case 'd': o->debug = true; break;
		case 'h': usage(stdout); return CLI_EXIT_OK;
		case 'V': printf("confab-cli %s\n", CONFAB_VERSION); return CLI_EXIT_OK;
		case 't':
			if (parse_int(optarg, 0, INT_MAX, &o->timeout_ms))
				break;
			cli_error("invalid timeout '%s' (milliseconds, 0 = none)", optarg);
			return CLI_EXIT_FAIL;
		case ':':
			cli_error("%s needs an argument; try 'confab-cli --help'",
				  argv[optind - 1]);
			return CLI_EXIT_FAIL;
		default:
			if (optopt)
				cli_error("unknown option -%c; try 'confab-cli --help'", optopt);
			else
				cli_error("unknown option %s; try 'confab-cli --help'",
					  argv[optind - 1]);
			return CLI_EXIT_FAIL;
		}
	}
	if (optind < argc) {
		cli_error("unexpected argument '%s'; try 'confab-cli --help'", argv[optind]);
		return CLI_EXIT_FAIL;
	}
	return check_opts(o) ? -1 : CLI_EXIT_FAIL;
}

/* -x mode's verdict on one answer (docs/cli.md "Exit status"). */
static int reply_status(const struct cli_frame *r)
{
	const char *s = cli_frame_is(r, "api/response") ? r->body
							 : cli_frame_header(r, "Reply-Text");

	if (s && (!strncmp(s, "-ERR", 4) || !strncmp(s, "-USAGE", 6)))
		return CLI_EXIT_CMDERR;
	return CLI_EXIT_OK;
}

/* Nothing is subscribed in -x mode, so the only unsolicited frame worth showing is a
 * disconnect notice: it says why the server is going away (spec §3). */
static void on_frame(const struct cli_frame *f, void *arg)
{
	size_t n = f->bodylen;

	if (!cli_frame_is(f, "text/disconnect-notice") || n == 0)
		return;
	while (n > 0 && f->body[n - 1] == '\n')
		n--;
	cli_error("server disconnects: %.*s", (int)n, f->body);
}

static int run_commands(struct cli_conn *c, const struct opts *o)
{
	struct cli_frame reply = { 0 };
	int status = CLI_EXIT_OK, err;

	for (size_t i = 0; i < o->ncmds; i++) {
		err = cli_conn_request(c, "api", o->cmds[i], &reply);
		if (err) {
			cli_error("api %s: %s", o->cmds[i], cli_conn_strerror(err));
			return CLI_EXIT_FAIL;
		}
		cli_print_reply(stdout, &reply);
		if (reply_status(&reply) != CLI_EXIT_OK)
			status = CLI_EXIT_CMDERR;
		cli_frame_reset(&reply);
		if (fflush(stdout) != 0) {
			cli_error("cannot write output: %s", strerror(errno));
			return CLI_EXIT_FAIL;
		}
	}
	c->async_h = NULL;          /* the goodbye after exit is expected */
	cli_conn_bye(c);
	return status;
}

int main(int argc, char **argv)
{
	struct opts o = {
		.host = "127.0.0.1", .port = "8021", .password = "ClueCon",
		.timeout_ms = 10000,
	};
	struct cli_conn c = { .fd = -1 };
	int status;

	setlocale(LC_CTYPE, "");
	/* A server that closes under us must give an error, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	o.cmds = calloc((size_t)argc, sizeof(*o.cmds));
	if (!o.cmds) {
		cli_error("out of memory");
		return CLI_EXIT_FAIL;
	}
	status = parse_opts(argc, argv, &o);
	if (status >= 0)
		goto out;
	c.timeout_ms = o.timeout_ms;
	c.debug = o.debug;
	status = CLI_EXIT_FAIL;
	if (cli_conn_open(&c, o.host, o.port) || cli_conn_auth(&c, o.password))
		goto out;
	if (o.ncmds > 0) {
		c.async_h = on_frame;
		status = run_commands(&c, &o);
	} else {
		struct cli_console_opts co = {
			.host = o.host, .log_level = o.log_level, .quiet = o.quiet,
		};
		status = cli_console_run(&c, &co);
	}
out:
	cli_conn_close(&c);
	free(o.cmds);
	return status;
}
