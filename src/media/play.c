/*
 * play.c - media_play: sources parsed and decoded into a player on the
 * signalling thread, handed to the stream's worker, which copies one frame a
 * tick and reports the end; plus the worker-side command hooks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <re.h>
#include "core/log.h"
#include "core/vars.h"
#include "media/media_int.h"
#include "media/play.h"
#include "media/play_int.h"
#include "media/tts.h"

#define TONE_SCHEME     "tone_stream://"
#define SILENCE_SCHEME  "silence_stream://"
#define LIST_SCHEME     "file_string://"
#define TTS_SCHEME      "tts://"
/* Sources in one file_string:// list. */
#define MAX_SOURCES     64

/* The signalling side of a player: who to tell when it ends. */
struct media_play {
	struct media_stream *ms;
	uint16_t token;
	struct cmd *stop;            /* allocated up front: stopping never fails */
	media_play_done_h *h;
	void *arg;
	struct tts_wait *tts;        /* speech still being synthesised, if any */
	bool paused;                 /* by file control's "pause", a toggle */
};

/*
 * A source with tts:// items waits for their synthesis before it is built:
 * the items in order, each as it was or with the job making its file.
 */
struct tts_item {
	struct tts_wait *w;
	char *item;
	struct tts_job *job;
	const char *path;            /* the job's, once done */
};

struct tts_wait {
	struct media_play *mp;       /* the handle owning this */
	char *prefix;
	unsigned rate;               /* the stream's */
	bool mix, loop;
	bool list;                   /* file_string:// */
	unsigned nitem, pending;
	struct tts_item it[MAX_SOURCES];
};

static uint16_t next_token;

/* ---- sources ----------------------------------------------------------------- */

static bool exists(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode);
}

int media_sound_path(char **pathp, const char *file, const char *prefix)
{
	char *first = NULL, *alt = NULL;
	const char *slash, *base, *dot;
	size_t plen;
	int err;

	if (!pathp || !file || !*file)
		return EINVAL;
	if (file[0] == '/' || !prefix || !*prefix) {
		err = str_dup(&first, file);
	} else {
		plen = strlen(prefix);
		err = re_sdprintf(&first, "%s%s%s", prefix, prefix[plen - 1] == '/' ? "" : "/",
				  file);
	}
	if (err)
		return err;
	if (exists(first))
		goto found;
	slash = strrchr(first, '/');
	base = slash ? slash + 1 : first;
	/* FreeSWITCH's sound packs: conference/conf-alone.wav is conference/8000/... */
	err = re_sdprintf(&alt, "%b%s8000/%s", first, (size_t)(base - first), "", base);
	if (!err && exists(alt))
		goto found_alt;
	alt = mem_deref(alt);
	dot = strrchr(base, '.');
	if (!dot) {
		err = re_sdprintf(&alt, "%s.wav", first);
		if (!err && exists(alt))
			goto found_alt;
		alt = mem_deref(alt);
		err = re_sdprintf(&alt, "%b8000/%s.wav", first, (size_t)(base - first), base);
		if (!err && exists(alt))
			goto found_alt;
		alt = mem_deref(alt);
	}
	*pathp = first;
	return err ? err : ENOENT;
 found_alt:
	mem_deref(first);
	first = alt;
 found:
	*pathp = first;
	return 0;
}

static int src_file(struct mplay_src *s, const char *file, const char *prefix,
		    unsigned rate)
{
	char *path = NULL;
	size_t n = 0;
	int err;

	err = media_sound_path(&path, file, prefix);
	if (err == ENOENT)
		log_notice("media: sound file not found: %s\n", path);
	if (!err) {
		err = sound_load(path, rate, &s->pcm, &n);
		s->kind = MPLAY_PCM;
		s->len = n;
	}
	mem_deref(path);
	return err;
}

/* One item: a tone, a silence or a file. */
static int src_parse(struct mplay_src *s, const char *item, const char *prefix,
		     unsigned rate)
{
	const char *scheme_end = strstr(item, "://");
	char *e;
	long ms;
	int err;

	if (!strncasecmp(item, TONE_SCHEME, strlen(TONE_SCHEME))) {
		err = tone_parse(item + strlen(TONE_SCHEME), rate, &s->tone);
		if (err)
			return err;
		s->kind = MPLAY_TONE;
		s->len = tone_length(s->tone);
		return 0;
	}
	if (!strncasecmp(item, SILENCE_SCHEME, strlen(SILENCE_SCHEME))) {
		item += strlen(SILENCE_SCHEME);
		ms = strtol(item, &e, 10);
		/* ",<comfort noise level>" may follow; we send true silence. */
		if (e == item || (*e && *e != ','))
			return EINVAL;
		s->kind = MPLAY_SILENCE;
		s->len = ms < 0 ? UINT64_MAX : (uint64_t)ms * (rate / 1000);
		return 0;
	}
	/* say:, phrase:, http:// ... are not ours; tts:// has been synthesised. */
	if (scheme_end && !memchr(item, '/', (size_t)(scheme_end - item)))
		return ENOTSUP;
	return src_file(s, item, prefix, rate);
}

void mplay_free(struct mplay *p)
{
	unsigned i;

	if (!p)
		return;
	for (i = 0; i < p->nsrc; i++) {
		free(p->src[i].pcm);
		free(p->src[i].tone);
	}
	free(p);
}

int mplay_build(struct mplay **pp, const char *source, const char *prefix, unsigned rate)
{
	char *list = NULL, *item, *save = NULL;
	struct mplay *p;
	unsigned n = 1;
	const char *c;
	int err = 0;

	if (!pp || !source || !*source || rate < PLAY_RATE || rate % PLAY_RATE ||
	    rate / PLAY_RATE > PLAY_MAX_UP)
		return EINVAL;
	if (!strncasecmp(source, LIST_SCHEME, strlen(LIST_SCHEME))) {
		source += strlen(LIST_SCHEME);
		for (c = source; *c; c++)
			n += *c == '!';
		if (n > MAX_SOURCES)
			return E2BIG;
		err = str_dup(&list, source);
		if (err)
			return err;
	}
	p = calloc(1, sizeof(*p) + n * sizeof(p->src[0]));
	if (!p) {
		mem_deref(list);
		return ENOMEM;
	}
	p->rate = rate;
	p->flen = PLAY_FRAME * (rate / PLAY_RATE);
	if (!list) {
		err = src_parse(&p->src[p->nsrc++], source, prefix, rate);
	} else {
		for (item = strtok_r(list, "!", &save); item && !err;
		     item = strtok_r(NULL, "!", &save))
			err = src_parse(&p->src[p->nsrc++], item, prefix, rate);
		if (!err && !p->nsrc)
			err = EINVAL;
	}
	mem_deref(list);
	if (err) {
		mplay_free(p);
		return err;
	}
	*pp = p;
	return 0;
}

/* What a NULL prefix means: sound_prefix, else sounds_dir (globals). */
static const char *default_prefix(char **tmp)
{
	*tmp = vars_global_dup("sound_prefix");
	if (!*tmp || !**tmp) {
		*tmp = mem_deref(*tmp);
		*tmp = vars_global_dup("sounds_dir");
	}
	return *tmp;
}

static bool has_tts(const char *source);

/* Whether every tts:// item of a source names an engine and voice that speak. */
static int tts_check(const char *source)
{
	char *list = NULL, *item, *save = NULL, *buf = NULL, *engine, *voice, *text;
	bool is_list = !strncasecmp(source, LIST_SCHEME, strlen(LIST_SCHEME));
	int err = str_dup(&list, is_list ? source + strlen(LIST_SCHEME) : source);

	for (item = !is_list ? list : strtok_r(list, "!", &save); !err && item;
	     item = is_list ? strtok_r(NULL, "!", &save) : NULL) {
		char *espeak = NULL;

		if (strncasecmp(item, TTS_SCHEME, strlen(TTS_SCHEME)))
			continue;
		err = str_dup(&buf, item + strlen(TTS_SCHEME));
		if (err)
			break;
		tts_split(buf, &engine, &voice, &text);
		if (!text || !*text)
			err = EINVAL;
		else if (engine)
			err = tts_voice(engine, voice ? voice : "", &espeak);
		mem_deref(espeak);
		buf = mem_deref(buf);
	}
	mem_deref(list);
	return err;
}

int media_source_length(const char *source, const char *prefix, uint64_t *msp)
{
	struct mplay *p = NULL;
	uint64_t total = 0;
	char *tmp = NULL;
	unsigned i;
	int err;

	if (!msp || !source)
		return EINVAL;
	/*
	 * Speech has no length until it is synthesised: 0, once its engine and
	 * voice are known to speak (a file beside it is checked when it plays).
	 */
	if (has_tts(source)) {
		*msp = 0;
		return tts_check(source);
	}
	err = mplay_build(&p, source, prefix ? prefix : default_prefix(&tmp), PLAY_RATE);
	mem_deref(tmp);
	if (err)
		return err;
	for (i = 0; i < p->nsrc; i++) {
		if (p->src[i].len == UINT64_MAX) {
			total = UINT64_MAX;
			break;
		}
		total += p->src[i].len;
	}
	mplay_free(p);
	*msp = total == UINT64_MAX ? UINT64_MAX : total / (PLAY_RATE / 1000);
	return 0;
}

/* ---- the player: worker side ------------------------------------------------- */

bool mplay_read(struct mplay *p, int16_t *out, unsigned n)
{
	unsigned done = 0;

	while (p->cur < p->nsrc) {
		struct mplay_src *s = &p->src[p->cur];
		uint64_t left = s->len - p->pos;
		unsigned k;

		if (!left) {
			p->cur++;
			p->pos = 0;
			memset(&p->tpos, 0, sizeof(p->tpos));
			/* Empty sources only would loop here for ever: they end it. */
			if (p->cur == p->nsrc && p->loop && p->looped) {
				p->cur = 0;
				p->looped = false;
			}
			continue;
		}
		if (done == n)
			break;
		k = left < n - done ? (unsigned)left : n - done;
		switch (s->kind) {
		case MPLAY_PCM:
			memcpy(out + done, s->pcm + p->pos, k * sizeof(*out));
			break;
		case MPLAY_SILENCE:
			memset(out + done, 0, k * sizeof(*out));
			break;
		case MPLAY_TONE:
			/* s->len is the program's exact length: it gives all k. */
			(void)tone_gen(s->tone, &p->tpos, out + done, k);
			break;
		}
		p->pos += k;
		done += k;
		p->looped = true;
	}
	if (done < n)
		memset(out + done, 0, (n - done) * sizeof(*out));
	return p->cur < p->nsrc;
}

const int16_t *media_player_frame(struct mstream *st, uint32_t tick, const int16_t *under)
{
	struct mplay *p = st->player;
	unsigned i;

	p->ran = true;
	p->last_tick = tick;
	if (p->finished)
		return under;
	if (p->paused) {
		/* Time stands: silence instead of what plays (or the partner, when mixed). */
		if (p->mix)
			return under;
		memset(p->out, 0, p->flen * sizeof(*p->out));
		return p->out;
	}
	if (!mplay_read(p, p->out, p->flen)) {
		p->finished = true;
		media_up_post(st->id, MEDIA_UP_PLAY_DONE, 0, p->token);
	}
	mplay_volume(p, p->out, p->flen);
	if (p->mix && under) {
		for (i = 0; i < p->flen; i++) {
			int32_t v = (int32_t)p->out[i] + under[i];

			p->out[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
		}
	}
	return p->out;
}

void media_player_idle(struct mstream *st, uint32_t tick)
{
	struct mplay *p = st->player;

	/* On hold, or nowhere to send yet: time passes all the same. */
	if (p && (!p->ran || p->last_tick != tick))
		(void)media_player_frame(st, tick, NULL);
}

static void rec_detach(struct mstream *st, unsigned slot)
{
	if (!st->recorder[slot])
		return;
	mrec_release(st->recorder[slot]);
	st->recorder[slot] = NULL;
	st->recorders--;
}

void media_ext_run(struct mstream *st, struct cmd *c)
{
	switch (c->type) {
	case CMD_PLAY:
		mplay_free(st->player);
		st->player = c->u.play.p;
		c->u.play.p = NULL;
		break;
	case CMD_PLAY_STOP:
		if (st->player && st->player->token == c->u.play.token) {
			mplay_free(st->player);
			st->player = NULL;
		}
		break;
	case CMD_PLAY_CTL:
		if (st->player && st->player->token == c->u.play.token)
			mplay_control(st->player, c->u.play.op, c->u.play.val);
		break;
	case CMD_RECORD:
		rec_detach(st, c->u.rec->slot);
		st->recorder[c->u.rec->slot] = c->u.rec;
		st->recorders++;
		c->u.rec = NULL;
		break;
	case CMD_RECORD_STOP:
		if (st->recorder[c->u.rec->slot] == c->u.rec)
			rec_detach(st, c->u.rec->slot);
		c->u.rec = NULL;
		break;
	default:
		break;
	}
}

void media_ext_cmd_free(struct cmd *c)
{
	if (c->type == CMD_PLAY) {
		mplay_free(c->u.play.p);
		c->u.play.p = NULL;
	} else if (c->type == CMD_RECORD && c->u.rec) {
		mrec_release(c->u.rec);
		c->u.rec = NULL;
	}
}

void media_ext_state_free(struct mstream *st)
{
	mplay_free(st->player);
	st->player = NULL;
	for (unsigned i = 0; i < MEDIA_REC_MAX; i++)
		rec_detach(st, i);
}

/* ---- the signalling side ----------------------------------------------------- */

static void handle_destructor(void *data)
{
	struct media_play *mp = data;

	free(mp->stop);
	mem_deref(mp->tts);
}

/* Tell the worker to drop the player (the finished one, or one cut short). */
static void handle_stop(struct media_play *mp)
{
	struct cmd *c = mp->stop;

	mp->stop = NULL;
	c->type = CMD_PLAY_STOP;
	c->u.play.token = mp->token;
	if (media_stream_cmd(mp->ms, c))
		free(c);
}

/* Hand a built player to the worker; on failure the caller still owns p. */
static int handle_send(struct media_play *mp, struct mplay *p, bool mix, bool loop)
{
	struct cmd *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return ENOMEM;
	if (!++next_token)
		next_token++;
	mp->token = p->token = next_token;
	p->mix = mix;
	p->loop = loop;
	c->type = CMD_PLAY;
	c->u.play.p = p;
	c->u.play.token = p->token;
	err = media_stream_cmd(mp->ms, c);
	if (err)
		free(c);
	return err;
}

static int handle_alloc(struct media_play **mpp, struct media_stream *ms,
			media_play_done_h *h, void *arg)
{
	struct media_play *mp = mem_zalloc(sizeof(**mpp), handle_destructor);

	if (mp)
		mp->stop = calloc(1, sizeof(*mp->stop));
	if (!mp || !mp->stop) {
		mem_deref(mp);
		return ENOMEM;
	}
	mp->ms = ms;
	mp->h = h;
	mp->arg = arg;
	*mpp = mp;
	return 0;
}

/* ---- sources with speech ------------------------------------------------------ */

static bool is_tts(const char *item)
{
	return !strncasecmp(item, TTS_SCHEME, strlen(TTS_SCHEME));
}

static bool has_tts(const char *source)
{
	if (strncasecmp(source, LIST_SCHEME, strlen(LIST_SCHEME)))
		return is_tts(source);
	source += strlen(LIST_SCHEME);
	return is_tts(source) || strcasestr(source, "!" TTS_SCHEME);
}

static void tts_wait_destructor(void *data)
{
	struct tts_wait *w = data;
	unsigned i;

	for (i = 0; i < w->nitem; i++) {
		mem_deref(w->it[i].job);
		mem_deref(w->it[i].item);
	}
	mem_deref(w->prefix);
}

/* Synthesis failed or the player cannot be built: the handle ends with err. */
static void tts_fail(struct tts_wait *w, int err)
{
	struct media_play *mp = w->mp;
	struct media_play **slot = media_stream_play_slot(mp->ms);
	media_play_done_h *h = mp->h;
	void *arg = mp->arg;

	if (slot && *slot == mp)
		*slot = NULL;
	mem_deref(mp);               /* and w with it */
	if (h)
		h(err, arg);
}

/* Every item has its file: build the player as for any file list. */
static void tts_ready(struct tts_wait *w)
{
	struct mplay *p = NULL;
	char *src = NULL;
	struct mbuf *mb = mbuf_alloc(256);
	unsigned i;
	int err = mb ? 0 : ENOMEM;

	if (!err && w->list)
		err = mbuf_write_str(mb, LIST_SCHEME);
	for (i = 0; !err && i < w->nitem; i++)
		err = mbuf_printf(mb, "%s%s", i ? "!" : "",
				  w->it[i].path ? w->it[i].path : w->it[i].item);
	if (!err) {
		mb->pos = 0;
		err = mbuf_strdup(mb, &src, mb->end);
	}
	mem_deref(mb);
	if (!err)
		err = mplay_build(&p, src, w->prefix, w->rate);
	mem_deref(src);
	if (!err)
		err = handle_send(w->mp, p, w->mix, w->loop);
	if (err) {
		mplay_free(p);
		tts_fail(w, err);
		return;
	}
	/* Decoded: the files (and the jobs) can go. */
	w->mp->tts = NULL;
	mem_deref(w);
}

static void tts_item_done(int err, const char *path, void *arg)
{
	struct tts_item *it = arg;
	struct tts_wait *w = it->w;

	if (err) {
		tts_fail(w, err);
		return;
	}
	it->path = path;
	if (!--w->pending)
		tts_ready(w);
}

static int tts_item_start(struct tts_item *it)
{
	char *buf = NULL, *engine, *voice, *text;
	int err;

	err = str_dup(&buf, it->item + strlen(TTS_SCHEME));
	if (err)
		return err;
	tts_split(buf, &engine, &voice, &text);
	err = tts_synth(&it->job, engine, voice, text, tts_item_done, it);
	mem_deref(buf);
	return err;
}

static int tts_wait_alloc(struct tts_wait **wp, const char *source, const char *prefix)
{
	struct tts_wait *w = mem_zalloc(sizeof(*w), tts_wait_destructor);
	char *list = NULL, *item, *save = NULL;
	int err;

	if (!w)
		return ENOMEM;
	w->list = !strncasecmp(source, LIST_SCHEME, strlen(LIST_SCHEME));
	err = prefix ? str_dup(&w->prefix, prefix) : 0;
	if (!err)
		err = str_dup(&list, w->list ? source + strlen(LIST_SCHEME) : source);
	/* tts:// text may hold a '!' when it is the whole source. */
	for (item = !w->list ? list : strtok_r(list, "!", &save); !err && item;
	     item = w->list ? strtok_r(NULL, "!", &save) : NULL) {
		struct tts_item *it = &w->it[w->nitem];

		if (w->nitem == MAX_SOURCES) {
			err = E2BIG;
			break;
		}
		it->w = w;
		w->nitem++;
		err = str_dup(&it->item, item);
		if (!err && is_tts(item)) {
			err = tts_item_start(it);
			w->pending += !err;
		}
	}
	mem_deref(list);
	if (err) {
		mem_deref(w);
		return err;
	}
	*wp = w;
	return 0;
}

static int play_tts(struct media_stream *ms, struct media_play **slot, const char *source,
		    const char *prefix, const struct media_play_opts *opts,
		    media_play_done_h *h, void *arg)
{
	struct media_play *mp = NULL;
	struct tts_wait *w = NULL;
	int err;

	err = handle_alloc(&mp, ms, h, arg);
	if (!err)
		err = tts_wait_alloc(&w, source, prefix);
	if (err) {
		mem_deref(mp);
		return err;
	}
	w->mp = mp;
	w->mix = opts && opts->mix;
	w->loop = opts && opts->loop;
	w->rate = media_stream_rate(ms);
	mp->tts = w;
	/* What played before stops now, not when the speech is ready. */
	if (*slot) {
		handle_stop(*slot);
		mem_deref(*slot);
	}
	*slot = mp;
	return 0;
}

int media_play_ex(struct media_stream *ms, const char *source,
		  const struct media_play_opts *opts, media_play_done_h *h, void *arg)
{
	struct media_play **slot = ms ? media_stream_play_slot(ms) : NULL;
	struct media_play *mp = NULL;
	struct mplay *p = NULL;
	char *tmp = NULL;
	const char *prefix = opts && opts->prefix ? opts->prefix : default_prefix(&tmp);
	int err;

	if (!slot || !source) {
		err = ms ? EINVAL : ENODEV;
		goto out;
	}
	if (has_tts(source)) {
		err = play_tts(ms, slot, source, prefix, opts, h, arg);
		goto out;
	}
	/* A room's files are decoded straight to its rate: they keep their band. */
	err = mplay_build(&p, source, prefix, media_stream_rate(ms));
	if (!err)
		err = handle_alloc(&mp, ms, h, arg);
	if (!err)
		err = handle_send(mp, p, opts && opts->mix, opts && opts->loop);
	if (err)
		goto out;
	p = NULL;
	/* The worker drops the old player for the new one: nothing to send. */
	mem_deref(*slot);
	*slot = mp;
	mp = NULL;
 out:
	mem_deref(tmp);
	mplay_free(p);
	mem_deref(mp);
	return err;
}

int media_play(struct media_stream *ms, const char *source, media_play_done_h *h, void *arg)
{
	return media_play_ex(ms, source, NULL, h, arg);
}

void media_play_stop(struct media_stream *ms)
{
	struct media_play **slot = ms ? media_stream_play_slot(ms) : NULL;
	struct media_play *mp = slot ? *slot : NULL;

	if (!mp)
		return;
	*slot = NULL;
	handle_stop(mp);
	mem_deref(mp);
}

bool media_playing(struct media_stream *ms)
{
	struct media_play **slot = ms ? media_stream_play_slot(ms) : NULL;

	return slot && *slot;
}

int media_play_control(struct media_stream *ms, const struct media_fctl_cmd *fc)
{
	struct media_play **slot = ms ? media_stream_play_slot(ms) : NULL;
	struct media_play *mp = slot ? *slot : NULL;
	struct cmd *c;
	int err;

	if (!fc)
		return EINVAL;
	if (!mp || mp->tts)
		return ENOENT;
	if (fc->op == MEDIA_FCTL_NONE)
		return 0;
	/* Changing the tempo without the pitch needs a time-stretcher we do not have. */
	if (fc->op == MEDIA_FCTL_SPEED || fc->op == MEDIA_FCTL_SPEED_TO) {
		log_notice("media: playback speed changes are not supported: ignored\n");
		return ENOTSUP;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return ENOMEM;
	c->type = CMD_PLAY_CTL;
	c->u.play.token = mp->token;
	c->u.play.op = fc->op;
	c->u.play.val = fc->val;
	err = media_stream_cmd(mp->ms, c);
	if (err) {
		free(c);
		return err;
	}
	/* The worker's player toggles the same way; "stop" ends the playback. */
	if (fc->op == MEDIA_FCTL_PAUSE)
		mp->paused = !mp->paused;
	return 0;
}

bool media_play_paused(struct media_stream *ms)
{
	struct media_play **slot = ms ? media_stream_play_slot(ms) : NULL;

	return slot && *slot && (*slot)->paused;
}

void media_play_up(struct media_stream *ms, struct media_play **slot, uint16_t token)
{
	struct media_play *mp = *slot;
	media_play_done_h *h;
	void *arg;

	(void)ms;
	/* A player replaced or stopped meanwhile: nobody waits for it. */
	if (!mp || mp->token != token)
		return;
	*slot = NULL;
	h = mp->h;
	arg = mp->arg;
	handle_stop(mp);
	mem_deref(mp);
	/* Last: the handler may free the stream. */
	if (h)
		h(0, arg);
}

void media_play_gone(struct media_play **slot)
{
	/* The worker frees the player with the stream. */
	*slot = mem_deref(*slot);
}
