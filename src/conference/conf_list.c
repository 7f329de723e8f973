/*
 * conf_list.c - what the `conference` command shows of rooms: list (plain,
 * pretty, delimited, count), the `conference list` headers, xml_list and
 * json_list, in FreeSWITCH's exact layout (spec/conference.md 6.3, reference
 * conference-events.txt Part 1). Members are listed newest first, as
 * FreeSWITCH keeps them. Signalling thread only.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "channel/channel.h"
#include "core/api.h"
#include "conference/conf_int.h"

#define JSON_DEPTH 8
#define T_NONE_ACTIVE "+OK No active conferences.\n"

/* FreeSWITCH's CFLAG_* that an audio room can have, in the order it lists them. */
struct room_flags {
	bool locked, destruct, wait_mod, audio_always, running, answered, enforce_min;
	bool bridge_to, dynamic, exit_sound, enter_sound, recording;
};

static const struct conf_rec *rec_of(const struct le *le)
{
	return le->data;
}

static void flags_of(const struct conference *conf, struct room_flags *f)
{
	struct le *le;

	memset(f, 0, sizeof(*f));
	f->locked = conf->locked;
	f->wait_mod = conf->wait_mod;
	f->audio_always = conf->audio_always;
	f->running = !conf->destroying;
	f->dynamic = conf->dynamic;
	f->exit_sound = conf->exit_sound_on;
	f->enter_sound = conf->enter_sound_on;
	f->recording = !list_isempty(&conf->recs);
	/*
	 * FreeSWITCH sets CFLAG_ENFORCE_MIN once the room reached its minimum (1
	 * member unless mintwo) and CFLAG_ANSWERED once an answered caller joined;
	 * both stay set. Neither is recorded by conference.c, so: as good as.
	 */
	f->enforce_min = conf->enforce_min || conf->count >= (conf->min ? conf->min : 1);
	for (le = list_head(&conf->members); le; le = le->next) {
		struct conf_member *m = le->data;

		if (m->ch && channel_answered(m->ch))
			f->answered = true;
	}
}

/* ---- list ------------------------------------------------------------------ */

static void list_members(struct api_call *call, struct conference *conf, const char *d,
			 bool pretty)
{
	struct le *le;

	for (le = list_tail(&conf->members); le; le = le->prev) {
		struct conf_member *m = le->data;
		const char *flags[8];
		unsigned n = 0, i;

		if (!m->ch)
			continue;       /* FreeSWITCH's MFLAG_NOCHANNEL members */
		if (pretty) {
			api_printf(call, "%u) %s (%s)\n", m->id, conf_member_cid_name(m), conf_member_cid_num(m));
			continue;
		}
		/* conference_list: hear, speak and talking are hidden while on hold. */
		if (!m->hold && m->hear)
			flags[n++] = "hear";
		if (!m->hold && m->speak)
			flags[n++] = "speak";
		if (!m->hold && m->talking)
			flags[n++] = "talking";
		if (m->hold)
			flags[n++] = "hold";
		if (conf->floor == m)
			flags[n++] = "floor";
		if (m->moderator)
			flags[n++] = "moderator";
		if (m->ghost)
			flags[n++] = "ghost";
		api_printf(call, "%u%s%s%s%s%s%s%s%s%s", m->id, d, channel_name(m->ch), d,
			   channel_uuid(m->ch), d, conf_member_cid_name(m), d, conf_member_cid_num(m), d);
		for (i = 0; i < n; i++)
			api_printf(call, "%s%s", i ? "|" : "", flags[i]);
		api_printf(call, "%s%d%s%d%s%d\n", d, m->vol_in, d, m->vol_out, d, m->energy);
	}
}

/* "+OK Conference 1005 (2 members rate: 8000 flags: running|answered|...)" */
static void list_header(struct api_call *call, const struct conference *conf)
{
	struct room_flags f;
	const char *names[16];
	unsigned n = 0, i;

	flags_of(conf, &f);
	if (f.locked)
		names[n++] = "locked";
	if (f.wait_mod)
		names[n++] = "wait_mod";
	if (f.audio_always)
		names[n++] = "audio_always";
	if (f.running)
		names[n++] = "running";
	if (f.answered)
		names[n++] = "answered";
	if (f.enforce_min)
		names[n++] = "enforce_min";
	if (f.dynamic)
		names[n++] = "dynamic";
	if (f.exit_sound)
		names[n++] = "exit_sound";
	if (f.enter_sound)
		names[n++] = "enter_sound";
	if (f.recording)
		names[n++] = "recording";
	/* Every room in the reference has CFLAG_JSON_STATUS (conference-events.txt:78). */
	names[n++] = "json_status";
	api_printf(call, "+OK Conference %s (%u member%s rate: %u%s flags: ", conf->name,
		   conf->count, conf->count == 1 ? "" : "s", conf->rate,
		   conf->locked ? " locked" : "");
	for (i = 0; i < n; i++)
		api_printf(call, "%s%s", i ? "|" : "", names[i]);
	api_printf(call, "%s)\n", n ? "" : "none");
}

/*
 * list [pretty|summary|count|delim <d>]. argv[0] is the room ("" for all of
 * them), argv[1] "list". As in FreeSWITCH, `count` means nothing to the
 * listing of all rooms (reference: `conference list count` lists them).
 */
int conf_api_list(struct api_call *call, struct conference *conf, int argc, char **argv)
{
	bool pretty = false, summary = false, count = false;
	const char *d = ";";
	struct le *le;

	if (argc > 3 && !strcasecmp(argv[2], "delim"))
		d = argv[3];
	else if (argc > 2 && !strcasecmp(argv[2], "pretty"))
		pretty = true;
	else if (argc > 2 && !strcasecmp(argv[2], "summary"))
		summary = true;
	else if (argc > 2 && !strcasecmp(argv[2], "count"))
		count = true;
	if (conf) {
		if (count)
			return api_printf(call, "%u", conf->count);
		list_members(call, conf, d, pretty);
		return 0;
	}
	if (list_isempty(conf_list()))
		return api_printf(call, T_NONE_ACTIVE);
	for (le = list_head(conf_list()); le; le = le->next) {
		list_header(call, le->data);
		if (!summary)
			list_members(call, le->data, d, pretty);
	}
	return 0;
}

int conf_api_count(struct api_call *call, struct conference *conf, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (!conf)
		return api_printf(call, "%u", list_count(conf_list()));
	return api_printf(call, "%u", conf->count);
}

/* ---- xml_list (switch_xml_toxml: two spaces a level, empty elements open+close) ---- */

struct xw {
	struct api_call *call;
	struct mbuf *enc;
	int err;
};

/* Attribute and text escaping of switch_xml_ampencode. */
static void xml_escaped(struct xw *w, const char *s, bool attr)
{
	const char *run = s;

	for (; *s; s++) {
		const char *e = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;" :
			attr && *s == '"' ? "&quot;" : attr && *s == '\n' ? "&#xA;" :
			attr && *s == '\t' ? "&#x9;" : *s == '\r' ? "&#xD;" : NULL;

		if (!e)
			continue;
		w->err |= api_write(w->call, run, (size_t)(s - run));
		w->err |= api_printf(w->call, "%s", e);
		run = s + 1;
	}
	w->err |= api_write(w->call, run, (size_t)(s - run));
}

static void xml_attr(struct xw *w, const char *name, const char *value)
{
	w->err |= api_printf(w->call, " %s=\"", name);
	xml_escaped(w, value, true);
	w->err |= api_printf(w->call, "\"");
}

/* add_x_tag: member values are URL-encoded (switch_url_encode) before escaping. */
static void xml_tag_url(struct xw *w, int level, const char *tag, const char *value)
{
	mbuf_rewind(w->enc);
	w->err |= event_urlencode(w->enc, value, strlen(value));
	w->err |= api_printf(w->call, "%*s<%s>", level * 2, "", tag);
	w->err |= api_write(w->call, w->enc->end ? (const char *)w->enc->buf : "",
			    w->enc->end);
	w->err |= api_printf(w->call, "</%s>\n", tag);
}

static void xml_tag_num(struct xw *w, int level, const char *tag, long long v)
{
	w->err |= api_printf(w->call, "%*s<%s>%lld</%s>\n", level * 2, "", tag, v, tag);
}

static void xml_tag_bool(struct xw *w, int level, const char *tag, bool v)
{
	w->err |= api_printf(w->call, "%*s<%s>%s</%s>\n", level * 2, "", tag,
			     v ? "true" : "false", tag);
}

static void xml_member(struct xw *w, struct conference *conf, struct conf_member *m)
{
	w->err |= api_printf(w->call, "      <member type=\"caller\">\n");
	xml_tag_num(w, 4, "id", m->id);
	w->err |= api_printf(w->call, "        <flags>\n");
	xml_tag_bool(w, 5, "can_hear", m->hear);
	xml_tag_bool(w, 5, "can_see", true);
	xml_tag_bool(w, 5, "can_speak", m->speak);
	xml_tag_bool(w, 5, "mute_detect", m->mute_detect);
	xml_tag_bool(w, 5, "talking", m->talking);
	xml_tag_bool(w, 5, "hold", m->hold);
	xml_tag_bool(w, 5, "has_video", false);
	xml_tag_bool(w, 5, "video_bridge", false);
	xml_tag_bool(w, 5, "has_floor", conf->floor == m);
	xml_tag_bool(w, 5, "is_moderator", m->moderator);
	xml_tag_bool(w, 5, "end_conference", m->endconf);
	xml_tag_bool(w, 5, "mandatory_member_end_conference", false);
	xml_tag_bool(w, 5, "is_ghost", m->ghost);
	w->err |= api_printf(w->call, "        </flags>\n");
	xml_tag_url(w, 4, "uuid", channel_uuid(m->ch));
	xml_tag_url(w, 4, "caller_id_name", conf_member_cid_name(m));
	xml_tag_url(w, 4, "caller_id_number", conf_member_cid_num(m));
	xml_tag_num(w, 4, "join_time", (long long)conf_secs_since(m->join_us));
	if (m->talking || m->last_talk_us)
		xml_tag_num(w, 4, "last_talking",
			    m->talking ? 0 : (long long)conf_secs_since(m->last_talk_us));
	else
		w->err |= api_printf(w->call, "        <last_talking>N/A</last_talking>\n");
	xml_tag_num(w, 4, "energy", m->energy);
	xml_tag_num(w, 4, "volume_in", m->vol_in);
	xml_tag_num(w, 4, "volume_out", m->vol_out);
	xml_tag_num(w, 4, "output-volume", m->vol_out);
	w->err |= api_printf(w->call, "      </member>\n");
}

/* FreeSWITCH's recorder is a member without a channel; ours are the room's. */
static void xml_recorder(struct xw *w, const struct conf_rec *r)
{
	w->err |= api_printf(w->call, "      <member type=\"recording_node\">\n"
			     "        <record_path%s>", r->paused ?
			     " status=\"paused\"" : "");
	xml_escaped(w, r->path, false);
	w->err |= api_printf(w->call, "</record_path>\n"
			     "        <join_time type=\"UNIX-epoch\">%llu</join_time>\n"
			     "      </member>\n",
			     (unsigned long long)(r->started_us / 1000000u));
}

static void xml_conf_open(struct xw *w, const struct conference *conf)
{
	struct room_flags f;
	char num[32];

	flags_of(conf, &f);
	w->err |= api_printf(w->call, "  <conference");
	xml_attr(w, "name", conf->name);
	w->err |= api_printf(w->call, " member-count=\"%u\" ghost-count=\"%u\" rate=\"%u\"",
			     conf->count, conf->ghosts, conf->rate);
	xml_attr(w, "uuid", conf->uuid);
	w->err |= api_printf(w->call, "%s%s%s%s%s%s%s%s%s",
			     f.locked ? " locked=\"true\"" : "",
			     f.wait_mod ? " wait_mod=\"true\"" : "",
			     f.audio_always ? " audio_always=\"true\"" : "",
			     f.running ? " running=\"true\"" : "",
			     f.answered ? " answered=\"true\"" : "",
			     f.enforce_min ? " enforce_min=\"true\"" : "",
			     f.dynamic ? " dynamic=\"true\"" : "",
			     f.exit_sound ? " exit_sound=\"true\"" : "",
			     f.enter_sound ? " enter_sound=\"true\"" : "");
	if (conf->max_members) {
		snprintf(num, sizeof(num), "%u", conf->max_members);
		xml_attr(w, "max_members", num);
	}
	if (f.recording)
		xml_attr(w, "recording", "true");
	if (conf_grace_time(conf) > 0) {
		snprintf(num, sizeof(num), "%d", conf_grace_time(conf));
		xml_attr(w, "endconference_grace_time", num);
	}
	w->err |= api_printf(w->call, " run_time=\"%llu\">\n", conf_secs_since(conf->start_us));
}

static void xml_conf(struct xw *w, struct conference *conf)
{
	struct le *rle = list_tail(&conf->recs), *le;

	xml_conf_open(w, conf);
	w->err |= api_printf(w->call, "    <variables>%s",
			     list_isempty(&conf->vars) ? "" : "\n");
	for (le = list_head(&conf->vars); le; le = le->next) {
		const struct conf_param *p = le->data;

		w->err |= api_printf(w->call, "      <variable");
		xml_attr(w, "name", p->name);
		xml_attr(w, "value", p->value);
		w->err |= api_printf(w->call, "></variable>\n");
	}
	w->err |= api_printf(w->call, "%s</variables>\n",
			     list_isempty(&conf->vars) ? "" : "    ");
	w->err |= api_printf(w->call, "    <members>%s",
			     list_isempty(&conf->members) && !rle ? "" : "\n");
	/* Newest first, recorders among members by when they joined. */
	for (le = list_tail(&conf->members); le; le = le->prev) {
		struct conf_member *m = le->data;

		for (; rle && rec_of(rle)->started_us >= m->join_us; rle = rle->prev)
			xml_recorder(w, rec_of(rle));
		if (m->ch)
			xml_member(w, conf, m);
	}
	for (; rle; rle = rle->prev)
		xml_recorder(w, rec_of(rle));
	w->err |= api_printf(w->call, "%s</members>\n", list_isempty(&conf->members) &&
			     list_isempty(&conf->recs) ? "" : "    ");
	w->err |= api_printf(w->call, "  </conference>\n");
}

int conf_api_xml_list(struct api_call *call, struct conference *conf, int argc,
			char **argv)
{
	struct xw w = {.call = call, .enc = mbuf_alloc(128)};
	struct le *le;

	(void)argc;
	(void)argv;
	if (!w.enc)
		return ENOMEM;
	w.err |= api_printf(call, "<?xml version=\"1.0\"?>\n<conferences>%s",
			    conf || !list_isempty(conf_list()) ? "\n" : "");
	if (conf)
		xml_conf(&w, conf);
	for (le = conf ? NULL : list_head(conf_list()); le; le = le->next)
		xml_conf(&w, le->data);
	w.err |= api_printf(call, "</conferences>\n");
	mem_deref(w.enc);
	return w.err ? ENOMEM : 0;
}

/* ---- json_list (the text of FreeSWITCH's bundled cJSON_Print) ------------------ */

/*
 * cJSON_Print: an object at nesting depth d puts each member on its own line
 * indented d+1 tabs, `"key":<TAB>value`, and closes on a line indented d
 * tabs (an empty one too: "{\n\t\t}"); arrays stay on one line, ", " between
 * items. cJSON_PrintUnformatted: no blanks at all. jansson cannot do either.
 */
struct jw {
	struct api_call *call;
	bool pretty;
	int depth;
	bool obj[JSON_DEPTH], first[JSON_DEPTH];
	int err;
};

static const char *json_escape(unsigned char c)
{
	switch (c) {
	case '"':  return "\\\"";
	case '\\': return "\\\\";
	case '\b': return "\\b";
	case '\f': return "\\f";
	case '\n': return "\\n";
	case '\r': return "\\r";
	case '\t': return "\\t";
	default:   return NULL;   /* another control character: \u00XX */
	}
}

static void jw_string(struct jw *w, const char *s)
{
	const char *run = s;

	w->err |= api_write(w->call, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		const char *e;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		w->err |= api_write(w->call, run, (size_t)(s - run));
		e = json_escape(c);
		w->err |= e ? api_printf(w->call, "%s", e) : api_printf(w->call, "\\u%04x", c);
		run = s + 1;
	}
	w->err |= api_write(w->call, run, (size_t)(s - run));
	w->err |= api_write(w->call, "\"", 1);
}

/* What comes before a value: the separator, and in an object the key. */
static void jw_key(struct jw *w, const char *key)
{
	int d = w->depth;

	if (!d)
		return;
	if (w->obj[d - 1]) {
		if (!w->first[d - 1])
			w->err |= api_write(w->call, ",", 1);
		if (w->pretty)
			w->err |= api_printf(w->call, "\n%.*s", d, "\t\t\t\t\t\t\t\t");
		jw_string(w, key);
		w->err |= api_write(w->call, w->pretty ? ":\t" : ":", w->pretty ? 2 : 1);
	} else if (!w->first[d - 1]) {
		w->err |= api_write(w->call, w->pretty ? ", " : ",", w->pretty ? 2 : 1);
	}
	w->first[d - 1] = false;
}

static void jw_open(struct jw *w, const char *key, bool obj)
{
	jw_key(w, key);
	w->err |= api_write(w->call, obj ? "{" : "[", 1);
	if (w->depth >= JSON_DEPTH) {
		w->err |= EOVERFLOW;
		return;
	}
	w->obj[w->depth] = obj;
	w->first[w->depth] = true;
	w->depth++;
}

static void jw_close(struct jw *w)
{
	bool obj;

	if (!w->depth)
		return;
	obj = w->obj[--w->depth];
	if (obj && w->pretty)
		w->err |= api_printf(w->call, "\n%.*s", w->depth, "\t\t\t\t\t\t\t\t");
	w->err |= api_write(w->call, obj ? "}" : "]", 1);
}

static void jw_str(struct jw *w, const char *key, const char *v)
{
	jw_key(w, key);
	jw_string(w, v ? v : "");
}

static void jw_num(struct jw *w, const char *key, long long v)
{
	jw_key(w, key);
	w->err |= api_printf(w->call, "%lld", v);
}

static void jw_bool(struct jw *w, const char *key, bool v)
{
	jw_key(w, key);
	w->err |= api_printf(w->call, "%s", v ? "true" : "false");
}

static void json_member(struct jw *w, struct conference *conf, struct conf_member *m)
{
	jw_open(w, NULL, true);
	jw_str(w, "type", "caller");
	jw_num(w, "id", m->id);
	jw_open(w, "flags", true);
	jw_bool(w, "can_hear", m->hear);
	jw_bool(w, "can_see", true);
	jw_bool(w, "can_speak", m->speak);
	jw_bool(w, "hold", m->hold);
	jw_bool(w, "mute_detect", m->mute_detect);
	jw_bool(w, "talking", m->talking);
	jw_bool(w, "has_video", false);
	jw_bool(w, "video_bridge", false);
	jw_bool(w, "has_floor", conf->floor == m);
	jw_bool(w, "is_moderator", m->moderator);
	jw_bool(w, "end_conference", m->endconf);
	jw_bool(w, "mandatory_member_end_conference", false);
	jw_bool(w, "pass_digits", false);
	jw_close(w);
	jw_str(w, "uuid", channel_uuid(m->ch));
	jw_str(w, "caller_id_name", conf_member_cid_name(m));
	jw_str(w, "caller_id_number", conf_member_cid_num(m));
	jw_num(w, "join_time", (long long)conf_secs_since(m->join_us));
	jw_num(w, "last_talking", m->talking || !m->last_talk_us ? 0 :
	       (long long)conf_secs_since(m->last_talk_us));
	jw_num(w, "energy", m->energy);
	jw_num(w, "volume_in", m->vol_in);
	jw_num(w, "volume_out", m->vol_out);
	jw_num(w, "output-volume", m->vol_out);
	jw_num(w, "input-volume", m->vol_in);
	jw_close(w);
}

static void json_recorder(struct jw *w, const struct conf_rec *r)
{
	jw_open(w, NULL, true);
	jw_str(w, "type", "recording_node");
	jw_str(w, "record_path", r->path);
	if (r->paused)
		jw_str(w, "status", "paused");
	jw_num(w, "join_time", (long long)(r->started_us / 1000000u));
	jw_close(w);
}

static void json_conf_flags(struct jw *w, const struct conference *conf)
{
	struct room_flags f;

	flags_of(conf, &f);
	jw_bool(w, "locked", f.locked);
	jw_bool(w, "destruct", f.destruct);
	jw_bool(w, "wait_mod", f.wait_mod);
	jw_bool(w, "audio_always", f.audio_always);
	jw_bool(w, "running", f.running);
	jw_bool(w, "answered", f.answered);
	jw_bool(w, "enforce_min", f.enforce_min);
	jw_bool(w, "bridge_to", f.bridge_to);
	jw_bool(w, "dynamic", f.dynamic);
	jw_bool(w, "exit_sound", f.exit_sound);
	jw_bool(w, "enter_sound", f.enter_sound);
	jw_bool(w, "recording", f.recording);
	jw_bool(w, "video_bridge", false);
	jw_bool(w, "video_floor_only", false);
	jw_bool(w, "video_rfc4579", false);
}

static void json_conf(struct jw *w, struct conference *conf)
{
	struct le *rle = list_tail(&conf->recs), *le;

	jw_open(w, NULL, true);
	jw_str(w, "conference_name", conf->name);
	jw_num(w, "member_count", conf->count);
	jw_num(w, "ghost_count", conf->ghosts);
	jw_num(w, "rate", conf->rate);
	jw_num(w, "run_time", (long long)conf_secs_since(conf->start_us));
	jw_str(w, "conference_uuid", conf->uuid);
	jw_num(w, "canvas_count", 0);
	jw_num(w, "max_bw_in", 0);
	jw_num(w, "force_bw_in", 0);
	jw_num(w, "video_floor_packets", 0);
	json_conf_flags(w, conf);
	if (conf->max_members)
		jw_num(w, "max_members", conf->max_members);
	jw_open(w, "variables", true);
	for (le = list_head(&conf->vars); le; le = le->next) {
		const struct conf_param *p = le->data;

		jw_str(w, p->name, p->value);
	}
	jw_close(w);
	jw_open(w, "members", false);
	for (le = list_tail(&conf->members); le; le = le->prev) {
		struct conf_member *m = le->data;

		for (; rle && rec_of(rle)->started_us >= m->join_us; rle = rle->prev)
			json_recorder(w, rec_of(rle));
		if (m->ch)
			json_member(w, conf, m);
	}
	for (; rle; rle = rle->prev)
		json_recorder(w, rec_of(rle));
	jw_close(w);
	jw_close(w);
}

/* json_list [compact]; argv[0] is "" for all rooms. */
int conf_api_json_list(struct api_call *call, struct conference *conf, int argc,
			 char **argv)
{
	struct jw w = {.call = call};
	struct le *le;

	w.pretty = !(argc == 3 && !strcmp(argv[2], "compact"));
	jw_open(&w, NULL, false);
	if (conf)
		json_conf(&w, conf);
	for (le = conf ? NULL : list_head(conf_list()); le; le = le->next)
		json_conf(&w, le->data);
	jw_close(&w);
	return w.err ? ENOMEM : 0;
}
