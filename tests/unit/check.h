/*
 * check.h - the unit tests' assertions: each failed check prints file:line and what
 * differed; check_done() prints "N passed, N failed" and gives the exit status.
 */
#ifndef CONFAB_CHECK_H
#define CONFAB_CHECK_H

#include <stdio.h>
#include <string.h>

static unsigned check_passed_, check_failed_;

#define CHECK(cond) do { \
	if (cond) { check_passed_++; } \
	else { check_failed_++; \
		fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); } \
} while (0)

#define CHECK_INT(a, b) do { \
	long long a_ = (long long)(a), b_ = (long long)(b); \
	if (a_ == b_) { check_passed_++; } \
	else { check_failed_++; \
		fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", \
			__FILE__, __LINE__, #a, a_, b_); } \
} while (0)

#define CHECK_STR(a, b) do { \
	const char *a_ = (a), *b_ = (b); \
	if (a_ && b_ && !strcmp(a_, b_)) { check_passed_++; } \
	else { check_failed_++; \
		fprintf(stderr, "%s:%d: %s is\n  [%s]\nexpected\n  [%s]\n", \
			__FILE__, __LINE__, #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } \
} while (0)

static inline int check_done(void)
{
	printf("%u passed, %u failed\n", check_passed_, check_failed_);
	return check_failed_ ? 1 : 0;
}

#endif
