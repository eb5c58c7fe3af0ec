/*
 * Why this file exists: Debian's libgit2 is built against mbedTLS with a compiled-in CA
 * location, and git_libgit2_init() parses the whole system CA bundle
 * (/etc/ssl/certs/ca-certificates.crt) every time a process starts. Measured here:
 * ~7.5 ms of a ~8 ms init, which alone is four times a whole `git show REV:path`.
 *
 * Most commands read local repositories only, so the certificates are never used. Defining
 * mbedtls_x509_crt_parse_file in the executable interposes the definition libgit2 would take
 * from libmbedx509: the dynamic linker binds libgit2's call to this one (the executable exports
 * it: see Package.swift; libgit2 is loaded later, RTLD_GLOBAL, by libgit2_loader.c). Until a fetch from
 * an HTTPS remote enables it (gitkit_ca_bundle_enable), it loads nothing and reports a file
 * error, so TLS through libgit2 fails closed (no trusted CA), never open; once enabled it
 * hands every call to the real function.
 *
 * libgit2 is the only library in this process that links libmbedx509 (libcurl, loaded by the
 * probes, uses OpenSSL; Foundation its own), so nothing else is affected.
 */

#define _GNU_SOURCE
#include <dlfcn.h>
#include "GitKitSupport.h"

/* MBEDTLS_ERR_X509_FILE_IO_ERROR from <mbedtls/x509.h>, which the build does not need. */
#define GITKIT_X509_FILE_IO_ERROR (-0x2900)

static int skipped = 0;
static int enabled = 0;

struct mbedtls_x509_crt;
typedef int (*parse_file_fn)(struct mbedtls_x509_crt *, const char *);

__attribute__((visibility("default")))
int mbedtls_x509_crt_parse_file(struct mbedtls_x509_crt *chain, const char *path) {
    if (enabled) {
        parse_file_fn real = (parse_file_fn)dlsym(RTLD_NEXT, "mbedtls_x509_crt_parse_file");
        if (real) return real(chain, path);
    }
    skipped = 1;
    return GITKIT_X509_FILE_IO_ERROR;
}

void gitkit_ca_bundle_enable(void) {
    enabled = 1;
}

int gitkit_ca_bundle_skipped(void) {
    return skipped;
}
