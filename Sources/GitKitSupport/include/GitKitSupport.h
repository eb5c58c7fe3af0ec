#ifndef DEPLOYCTL_GITKIT_SUPPORT_H
#define DEPLOYCTL_GITKIT_SUPPORT_H

/*
 * Loads libgit2 (see libgit2_loader.c) once per process. 0 when it is usable; otherwise -1
 * and `error` says why. No other libgit2 function may be called before it returned 0.
 */
int gitkit_load(char *error, int error_size);

/*
 * Returns 1 when this process's libgit2 skips its CA bundle at start-up (see
 * no_ca_bundle.c), 0 otherwise. GitKit reads it only so the decision is visible in tests.
 */
int gitkit_ca_bundle_skipped(void);

/* From now on the interposer hands CA parsing to the real mbedTLS (an HTTPS fetch needs it). */
void gitkit_ca_bundle_enable(void);

/* git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, file, NULL): variadic, so not callable from Swift. */
int gitkit_set_ca_file(const char *file);

#endif
