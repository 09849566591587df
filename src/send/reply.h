/*
 * reply.h: what became of a submitted message, said in SMTP: the reply to the final dot
 * of a -bs session and of the listener (`mailout -bd`) alike, so both answer the same.
 */
#ifndef MAILOUT_REPLY_H
#define MAILOUT_REPLY_H

struct serve_result;
struct submit;
struct submit_result;

/*
 * Delivered or queued is 250; a failure the client may retry (temporary, or ours: the
 * configuration, the queue, the relay's access rules) is 451; a refusal of the message or
 * of every recipient is 5xx. Fills out.
 */
void reply_from_submit(const struct submit_result *r, struct serve_result *out);

/*
 * The reply to RCPT: 250 when rcpt resolves (aliases included); 550 5.1.1 for nobody,
 * 550 5.4.6 for an alias loop; 451 for what may pass later. Fills out.
 */
void reply_to_rcpt(struct submit *s, const char *rcpt, struct serve_result *out);

#endif
