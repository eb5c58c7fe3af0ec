#define _GNU_SOURCE
#include "ProcessSupport.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

/*
 * A session opened through an OpenSSH ControlMaster's socket without an `ssh` process: the
 * client half of OpenSSH's multiplexing protocol (PROTOCOL.mux in OpenSSH's sources, version
 * 4). An `ssh` client spends ~6 ms of CPU starting (configuration, OpenSSL, libraries) to do
 * the same; on 20 hosts that is most of a no-op step's cost.
 *
 * The session is held by a child process, so that it has a pid and a process group like any
 * step: timeouts and Ctrl-C signal it, and `resume` sees it still running after deployctl is
 * killed. On x86_64 the child shares deployctl's memory (clone with CLONE_VM, as posix_spawn
 * does, without its pause of the parent): a fork copies the page tables of a large process and
 * makes every page the parent writes next fault, ~1.4 ms of CPU a session here. Sharing memory
 * means the child makes raw system calls only: no libc call that could write errno (it lives
 * in the parent thread's storage), allocate or lock. Elsewhere it is a plain fork.
 *
 * Known costs of sharing: a child outliving a killed deployctl keeps its memory until the
 * remote command ends; the OOM killer takes deployctl and its children together; on kernels
 * before 5.16 a crash of deployctl kills the children too (resume then sees nothing running,
 * as after a crash of the whole machine). A session that the master closes between queueing
 * the command and confirming it could run twice (the fallback starts ssh): the master would
 * have to die in that instant.
 */

/* What runs in the child: no instrumentation that keeps state in the parent thread's storage
 * (the fuzz build's coverage and stack-depth counters, sanitizers, the stack canary). */
#define CHILD_CODE static __attribute__((no_stack_protector, no_sanitize("address", "thread", "undefined", "coverage")))

#if defined(__x86_64__)
#define MUX_SHARES_MEMORY 1
CHILD_CODE long sys6(long n, long a, long b, long c, long d, long e, long f) {
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long result;
    __asm__ volatile("syscall" : "=a"(result) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9) : "rcx", "r11", "memory");
    return result;
}
#else
#define MUX_SHARES_MEMORY 0
CHILD_CODE long sys6(long n, long a, long b, long c, long d, long e, long f) {
    long result = syscall(n, a, b, c, d, e, f);
    return result < 0 ? -errno : result;
}
#endif
/* Each returns the result, or -errno. */
#define SYS(n, a, b, c) sys6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)

/* Where the child keeps its copy of HOLD_FD (the writer of the session's standard input). */
#define HOLD_FD 3

enum {
    MUX_MSG_HELLO = 0x00000001,
    MUX_C_NEW_SESSION = 0x10000002,
    MUX_S_PERMISSION_DENIED = 0x80000002,
    MUX_S_FAILURE = 0x80000003,
    MUX_S_EXIT_MESSAGE = 0x80000004,
    MUX_S_SESSION_OPENED = 0x80000006,
    MUX_VERSION = 4,
    /* A master's replies are a few words; anything longer is not one. */
    MUX_MAX_PACKET = 256 * 1024,
};

CHILD_CODE void put_u32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24); p[1] = (unsigned char)(v >> 16); p[2] = (unsigned char)(v >> 8); p[3] = (unsigned char)v;
}

CHILD_CODE uint32_t get_u32(const unsigned char *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

/* To the master's socket: never SIGPIPE (the child's dispositions are the defaults). */
CHILD_CODE int send_all(int sock, const void *data, size_t size) {
    const char *p = data;
    while (size > 0) {
        long n = sys6(SYS_sendto, sock, (long)p, (long)size, MSG_NOSIGNAL, 0, 0);
        if (n == -EINTR) continue;
        if (n <= 0) return -1;
        p += n; size -= (size_t)n;
    }
    return 0;
}

CHILD_CODE int read_all(int fd, void *data, size_t size) {
    char *p = data;
    while (size > 0) {
        long n = SYS(SYS_read, fd, p, size);
        if (n == -EINTR) continue;
        if (n <= 0) return -1;
        p += n; size -= (size_t)n;
    }
    return 0;
}

/* One packet: its first `size` bytes in `body` (the rest read and dropped); its length, or -1
 * at the end of the stream or on a malformed length. */
CHILD_CODE long read_packet(int sock, unsigned char *body, size_t size) {
    unsigned char header[4];
    if (read_all(sock, header, 4) != 0) return -1;
    uint32_t length = get_u32(header);
    if (length > MUX_MAX_PACKET) return -1;
    size_t kept = length < size ? length : size;
    if (read_all(sock, body, kept) != 0) return -1;
    unsigned char skip[256];
    for (size_t left = length - kept; left > 0;) {
        size_t n = left < sizeof skip ? left : sizeof skip;
        if (read_all(sock, skip, n) != 0) return -1;
        left -= n;
    }
    return (long)length;
}

/* Hands `fd` to the master (SCM_RIGHTS, with the one byte of data the protocol sends). */
CHILD_CODE int send_fd(int sock, int fd) {
    char byte = 0;
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union { struct cmsghdr header; char space[CMSG_SPACE(sizeof(int))]; } control;
    memset(&control, 0, sizeof control);
    struct msghdr message = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.space, .msg_controllen = sizeof control.space};
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&message);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &fd, sizeof fd);
    for (;;) {
        long n = SYS(SYS_sendmsg, sock, &message, MSG_NOSIGNAL);
        if (n == 1) return 0;
        if (n == -EINTR) continue;
        return -1;
    }
}

CHILD_CODE void say(const char *text) {
    size_t n = 0;
    while (text[n] != '\0') n++;
    (void)SYS(SYS_write, STDERR_FILENO, text, n);
}

/* Runs the prepared session request over the master at `address`, with this process's
 * descriptors 0-2 as the session's. Returns the remote command's exit status; -1 when no
 * session was opened (no master, or it refused): nothing ran, the caller may start `ssh`. */
CHILD_CODE int mux_session(const struct sockaddr_un *address, const unsigned char *request, size_t request_size, int stop_fd) {
    int sock = (int)SYS(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock < 0) return -1;
    if (SYS(SYS_connect, sock, address, sizeof *address) != 0) { SYS(SYS_close, sock, 0, 0); return -1; }
    unsigned char hello[12], reply[512];
    put_u32(hello, 8); put_u32(hello + 4, MUX_MSG_HELLO); put_u32(hello + 8, MUX_VERSION);
    long n;
    if (send_all(sock, hello, sizeof hello) != 0 || (n = read_packet(sock, reply, sizeof reply)) < 8
        || get_u32(reply) != MUX_MSG_HELLO || get_u32(reply + 4) != MUX_VERSION) {
        SYS(SYS_close, sock, 0, 0);
        return -1;
    }
    /* Stopped already (SIGTERM waits in the signalfd): open nothing. The caller then unblocks
     * SIGTERM on its way to exec ssh, and it ends this process there. */
    if (stop_fd >= 0) {
        struct pollfd pending = {.fd = stop_fd, .events = POLLIN};
        struct timespec now = {0, 0};
        if (sys6(SYS_ppoll, (long)&pending, 1, (long)&now, 0, 8, 0) > 0) { SYS(SYS_close, sock, 0, 0); return -1; }
    }
    /* Until the master has all three descriptors it opens nothing: a failure up to here
     * leaves no remote command started. */
    if (send_all(sock, request, request_size) != 0
        || send_fd(sock, STDIN_FILENO) != 0 || send_fd(sock, STDOUT_FILENO) != 0 || send_fd(sock, STDERR_FILENO) != 0) {
        SYS(SYS_close, sock, 0, 0);
        return -1;
    }
    int opened = 0, exited = 0, status = 255;
    for (;;) {
        /* SIGTERM (a timeout, a cancellation) closes HOLD_FD, the last writer of the remote
         * command's standard input: its wrapper on the host stops it (see ps_spawn_mux). The
         * session then ends as the command does, and this process with it. */
        while (stop_fd >= 0) {
            struct pollfd watched[2] = {{.fd = sock, .events = POLLIN}, {.fd = stop_fd, .events = POLLIN}};
            long ready = sys6(SYS_ppoll, (long)watched, 2, 0, 0, 8, 0);
            if (ready == -EINTR) continue;
            if (ready < 0) {   /* cannot watch: keep the writer (only SIGKILL ends this now) */
                SYS(SYS_close, stop_fd, 0, 0);
                stop_fd = -1;
                break;
            }
            if (watched[1].revents != 0) {
                SYS(SYS_close, HOLD_FD, 0, 0);
                SYS(SYS_close, stop_fd, 0, 0);
                stop_fd = -1;
            }
            if (watched[0].revents != 0) break;
        }
        if ((n = read_packet(sock, reply, sizeof reply)) < 0) break;
        if (n < 4) continue;
        uint32_t type = get_u32(reply);
        if (type == MUX_S_SESSION_OPENED) {
            opened = 1;
        } else if (type == MUX_S_EXIT_MESSAGE && n >= 12) {
            exited = 1;
            status = (int)(get_u32(reply + 8) & 0xff);
        } else if (!opened && (type == MUX_S_PERMISSION_DENIED || type == MUX_S_FAILURE)) {
            break;   /* e.g. the server's MaxSessions reached: the ssh argv runs instead */
        }
        /* After the exit message the master closes the socket once the output is written. */
    }
    SYS(SYS_close, sock, 0, 0);
    if (!opened) return -1;
    if (!exited) say("deployctl: the shared ssh connection closed before the remote command's exit status came (the command may have died of a signal, or the connection dropped)\n");
    return status;
}

/* What the child needs, in memory the parent keeps until the child is reaped (with CLONE_VM the
 * child reads it from there; after a fork, from its own copy). */
struct mux_child {
    struct sockaddr_un address;
    unsigned char *request;
    size_t request_size;
    const char *path, *cwd;
    char **argv, **envp;
    int stdin_fd, stdout_fd, stderr_fd, hold_fd;
    size_t mapped;
};

CHILD_CODE int mux_child_main(void *argument) {
    const struct mux_child *c = argument;
    /* As ps_spawn: default dispositions (no handler of the parent's may run here), no blocked
     * signal, a process group of its own. */
    struct { void *handler; unsigned long flags; void *restorer; unsigned long mask; } defaults = {0};
    for (long signal = 1; signal < 65; signal++) {
        if (signal != SIGKILL && signal != SIGSTOP) sys6(SYS_rt_sigaction, signal, (long)&defaults, 0, 8, 0, 0);
    }
    unsigned long none = 0, term = 1UL << (SIGTERM - 1);
    /* Holding the writer: SIGTERM is read from a signalfd instead of ending this process. */
    sys6(SYS_rt_sigprocmask, SIG_SETMASK, (long)(c->hold_fd >= 0 ? &term : &none), 0, 8, 0, 0);
    SYS(SYS_setpgid, 0, 0, 0);
    int from[4] = {c->stdin_fd, c->stdout_fd, c->stderr_fd, c->hold_fd};
    int kept = c->hold_fd >= 0 ? 4 : 3;
    for (int fd = 0; fd < kept; fd++) {
        if (from[fd] != fd) SYS(SYS_dup3, from[fd], fd, 0);
        else SYS(SYS_fcntl, fd, F_SETFD, 0);   /* already in place: only keep it across an exec */
    }
    /* Without an exec, close-on-exec closes nothing: other steps' pipes must not stay open here,
     * or their readers would wait for this session to end. */
    if (SYS(SYS_close_range, kept, ~0U, 0) != 0) {
        for (long fd = kept; fd < 65536; fd++) SYS(SYS_close, fd, 0, 0);
    }
    if (c->cwd != NULL && SYS(SYS_chdir, c->cwd, 0, 0) != 0) {
        say("deployctl: cannot enter the step's directory "); say(c->cwd); say("\n");
        SYS(SYS_exit_group, 127, 0, 0);
    }
    int stop_fd = c->hold_fd >= 0 ? (int)sys6(SYS_signalfd4, -1, (long)&term, 8, SFD_CLOEXEC, 0, 0) : -1;
    if (c->hold_fd >= 0 && stop_fd < 0) sys6(SYS_rt_sigprocmask, SIG_SETMASK, (long)&none, 0, 8, 0, 0);
    int status = mux_session(&c->address, c->request, c->request_size, stop_fd);
    if (status < 0) {
        /* ssh instead: SIGTERM ends it again (one already pending ends it here), and ssh closes
         * HOLD_FD itself: the caller's copy of the writer is the one that counts then. */
        sys6(SYS_rt_sigprocmask, SIG_SETMASK, (long)&none, 0, 8, 0, 0);
        SYS(SYS_execve, c->path, c->argv, c->envp);
        say("deployctl: cannot start "); say(c->path); say(" (the host's connection is not up, so ssh opens it)\n");
    }
    SYS(SYS_exit_group, status < 0 ? 127 : status, 0, 0);
    return 127;
}

/* Copies `strings` (NULL-terminated) into `*cursor`, advancing it; returns the copy. */
static char **copy_strings(char *const strings[], char **cursor) {
    size_t count = 0;
    while (strings[count] != NULL) count++;
    char **copy = (char **)*cursor;
    *cursor += (count + 1) * sizeof(char *);
    for (size_t i = 0; i < count; i++) {
        size_t length = strlen(strings[i]) + 1;
        memcpy(*cursor, strings[i], length);
        copy[i] = *cursor;
        *cursor += length;
    }
    copy[count] = NULL;
    return copy;
}

static size_t strings_size(char *const strings[]) {
    size_t size = sizeof(char *);
    for (size_t i = 0; strings[i] != NULL; i++) size += sizeof(char *) + strlen(strings[i]) + 1;
    return size;
}

enum { MUX_CHILD_STACK = 128 * 1024 };

int ps_spawn_mux(const char *control_path, const char *remote_command,
                 const char *path, char *const argv[], char *const envp[], const char *cwd,
                 int stdin_fd, int stdout_fd, int stderr_fd, int hold_fd, pid_t *pid, void **resources) {
    *resources = NULL;
    if (stdout_fd < 0 || stderr_fd < 0) return EBADF;
    /* The master needs a standard input to hand the session (a closed one would make the
     * control socket descriptor 0): without one, ssh itself. */
    if (stdin_fd < 0) return ps_spawn(path, argv, envp, cwd, stdin_fd, stdout_fd, stderr_fd, pid);
    size_t path_length = strlen(control_path), command_length = strlen(remote_command);
    if (path_length >= sizeof(((struct sockaddr_un *)0)->sun_path) || command_length > 64 * 1024) {
        return ps_spawn(path, argv, envp, cwd, stdin_fd, stdout_fd, stderr_fd, pid);
    }
    /* MUX_C_NEW_SESSION: request id, reserved string, want-tty, X11, agent, subsystem (each
     * a word), escape character (none), terminal type, command; no environment (the script
     * on standard input carries it). */
    size_t body = 4 + 4 + 4 + 4 * 4 + 4 + 4 + 4 + command_length;
    size_t request_size = 4 + body;

    /* One mapping: a guard page, the child's stack, then what it reads. */
    long page = sysconf(_SC_PAGESIZE);
    size_t data = sizeof(struct mux_child) + request_size + strlen(path) + 1 + (cwd ? strlen(cwd) + 1 : 0)
                  + strings_size(argv) + strings_size(envp) + 64;   /* 64: the alignments */
    size_t mapped = (size_t)page + MUX_CHILD_STACK + ((data + (size_t)page - 1) / (size_t)page) * (size_t)page;
    char *region = mmap(NULL, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED) return errno;
    mprotect(region, (size_t)page, PROT_NONE);
    char *stack_top = region + page + MUX_CHILD_STACK;
    struct mux_child *c = (struct mux_child *)stack_top;
    char *cursor = stack_top + ((sizeof *c + 15) & ~(size_t)15);
    memset(c, 0, sizeof *c);
    c->mapped = mapped;
    c->address.sun_family = AF_UNIX;
    memcpy(c->address.sun_path, control_path, path_length);
    c->request = (unsigned char *)cursor;
    cursor += request_size;
    unsigned char *p = c->request;
    put_u32(p, (uint32_t)body); p += 4;
    put_u32(p, MUX_C_NEW_SESSION); p += 4;
    put_u32(p, 1); p += 4;              /* request id */
    p += 4;                             /* reserved: "" */
    p += 16;                            /* no tty, no X11, no agent, not a subsystem */
    put_u32(p, 0xffffffffu); p += 4;    /* no escape character */
    p += 4;                             /* terminal type: "" */
    put_u32(p, (uint32_t)command_length); p += 4;
    memcpy(p, remote_command, command_length);
    c->request_size = request_size;
    c->path = strcpy(cursor, path);
    cursor += strlen(path) + 1;
    if (cwd != NULL) { c->cwd = strcpy(cursor, cwd); cursor += strlen(cwd) + 1; }
    cursor = (char *)(((uintptr_t)cursor + 7) & ~(uintptr_t)7);
    c->argv = copy_strings(argv, &cursor);
    cursor = (char *)(((uintptr_t)cursor + 7) & ~(uintptr_t)7);
    c->envp = copy_strings(envp, &cursor);
    c->stdin_fd = stdin_fd; c->stdout_fd = stdout_fd; c->stderr_fd = stderr_fd; c->hold_fd = hold_fd;

    /* No signal handler of the parent's may run in the child before it resets them: every
     * signal blocked around clone, glibc's internal ones too (which pthread_sigmask leaves). */
    unsigned long all = ~0UL, previous = 0;
    sys6(SYS_rt_sigprocmask, SIG_SETMASK, (long)&all, (long)&previous, 8, 0, 0);
#if MUX_SHARES_MEMORY
    pid_t child = clone(mux_child_main, (void *)((uintptr_t)stack_top & ~(uintptr_t)15), CLONE_VM | SIGCHLD, c);
#else
    pid_t child = fork();
    if (child == 0) mux_child_main(c);
#endif
    int saved = errno;
    sys6(SYS_rt_sigprocmask, SIG_SETMASK, (long)&previous, 0, 8, 0, 0);
    if (child < 0) { munmap(region, mapped); return saved; }
    setpgid(child, child);   /* also here: a signal to the group right after this must reach it */
    *pid = child;
    *resources = region;
    return 0;
}

void ps_spawn_mux_release(void *resources) {
    if (resources == NULL) return;
    long page = sysconf(_SC_PAGESIZE);
    const struct mux_child *c = (const struct mux_child *)((char *)resources + page + MUX_CHILD_STACK);
    munmap(resources, c->mapped);
}
