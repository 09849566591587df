/*
 * queue_meta.c: a queue entry's metadata file (queue/queue.c, queue_meta_parse). What
 * parses must format, and what is formatted must parse back to the same entry: a queue
 * that writes metadata it cannot read again holds a message it can never send.
 *
 * No option byte: the input is the file.
 */
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "queue/queue.h"
#include "fuzz.h"

/* Control characters other than the line ends (LF, CRLF). */
static int
controls(const uint8_t *data, size_t size)
{
	size_t i;

	for (i = 0; i < size; i++)
		if ((data[i] < 0x20 && data[i] != '\n' &&
			!(data[i] == '\r' && i + 1 < size && data[i + 1] == '\n')) ||
		    data[i] == 0x7f)
			return 1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct queue_meta m, back;
	struct buf one, two;
	struct err e;
	size_t i;

	err_init(&e);
	if (queue_meta_parse((const char *)data, size, &m, &e) == -1) {
		FUZZ_ASSERT(err_failed(&e), "a refused file says why");
		return 0;
	}
	FUZZ_ASSERT(m.sender != NULL && m.nrcpts > 0, "an entry has a sender and recipients");
	FUZZ_ASSERT(m.last_error != NULL, "last_error is never NULL");
	for (i = 0; i < m.nrcpts; i++)
		FUZZ_ASSERT(m.rcpts[i].addr != NULL && m.rcpts[i].reply != NULL &&
			m.rcpts[i].state <= QR_FAILED,
		    "a recipient is complete");
	/* As queue_read_meta does: an entry's id is its file name's, whatever the file says. */
	if (m.id[0] == '\0')
		memcpy(m.id, "65A1B2C30F4231A2B3C", QUEUE_ID_LEN + 1);
	buf_init(&one, MAX_QUEUE_META);
	buf_init(&two, MAX_QUEUE_META);
	FUZZ_ASSERT(queue_meta_format(&m, &one) == 0, "what was read can be written");
	err_init(&e);
	FUZZ_ASSERT(queue_meta_parse(one.data, one.len, &back, &e) == 0,
	    "what was written can be read");
	/* Text is cleaned of controls on the way out; numbers and states come back as such. */
	FUZZ_ASSERT(strcmp(m.id, back.id) == 0 && m.uid == back.uid && m.size == back.size &&
		m.body_8bit == back.body_8bit && m.smtputf8 == back.smtputf8 &&
		m.notice == back.notice && m.arrival == back.arrival &&
		m.last_attempt == back.last_attempt && m.next_attempt == back.next_attempt &&
		m.expired == back.expired && m.attempts == back.attempts &&
		(m.message_id == NULL) == (back.message_id == NULL) &&
		(m.dsn_notify == NULL) == (back.dsn_notify == NULL) &&
		(m.dsn_ret == NULL) == (back.dsn_ret == NULL) &&
		(m.dsn_envid == NULL) == (back.dsn_envid == NULL) && m.nrcpts == back.nrcpts,
	    "the entry reads back the same");
	for (i = 0; i < m.nrcpts; i++)
		FUZZ_ASSERT(m.rcpts[i].state == back.rcpts[i].state &&
			back.rcpts[i].notified ==
			    (m.rcpts[i].state == QR_FAILED && m.rcpts[i].notified),
		    "a recipient reads back the same");
	for (i = 0; i < one.len; i++)
		FUZZ_ASSERT((unsigned char)one.data[i] >= 0x20 || one.data[i] == '\n',
		    "written values hold no control characters");
	/*
	 * Writing again what was read back gives the same file. A value read with a control
	 * character in it is cleaned once (a leading one becomes a space, which the next
	 * read skips): then it is the second write that must be stable.
	 */
	FUZZ_ASSERT(queue_meta_format(&back, &two) == 0, "what was read back can be written");
	if (one.len != two.len || memcmp(one.data, two.data, one.len) != 0) {
		FUZZ_ASSERT(controls(data, size), "writing is stable");
		queue_meta_free(&back);
		err_init(&e);
		FUZZ_ASSERT(queue_meta_parse(two.data, two.len, &back, &e) == 0,
		    "what was written twice can be read");
		buf_reset(&one);
		FUZZ_ASSERT(queue_meta_format(&back, &one) == 0 && one.len == two.len &&
			memcmp(one.data, two.data, one.len) == 0,
		    "writing is stable");
	}
	buf_free(&one);
	buf_free(&two);
	queue_meta_free(&back);
	queue_meta_free(&m);
	return 0;
}
