/*
 * bounds.h: every fixed limit in one place, each with the reason for its size.
 */
#ifndef MAILOUT_BOUNDS_H
#define MAILOUT_BOUNDS_H

/* RFC 5321 4.5.3.1.5 says 512 for a reply line; real servers send longer texts. */
#define MAX_REPLY_LINE		2048
/* A multi-line reply (EHLO) longer than this is a hostile or broken server. */
#define MAX_REPLY_LINES		128
/* Reply text we keep for messages and logs (all lines joined). */
#define MAX_REPLY_TEXT		4096
/* RFC 5321 4.5.3.1.4: a command line is at most 512 octets including CRLF. */
#define MAX_COMMAND_LINE	512
/* RFC 4954 4: AUTH lines may be longer than 512 octets; 12288 is what servers accept. */
#define MAX_AUTH_LINE		12288
/* The whole header block is held in memory while it is parsed. */
#define MAX_HEADER_BLOCK	(1024 * 1024)
/* One header field, unfolded. */
#define MAX_HEADER_FIELD	(256 * 1024)
/* Envelope recipients for one message (config can lower it). */
#define MAX_RECIPIENTS		10000
/* One address as written (RFC 5321 4.5.3.1.3 is 256 for a path; we allow display names). */
#define MAX_ADDRESS		1024
/* Body I/O block: large writes, few system calls, fixed memory. */
#define IO_BLOCK		(64 * 1024)
/* A config file larger than this is not a config file. */
#define MAX_CONFIG_FILE		(1024 * 1024)
/* Secrets: a password or token line. OAuth2 access tokens can reach ~4 KiB. */
#define MAX_SECRET		16384
/* Error and log messages. */
#define MAX_ERROR_TEXT		1024

#endif
