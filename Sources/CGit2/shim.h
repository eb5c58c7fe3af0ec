#ifndef DEPLOYCTL_CGIT2_SHIM_H
#define DEPLOYCTL_CGIT2_SHIM_H

/* The one header Swift sees of the system libgit2 (Debian's libgit2-dev). Nothing links
 * libgit2: GitKitSupport loads it on first use and defines the functions GitKit calls. */
#include <git2.h>

#endif
