/* The C side of the interop test: joins ROOM as USER with META (hex), prints every event as one
 * canonical line (tests/event_text.c) on stdout, and obeys commands on stdin:
 *   publish HEX | update HEX | update - | quit
 * usage: interop_peer HOST:PORT USER ROOM META_HEX|- */
#define _POSIX_C_SOURCE 200809L
#include "testkit.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *room;
static uint8_t meta[4096];
static size_t meta_len;
static int has_meta;

static void on_event(pd_client *c, const pd_event *ev, void *user)
{
    char line[65536];
    uint32_t rid;
    (void)user;
    tk_event_text(ev, line, sizeof line);
    printf("%s\n", line);
    fflush(stdout);
    if (ev->type == PD_EV_WELCOME && !ev->welcome.reconnected)
        pd_join(c, room, has_meta ? meta : NULL, meta_len, NULL, 0, &rid);
}

static void command(pd_client *c, char *line, int *quit)
{
    static uint8_t bytes[65536];
    uint32_t rid;
    line[strcspn(line, "\r\n")] = '\0';
    if (strncmp(line, "publish ", 8) == 0) {
        size_t n = tk_unhex(line + 8, bytes, sizeof bytes);
        pd_publish(c, room, bytes, n, &rid);
    } else if (strcmp(line, "update -") == 0) {
        pd_update(c, room, NULL, 0, &rid);
    } else if (strncmp(line, "update ", 7) == 0) {
        size_t n = tk_unhex(line + 7, bytes, sizeof bytes);
        pd_update(c, room, n ? bytes : (const uint8_t *)"", n, &rid);
    } else if (strcmp(line, "quit") == 0) {
        *quit = 1;
    }
}

int main(int argc, char **argv)
{
    pd_options o;
    pd_client *c;
    char host[256], input[140000];
    size_t have = 0;
    int quit = 0, port;
    const char *colon;
    if (argc != 5 || (colon = strrchr(argv[1], ':')) == NULL) {
        fprintf(stderr, "usage: interop_peer HOST:PORT USER ROOM META_HEX|-\n");
        return 2;
    }
    snprintf(host, sizeof host, "%.*s", (int)(colon - argv[1]), argv[1]);
    port = atoi(colon + 1);
    room = argv[3];
    has_meta = strcmp(argv[4], "-") != 0;
    if (has_meta) meta_len = tk_unhex(argv[4], meta, sizeof meta);
    pd_options_init(&o);
    o.host = host;
    o.port = (uint16_t)port;
    o.credential = argv[2];
    o.client_name = "interop-c";
    o.on_event = on_event;
    if (pd_client_create(&o, &c) != PD_OK) return 1;
    pd_client_connect(c);
    while (!quit) {
        struct pollfd p[2];
        int timeout = pd_client_timeout_ms(c);
        p[0].fd = 0;
        p[0].events = POLLIN;
        p[1].fd = pd_client_socket(c);
        p[1].events = (short)(POLLIN | (pd_client_want_write(c) ? POLLOUT : 0));
        p[0].revents = p[1].revents = 0;
        if (poll(p, p[1].fd >= 0 ? 2 : 1, timeout < 0 ? 1000 : timeout) < 0) break;
        if (p[0].revents & (POLLIN | POLLHUP)) {
            ssize_t n = read(0, input + have, sizeof input - have - 1);
            char *nl;
            if (n <= 0) break;
            have += (size_t)n;
            input[have] = '\0';
            while ((nl = strchr(input, '\n')) != NULL) {
                *nl = '\0';
                command(c, input, &quit);
                have -= (size_t)(nl + 1 - input);
                memmove(input, nl + 1, have + 1);
            }
        }
        pd_client_poll(c, 0);
    }
    pd_client_close(c, 1000);
    pd_client_free(c);
    return 0;
}
