/* Growable byte buffer for encoding records and messages.
 *
 * Ownership: the buffer owns `p`; rcfd_buf_free() releases it. Appends grow the buffer and return
 * RCFD_ENOMEM on allocation failure, leaving the content up to the failed append intact.
 * Not thread-safe. */
#ifndef RCFD_COMMON_BUF_H
#define RCFD_COMMON_BUF_H

#include <stddef.h>
#include <string.h>

typedef struct rcfd_buf {
    char *p;
    size_t len;
    size_t cap;
} rcfd_buf_t;

int rcfd_buf_reserve(rcfd_buf_t *b, size_t extra);
/* rcfd_buf_append when the bytes do not fit: grows the buffer first. */
int rcfd_buf_append_grow(rcfd_buf_t *b, const void *data, size_t len);

/* Inline: an output line is a dozen appends, nearly all into room the buffer already has. */
static inline int rcfd_buf_append(rcfd_buf_t *b, const void *data, size_t len)
{
    if (len >= b->cap - b->len) { /* room for len bytes and the NUL (cap is 0 or > len) */
        return rcfd_buf_append_grow(b, data, len);
    }
    if (len > 0) {
        memcpy(b->p + b->len, data, len);
    }
    b->len += len;
    b->p[b->len] = '\0';
    return 0;
}

static inline int rcfd_buf_putc(rcfd_buf_t *b, char c)
{
    return rcfd_buf_append(b, &c, 1);
}

int rcfd_buf_puts(rcfd_buf_t *b, const char *s);
__attribute__((format(printf, 2, 3))) int rcfd_buf_printf(rcfd_buf_t *b, const char *fmt, ...);
/* Appends `s` (len bytes) as a quoted JSON string with escapes. */
int rcfd_buf_json_string(rcfd_buf_t *b, const char *s, size_t len);
/* Length of the longest prefix of s[0..len) that is valid UTF-8 (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF): len when all of it is. */
size_t rcfd_utf8_valid_prefix(const char *s, size_t len);
/* Appends data[0..len) in base64 (RFC 4648, padded), without quotes. */
int rcfd_buf_base64(rcfd_buf_t *b, const void *data, size_t len);
/* The bytes of a record a dead letter carries at most, escaped: it must fit the dead-letter output
 * (a Kafka topic's message.max.bytes is 1 MB by default); its origin tells where the whole record
 * is. */
#define RCFD_DEAD_RECORD_MAX 65536

/* Appends the members holding a record's raw bytes in a dead letter, after a comma:
 * "record":"<text>" when they are UTF-8, else "record_base64":"<base64>"; as many of them as fit
 * `max` bytes once escaped or encoded (a text cut at a character boundary), followed by
 * "record_bytes":len,"truncated":true when cut. A dead letter is thus always valid JSON and
 * never much larger than `max`. */
int rcfd_buf_json_record(rcfd_buf_t *b, const char *data, size_t len, size_t max);
/* The bytes of data that rcfd_buf_json_record() keeps under max: len when nothing is cut. */
size_t rcfd_buf_json_record_kept(const char *data, size_t len, size_t max);
/* Appends a double as the shortest JSON number that reads back to the same value; non-finite
 * values become null (JSON has no NaN). */
int rcfd_buf_json_double(rcfd_buf_t *b, double v);
/* Appends a decimal integer (what printf's %lld / %llu would write). */
int rcfd_buf_put_i64(rcfd_buf_t *b, long long v);
int rcfd_buf_put_u64(rcfd_buf_t *b, unsigned long long v);
/* Formats a double into out (>= 32 bytes) as rcfd_buf_json_double would, without the null case. */
void rcfd_fmt_double(char *out, size_t size, double v);
void rcfd_buf_reset(rcfd_buf_t *b);
void rcfd_buf_free(rcfd_buf_t *b);
/* Appends the whole file at `path` ("-": standard input) to b. Returns 0, or RCFD_ENOENT (no such
 * file), RCFD_EIO (cannot open or read it), RCFD_ERANGE (more than `max` bytes; 0: no limit) or
 * RCFD_ENOMEM, with a message that starts with the path. On an error b holds what was read. */
int rcfd_buf_read_file(rcfd_buf_t *b, const char *path, size_t max, char *errstr, size_t es);
/* Moves the content of `from` into `to` (which must be empty or freed); `from` becomes empty. */
void rcfd_buf_move(rcfd_buf_t *to, rcfd_buf_t *from);

#endif
