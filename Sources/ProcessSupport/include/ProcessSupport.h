#ifndef DEPLOYCTL_PROCESS_SUPPORT_H
#define DEPLOYCTL_PROCESS_SUPPORT_H

#include <sys/types.h>

#ifndef __linux__
#error "deployctl builds and is tested on Linux only: it supervises steps through /proc and pidfds"
#endif

/*
 * Starts `path` with `argv` and `envp` in a new process group of its own (so a timeout or a
 * Ctrl-C can signal the step and everything it started), with an empty signal mask and
 * default signal dispositions (so SIGTERM reaches it even when deployctl blocks signals),
 * stdin/stdout/stderr on the given descriptors (stdin -1: closed, as CI may start a program)
 * and `cwd` as its directory (NULL: inherit).
 * Returns 0 and sets *pid, or an errno value.
 */
int ps_spawn(const char *path, char *const argv[], char *const envp[], const char *cwd,
             int stdin_fd, int stdout_fd, int stderr_fd, pid_t *pid);

/*
 * As ps_spawn, but the process first tries to open the session through the OpenSSH
 * ControlMaster listening on `control_path`, running `remote_command` on the host with the
 * process's stdin/stdout/stderr and exiting with its status (255 when the connection ends
 * without one, as ssh does). When no master answers or it refuses the session (nothing has
 * run then), the process becomes `path` with `argv` (ssh itself) instead. `*resources` holds
 * what the child reads: give it to ps_spawn_mux_release once the child is reaped, not before.
 * `hold_fd` (-1: none) is the writing end of a pipe that is the session's standard input: the
 * child keeps a copy while the session lasts and closes it on SIGTERM instead of dying, so the
 * host reads end-of-file when the step is stopped (or the child killed), not when deployctl
 * alone dies. The caller closes its own copy as it stops the step.
 */
int ps_spawn_mux(const char *control_path, const char *remote_command,
                 const char *path, char *const argv[], char *const envp[], const char *cwd,
                 int stdin_fd, int stdout_fd, int stderr_fd, int hold_fd, pid_t *pid, void **resources);
void ps_spawn_mux_release(void *resources);

/* pidfd_open(2): a descriptor that becomes readable when the process exits; -1 if unsupported. */
int ps_pidfd_open(pid_t pid);

/* The start time of a process (field 22 of /proc/PID/stat), or 0 when it does not exist.
 * With the pid it names a process uniquely, even after the pid is reused. */
unsigned long long ps_process_start_time(pid_t pid);

/* The start time of a process that can still run (not a zombie waiting to be reaped), or 0:
 * a killed process whose parent never reaps it (init in some containers) is not alive. */
unsigned long long ps_process_alive(pid_t pid);

/* 1 when some process of the group can still run (a zombie cannot), 0 when none can,
 * -1 when /proc cannot be read. */
int ps_group_alive(pid_t pgrp);

/* pipe2(fds, O_CLOEXEC), which needs _GNU_SOURCE. */
int ps_pipe_cloexec(int fds[2]);

/* A close-on-exec anonymous file in memory (memfd) holding `data`, read from its start: a
 * step's standard input. Nothing touches a disk and nothing is left behind when every process
 * holding it is gone, however it ends. -1 with errno on failure. */
int ps_memory_file(const char *data, size_t size);

/* A pipe (both ends close-on-exec, the writer non-blocking) already holding `data`, grown to hold
 * it when it can (Linux lets anyone grow a pipe to 1 MiB): a standard input whose end-of-file
 * the caller decides. 0, or an errno value (EFBIG: `data` does not fit). */
int ps_pipe_holding(const char *data, size_t size, int fds[2]);

#endif
