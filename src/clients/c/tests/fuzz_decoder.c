/* Fuzz test of the decoder. Two targets: pd_decode_frame on one body (in an exact-size copy, so a
 * read past the end is a sanitizer error), and a client's whole receive path (framing, decoding,
 * the session's reaction) fed a stream of frames. With PD_LIBFUZZER it is a libFuzzer target;
 * otherwise a seeded mutation loop over valid frames of every op, bounded in time:
 * PD_FUZZ_SECONDS (default 20), PD_FUZZ_SEED (default 1). */
#define _POSIX_C_SOURCE 200809L
#include "testkit.h"
#include "pd_client.h"

#include <stdlib.h>
#include <string.h>

static tk_alloc decode_state, client_state;
static pd_allocator decode_alloc;
static pd_arena arena;
static pd_client *client;
static unsigned long events, errors;

static void setup(void)
{
    pd_options o;
    decode_alloc = tk_allocator(&decode_state);
    pd_arena_init(&arena, &decode_alloc);
    pd_options_init(&o);
    o.credential = "fuzz";
    o.auto_reconnect = 0;
    o.max_server_frame = 1u << 20;
    o.allocator = tk_allocator(&client_state);
    if (pd_client_create(&o, &client) != PD_OK) abort();
}

static void decode_one(const uint8_t *data, size_t size)
{
    pd_event ev;
    char err[256];
    uint8_t *exact = (uint8_t *)malloc(size ? size : 1);
    memcpy(exact, data, size);
    if (pd_decode_frame(exact, size, &arena, &ev, err, sizeof err) != PD_OK) errors++;
    free(exact);
    pd_arena_reset(&arena);
}

static void feed_stream(const uint8_t *data, size_t size)
{
    pd_event ev;
    int guard = 0;
    (void)pd__test_feed(client, data, size);
    while (guard++ < 10000 && pd_client_next_event(client, &ev) == 1) events++;
}

#ifdef PD_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *framed;
    if (client == NULL) setup();
    decode_one(data, size);
    framed = (uint8_t *)malloc(size + 4);
    framed[0] = (uint8_t)(size >> 24);
    framed[1] = (uint8_t)(size >> 16);
    framed[2] = (uint8_t)(size >> 8);
    framed[3] = (uint8_t)size;
    memcpy(framed + 4, data, size);
    feed_stream(framed, size + 4);
    free(framed);
    return 0;
}
#else

static uint64_t rng;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static size_t below(size_t n) { return n == 0 ? 0 : (size_t)(next() % n); }

#define MAX_INPUT 8192
static const uint8_t interesting[] = {0x00, 0x01, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4,
                                      0xc5, 0xc6, 0xc7, 0xca, 0xcb, 0xcc, 0xcf, 0xd0, 0xd3, 0xd4, 0xd8, 0xd9, 0xdb, 0xdc,
                                      0xdd, 0xde, 0xdf, 0xe0, 0xff};

static size_t mutate(uint8_t *buf, size_t len, const tk_frames *seeds)
{
    int rounds = 1, i;
    while (rounds < 8 && below(2) == 0) rounds++; /* mostly one or two: deep enough to stay near valid */
    for (i = 0; i < rounds; i++) {
        size_t at = below(len ? len : 1);
        switch (below(9)) {
        case 0: if (len) buf[at] ^= (uint8_t)(1u << below(8)); break;
        case 1: if (len) buf[at] = interesting[below(sizeof interesting)]; break;
        case 2: if (len) buf[at] = (uint8_t)next(); break;
        case 3: /* insert */
            if (len < MAX_INPUT) {
                memmove(buf + at + 1, buf + at, len - at);
                buf[at] = interesting[below(sizeof interesting)];
                len++;
            }
            break;
        case 4: /* delete */
            if (len) {
                memmove(buf + at, buf + at + 1, len - at - 1);
                len--;
            }
            break;
        case 5: len = below(len + 1); break; /* truncate */
        case 6: /* a big 32-bit value (counts, lengths) */
            if (len >= 4) {
                static const uint32_t big[] = {0xffffffffu, 0x7fffffffu, 0x00010000u, 0x0000ffffu, 0x00000100u};
                uint32_t v = big[below(5)];
                at = below(len - 3);
                buf[at] = (uint8_t)(v >> 24); buf[at + 1] = (uint8_t)(v >> 16);
                buf[at + 2] = (uint8_t)(v >> 8); buf[at + 3] = (uint8_t)v;
            }
            break;
        case 7: { /* duplicate a slice */
            size_t from = below(len ? len : 1), n = below(len - from + 1);
            if (len + n <= MAX_INPUT && n > 0) {
                memmove(buf + at + n, buf + at, len - at);
                memmove(buf + at, buf + (from < at ? from : from + n), n);
                len += n;
            }
            break;
        }
        default: { /* splice the tail of another seed */
            const pd_buf *other = &seeds->bodies[below(seeds->count)];
            size_t from = below(other->len), n = other->len - from;
            if (at + n <= MAX_INPUT) {
                memcpy(buf + at, other->data + from, n);
                len = at + n;
            }
            break;
        }
        }
    }
    return len;
}

int main(void)
{
    const char *seconds_text = getenv("PD_FUZZ_SECONDS"), *seed_text = getenv("PD_FUZZ_SEED");
    double seconds = seconds_text ? atof(seconds_text) : 20.0;
    uint64_t start = tk_now_ms(), until, elapsed;
    unsigned long iterations = 0;
    static uint8_t buf[MAX_INPUT * 2], stream[MAX_INPUT * 4 + 64];
    tk_frames seeds;
    int failed = 0;
    rng = seed_text ? strtoull(seed_text, NULL, 10) : 1;
    if (rng == 0) rng = 1;
    until = start + (uint64_t)(seconds * 1000.0);
    setup();
    tk_frames_build(&seeds);
    do {
        int k;
        for (k = 0; k < 256; k++, iterations++) {
            const pd_buf *seed = &seeds.bodies[below(seeds.count)];
            size_t len;
            memcpy(buf, seed->data, seed->len);
            len = mutate(buf, seed->len, &seeds);
            decode_one(buf, len);
            if ((iterations & 3) == 0) {
                /* a stream: 1..4 frames, mostly with true length prefixes */
                size_t s = 0;
                int frames = 1 + (int)below(4), j;
                for (j = 0; j < frames && s + len + 4 <= sizeof stream; j++) {
                    uint32_t n = (uint32_t)len;
                    if (below(16) == 0) n = (uint32_t)next();
                    stream[s++] = (uint8_t)(n >> 24); stream[s++] = (uint8_t)(n >> 16);
                    stream[s++] = (uint8_t)(n >> 8); stream[s++] = (uint8_t)n;
                    memcpy(stream + s, buf, len);
                    s += len;
                }
                feed_stream(stream, below(8) == 0 ? below(s + 1) : s);
            }
        }
    } while (tk_now_ms() < until);
    elapsed = tk_now_ms() - start;
    pd_arena_free(&arena);
    pd_client_free(client);
    tk_frames_free(&seeds);
    if (decode_state.live_bytes != 0 || client_state.live_bytes != 0 || decode_state.size_mismatch || client_state.size_mismatch) {
        fprintf(stderr, "fuzz: memory not given back (decoder %lu, client %lu bytes)\n", (unsigned long)decode_state.live_bytes,
                (unsigned long)client_state.live_bytes);
        failed = 1;
    }
    printf("fuzz: %lu inputs in %.1f s (%.0f/s), %lu rejected, %lu client events, seed %s\n", iterations,
           (double)elapsed / 1000.0, (double)iterations * 1000.0 / (double)(elapsed ? elapsed : 1), errors, events,
           seed_text ? seed_text : "1");
    fflush(stderr);
    printf("%s fuzz.decoder_and_receive_path\n", failed ? "FAIL" : "ok  ");
    printf("fuzz: %d passed, %d failed\n", failed ? 0 : 1, failed);
    return failed;
}
#endif
