#ifndef DEPLOYCTL_GITKIT_SUPPORT_H
#define DEPLOYCTL_GITKIT_SUPPORT_H

#include <stddef.h>

/*
 * Returns 1 when this process's libgit2 skips its CA bundle at start-up (see
 * no_ca_bundle.c), 0 otherwise. GitKit reads it only so the decision is visible in tests.
 */
int gitkit_ca_bundle_skipped(void);

/*
 * Lets libgit2 keep trees up to `bytes` in its object cache (its default stops at 4 KiB: a
 * stacks/ directory of 500 stacks is 16 KiB and was inflated again for every path looked up
 * under it). git_libgit2_opts is C-variadic, which Swift cannot call.
 */
int gitkit_cache_trees_up_to(size_t bytes);

#endif
