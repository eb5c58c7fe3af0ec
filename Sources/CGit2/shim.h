#ifndef DEPLOYCTL_CGIT2_SHIM_H
#define DEPLOYCTL_CGIT2_SHIM_H

/* The one header Swift sees of the system libgit2 (Debian's libgit2-dev). */
#include <git2.h>

#endif
