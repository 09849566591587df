/*
 * priv.h: system mode, the privilege of a setgid installation.
 *
 * `make install-system` installs the binary setgid to a dedicated group (mailout) that
 * alone can read the relay secrets (/etc/mailout) and the queue (/var/spool/mailout).
 * Started that way (effective gid != real gid), the program is in system mode:
 *
 *   - priv_init drops the effective gid to the caller's real gid at once and keeps the
 *     group only as the saved gid; priv_raise/priv_lower take it up and put it down
 *     again around the few file operations that need it (opening the system config and
 *     secret files, creating, renaming and removing queue files). Reading and parsing
 *     the message, and every byte exchanged with a relay, run with the caller's own ids.
 *   - the process is not dumpable (no core file, no ptrace, no /proc/PID/environ or
 *     mem for the caller) from start to end, and stays so after every change of ids;
 *   - for callers other than root the environment is replaced by a fixed minimum
 *     (PATH=/usr/bin:/bin, and LANG, LANGUAGE, LC_* and TZ unless they name a file);
 *     -C, -X, the user's own sendmail.conf and the keyring are not used (config.c,
 *     main.c, cred.c say so in their errors);
 *   - a caller other than root sees, flushes and removes only the queue entries it
 *     submitted (priv_owns).
 *
 * Not system mode (the per-user install, or the group is the caller's own): every
 * function here is a no-op and everything behaves as before.
 *
 * Limit, stated plainly: the saved gid is kept so that the group can be taken up again,
 * so code running in this process could take it too. Lowering the effective gid keeps
 * the group away from every file access that is not in a priv_raise bracket (a path in
 * a message, a reply or the caller's environment never meets the group); it does not
 * contain an attacker who runs code in the process.
 */
#ifndef MAILOUT_PRIV_H
#define MAILOUT_PRIV_H

#include <stdint.h>
#include <sys/types.h>

/*
 * First thing in main. Detects system mode and, there, drops the group to the saved gid,
 * makes the process non-dumpable with no core limit, reopens a closed standard
 * descriptor on /dev/null, and sanitises the environment of a caller other than root.
 * Returns 0, or -1 when the ids cannot be changed (the caller must exit: EX_OSERR).
 */
int priv_init(void);

/* 1 in system mode (the binary runs setgid to its group). */
int priv_system(void);
/* 1 in system mode for a caller other than root: the restrictions above apply. */
int priv_restricted(void);
/* The group of system mode (the saved gid); (gid_t)-1 outside it. */
gid_t priv_group(void);

/*
 * Take the group up (effective gid = the saved gid) and put it down again. Brackets
 * nest: only the outermost priv_lower drops the group. Both keep the process
 * non-dumpable and leave errno as it was. If the group cannot be put down, the process
 * ends (EX_OSERR): it must not go on with the group. No-ops outside system mode.
 */
void priv_raise(void);
void priv_lower(void);

/* 1 if the caller may see and act on a queue entry submitted by uid. */
int priv_owns(uint64_t uid);

#endif
