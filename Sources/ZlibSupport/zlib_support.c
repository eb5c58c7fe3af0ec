#include "ZlibSupport.h"
#include <zlib.h>

long zs_compress(const unsigned char *in, size_t length, unsigned char *out, size_t capacity) {
    uLongf written = (uLongf)capacity;
    if (compress2(out, &written, in, (uLong)length, 6) != Z_OK) return -1;
    return (long)written;
}

long zs_uncompress(const unsigned char *in, size_t length, unsigned char *out, size_t capacity) {
    uLongf written = (uLongf)capacity;
    if (uncompress(out, &written, in, (uLong)length) != Z_OK) return -1;
    return (long)written;
}

size_t zs_bound(size_t length) { return (size_t)compressBound((uLong)length); }
