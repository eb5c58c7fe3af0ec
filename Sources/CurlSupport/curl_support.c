#define CURL_DISABLE_TYPECHECK 1
#include "CurlSupport.h"
#include <arpa/inet.h>
#include <curl/curl.h>
#include <dlfcn.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One pointer per libcurl function, typed from curl.h. */
static struct {
    __typeof__(&curl_global_init) global_init;
    __typeof__(&curl_easy_init) easy_init;
    __typeof__(&curl_easy_setopt) easy_setopt;
    __typeof__(&curl_easy_perform) easy_perform;
    __typeof__(&curl_easy_getinfo) easy_getinfo;
    __typeof__(&curl_easy_cleanup) easy_cleanup;
    __typeof__(&curl_easy_strerror) easy_strerror;
    __typeof__(&curl_slist_append) slist_append;
    __typeof__(&curl_slist_free_all) slist_free_all;
    __typeof__(&curl_multi_init) multi_init;
    __typeof__(&curl_multi_add_handle) multi_add_handle;
    __typeof__(&curl_multi_remove_handle) multi_remove_handle;
    __typeof__(&curl_multi_perform) multi_perform;
    __typeof__(&curl_multi_poll) multi_poll;
    __typeof__(&curl_multi_info_read) multi_info_read;
    __typeof__(&curl_multi_cleanup) multi_cleanup;
} cu;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char load_error[512];
static int loaded = -1;

#define BIND(table, handle, field, symbol, library)                                           \
    do {                                                                                      \
        *(void **)(&table.field) = dlsym(handle, #symbol);                                     \
        if (table.field == NULL) {                                                            \
            snprintf(load_error, sizeof load_error, "%s has no %s", library, #symbol);          \
            return;                                                                           \
        }                                                                                     \
    } while (0)

static void load(void) {
    void *handle = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        const char *why = dlerror();
        snprintf(load_error, sizeof load_error, "cannot load libcurl.so.4 (install libcurl4): %s", why ? why : "unknown error");
        return;
    }
    BIND(cu, handle, global_init, curl_global_init, "libcurl.so.4");
    BIND(cu, handle, easy_init, curl_easy_init, "libcurl.so.4");
    BIND(cu, handle, easy_setopt, curl_easy_setopt, "libcurl.so.4");
    BIND(cu, handle, easy_perform, curl_easy_perform, "libcurl.so.4");
    BIND(cu, handle, easy_getinfo, curl_easy_getinfo, "libcurl.so.4");
    BIND(cu, handle, easy_cleanup, curl_easy_cleanup, "libcurl.so.4");
    BIND(cu, handle, easy_strerror, curl_easy_strerror, "libcurl.so.4");
    BIND(cu, handle, slist_append, curl_slist_append, "libcurl.so.4");
    BIND(cu, handle, slist_free_all, curl_slist_free_all, "libcurl.so.4");
    BIND(cu, handle, multi_init, curl_multi_init, "libcurl.so.4");
    BIND(cu, handle, multi_add_handle, curl_multi_add_handle, "libcurl.so.4");
    BIND(cu, handle, multi_remove_handle, curl_multi_remove_handle, "libcurl.so.4");
    BIND(cu, handle, multi_perform, curl_multi_perform, "libcurl.so.4");
    BIND(cu, handle, multi_poll, curl_multi_poll, "libcurl.so.4");
    BIND(cu, handle, multi_info_read, curl_multi_info_read, "libcurl.so.4");
    BIND(cu, handle, multi_cleanup, curl_multi_cleanup, "libcurl.so.4");
    /* Not thread-safe: done here, once, before any handle exists. */
    if (cu.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(load_error, sizeof load_error, "curl_global_init failed");
        return;
    }
    loaded = 0;
}

int cs_load(char *error, int error_size) {
    pthread_once(&once, load);
    if (loaded != 0 && error != NULL && error_size > 0) snprintf(error, (size_t)error_size, "%s", load_error);
    return loaded;
}

/* ---- one transfer: an easy handle and what it collects ---- */

typedef struct buffer {
    char *data;
    size_t size, capacity, limit;
    int keep;       /* 0: count bytes only */
    int overflow;
} buffer;

static int buffer_append(buffer *b, const char *data, size_t n) {
    if (b->size + n > b->limit) { b->overflow = 1; return 0; }
    if (b->keep) {
        if (b->size + n + 1 > b->capacity) {
            size_t capacity = b->capacity ? b->capacity : 4096;
            while (capacity < b->size + n + 1) capacity *= 2;
            char *grown = realloc(b->data, capacity);
            if (grown == NULL) return 0;
            b->data = grown;
            b->capacity = capacity;
        }
        memcpy(b->data + b->size, data, n);
        b->data[b->size + n] = 0;
    }
    b->size += n;
    return 1;
}

static void buffer_reset(buffer *b) { b->size = 0; b->overflow = 0; }

/* Hands the collected bytes over (the buffer starts empty again). */
static char *buffer_take(buffer *b, size_t *size) {
    char *data = b->data;
    *size = b->keep ? b->size : 0;
    b->data = NULL;
    b->size = b->capacity = 0;
    b->overflow = 0;
    return data;
}

struct cs_session {
    CURL *easy;
    struct curl_slist *headers, *connect_to;
    buffer body, head;
    char error[CURL_ERROR_SIZE];
};

static size_t on_body(char *data, size_t size, size_t count, void *user) {
    buffer *b = user;
    return buffer_append(b, data, size * count) ? size * count : 0;
}

/* A status line starts a new response (a redirect, a 100 Continue): keep only the last. */
static size_t on_header(char *data, size_t size, size_t count, void *user) {
    buffer *b = user;
    size_t n = size * count;
    if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) buffer_reset(b);
    return buffer_append(b, data, n) ? n : 0;
}

static void configure(cs_session *s, const cs_request *r) {
    CURL *e = s->easy;
    cu.easy_setopt(e, CURLOPT_URL, r->url);
    cu.easy_setopt(e, CURLOPT_ERRORBUFFER, s->error);
    cu.easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    cu.easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    cu.easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    cu.easy_setopt(e, CURLOPT_FOLLOWLOCATION, r->follow_redirects ? 1L : 0L);
    cu.easy_setopt(e, CURLOPT_MAXREDIRS, 10L);
    cu.easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, r->timeout_ms);
    cu.easy_setopt(e, CURLOPT_TIMEOUT_MS, r->timeout_ms);
    cu.easy_setopt(e, CURLOPT_SSL_VERIFYPEER, r->verify_peer ? 1L : 0L);
    cu.easy_setopt(e, CURLOPT_SSL_VERIFYHOST, r->verify_host ? 2L : 0L);
    if (r->ca_file != NULL) {
        /* The extra file and the system's roots both: CAINFO alone would replace them. */
        cu.easy_setopt(e, CURLOPT_CAINFO, r->ca_file);
        cu.easy_setopt(e, CURLOPT_CAPATH, "/etc/ssl/certs");
    }
    if (r->connect_to != NULL) {
        s->connect_to = cu.slist_append(NULL, r->connect_to);
        cu.easy_setopt(e, CURLOPT_CONNECT_TO, s->connect_to);
    }
    if (r->connect_only) {
        cu.easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
        /* The chain as PEM, kept after the handshake (CURLINFO_TLS_SSL_PTR is gone by then). */
        cu.easy_setopt(e, CURLOPT_CERTINFO, 1L);
        return;
    }
    /* Every encoding libcurl decodes; the body limit applies to the decoded bytes. */
    cu.easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    cu.easy_setopt(e, CURLOPT_USERAGENT, "deployctl");
    /* No "Expect: 100-continue" pause before a larger body. */
    s->headers = cu.slist_append(NULL, "Expect:");
    for (int i = 0; i < r->header_count; i++) s->headers = cu.slist_append(s->headers, r->headers[i]);
    cu.easy_setopt(e, CURLOPT_HTTPHEADER, s->headers);
    const char *method = r->method ? r->method : "GET";
    if (r->body != NULL) {
        cu.easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_size);
        cu.easy_setopt(e, CURLOPT_COPYPOSTFIELDS, r->body);
        if (strcmp(method, "POST") != 0) cu.easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    } else if (strcmp(method, "HEAD") == 0) {
        cu.easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "GET") != 0) {
        cu.easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    }
    s->body.limit = r->body_limit;
    s->head.limit = 256 << 10;
    cu.easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    cu.easy_setopt(e, CURLOPT_WRITEDATA, &s->body);
    cu.easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    cu.easy_setopt(e, CURLOPT_HEADERDATA, &s->head);
}

static void session_destroy(cs_session *s) {
    if (s == NULL) return;
    if (s->easy) cu.easy_cleanup(s->easy);
    if (s->headers) cu.slist_free_all(s->headers);
    if (s->connect_to) cu.slist_free_all(s->connect_to);
    free(s->body.data);
    free(s->head.data);
    free(s);
}

cs_session *cs_session_new(const cs_request *request, char *error, int error_size) {
    if (cs_load(error, error_size) != 0) return NULL;
    cs_session *s = calloc(1, sizeof *s);
    if (s == NULL || (s->easy = cu.easy_init()) == NULL) {
        snprintf(error, (size_t)error_size, "curl_easy_init failed");
        session_destroy(s);
        return NULL;
    }
    s->body.keep = 1;
    s->head.keep = 1;
    configure(s, request);
    return s;
}

void cs_session_free(cs_session *session) { session_destroy(session); }

void cs_answer_free(cs_answer *answer) {
    free(answer->headers);
    free(answer->body);
    answer->headers = answer->body = NULL;
    answer->headers_size = answer->body_size = 0;
}

static double ms(curl_off_t microseconds) { return (double)microseconds / 1000.0; }

static int classify(CURLcode code, const cs_session *s) {
    switch (code) {
    case CURLE_OK: return CS_OK;
    case CURLE_OPERATION_TIMEDOUT: return CS_TIMEOUT;
    case CURLE_COULDNT_RESOLVE_HOST: case CURLE_COULDNT_RESOLVE_PROXY: case CURLE_COULDNT_CONNECT:
        return CS_CONNECT;
    case CURLE_SSL_CONNECT_ERROR: case CURLE_PEER_FAILED_VERIFICATION: case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER: case CURLE_SSL_CACERT_BADFILE: case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH: case CURLE_SSL_INVALIDCERTSTATUS: case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CRL_BADFILE: case CURLE_SSL_SHUTDOWN_FAILED:
        return CS_TLS;
    case CURLE_WRITE_ERROR:
        return s->body.overflow ? CS_TOO_LARGE : CS_OTHER;
    default: return CS_OTHER;
    }
}

/* Fills `a` from a finished transfer; keep_output hands the headers and body over. */
static void finish(cs_session *s, CURLcode code, cs_answer *a, int keep_output) {
    memset(a, 0, sizeof *a);
    a->failure = classify(code, s);
    if (code != CURLE_OK) {
        const char *text = s->error[0] ? s->error : cu.easy_strerror(code);
        if (a->failure == CS_TOO_LARGE) text = "the answer's body is larger than the limit";
        snprintf(a->error, sizeof a->error, "%s", text);
    }
    cu.easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &a->status);
    curl_off_t lookup = 0, connect = 0, tls = 0, pre = 0, first = 0, total = 0;
    cu.easy_getinfo(s->easy, CURLINFO_NAMELOOKUP_TIME_T, &lookup);
    cu.easy_getinfo(s->easy, CURLINFO_CONNECT_TIME_T, &connect);
    cu.easy_getinfo(s->easy, CURLINFO_APPCONNECT_TIME_T, &tls);
    cu.easy_getinfo(s->easy, CURLINFO_PRETRANSFER_TIME_T, &pre);
    cu.easy_getinfo(s->easy, CURLINFO_STARTTRANSFER_TIME_T, &first);
    cu.easy_getinfo(s->easy, CURLINFO_TOTAL_TIME_T, &total);
    /* libcurl's times are cumulative from the start; a reused connection reports 0 for its steps. */
    a->dns_ms = ms(lookup);
    a->connect_ms = connect > lookup ? ms(connect - lookup) : 0;
    a->tls_ms = tls > connect ? ms(tls - connect) : 0;
    a->first_byte_ms = first > pre ? ms(first - pre) : 0;
    a->total_ms = ms(total);
    if (keep_output) {
        a->headers = buffer_take(&s->head, &a->headers_size);
        a->body = buffer_take(&s->body, &a->body_size);
    }
    buffer_reset(&s->head);
    buffer_reset(&s->body);
    s->error[0] = 0;
}

int cs_session_perform(cs_session *session, cs_answer *answer) {
    session->error[0] = 0;
    CURLcode code = cu.easy_perform(session->easy);
    finish(session, code, answer, 1);
    return answer->failure;
}

int cs_perform_many(const cs_request *request, int samples, int concurrency, cs_answer *answers,
                    const int *cancel, char *error, int error_size) {
    if (cs_load(error, error_size) != 0) return -1;
    if (concurrency > samples) concurrency = samples;
    if (concurrency < 1) return 0;
    CURLM *multi = cu.multi_init();
    cs_session **pool = calloc((size_t)concurrency, sizeof *pool);
    int started = 0, completed = 0, running = 0;
    if (multi == NULL || pool == NULL) {
        snprintf(error, (size_t)error_size, "curl_multi_init failed");
        goto done;
    }
    for (int i = 0; i < concurrency; i++) {
        pool[i] = cs_session_new(request, error, error_size);
        if (pool[i] == NULL) goto done;
        cu.easy_setopt(pool[i]->easy, CURLOPT_PRIVATE, pool[i]);
        cu.multi_add_handle(multi, pool[i]->easy);
        started++;
    }
    while (completed < started && !__atomic_load_n(cancel, __ATOMIC_RELAXED)) {
        cu.multi_perform(multi, &running);
        CURLMsg *message;
        int left;
        while ((message = cu.multi_info_read(multi, &left)) != NULL) {
            if (message->msg != CURLMSG_DONE) continue;
            CURL *easy = message->easy_handle;
            CURLcode code = message->data.result;
            cs_session *s = NULL;
            cu.easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&s);
            cu.multi_remove_handle(multi, easy);
            finish(s, code, &answers[completed], completed == 0);
            completed++;
            /* Only the first answer's headers and body are looked at: count the others' bytes. */
            s->body.keep = 0;
            s->head.keep = 0;
            if (started < samples && !__atomic_load_n(cancel, __ATOMIC_RELAXED)) {
                cu.multi_add_handle(multi, easy);
                started++;
            }
        }
        if (completed < started) {
            int ready = 0;
            cu.multi_poll(multi, NULL, 0, 50, &ready);
        }
    }
done:
    if (pool != NULL) {
        for (int i = 0; i < concurrency; i++) {
            if (pool[i] != NULL && multi != NULL) cu.multi_remove_handle(multi, pool[i]->easy);
            session_destroy(pool[i]);
        }
        free(pool);
    }
    if (multi != NULL) cu.multi_cleanup(multi);
    return completed;
}

void cs_cancel(int *flag) { __atomic_store_n(flag, 1, __ATOMIC_RELAXED); }
int cs_cancelled(const int *flag) { return __atomic_load_n(flag, __ATOMIC_RELAXED); }

/* ---- the leaf certificate, from the PEM libcurl kept, read with its OpenSSL ---- */

static struct {
    __typeof__(&BIO_new_mem_buf) bio_new_mem_buf;
    __typeof__(&BIO_free) bio_free;
    __typeof__(&PEM_read_bio_X509) pem_read_x509;
    __typeof__(&X509_free) x509_free;
    __typeof__(&X509_get0_notAfter) get0_not_after;
    __typeof__(&ASN1_TIME_to_tm) asn1_time_to_tm;
    __typeof__(&X509_get_ext_d2i) get_ext_d2i;
    __typeof__(&OPENSSL_sk_num) sk_num;
    __typeof__(&OPENSSL_sk_value) sk_value;
    __typeof__(&GENERAL_NAMES_free) general_names_free;
    __typeof__(&ASN1_STRING_get0_data) string_data;
    __typeof__(&ASN1_STRING_length) string_length;
    __typeof__(&X509_get_subject_name) subject_name;
    __typeof__(&X509_NAME_get_text_by_NID) name_text;
} ossl;

static pthread_once_t ossl_once = PTHREAD_ONCE_INIT;
static int ossl_loaded = -1;

static void load_openssl(void) {
    void *crypto = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);
    if (crypto == NULL) {
        snprintf(load_error, sizeof load_error, "cannot load OpenSSL 3's libcrypto.so.3 (install libssl3)");
        return;
    }
    BIND(ossl, crypto, bio_new_mem_buf, BIO_new_mem_buf, "libcrypto.so.3");
    BIND(ossl, crypto, bio_free, BIO_free, "libcrypto.so.3");
    BIND(ossl, crypto, pem_read_x509, PEM_read_bio_X509, "libcrypto.so.3");
    BIND(ossl, crypto, x509_free, X509_free, "libcrypto.so.3");
    BIND(ossl, crypto, get0_not_after, X509_get0_notAfter, "libcrypto.so.3");
    BIND(ossl, crypto, asn1_time_to_tm, ASN1_TIME_to_tm, "libcrypto.so.3");
    BIND(ossl, crypto, get_ext_d2i, X509_get_ext_d2i, "libcrypto.so.3");
    BIND(ossl, crypto, sk_num, OPENSSL_sk_num, "libcrypto.so.3");
    BIND(ossl, crypto, sk_value, OPENSSL_sk_value, "libcrypto.so.3");
    BIND(ossl, crypto, general_names_free, GENERAL_NAMES_free, "libcrypto.so.3");
    BIND(ossl, crypto, string_data, ASN1_STRING_get0_data, "libcrypto.so.3");
    BIND(ossl, crypto, string_length, ASN1_STRING_length, "libcrypto.so.3");
    BIND(ossl, crypto, subject_name, X509_get_subject_name, "libcrypto.so.3");
    BIND(ossl, crypto, name_text, X509_NAME_get_text_by_NID, "libcrypto.so.3");
    ossl_loaded = 0;
}

static void append_name(cs_certificate *c, const char *kind, const char *value) {
    size_t used = strlen(c->names);
    snprintf(c->names + used, sizeof c->names - used, "%s:%s\n", kind, value);
}

int cs_session_certificate(cs_session *session, cs_certificate *certificate, char *error, int error_size) {
    memset(certificate, 0, sizeof *certificate);
    pthread_once(&ossl_once, load_openssl);
    if (ossl_loaded != 0) {
        snprintf(error, (size_t)error_size, "%s", load_error);
        return -1;
    }
    struct curl_certinfo *chain = NULL;
    const char *pem = NULL;
    if (cu.easy_getinfo(session->easy, CURLINFO_CERTINFO, &chain) == CURLE_OK && chain != NULL && chain->num_of_certs > 0)
        for (struct curl_slist *field = chain->certinfo[0]; field != NULL; field = field->next)
            if (strncmp(field->data, "Cert:", 5) == 0) pem = field->data + 5;
    if (pem == NULL) {
        snprintf(error, (size_t)error_size, "the server presented no certificate");
        return -1;
    }
    BIO *bio = ossl.bio_new_mem_buf(pem, -1);
    X509 *x509 = bio ? ossl.pem_read_x509(bio, NULL, NULL, NULL) : NULL;
    if (bio) ossl.bio_free(bio);
    if (x509 == NULL) {
        snprintf(error, (size_t)error_size, "the server's certificate could not be read");
        return -1;
    }
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (ossl.asn1_time_to_tm(ossl.get0_not_after(x509), &tm) == 1) certificate->not_after = (long long)timegm(&tm);
    GENERAL_NAMES *names = ossl.get_ext_d2i(x509, NID_subject_alt_name, NULL, NULL);
    if (names != NULL) {
        int count = ossl.sk_num((const OPENSSL_STACK *)names);
        for (int i = 0; i < count; i++) {
            const GENERAL_NAME *name = ossl.sk_value((const OPENSSL_STACK *)names, i);
            if (name->type == GEN_DNS) {
                char text[256];
                int length = ossl.string_length(name->d.dNSName);
                if (length < 0 || length >= (int)sizeof text) continue;
                memcpy(text, ossl.string_data(name->d.dNSName), (size_t)length);
                text[length] = 0;
                if (strlen(text) != (size_t)length) continue; /* an embedded NUL: not a name */
                append_name(certificate, "DNS", text);
            } else if (name->type == GEN_IPADD) {
                char text[INET6_ADDRSTRLEN];
                int length = ossl.string_length(name->d.iPAddress);
                const unsigned char *bytes = ossl.string_data(name->d.iPAddress);
                if ((length == 4 && inet_ntop(AF_INET, bytes, text, sizeof text))
                    || (length == 16 && inet_ntop(AF_INET6, bytes, text, sizeof text)))
                    append_name(certificate, "IP", text);
            }
        }
        ossl.general_names_free(names);
    }
    ossl.name_text(ossl.subject_name(x509), NID_commonName, certificate->common_name, sizeof certificate->common_name);
    ossl.x509_free(x509);
    return 0;
}
