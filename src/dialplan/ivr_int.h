/*
 * ivr_int.h - the layout of IVR menus, shared by the menus (ivr_menu.c) and
 * the engine that runs them (ivr_run.c).
 */
#ifndef CONFAB_IVR_INT_H
#define CONFAB_IVR_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <re.h>
#include "dialplan/ivr.h"

/* Digits one answer may have. */
#define IVR_MAX_DIGITS 128

struct ivr_entry {
	struct le le;
	enum ivr_action act;
	char *digits;                /* as bound: "1" or "/^(10[01][0-9])$/" */
	char *param;                 /* "" when none */
	pcre2_code *re;              /* NULL for literal digits */
};

struct ivr_menu {
	struct le le;
	char *name;
	char *greet_long, *greet_short, *invalid_sound, *exit_sound;   /* NULL: none */
	char *confirm_macro, *confirm_key, *tts_engine, *tts_voice;
	char *exec_on_max_fail, *exec_on_max_timeout;                  /* "<app> <args>" */
	unsigned timeout_ms, inter_ms;
	unsigned max_failures, max_timeouts, confirm_attempts;
	unsigned digit_len;          /* digits collected at most (FreeSWITCH's inlen) */
	struct list entries;         /* struct ivr_entry, in binding order */
};

struct ivr_menus {
	struct list menus;           /* struct ivr_menu */
};

#endif
