/*
 * test_say.c - the English say module's file lists, the speak argument split
 * and phrase macros: compiled, refused with file and line, run by content.
 */
#include <errno.h>
#include <string.h>
#include <re.h>
#include "check.h"
#include "core/config.h"
#include "dialplan/say.h"
#include "media/tts.h"

static void says(const char *type, const char *method, const char *text, const char *want)
{
	char *src = NULL;
	int err = say_source(&src, "en", type, method, NULL, text);

	CHECK_INT(err, 0);
	CHECK_STR(src, want);
	mem_deref(src);
}

static void test_say(void)
{
	char *src = NULL;

	says("number", "pronounced", "123",
	     "file_string://digits/1.wav!digits/hundred.wav!digits/20.wav!digits/3.wav");
	says("number", "pronounced", "0", "digits/0.wav");
	says("items", "pronounced", "1,015",
	     "file_string://digits/1.wav!digits/thousand.wav!digits/15.wav");
	says("number", "pronounced", "2000000",
	     "file_string://digits/2.wav!digits/million.wav");
	says("number", "pronounced", "-7", "file_string://currency/negative.wav!digits/7.wav");
	says("number", "iterated", "1203",
	     "file_string://digits/1.wav!digits/2.wav!digits/0.wav!digits/3.wav");
	says("number", "counted", "23", "file_string://digits/20.wav!digits/h-3.wav");
	says("number", "counted", "40", "digits/h-40.wav");
	says("number", "counted", "100", "file_string://digits/1.wav!digits/h-hundred.wav");
	says("telephone_number", "N/A", "555-12",
	     "file_string://digits/5.wav!digits/5.wav!digits/5.wav!digits/1.wav!digits/2.wav");
	says("ip_address", "pronounced", "10.0.0.1",
	     "file_string://digits/10.wav!digits/dot.wav!digits/0.wav!digits/dot.wav!"
	     "digits/0.wav!digits/dot.wav!digits/1.wav");
	says("name_spelled", "pronounced", "Ab", "file_string://ascii/97.wav!ascii/98.wav");
	says("currency", "pronounced", "1.05",
	     "file_string://digits/1.wav!currency/dollar.wav!currency/and.wav!digits/5.wav!"
	     "currency/cents.wav");
	says("time_measurement", "pronounced", "3661",
	     "file_string://digits/1.wav!time/hour.wav!digits/1.wav!time/minute.wav!"
	     "digits/1.wav!time/second.wav");
	CHECK_INT(say_source(&src, "fr", "number", "pronounced", NULL, "1"), ENOTSUP);
	CHECK_INT(say_source(&src, "en", "number", "pronounced", NULL, "12a"), EINVAL);
	CHECK_INT(say_source(&src, "en", "nosuch", "pronounced", NULL, "1"), EINVAL);
	CHECK_INT(say_source(&src, "en", "number", "sideways", NULL, "1"), EINVAL);
	CHECK_INT(say_source_args(&src, "en number pronounced 42"), 0);
	CHECK_STR(src, "file_string://digits/40.wav!digits/2.wav");
	src = mem_deref(src);
	CHECK_INT(say_source_args(&src, "en number pronounced"), EINVAL);
}

static void test_split(void)
{
	char a[] = "flite|kal|Hello | world", b[] = "kal|Hi", c[] = "Just text";
	char *e, *v, *t, *out = NULL;

	tts_split(a, &e, &v, &t);
	CHECK_STR(e, "flite");
	CHECK_STR(v, "kal");
	CHECK_STR(t, "Hello | world");
	tts_split(b, &e, &v, &t);
	CHECK(!e);
	CHECK_STR(v, "kal");
	CHECK_STR(t, "Hi");
	tts_split(c, &e, &v, &t);
	CHECK(!e && !v);
	CHECK_STR(t, "Just text");
	CHECK_INT(tts_voice("flite", "slt", &out), 0);
	CHECK_STR(out, "en-us+f3");
	out = mem_deref(out);
	CHECK_INT(tts_voice("espeak", "", &out), 0);
	CHECK_STR(out, "en-us");
	out = mem_deref(out);
	CHECK_INT(tts_voice("flite", "nosuch", &out), ENOENT);
	CHECK_INT(tts_voice("cepstral", "callie", &out), ENOTSUP);
	CHECK_INT(tts_voice("espeak", "-x", &out), ENOENT);
}

static int load(const char *xml, char *err, size_t errsz)
{
	struct config *cfg = NULL;
	int e = config_parse_buf(&cfg, xml, strlen(xml), "lang.xml", err, errsz);

	if (!e)
		e = phrase_load(cfg, err, errsz);
	mem_deref(cfg);
	return e;
}

#define LANG_HEAD "<document><section name=\"languages\"><language name=\"en\" " \
	"tts-engine=\"flite\" tts-voice=\"kal\"><phrases><macros>\n"
#define LANG_TAIL "</macros></phrases></language></section></document>"

static void test_phrase(void)
{
	char err[256], *src = NULL;

	CHECK_INT(load(LANG_HEAD
		       "<macro name=\"m\">\n"
		       "<input pattern=\"^(\\d+)$\"><match>\n"
		       "<action function=\"play-file\" data=\"a.wav\"/>\n"
		       "<action function=\"say\" data=\"$1\" type=\"number\" method=\"iterated\"/>\n"
		       "<action function=\"execute\" data=\"sleep(250)\"/>\n"
		       "<action function=\"speak-text\" data=\"n $1\"/>\n"
		       "</match><nomatch><action function=\"play-file\" data=\"b.wav\"/>"
		       "</nomatch></input>\n"
		       "<input pattern=\"^x\"><match><action function=\"break\"/>"
		       "<action function=\"play-file\" data=\"never.wav\"/></match></input>\n"
		       "<input pattern=\".\"><match><action function=\"play-file\" "
		       "data=\"c.wav\"/></match></input>\n"
		       "</macro>" LANG_TAIL, err, sizeof(err)), 0);
	CHECK_INT(phrase_count(), 1);
	CHECK_INT(phrase_source(&src, NULL, "m", "12", NULL), 0);
	CHECK_STR(src, "file_string://a.wav!digits/1.wav!digits/2.wav!silence_stream://250!"
		  "tts://flite|kal|n 12!c.wav");
	src = mem_deref(src);
	CHECK_INT(phrase_source(&src, NULL, "m", "xy", NULL), 0);
	CHECK_STR(src, "b.wav");
	src = mem_deref(src);
	CHECK_INT(phrase_source(&src, NULL, "nosuch", "1", NULL), ENOENT);
	CHECK_INT(phrase_source(&src, NULL, "m", "1", "de"), ENOENT);

	/* Refused with file and line; the macros loaded before stay. */
	CHECK_INT(load(LANG_HEAD "<macro name=\"bad\">\n<input pattern=\"(\">"
		       "</input></macro>" LANG_TAIL, err, sizeof(err)), EINVAL);
	CHECK(!strncmp(err, "lang.xml:3: phrase: bad pattern", 31));
	CHECK_INT(load(LANG_HEAD "<macro name=\"bad\"><input pattern=\"a\"><match>\n\n"
		       "<action function=\"dance\" data=\"x\"/></match></input></macro>"
		       LANG_TAIL, err, sizeof(err)), EINVAL);
	CHECK_STR(err, "lang.xml:4: phrase: unknown action function 'dance'");
	CHECK_INT(load(LANG_HEAD "<macro name=\"bad\"><input pattern=\"a\"><match>\n"
		       "<action function=\"execute\" data=\"hangup()\"/></match></input></macro>"
		       LANG_TAIL, err, sizeof(err)), EINVAL);
	CHECK(strstr(err, "lang.xml:3: phrase: execute of 'hangup()'") == err);
	CHECK_INT(phrase_count(), 1);
	phrase_close();
}

int main(void)
{
	if (libre_init())
		return 1;
	test_say();
	test_split();
	test_phrase();
	libre_close();
	return check_done();
}
