/*
 * bounds.h: every fixed limit in one place, each with the reason for its size.
 *
 * A buffer's maximum (buf_init), a fixed array used as a limit, a count a parser stops
 * at, a deadline: all are named here, MAX_ and a noun (no other file defines a name with MAX
 * in it; scripts/lint checks it). Lengths a format fixes (QUEUE_ID_LEN) stay with it.
 */
#ifndef MAILOUT_BOUNDS_H
#define MAILOUT_BOUNDS_H

/* SMTP, as a client */

/* RFC 5321 4.5.3.1.5 says 512 for a reply line; real servers send longer texts. */
#define MAX_REPLY_LINE 2048
/* A multi-line reply (EHLO) longer than this is a hostile or broken server. */
#define MAX_REPLY_LINES 128
/* Reply text we keep for messages and logs (all lines joined). */
#define MAX_REPLY_TEXT 4096
/* RFC 5321 4.5.3.1.4: a command line is at most 512 octets including CRLF. */
#define MAX_COMMAND_LINE 512
/* RFC 4954 4: AUTH lines may be longer than 512 octets; 12288 is what servers accept. */
#define MAX_AUTH_LINE 12288
/* RFC 3461 4.4: ENVID is at most 100 characters. */
#define MAX_ENVID 100
/* A SCRAM salt, decoded (RFC 5802 leaves it open; servers send 16 to 64 bytes). */
#define MAX_SCRAM_SALT 1024
/* A SCRAM server signature, decoded: a digest, 32 bytes for SHA-256, with room. */
#define MAX_SCRAM_SIGNATURE 256
/*
 * The secrets one session keeps to cut out of the relay's replies: for each of at most two
 * tries (a token refreshed once), the password or token, its base64 and the AUTH lines that
 * carried it, each line within MAX_AUTH_LINE.
 */
#define MAX_SCRUB_TEXT (8 * MAX_AUTH_LINE)
/* Certificates of the peer's chain kept for reports (--serverinfo). */
#define MAX_TLS_CHAIN 8
/* How much of a malformed reply is quoted in the error message. */
#define MAX_REPLY_QUOTE 80
/*
 * With PIPELINING and CHUNKING, a message up to this size leaves in the same write as its
 * envelope; a larger one waits for the RCPT replies, so a refused envelope costs no upload.
 */
#define MAX_BDAT_PIPELINE (1024 * 1024)
/* RFC 4422 3.1: a SASL mechanism name is 1 to 20 characters. */
#define MAX_MECH_NAME 20
/* No mechanism we speak needs more round trips than this (LOGIN and SCRAM take 2). */
#define MAX_AUTH_CHALLENGES 8
/* A SCRAM iteration count above this costs seconds of CPU: a hostile server's. */
#define MAX_SCRAM_ITER 1000000

/* SMTP, as the -bs server */

/* RFC 5321's 512, plus what RFC 3461 adds for ORCPT, NOTIFY and ENVID, plus slack. */
#define MAX_SERVE_COMMAND 2048
/* RFC 5321 says 1000 with CRLF; real programs send longer lines, none this long. */
#define MAX_SERVE_DATA_LINE (1024 * 1024)
/* Bad commands in one session before we hang up (Postfix's smtpd_hard_error_limit). */
#define MAX_SERVE_ERRORS 20

/* Messages and addresses */

/* The whole header block is held in memory while it is parsed. */
#define MAX_HEADER_BLOCK (1024 * 1024)
/* The field names a message's DKIM signatures cover (h=): more means "all of them". */
#define MAX_DKIM_H 1024
/* One header field, unfolded. */
#define MAX_HEADER_FIELD (256 * 1024)
/* Envelope recipients for one message (config can lower it). */
#define MAX_RECIPIENTS 10000
/* One address as written (RFC 5321 4.5.3.1.3 is 256 for a path; we allow display names). */
#define MAX_ADDRESS 1024
/* RFC 1035 2.3.4: a domain name is at most 255 octets. */
#define MAX_DOMAIN 255
/* Mailboxes in one From, To or Cc we are willing to rewrite. */
#define MAX_REWRITE_MBOX 1000
/* Body I/O block: large writes, few system calls, fixed memory. */
#define IO_BLOCK (64 * 1024)
/* An SMTP path is at most 256 octets with its angle brackets (RFC 5321 4.5.3.1.3). */
#define MAX_SMTP_PATH 254
/* How much of an offending element an error message quotes. */
#define MAX_ADDRESS_QUOTE 200
/* RFC 5322 2.1.1: no line, so no field name, is longer than 998 octets. */
#define MAX_FIELD_NAME 998
/* An added From: keeps its display name short enough for one unfolded line. */
#define MAX_FULL_NAME (MAX_ADDRESS / 4)
/* RFC 5322 2.1.1: a line is at most 998 octets without its CRLF. */
#define MAX_LINE_OCTETS 998
/* RFC 2047 2: an encoded word is at most 75 characters, "=?charset?B?" and "?=" in. */
#define MAX_ENCODED_WORD 75
/* The notice itself is small; the original headers are copied after it in blocks. */
#define MAX_DSN_TEXT (4 * 1024 * 1024)

/* Aliases */

/* One logical entry with its continuation lines: long mailing lists fit, a runaway does not. */
#define MAX_ALIAS_LINE (64 * 1024)
/* An aliases file larger than this is not one a submission agent should trust. */
#define MAX_ALIAS_FILE (16 * 1024 * 1024)
/* Entries in one file; big sites have thousands, not millions. */
#define MAX_ALIASES 100000
/* Alias of an alias of ...: sendmail stops at 10 as well (MAXRCRSN). */
#define MAX_ALIAS_DEPTH 10
/* Addresses one recipient may expand to: a mailing list, not a mail bomb. */
#define MAX_ALIAS_EXPANSION 1000

/* Files, configuration, queue */

/* The block a small file is read whole in (read_capped: a secret, a config, queue meta). */
#define FILE_BLOCK 4096
/* A file name with its NUL: Linux's PATH_MAX; a longer one fails every call it is given to. */
#define MAX_PATH 4096
/* A config file larger than this is not a config file. */
#define MAX_CONFIG_FILE (1024 * 1024)
/* iniparser 4.1 reads a line into 1024 bytes with its newline and NUL (ASCIILINESZ). */
#define MAX_CONFIG_LINE 1022
/* An account (section) name: it appears in logs, queue entries and file names. */
#define MAX_ACCOUNT_NAME 64
/* Nobody means a queue lifetime of ten years; the cap keeps date arithmetic safe. */
#define MAX_QUEUE_LIFETIME (3650ULL * 86400)
/* session_timeout: a day is already more than any relay should need for one message. */
#define MAX_SESSION_TIMEOUT (24ULL * 3600)
/* The listener's addresses: a host has a few; each is a socket polled by the parent. */
#define MAX_LISTEN_SOCKETS 16
/*
 * Sessions one listener worker serves before it is replaced, as Postfix's max_use: what
 * a session left behind unnoticed (memory, a descriptor) cannot pile up for ever.
 */
#define MAX_WORKER_SESSIONS 100
/* Seconds an idle listener worker waits for a client before it ends (Postfix: 100). */
#define MAX_WORKER_IDLE 60
/*
 * Busy listener workers forked without waiting. Past them a new connection waits for one
 * to finish its session (short sessions free one within milliseconds; the CPU is the limit
 * then, not the number of processes), for at most POOL_WAIT_MS: past that it gets a worker
 * of its own, so slow or hostile clients holding workers delay the others by no more.
 */
#define POOL_WORKERS 8
#define POOL_WAIT_MS 1000
/* Failed logins on one listener connection before it is closed (421). */
#define MAX_AUTH_FAILURES 3
/* Failed logins from one client address in LOGIN_FAILURE_WINDOW before it is refused. */
#define MAX_LOGIN_FAILURES 6
#define LOGIN_FAILURE_WINDOW 600
/* Client addresses whose failed logins the listener remembers. */
#define MAX_LISTEN_FAILURE_IPS 4096
/* The listener's users file: thousands of devices fit; it is read at every login. */
#define MAX_USERS_FILE (1024 * 1024)
/* What a cached TLS session stands for: the relay, its names, four file names. */
#define MAX_SESSION_KEY_TEXT (4 * MAX_PATH + 1024)

/* Secrets, OAuth2, HTTP */

/* Secrets: a password or token line. OAuth2 access tokens can reach ~4 KiB. */
#define MAX_SECRET 16384
/* The label a keyring shows a person for one of our entries. */
#define MAX_KEYRING_LABEL 1024
/* Our own HTTP request line and headers (the body is bounded apart, MAX_HTTP_BODY). */
#define MAX_HTTP_HEAD 8192
/* A URL built from one of our templates (an OAuth2 provider's endpoint and a tenant). */
#define MAX_URL 2048
/* The authorization address the user opens: browsers and providers take about this much. */
#define MAX_AUTHORIZE_URL 8192
/* The page mailout's --authorize listener shows the browser: a title and a sentence. */
#define MAX_BROWSER_PAGE 8192
/* A token response is a few KiB; anything near this is not one. */
#define MAX_HTTP_BODY (1024 * 1024)
/* One status or header line (RFC 9112 sets none; servers use 8 KiB). */
#define MAX_HTTP_LINE 8192
/* Header lines in one response. */
#define MAX_HTTP_HEADERS 128
/* 1xx interim responses before the final one. */
#define MAX_HTTP_INTERIM 8
/* A chunk-size line: 16 hex digits would overflow nothing, but 8 are plenty for 1 MiB. */
#define MAX_HTTP_CHUNK_DIGITS 8
/* The token file or keyring value: two tokens and a number. */
#define MAX_OAUTH2_STORED (64 * 1024)
/* An RSA signature: 4096-bit keys are the largest Entra and Google accept. */
#define MAX_JWT_SIGNATURE 512
/* One base64url part of a JWT: the header or claims JSON (short), or the signature. */
#define MAX_JWT_PART 2048
/* A whole client assertion: three parts and two dots. */
#define MAX_JWT (3 * MAX_JWT_PART + 2)
/* A PEM key, certificate (a chain at most) or Google's service account JSON key file. */
#define MAX_KEY_FILE (64 * 1024)
/* Header lines of one browser request. */
#define MAX_AUTHORIZE_HEADERS 100
/* A pasted line (an address bar can hold a long URL). */
#define MAX_AUTHORIZE_PASTE (16 * 1024)
/* Back-off limit when the token endpoint cannot be reached while polling. */
#define MAX_DEVICE_INTERVAL 60
/* `pass show` prints the password and then notes; more than this is not a password. */
#define MAX_CRED_OUTPUT (4 * MAX_SECRET)
/* A session older than this is not offered: less time for its secret on disk. */
#define MAX_TLS_SESSION_AGE (24 * 3600)
/* Metadata for MAX_RECIPIENTS long addresses with replies stays below this. */
#define MAX_QUEUE_META (32 * 1024 * 1024)
/* The longest wait between two attempts at one queued message: an hour. */
#define MAX_QUEUE_BACKOFF 3600
/* Child processes at once in a parallel run: accounts beyond this wait their turn. */
#define MAX_RUNQ_CHILDREN 16

/* Setting up an account (--configure, --import) */

/* A DNS message: RFC 1035 4.2.2 frames it with 16 bits over TCP. */
#define MAX_DNS_ANSWER 65535
/* SRV or MX records kept from one answer: real domains publish a handful. */
#define MAX_DNS_RECORDS 32
/* An autoconfig (config-v1.1.xml) document: the ISPDB's largest are a few KiB. */
#define MAX_AUTOCONFIG_XML (256 * 1024)
/* Candidate servers one setup may try: each is a connection, some a timeout. */
#define MAX_CANDIDATES 16
/* A file another mail agent left (msmtprc, ssmtp.conf, dma.conf, nullmailer's remotes). */
#define MAX_IMPORT_FILE (1024 * 1024)
/* One line of such a file, or of an answer typed at --configure's questions. */
#define MAX_IMPORT_LINE 4096
/* Accounts one imported file may hold. */
#define MAX_IMPORT_ACCOUNTS 100
/* --set options one --configure takes: more is a script gone wrong. */
#define MAX_SETUP_SETS 32
/*
 * The keys of the account --configure writes: the 27 it owns (configure.h) and room for
 * 64 more from --set (the command line takes MAX_SETUP_SETS).
 */
#define MAX_SETUP_KEYS 91

/* Text for people */

/* Error and log messages. */
#define MAX_ERROR_TEXT 1024
/* A sending limit (send_limits, sendmail.conf(5)): a billion a window is no limit. */
#define MAX_SEND_LIMIT 1000000000
/*
 * A queue's per-account state file (queue/accstate.h): a few short lines and a line of
 * slots a limit (5 limits, 61 slots of at most 41 characters: 16 KiB more).
 */
#define MAX_ACCSTATE (4 * MAX_ERROR_TEXT + 16 * 1024)
/* A relay's identity in a queue entry: "host:port tls=MODE user=USER" (send/held.h). */
#define MAX_RELAY_IDENTITY (MAX_PATH + 64)
/* Addresses joined for one log line or one listing (the log line itself is cut shorter). */
#define MAX_LOG_LIST (1024 * 1024)
/* One line of the --test or --serverinfo report. */
#define MAX_REPORT_LINE 4096
/* The message mailout --test sends: fixed words, the addresses and the account's names. */
#define MAX_TEST_MESSAGE 16384
/* A decimal number as text: 20 digits hold 2^64, the rest is slack for a bad one. */
#define MAX_NUMBER_TEXT 32

#endif
