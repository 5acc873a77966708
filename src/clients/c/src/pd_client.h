/* The client object, shared by pd_client.c (connection, I/O, timers, reconnects) and pd_session.c
 * (what each frame means, rooms, requests). */
#ifndef PD_CLIENT_H
#define PD_CLIENT_H

#include "pd_internal.h"

#define PD_TEXT 256
/* Complete frames waiting beyond this many bytes stop the reading (the server's send queue then
 * fills, and a client that never polls is eventually closed as a slow consumer). */
#define PD_READ_BACKLOG (1024u * 1024u)
#define PD_READ_CHUNK (64u * 1024u)

/* A request waiting for its reply; replies come in request order, so the first entry usually matches. */
typedef struct pd_pending {
    uint32_t rid;
    uint8_t op;
    uint8_t internal;
    uint32_t room_id;   /* JOIN: the room record it is for */
    uint64_t deadline;  /* 0: none */
} pd_pending;

/* A room the application joined: what a re-join after a reconnect needs. */
typedef struct pd_room {
    uint32_t id;
    char *name;
    size_t name_len;
    uint8_t *meta, *will;
    size_t meta_len, will_len;
    int has_meta, has_will;
    char *epoch;
    size_t epoch_len;
    uint64_t offset;     /* last MESSAGE offset received (or JOINED's) */
    int confirmed;       /* a JOINED has come for it */
} pd_room;

/* An event the library makes itself (no frame behind it). */
typedef struct pd_sys_event {
    pd_event_type type;
    uint32_t rid;
    uint8_t op, internal;
    int err, code, will_reconnect;
    uint32_t retry_ms;
} pd_sys_event;

struct pd_client {
    pd_allocator a;
    pd_options opt;          /* host, credential, client_name point at owned copies */
    pd_state state;
    pd_socket_t sock;
    int tcp_pending;         /* non-blocking connect not finished */
    int in_callback;

    pd_buf in;               /* received bytes; frames from in_start */
    size_t in_start, scan_pos;
    size_t ready;            /* complete frames between in_start and scan_pos */
    pd_buf out;              /* queued frames; sent from out_start */
    size_t out_start;
    pd_arena arena;

    /* the session */
    char *user, *conn;
    int64_t heartbeat_ms, timeout_ms;
    size_t max_frame;
    uint32_t hello_rid, next_rid, next_room_id;
    int ever_welcomed;
    uint64_t attempt_start, last_recv, last_send, reconnect_at;
    unsigned backoff_attempt;
    uint64_t rng;

    /* the end of a connection: noted at once, settled once its remaining frames are delivered */
    int loss_pending, loss_err;
    int goaway_code;
    int64_t goaway_reconnect_ms;
    int refused_code;        /* > 0: HELLO was refused */

    pd_pending *pending;
    size_t pending_len, pending_cap;
    pd_room *rooms;
    size_t room_len, room_cap;
    pd_sys_event *sys;
    size_t sys_head, sys_len, sys_cap;

    char last_error[PD_TEXT];
    char loss_detail[PD_TEXT];
    char disc_detail[PD_TEXT];
};

/* pd_client.c */
uint64_t pd__now(pd_client *c);
/* Notes the end of the connection (first call wins): the socket is closed now, the frames already
 * received are still delivered, then pd__settle turns it into events and a reconnect. */
void pd__lose(pd_client *c, int err, const char *detail);
int pd__push_sys(pd_client *c, const pd_sys_event *e);
void pd__reset_buffers(pd_client *c);
/* Starts a connection attempt: socket, non-blocking connect, HELLO queued. */
int pd__start_attempt(pd_client *c);
/* Once a lost connection's frames are delivered: its DISCONNECTED event and the retry. */
void pd__settle(pd_client *c);

/* pd_poll.c */
void pd__flush(pd_client *c);
uint32_t pd__next_rid(pd_client *c);
pd_frame_out pd__frame_out(pd_client *c);

/* For the fuzz test: feeds bytes as if they had been received on a connection (no socket). */
int pd__test_feed(pd_client *c, const uint8_t *data, size_t len);

/* pd_session.c */
/* Applies a decoded frame to the session; 1 to deliver it, 0 to swallow it, -1 after pd__lose. */
int pd__on_frame(pd_client *c, pd_event *ev);
int pd__add_pending(pd_client *c, uint32_t rid, pd_op op, uint32_t room_id, int internal);
/* Turns every pending request into a REQUEST_FAILED event with err (connection lost). */
void pd__fail_pending(pd_client *c, int err);
void pd__expire_pending(pd_client *c, uint64_t now);
uint64_t pd__next_deadline(const pd_client *c);
/* Queues the JOINs that restore every room after a reconnect. */
void pd__rejoin_rooms(pd_client *c);
void pd__free_rooms(pd_client *c);

#endif /* PD_CLIENT_H */
