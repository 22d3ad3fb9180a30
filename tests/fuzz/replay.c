/*
 * replay.c — runs a fuzz target's LLVMFuzzerTestOneInput over a corpus.
 *
 * Linked in place of libFuzzer in ordinary and sanitizer builds, so every
 * corpus file is replayed by the test suite (SQLite's fuzzcheck idea).
 * Arguments are files or directories (read recursively). Exits non-zero if
 * a path cannot be read or holds no input at all; a crash or sanitizer
 * report ends the run the usual way.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static long replayed;

static int
replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return -1;
	}
	size_t cap = 4096, len = 0;
	uint8_t *p = malloc(cap);
	size_t n;
	while (p && (n = fread(p + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap) {
			uint8_t *np = realloc(p, cap * 2);
			if (!np) {
				free(p);
				p = NULL;
				break;
			}
			p = np;
			cap *= 2;
		}
	}
	fclose(f);
	if (!p) {
		fprintf(stderr, "%s: out of memory\n", path);
		return -1;
	}
	/* Hand the target an exact-size copy so ASan sees reads past the end. */
	uint8_t *exact = malloc(len ? len : 1);
	if (!exact) {
		free(p);
		return -1;
	}
	memcpy(exact, p, len);
	free(p);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	replayed++;
	return 0;
}

static int
replay_path(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		perror(path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return replay_file(path);
	DIR *dir = opendir(path);
	if (!dir) {
		perror(path);
		return -1;
	}
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(dir)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char sub[4096];
		int n = snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		if (n < 0 || (size_t)n >= sizeof(sub)) {
			fprintf(stderr, "%s/%s: path too long\n", path, e->d_name);
			rc = -1;
			continue;
		}
		if (replay_path(sub))
			rc = -1;
	}
	closedir(dir);
	return rc;
}

int
main(int argc, char **argv)
{
	int rc = 0;
	for (int i = 1; i < argc; i++)
		if (replay_path(argv[i]))
			rc = 1;
	if (replayed == 0) {
		fprintf(stderr, "replay: no corpus input found\n");
		return 1;
	}
	printf("replayed %ld inputs\n", replayed);
	return rc;
}
