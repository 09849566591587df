/*
 * rfc5322.c: address headers (message/rfc5322.c, message/mailbox.c): the input is a
 * header value, or a whole header line for the field-name split. Checked: strict and lax
 * address lists agree where strict succeeds, lists hold no duplicates, and a mailbox that
 * mailbox_format wrote parses back to the same address.
 *
 * No option byte: every parser sees the whole input.
 */
#include <stdlib.h>
#include <string.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "base/err.h"
#include "message/mailbox.h"
#include "message/rfc5322.h"
#include "fuzz.h"

static void
field_name(const uint8_t *data, size_t size)
{
	const char *line = (const char *)data, *v;
	size_t n, i;

	if (rfc5322_field_name(line, size, &n, &v) == -1)
		return;
	FUZZ_ASSERT(n > 0 && n < size, "a field name inside the line");
	FUZZ_ASSERT(v > line + n && v <= line + size && v[-1] == ':', "value after the colon");
	for (i = 0; i < n; i++)
		FUZZ_ASSERT((unsigned char)line[i] >= 33 && (unsigned char)line[i] <= 126 &&
			line[i] != ':',
		    "field name characters");
}

static void
addrlists(const uint8_t *data, size_t size)
{
	struct addrlist strict, lax, again;
	struct err e;
	size_t i;
	int rs, rl;

	addrlist_init(&strict);
	addrlist_init(&lax);
	err_init(&e);
	rs = rfc5322_parse_addrlist((const char *)data, size, &strict, 1, &e);
	FUZZ_ASSERT(rs == 0 || err_failed(&e), "a strict failure says why");
	err_init(&e);
	rl = rfc5322_parse_addrlist((const char *)data, size, &lax, 0, &e);
	FUZZ_ASSERT(rl == 0 || err_failed(&e), "a lax failure says why");
	/* What strict mode takes, lax mode takes the same way. */
	if (rs == 0) {
		FUZZ_ASSERT(rl == 0, "strict accepts, lax refuses");
		FUZZ_ASSERT(strict.n == lax.n, "strict and lax find as many addresses");
		for (i = 0; i < strict.n; i++)
			FUZZ_ASSERT(strcmp(strict.v[i], lax.v[i]) == 0,
			    "strict and lax find the same addresses");
	}
	/* Deduplicated: adding them again adds nothing. */
	addrlist_init(&again);
	for (i = 0; i < lax.n; i++) {
		FUZZ_ASSERT(lax.v[i][0] != '\0', "no empty address");
		FUZZ_ASSERT(addrlist_add(&again, lax.v[i]) == 1, "no duplicate in a list");
		rfc5322_addr_invalid(lax.v[i]);
	}
	for (i = 0; i < lax.n; i++)
		FUZZ_ASSERT(addrlist_add(&again, lax.v[i]) == 0, "a duplicate is refused");
	addrlist_free(&again);
	addrlist_free(&strict);
	addrlist_free(&lax);
}

static void
mailboxes(const uint8_t *data, size_t size)
{
	struct mailbox_list l, back;
	struct buf b;
	size_t i;

	if (mailbox_parse((const char *)data, size, 1000, &l) == -1) {
		FUZZ_ASSERT(l.n == 0 && l.v == NULL, "a refused list is empty");
		return;
	}
	buf_init(&b, MAX_HEADER_FIELD);
	for (i = 0; i < l.n; i++) {
		FUZZ_ASSERT(l.v[i].addr != NULL && l.v[i].addr[0] != '\0', "an address");
		FUZZ_ASSERT(l.v[i].name == NULL || l.v[i].name[strspn(l.v[i].name, " \t")] != '\0',
		    "a name is NULL or not blank");
		buf_reset(&b);
		if (mailbox_format(&b, l.v[i].name, l.v[i].addr) == -1)
			continue;
		/* What a header rewrite writes must read back as the same mailbox. */
		FUZZ_ASSERT(mailbox_parse(b.data, b.len, 1000, &back) == 0,
		    "a formatted mailbox parses");
		FUZZ_ASSERT(back.n == 1, "a formatted mailbox is one mailbox");
		FUZZ_ASSERT(strcmp(back.v[0].addr, l.v[i].addr) == 0,
		    "a formatted mailbox keeps its address");
		mailbox_list_free(&back);
	}
	buf_free(&b);
	mailbox_list_free(&l);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	field_name(data, size);
	addrlists(data, size);
	mailboxes(data, size);
	return 0;
}
