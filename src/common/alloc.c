/* Allocation wrappers: optional user allocator, call counter and bytes-in-use gauge.
 *
 * Each block carries a 16-byte header holding its size, so rcfd_free can keep the gauge exact without
 * asking the backing allocator. 16 bytes keeps the payload aligned for any scalar type. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "rcfd/alloc.h"

#define HEADER_SIZE 16

static rcfd_allocator_t backing = {malloc, realloc, free};
static int backing_is_libc = 1;
static atomic_uint_fast64_t alloc_calls;
static atomic_uint_fast64_t bytes_in_use;
static atomic_uint_fast64_t bytes_reserved;
/* Bytes this thread allocated minus those it freed (heap and reservations): what one call on a
 * thread allocated, whatever other threads do meanwhile. */
static _Thread_local int64_t thread_net;

void rcfd_set_allocator(const rcfd_allocator_t *allocator)
{
    if (allocator == NULL) {
        backing = (rcfd_allocator_t){malloc, realloc, free};
        backing_is_libc = 1;
    } else {
        backing = *allocator;
        backing_is_libc = 0;
    }
}

static void *finish(unsigned char *block, size_t size)
{
    if (block == NULL) {
        return NULL;
    }
    memcpy(block, &size, sizeof size);
    atomic_fetch_add_explicit(&bytes_in_use, size, memory_order_relaxed);
    thread_net += (int64_t)size;
    return block + HEADER_SIZE;
}

void *rcfd_malloc(size_t size)
{
    atomic_fetch_add_explicit(&alloc_calls, 1, memory_order_relaxed);
    if (size > SIZE_MAX - HEADER_SIZE) {
        return NULL;
    }
    return finish(backing.malloc_fn(size + HEADER_SIZE), size);
}

void *rcfd_calloc(size_t count, size_t size)
{
    if (size != 0 && count > (SIZE_MAX - HEADER_SIZE) / size) {
        atomic_fetch_add_explicit(&alloc_calls, 1, memory_order_relaxed);
        return NULL;
    }
    void *p = rcfd_malloc(count * size);
    if (p != NULL) {
        memset(p, 0, count * size);
    }
    return p;
}

void *rcfd_realloc(void *ptr, size_t size)
{
    if (ptr == NULL) {
        return rcfd_malloc(size);
    }
    atomic_fetch_add_explicit(&alloc_calls, 1, memory_order_relaxed);
    if (size > SIZE_MAX - HEADER_SIZE) {
        return NULL;
    }
    unsigned char *block = (unsigned char *)ptr - HEADER_SIZE;
    size_t old;
    memcpy(&old, block, sizeof old);
    unsigned char *grown = backing.realloc_fn(block, size + HEADER_SIZE);
    if (grown == NULL) {
        return NULL; /* the old block is untouched and still accounted */
    }
    atomic_fetch_sub_explicit(&bytes_in_use, old, memory_order_relaxed);
    thread_net -= (int64_t)old;
    return finish(grown, size);
}

void rcfd_free(void *ptr)
{
    if (ptr == NULL) {
        return;
    }
    unsigned char *block = (unsigned char *)ptr - HEADER_SIZE;
    size_t size;
    memcpy(&size, block, sizeof size);
    atomic_fetch_sub_explicit(&bytes_in_use, size, memory_order_relaxed);
    thread_net -= (int64_t)size;
    backing.free_fn(block);
}

void *rcfd_reserve(size_t size)
{
    if (size == 0) {
        return NULL;
    }
    if (!backing_is_libc) {
        /* A user allocator sees every byte, even if that means committing the pages now. */
        return rcfd_calloc(1, size);
    }
    atomic_fetch_add_explicit(&alloc_calls, 1, memory_order_relaxed);
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (p == MAP_FAILED) {
        return NULL;
    }
    atomic_fetch_add_explicit(&bytes_reserved, size, memory_order_relaxed);
    thread_net += (int64_t)size;
    return p;
}

void rcfd_unreserve(void *ptr, size_t size)
{
    if (ptr == NULL) {
        return;
    }
    if (!backing_is_libc) {
        rcfd_free(ptr);
        return;
    }
    munmap(ptr, size);
    atomic_fetch_sub_explicit(&bytes_reserved, size, memory_order_relaxed);
    thread_net -= (int64_t)size;
}

int64_t rcfd_alloc_thread_net(void)
{
    return thread_net;
}

void rcfd_alloc_stats(rcfd_alloc_stats_t *out)
{
    out->calls = atomic_load_explicit(&alloc_calls, memory_order_relaxed);
    out->bytes_in_use = atomic_load_explicit(&bytes_in_use, memory_order_relaxed);
    out->bytes_reserved = atomic_load_explicit(&bytes_reserved, memory_order_relaxed);
}
