#define _POSIX_C_SOURCE 200809L
#include "testkit.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int tk_failed;

uint64_t tk_now_ms(void) { return pd_sys_clock_ms(); }

void tk_sleep_ms(int ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

int tk_run(const char *suite, const tk_test *tests, size_t count, int argc, char **argv)
{
    size_t i;
    int passed = 0, failed = 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (i = 0; i < count; i++) {
        uint64_t start;
        if (argc > 1 && strstr(tests[i].name, argv[1]) == NULL) continue;
        tk_failed = 0;
        start = tk_now_ms();
        tests[i].fn();
        printf("%s %s.%s (%lu ms)\n", tk_failed ? "FAIL" : "ok  ", suite, tests[i].name, (unsigned long)(tk_now_ms() - start));
        if (tk_failed) failed++;
        else passed++;
    }
    printf("%s: %d passed, %d failed\n", suite, passed, failed);
    return failed == 0 ? 0 : 1;
}

/* ---- counting allocator ---- */
static void *tk_a_alloc(void *ctx, size_t size)
{
    tk_alloc *s = (tk_alloc *)ctx;
    void *p;
    s->total_allocs++;
    if (s->fail_at > 0 && (long)s->total_allocs >= s->fail_at) return NULL;
    p = malloc(size);
    if (p == NULL) return NULL;
    s->live_bytes += size;
    s->live_blocks++;
    if (s->live_bytes > s->peak_bytes) s->peak_bytes = s->live_bytes;
    return p;
}

static void tk_a_free(void *ctx, void *ptr, size_t size)
{
    tk_alloc *s = (tk_alloc *)ctx;
    if (size > s->live_bytes) s->size_mismatch = 1;
    else s->live_bytes -= size;
    s->live_blocks--;
    free(ptr);
}

static void *tk_a_realloc(void *ctx, void *ptr, size_t old_size, size_t new_size)
{
    tk_alloc *s = (tk_alloc *)ctx;
    void *p;
    s->total_allocs++;
    if (s->fail_at > 0 && (long)s->total_allocs >= s->fail_at) return NULL;
    if (old_size > s->live_bytes) s->size_mismatch = 1;
    p = realloc(ptr, new_size);
    if (p == NULL) return NULL;
    s->live_bytes = s->live_bytes - old_size + new_size;
    if (s->live_bytes > s->peak_bytes) s->peak_bytes = s->live_bytes;
    return p;
}

pd_allocator tk_allocator(tk_alloc *state)
{
    pd_allocator a;
    a.alloc = tk_a_alloc;
    a.realloc = tk_a_realloc;
    a.free = tk_a_free;
    a.ctx = state;
    return a;
}

/* ---- text ---- */
void tk_hex(const uint8_t *data, size_t len, char *out, size_t cap)
{
    static const char digits[] = "0123456789abcdef";
    size_t i, o = 0;
    for (i = 0; i < len && o + 2 < cap; i++) {
        out[o++] = digits[data[i] >> 4];
        out[o++] = digits[data[i] & 15];
    }
    if (cap > 0) out[o] = '\0';
}

size_t tk_unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (hex[0] && hex[1] && n < cap) {
        unsigned v;
        if (sscanf(hex, "%2x", &v) != 1) break;
        out[n++] = (uint8_t)v;
        hex += 2;
    }
    return n;
}

const char *tk_err_name(int err)
{
    switch (err) {
    case PD_OK: return "OK";
    case PD_ERR_NOMEM: return "NOMEM";
    case PD_ERR_INVALID: return "INVALID";
    case PD_ERR_NOT_CONNECTED: return "NOT_CONNECTED";
    case PD_ERR_TOO_LARGE: return "TOO_LARGE";
    case PD_ERR_BUFFER_FULL: return "BUFFER_FULL";
    case PD_ERR_RESOLVE: return "RESOLVE";
    case PD_ERR_CONNECT: return "CONNECT";
    case PD_ERR_IO: return "IO";
    case PD_ERR_CLOSED: return "CLOSED";
    case PD_ERR_PROTOCOL: return "PROTOCOL";
    case PD_ERR_FRAME_TOO_LARGE: return "FRAME_TOO_LARGE";
    case PD_ERR_TIMEOUT: return "TIMEOUT";
    case PD_ERR_GOAWAY: return "GOAWAY";
    case PD_ERR_REFUSED: return "REFUSED";
    case PD_ERR_DISCONNECTED: return "DISCONNECTED";
    case PD_ERR_DROPPED: return "DROPPED";
    case PD_ERR_CLOSED_BY_USER: return "CLOSED_BY_USER";
    default: return "?";
    }
}

/* ---- peers ---- */
#define TK_MAX_PEERS 64
static tk_peer *live[TK_MAX_PEERS];

static void record(pd_client *c, const pd_event *ev, void *user)
{
    tk_peer *p = (tk_peer *)user;
    char line[8192];
    (void)c;
    tk_event_text(ev, line, sizeof line);
    if (p->verbose) printf("    [%s] %s\n", p->name, line);
    if (p->count == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        char **grown = (char **)realloc(p->lines, cap * sizeof *grown);
        if (grown == NULL) return;
        p->lines = grown;
        p->cap = cap;
    }
    p->lines[p->count++] = strdup(line);
}

tk_peer *tk_peer_new_unconnected(const char *user, int port, tk_tweak tweak)
{
    tk_peer *p = (tk_peer *)calloc(1, sizeof *p);
    pd_options o;
    size_t i;
    snprintf(p->name, sizeof p->name, "%s", user);
    p->verbose = getenv("PD_TEST_VERBOSE") != NULL;
    pd_options_init(&o);
    o.port = (uint16_t)(port ? port : tk_the_daemon.port);
    o.credential = user;
    o.allocator = tk_allocator(&p->alloc);
    o.on_event = record;
    o.user_data = p;
    o.backoff_initial_ms = 100;
    o.backoff_max_ms = 1000;
    if (tweak) tweak(&o);
    if (pd_client_create(&o, &p->c) != PD_OK) {
        free(p);
        return NULL;
    }
    for (i = 0; i < TK_MAX_PEERS; i++)
        if (live[i] == NULL) { live[i] = p; break; }
    return p;
}

tk_peer *tk_peer_new(const char *user, int port, tk_tweak tweak)
{
    tk_peer *p = tk_peer_new_unconnected(user, port, tweak);
    char *line;
    if (p == NULL) return NULL;
    pd_client_connect(p->c);
    line = tk_wait(p, 5000, "WELCOME", NULL);
    if (line == NULL) {
        fprintf(stderr, "  peer %s: no WELCOME\n", user);
        tk_dump(p);
        tk_peer_free(p);
        return NULL;
    }
    free(line);
    return p;
}

void tk_clear(tk_peer *p)
{
    size_t i;
    for (i = 0; i < p->count; i++) free(p->lines[i]);
    p->count = 0;
}

void tk_dump(tk_peer *p)
{
    size_t i;
    fprintf(stderr, "  --- %s's events (%lu):\n", p->name, (unsigned long)p->count);
    for (i = 0; i < p->count; i++) fprintf(stderr, "    %s\n", p->lines[i]);
}

void tk_peer_free(tk_peer *p)
{
    size_t i;
    if (p == NULL) return;
    for (i = 0; i < TK_MAX_PEERS; i++)
        if (live[i] == p) live[i] = NULL;
    pd_client_close(p->c, 1000);
    pd_client_free(p->c);
    if (p->alloc.live_bytes != 0 || p->alloc.live_blocks != 0 || p->alloc.size_mismatch) {
        fprintf(stderr, "  peer %s: allocator not balanced: %lu bytes in %lu blocks, size mismatch %d\n", p->name,
                (unsigned long)p->alloc.live_bytes, (unsigned long)p->alloc.live_blocks, p->alloc.size_mismatch);
        tk_failed = 1;
    }
    tk_clear(p);
    free(p->lines);
    free(p);
}

void tk_pump(int ms)
{
    uint64_t until = tk_now_ms() + (uint64_t)ms;
    do {
        size_t i;
        for (i = 0; i < TK_MAX_PEERS; i++)
            if (live[i] != NULL) pd_client_poll(live[i]->c, 0);
        tk_sleep_ms(2);
    } while (tk_now_ms() < until);
}

static int matches(const char *line, const char *const *needles, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (strstr(line, needles[i]) == NULL) return 0;
    return 1;
}

char *tk_wait(tk_peer *p, int timeout_ms, ...)
{
    const char *needles[16];
    size_t n = 0, i;
    va_list args;
    uint64_t until = tk_now_ms() + (uint64_t)timeout_ms;
    va_start(args, timeout_ms);
    while (n < 16 && (needles[n] = va_arg(args, const char *)) != NULL) n++;
    va_end(args);
    for (;;) {
        for (i = 0; i < p->count; i++) {
            if (matches(p->lines[i], needles, n)) {
                char *line = p->lines[i];
                memmove(&p->lines[i], &p->lines[i + 1], (p->count - i - 1) * sizeof *p->lines);
                p->count--;
                return line;
            }
        }
        if (tk_now_ms() >= until) break;
        tk_pump(5);
    }
    fprintf(stderr, "  %s: no event with \"%s\"%s%s within %d ms\n", p->name, n ? needles[0] : "",
            n > 1 ? " and \"" : "", n > 1 ? needles[1] : "", timeout_ms);
    tk_dump(p);
    return NULL;
}

int tk_seen(tk_peer *p, const char *needle)
{
    size_t i;
    for (i = 0; i < p->count; i++)
        if (strstr(p->lines[i], needle) != NULL) return 1;
    return 0;
}
