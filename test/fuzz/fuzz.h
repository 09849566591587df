/*
 * fuzz.h: what the fuzz targets share. Each target is one file with
 * LLVMFuzzerTestOneInput; it links with libFuzzer (make fuzz) or with replay.c, which
 * feeds it the files of its corpus (the replay in make check).
 *
 * Inputs are split the same way in every target: option bytes first (fuzz_byte), the rest
 * is the data the parser sees. A target states the promises its parser's header makes and
 * checks them with FUZZ_ASSERT: a broken promise aborts, and the fuzzer keeps the input.
 */
#ifndef MAILOUT_FUZZ_H
#define MAILOUT_FUZZ_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct stream;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * A stream whose reads hand out data (not copied: it must outlive the stream) in pieces
 * of at most chunk bytes (0: as much as asked), then end of stream. What is written to it
 * goes to out (when not NULL, up to out's max) and is otherwise dropped. The conn that
 * owns it frees it.
 */
struct stream *fuzz_stream(const uint8_t *data, size_t size, size_t chunk, struct buf *out);

/* A read size from an option byte: 0 (whole reads) or one of a few small and odd ones. */
size_t fuzz_chunk(unsigned opt);

/* Take one option byte from the front of the input (0 when the input is empty). */
unsigned fuzz_byte(const uint8_t **data, size_t *size);

/* A NUL-terminated copy of the data; caller frees. */
char *fuzz_str(const uint8_t *data, size_t size);

/* A private directory, made at first use and removed with its contents at exit. */
const char *fuzz_dir(void);

/* The file fuzz_dir()/name, mode 0600, holding exactly data. Its path (static storage). */
const char *fuzz_file(const char *name, const uint8_t *data, size_t size);

/* An unnamed regular file holding data, at offset 0. Caller closes. */
int fuzz_memfd(const uint8_t *data, size_t size);

/*
 * A descriptor that delivers data in reads of at most chunk bytes (a socket of packets
 * filled by a thread; larger pieces when that would take over 512 reads), then end of
 * file; chunk 0 gives fuzz_memfd. Caller closes, then calls fuzz_reader_join.
 */
int fuzz_reader(const uint8_t *data, size_t size, size_t chunk);
void fuzz_reader_join(void);

/* 1 if every CR in p is followed by LF and every LF preceded by CR. */
int fuzz_crlf_clean(const char *p, size_t n);

/* With FUZZ_VERBOSE set in the environment, one line on stderr (writing a corpus). */
void fuzz_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void fuzz_fail(const char *file, int line, const char *what) __attribute__((noreturn));

/* clang-format off */
#define FUZZ_ASSERT(cond, what) do {					\
	if (!(cond))							\
		fuzz_fail(__FILE__, __LINE__, (what));			\
} while (0)
/* clang-format on */

#endif
