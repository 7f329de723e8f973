/*
 * driver.c - runs a libFuzzer target without libFuzzer: every file of a seed
 * corpus, then a bounded number of random mutations of them (byte flips, splices,
 * truncations). Used by the suite as a smoke run under the sanitizers.
 *
 *   <target>_smoke CORPUS_DIR [ITERATIONS]
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_SEEDS 256
#define FUZZ_MAX_INPUT 65536

static uint8_t *seeds[MAX_SEEDS];
static size_t seed_len[MAX_SEEDS];
static size_t nseeds;

static void load_seeds(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d) {
		fprintf(stderr, "fuzz: no corpus at %s, random inputs only\n", dir);
		return;
	}
	while ((de = readdir(d)) && nseeds < MAX_SEEDS) {
		char path[4096];
		FILE *f;
		uint8_t *buf;
		size_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		f = fopen(path, "rb");
		if (!f)
			continue;
		buf = malloc(FUZZ_MAX_INPUT);
		n = buf ? fread(buf, 1, FUZZ_MAX_INPUT, f) : 0;
		fclose(f);
		if (!buf)
			continue;
		seeds[nseeds] = buf;
		seed_len[nseeds++] = n;
	}
	closedir(d);
}

/* xorshift: reproducible runs (fixed seed) without libc's rand state. */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static size_t mutate(uint8_t *buf, size_t len)
{
	static const char *tokens[] = {"\n", "\n\n", "\r\n", ":", " ", "%", "<", ">",
		"Content-Length: ", "99999999", "-1", "${", "$${", "}", "\"", "&", "\0"};
	unsigned ops = 1 + next_rand() % 8;

	while (ops--) {
		size_t pos = len ? next_rand() % len : 0;

		switch (next_rand() % 5) {
		case 0:
			if (len)
				buf[pos] ^= (uint8_t)(1u << (next_rand() % 8));
			break;
		case 1:
			if (len)
				buf[pos] = (uint8_t)next_rand();
			break;
		case 2:
			len = pos;
			break;
		case 3: {
			const char *t = tokens[next_rand() % (sizeof(tokens) / sizeof(*tokens))];
			size_t tl = strlen(t) ? strlen(t) : 1;

			if (len + tl >= FUZZ_MAX_INPUT)
				break;
			memmove(buf + pos + tl, buf + pos, len - pos);
			memcpy(buf + pos, t, tl);
			len += tl;
			break;
		}
		default:
			if (nseeds) {
				size_t s = next_rand() % nseeds;
				size_t off = seed_len[s] ? next_rand() % seed_len[s] : 0;
				size_t n = seed_len[s] - off;

				if (pos + n > FUZZ_MAX_INPUT)
					n = FUZZ_MAX_INPUT - pos;
				memcpy(buf + pos, seeds[s] + off, n);
				if (pos + n > len)
					len = pos + n;
			}
			break;
		}
	}
	return len;
}

int main(int argc, char **argv)
{
	unsigned long iterations = argc > 2 ? strtoul(argv[2], NULL, 10) : 10000;
	uint8_t *buf = malloc(FUZZ_MAX_INPUT);
	size_t i;

	if (!buf)
		return 1;
	load_seeds(argc > 1 ? argv[1] : ".");
	for (i = 0; i < nseeds; i++)
		LLVMFuzzerTestOneInput(seeds[i], seed_len[i]);
	for (unsigned long it = 0; it < iterations; it++) {
		size_t len = 0;

		if (nseeds) {
			size_t s = next_rand() % nseeds;

			memcpy(buf, seeds[s], seed_len[s]);
			len = seed_len[s];
		}
		len = mutate(buf, len);
		LLVMFuzzerTestOneInput(buf, len);
	}
	printf("fuzz: %zu seeds, %lu mutated inputs, no crash\n", nseeds, iterations);
	for (i = 0; i < nseeds; i++)
		free(seeds[i]);
	free(buf);
	return 0;
}
