// SPDX-License-Identifier: GPL-2.0
/*
 * zsync-timeit: times a command run COUNT times in a row, one sample a
 * run, for make bench-runtime (tools/bench/bench-runtime.sh), where the
 * command is a whole container launcher (zsync-run, crun run, runc run).
 *
 *   zsync-timeit [-n COUNT] [-w WARMUP] [-l LABEL] [-o FILE] [-q] -- COMMAND [ARGS...]
 *
 * A sample is the time from just before fork(2) to just after waitpid(2)
 * returned, on CLOCK_MONOTONIC: what a caller of the launcher waits for,
 * the exec of the launcher and its dynamic loading included.  busybox's
 * time and date print 10 ms and 1 s, too coarse for a container that
 * lives a few milliseconds, hence this program.  Not named zsync-bench-*:
 * make bench runs every one of those in the VM.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_RUNS	1000000UL

static const char *prog = "zsync-timeit";

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s [-n COUNT] [-w WARMUP] [-l LABEL] [-o FILE] [-q] -- COMMAND [ARGS...]\n"
		"\n"
		"Runs COMMAND COUNT times in a row (fork, execvp, waitpid), after WARMUP\n"
		"untimed runs, and writes one line a timed run: \"LABEL MS\", the time from\n"
		"before fork to after waitpid on CLOCK_MONOTONIC, in milliseconds with\n"
		"microsecond digits.  Stops at the first run that does not exit 0.\n"
		"\n"
		"  -n COUNT   timed runs (default 20)\n"
		"  -w WARMUP  untimed runs first (default 0)\n"
		"  -l LABEL   first field of each line (default: COMMAND's name)\n"
		"  -o FILE    append the lines to FILE (default: standard output)\n"
		"  -q         COMMAND's standard output and error to /dev/null\n"
		"  -h, --help\n"
		"Exit status: 0 all runs exited 0; 1 a run failed or could not start\n"
		"(the message says which and how); 2 usage.\n",
		prog);
}

/* A decimal in [lo, MAX_RUNS] into *out; false if it is not one. */
static bool parse_count(const char *s, unsigned long lo, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return !errno && end != s && !*end && *s != '-' && *out >= lo && *out <= MAX_RUNS;
}

static double now_ms(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail with a valid clock id and pointer. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * One run of @argv: 0 and its duration in *ms if it exited 0, else -1
 * after saying why.  @run names it in messages.
 */
static int run_once(char **argv, bool quiet, const char *run, double *ms)
{
	double t0 = now_ms();
	pid_t pid = fork();
	int status;

	if (pid < 0) {
		fprintf(stderr, "%s: %s: fork: %s (errno %d)\n", prog, run, strerror(errno), errno);
		return -1;
	}
	if (pid == 0) {
		if (quiet) {
			int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

			if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0) {
				fprintf(stderr, "%s: %s: /dev/null: %s (errno %d)\n", prog, run,
					strerror(errno), errno);
				_exit(127);
			}
		}
		execvp(argv[0], argv);
		fprintf(stderr, "%s: %s: cannot execute %s: %s (errno %d)\n", prog, run, argv[0],
			strerror(errno), errno);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "%s: %s: waitpid: %s (errno %d)\n", prog, run,
				strerror(errno), errno);
			return -1;
		}
	}
	*ms = now_ms() - t0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		fprintf(stderr, "%s: %s: %s exited %d\n", prog, run, argv[0], WEXITSTATUS(status));
	else
		fprintf(stderr, "%s: %s: %s killed by signal %d\n", prog, run, argv[0],
			WTERMSIG(status));
	return -1;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long count = 20, warmup = 0, i;
	const char *label = NULL, *out_path = NULL;
	bool quiet = false;
	char run[64];
	FILE *out = stdout;
	double ms;
	int c;

	while ((c = getopt_long(argc, argv, "+n:w:l:o:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (!parse_count(optarg, 1, &count)) {
				fprintf(stderr, "%s: -n '%s': not a count in [1, %lu]\n", prog,
					optarg, MAX_RUNS);
				return 2;
			}
			break;
		case 'w':
			if (!parse_count(optarg, 0, &warmup)) {
				fprintf(stderr, "%s: -w '%s': not a count in [0, %lu]\n", prog,
					optarg, MAX_RUNS);
				return 2;
			}
			break;
		case 'l':
			label = optarg;
			break;
		case 'o':
			out_path = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "%s: no COMMAND given\n", prog);
		usage(stderr);
		return 2;
	}
	argv += optind;
	if (!label)
		label = argv[0];
	if (out_path) {
		out = fopen(out_path, "a");
		if (!out) {
			fprintf(stderr, "%s: %s: %s (errno %d)\n", prog, out_path,
				strerror(errno), errno);
			return 1;
		}
	}

	for (i = 0; i < warmup; i++) {
		snprintf(run, sizeof(run), "warm-up run %lu", i + 1);
		if (run_once(argv, quiet, run, &ms))
			return 1;
	}
	for (i = 0; i < count; i++) {
		snprintf(run, sizeof(run), "run %lu of %lu", i + 1, count);
		if (run_once(argv, quiet, run, &ms))
			return 1;
		/* Written as they come, so a failure keeps the samples before it. */
		fprintf(out, "%s %.3f\n", label, ms);
		fflush(out);
	}
	if (ferror(out) || (out != stdout && fclose(out))) {
		fprintf(stderr, "%s: writing %s failed\n", prog, out_path ? out_path : "stdout");
		return 1;
	}
	return 0;
}
