/* Internal declarations shared by the library's files (not installed). */
#ifndef PD_INTERNAL_H
#define PD_INTERNAL_H

#include "presenced.h"

#include <stddef.h>
#include <stdint.h>

/* ---- memory (pd_memory.c) ------------------------------------------------------------------- */
void pd_allocator_resolve(pd_allocator *a);
void *pd_mem_alloc(const pd_allocator *a, size_t size);
void *pd_mem_realloc(const pd_allocator *a, void *ptr, size_t old_size, size_t new_size);
void pd_mem_free(const pd_allocator *a, void *ptr, size_t size);
/* A copy of s[0..len) with a NUL after it, or NULL. */
char *pd_mem_strndup(const pd_allocator *a, const char *s, size_t len);

/* A growable byte buffer. */
typedef struct pd_buf {
    uint8_t *data;
    size_t len, cap;
} pd_buf;
/* Makes room for `extra` more bytes after len; 0 or PD_ERR_NOMEM. */
int pd_buf_reserve(pd_buf *b, const pd_allocator *a, size_t extra);
int pd_buf_append(pd_buf *b, const pd_allocator *a, const void *data, size_t len);
void pd_buf_free(pd_buf *b, const pd_allocator *a);

/* Per-event scratch memory: blocks that never move, so pointers handed out stay valid until reset.
 * Reset keeps one block as large as everything the last event needed. */
typedef struct pd_arena_block pd_arena_block;
typedef struct pd_arena {
    pd_arena_block *head;  /* newest first */
    size_t used_total;
    const pd_allocator *a;
} pd_arena;
void pd_arena_init(pd_arena *arena, const pd_allocator *a);
void *pd_arena_alloc(pd_arena *arena, size_t size);
void pd_arena_reset(pd_arena *arena);
void pd_arena_free(pd_arena *arena);

/* ---- MessagePack (pd_msgpack.c): only the types the protocol uses; no I/O ---------------------- */
typedef struct pd_reader {
    const uint8_t *p, *end;
    const char *err;  /* static text of the first failure */
} pd_reader;

int pd_mp_read_array(pd_reader *r, uint32_t *count);
int pd_mp_read_uint(pd_reader *r, uint64_t *value);
int pd_mp_read_int(pd_reader *r, int64_t *value);
int pd_mp_read_bool(pd_reader *r, int *value);
int pd_mp_read_str(pd_reader *r, const uint8_t **data, uint32_t *len);
int pd_mp_read_bin(pd_reader *r, const uint8_t **data, uint32_t *len);
/* 1 (and consumed) when the next value is nil, else 0. */
int pd_mp_try_nil(pd_reader *r);
/* Skips one value of any type, nested to a bounded depth. */
int pd_mp_skip(pd_reader *r);
/* The format byte of the next value, or -1 at the end. */
int pd_mp_peek(const pd_reader *r);

typedef struct pd_writer {
    pd_buf *buf;
    const pd_allocator *a;
    int failed;  /* an allocation failed: the bytes are incomplete */
} pd_writer;

void pd_mp_write_array(pd_writer *w, uint32_t count);
void pd_mp_write_uint(pd_writer *w, uint64_t value);
void pd_mp_write_int(pd_writer *w, int64_t value);
void pd_mp_write_bool(pd_writer *w, int value);
void pd_mp_write_nil(pd_writer *w);
void pd_mp_write_str(pd_writer *w, const char *data, size_t len);
void pd_mp_write_bin(pd_writer *w, const void *data, size_t len);

/* ---- frames --------------------------------------------------------------------------------- */
#define PD_MAX_SERVER_FRAME (16u * 1024u * 1024u)
#define PD_DEFAULT_MAX_FRAME 65536u
#define PD_MAX_SKIP_DEPTH 32

/* Decodes one server frame body into *ev (pd_decode.c). Strings are copied into the arena with a
 * NUL; payload and meta point into body. Returns PD_OK (ev->type PD_EV_NONE for an op this library
 * does not know, to be ignored), PD_ERR_PROTOCOL with a detail in err, or PD_ERR_NOMEM. */
int pd_decode_frame(const uint8_t *body, size_t len, pd_arena *arena, pd_event *ev, char *err, size_t err_len);

/* Client frames (pd_encode.c): each appends one length-prefixed frame to out. Returns PD_OK,
 * PD_ERR_NOMEM, or PD_ERR_TOO_LARGE when the body would exceed max_frame (out is left unchanged). */
typedef struct pd_frame_out {
    pd_buf *buf;
    const pd_allocator *a;
    size_t max_frame;
} pd_frame_out;
typedef struct pd_since { const char *epoch; size_t epoch_len; uint64_t offset; } pd_since;

int pd_encode_hello(const pd_frame_out *o, uint32_t rid, const char *credential, const char *client_name);
int pd_encode_join(const pd_frame_out *o, uint32_t rid, const char *room, size_t room_len,
                   const pd_bytes *meta, const pd_since *since, const pd_bytes *will);
int pd_encode_room_op(const pd_frame_out *o, pd_op op, uint32_t rid, const char *room, size_t room_len);
int pd_encode_publish(const pd_frame_out *o, uint32_t rid, const char *room, size_t room_len, const pd_bytes *payload);
int pd_encode_update(const pd_frame_out *o, uint32_t rid, const char *room, size_t room_len, const pd_bytes *meta);
int pd_encode_presence(const pd_frame_out *o, uint32_t rid, const char *room, size_t room_len, long limit);
int pd_encode_online(const pd_frame_out *o, uint32_t rid, const char *const *users, size_t count);
int pd_encode_ping(const pd_frame_out *o, uint32_t rid);
int pd_encode_bye(const pd_frame_out *o);

/* ---- sockets and time (pd_socket.c) --------------------------------------------------------- */
uint64_t pd_sys_clock_ms(void);
/* Starts a non-blocking connect. PD_OK (connecting or connected), PD_ERR_RESOLVE or PD_ERR_CONNECT. */
int pd_sock_connect(const char *host, uint16_t port, pd_socket_t *out, char *err, size_t err_len);
/* After writability: PD_OK when the connect succeeded, else PD_ERR_CONNECT with a detail. */
int pd_sock_connect_result(pd_socket_t s, char *err, size_t err_len);
#define PD_SOCK_AGAIN (-2)
/* Bytes moved, PD_SOCK_AGAIN, 0 for end of stream (recv), or -1 for an error (detail in err). */
long pd_sock_send(pd_socket_t s, const uint8_t *data, size_t len, char *err, size_t err_len);
long pd_sock_recv(pd_socket_t s, uint8_t *data, size_t len, char *err, size_t err_len);
/* Waits up to timeout_ms (< 0: forever) for the socket (or just sleeps when s is invalid).
 * Sets *readable / *writable; returns 0, or -1 on a poll error. */
int pd_sock_wait(pd_socket_t s, int want_read, int want_write, int timeout_ms, int *readable, int *writable);
/* Ends the sending side (FIN) so the server sees an orderly end after the last frame. */
void pd_sock_shutdown_write(pd_socket_t s);
void pd_sock_close(pd_socket_t s);

/* ---- shared helpers (pd_names.c) ------------------------------------------------------------ */
void pd_set_text(char *dst, size_t cap, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#endif /* PD_INTERNAL_H */
