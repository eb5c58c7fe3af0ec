#ifndef LIBPQ_SUPPORT_H
#define LIBPQ_SUPPORT_H
/*
 * libpq, loaded on first use. deployctl does not link libpq: a command on the embedded SQLite
 * store never loads it (linking it costs every process ~5 ms before main). The types and the
 * prototypes come from Debian's libpq-dev; the code from libpq.so.5 through dlopen.
 */
#include <postgresql/libpq-fe.h>

/* Loads libpq.so.5 once. 0 when it is usable; otherwise -1 and `error` says why. */
int pqs_load(char *error, int error_size);

PGconn *pqs_connectdb(const char *conninfo);
ConnStatusType pqs_status(const PGconn *conn);
const char *pqs_error_message(const PGconn *conn);
void pqs_finish(PGconn *conn);
int pqs_socket(const PGconn *conn);
/* Text parameters and text results only: what the store needs. */
PGresult *pqs_exec_params(PGconn *conn, const char *command, int n, const char *const *values);
ExecStatusType pqs_result_status(const PGresult *result);
const char *pqs_result_error_message(const PGresult *result);
const char *pqs_result_error_field(const PGresult *result, int field);
int pqs_ntuples(const PGresult *result);
int pqs_nfields(const PGresult *result);
const char *pqs_fname(const PGresult *result, int column);
char *pqs_getvalue(const PGresult *result, int row, int column);
int pqs_getlength(const PGresult *result, int row, int column);
int pqs_getisnull(const PGresult *result, int row, int column);
const char *pqs_cmd_tuples(PGresult *result);
void pqs_clear(PGresult *result);
/* Binary-safe escaping for bytea parameters (hex format), freed with pqs_freemem. */
unsigned char *pqs_unescape_bytea(const unsigned char *text, size_t *length);
void pqs_freemem(void *pointer);

#endif
