#define _GNU_SOURCE
#include "ProcessSupport.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

/*
 * A session opened through an OpenSSH ControlMaster's socket without an `ssh` process: the
 * client half of OpenSSH's multiplexing protocol (PROTOCOL.mux in OpenSSH's sources, version
 * 4). An `ssh` client spends ~6 ms of CPU starting (configuration, OpenSSL, libraries) to do
 * the same; on 20 hosts that is most of a no-op step's cost.
 *
 * Everything the child does after fork() is a system call on memory prepared before it: the
 * parent is multi-threaded, so the child may not allocate or take a lock.
 */

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

static void put_u32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24); p[1] = (unsigned char)(v >> 16); p[2] = (unsigned char)(v >> 8); p[3] = (unsigned char)v;
}

static uint32_t get_u32(const unsigned char *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static int write_all(int fd, const void *data, size_t size) {
    const char *p = data;
    while (size > 0) {
        ssize_t n = write(fd, p, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        p += n; size -= (size_t)n;
    }
    return 0;
}

static int read_all(int fd, void *data, size_t size) {
    char *p = data;
    while (size > 0) {
        ssize_t n = read(fd, p, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        p += n; size -= (size_t)n;
    }
    return 0;
}

/* One packet: its first `size` bytes in `body` (the rest read and dropped); its length, or -1
 * at the end of the stream or on a malformed length. */
static long read_packet(int sock, unsigned char *body, size_t size) {
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
static int send_fd(int sock, int fd) {
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
        ssize_t n = sendmsg(sock, &message, MSG_NOSIGNAL);
        if (n == 1) return 0;
        if (n < 0 && errno == EINTR) continue;
        return -1;
    }
}

static void say(const char *text) {
    size_t n = 0;
    while (text[n] != '\0') n++;
    (void)write_all(STDERR_FILENO, text, n);
}

/* Runs the prepared session request over the master at `address`, with this process's
 * descriptors 0-2 as the session's. Returns the remote command's exit status; -1 when no
 * session was opened (no master, or it refused): nothing ran, the caller may start `ssh`. */
static int mux_session(const struct sockaddr_un *address, const unsigned char *request, size_t request_size) {
    int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock < 0) return -1;
    if (connect(sock, (const struct sockaddr *)address, sizeof *address) != 0) { close(sock); return -1; }
    unsigned char hello[12], reply[512];
    put_u32(hello, 8); put_u32(hello + 4, MUX_MSG_HELLO); put_u32(hello + 8, MUX_VERSION);
    long n;
    if (write_all(sock, hello, sizeof hello) != 0 || (n = read_packet(sock, reply, sizeof reply)) < 8
        || get_u32(reply) != MUX_MSG_HELLO || get_u32(reply + 4) != MUX_VERSION) {
        close(sock);
        return -1;
    }
    /* Until the master has all three descriptors it opens nothing: a failure up to here
     * leaves no remote command started. */
    if (write_all(sock, request, request_size) != 0
        || send_fd(sock, STDIN_FILENO) != 0 || send_fd(sock, STDOUT_FILENO) != 0 || send_fd(sock, STDERR_FILENO) != 0) {
        close(sock);
        return -1;
    }
    int opened = 0, exited = 0, status = 255;
    while ((n = read_packet(sock, reply, sizeof reply)) >= 0) {
        if (n < 4) continue;
        uint32_t type = get_u32(reply);
        if (type == MUX_S_SESSION_OPENED) {
            opened = 1;
        } else if (type == MUX_S_EXIT_MESSAGE && n >= 12) {
            exited = 1;
            status = (int)(get_u32(reply + 8) & 0xff);
        } else if (!opened && (type == MUX_S_PERMISSION_DENIED || type == MUX_S_FAILURE)) {
            break;   /* e.g. the server's MaxSessions: ssh then makes a connection of its own */
        }
        /* After the exit message the master closes the socket once the output is written. */
    }
    close(sock);
    if (!opened) return -1;
    if (!exited) say("deployctl: the shared ssh connection closed before the remote command's exit status came\n");
    return status;
}

static void close_from(int lowest) {
#ifdef SYS_close_range
    if (syscall(SYS_close_range, (unsigned)lowest, ~0U, 0) == 0) return;
#endif
    long limit = sysconf(_SC_OPEN_MAX);
    for (long fd = lowest; fd < (limit > 0 ? limit : 4096); fd++) close((int)fd);
}

int ps_spawn_mux(const char *control_path, const char *remote_command,
                 const char *path, char *const argv[], char *const envp[], const char *cwd,
                 int stdin_fd, int stdout_fd, int stderr_fd, pid_t *pid) {
    if (stdout_fd < 0 || stderr_fd < 0) return EBADF;
    struct sockaddr_un address;
    memset(&address, 0, sizeof address);
    address.sun_family = AF_UNIX;
    size_t path_length = strlen(control_path), command_length = strlen(remote_command);
    if (path_length >= sizeof address.sun_path || command_length > 64 * 1024) {
        return ps_spawn(path, argv, envp, cwd, stdin_fd, stdout_fd, stderr_fd, pid);
    }
    memcpy(address.sun_path, control_path, path_length);

    /* MUX_C_NEW_SESSION: request id, reserved string, want-tty, X11, agent, subsystem (each
     * a word), escape character (none), terminal type, command; no environment (the script
     * on standard input carries it). */
    size_t body = 4 + 4 + 4 + 4 * 4 + 4 + 4 + 4 + command_length;
    size_t size = 4 + body;
    unsigned char *request = calloc(1, size);
    if (request == NULL) return ENOMEM;
    unsigned char *p = request;
    put_u32(p, (uint32_t)body); p += 4;
    put_u32(p, MUX_C_NEW_SESSION); p += 4;
    put_u32(p, 1); p += 4;              /* request id */
    p += 4;                             /* reserved: "" */
    p += 16;                            /* no tty, no X11, no agent, not a subsystem */
    put_u32(p, 0xffffffffu); p += 4;    /* no escape character */
    p += 4;                             /* terminal type: "" */
    put_u32(p, (uint32_t)command_length); p += 4;
    memcpy(p, remote_command, command_length);

    pid_t child = fork();
    if (child < 0) { int saved = errno; free(request); return saved; }
    if (child == 0) {
        /* As ps_spawn: a process group of its own, no blocked signals, default dispositions. */
        struct sigaction defaults;
        memset(&defaults, 0, sizeof defaults);
        defaults.sa_handler = SIG_DFL;
        int reset[] = {SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGPIPE, SIGCHLD, SIGUSR1, SIGUSR2};
        for (size_t i = 0; i < sizeof reset / sizeof reset[0]; i++) sigaction(reset[i], &defaults, NULL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        setpgid(0, 0);
        if (stdin_fd >= 0) dup2(stdin_fd, STDIN_FILENO); else close(STDIN_FILENO);
        dup2(stdout_fd, STDOUT_FILENO);
        dup2(stderr_fd, STDERR_FILENO);
        /* Without an exec, close-on-exec closes nothing: other steps' pipes must not stay
         * open here, or their readers would wait for this session to end. */
        close_from(3);
        if (cwd != NULL && chdir(cwd) != 0) _exit(127);
        int status = mux_session(&address, request, size);
        if (status >= 0) _exit(status);
        execve(path, argv, envp);
        _exit(127);
    }
    free(request);
    setpgid(child, child);   /* also here: a signal to the group right after this must reach it */
    *pid = child;
    return 0;
}
