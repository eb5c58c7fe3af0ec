#ifndef DEPLOYCTL_CSQLITE_SHIM_H
#define DEPLOYCTL_CSQLITE_SHIM_H

/* The system SQLite (Debian's libsqlite3-dev), linked: every command that reads the journal
 * needs it, and it loads in well under a millisecond (one library, no dependencies of note). */
#include <sqlite3.h>

#endif
