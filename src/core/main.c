/*
 * main.c - confabd: command line, start-up in dependency order, the signalling
 * loop, and an orderly shutdown.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <re.h>
#include "channel/channel.h"
#include "channel/channel_api.h"
#include "channel/loopback.h"
#include "channel/originate.h"
#include "conference/conference.h"
#include "core/acl.h"
#include "core/api.h"
#include "core/api_core.h"
#include "core/config.h"
#include "core/core_cfg.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/status.h"
#include "core/timer.h"
#include "core/uuid.h"
#include "core/vars.h"
#include "dialplan/app.h"
#include "dialplan/dialplan.h"
#include "dialplan/ivr.h"
#include "dialplan/say.h"
#include "lua/script.h"
#include "esl/esl.h"
#include "esl/esl_outbound.h"
#include "event/bus.h"
#include "event/event.h"
#include "media/media.h"
#include "sip/sip_ep.h"

struct options {
	const char *conf_dir;
	const char *pid_file;
	const char *log_file;
	const char *loglevel;
	bool daemon;
	bool console;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: confabd [options]\n"
		"  -c DIR         configuration directory (default: conf)\n"
		"  -nc            no console: run in the background (daemon)\n"
		"  -nf            stay in the foreground (the default)\n"
		"  -pid FILE      write the process id to FILE\n"
		"  -log FILE      log file (default: $${log_dir}/confab.log)\n"
		"  -loglevel LVL  console/file log level (overrides switch.conf)\n"
		"  -version       print the version and exit\n"
		"  -h, -help      this text\n");
}

static int parse_args(int argc, char **argv, struct options *o)
{
	int i;

	*o = (struct options){.conf_dir = "conf", .console = true};
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **target = NULL;

		if (!strcmp(a, "-c") || !strcmp(a, "-conf"))
			target = &o->conf_dir;
		else if (!strcmp(a, "-pid"))
			target = &o->pid_file;
		else if (!strcmp(a, "-log"))
			target = &o->log_file;
		else if (!strcmp(a, "-loglevel"))
			target = &o->loglevel;
		else if (!strcmp(a, "-nc")) {
			o->daemon = true;
			o->console = false;
		} else if (!strcmp(a, "-nf")) {
			o->daemon = false;
			o->console = true;
		} else if (!strcmp(a, "-version")) {
			printf("%s %s\n", CONFAB_PRODUCT, status_version_full());
			exit(0);
		} else if (!strcmp(a, "-h") || !strcmp(a, "-help") || !strcmp(a, "--help")) {
			usage(stdout);
			exit(0);
		} else {
			fprintf(stderr, "confabd: unknown option '%s'\n", a);
			usage(stderr);
			return EINVAL;
		}
		if (target) {
			if (++i >= argc) {
				fprintf(stderr, "confabd: %s needs a value\n", a);
				return EINVAL;
			}
			*target = argv[i];
		}
	}
	if (o->loglevel) {
		enum log_level l;

		if (log_level_parse(o->loglevel, &l)) {
			fprintf(stderr, "confabd: unknown log level '%s' (console, alert, crit, "
				"err, warning, notice, info, debug or 0-7)\n", o->loglevel);
			return EINVAL;
		}
	}
	return 0;
}

/* Take every file descriptor the system allows: each client holds one. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (!getrlimit(RLIMIT_NOFILE, &rl))
		fd_setsize(rl.rlim_cur > 65536 ? 65536 : (int)rl.rlim_cur);
}

static int mkdir_p(const char *path)
{
	char buf[4096];
	size_t i;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return ENAMETOOLONG;
	for (i = 1; buf[i]; i++) {
		if (buf[i] != '/')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return errno;
		buf[i] = '/';
	}
	return mkdir(buf, 0755) && errno != EEXIST ? errno : 0;
}

static int open_log(const struct options *o)
{
	char path[4096];
	char *dir = vars_global_dup("log_dir");
	int err;

	if (o->log_file)
		snprintf(path, sizeof(path), "%s", o->log_file);
	else
		snprintf(path, sizeof(path), "%s/confab.log", dir ? dir : "log");
	if (!o->log_file && dir && (err = mkdir_p(dir))) {
		fprintf(stderr, "confabd: cannot create log directory %s: %s\n", dir,
			strerror(err));
		mem_deref(dir);
		return err;
	}
	mem_deref(dir);
	err = log_open(path);
	if (err)
		fprintf(stderr, "confabd: cannot open log file %s: %s\n", path, strerror(err));
	return err;
}

static int write_pid(const char *file)
{
	FILE *f;
	long other;

	f = fopen(file, "r");
	if (f) {
		if (fscanf(f, "%ld", &other) == 1 && other > 0 && kill((pid_t)other, 0) == 0) {
			fclose(f);
			fprintf(stderr, "confabd: already running as pid %ld (%s)\n", other, file);
			return EEXIST;
		}
		fclose(f);
	}
	f = fopen(file, "w");
	if (!f) {
		fprintf(stderr, "confabd: cannot write pid file %s: %s\n", file, strerror(errno));
		return errno;
	}
	fprintf(f, "%ld\n", (long)getpid());
	fclose(f);
	return 0;
}

/*
 * Background mode forks before anything else starts (threads do not survive a
 * fork). The parent waits on a pipe until the child has loaded its
 * configuration and bound its ports, and exits with the child's verdict, so a
 * refused start is still reported to whoever ran confabd.
 */
static int daemon_pipe = -1;

static int daemonize(void)
{
	int fds[2];
	pid_t pid;
	char status = 1;

	if (pipe(fds))
		return errno;
	pid = fork();
	if (pid < 0)
		return errno;
	if (pid > 0) {
		close(fds[1]);
		if (read(fds[0], &status, 1) != 1)
			status = 1;
		_exit(status);
	}
	close(fds[0]);
	daemon_pipe = fds[1];
	return setsid() < 0 ? errno : 0;
}

/* Tell the waiting parent how start-up went; detach from the terminal. */
static void daemon_ready(bool ok)
{
	char status = ok ? 0 : 1;
	int fd;

	if (daemon_pipe < 0)
		return;
	if (write(daemon_pipe, &status, 1) != 1)
		status = 1;
	close(daemon_pipe);
	daemon_pipe = -1;
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
}

static void set_identity(void)
{
	char uuid[UUID_STRLEN + 1], host[256] = "localhost";
	char *sw = vars_global_dup("switchname");
	char *v4 = vars_global_dup("local_ip_v4");
	char *v6 = vars_global_dup("local_ip_v6");
	struct event_identity id;

	cfuuid_generate(uuid);
	gethostname(host, sizeof(host) - 1);
	vars_global_set("core_uuid", uuid);
	id = (struct event_identity){uuid, host, sw ? sw : host, v4 ? v4 : "127.0.0.1",
				     v6 ? v6 : "::1"};
	event_identity_set(&id);
	mem_deref(sw);
	mem_deref(v4);
	mem_deref(v6);
}

static volatile sig_atomic_t stop_signal;

/* libre calls this inside the signal handler: only async-signal-safe work here. */
static void on_signal(int sig)
{
	stop_signal = sig;
	re_cancel();
}

/* Everything that needs the configuration; fails before anything listens. */
static int start(const struct options *o, struct config *cfg)
{
	struct core_cfg cc;
	struct esl_cfg ec = {0};
	char err[1024] = "";
	enum log_level lvl;
	int rc;

	rc = core_cfg_load(&cc, cfg, err, sizeof(err));
	if (rc)
		goto out;
	if (o->loglevel && !log_level_parse(o->loglevel, &lvl))
		cc.loglevel = lvl;
	log_set_level(cc.loglevel);
	/* Every check of the configuration before anything binds a port. */
	rc = acl_init(cfg);
	if (!rc)
		rc = esl_cfg_load(&ec, cfg, err, sizeof(err));
	if (rc)
		goto out;
	rc = status_init(&cc.status);
	rc = rc ? rc : api_core_init();
	rc = rc ? rc : config_on_reload(acl_reload);
	rc = rc ? rc : channel_init();
	rc = rc ? rc : channel_api_init();
	rc = rc ? rc : channel_ep_register("error", originate_error_ep);
	rc = rc ? rc : channel_ep_register("loopback", loopback_call);
	rc = rc ? rc : app_init();
	rc = rc ? rc : esl_outbound_init();
	rc = rc ? rc : media_init(&cc.media);
	if (rc) {
		snprintf(err, sizeof(err), "core start-up failed: %s", strerror(rc));
		goto out;
	}
	/* Before the dialplan: it checks that the applications it names exist. */
	rc = conference_init(cfg, err, sizeof(err));
	if (!rc)
		rc = script_init(cfg, err, sizeof(err));
	if (!rc)
		rc = phrase_load(cfg, err, sizeof(err));
	if (!rc)
		rc = config_on_reload(phrase_reload);
	if (!rc)
		rc = ivr_load(cfg, err, sizeof(err));
	if (!rc)
		rc = config_on_reload(ivr_reload);
	if (!rc)
		rc = dialplan_init(cfg, err, sizeof(err));
	if (!rc)
		rc = config_on_reload(dialplan_reload);
	if (!rc)
		rc = sipep_init(cfg, err, sizeof(err));
	if (!rc)
		rc = esl_start(&ec);
 out:
	esl_cfg_reset(&ec);
	if (rc)
		log_crit("%s\n", err[0] ? err : strerror(rc));
	return rc;
}

int main(int argc, char **argv)
{
	struct options o;
	struct config *cfg = NULL;
	char err[1024] = "";
	bool wrote_pid = false;
	int rc;

	if (parse_args(argc, argv, &o))
		return 2;
	signal(SIGPIPE, SIG_IGN);
	/* Terminal hang-ups and user signals must not kill a server. */
	signal(SIGHUP, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	signal(SIGUSR2, SIG_IGN);
	if (o.daemon && (rc = daemonize())) {
		fprintf(stderr, "confabd: cannot become a daemon: %s\n", strerror(rc));
		return 1;
	}
	rc = libre_init();
	if (rc) {
		fprintf(stderr, "confabd: libre_init failed: %s\n", strerror(rc));
		return 1;
	}
	if (timer_init()) {
		fprintf(stderr, "confabd: libre's timer functions are not the ones in "
			"src/core/timer.c (is libre linked statically?)\n");
		libre_close();
		return 1;
	}
	raise_fd_limit();
	vars_init();
	api_init();
	bus_init();

	rc = config_load(&cfg, o.conf_dir, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "confabd: cannot load configuration: %s\n", err);
		goto out;
	}
	config_set_current(cfg);
	set_identity();
	rc = open_log(&o);
	if (rc && !o.console)
		goto out;
	rc = o.pid_file ? write_pid(o.pid_file) : 0;
	if (rc)
		goto out;
	wrote_pid = o.pid_file != NULL;
	rc = loop_init();
	if (!rc)
		rc = start(&o, cfg);
	if (rc)
		goto out;

	log_notice("%s %s ready (Core-UUID %s)\n", CONFAB_PRODUCT, status_version_full(),
		   event_core_uuid());
	log_set_console(o.console);
	daemon_ready(true);
	status_fire_startup();
	rc = re_main(on_signal);
	if (stop_signal)
		log_notice("signal %d received, shutting down\n", (int)stop_signal);
	status_fire_shutdown();
	script_close();
	channel_close();
	esl_stop();
 out:
	script_close();
	conference_close();
	dialplan_close();
	phrase_close();
	ivr_close();
	sipep_close();
	media_close();
	app_close();
	status_close();
	config_reload_hooks_clear();
	acl_close();
	loop_close();
	config_set_current(NULL);
	mem_deref(cfg);
	bus_close();
	api_close();
	vars_close();
	log_close();
	if (wrote_pid)
		unlink(o.pid_file);
	daemon_ready(false);
	libre_close();
	return rc ? 1 : 0;
}
