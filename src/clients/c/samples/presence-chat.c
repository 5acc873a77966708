/* presence-chat: joins a room, prints presence and messages, sends the lines typed on stdin.
 *   presence-chat [HOST:PORT] USER ROOM
 * Lines starting with '/' are commands: /who, /count, /meta TEXT, /quit. End of input leaves.
 * It drives the client from its own poll() on stdin and the client's socket: the "engine poller"
 * way; a game loop would call pd_client_poll(client, 0) once per frame instead. POSIX only. */
#define _POSIX_C_SOURCE 200809L
#include "presenced.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct chat {
    const char *room;
    int quit;
} chat;

static void print_members(const char *prefix, const pd_member *m, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        printf("%s%s (%s)", prefix, m[i].user.ptr, m[i].conn.ptr);
        if (m[i].meta.ptr != NULL) printf(" [%.*s]", (int)m[i].meta.len, (const char *)m[i].meta.ptr);
        printf("\n");
    }
}

static void on_event(pd_client *c, const pd_event *ev, void *user)
{
    chat *ch = (chat *)user;
    uint32_t rid;
    switch (ev->type) {
    case PD_EV_WELCOME:
        printf("* connected as %s (conn %s) to node %s%s\n", ev->welcome.user.ptr, ev->welcome.conn.ptr,
               ev->welcome.node.ptr, ev->welcome.reconnected ? ", again" : "");
        if (!ev->welcome.reconnected) pd_join(c, ch->room, NULL, 0, NULL, 0, &rid); /* re-joins are automatic */
        break;
    case PD_EV_JOINED:
        printf("* %s %s: %ld member(s)%s\n", ev->joined.internal ? "re-joined" : "joined", ev->joined.room.ptr,
               (long)ev->joined.total, ev->joined.internal && !ev->joined.recovered ? " (messages may have been missed)" : "");
        print_members("    ", ev->joined.members, ev->joined.member_count);
        break;
    case PD_EV_PRESENCE_DIFF:
        print_members("* left: ", ev->presence_diff.leaves, ev->presence_diff.leave_count);
        print_members("* joined: ", ev->presence_diff.joins, ev->presence_diff.join_count);
        break;
    case PD_EV_MESSAGE:
        printf("<%s> %.*s\n", ev->message.from_user.ptr, (int)ev->message.payload.len, (const char *)ev->message.payload.ptr);
        break;
    case PD_EV_PRESENCE_STATE:
        printf("* %s: %ld member(s)\n", ev->presence_state.room.ptr, (long)ev->presence_state.total);
        print_members("    ", ev->presence_state.members, ev->presence_state.member_count);
        break;
    case PD_EV_COUNT_STATE:
        printf("* %s: %ld connection(s), %ld user(s)\n", ev->count_state.room.ptr, (long)ev->count_state.connections,
               (long)ev->count_state.users);
        break;
    case PD_EV_ERROR:
        printf("! %s refused: %s (%s)\n", pd_op_name(ev->error.request_op), pd_code_name(ev->error.code), ev->error.message.ptr);
        break;
    case PD_EV_GOAWAY:
        printf("! server says goodbye: %s (%s)\n", pd_code_name(ev->goaway.code), ev->goaway.message.ptr);
        break;
    case PD_EV_DISCONNECTED:
        printf("! disconnected: %s (%s)", pd_strerror(ev->disconnected.err), ev->disconnected.detail);
        if (ev->disconnected.will_reconnect) printf("; reconnecting in %lu ms\n", (unsigned long)ev->disconnected.retry_in_ms);
        else {
            printf("\n");
            ch->quit = 1;
        }
        break;
    case PD_EV_REQUEST_FAILED:
        printf("! %s got no reply: %s\n", pd_op_name(ev->request_failed.request_op), pd_strerror(ev->request_failed.err));
        break;
    default: break;
    }
    fflush(stdout);
}

static void on_line(pd_client *c, chat *ch, char *line)
{
    uint32_t rid;
    int rc = PD_OK;
    line[strcspn(line, "\r\n")] = '\0';
    if (line[0] == '\0') return;
    if (strcmp(line, "/quit") == 0) ch->quit = 1;
    else if (strcmp(line, "/who") == 0) rc = pd_presence(c, ch->room, -1, &rid);
    else if (strcmp(line, "/count") == 0) rc = pd_count(c, ch->room, &rid);
    else if (strncmp(line, "/meta ", 6) == 0) rc = pd_update(c, ch->room, line + 6, strlen(line + 6), &rid);
    else rc = pd_publish(c, ch->room, line, strlen(line), &rid);
    if (rc != PD_OK) printf("! not sent: %s\n", pd_strerror(rc));
}

int main(int argc, char **argv)
{
    pd_options o;
    pd_client *c;
    chat ch;
    char host[256] = "127.0.0.1", input[8192];
    size_t have = 0;
    int port = 7400, arg = 1, stdin_open = 1, rc;
    if (argc == 4) {
        const char *colon = strrchr(argv[1], ':');
        if (colon == NULL) { fprintf(stderr, "presence-chat: %s is not HOST:PORT\n", argv[1]); return 2; }
        snprintf(host, sizeof host, "%.*s", (int)(colon - argv[1]), argv[1]);
        port = atoi(colon + 1);
        arg = 2;
    } else if (argc != 3) {
        fprintf(stderr, "usage: presence-chat [HOST:PORT] USER ROOM\n");
        return 2;
    }
    ch.room = argv[arg + 1];
    ch.quit = 0;
    pd_options_init(&o);
    o.host = host;
    o.port = (uint16_t)port;
    o.credential = argv[arg];
    o.client_name = "presence-chat";
    o.on_event = on_event;
    o.user_data = &ch;
    if ((rc = pd_client_create(&o, &c)) != PD_OK) {
        fprintf(stderr, "presence-chat: %s\n", pd_strerror(rc));
        return 1;
    }
    pd_client_connect(c);
    while (!ch.quit) {
        struct pollfd p[2];
        int timeout = pd_client_timeout_ms(c), n = 0;
        p[n].fd = pd_client_socket(c);
        p[n].events = (short)(POLLIN | (pd_client_want_write(c) ? POLLOUT : 0));
        if (p[n].fd >= 0) n++;
        if (stdin_open) {
            p[n].fd = 0;
            p[n].events = POLLIN;
            n++;
        }
        if (poll(p, (nfds_t)n, timeout) < 0) break;
        if (stdin_open && (p[n - 1].revents & (POLLIN | POLLHUP))) {
            ssize_t got = read(0, input + have, sizeof input - have - 1);
            char *nl;
            if (got <= 0) {
                stdin_open = 0;
                ch.quit = 1; /* end of input: leave */
            } else {
                have += (size_t)got;
                input[have] = '\0';
                while ((nl = strchr(input, '\n')) != NULL) {
                    *nl = '\0';
                    on_line(c, &ch, input);
                    have -= (size_t)(nl + 1 - input);
                    memmove(input, nl + 1, have + 1);
                }
                if (have == sizeof input - 1) have = 0; /* an endless line: drop it */
            }
        }
        if (pd_client_poll(c, 0) < 0) break;
    }
    pd_client_poll(c, 200); /* replies to the last lines */
    pd_client_close(c, 1000);
    pd_client_free(c);
    printf("* bye\n");
    return 0;
}
