/*
 * cli.h - confab-cli, an fs_cli-like console for the event socket (spec/event-socket.md).
 * A standalone client: plain POSIX sockets and libedit, no libre and no server code.
 */
#ifndef CONFAB_CLI_H
#define CONFAB_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#ifndef CONFAB_VERSION
#define CONFAB_VERSION "unknown"
#endif

/* Exit statuses (docs/cli.md). */
enum cli_exit {
	CLI_EXIT_OK     = 0,   /* every command succeeded / the console ended normally */
	CLI_EXIT_CMDERR = 1,   /* a command answered -ERR or -USAGE */
	CLI_EXIT_FAIL   = 2,   /* bad usage, cannot connect, authentication or protocol failure */
};

/* "confab-cli: <message>\n" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));


/* ---- frame.c: one server -> client message (spec §2.2), pure parsing ---- */

/* A body larger than this is refused rather than buffered (a hostile or broken peer
 * must not make us allocate without bound). */
#define CLI_BODY_MAX ((size_t)64 * 1024 * 1024)
/* Real header blocks are a few hundred bytes; this only bounds a peer that never
 * sends the blank line. */
#define CLI_HEAD_MAX ((size_t)1024 * 1024)

struct cli_header {
	char *name;             /* both point into cli_frame.head */
	char *value;            /* leading spaces skipped, trailing CR removed */
};

struct cli_frame {
	char *head;             /* private copy of the header block, split in place */
	struct cli_header *hdrv;
	size_t hdrc;
	char *body;             /* bodylen bytes plus a NUL; NULL without Content-Length */
	size_t bodylen;
};

/*
 * Parse one frame from the start of data[0..len). Returns 0 and sets *usedp to the
 * bytes it spans; EAGAIN when more bytes are needed; EBADMSG for a malformed
 * Content-Length; EMSGSIZE when the header block or body exceeds the limits above;
 * ENOMEM. Leading blank lines are skipped; lines may end in "\n" or "\r\n".
 * The frame must be empty (zeroed or reset) on entry; free it with cli_frame_reset.
 */
int  cli_frame_parse(struct cli_frame *f, const char *data, size_t len, size_t *usedp);
void cli_frame_reset(struct cli_frame *f);
/* First header of that name (case-insensitive), or NULL. */
const char *cli_frame_header(const struct cli_frame *f, const char *name);
/* Content-Type equals type (case-insensitive). */
bool cli_frame_is(const struct cli_frame *f, const char *type);
/* A command/reply or api/response: the answer to the command in flight. */
bool cli_frame_is_reply(const struct cli_frame *f);


/* ---- conn.c: the TCP connection, authentication and request/reply ---- */

/* Called for every frame that is not the reply being waited for (events, log lines,
 * disconnect notices, late replies). */
typedef void (cli_frame_h)(const struct cli_frame *f, void *arg);

struct cli_conn {
	int fd;
	int timeout_ms;                 /* connect and each reply; 0 waits forever */
	bool debug;                     /* trace frames on stderr */
	volatile sig_atomic_t *cancel;  /* when set by a signal handler, waits give up */
	unsigned stale;                 /* replies still owed to requests we gave up on */
	char label[300];                /* "host:port" / "[v6]:port" for messages */
	char *buf;
	size_t start, end, cap;
	cli_frame_h *async_h;
	void *arg;
};

/* Resolve and connect within c->timeout_ms; prints its own diagnostics.
 * Returns 0 or an errno value. */
int  cli_conn_open(struct cli_conn *c, const char *host, const char *port);
void cli_conn_close(struct cli_conn *c);
/* Read the auth/request greeting, send `auth`, expect +OK. Prints its own
 * diagnostics ("authentication failed"). Returns 0 or an errno value. */
int  cli_conn_auth(struct cli_conn *c, const char *password);
/* Send "verb[ args]\n\n" and wait for the command/reply or api/response, which is
 * returned in *reply (free with cli_frame_reset). Other frames go to async_h.
 * Returns 0, ETIMEDOUT, EINTR (cancelled), ENOTCONN (closed by the server),
 * EBADMSG/EMSGSIZE (bad frame) or another errno value. */
int  cli_conn_request(struct cli_conn *c, const char *verb, const char *args,
		      struct cli_frame *reply);
/* Polite goodbye: `exit`, then read until the server closes (frames to async_h). */
void cli_conn_bye(struct cli_conn *c);
/* One recv() into the buffer (socket must be readable). 0, ENOTCONN or errno. */
int  cli_conn_fill(struct cli_conn *c);
/* Hand every complete buffered frame to async_h. 0 or a framing error. */
int  cli_conn_dispatch(struct cli_conn *c);
/* Like strerror, plus the meanings given above to ENOTCONN, EBADMSG, EMSGSIZE. */
const char *cli_conn_strerror(int err);


/* ---- render.c / json.c: showing frames to a human ---- */

/* The body exactly, then a newline only if it did not end with one. */
void cli_print_body(FILE *fp, const char *body, size_t len);
/* The answer to a command: an api/response body or a command/reply Reply-Text. */
void cli_print_reply(FILE *fp, const struct cli_frame *reply);
/* An asynchronous frame: log line (coloured by level if color), event, notice. */
void cli_print_frame(FILE *fp, const struct cli_frame *f, bool color);
/* Decode %XX escapes in place (FreeSWITCH's url encoding); returns the new length. */
size_t cli_url_decode(char *s);
/* A text/event-json body as "Name: value" lines, then its _body. Prints nothing and
 * returns EBADMSG if it is not a flat JSON object; ENOMEM. */
int  cli_json_event_print(FILE *fp, const char *json, size_t len);


/* ---- console.c / command.c: the interactive console ---- */

struct cli_console_opts {
	const char *host;               /* for the prompt */
	const char *log_level;          /* subscribe at start-up; NULL: none */
	bool quiet;                     /* no banner, no goodbye after /exit */
};

/* Runs until /exit, end of input or disconnect; returns an enum cli_exit. */
int cli_console_run(struct cli_conn *c, const struct cli_console_opts *o);

struct cli_console;
/* Send "verb[ args]", print the reply (or why there is none). Returns 0, or an errno
 * value once the connection is unusable (already reported). */
int  cli_console_send(struct cli_console *con, const char *verb, const char *args);
/* Say exit, show the goodbye, end the console. */
void cli_console_quit(struct cli_console *con);

/* command.c: run a console command, a line starting with '/' (or "..."). Returns 0,
 * or an errno value once the connection is unusable. */
int  cli_command_run(struct cli_console *con, const char *line);

#endif
