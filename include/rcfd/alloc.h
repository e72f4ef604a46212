/* rcfd — allocation hooks and accounting.
 *
 * All rcfd allocation goes through these functions, so a process can route it to its own allocator,
 * read a bytes-in-use gauge, and count allocation calls (the tests prove the models allocate nothing
 * per record this way).
 *
 * Thread-safety: rcfd_malloc/calloc/realloc/free and the counters are safe from any thread (counters
 * are relaxed atomics). rcfd_set_allocator() must be called before any rcfd object exists and while
 * no other thread uses rcfd.
 */
#ifndef RCFD_ALLOC_H
#define RCFD_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#include "version.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rcfd_allocator {
    void *(*malloc_fn)(size_t size);
    void *(*realloc_fn)(void *ptr, size_t size);
    void (*free_fn)(void *ptr);
} rcfd_allocator_t;

/* Replaces the backing allocator; NULL restores libc's. */
RCFD_EXTERN void rcfd_set_allocator(const rcfd_allocator_t *allocator);

/* malloc-like; NULL on failure (never aborts). rcfd_free(NULL) is a no-op. */
RCFD_EXTERN void *rcfd_malloc(size_t size);
RCFD_EXTERN void *rcfd_calloc(size_t count, size_t size);
RCFD_EXTERN void *rcfd_realloc(void *ptr, size_t size);
RCFD_EXTERN void rcfd_free(void *ptr);

/* Reserves `size` bytes of zeroed address space that the kernel commits page by page on first touch
 * (anonymous mmap). For stores sized for the worst case but usually filled far less. Release with
 * rcfd_unreserve(ptr, size) passing the same size. */
RCFD_EXTERN void *rcfd_reserve(size_t size);
RCFD_EXTERN void rcfd_unreserve(void *ptr, size_t size);

typedef struct rcfd_alloc_stats {
    uint64_t calls;          /* malloc, calloc, realloc and reserve calls since start */
    uint64_t bytes_in_use;   /* bytes currently allocated through rcfd_malloc/calloc/realloc */
    uint64_t bytes_reserved; /* address space currently reserved through rcfd_reserve */
} rcfd_alloc_stats_t;

RCFD_EXTERN void rcfd_alloc_stats(rcfd_alloc_stats_t *out);

/* Bytes the calling thread allocated minus those it freed through these functions (heap blocks
 * and reservations), since it started: the difference of two readings is what the calls between
 * them allocated on this thread, whatever other threads did. */
RCFD_EXTERN int64_t rcfd_alloc_thread_net(void);

#ifdef __cplusplus
}
#endif

#endif /* RCFD_ALLOC_H */
