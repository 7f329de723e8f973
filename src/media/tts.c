/*
 * tts.c - text to speech through the espeak-ng program: one child process per
 * synthesis, text on its stdin, a WAV file out; its end is seen on a pidfd.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <re.h>
#include "core/log.h"
#include "core/vars.h"
#include "media/tts.h"

extern char **environ;

#define ESPEAK_PROGRAM  "espeak-ng"
#define DEFAULT_VOICE   "en-us"
#define WORDS_PER_MIN   "160"
/* A pipe takes 64 KiB before a writer would block: the text is written at once. */
#define MAX_TEXT        60000
/* Synthesisers running at once; more is refused rather than queued for ever. */
#define MAX_JOBS        32
#define ERR_TEXT        240

struct tts_job {
	pid_t pid;
	int pidfd, errfd;
	char *path;
	tts_done_h *h;
	void *arg;
};

/*
 * flite's voices (mod_flite: kal, kal16, awb, rms, slt) and the espeak-ng
 * voices closest to them: the male US voice, a female and a second male one,
 * and a Scottish one for awb.
 */
static const struct { const char *flite, *espeak; } flite_voices[] = {
	{"kal", "en-us"}, {"kal16", "en-us"}, {"slt", "en-us+f3"},
	{"rms", "en-us+m3"}, {"awb", "en-gb-scotland"},
};

static unsigned running;
static unsigned seq;

int tts_voice(const char *engine, const char *voice, char **outp)
{
	size_t i;

	if (!outp)
		return EINVAL;
	if (!engine || !*engine)
		engine = "espeak";
	if (!strcasecmp(engine, "espeak") || !strcasecmp(engine, "espeak-ng")) {
		if (!voice || !*voice || !strcasecmp(voice, "default"))
			voice = DEFAULT_VOICE;
		/* A name, never an option or a path for the program. */
		if (voice[0] == '-' || strchr(voice, '/'))
			return ENOENT;
		return str_dup(outp, voice);
	}
	if (!strcasecmp(engine, "flite")) {
		if (!voice || !*voice)
			voice = "kal";
		for (i = 0; i < ARRAY_SIZE(flite_voices); i++)
			if (!strcasecmp(voice, flite_voices[i].flite))
				return str_dup(outp, flite_voices[i].espeak);
		return ENOENT;
	}
	return ENOTSUP;
}

void tts_split(char *buf, char **enginep, char **voicep, char **textp)
{
	char *a = strchr(buf, '|'), *b = a ? strchr(a + 1, '|') : NULL;

	*enginep = *voicep = NULL;
	/* mod_dptools speak: "text", "voice|text" or "engine|voice|text". */
	if (!a) {
		*textp = buf;
		return;
	}
	*a = '\0';
	if (!b) {
		*voicep = buf;
		*textp = a + 1;
		return;
	}
	*b = '\0';
	*enginep = buf;
	*voicep = a + 1;
	*textp = b + 1;
}

static void job_reap(struct tts_job *j, int *statusp)
{
	if (j->pidfd >= 0) {
		fd_close(j->pidfd);
		close(j->pidfd);
		j->pidfd = -1;
	}
	if (j->pid > 0) {
		while (waitpid(j->pid, statusp, 0) < 0 && errno == EINTR)
			;
		j->pid = 0;
		running--;
	}
}

static void job_destructor(void *data)
{
	struct tts_job *j = data;

	/* Still synthesising: nobody wants it any more. */
	if (j->pid > 0)
		(void)kill(j->pid, SIGKILL);
	job_reap(j, NULL);
	if (j->errfd >= 0)
		close(j->errfd);
	if (j->path)
		(void)unlink(j->path);
	mem_deref(j->path);
}

/* The child ended (the pidfd is readable): reaping cannot wait. */
static void job_exited(int flags, void *arg)
{
	struct tts_job *j = arg;
	char msg[ERR_TEXT + 1] = "";
	int status = -1, err = 0;
	ssize_t n;

	(void)flags;
	job_reap(j, &status);
	if (j->errfd >= 0) {
		n = read(j->errfd, msg, ERR_TEXT);
		msg[n > 0 ? n : 0] = '\0';
		msg[strcspn(msg, "\r\n")] = '\0';
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		log_warn("tts: %s failed (%s %d)%s%s\n", ESPEAK_PROGRAM,
			 WIFEXITED(status) ? "exit" : "signal",
			 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
			 msg[0] ? ": " : "", msg);
		err = EIO;
	}
	mem_ref(j);
	j->h(err, err ? NULL : j->path, j->arg);
	mem_deref(j);
}

static int temp_path(char **pathp)
{
	char *dir = vars_global_dup("temp_dir");
	const char *d = dir && *dir ? dir : getenv("TMPDIR");
	int err;

	err = re_sdprintf(pathp, "%s/confab-tts-%d-%u.wav", d && *d ? d : "/tmp",
			  (int)getpid(), ++seq);
	mem_deref(dir);
	return err;
}

/* espeak-ng -v voice -s wpm -w path, text on stdin, its complaints on a pipe. */
static int job_spawn(struct tts_job *j, const char *voice, const char *text)
{
	char *argv[] = {ESPEAK_PROGRAM, "-v", (char *)voice, "-s", WORDS_PER_MIN,
			"-w", j->path, NULL};
	posix_spawn_file_actions_t fa;
	int in[2] = {-1, -1}, errp[2] = {-1, -1};
	size_t len = strlen(text);
	int err;

	if (pipe2(in, O_CLOEXEC) || pipe2(errp, O_CLOEXEC | O_NONBLOCK))
		goto sys;
	err = posix_spawn_file_actions_init(&fa);
	if (err)
		goto out;
	err = posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	err = err ? err : posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	err = err ? err : posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
	/* Nothing of the server's (sockets, files) goes to the child. */
	err = err ? err : posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	err = err ? err : posix_spawnp(&j->pid, ESPEAK_PROGRAM, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (err) {
		j->pid = 0;
		goto out;
	}
	running++;
	if (len > MAX_TEXT) {
		log_warn("tts: text of %zu bytes cut to %u\n", len, MAX_TEXT);
		len = MAX_TEXT;
	}
	/* The pipe is empty and holds more than MAX_TEXT: this cannot block. */
	if (write(in[1], text, len) != (ssize_t)len)
		log_warn("tts: writing the text failed: %m\n");
	j->errfd = errp[0];
	errp[0] = -1;
	j->pidfd = pidfd_open(j->pid, 0);
	if (j->pidfd < 0)
		goto sys;
	err = fd_listen(j->pidfd, FD_READ, job_exited, j);
	goto out;
 sys:
	err = errno;
 out:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	return err;
}

int tts_synth(struct tts_job **jobp, const char *engine, const char *voice,
	      const char *text, tts_done_h *h, void *arg)
{
	struct tts_job *j = NULL;
	char *ev = NULL;
	int err;

	if (!jobp || !h)
		return EINVAL;
	if (!text || !*text)
		return EINVAL;
	err = tts_voice(engine, voice, &ev);
	if (err == ENOTSUP)
		log_warn("tts: unknown engine '%s' (espeak, espeak-ng, flite)\n", engine);
	else if (err == ENOENT)
		log_warn("tts: engine '%s' has no voice '%s'\n", engine ? engine : "espeak",
			 voice ? voice : "");
	if (err)
		return err;
	if (running >= MAX_JOBS) {
		log_warn("tts: %u syntheses already running\n", running);
		err = EBUSY;
		goto out;
	}
	j = mem_zalloc(sizeof(*j), job_destructor);
	if (!j) {
		err = ENOMEM;
		goto out;
	}
	j->pidfd = j->errfd = -1;
	j->h = h;
	j->arg = arg;
	err = temp_path(&j->path);
	if (!err)
		err = job_spawn(j, ev, text);
	if (err) {
		log_warn("tts: cannot start %s: %s\n", ESPEAK_PROGRAM, strerror(err));
		j = mem_deref(j);
		goto out;
	}
	*jobp = j;
 out:
	mem_deref(ev);
	return err;
}
