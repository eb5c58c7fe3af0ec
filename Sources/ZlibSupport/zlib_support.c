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

long zs_inflate(const unsigned char *in, size_t length, unsigned char *out, size_t capacity, size_t *consumed) {
    z_stream stream = {0};
    if (inflateInit(&stream) != Z_OK) return -1;
    size_t written = 0, read = 0;
    int result = Z_OK;
    /* avail_in/avail_out are 32-bit: feed large buffers a window at a time. */
    while (result == Z_OK) {
        if (stream.avail_in == 0 && read < length) {
            size_t window = length - read > (1u << 30) ? (1u << 30) : length - read;
            stream.next_in = (unsigned char *)in + read;
            stream.avail_in = (uInt)window;
            read += window;
        }
        if (stream.avail_out == 0) {
            if (written >= capacity) break;
            size_t window = capacity - written > (1u << 30) ? (1u << 30) : capacity - written;
            stream.next_out = out + written;
            stream.avail_out = (uInt)window;
        }
        uInt before = stream.avail_out;
        result = inflate(&stream, Z_NO_FLUSH);
        written += before - stream.avail_out;
        if (result == Z_BUF_ERROR && stream.avail_in == 0 && read >= length) break;  /* truncated input */
        if (result == Z_BUF_ERROR && stream.avail_out == 0) result = Z_OK;
    }
    size_t unread = stream.avail_in;
    inflateEnd(&stream);
    if (result != Z_STREAM_END && !(result == Z_OK && written >= capacity)) return -1;
    *consumed = read - unread;
    return (long)written;
}

#include <stdio.h>
#include <stdlib.h>

int zs_compress_file(const char *path, size_t cap, unsigned char **out, size_t *out_length, size_t *size, int *truncated) {
    FILE *file = fopen(path, "rb");
    if (file == NULL) return -1;
    z_stream stream = {0};
    if (deflateInit(&stream, 6) != Z_OK) { fclose(file); return -1; }
    enum { CHUNK = 64 << 10 };
    unsigned char *chunk = malloc(CHUNK);  /* not static: parallel steps finish together */
    size_t capacity = 64 << 10, length = 0, read_total = 0;
    unsigned char *buffer = malloc(capacity);
    int failed = buffer == NULL || chunk == NULL;
    while (!failed) {
        size_t want = cap - read_total < CHUNK ? cap - read_total : CHUNK;
        size_t got = want ? fread(chunk, 1, want, file) : 0;
        read_total += got;
        int finish = got < want || read_total >= cap;
        stream.next_in = chunk;
        stream.avail_in = (uInt)got;
        int result;
        do {
            if (capacity - length < (16 << 10)) {
                unsigned char *grown = realloc(buffer, capacity * 2);
                if (grown == NULL) { failed = 1; break; }
                buffer = grown;
                capacity *= 2;
            }
            stream.next_out = buffer + length;
            stream.avail_out = (uInt)(capacity - length);
            result = deflate(&stream, finish ? Z_FINISH : Z_NO_FLUSH);
            if (result == Z_STREAM_ERROR) { failed = 1; break; }
            length = (size_t)(stream.next_out - buffer);
        } while (stream.avail_in > 0 || (finish && result != Z_STREAM_END));
        if (finish) break;
    }
    int more = !failed && fgetc(file) != EOF;
    free(chunk);
    deflateEnd(&stream);
    fclose(file);
    if (failed) { free(buffer); return -1; }
    *out = buffer;
    *out_length = length;
    *size = read_total;
    *truncated = more;
    return 0;
}
