/*
 * reply.c: a submit result as an SMTP reply. See reply.h.
 */
#include <stdio.h>
#include <string.h>

#include "base/bounds.h"
#include "base/err.h"
#include "message/rfc5322.h"
#include "smtp/serve.h"
#include "send/reply.h"
#include "send/submit.h"

void
reply_from_submit(const struct submit_result *r, struct serve_result *out)
{
	char why[MAX_ERROR_TEXT + MAX_REPLY_TEXT + 32];
	const struct err *e = &r->e;

	err_str(e, why, sizeof(why));
	if (r->outcome == SUBMIT_SENT) {
		out->code = 250;
		snprintf(out->text, sizeof(out->text), "2.0.0 Ok: delivered as <%s>",
		    r->message_id);
	} else if (r->outcome == SUBMIT_QUEUED) {
		out->code = 250;
		snprintf(out->text, sizeof(out->text), "2.0.0 Ok: queued as %s", r->queue_id);
	} else if (r->outcome == SUBMIT_PARTIAL && r->notice) {
		out->code = 250;
		snprintf(out->text, sizeof(out->text),
		    "2.0.0 Ok: %s (a failure notice goes to "
		    "the sender)",
		    why);
	} else if (e->kind == ERR_TEMP) {
		out->code = 451;
		snprintf(out->text, sizeof(out->text), "4.3.0 %s", why);
	} else if (e->cause == CAUSE_NOUSER) {
		out->code = 550;
		snprintf(out->text, sizeof(out->text), "5.1.1 %s", why);
	} else if (e->cause == CAUSE_DATA &&
	    (e->code == 552 || strstr(e->msg, "max_message_size") != NULL ||
		strstr(e->msg, "(SIZE)") != NULL)) {
		/* Too large: for our limit, for the relay's SIZE, or by its 552. */
		out->code = 552;
		snprintf(out->text, sizeof(out->text), "5.3.4 %s", why);
	} else if (e->cause == CAUSE_DATA || e->cause == CAUSE_USAGE) {
		out->code = 554;
		snprintf(out->text, sizeof(out->text), "5.6.0 %s", why);
	} else {
		/* Ours to fix (configuration, queue, relay access): the client may retry. */
		out->code = 451;
		snprintf(out->text, sizeof(out->text), "4.3.0 %s", why);
	}
}

void
reply_to_rcpt(struct submit *s, const char *rcpt, struct serve_result *out)
{
	struct addrlist l;
	struct err e;

	err_init(&e);
	addrlist_init(&l);
	if (submit_resolve(s, rcpt, &l, &e) == 0) {
		out->code = 250;
		snprintf(out->text, sizeof(out->text), "2.1.5 Ok");
	} else if (e.cause == CAUSE_NOUSER) {
		out->code = 550;
		snprintf(out->text, sizeof(out->text), "5.1.1 %s", e.msg);
	} else if (e.cause == CAUSE_CONFIG && strstr(e.msg, "loop") != NULL) {
		out->code = 550;
		snprintf(out->text, sizeof(out->text), "5.4.6 %s", e.msg);
	} else {
		out->code = 451;
		snprintf(out->text, sizeof(out->text), "4.3.0 %s", e.msg);
	}
	addrlist_free(&l);
}
