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

/*
 * Inflates one zlib stream that starts at `in` (git's loose objects and pack entries; whatever
 * follows the stream is left alone). Returns the bytes written to `out`: at most `capacity`,
 * stopping there when the stream holds more (a loose object's header is read that way), or -1
 * on corrupt data. `*consumed` is set to the input bytes read.
 */
long zs_inflate(const unsigned char *in, size_t length, unsigned char *out, size_t capacity, size_t *consumed);

/*
 * Compresses the first `cap` bytes of the file at `path` a chunk at a time (memory stays at the
 * compressed size plus 64 KiB, whatever the log's size). On success returns 0 and sets `*out`
 * (free it with free()), `*out_length`, `*size` (bytes read) and `*truncated` (the file is longer).
 */
int zs_compress_file(const char *path, size_t cap, unsigned char **out, size_t *out_length, size_t *size, int *truncated);
#endif
