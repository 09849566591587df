/*
 * user.h: who we run as and where: the user of getuid() (never $USER or $HOME: cron runs
 * jobs with the daemon's environment), that user's state directory, this host's name.
 */
#ifndef MAILOUT_USER_H
#define MAILOUT_USER_H

/* The user name and home of getuid(), whole. Static storage. */
const char *user_name(void);
const char *user_home(void);
/*
 * The user's state directory for mailout: $XDG_STATE_HOME/mailout (absolute, and not
 * set-ID), else ~/.local/state/mailout from user_home(). Static storage. NULL when that
 * name would be too long for a path (MAX_PATH): never a cut one.
 */
const char *user_state_dir(void);
/* This host's name (gethostname, then canonical name if it has no dot). Static storage. */
const char *host_name(void);

/*
 * The mail domain of this host as Debian's MTAs have it: the first line of /etc/mailname
 * (hooks_mailname), when it holds a name; else NULL. Read once.
 */
const char *mail_name(void);

#endif
