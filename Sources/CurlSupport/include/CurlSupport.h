#ifndef CURL_SUPPORT_H
#define CURL_SUPPORT_H
/*
 * HTTP(S) through the system's libcurl (Debian's libcurl4, OpenSSL flavour) and certificate
 * reading through its OpenSSL, both loaded on first use. deployctl does not link them: linking
 * libcurl costs every process ~10 ms before main (33 shared libraries), and most commands send
 * nothing. The types come from libcurl4-openssl-dev and libssl-dev, inside curl_support.c only:
 * Swift sees the few plain structs below.
 */
#include <stddef.h>

/* Loads libcurl.so.4 once. 0 when usable; otherwise -1 and `error` says why. */
int cs_load(char *error, int error_size);

/* One request, every value resolved. Strings are copied by libcurl where it keeps them. */
typedef struct cs_request {
    const char *url;
    const char *method;                  /* GET, POST, HEAD, or any other verb */
    const char *const *headers;          /* "Name: value" lines */
    int header_count;
    const char *body;                    /* NULL: none */
    size_t body_size;
    int follow_redirects;                /* up to 10, http and https only */
    long timeout_ms;                     /* connect and the whole transfer */
    int verify_peer;                     /* the chain against the system's roots (+ ca_file) */
    int verify_host;                     /* the name in the certificate */
    const char *ca_file;                 /* extra trusted PEM certificates, or NULL */
    const char *connect_to;              /* "name:port:host:port" (SNI name, real address), or NULL */
    int connect_only;                    /* TCP + TLS handshake, no request (the TLS probe) */
    size_t body_limit;                   /* larger answers fail (decompressed size) */
} cs_request;

enum cs_failure {
    CS_OK = 0,           /* an HTTP answer (any status) */
    CS_TIMEOUT = 1,
    CS_TLS = 2,          /* handshake, chain or name */
    CS_CONNECT = 3,      /* resolve or connect */
    CS_TOO_LARGE = 4,    /* the answer body passed body_limit */
    CS_OTHER = 5,
};

/* What one request got. Times are the phases of this request in milliseconds (0 for a phase a
 * reused connection skipped). headers/body are malloc'd, freed by cs_answer_free. */
typedef struct cs_answer {
    int failure;                         /* enum cs_failure */
    char error[384];
    long status;
    double dns_ms, connect_ms, tls_ms, first_byte_ms, total_ms;
    char *headers;                       /* the last response's header block, CRLF lines */
    size_t headers_size;
    char *body;
    size_t body_size;
} cs_answer;

void cs_answer_free(cs_answer *answer);

/* One easy handle, reused by each perform (keep-alive), for requests one after another. */
typedef struct cs_session cs_session;
cs_session *cs_session_new(const cs_request *request, char *error, int error_size);
/* Blocking; bounded by timeout_ms. Returns answer->failure. */
int cs_session_perform(cs_session *session, cs_answer *answer);
void cs_session_free(cs_session *session);

/* `samples` copies of one request, at most `concurrency` at once over one connection cache.
 * answers[i] in completion order; only answers[0] keeps headers and body. Stops starting new
 * ones when *cancel becomes non-zero (read atomically). Returns how many completed. */
int cs_perform_many(const cs_request *request, int samples, int concurrency, cs_answer *answers,
                    const int *cancel, char *error, int error_size);

/* Sets *flag from any thread: a cs_perform_many reading it starts nothing more and returns. */
void cs_cancel(int *flag);
/* Reads such a flag atomically. */
int cs_cancelled(const int *flag);

/* The leaf certificate of a session's TLS connection (after a connect_only perform). */
typedef struct cs_certificate {
    long long not_after;                 /* Unix time */
    char common_name[256];
    char names[4096];                    /* subjectAltName (Swift imports C arrays up to 4096): "DNS:name\n" and "IP:address\n" lines */
} cs_certificate;
int cs_session_certificate(cs_session *session, cs_certificate *certificate, char *error, int error_size);

#endif
