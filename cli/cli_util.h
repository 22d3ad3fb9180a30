/*
 * cli_util.h — what every tocsin command shares: the command table entry,
 * error and usage printing, option parsing helpers, opening the data
 * directory, and the progress bar.
 *
 * Invariant: every command returns one of the CLI_EXIT_* codes, prints
 * results on stdout and everything else (errors, rejections, progress) on
 * stderr, each error line starting with "tocsin: ". Nothing here holds
 * logic that a daemon or a test would need: that lives in libtocsin.
 */
#ifndef TOCSIN_CLI_UTIL_H
#define TOCSIN_CLI_UTIL_H

#include <getopt.h>
#include <sys/types.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "hub/hub.h"

enum {
	CLI_EXIT_OK = 0,      /* everything went as asked */
	CLI_EXIT_PROBLEMS = 1, /* ran to the end but found problems (rejected, invalid) */
	CLI_EXIT_USAGE = 2,   /* usage error or fatal error: nothing (more) was done */
};

/* One command: name, one-line summary, full usage text (synopsis and
 * options, printed by --help and on usage errors), and its entry point
 * (argv[0] is the command name). */
struct cli_cmd {
	const char *name;
	const char *summary;
	const char *usage;
	int (*run)(const struct cli_cmd *cmd, int argc, char **argv);
};

/* The command table (main.c), terminated by a NULL name. */
extern const struct cli_cmd cli_commands[];

/* The umask tocsin was started with. main() then sets 077, so that every
 * file it creates in a data directory (databases and their -wal/-shm,
 * keys, the audit log) is the owner's alone; files made for the user
 * (export -o) take their mode from this one. */
extern mode_t cli_user_umask;
/* The entry of name, or NULL. */
const struct cli_cmd *cli_find_command(const char *name);

/*
 * Escaping what came from input. Every byte the CLI echoes from a file,
 * an argument or the data directory (file names, values, messages that
 * quote input, names and titles) goes through these, so no control byte
 * reaches a terminal: \n, \r, \t, \\ stay readable as C escapes
 * ("\n"), other C0 controls, DEL, C1 controls (also UTF-8 encoded) and
 * bytes that are not valid UTF-8 become "\xHH" per byte; valid printable
 * UTF-8 is kept as it is. A backslash itself is left alone.
 */
/* Appends s (len bytes) escaped to b. */
void cli_esc_append(struct buf *b, const char *s, size_t len);
/* s escaped, in one of CLI_ESC_RING buffers reused in turn, so that up
 * to that many may be used in one printf; valid until then. NULL is "". */
#define CLI_ESC_RING 8
const char *cli_esc(const char *s);
/* Like fprintf(f, ...) but the whole formatted text is escaped, except
 * one final newline: a line of output stays one line. */
void cli_fprintf(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "tocsin: " + message + "\n" on stderr, the message escaped. */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints cmd's usage on f. */
void cli_print_usage(const struct cli_cmd *cmd, FILE *f);

/* Prints "tocsin: message" (escaped) and cmd's usage on stderr; returns
 * CLI_EXIT_USAGE, so a command can `return cli_usage_error(...)`. */
int cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Long option shared by all commands. */
#define CLI_OPT_HELP 'h'

/* Runs getopt_long over argv for cmd with opterr off; shortopts must
 * start with ':' (so a missing argument is told from an unknown option).
 * Returns the option
 * character as getopt_long does, or -1 at the end. An unknown option or a
 * missing argument is reported with cmd's usage and returns '?': the
 * caller then returns CLI_EXIT_USAGE. --help is returned as 'h'. */
int cli_getopt(const struct cli_cmd *cmd, int argc, char **argv, const char *shortopts,
               const struct option *longopts);

/* Opens the data directory dir (NULL: $TOCSIN_DATA, else ./var) and
 * prints why it could not ("tocsin: ./var is not a tocsin data directory
 * (run 'tocsin init')"). Returns CLI_EXIT_OK with *out set, else
 * CLI_EXIT_USAGE. The caller hub_close()s *out. */
int cli_open_hub(const char *dir, struct hub **out);

/* Parses a kind name (--kind) as obs_kind_parse does; on failure prints a
 * usage error listing the kinds and returns false. */
bool cli_parse_kind(const struct cli_cmd *cmd, const char *name, enum obs_kind *out);

/* Writes the whole of p to f; false on a write error (reported). */
bool cli_write(FILE *f, const void *p, size_t len);

/* Flushes stdout and reports a write error ("tocsin: stdout: No space
 * left on device"); returns rc, or CLI_EXIT_USAGE on error. */
int cli_finish_stdout(int rc);

/*
 * The progress bar: drawn on stderr only when stderr is a terminal and
 * the input is larger than CLI_PROGRESS_MIN_BYTES; redrawn at most every
 * CLI_PROGRESS_INTERVAL_US. Off otherwise, so logs and pipes stay clean.
 */
#define CLI_PROGRESS_MIN_BYTES (1024 * 1024)
#define CLI_PROGRESS_INTERVAL_US 100000
#define CLI_PROGRESS_WIDTH 30

struct cli_progress {
	bool tty;             /* stderr is a terminal */
	bool drawn;           /* a bar is on the screen */
	const char *label;
	uint64_t total;       /* bytes; 0: unknown (stdin, pipes) */
	uint64_t done;
	uint64_t objects;
	int64_t last_draw_us;
};

/* Starts a bar for label (a file name) of total bytes (0: unknown, as for
 * stdin). The bar shows once stderr is a terminal and the file is, or the
 * bytes read so far are, larger than CLI_PROGRESS_MIN_BYTES. */
void cli_progress_start(struct cli_progress *p, const char *label, uint64_t total);
/* Records progress and redraws if due. */
void cli_progress_update(struct cli_progress *p, uint64_t done, uint64_t objects);
/* Erases the bar (before printing a message on stderr, and at the end). */
void cli_progress_clear(struct cli_progress *p);
void cli_progress_end(struct cli_progress *p);

#endif
