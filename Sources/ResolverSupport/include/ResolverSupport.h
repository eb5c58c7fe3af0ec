#ifndef RESOLVER_SUPPORT_H
#define RESOLVER_SUPPORT_H

/// What a lookup ended with, beyond "found records".
enum rs_status {
    RS_OK = 0,
    RS_NXDOMAIN = 1,     ///< the name does not exist
    RS_NODATA = 2,       ///< the name exists, with no record of this type
    RS_UNAVAILABLE = 3,  ///< timeout, SERVFAIL, REFUSED: the resolver could not answer
    RS_BAD_INPUT = 4,    ///< a server address that is not IPv4, a name too long
};

/// Looks NAME up for TYPE (1 A, 5 CNAME, 15 MX, 16 TXT, 28 AAAA) through glibc's resolver:
/// the system's (/etc/resolv.conf) when SERVER is NULL, else only SERVER (IPv4) on PORT.
/// Records are written to OUT as NUL-terminated strings one after another (a TXT record's
/// character-strings joined, MX as "PREFERENCE HOST", names without the final dot);
/// *COUNT receives how many. Truncated UDP answers are retried over TCP by libresolv.
int rs_lookup(const char *name, int type, const char *server, int port, int timeout_seconds,
              char *out, int out_len, int *count);

#endif
