#define _GNU_SOURCE
#include "ProcessSupport.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

int ps_spawn(const char *path, char *const argv[], char *const envp[], const char *cwd,
             int stdin_fd, int stdout_fd, int stderr_fd, pid_t *pid) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    int result = posix_spawn_file_actions_init(&actions);
    if (result != 0) return result;
    result = posix_spawnattr_init(&attributes);
    if (result != 0) { posix_spawn_file_actions_destroy(&actions); return result; }

    if (stdout_fd < 0 || stderr_fd < 0) result = EBADF;
    if (result == 0) {
        result = stdin_fd < 0 ? posix_spawn_file_actions_addclose(&actions, STDIN_FILENO)
                              : posix_spawn_file_actions_adddup2(&actions, stdin_fd, STDIN_FILENO);
    }
    if (result == 0) result = posix_spawn_file_actions_adddup2(&actions, stdout_fd, STDOUT_FILENO);
    if (result == 0) result = posix_spawn_file_actions_adddup2(&actions, stderr_fd, STDERR_FILENO);
    if (result == 0 && cwd != NULL) result = posix_spawn_file_actions_addchdir_np(&actions, cwd);
    if (result != 0) {
        posix_spawnattr_destroy(&attributes);
        posix_spawn_file_actions_destroy(&actions);
        return result;
    }

    sigset_t empty, defaults;
    sigemptyset(&empty);
    sigemptyset(&defaults);
    int reset[] = {SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGPIPE, SIGCHLD, SIGUSR1, SIGUSR2};
    for (size_t i = 0; i < sizeof reset / sizeof reset[0]; i++) sigaddset(&defaults, reset[i]);
    posix_spawnattr_setsigmask(&attributes, &empty);
    posix_spawnattr_setsigdefault(&attributes, &defaults);
    posix_spawnattr_setpgroup(&attributes, 0);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    result = posix_spawn(pid, path, &actions, &attributes, argv, envp);
    posix_spawnattr_destroy(&attributes);
    posix_spawn_file_actions_destroy(&actions);
    return result;
}

int ps_pidfd_open(pid_t pid) {
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}

/* Fields 3 (state), 5 (process group) and 22 (start time) of /proc/PID/stat; 0 when the
 * process does not exist. */
static int read_stat(pid_t pid, char *state, long *pgrp, unsigned long long *start) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *file = fopen(path, "re");
    if (file == NULL) return 0;
    char buffer[1024];
    size_t length = fread(buffer, 1, sizeof buffer - 1, file);
    fclose(file);
    buffer[length] = '\0';
    /* The command name (field 2) may hold spaces and parentheses: skip past the last ')'. */
    char *cursor = strrchr(buffer, ')');
    if (cursor == NULL) return 0;
    cursor++;
    int field = 2;
    char *saved = NULL;
    char *token = strtok_r(cursor, " ", &saved);
    while (token != NULL) {
        field++;
        if (field == 3 && state) *state = token[0];
        if (field == 5 && pgrp) *pgrp = strtol(token, NULL, 10);
        if (field == 22) { if (start) sscanf(token, "%llu", start); break; }
        token = strtok_r(NULL, " ", &saved);
    }
    return 1;
}

unsigned long long ps_process_start_time(pid_t pid) {
    unsigned long long start = 0;
    return read_stat(pid, NULL, NULL, &start) ? start : 0;
}

unsigned long long ps_process_alive(pid_t pid) {
    char state = '?';
    unsigned long long start = 0;
    if (!read_stat(pid, &state, NULL, &start)) return 0;
    return (state == 'Z' || state == 'X') ? 0 : start;
}

int ps_group_alive(pid_t pgrp) {
    DIR *proc = opendir("/proc");
    if (proc == NULL) return -1;
    int alive = 0;
    struct dirent *entry;
    while (!alive && (entry = readdir(proc)) != NULL) {
        char *end = NULL;
        long pid = strtol(entry->d_name, &end, 10);
        if (end == entry->d_name || *end != '\0' || pid <= 0) continue;
        char state = '?';
        long group = -1;
        if (read_stat((pid_t)pid, &state, &group, NULL) && group == pgrp && state != 'Z' && state != 'X') alive = 1;
    }
    closedir(proc);
    return alive;
}

int ps_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

int ps_memory_file(const char *data, size_t size) {
    int fd = memfd_create("deployctl-stdin", MFD_CLOEXEC);
    if (fd < 0) return -1;
    size_t written = 0;
    while (written < size) {
        ssize_t n = write(fd, data + written, size - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) { int saved = errno; close(fd); errno = saved; return -1; }
        written += (size_t)n;
    }
    if (lseek(fd, 0, SEEK_SET) != 0) { int saved = errno; close(fd); errno = saved; return -1; }
    return fd;
}

int ps_pipe_holding(const char *data, size_t size, int fds[2]) {
    if (pipe2(fds, O_CLOEXEC) != 0) return errno;
    int capacity = fcntl(fds[1], F_GETPIPE_SZ);
    if (capacity >= 0 && (size_t)capacity < size && size <= INT_MAX) {
        int grown = fcntl(fds[1], F_SETPIPE_SZ, (int)size);
        if (grown > capacity) capacity = grown;
    }
    fcntl(fds[1], F_SETFL, O_NONBLOCK);
    size_t written = 0;
    while (written < size) {
        ssize_t n = write(fds[1], data + written, size - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            int saved = (n < 0 && errno != EAGAIN) ? errno : EFBIG;
            close(fds[0]); close(fds[1]);
            return saved;
        }
        written += (size_t)n;
    }
    return 0;
}
