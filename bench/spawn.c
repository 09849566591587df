/*
 * spawn.c: run one command and write "WALL USER SYS MAXRSS EXIT" to RESULT_FILE.
 *
 *	spawn RESULT_FILE COMMAND [ARG...]
 *
 * The command is forked from this small process rather than from the Python driver: Linux
 * carries the peak RSS of the process image an exec replaces into ru_maxrss, so a command
 * forked from Python would report Python's ~10 MiB as its own. Wall time is taken here,
 * around fork and wait4, in seconds; user and system CPU in seconds; MAXRSS in KiB; EXIT is
 * the exit code, or 128 + the signal that ended it.
 */
#define _GNU_SOURCE
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <stdio.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	FILE *out;
	pid_t pid;
	int st, code;

	if (argc < 3) {
		fprintf(stderr, "usage: spawn RESULT_FILE COMMAND [ARG...]\n");
		return 64;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((pid = fork()) == -1) {
		perror("spawn: fork");
		return 71;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		perror(argv[2]);
		_exit(127);
	}
	if (wait4(pid, &st, 0, &ru) == -1) {
		perror("spawn: wait4");
		return 71;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	if ((out = fopen(argv[1], "w")) == NULL) {
		perror(argv[1]);
		return 73;
	}
	fprintf(out, "%.9f %ld.%06ld %ld.%06ld %ld %d\n",
	    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
	    (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec,
	    (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec, ru.ru_maxrss, code);
	return fclose(out) == 0 ? 0 : 74;
}
