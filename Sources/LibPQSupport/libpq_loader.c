#include "LibPQSupport.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* One pointer per libpq function the store calls, typed from libpq-fe.h. */
static struct {
    __typeof__(&PQconnectdb) connectdb;
    __typeof__(&PQstatus) status;
    __typeof__(&PQerrorMessage) error_message;
    __typeof__(&PQfinish) finish;
    __typeof__(&PQsocket) socket;
    __typeof__(&PQexecParams) exec_params;
    __typeof__(&PQresultStatus) result_status;
    __typeof__(&PQresultErrorMessage) result_error_message;
    __typeof__(&PQresultErrorField) result_error_field;
    __typeof__(&PQntuples) ntuples;
    __typeof__(&PQnfields) nfields;
    __typeof__(&PQfname) fname;
    __typeof__(&PQgetvalue) getvalue;
    __typeof__(&PQgetlength) getlength;
    __typeof__(&PQgetisnull) getisnull;
    __typeof__(&PQcmdTuples) cmd_tuples;
    __typeof__(&PQclear) clear;
    __typeof__(&PQunescapeBytea) unescape_bytea;
    __typeof__(&PQfreemem) freemem;
} pq;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char load_error[512];
static int loaded = -1;

#define BIND(field, symbol)                                                                   \
    do {                                                                                      \
        *(void **)(&pq.field) = dlsym(handle, #symbol);                                        \
        if (pq.field == NULL) {                                                               \
            snprintf(load_error, sizeof load_error, "libpq.so.5 has no %s", #symbol);          \
            return;                                                                           \
        }                                                                                     \
    } while (0)

static void load(void) {
    void *handle = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        const char *why = dlerror();
        snprintf(load_error, sizeof load_error, "cannot load libpq.so.5 (install libpq5): %s", why ? why : "unknown error");
        return;
    }
    BIND(connectdb, PQconnectdb);
    BIND(status, PQstatus);
    BIND(error_message, PQerrorMessage);
    BIND(finish, PQfinish);
    BIND(socket, PQsocket);
    BIND(exec_params, PQexecParams);
    BIND(result_status, PQresultStatus);
    BIND(result_error_message, PQresultErrorMessage);
    BIND(result_error_field, PQresultErrorField);
    BIND(ntuples, PQntuples);
    BIND(nfields, PQnfields);
    BIND(fname, PQfname);
    BIND(getvalue, PQgetvalue);
    BIND(getlength, PQgetlength);
    BIND(getisnull, PQgetisnull);
    BIND(cmd_tuples, PQcmdTuples);
    BIND(clear, PQclear);
    BIND(unescape_bytea, PQunescapeBytea);
    BIND(freemem, PQfreemem);
    loaded = 0;
}

int pqs_load(char *error, int error_size) {
    pthread_once(&once, load);
    if (loaded != 0 && error != NULL && error_size > 0) snprintf(error, (size_t)error_size, "%s", load_error);
    return loaded;
}

PGconn *pqs_connectdb(const char *conninfo) { return pq.connectdb(conninfo); }
ConnStatusType pqs_status(const PGconn *conn) { return pq.status(conn); }
const char *pqs_error_message(const PGconn *conn) { return pq.error_message(conn); }
void pqs_finish(PGconn *conn) { pq.finish(conn); }
int pqs_socket(const PGconn *conn) { return pq.socket(conn); }
PGresult *pqs_exec_params(PGconn *conn, const char *command, int n, const char *const *values) {
    return pq.exec_params(conn, command, n, NULL, values, NULL, NULL, 0);
}
ExecStatusType pqs_result_status(const PGresult *result) { return pq.result_status(result); }
const char *pqs_result_error_message(const PGresult *result) { return pq.result_error_message(result); }
const char *pqs_result_error_field(const PGresult *result, int field) { return pq.result_error_field(result, field); }
int pqs_ntuples(const PGresult *result) { return pq.ntuples(result); }
int pqs_nfields(const PGresult *result) { return pq.nfields(result); }
const char *pqs_fname(const PGresult *result, int column) { return pq.fname(result, column); }
char *pqs_getvalue(const PGresult *result, int row, int column) { return pq.getvalue(result, row, column); }
int pqs_getlength(const PGresult *result, int row, int column) { return pq.getlength(result, row, column); }
int pqs_getisnull(const PGresult *result, int row, int column) { return pq.getisnull(result, row, column); }
const char *pqs_cmd_tuples(PGresult *result) { return pq.cmd_tuples(result); }
void pqs_clear(PGresult *result) { pq.clear(result); }
unsigned char *pqs_unescape_bytea(const unsigned char *text, size_t *length) { return pq.unescape_bytea(text, length); }
void pqs_freemem(void *pointer) { pq.freemem(pointer); }
