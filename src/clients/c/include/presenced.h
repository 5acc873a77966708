/*
 * presenced.h: a C99 client for PresenceD (protocol version 1).
 *
 * One pd_client is one session: TCP connection, HELLO, heartbeats, reconnects with back-off, and
 * re-joins with `since` so missed messages are replayed. The library has no threads and no global
 * state; all memory comes from the pd_allocator given at creation. Drive it either way:
 *   - game loop: call pd_client_poll(c, 0) once per frame; events arrive through on_event, or
 *     (on_event == NULL) are pulled with pd_client_next_event;
 *   - own poller: watch pd_client_socket(c) (readable, and writable when pd_client_want_write),
 *     wake after pd_client_timeout_ms(c), then call pd_client_poll(c, 0). The socket changes on
 *     every reconnect: ask again after each poll.
 * A pd_client is not thread-safe: use it from one thread at a time.
 *
 * Requests (pd_join, pd_publish, ...) are queued and sent by the next pd_client_poll or
 * pd_client_flush, so many requests cost one system call.
 *
 * Every string and byte range inside an event is valid only until the next call of
 * pd_client_poll, pd_client_next_event or pd_client_close on that client; copy what you keep.
 */
#ifndef PRESENCED_H
#define PRESENCED_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(PD_SHARED)
#  ifdef PD_BUILDING
#    define PD_API __declspec(dllexport)
#  else
#    define PD_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__) && __GNUC__ >= 4
#  define PD_API __attribute__((visibility("default")))
#else
#  define PD_API
#endif

#ifdef _WIN32
typedef uintptr_t pd_socket_t; /* SOCKET */
#  define PD_INVALID_SOCKET (~(pd_socket_t)0)
#else
typedef int pd_socket_t;
#  define PD_INVALID_SOCKET (-1)
#endif

#define PD_PROTOCOL_VERSION 1
#define PD_LIBRARY_VERSION "1.0.0"

/* ---- errors: the library's own codes (negative); pd_strerror names them ---------------------- */
typedef enum pd_err {
    PD_OK = 0,
    PD_ERR_NOMEM = -1,          /* the allocator returned NULL */
    PD_ERR_INVALID = -2,        /* a bad argument, or a call from inside on_event that is not allowed */
    PD_ERR_NOT_CONNECTED = -3,  /* the request needs a session (after WELCOME) */
    PD_ERR_TOO_LARGE = -4,      /* the frame would exceed the server's max_frame */
    PD_ERR_BUFFER_FULL = -5,    /* max_send_buffer bytes are already queued */
    PD_ERR_RESOLVE = -6,        /* the host name could not be resolved */
    PD_ERR_CONNECT = -7,        /* the TCP connection could not be opened (refused, unreachable, timed out) */
    PD_ERR_IO = -8,             /* send or receive failed (reset, broken pipe) */
    PD_ERR_CLOSED = -9,         /* the server closed the connection */
    PD_ERR_PROTOCOL = -10,      /* a malformed or unexpected server frame */
    PD_ERR_FRAME_TOO_LARGE = -11, /* a server frame declared longer than max_server_frame */
    PD_ERR_TIMEOUT = -12,       /* no reply in request_timeout_ms, or the server silent for timeout_ms */
    PD_ERR_GOAWAY = -13,        /* the server sent GOAWAY and closed */
    PD_ERR_REFUSED = -14,       /* the server refused HELLO (ERROR reply): no reconnect */
    PD_ERR_DISCONNECTED = -15,  /* the connection was lost before the reply came */
    PD_ERR_DROPPED = -16,       /* pd_client_drop broke the connection */
    PD_ERR_CLOSED_BY_USER = -17 /* pd_client_close was called */
} pd_err;

/* A static English text for a pd_err (or "unknown error"); never NULL. */
PD_API const char *pd_strerror(int err);

/* Server error codes (ERROR and GOAWAY `code`), PROTOCOL.md "Error codes". */
typedef enum pd_code {
    PD_CODE_NONE = 0, PD_CODE_PROTOCOL = 1, PD_CODE_VERSION = 2, PD_CODE_AUTH = 3, PD_CODE_FORBIDDEN = 4,
    PD_CODE_NOT_JOINED = 5, PD_CODE_TOO_LARGE = 6, PD_CODE_LIMIT = 7, PD_CODE_RATE = 8, PD_CODE_DEGRADED = 9,
    PD_CODE_INTERNAL = 10, PD_CODE_BAD_REQUEST = 11, PD_CODE_SHUTDOWN = 12, PD_CODE_SLOW_CONSUMER = 13,
    PD_CODE_TIMEOUT = 14
} pd_code;

/* "NOT_JOINED" etc., "NONE" for 0, "UNKNOWN" otherwise; never NULL. */
PD_API const char *pd_code_name(int code);

/* Op codes: 1..10 client to server, 64..74 server to client (also the event types of server frames). */
typedef enum pd_op {
    PD_OP_HELLO = 1, PD_OP_JOIN = 2, PD_OP_LEAVE = 3, PD_OP_PUBLISH = 4, PD_OP_UPDATE = 5,
    PD_OP_PRESENCE = 6, PD_OP_COUNT = 7, PD_OP_PING = 8, PD_OP_BYE = 9, PD_OP_ONLINE = 10,
    PD_OP_WELCOME = 64, PD_OP_OK = 65, PD_OP_ERROR = 66, PD_OP_JOINED = 67, PD_OP_PRESENCE_STATE = 68,
    PD_OP_PRESENCE_DIFF = 69, PD_OP_MESSAGE = 70, PD_OP_COUNT_STATE = 71, PD_OP_PONG = 72,
    PD_OP_GOAWAY = 73, PD_OP_ONLINE_STATE = 74
} pd_op;

/* "JOIN", "MESSAGE", ... or "UNKNOWN"; never NULL. */
PD_API const char *pd_op_name(int op);

/* ---- memory --------------------------------------------------------------------------------- */
/* Every allocation goes through these. Leave all NULL for malloc/realloc/free. `realloc` may be NULL
 * (alloc + copy + free is used). `free` and `realloc` are told the size the block was allocated with. */
typedef struct pd_allocator {
    void *(*alloc)(void *ctx, size_t size);
    void *(*realloc)(void *ctx, void *ptr, size_t old_size, size_t new_size);
    void (*free)(void *ctx, void *ptr, size_t size);
    void *ctx;
} pd_allocator;

/* ---- events --------------------------------------------------------------------------------- */
typedef enum pd_event_type {
    PD_EV_NONE = 0,
    /* one per server frame; the value is the frame's op */
    PD_EV_WELCOME = 64, PD_EV_OK = 65, PD_EV_ERROR = 66, PD_EV_JOINED = 67, PD_EV_PRESENCE_STATE = 68,
    PD_EV_PRESENCE_DIFF = 69, PD_EV_MESSAGE = 70, PD_EV_COUNT_STATE = 71, PD_EV_PONG = 72,
    PD_EV_GOAWAY = 73, PD_EV_ONLINE_STATE = 74,
    /* the library's own */
    PD_EV_DISCONNECTED = 128,   /* a connection (or an attempt) ended; says whether it will retry */
    PD_EV_REQUEST_FAILED = 129  /* a request got no reply: timeout, or the connection was lost */
} pd_event_type;

/* A string from the server: ptr is NUL-terminated, len excludes the NUL (the bytes may hold NULs). */
typedef struct pd_str { const char *ptr; size_t len; } pd_str;
/* Opaque bytes (meta, payload); ptr == NULL means nil (no meta), distinct from an empty one. */
typedef struct pd_bytes { const uint8_t *ptr; size_t len; } pd_bytes;
/* A room member: one connection of a user. */
typedef struct pd_member { pd_str user; pd_str conn; pd_bytes meta; } pd_member;

/* The fields every event starts with. `rid` is the reply's request id (0 when the frame has none),
 * `request_op` the op of the request it answers (0 when unknown), `internal` is 1 for replies to the
 * library's own requests (the JOINs it sends after a reconnect). */
#define PD_EVENT_HEADER pd_event_type type; uint32_t rid; pd_op request_op; int internal

typedef struct pd_event_any { PD_EVENT_HEADER; } pd_event_any;
typedef struct pd_welcome_event {
    PD_EVENT_HEADER;
    pd_str user, conn, node;
    int64_t heartbeat_ms, timeout_ms, max_frame;
    int reconnected;            /* 1 when this session replaces a lost one (rooms are being re-joined) */
} pd_welcome_event;
typedef struct pd_error_event {
    PD_EVENT_HEADER;
    int code;                   /* pd_code */
    pd_str message;
    pd_str room;                /* the request's room when it had one, else empty */
} pd_error_event;
typedef struct pd_joined_event {
    PD_EVENT_HEADER;
    pd_str room, epoch;
    uint64_t offset;
    const pd_member *members; size_t member_count;
    int recovered;              /* the missed messages follow as MESSAGE events */
    int64_t total;              /* member_count == total: the snapshot is complete */
} pd_joined_event;
typedef struct pd_presence_state_event {
    PD_EVENT_HEADER;
    pd_str room;
    const pd_member *members; size_t member_count;
    int64_t total;
} pd_presence_state_event;
typedef struct pd_presence_diff_event {
    PD_EVENT_HEADER;
    pd_str room;
    const pd_member *joins; size_t join_count;
    const pd_member *leaves; size_t leave_count; /* apply leaves before joins (an UPDATE is both) */
} pd_presence_diff_event;
typedef struct pd_message_event {
    PD_EVENT_HEADER;
    pd_str room, from_user, from_conn;
    pd_bytes payload;
    uint64_t offset;            /* history offset, 0 for rooms without history */
} pd_message_event;
typedef struct pd_count_state_event {
    PD_EVENT_HEADER;
    pd_str room;
    int64_t connections, users;
} pd_count_state_event;
typedef struct pd_goaway_event {
    PD_EVENT_HEADER;
    int code;                   /* pd_code */
    pd_str message;
    int64_t reconnect_ms;       /* the library waits at least this long before reconnecting */
} pd_goaway_event;
typedef struct pd_online_state_event {
    PD_EVENT_HEADER;
    const pd_str *users; size_t user_count;
} pd_online_state_event;
typedef struct pd_disconnected_event {
    PD_EVENT_HEADER;
    int err;                    /* pd_err: why */
    int code;                   /* pd_code from GOAWAY or the HELLO refusal, else 0 */
    int will_reconnect;
    uint32_t retry_in_ms;       /* when will_reconnect */
    const char *detail;         /* a longer text, NUL-terminated */
} pd_disconnected_event;
typedef struct pd_request_failed_event {
    PD_EVENT_HEADER;
    int err;                    /* PD_ERR_TIMEOUT or PD_ERR_DISCONNECTED */
} pd_request_failed_event;

typedef union pd_event {
    pd_event_type type;
    pd_event_any any;
    pd_welcome_event welcome;
    pd_error_event error;
    pd_joined_event joined;
    pd_presence_state_event presence_state;
    pd_presence_diff_event presence_diff;
    pd_message_event message;
    pd_count_state_event count_state;
    pd_event_any ok, pong;
    pd_goaway_event goaway;
    pd_online_state_event online_state;
    pd_disconnected_event disconnected;
    pd_request_failed_event request_failed;
} pd_event;

typedef struct pd_client pd_client;

/* Called from pd_client_poll for each event. It may queue requests (pd_publish, ...), call
 * pd_client_close or pd_client_drop; it must not call pd_client_poll, pd_client_next_event or
 * pd_client_free. */
typedef void (*pd_event_fn)(pd_client *client, const pd_event *event, void *user_data);

/* ---- options -------------------------------------------------------------------------------- */
typedef struct pd_options {
    const char *host;             /* default "127.0.0.1"; resolved (blocking) at each connect */
    uint16_t port;                /* default 7400 */
    const char *credential;       /* required: the user id (auth none) or a JWT (auth jwt) */
    const char *client_name;      /* default "presenced-c"; NULL sends none */
    pd_event_fn on_event;         /* NULL: pull events with pd_client_next_event */
    void *user_data;
    pd_allocator allocator;
    uint32_t connect_timeout_ms;  /* TCP connect + HELLO; default 10000 */
    uint32_t request_timeout_ms;  /* default 10000; 0 = never */
    int auto_reconnect;           /* default 1: reconnect after a loss (not after a refusal) */
    uint32_t backoff_initial_ms;  /* default 250 */
    uint32_t backoff_max_ms;      /* default 30000 */
    uint32_t max_server_frame;    /* default 16 MiB: longer server frames are a protocol error */
    uint32_t max_send_buffer;     /* default 4 MiB of queued requests */
    uint64_t (*clock_ms)(void *ctx); /* monotonic milliseconds; NULL: the system's monotonic clock */
    void *clock_ctx;
    uint64_t random_seed;         /* back-off jitter; 0: derived from the clock */
} pd_options;

/* Fills *options with the defaults (always call it first; new fields keep working). */
PD_API void pd_options_init(pd_options *options);

/* ---- lifecycle ------------------------------------------------------------------------------ */
typedef enum pd_state {
    PD_STATE_IDLE = 0,        /* created, pd_client_connect not called yet */
    PD_STATE_CONNECTING = 1,  /* TCP connect and HELLO in progress */
    PD_STATE_CONNECTED = 2,   /* WELCOME received: requests may be sent */
    PD_STATE_WAITING = 3,     /* waiting out the back-off before reconnecting */
    PD_STATE_DISCONNECTED = 4,/* stopped (refused, or auto_reconnect off); pd_client_connect restarts */
    PD_STATE_CLOSED = 5       /* pd_client_close was called; final */
} pd_state;

/* Creates a client (copies the options and their strings). Returns PD_OK or a pd_err. */
PD_API int pd_client_create(const pd_options *options, pd_client **out);
/* Frees everything. A live connection is cut without BYE (the server delivers wills): call
 * pd_client_close first for a clean goodbye. */
PD_API void pd_client_free(pd_client *client);
/* Starts connecting (non-blocking apart from name resolution); WELCOME or DISCONNECTED follows. */
PD_API int pd_client_connect(pd_client *client);
/* Does the I/O, heartbeats, timeouts and reconnects that are due, waiting up to timeout_ms (0: do not
 * wait; < 0: wait until something happens). Returns as soon as an event was delivered (on_event) or
 * may be ready (pull mode): the number delivered, or in pull mode the number of frames and events
 * waiting (an upper bound: heartbeat replies among them are dropped when pulled); 0 on timeout; a
 * negative pd_err on misuse. */
PD_API int pd_client_poll(pd_client *client, int timeout_ms);
/* Pull mode: 1 and *event filled when an event is ready, else 0. */
PD_API int pd_client_next_event(pd_client *client, pd_event *event);
/* Sends what is queued without waiting; PD_OK even when some bytes must wait for writability. */
PD_API int pd_client_flush(pd_client *client);
/* Says BYE (presence removed at once, wills discarded), flushes for up to linger_ms, closes, stops
 * reconnecting. Final: no event is delivered afterwards. */
PD_API int pd_client_close(pd_client *client, int linger_ms);
/* Breaks the connection without BYE, as a network failure would (the server delivers wills); the
 * client then reconnects by its policy. Useful when the OS reports a network change. */
PD_API int pd_client_drop(pd_client *client);

/* ---- state and external polling ------------------------------------------------------------- */
PD_API pd_state pd_client_state(const pd_client *client);
PD_API const char *pd_state_name(int state);
/* The socket to watch (readable; writable too when pd_client_want_write), or PD_INVALID_SOCKET. */
PD_API pd_socket_t pd_client_socket(const pd_client *client);
PD_API int pd_client_want_write(const pd_client *client);
/* Milliseconds until pd_client_poll must run even without I/O (heartbeat, timeout, reconnect);
 * -1 when nothing is scheduled, 0 when something is due or an event is ready. */
PD_API int pd_client_timeout_ms(const pd_client *client);
/* The last error's detail ("" when none), e.g. which field of which frame was malformed. */
PD_API const char *pd_client_last_error(const pd_client *client);
/* The session's WELCOME values ("" / 0 before the first WELCOME). */
PD_API const char *pd_client_user(const pd_client *client);
PD_API const char *pd_client_conn(const pd_client *client);

/* ---- requests ------------------------------------------------------------------------------- */
/* Each needs PD_STATE_CONNECTED, queues one frame and returns PD_OK or a pd_err; *rid (when rid is
 * not NULL) receives the request id that the reply event carries. Byte arguments with ptr NULL are
 * nil ("none"); a non-NULL ptr with len 0 is an empty value. Strings are NUL-terminated UTF-8. */

/* JOIN with optional meta and last will. The room is remembered and re-joined after reconnects
 * with since = (epoch, last offset), so missed messages are replayed when the server still has them. */
PD_API int pd_join(pd_client *client, const char *room, const void *meta, size_t meta_len,
                   const void *will, size_t will_len, uint32_t *rid);
/* LEAVE; the room is forgotten at once (and its will discarded by the server). */
PD_API int pd_leave(pd_client *client, const char *room, uint32_t *rid);
/* PUBLISH. rid == NULL publishes with rid 0: no OK, and errors are not reported. */
PD_API int pd_publish(pd_client *client, const char *room, const void *payload, size_t len, uint32_t *rid);
/* UPDATE this connection's meta in a joined room (meta NULL removes it); kept for re-joins. */
PD_API int pd_update(pd_client *client, const char *room, const void *meta, size_t meta_len, uint32_t *rid);
/* PRESENCE: at most `limit` members (limit < 0: the server's default) and the true total. */
PD_API int pd_presence(pd_client *client, const char *room, long limit, uint32_t *rid);
/* COUNT: connections and distinct users. */
PD_API int pd_count(pd_client *client, const char *room, uint32_t *rid);
/* ONLINE: which of users[0..count) have a live connection anywhere (at most 1000). */
PD_API int pd_online(pd_client *client, const char *const *users, size_t count, uint32_t *rid);
/* PING (the library sends its own heartbeats; this is for measuring round trips). */
PD_API int pd_ping(pd_client *client, uint32_t *rid);

#ifdef __cplusplus
}
#endif
#endif /* PRESENCED_H */
