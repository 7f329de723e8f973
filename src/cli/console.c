/*
 * console.c - the interactive console: libedit line editing and history, with server
 * frames (events, log lines, notices) printed while the user types.
 */
#include <errno.h>
#include <histedit.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wchar.h>

#include "cli/cli.h"

#define HISTORY_FILE ".confab_cli_history"
#define HISTORY_SIZE 1000

struct cli_console {
	struct cli_conn *conn;
	EditLine *el;
	History *hist;
	char *histfile;          /* NULL: no history file (HOME unset, not a terminal) */
	char prompt[300];
	bool editing;            /* stdin and stdout are terminals: libedit owns the line */
	bool color;
	bool quiet;              /* no banner, no goodbye after our own exit */
	bool in_gets;            /* inside el_gets: async output must redraw the prompt */
	bool wiped;              /* the prompt line was cleared for async output */
	bool interrupted;        /* Ctrl-C at the prompt: drop the line */
	bool closing;            /* we said exit, so a disconnect is expected */
	bool closed;             /* the connection is gone */
	int status;
};

/* Set by signal handlers. SIGINT cancels the line or the wait for a reply;
 * SIGTERM and SIGHUP also end the console. */
static volatile sig_atomic_t sig_interrupt, sig_quit, sig_winch;

static void on_signal(int sig)
{
	if (sig == SIGWINCH) {
		sig_winch = 1;
		return;
	}
	sig_interrupt = 1;
	if (sig != SIGINT)
		sig_quit = 1;
}

/* No SA_RESTART: poll() must return EINTR so waits notice the flags. libedit's own
 * EL_SIGNAL handling is not used because it re-raises to the whole process group. */
static int install_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGWINCH };
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		if (sigaction(sigs[i], &sa, NULL) < 0)
			return errno;
	}
	return 0;
}

/* Rows between the prompt's first row and the cursor, for an edited line that
 * wraps (prompt and line widths counted in terminal columns). */
static int cursor_row(struct cli_console *con)
{
	const LineInfoW *li = el_wline(con->el);
	int cols = 0, width = (int)strlen(con->prompt), w;

	if (!li || el_get(con->el, EL_GETTC, "co", &cols, NULL) != 0 || cols <= 0)
		return 0;
	for (const wchar_t *p = li->buffer; p < li->cursor; p++) {
		w = wcwidth(*p);
		width += w > 0 ? w : 0;
	}
	return width / cols;
}

/* Clears the prompt and the line being edited before async output, so frames do
 * not land in the middle of it; show_frames redraws it afterwards. */
static void wipe_prompt(struct cli_console *con)
{
	int row;

	if (!con->in_gets || !con->editing || con->wiped)
		return;
	row = cursor_row(con);
	if (row > 0)
		printf("\033[%dA", row);
	fputs("\r\033[J", stdout);
	con->wiped = true;
}

static void on_frame(const struct cli_frame *f, void *arg)
{
	struct cli_console *con = arg;
	const char *disp = cli_frame_header(f, "Content-Disposition");

	/* A linger notice (outbound sockets, spec §7.3) is not the end yet. */
	bool bye = cli_frame_is(f, "text/disconnect-notice") &&
		   !(disp && !strcmp(disp, "linger"));

	if (!(bye && con->closing && con->quiet)) {
		wipe_prompt(con);
		cli_print_frame(stdout, f, con->color);
		fflush(stdout);
	}
	if (bye) {
		con->closed = true;
		if (!con->closing)
			con->status = CLI_EXIT_FAIL;
	}
}

static void connection_lost(struct cli_console *con, int err)
{
	if (!con->closed && !(con->closing && err == ENOTCONN)) {
		wipe_prompt(con);
		cli_error("connection to %s lost: %s", con->conn->label, cli_conn_strerror(err));
		con->status = CLI_EXIT_FAIL;
	}
	con->closed = true;
}

/* Prints every complete frame already buffered, then redraws the prompt. */
static void show_frames(struct cli_console *con)
{
	int err = cli_conn_dispatch(con->conn);

	if (err)
		connection_lost(con, err);
	if (con->wiped) {
		con->wiped = false;
		if (!con->closed)
			el_set(con->el, EL_REFRESH);
	}
}

/* Waits for a key while printing server frames. 1: stdin is readable; 0: the console
 * must end; -1 (errno EINTR): Ctrl-C. */
static int wait_stdin(struct cli_console *con)
{
	struct pollfd p[2] = {
		{ .fd = STDIN_FILENO, .events = POLLIN },
		{ .fd = con->conn->fd, .events = POLLIN },
	};
	int err;

	for (;;) {
		show_frames(con);
		if (con->closed || sig_quit)
			return 0;
		if (sig_interrupt) {
			sig_interrupt = 0;
			con->interrupted = true;
			errno = EINTR;
			return -1;
		}
		if (sig_winch && con->editing) {
			sig_winch = 0;
			el_resize(con->el);
			el_set(con->el, EL_REFRESH);
		}
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			connection_lost(con, errno);
			return 0;
		}
		if (p[1].revents) {
			err = cli_conn_fill(con->conn);
			if (err)
				connection_lost(con, err);
			continue;
		}
		if (p[0].revents)
			return 1;
	}
}

/* libedit's character source (EL_GETCFN): stdin, decoded from the locale's multibyte
 * encoding like libedit's built-in reader, with the socket served in between. */
static int console_getc(EditLine *el, wchar_t *wc)
{
	struct cli_console *con;
	char mb[MB_LEN_MAX];
	mbstate_t st;
	size_t n = 0, k;
	ssize_t r;
	int ready;

	if (el_get(el, EL_CLIENTDATA, &con) != 0)
		return -1;
	for (;;) {
		ready = wait_stdin(con);
		if (ready <= 0)
			return ready;
		r = read(STDIN_FILENO, mb + n, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return (int)r;
		n++;
		memset(&st, 0, sizeof(st));
		k = mbrtowc(wc, mb, n, &st);
		if (k == (size_t)-2 && n < sizeof(mb))
			continue;
		if (k == (size_t)-1 || k == (size_t)-2) {
			n = 0;              /* invalid sequence: dropped, as libedit does */
			continue;
		}
		return 1;
	}
}

static char *prompt_fn(EditLine *el)
{
	struct cli_console *con;

	if (el_get(el, EL_CLIENTDATA, &con) != 0)
		return "> ";
	return con->prompt;
}

static void history_open(struct cli_console *con)
{
	const char *home = getenv("HOME");
	HistEvent ev;

	con->hist = history_init();
	if (!con->hist)
		return;
	history(con->hist, &ev, H_SETSIZE, HISTORY_SIZE);
	history(con->hist, &ev, H_SETUNIQUE, 1);
	el_set(con->el, EL_HIST, history, con->hist);
	if (!home || !*home || asprintf(&con->histfile, "%s/%s", home, HISTORY_FILE) < 0) {
		con->histfile = NULL;
		return;
	}
	history(con->hist, &ev, H_LOAD, con->histfile);   /* absent the first time */
}

/* Commands can carry secrets (originate strings, passwords): keep the file private.
 * Failing to save is not worth an error at exit. */
static void history_close(struct cli_console *con)
{
	HistEvent ev;

	if (con->hist && con->histfile && history(con->hist, &ev, H_SAVE, con->histfile) >= 0)
		(void)chmod(con->histfile, S_IRUSR | S_IWUSR);
	if (con->hist)
		history_end(con->hist);
	free(con->histfile);
}

static int editor_open(struct cli_console *con)
{
	con->el = el_init("confab-cli", stdin, stdout, stderr);
	if (!con->el) {
		cli_error("cannot set up line editing");
		return ENOMEM;
	}
	el_set(con->el, EL_CLIENTDATA, con);
	el_set(con->el, EL_PROMPT, prompt_fn);
	el_set(con->el, EL_EDITOR, "emacs");
	/* libedit binds ^R to redisplay; readline users expect history search. */
	el_set(con->el, EL_BIND, "^R", "em-inc-search-prev", NULL);
	el_set(con->el, EL_GETCFN, console_getc);
	el_source(con->el, NULL);         /* the user's ~/.editrc, if any */
	if (con->editing)
		history_open(con);
	return 0;
}

int cli_console_send(struct cli_console *con, const char *verb, const char *args)
{
	struct cli_frame reply = { 0 };
	int err = cli_conn_request(con->conn, verb, args, &reply);

	switch (err) {
	case 0:
		cli_print_reply(stdout, &reply);
		cli_frame_reset(&reply);
		break;
	case ETIMEDOUT:
	case EINTR:
		sig_interrupt = 0;
		if (err == EINTR && con->editing)
			fputc('\n', stdout);       /* past the "^C" the terminal echoed */
		cli_error("%s; the reply is shown if it comes later",
			  err == EINTR ? "interrupted" : "no reply in time");
		err = 0;
		break;
	default:
		connection_lost(con, err);
		break;
	}
	fflush(stdout);
	return err;
}

void cli_console_quit(struct cli_console *con)
{
	con->closing = true;
	if (!con->closed)
		cli_conn_bye(con->conn);
	con->closed = true;
}

/* Runs one line as typed; returns false when the console must end. */
static bool handle_line(struct cli_console *con, const char *line)
{
	const char *start = line + strspn(line, " \t");
	size_t len = strlen(start);
	char *cmd;
	HistEvent ev;

	while (len > 0 && strchr(" \t\r\n", start[len - 1]))
		len--;
	if (len == 0)
		return true;
	cmd = strndup(start, len);
	if (!cmd) {
		cli_error("out of memory");
		return false;
	}
	if (con->hist)
		history(con->hist, &ev, H_ENTER, cmd);
	if (cmd[0] == '/' || !strcmp(cmd, "..."))
		cli_command_run(con, cmd);
	else
		cli_console_send(con, "api", cmd);
	free(cmd);
	show_frames(con);
	return !con->closed;
}

static void run_loop(struct cli_console *con)
{
	const char *line;
	int count;

	while (!con->closed && !sig_quit) {
		con->in_gets = true;
		line = el_gets(con->el, &count);
		con->in_gets = false;
		if (con->interrupted) {
			con->interrupted = false;
			if (con->editing)
				fputs("\n", stdout);
			continue;
		}
		if (!line) {
			if (con->editing && !con->closed)
				fputs("\n", stdout);
			break;
		}
		if (!handle_line(con, line))
			break;
	}
	if (!con->closed)
		cli_console_quit(con);
}

static void banner(const struct cli_console *con)
{
	if (con->quiet)
		return;
	printf("confab-cli %s connected to %s\n"
	       "Type /help for console commands, /exit or Ctrl-D to leave.\n\n",
	       CONFAB_VERSION, con->conn->label);
}

static void subscribe_log(struct cli_console *con, const char *level)
{
	struct cli_frame reply = { 0 };
	const char *text;
	int err = cli_conn_request(con->conn, "log", level, &reply);

	if (err) {
		connection_lost(con, err);
		return;
	}
	text = cli_frame_header(&reply, "Reply-Text");
	if (!text || strncmp(text, "+OK", 3) != 0)
		cli_error("log %s: %s", level, text ? text : "no Reply-Text");
	cli_frame_reset(&reply);
}

int cli_console_run(struct cli_conn *c, const struct cli_console_opts *o)
{
	struct cli_console con = {
		.conn = c,
		.editing = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO),
		.quiet = o->quiet,
		.status = CLI_EXIT_OK,
	};
	const char *nocolor = getenv("NO_COLOR"), *term = getenv("TERM");
	int err;

	con.color = isatty(STDOUT_FILENO) && !(nocolor && *nocolor) &&
		    !(term && !strcmp(term, "dumb"));
	snprintf(con.prompt, sizeof(con.prompt), "confab@%s> ", o->host);
	c->async_h = on_frame;
	c->arg = &con;
	c->cancel = &sig_interrupt;
	err = install_signals();
	if (err) {
		cli_error("cannot install signal handlers: %s", strerror(err));
		return CLI_EXIT_FAIL;
	}
	if (editor_open(&con))
		return CLI_EXIT_FAIL;
	banner(&con);
	if (o->log_level)
		subscribe_log(&con, o->log_level);
	fflush(stdout);
	run_loop(&con);
	history_close(&con);
	el_end(con.el);
	c->async_h = NULL;
	return con.status;
}
