#include "GitKitSupport.h"
#include <git2.h>

int gitkit_cache_trees_up_to(size_t bytes) {
    return git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, GIT_OBJECT_TREE, bytes);
}
