/*
 * Why this file exists: Debian's libgit2 is built against mbedTLS with a compiled-in CA
 * location, and git_libgit2_init() parses the whole system CA bundle
 * (/etc/ssl/certs/ca-certificates.crt) every time a process starts. Measured here:
 * ~7.5 ms of a ~8 ms init, which alone is four times a whole `git show REV:path`.
 *
 * GitKit only ever reads local repositories (no fetch, no push, no HTTPS transport), so
 * the certificates are never used. Defining mbedtls_x509_crt_parse_file in the executable
 * interposes the definition libgit2 would take from libmbedx509: the dynamic linker binds
 * libgit2's call to this one. It loads nothing and reports a file error, so if anything
 * in the process ever did try TLS through libgit2, it would fail closed (no trusted CA),
 * never open.
 *
 * libgit2 is the only library in this process that links libmbedx509 (libcurl, loaded by the
 * probes, uses OpenSSL; Foundation its own), so nothing else is affected.
 */

#include "GitKitSupport.h"

/* MBEDTLS_ERR_X509_FILE_IO_ERROR from <mbedtls/x509.h>, which the build does not need. */
#define GITKIT_X509_FILE_IO_ERROR (-0x2900)

static int skipped = 0;

struct mbedtls_x509_crt;

__attribute__((visibility("default")))
int mbedtls_x509_crt_parse_file(struct mbedtls_x509_crt *chain, const char *path) {
    (void)chain;
    (void)path;
    skipped = 1;
    return GITKIT_X509_FILE_IO_ERROR;
}

int gitkit_ca_bundle_skipped(void) {
    return skipped;
}
