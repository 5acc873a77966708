/* The real daemon as a child process on a loopback port, for the tests (PRESENCED_BIN). */
#define _POSIX_C_SOURCE 200809L
#include "testkit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

tk_daemon tk_the_daemon;

int tk_free_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int s = socket(AF_INET, SOCK_STREAM, 0), port = 0;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(s, (struct sockaddr *)&a, &len) == 0) port = ntohs(a.sin_port);
    close(s);
    return port;
}

static int accepts(int port)
{
    struct sockaddr_in a;
    int s = socket(AF_INET, SOCK_STREAM, 0), ok;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = connect(s, (struct sockaddr *)&a, sizeof a) == 0;
    close(s);
    return ok;
}

int tk_daemon_start(tk_daemon *d, int port)
{
    const char *bin = getenv("PRESENCED_BIN");
    char port_text[16], log_path[256];
    char *argv[32];
    int argc = 0, status;
    pid_t pid;
    uint64_t until;
    posix_spawn_file_actions_t files;
    if (bin == NULL || access(bin, X_OK) != 0) {
        fprintf(stderr, "PRESENCED_BIN is not set to the built daemon (dotnet build PresenceD.sln -c Release): %s\n",
                bin ? bin : "(unset)");
        return -1;
    }
    d->port = port ? port : tk_free_port();
    snprintf(port_text, sizeof port_text, "%d", d->port);
    snprintf(log_path, sizeof log_path, "/tmp/presenced-ctest-%d.log", d->port);
    argv[argc++] = (char *)bin;
    argv[argc++] = "--port"; argv[argc++] = port_text;
    argv[argc++] = "--bind"; argv[argc++] = "127.0.0.1";
    argv[argc++] = "--history_rooms"; argv[argc++] = "h-*";
    argv[argc++] = "--heartbeat_interval"; argv[argc++] = "1s";
    argv[argc++] = "--heartbeat_timeout"; argv[argc++] = "3s";
    argv[argc++] = "--drain_timeout"; argv[argc++] = "1s";
    argv[argc++] = "--log_level"; argv[argc++] = "warning";
    argv[argc] = NULL;
    posix_spawn_file_actions_init(&files);
    posix_spawn_file_actions_addopen(&files, 1, log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&files, 1, 2);
    posix_spawn_file_actions_addopen(&files, 0, "/dev/null", O_RDONLY, 0);
    status = posix_spawn(&pid, bin, &files, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&files);
    if (status != 0) {
        fprintf(stderr, "cannot start %s: %s\n", bin, strerror(status));
        return -1;
    }
    d->pid = (int)pid;
    until = tk_now_ms() + 30000;
    while (tk_now_ms() < until) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            fprintf(stderr, "presenced exited during start (log: %s)\n", log_path);
            d->pid = 0;
            return -1;
        }
        if (accepts(d->port)) return 0;
        tk_sleep_ms(50);
    }
    fprintf(stderr, "presenced did not listen on %d within 30 s\n", d->port);
    tk_daemon_kill(d);
    return -1;
}

static void reap(tk_daemon *d, int timeout_ms)
{
    uint64_t until = tk_now_ms() + (uint64_t)timeout_ms;
    int status;
    while (tk_now_ms() < until) {
        if (waitpid((pid_t)d->pid, &status, WNOHANG) == (pid_t)d->pid) { d->pid = 0; return; }
        tk_sleep_ms(20);
    }
    kill((pid_t)d->pid, SIGKILL);
    waitpid((pid_t)d->pid, &status, 0);
    d->pid = 0;
}

void tk_daemon_kill(tk_daemon *d)
{
    if (d->pid <= 0) return;
    kill((pid_t)d->pid, SIGKILL);
    reap(d, 10000);
}

void tk_daemon_terminate(tk_daemon *d)
{
    if (d->pid <= 0) return;
    kill((pid_t)d->pid, SIGTERM);
    reap(d, 15000);
}
