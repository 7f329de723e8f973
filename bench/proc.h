/*
 * proc.h - what the benchmarks read from /proc: a process's CPU time and
 * resident memory, and the whole machine's busy, softirq and total jiffies.
 * Static functions: each benchmark is one file and one program.
 */
#ifndef CONFAB_BENCH_PROC_H
#define CONFAB_BENCH_PROC_H

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* utime + stime of `pid` in seconds, 0 when it cannot be read. */
static inline double proc_cpu_s(int pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return 0;
	}
	fclose(f);
	/* The command name may hold blanks and ')': the fields follow the last one. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
			 &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* VmRSS of `pid` in KiB, 0 when it cannot be read. */
static inline long proc_rss_kb(int pid)
{
	char path[64], line[256];
	long kb = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* Busy (not idle, not iowait), softirq and total jiffies of the machine. */
static inline void proc_machine(double *busy, double *softirq, double *total)
{
	unsigned long long v[10] = {0};
	FILE *f = fopen("/proc/stat", "r");
	unsigned i;

	*busy = *softirq = *total = 0;
	if (!f)
		return;
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
		   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]) >= 8) {
		for (i = 0; i < 8; i++)
			*total += (double)v[i];
		*busy = *total - (double)v[3] - (double)v[4];
		*softirq = (double)v[6];
	}
	fclose(f);
}

#endif
