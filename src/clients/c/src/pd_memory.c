/* Memory: the caller's allocator hooks, growable buffers, and the per-event arena. */
#include "pd_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- allocator ------------------------------------------------------------------------------ */
static void *default_alloc(void *ctx, size_t size) { (void)ctx; return malloc(size); }
static void *default_realloc(void *ctx, void *ptr, size_t old_size, size_t new_size)
{
    (void)ctx;
    (void)old_size;
    return realloc(ptr, new_size);
}
static void default_free(void *ctx, void *ptr, size_t size) { (void)ctx; (void)size; free(ptr); }

void pd_allocator_resolve(pd_allocator *a)
{
    if (a->alloc == NULL || a->free == NULL) {
        a->alloc = default_alloc;
        a->realloc = default_realloc;
        a->free = default_free;
        a->ctx = NULL;
    }
}

void *pd_mem_alloc(const pd_allocator *a, size_t size) { return size == 0 ? NULL : a->alloc(a->ctx, size); }

void *pd_mem_realloc(const pd_allocator *a, void *ptr, size_t old_size, size_t new_size)
{
    void *p;
    if (ptr == NULL) return pd_mem_alloc(a, new_size);
    if (a->realloc != NULL) return a->realloc(a->ctx, ptr, old_size, new_size);
    p = a->alloc(a->ctx, new_size);
    if (p == NULL) return NULL;
    memcpy(p, ptr, old_size < new_size ? old_size : new_size);
    a->free(a->ctx, ptr, old_size);
    return p;
}

void pd_mem_free(const pd_allocator *a, void *ptr, size_t size)
{
    if (ptr != NULL) a->free(a->ctx, ptr, size);
}

char *pd_mem_strndup(const pd_allocator *a, const char *s, size_t len)
{
    char *copy = (char *)pd_mem_alloc(a, len + 1);
    if (copy == NULL) return NULL;
    if (len > 0) memcpy(copy, s, len);
    copy[len] = '\0';
    return copy;
}

/* ---- buffers -------------------------------------------------------------------------------- */
int pd_buf_reserve(pd_buf *b, const pd_allocator *a, size_t extra)
{
    size_t need, cap;
    uint8_t *grown;
    if (extra > SIZE_MAX - b->len) return PD_ERR_NOMEM;
    need = b->len + extra;
    if (need <= b->cap) return PD_OK;
    cap = b->cap < 256 ? 256 : b->cap;
    while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    grown = (uint8_t *)pd_mem_realloc(a, b->data, b->cap, cap);
    if (grown == NULL) return PD_ERR_NOMEM;
    b->data = grown;
    b->cap = cap;
    return PD_OK;
}

int pd_buf_append(pd_buf *b, const pd_allocator *a, const void *data, size_t len)
{
    if (len == 0) return PD_OK;
    if (pd_buf_reserve(b, a, len) != PD_OK) return PD_ERR_NOMEM;
    memcpy(b->data + b->len, data, len);
    b->len += len;
    return PD_OK;
}

void pd_buf_free(pd_buf *b, const pd_allocator *a)
{
    pd_mem_free(a, b->data, b->cap);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* ---- arena ---------------------------------------------------------------------------------- */
struct pd_arena_block {
    pd_arena_block *next;
    size_t size, used;
    /* data follows, aligned */
};

#define PD_ALIGN 16u
#define PD_BLOCK_HEADER ((sizeof(pd_arena_block) + PD_ALIGN - 1) & ~(size_t)(PD_ALIGN - 1))
#define PD_MIN_BLOCK 4096u
#define PD_KEEP_BLOCK (1024u * 1024u)

void pd_arena_init(pd_arena *arena, const pd_allocator *a)
{
    arena->head = NULL;
    arena->used_total = 0;
    arena->a = a;
}

static pd_arena_block *new_block(pd_arena *arena, size_t size)
{
    pd_arena_block *block;
    if (size > SIZE_MAX - PD_BLOCK_HEADER) return NULL;
    block = (pd_arena_block *)pd_mem_alloc(arena->a, PD_BLOCK_HEADER + size);
    if (block == NULL) return NULL;
    block->size = size;
    block->used = 0;
    block->next = arena->head;
    arena->head = block;
    return block;
}

void *pd_arena_alloc(pd_arena *arena, size_t size)
{
    pd_arena_block *block = arena->head;
    size_t rounded;
    if (size > SIZE_MAX - PD_ALIGN) return NULL;
    rounded = (size + PD_ALIGN - 1) & ~(size_t)(PD_ALIGN - 1);
    if (rounded == 0) rounded = PD_ALIGN;
    if (block == NULL || block->size - block->used < rounded) {
        size_t want = block == NULL ? PD_MIN_BLOCK : block->size * 2;
        if (want < rounded) want = rounded;
        block = new_block(arena, want);
        if (block == NULL) return NULL;
    }
    block->used += rounded;
    arena->used_total += rounded;
    return (uint8_t *)block + PD_BLOCK_HEADER + (block->used - rounded);
}

void pd_arena_reset(pd_arena *arena)
{
    pd_arena_block *block = arena->head;
    size_t total = arena->used_total;
    arena->used_total = 0;
    if (block == NULL) return;
    if (block->next == NULL) {
        block->used = 0;
        return;
    }
    /* Several blocks: replace them by one that holds it all, so the next such event needs one
     * (but do not keep more than PD_KEEP_BLOCK after one huge frame). */
    pd_arena_free(arena);
    if (total < PD_MIN_BLOCK) total = PD_MIN_BLOCK;
    if (total <= PD_KEEP_BLOCK) (void)new_block(arena, total);
}

void pd_arena_free(pd_arena *arena)
{
    pd_arena_block *block = arena->head;
    while (block != NULL) {
        pd_arena_block *next = block->next;
        pd_mem_free(arena->a, block, PD_BLOCK_HEADER + block->size);
        block = next;
    }
    arena->head = NULL;
    arena->used_total = 0;
}
