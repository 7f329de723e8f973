/*
 * command.c - the console's own commands (/event, /log, /exit, ...): most map onto one
 * event-socket command (spec §4); /help and the exits are handled locally.
 */
#include <string.h>

#include "cli/cli.h"

enum cli_args { ARGS_NONE, ARGS_OPTIONAL, ARGS_REQUIRED };

struct cli_cmd {
	const char *name;       /* typed after the '/' */
	const char *verb;       /* event-socket command sent; NULL: handled here */
	enum cli_args args;
	const char *usage;
	const char *help;
};

static const struct cli_cmd cmds[] = {
	{ "help", NULL, ARGS_NONE, "", "this text" },
	{ "exit", NULL, ARGS_NONE, "", "leave the console (also /quit, /bye, ...)" },
	{ "quit", NULL, ARGS_NONE, "", NULL },
	{ "bye", NULL, ARGS_NONE, "", NULL },
	{ "event", "event", ARGS_REQUIRED, "<plain|json|xml> <name...>",
	  "show events, e.g. /event plain ALL, /event plain CUSTOM conference::maintenance" },
	{ "nixevent", "nixevent", ARGS_REQUIRED, "<name...>", "stop showing some events" },
	{ "noevents", "noevents", ARGS_NONE, "", "stop showing events" },
	{ "filter", "filter", ARGS_REQUIRED, "<header> <value> | delete <header> [<value>]",
	  "only show events with that header value; /filter delete all removes filters" },
	{ "log", "log", ARGS_OPTIONAL, "[<level>]",
	  "show log lines at level and above: console alert crit err warning notice info debug" },
	{ "nolog", "nolog", ARGS_NONE, "", "stop showing log lines" },
	{ "bgapi", "bgapi", ARGS_REQUIRED, "<command>",
	  "run an api command in the background; its result comes as a BACKGROUND_JOB event" },
};
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static void help(void)
{
	puts("Console commands:");
	for (size_t i = 0; i < NCMDS; i++) {
		if (cmds[i].help)
			printf("  /%s %s\n      %s\n", cmds[i].name, cmds[i].usage, cmds[i].help);
	}
	puts("Any other line runs as an api command, e.g. status, conference list.");
}

static const struct cli_cmd *lookup(const char *name, size_t len)
{
	for (size_t i = 0; i < NCMDS; i++) {
		if (strlen(cmds[i].name) == len && !strncmp(cmds[i].name, name, len))
			return &cmds[i];
	}
	return NULL;
}

int cli_command_run(struct cli_console *con, const char *line)
{
	const struct cli_cmd *cmd;
	const char *name = line + 1, *args;
	size_t len;

	/* "..." is the event socket's own alias for exit (spec §4). */
	if (!strcmp(line, "...")) {
		cli_console_quit(con);
		return 0;
	}
	len = strcspn(name, " \t");
	args = name + len + strspn(name + len, " \t");
	cmd = lookup(name, len);
	if (!cmd) {
		cli_error("unknown command /%.*s; /help lists them", (int)len, name);
		return 0;
	}
	if ((cmd->args == ARGS_REQUIRED && !*args) || (cmd->args == ARGS_NONE && *args)) {
		cli_error("usage: /%s %s", cmd->name, cmd->usage);
		return 0;
	}
	if (cmd->verb)
		return cli_console_send(con, cmd->verb, *args ? args : NULL);
	if (!strcmp(cmd->name, "help"))
		help();
	else
		cli_console_quit(con);
	return 0;
}
