#ifndef DEPLOYCTL_GITKIT_SUPPORT_H
#define DEPLOYCTL_GITKIT_SUPPORT_H

/*
 * Returns 1 when this process's libgit2 skips its CA bundle at start-up (see
 * no_ca_bundle.c), 0 otherwise. GitKit reads it only so the decision is visible in tests.
 */
int gitkit_ca_bundle_skipped(void);

#endif
