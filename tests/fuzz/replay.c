/*
 * Replays a fuzz target's corpus without libFuzzer, so that `make check`
 * exercises every parser of untrusted bytes on every build: each file in
 * tests/fuzz/corpus/NAME/, every prefix of it, and a fixed number of
 * deterministic byte mutations of it.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#ifndef FUZZ_NAME
#error FUZZ_NAME must name the corpus directory
#endif

#define REPLAY_MUTATIONS	200
#define REPLAY_MAX_FILE		(1024 * 1024)

static uint32_t replay_seed = 2463534242U;

static uint32_t
replay_rand(void)
{
	replay_seed ^= replay_seed << 13;
	replay_seed ^= replay_seed >> 17;
	replay_seed ^= replay_seed << 5;
	return (replay_seed);
}

static void
replay_one(const uint8_t *data, size_t len)
{
	uint8_t	*copy;
	size_t	 i, n, pos;
	int	 m;

	/* Exact copies, so ASan sees reads past the end. */
	for (i = 0; i <= len; i += (len > 512 ? len / 256 : 1)) {
		copy = malloc(i == 0 ? 1 : i);
		memcpy(copy, data, i);
		LLVMFuzzerTestOneInput(copy, i);
		free(copy);
	}
	if (len == 0)
		return;
	for (m = 0; m < REPLAY_MUTATIONS; m++) {
		copy = malloc(len);
		memcpy(copy, data, len);
		n = 1 + replay_rand() % 4;
		for (i = 0; i < n; i++) {
			pos = replay_rand() % len;
			switch (replay_rand() % 4) {
			case 0:
				copy[pos] = (uint8_t)replay_rand();
				break;
			case 1:
				copy[pos] ^= (uint8_t)(1u << (replay_rand() % 8));
				break;
			case 2:
				copy[pos] = "\0\n\r,\"%{}[]<>&:\\"[replay_rand() % 15];
				break;
			default:
				copy[pos] = 0xff;
				break;
			}
		}
		LLVMFuzzerTestOneInput(copy, len);
		free(copy);
	}
}

int
main(int argc, char **argv)
{
	const char	*srcdir = getenv("srcdir");
	char		 dir[4096], path[4096 + 256];
	DIR		*d;
	struct dirent	*de;
	FILE		*f;
	uint8_t		*data;
	size_t		 len;
	int		 files = 0;

	if (argc > 1)
		snprintf(dir, sizeof dir, "%s", argv[1]);
	else
		snprintf(dir, sizeof dir, "%s/tests/fuzz/corpus/%s",
		    srcdir != NULL ? srcdir : ".", FUZZ_NAME);
	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "replay: cannot open corpus %s\n", dir);
		return (1);
	}
	data = malloc(REPLAY_MAX_FILE);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if ((f = fopen(path, "rb")) == NULL)
			continue;
		len = fread(data, 1, REPLAY_MAX_FILE, f);
		fclose(f);
		replay_one(data, len);
		files++;
	}
	closedir(d);
	free(data);
	printf("replay %s: %d corpus files\n", FUZZ_NAME, files);
	if (files == 0) {
		fprintf(stderr, "replay: corpus %s is empty\n", dir);
		return (1);
	}
	return (0);
}
