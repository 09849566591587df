/*
 * migrate.h: mailout --import FILE: another mail agent's settings (config/import.h:
 * msmtp, ssmtp, dma, nullmailer) turned into sendmail.conf accounts.
 *
 * FILE is the agent's file or its directory: ~/.msmtprc, /etc/msmtprc,
 * ~/.config/msmtp/config; /etc/ssmtp (ssmtp.conf, revaliases); /etc/dma (dma.conf, and
 * auth.conf where AUTHPATH says); /etc/nullmailer (remotes, defaulthost,
 * defaultdomain, adminaddr, me). The format is told by the name, else by the content.
 *
 * The accounts are printed for review as they would be written, with a list of every
 * setting that has no equivalent and why; the whole new file is loaded once by the
 * normal parser to check it. With yes they are written into the file --configure
 * writes (configure_target), every other line kept: a password the old file held goes
 * into a secret file (configure_secret_path: 0600, or root:GROUP 0640 in system mode)
 * named by password_file, never into sendmail.conf. An account of the same name is
 * replaced; a [defaults] key the file sets already is kept (and the note says so).
 */
#ifndef MAILOUT_MIGRATE_H
#define MAILOUT_MIGRATE_H

struct err;

struct migrate_opts {
	const char *file; /* --import FILE */
	const char *config_file; /* -C: the file to write */
	int yes; /* write it */
};

/*
 * 0 when printed (and with yes written), or -1 with err: CAUSE_USAGE when the format
 * cannot be told, CAUSE_DATA for a file that cannot be parsed, CAUSE_CONFIG when the
 * result does not load, CAUSE_CANTCREAT/IOERR when writing fails.
 */
int migrate_run(const struct migrate_opts *o, struct err *e);

#endif
