/*
 * rfc2047.c: non-ASCII header text (message/rfc2047.c): the input as the bytes to encode,
 * as a display name, and as one header field (its lines joined with CRLF and continued
 * with a space, which is how intake writes a field) for the 7-bit downgrade. Checked:
 * encoded words decode back to the input, are at most 75 characters and never split a
 * UTF-8 character; a phrase and a downgraded field are 7-bit.
 *
 * Option byte: bit 0 folds between words ("\r\n ") instead of a space; bits 1-7 the
 * phrase's maximum length (0-127, then 1024).
 */
#include <stdlib.h>
#include <string.h>

#include "base/base64.h"
#include "base/bounds.h"
#include "base/buf.h"
#include "message/rfc2047.h"
#include "fuzz.h"

static int
is_7bit_text(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if ((unsigned char)p[i] >= 0x80 || p[i] == '\0')
			return 0;
		/* Controls only as a fold: CRLF then white space. */
		if ((unsigned char)p[i] < 0x20 && p[i] != '\t' &&
		    !(p[i] == '\r' && i + 2 < n && p[i + 1] == '\n' &&
			(p[i + 2] == ' ' || p[i + 2] == '\t')) &&
		    !(p[i] == '\n' && i > 0 && p[i - 1] == '\r'))
			return 0;
	}
	return 1;
}

static int
has_8bit(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] >= 0x80)
			return 1;
	return 0;
}

/* Decode "=?CS?B?...?=" words separated by sep; they must give back in[0..n). */
static void
check_words(const char *w, size_t wlen, const char *sep, const uint8_t *in, size_t n)
{
	const char *p = w, *end, *q, *cs_end;
	struct buf all, one;
	size_t k = 0;
	int utf8 = rfc2047_utf8_valid(in, n);

	if (wlen == 0) {
		FUZZ_ASSERT(n == 0, "words decode to the input");
		return;
	}
	end = w + wlen;
	buf_init(&all, n + 16);
	buf_init(&one, MAX_ENCODED_WORD);
	while (p < end) {
		if (k++ > 0) {
			FUZZ_ASSERT((size_t)(end - p) > strlen(sep) &&
				memcmp(p, sep, strlen(sep)) == 0,
			    "words are separated by sep");
			p += strlen(sep);
		}
		FUZZ_ASSERT(end - p >= 2 && p[0] == '=' && p[1] == '?', "a word starts with =?");
		q = memchr(p + 2, '?', (size_t)(end - p - 2));
		FUZZ_ASSERT(q != NULL, "a word has a charset");
		cs_end = q;
		FUZZ_ASSERT((size_t)(cs_end - p - 2) == strlen(utf8 ? "UTF-8" : "ISO-8859-1") &&
			memcmp(p + 2, utf8 ? "UTF-8" : "ISO-8859-1", (size_t)(cs_end - p - 2)) ==
			    0,
		    "the charset is UTF-8 for valid UTF-8, else ISO-8859-1");
		FUZZ_ASSERT(end - q >= 3 && q[1] == 'B' && q[2] == '?', "B encoding");
		q += 3;
		cs_end = q;
		while (q < end && *q != '?')
			q++;
		FUZZ_ASSERT(end - q >= 2 && q[1] == '=', "a word ends with ?=");
		FUZZ_ASSERT(q + 2 - p <= MAX_ENCODED_WORD, "a word is at most 75 characters");
		buf_reset(&one);
		FUZZ_ASSERT(base64_decode(&one, cs_end, (size_t)(q - cs_end)) == 0,
		    "a word's base64 decodes");
		FUZZ_ASSERT(one.len > 0, "no empty word");
		if (utf8)
			FUZZ_ASSERT(rfc2047_utf8_valid((unsigned char *)one.data, one.len),
			    "a word does not split a UTF-8 character");
		FUZZ_ASSERT(buf_add(&all, one.data, one.len) == 0, "words decode to the input");
		p = q + 2;
	}
	FUZZ_ASSERT(all.len == n && (n == 0 || memcmp(all.data, in, n) == 0),
	    "words decode to the input");
	buf_free(&all);
	buf_free(&one);
}

/* The input as intake writes a field: lines end in CRLF, later ones are continuations. */
static void
as_field(const uint8_t *data, size_t size, struct buf *f)
{
	const char *p = (const char *)data, *end = p + size, *nl;
	size_t n, i;
	int first = 1;

	for (; p < end || first; p = nl + 1, first = 0) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		if (!first && (n == 0 || (p[0] != ' ' && p[0] != '\t')))
			FUZZ_ASSERT(buf_addc(f, ' ') == 0, "field fits");
		for (i = 0; i < n; i++)
			if (p[i] != '\r')
				FUZZ_ASSERT(buf_addc(f, p[i]) == 0, "field fits");
		FUZZ_ASSERT(buf_add(f, "\r\n", 2) == 0, "field fits");
		if (nl == end)
			break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *sep, *why = NULL;
	struct buf b, f;
	unsigned opt;
	size_t max;
	char *s;

	opt = fuzz_byte(&data, &size);
	sep = (opt & 1) ? "\r\n " : " ";
	max = (opt >> 1) == 127 ? MAX_ADDRESS : opt >> 1;
	buf_init(&b, MAX_HEADER_FIELD * 4);

	if (rfc2047_encode(&b, data, size, sep) == 0)
		check_words(b.data, b.len, sep, data, size);

	buf_reset(&b);
	s = fuzz_str(data, size);
	if (rfc2047_phrase(&b, s, max) == 0)
		FUZZ_ASSERT(is_7bit_text(b.data, b.len),
		    "a phrase is 7-bit, folds its only controls");
	free(s);

	buf_reset(&b);
	buf_init(&f, 3 * size + 4); /* an empty line becomes " \r\n" */
	as_field(data, size, &f);
	if (rfc2047_downgrade_field(f.data, f.len, &b, &why) == 0) {
		FUZZ_ASSERT(b.len >= 2 && memcmp(b.data + b.len - 2, "\r\n", 2) == 0,
		    "a downgraded field ends with CRLF");
		FUZZ_ASSERT(fuzz_crlf_clean(b.data, b.len), "a downgraded field has CRLF lines");
		FUZZ_ASSERT(!has_8bit(b.data, b.len), "a downgraded field is 7-bit");
		FUZZ_ASSERT(memchr(b.data, ':', b.len) != NULL &&
			memcmp(b.data, f.data,
			    (size_t)((char *)memchr(b.data, ':', b.len) - b.data)) == 0,
		    "a downgraded field keeps its name");
	} else
		FUZZ_ASSERT(why != NULL, "a refused field says why");
	buf_free(&f);
	buf_free(&b);
	return 0;
}
