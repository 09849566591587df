/*
 * held.c: the binding of queued messages and the held state of accounts. See held.h.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "base/err.h"
#include "base/log.h"
#include "base/priv.h"
#include "base/user.h"
#include "config/config.h"
#include "queue/accstate.h"
#include "queue/queue.h"
#include "send/held.h"
#include "send/submit.h"
#include "base/clock.h"
#include "base/mem.h"

int
held_kind(const struct err *e)
{
	if (e->kind != ERR_PERM)
		return 0;
	/*
	 * NOPERM: the login was rejected. UNAVAILABLE: a 5xx greeting or EHLO, STARTTLS or
	 * AUTH missing. CONFIG: TLS verification, an unreadable or empty secret, a secret
	 * command that cannot run. All are permanent until someone changes something.
	 */
	return e->cause == CAUSE_NOPERM || e->cause == CAUSE_UNAVAILABLE ||
	    e->cause == CAUSE_CONFIG;
}

const char *
held_fix(const struct account *a, const struct err *e, char *buf, size_t n)
{
	if (e->cause == CAUSE_NOPERM)
		snprintf(buf, n,
		    "check user and password of account %s in %s (password_file, "
		    "password_command, or mailout --store-password -a %s)",
		    a->name, a->file, a->name);
	else if (e->cause == CAUSE_UNAVAILABLE)
		snprintf(buf, n,
		    "check host, port and tls of account %s in %s against what the "
		    "relay offers (mailout --serverinfo -a %s)",
		    a->name, a->file, a->name);
	else
		snprintf(buf, n,
		    "fix account %s in %s (mailout --test -a %s ADDRESS shows each "
		    "step)",
		    a->name, a->file, a->name);
	return buf;
}

static const char *
tls_word(const struct account *a)
{
	switch (a->tls) {
	case TLS_OFF:
		return "off";
	case TLS_OPPORTUNISTIC:
		return "opportunistic";
	case TLS_STARTTLS:
		return "starttls";
	default:
		return "implicit";
	}
}

const char *
held_identity(const struct account *a, char *buf, size_t n)
{
	snprintf(buf, n, "%s:%u tls=%s user=%s", a->host, a->port, tls_word(a),
	    a->user != NULL && a->user[0] != '\0' ? a->user : "-");
	return buf;
}

void
held_bind(const struct config *cfg, const struct account *a, struct queue_meta *m)
{
	const struct account *cur;
	char id[MAX_RELAY_IDENTITY], entry[MAX_RELAY_IDENTITY + 256];
	size_t hops;

	queue_meta_set(&m->relay, held_identity(a, id, sizeof(id)));
	queue_meta_clear_fallbacks(m);
	cur = a->fallback != NULL ? config_find(cfg, a->fallback) : NULL;
	/* A chain may loop (a -> b -> a): each account once, as send_attempt tries them. */
	for (hops = 0; cur != NULL && cur != a && hops < cfg->naccounts; hops++) {
		snprintf(entry, sizeof(entry), "%s %s", cur->name,
		    held_identity(cur, id, sizeof(id)));
		queue_meta_add_fallback(m, entry);
		cur = cur->fallback != NULL ? config_find(cfg, cur->fallback) : NULL;
	}
}

char *
held_config_path(const char *file)
{
	char *p;

	if ((p = realpath(file, NULL)) == NULL)
		p = xstrdup(file);
	return p;
}

/* FNV-1a, 64 bits: a change detector for settings that are not secret, not a MAC. */
static void
mix(uint64_t *h, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++) {
		*h ^= b[i];
		*h *= 0x100000001b3ULL;
	}
}

static void
mix_str(uint64_t *h, const char *s)
{
	mix(h, s != NULL ? s : "", s != NULL ? strlen(s) + 1 : 1);
}

/* A file's identity: which file, and whether its bytes may have changed. */
static void
mix_file(uint64_t *h, const char *path)
{
	struct stat sb;
	int64_t v[5] = { 0, 0, 0, 0, 0 };

	mix_str(h, path);
	priv_raise();
	if (path != NULL && path[0] != '\0' && stat(path, &sb) == 0) {
		v[0] = (int64_t)sb.st_dev;
		v[1] = (int64_t)sb.st_ino;
		v[2] = (int64_t)sb.st_size;
		v[3] = (int64_t)sb.st_mtim.tv_sec;
		v[4] = (int64_t)sb.st_mtim.tv_nsec ^ ((int64_t)sb.st_mode << 32);
	}
	priv_lower();
	mix(h, v, sizeof(v));
}

void
held_fingerprint(const struct account *a, char fp[ACCSTATE_FP_LEN + 1])
{
	uint64_t h = 0xcbf29ce484222325ULL;
	unsigned v[4] = { a->port, (unsigned)a->tls, (unsigned)a->tls_verify,
		(unsigned)a->tls_min_version };

	mix(&h, v, sizeof(v));
	mix_str(&h, a->host);
	mix_str(&h, a->tls_fingerprint);
	mix_str(&h, a->tls_server_name);
	mix_str(&h, a->auth);
	mix_str(&h, a->user);
	mix_str(&h, a->password_command);
	mix_str(&h, a->domain);
	mix_str(&h, a->oauth_client_id);
	mix_str(&h, a->oauth_token_url);
	mix(&h, &a->oauth, sizeof(a->oauth));
	mix(&h, &a->allow_plaintext_auth, sizeof(a->allow_plaintext_auth));
	mix_file(&h, a->password_file);
	mix_file(&h, a->oauth_token_file);
	mix(&h, &a->oauth_grant, sizeof(a->oauth_grant));
	mix_str(&h, a->oauth_tenant);
	mix_file(&h, a->oauth_client_secret_file);
	mix_file(&h, a->oauth_client_certificate);
	mix_file(&h, a->oauth_client_key);
	mix_file(&h, a->oauth_service_account);
	mix_file(&h, a->tls_ca_file);
	mix_file(&h, a->tls_cert_file);
	mix_file(&h, a->tls_key_file);
	/*
	 * A literal password, a client secret or the keyring: never hashed into a file the
	 * group can read; the config file that holds (or names) them stands for them.
	 */
	mix_file(&h, a->file);
	snprintf(fp, ACCSTATE_FP_LEN + 1, "%016llx", (unsigned long long)h);
}

int
held_account(const struct queue *q, const struct account *a, struct accstate *st)
{
	char fp[ACCSTATE_FP_LEN + 1];

	if (accstate_read(q, a->name, st) != 1)
		return 0;
	held_fingerprint(a, fp);
	return strcmp(fp, st->fingerprint) == 0;
}

/* What held_record writes: the reason and the fingerprint of what a person would change. */
struct held_change {
	char held[MAX_ERROR_TEXT];
	char fp[ACCSTATE_FP_LEN + 1];
};

static void
hold(struct accstate *st, void *arg)
{
	const struct held_change *c = arg;

	memcpy(st->held, c->held, sizeof(st->held));
	memcpy(st->fingerprint, c->fp, sizeof(st->fingerprint));
	st->since = now_s();
}

void
held_record(const struct queue *q, const struct account *a, const char *reason)
{
	struct accstate st;
	struct held_change c;
	struct err e;
	char line[MAX_ERROR_TEXT + 64];

	err_init(&e);
	snprintf(c.held, sizeof(c.held), "%s", reason);
	held_fingerprint(a, c.fp);
	if (accstate_read(q, a->name, &st) == 1 && strcmp(st.held, c.held) == 0 &&
	    strcmp(st.fingerprint, c.fp) == 0)
		return;
	/* Under the lock: the sending windows other processes count in the file stay. */
	if (accstate_update(q, a->name, hold, &c, &e) == -1)
		log_line(LOG_ERR, "account=%s status=error error=\"%s\"", a->name,
		    err_str(&e, line, sizeof(line)));
	else /* The reason is on the message's own status=held line, logged with this one. */
		log_line(LOG_WARNING,
		    "account=%s status=held fingerprint=%s (no new attempt until it "
		    "changes, or sendmail -q)",
		    a->name, c.fp);
}

void
held_clear(const struct queue *q, const struct account *a, const char *why)
{
	if (accstate_clear(q, a->name) == 1)
		log_line(LOG_NOTICE, "account=%s status=released by=%s reason=\"%s\"", a->name,
		    user_name(), why);
}

void
held_forget(const struct config *cfg, const struct account *a)
{
	struct queue q;
	struct err e;
	char *dir = NULL;

	err_init(&e);
	memset(&q, 0, sizeof(q));
	if (submit_queue_dir(cfg, &dir, &e) == 0 && queue_open(&q, dir, 0, &e) == 0)
		held_clear(&q, a, "a new password was stored");
	queue_close(&q);
	free(dir);
}
