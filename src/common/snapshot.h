/* Snapshot envelope and bounds-checked little-endian encoding, shared by every model's state
 * format.
 *
 * Envelope (32 bytes, little-endian), then the payload:
 *   0  magic "RCFDSNAP"      8 bytes
 *   8  kind                  u32  (RCFD_SNAP_KIND_*)
 *  12  version               u32  (per kind)
 *  16  payload length        u64  (must equal the bytes that follow: trailing bytes are rejected)
 *  24  CRC-32C of payload    u32
 *  28  reserved, zero        u32
 *
 * The writer never fails once sized: callers compute the size first. The reader records the first
 * problem (truncation, bad value) and every later read returns zeros, so decoders can read a whole
 * section and check once — but they must check before using any count to size or index anything. */
#ifndef RCFD_COMMON_SNAPSHOT_H
#define RCFD_COMMON_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#define RCFD_SNAP_HEADER_SIZE 32u
#define RCFD_SNAP_KIND_RCF 1u
#define RCFD_SNAP_KIND_HOTSPOTS 2u
#define RCFD_SNAP_KIND_CHECKPOINT 3u
/* Sections an rcf model's snapshot may carry after its forest's (models/rcf.c). */
#define RCFD_SNAP_KIND_RECENT_MEANS 4u
#define RCFD_SNAP_KIND_NOVELTY 5u
/* The forecast model type's calibration, after its forest's snapshot (models/forecast.c). */
#define RCFD_SNAP_KIND_FORECAST 6u
/* The rcf model's alert decision (score/alert.h), after its novelty section. */
#define RCFD_SNAP_KIND_ALERT 7u
/* An rcf model with shingle_size "auto" still choosing it: the records it holds, in the forest
 * snapshot's place. */
#define RCFD_SNAP_KIND_SHINGLE_PENDING 8u
/* The rcf model's per-field scales (normalize "auto"), after its alert section. */
#define RCFD_SNAP_KIND_SCALES 9u
/* A key's imputation state (models/impute.h), last in the snapshot of the model holding it. */
#define RCFD_SNAP_KIND_IMPUTE 10u
/* An rcf model whose shingle_size "auto" chose a dilated shingle (a period longer than the cap):
 * its stride and the key's recent records, right after its forest's snapshot. */
#define RCFD_SNAP_KIND_DILATION 11u

typedef struct rcfd_writer {
    unsigned char *p;
    size_t len;
    size_t cap;
} rcfd_writer_t;

typedef struct rcfd_reader {
    const unsigned char *p;
    size_t len;
    size_t pos;
    int err; /* 0, or the first error (RCFD_ETRUNCATED) */
} rcfd_reader_t;

void rcfd_put_u8(rcfd_writer_t *w, uint8_t v);
void rcfd_put_u32(rcfd_writer_t *w, uint32_t v);
void rcfd_put_u64(rcfd_writer_t *w, uint64_t v);
void rcfd_put_f32(rcfd_writer_t *w, float v);
void rcfd_put_f64(rcfd_writer_t *w, double v);
void rcfd_put_f32s(rcfd_writer_t *w, const float *v, size_t n);

uint8_t rcfd_get_u8(rcfd_reader_t *r);
uint32_t rcfd_get_u32(rcfd_reader_t *r);
uint64_t rcfd_get_u64(rcfd_reader_t *r);
float rcfd_get_f32(rcfd_reader_t *r);
double rcfd_get_f64(rcfd_reader_t *r);
void rcfd_get_f32s(rcfd_reader_t *r, float *out, size_t n);
/* True when at least n more items of `item_size` bytes remain (overflow-safe). */
int rcfd_reader_has(const rcfd_reader_t *r, uint64_t n, size_t item_size);

/* A payload being decoded, and where its loader's error message goes. The messages below word a
 * problem the same way for every snapshot kind; byte offsets count from the start of the
 * snapshot, envelope included. */
typedef struct rcfd_snap_loader {
    rcfd_reader_t r;
    char *errstr;
    size_t errstr_size;
    size_t base; /* where this envelope starts in a snapshot made of several sections; else 0 */
    uint32_t version; /* the payload's version, for a reader of several (else unused) */
} rcfd_snap_loader_t;

/* The offset of the next byte the reader would read. */
size_t rcfd_snap_at(const rcfd_snap_loader_t *l);
/* "snapshot truncated in <what> at byte <offset>"; returns RCFD_ETRUNCATED. */
int rcfd_snap_truncated(const rcfd_snap_loader_t *l, const char *what);
/* "snapshot byte <offset>: <message>"; returns RCFD_EBADSTATE. */
__attribute__((format(printf, 2, 3))) int rcfd_snap_bad(const rcfd_snap_loader_t *l,
                                                        const char *fmt, ...);
/* The same about the value at byte `at` (one already read). */
__attribute__((format(printf, 3, 4))) int rcfd_snap_bad_at(const rcfd_snap_loader_t *l, size_t at,
                                                           const char *fmt, ...);

/* Writes the envelope around the payload already written after the header. */
void rcfd_snap_seal(unsigned char *buf, uint32_t kind, uint32_t version, size_t payload_len);

/* Checks the envelope; on success points payload at the payload and sets its length and version. */
int rcfd_snap_open(const void *buf, size_t len, uint32_t kind, const unsigned char **payload,
                   size_t *payload_len, uint32_t *version, char *errstr, size_t errstr_size);
/* rcfd_snap_open for a reader of one version: any other is RCFD_EVERSION, "<what> version N is
 * not supported (this build reads M)". */
int rcfd_snap_open_version(const void *buf, size_t len, uint32_t kind, uint32_t version,
                           const char *what, const unsigned char **payload, size_t *payload_len,
                           char *errstr, size_t errstr_size);

#endif
