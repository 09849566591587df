/*
 * keyring.h: the system keyring (Secret Service over D-Bus, through libsecret), or a
 * stub in a build made with KEYRING=none. The only module that talks to libsecret.
 *
 * Entries are found the way msmtp stores them (schema de.marlam.msmtp.password, not
 * matched by name, attributes host, service, user: what `secret-tool store host H
 * service smtp user U` writes), then as GNOME network passwords (server, protocol,
 * user). New entries are written in msmtp's form, so both programs share them.
 *
 * No call blocks for long: with no D-Bus session bus (cron, PHP, services) it fails at
 * once; a Secret Service that does not answer is given up on after a few seconds.
 */
#ifndef MAILOUT_KEYRING_H
#define MAILOUT_KEYRING_H

struct err;

/*
 * Look up the secret for user at host for service ("smtp"). Returns 1 with *secret
 * (caller frees with secret_free), 0 if there is no such entry, -1 with err (TEMP: no
 * session bus, timed out, locked, D-Bus error; PERM CAUSE_CONFIG: no keyring support).
 */
int keyring_lookup(const char *host, const char *service, const char *user, char **secret,
    struct err *e);

/* Store (replacing an existing entry with the same attributes). 0 or -1 with err. */
int keyring_store(const char *host, const char *service, const char *user, const char *label,
    const char *secret, struct err *e);

/* Remove msmtp-form entries for these attributes. 1 removed, 0 none, -1 with err. */
int keyring_forget(const char *host, const char *service, const char *user, struct err *e);

/* "libsecret" or "none", for --version. */
const char *keyring_backend(void);

#endif
