#ifndef ZLIB_SUPPORT_H
#define ZLIB_SUPPORT_H
#include <stddef.h>
/*
 * Whole-buffer zlib, for step logs kept in the shared store. libz is already in every
 * deployctl process (libgit2 links it), so this costs no start-up time.
 */
/* Bytes written to `out` (at most `capacity`), or -1. */
long zs_compress(const unsigned char *in, size_t length, unsigned char *out, size_t capacity);
/* Bytes written to `out` (at most `capacity`), or -1 (corrupt, or larger than `capacity`). */
long zs_uncompress(const unsigned char *in, size_t length, unsigned char *out, size_t capacity);
size_t zs_bound(size_t length);
#endif
