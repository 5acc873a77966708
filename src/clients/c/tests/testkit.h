/* Test support: a tiny runner, a counting allocator, events as text lines, peers, the daemon. */
#ifndef PD_TESTKIT_H
#define PD_TESTKIT_H

#include "presenced.h"
#include "pd_internal.h"

#include <stdio.h>
#include <stddef.h>

/* ---- runner ---- */
extern int tk_failed; /* set by CHECK in the running test */
#define CHECK(cond)                                                                     \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            fprintf(stderr, "  %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);  \
            tk_failed = 1;                                                              \
        }                                                                               \
    } while (0)
#define REQUIRE(cond)                                                                   \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            fprintf(stderr, "  %s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond);\
            tk_failed = 1;                                                              \
            return;                                                                     \
        }                                                                               \
    } while (0)

typedef struct tk_test { const char *name; void (*fn)(void); } tk_test;
/* Runs the tests (argv[1], when given, is a substring filter), prints "N passed, N failed". */
int tk_run(const char *suite, const tk_test *tests, size_t count, int argc, char **argv);
uint64_t tk_now_ms(void);
void tk_sleep_ms(int ms);

/* ---- counting allocator: every test client uses one, and must give everything back ---- */
typedef struct tk_alloc {
    size_t live_bytes, live_blocks, peak_bytes, total_allocs;
    long fail_at;      /* > 0: that allocation (1-based) and every later one return NULL */
    int size_mismatch; /* free/realloc told a wrong size */
} tk_alloc;
pd_allocator tk_allocator(tk_alloc *state);

/* ---- text ---- */
void tk_hex(const uint8_t *data, size_t len, char *out, size_t cap);
size_t tk_unhex(const char *hex, uint8_t *out, size_t cap);
const char *tk_err_name(int err);
/* One canonical line per event (the interop test parses the same lines). */
void tk_event_text(const pd_event *ev, char *out, size_t cap);

/* ---- peers: a client with a log of its events as text ---- */
typedef struct tk_peer {
    pd_client *c;
    tk_alloc alloc;
    char name[64];
    char **lines;
    size_t count, cap;
    int verbose;
} tk_peer;
typedef void (*tk_tweak)(pd_options *o);
/* Creates, connects and waits for WELCOME (NULL on failure). port 0: the test daemon's. */
tk_peer *tk_peer_new(const char *user, int port, tk_tweak tweak);
tk_peer *tk_peer_new_unconnected(const char *user, int port, tk_tweak tweak);
/* Closes (BYE), frees, checks that the allocator got everything back. */
void tk_peer_free(tk_peer *p);
/* Polls every live peer for about ms. */
void tk_pump(int ms);
/* Waits until p logs a line holding every needle (NULL-terminated list); removes and returns it
 * (the caller frees it) or NULL after timeout_ms. Lines before it stay. */
char *tk_wait(tk_peer *p, int timeout_ms, ...);
/* Like tk_wait but without pumping for more: looks at what is logged already. */
int tk_seen(tk_peer *p, const char *needle);
void tk_clear(tk_peer *p);
void tk_dump(tk_peer *p);

/* ---- the daemon ---- */
typedef struct tk_daemon { int pid; int port; } tk_daemon;
extern tk_daemon tk_the_daemon;
int tk_free_port(void);
/* Starts PRESENCED_BIN on port (0: a free one) with the test settings; waits until it accepts. */
int tk_daemon_start(tk_daemon *d, int port);
void tk_daemon_kill(tk_daemon *d);      /* SIGKILL: what clients see when a server crashes */
void tk_daemon_terminate(tk_daemon *d); /* SIGTERM: a drain with GOAWAY SHUTDOWN */

/* ---- server frames for the codec tests and the fuzz seeds ---- */
typedef struct tk_frames { pd_buf *bodies; size_t count; } tk_frames;
/* Valid bodies of every server op (several encodings of some). Freed with tk_frames_free. */
void tk_frames_build(tk_frames *f);
void tk_frames_free(tk_frames *f);

#endif
