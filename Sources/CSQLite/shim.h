#ifndef DEPLOYCTL_CSQLITE_SHIM_H
#define DEPLOYCTL_CSQLITE_SHIM_H

/* The system SQLite (Debian's libsqlite3-dev), linked: every command that reads the journal
 * needs it, and linking it costs ~0.5 ms before main (a C program linking it against one
 * linking nothing: 1.55-1.75 against 1.13-1.21 ms, perf stat, 300 runs each). */
#include <sqlite3.h>

#endif
