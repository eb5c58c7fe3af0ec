// libresolv is the resolver every program on this system uses; writing a DNS client by hand
// would only add a second, less tested one. This file is the thin part Swift cannot express:
// struct __res_state and the ns_* parsing macros.
#include "ResolverSupport.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <string.h>

static int append(char *out, int out_len, int *used, const char *text, int length) {
    if (*used + length + 1 > out_len) return -1;
    memcpy(out + *used, text, (size_t)length);
    out[*used + length] = 0;
    *used += length + 1;
    return 0;
}

int rs_lookup(const char *name, int type, const char *server, int port, int timeout_seconds,
              char *out, int out_len, int *count) {
    struct __res_state state;
    unsigned char answer[16384];
    *count = 0;
    memset(&state, 0, sizeof state);
    if (res_ninit(&state) != 0) return RS_UNAVAILABLE;
    state.retrans = timeout_seconds > 0 ? timeout_seconds : 5;
    state.retry = 1;
    state.options &= ~(unsigned long)(RES_DNSRCH | RES_DEFNAMES);
    if (server != NULL) {
        struct in_addr address;
        if (inet_pton(AF_INET, server, &address) != 1) { res_nclose(&state); return RS_BAD_INPUT; }
        state.nscount = 1;
        state.nsaddr_list[0].sin_family = AF_INET;
        state.nsaddr_list[0].sin_addr = address;
        state.nsaddr_list[0].sin_port = htons((unsigned short)port);
    }
    int length = res_nquery(&state, name, ns_c_in, type, answer, sizeof answer);
    int herr = state.res_h_errno;
    res_nclose(&state);
    if (length < 0) {
        switch (herr) {
        case HOST_NOT_FOUND: return RS_NXDOMAIN;
        case NO_DATA: return RS_NODATA;
        default: return RS_UNAVAILABLE;
        }
    }
    ns_msg message;
    if (ns_initparse(answer, length, &message) != 0) return RS_UNAVAILABLE;
    int used = 0;
    for (int index = 0; index < ns_msg_count(message, ns_s_an); index++) {
        ns_rr record;
        if (ns_parserr(&message, ns_s_an, index, &record) != 0) return RS_UNAVAILABLE;
        if (ns_rr_type(record) != type) continue;  // the CNAME chain in front of the answer
        const unsigned char *data = ns_rr_rdata(record);
        int size = ns_rr_rdlen(record);
        char text[16384];
        int text_length = 0;
        switch (type) {
        case ns_t_txt:
            for (int at = 0; at < size;) {
                int piece = data[at++];
                if (at + piece > size) return RS_UNAVAILABLE;
                if (text_length + piece >= (int)sizeof text) return RS_BAD_INPUT;
                memcpy(text + text_length, data + at, (size_t)piece);
                text_length += piece;
                at += piece;
            }
            break;
        case ns_t_a:
            if (size != 4 || !inet_ntop(AF_INET, data, text, sizeof text)) return RS_UNAVAILABLE;
            text_length = (int)strlen(text);
            break;
        case ns_t_aaaa:
            if (size != 16 || !inet_ntop(AF_INET6, data, text, sizeof text)) return RS_UNAVAILABLE;
            text_length = (int)strlen(text);
            break;
        case ns_t_mx: {
            if (size < 3) return RS_UNAVAILABLE;
            int preference = (data[0] << 8) | data[1];
            char host[NS_MAXDNAME];
            if (ns_name_uncompress(ns_msg_base(message), ns_msg_end(message), data + 2, host, sizeof host) < 0) return RS_UNAVAILABLE;
            text_length = snprintf(text, sizeof text, "%d %s", preference, host);
            break;
        }
        case ns_t_cname:
        case ns_t_ns:
            if (ns_name_uncompress(ns_msg_base(message), ns_msg_end(message), data, text, sizeof text) < 0) return RS_UNAVAILABLE;
            text_length = (int)strlen(text);
            break;
        default:
            return RS_BAD_INPUT;
        }
        if (append(out, out_len, &used, text, text_length) != 0) return RS_BAD_INPUT;
        *count += 1;
    }
    return *count > 0 ? RS_OK : RS_NODATA;
}
