/*
 * main.c — the tocsin command: dispatch to one file per command group.
 *
 * Exit codes (all commands): 0 success, 1 the command ran but found
 * problems (rejected objects, invalid files, no match when asked), 2 usage
 * or fatal error.
 */
#include <stdio.h>
#include <string.h>

static void
usage(FILE *f)
{
	fputs("usage: tocsin [--version] [--help] COMMAND [ARGS...]\n"
	      "\n"
	      "Run 'tocsin COMMAND --help' for a command's options.\n",
	      f);
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		puts("tocsin 0.1.0");
		return 0;
	}
	fprintf(stderr, "tocsin: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
