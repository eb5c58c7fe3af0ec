/*
 * libgit2, loaded on first use.
 *
 * Why: Debian's libgit2 brings 13 libraries with it (Kerberos, libssh2, mbedTLS, OpenSSL's
 * libcrypto, PCRE, http_parser, …). Linked, they load before main in every process: measured
 * here, a Swift program that links libgit2 starts in ~8.5 ms against ~3.7 ms without it. A
 * command that reads no repository (--version, help) should not pay for that, and GitKit reads
 * ordinary repositories itself (GitKit/Native), so deployctl does not link libgit2: the first
 * call GitKit cannot answer natively loads it (history, fetches, signatures, unusual shapes).
 *
 * GitKit keeps calling libgit2's own names. Each function it uses is defined here with the
 * prototype from <git2.h> (so the compiler checks every signature) and forwards to the
 * function dlsym found. The definitions are hidden: the executable does not export them, so
 * libgit2's calls to its own functions still bind inside libgit2.
 *
 * Adding a libgit2 call to GitKit means adding its line to GITKIT_FUNCTIONS below.
 */

#define _GNU_SOURCE
#include <git2/common.h>
#undef GIT_EXTERN
#define GIT_EXTERN(type) extern __attribute__((visibility("hidden"))) type
#include <git2.h>

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include "GitKitSupport.h"

/* F(return type, name, (parameters), (arguments)) for a function that returns a value,
 * V(…) for one that returns void. */
#define GITKIT_FUNCTIONS(F, V) \
    V(void, git_blob_free, (git_blob *blob), (blob)) \
    F(int, git_blob_lookup, (git_blob **blob, git_repository *repo, const git_oid *id), (blob, repo, id)) \
    F(const void *, git_blob_rawcontent, (const git_blob *blob), (blob)) \
    F(git_object_size_t, git_blob_rawsize, (const git_blob *blob), (blob)) \
    V(void, git_buf_dispose, (git_buf *buffer), (buffer)) \
    F(const git_signature *, git_commit_author, (const git_commit *commit), (commit)) \
    F(int, git_commit_extract_signature, (git_buf *signature, git_buf *signed_data, git_repository *repo, git_oid *commit_id, const char *field), (signature, signed_data, repo, commit_id, field)) \
    V(void, git_commit_free, (git_commit *commit), (commit)) \
    F(const git_oid *, git_commit_id, (const git_commit *commit), (commit)) \
    F(int, git_commit_lookup, (git_commit **commit, git_repository *repo, const git_oid *id), (commit, repo, id)) \
    F(const git_oid *, git_commit_parent_id, (const git_commit *commit, unsigned int n), (commit, n)) \
    F(unsigned int, git_commit_parentcount, (const git_commit *commit), (commit)) \
    F(const char *, git_commit_summary, (git_commit *commit), (commit)) \
    F(git_time_t, git_commit_time, (const git_commit *commit), (commit)) \
    F(int, git_commit_tree, (git_tree **tree_out, const git_commit *commit), (tree_out, commit)) \
    F(const git_oid *, git_commit_tree_id, (const git_commit *commit), (commit)) \
    F(int, git_credential_ssh_key_from_agent, (git_credential **out, const char *username), (out, username)) \
    F(int, git_credential_username_new, (git_credential **out, const char *username), (out, username)) \
    F(int, git_credential_userpass_plaintext_new, (git_credential **out, const char *username, const char *password), (out, username, password)) \
    F(const git_error *, git_error_last, (void), ()) \
    F(int, git_error_set_str, (int error_class, const char *string), (error_class, string)) \
    F(int, git_fetch_options_init, (git_fetch_options *opts, unsigned int version), (opts, version)) \
    F(int, git_graph_descendant_of, (git_repository *repo, const git_oid *commit, const git_oid *ancestor), (repo, commit, ancestor)) \
    F(int, git_ignore_path_is_ignored, (int *ignored, git_repository *repo, const char *path), (ignored, repo, path)) \
    F(int, git_libgit2_init, (void), ()) \
    F(int, git_libgit2_version, (int *major, int *minor, int *rev), (major, minor, rev)) \
    V(void, git_object_free, (git_object *object), (object)) \
    F(const git_oid *, git_object_id, (const git_object *obj), (obj)) \
    F(int, git_object_peel, (git_object **peeled, const git_object *object, git_object_t target_type), (peeled, object, target_type)) \
    F(git_object_t, git_object_type, (const git_object *obj), (obj)) \
    F(const char *, git_object_type2string, (git_object_t type), (type)) \
    V(void, git_odb_free, (git_odb *db), (db)) \
    F(int, git_odb_hash, (git_oid *out, const void *data, size_t len, git_object_t type), (out, data, len, type)) \
    F(int, git_odb_read_header, (size_t *len_out, git_object_t *type_out, git_odb *db, const git_oid *id), (len_out, type_out, db, id)) \
    V(void, git_reference_free, (git_reference *ref), (ref)) \
    F(int, git_reference_lookup, (git_reference **out, git_repository *repo, const char *name), (out, repo, name)) \
    F(int, git_reference_name_to_id, (git_oid *out, git_repository *repo, const char *name), (out, repo, name)) \
    F(int, git_reference_symbolic_create, (git_reference **out, git_repository *repo, const char *name, const char *target, int force, const char *log_message), (out, repo, name, target, force, log_message)) \
    F(const char *, git_reference_symbolic_target, (const git_reference *ref), (ref)) \
    F(int, git_remote_connect, (git_remote *remote, git_direction direction, const git_remote_callbacks *callbacks, const git_proxy_options *proxy_opts, const git_strarray *custom_headers), (remote, direction, callbacks, proxy_opts, custom_headers)) \
    F(int, git_remote_default_branch, (git_buf *out, git_remote *remote), (out, remote)) \
    F(int, git_remote_disconnect, (git_remote *remote), (remote)) \
    F(int, git_remote_fetch, (git_remote *remote, const git_strarray *refspecs, const git_fetch_options *opts, const char *reflog_message), (remote, refspecs, opts, reflog_message)) \
    V(void, git_remote_free, (git_remote *remote), (remote)) \
    F(int, git_remote_list, (git_strarray *out, git_repository *repo), (out, repo)) \
    F(int, git_remote_lookup, (git_remote **out, git_repository *repo, const char *name), (out, repo, name)) \
    F(const char *, git_remote_url, (const git_remote *remote), (remote)) \
    V(void, git_repository_free, (git_repository *repo), (repo)) \
    F(int, git_repository_head_unborn, (git_repository *repo), (repo)) \
    F(int, git_repository_odb, (git_odb **out, git_repository *repo), (out, repo)) \
    F(int, git_repository_open_ext, (git_repository **out, const char *path, unsigned int flags, const char *ceiling_dirs), (out, path, flags, ceiling_dirs)) \
    F(const char *, git_repository_path, (const git_repository *repo), (repo)) \
    F(const char *, git_repository_workdir, (const git_repository *repo), (repo)) \
    F(int, git_revparse_single, (git_object **out, git_repository *repo, const char *spec), (out, repo, spec)) \
    V(void, git_revwalk_free, (git_revwalk *walk), (walk)) \
    F(int, git_revwalk_hide, (git_revwalk *walk, const git_oid *commit_id), (walk, commit_id)) \
    F(int, git_revwalk_new, (git_revwalk **out, git_repository *repo), (out, repo)) \
    F(int, git_revwalk_next, (git_oid *out, git_revwalk *walk), (out, walk)) \
    F(int, git_revwalk_push, (git_revwalk *walk, const git_oid *id), (walk, id)) \
    F(int, git_revwalk_sorting, (git_revwalk *walk, unsigned int sort_mode), (walk, sort_mode)) \
    V(void, git_strarray_dispose, (git_strarray *array), (array)) \
    F(const git_tree_entry *, git_tree_entry_byindex, (const git_tree *tree, size_t idx), (tree, idx)) \
    F(const git_tree_entry *, git_tree_entry_byname, (const git_tree *tree, const char *filename), (tree, filename)) \
    F(int, git_tree_entry_bypath, (git_tree_entry **out, const git_tree *root, const char *path), (out, root, path)) \
    F(git_filemode_t, git_tree_entry_filemode, (const git_tree_entry *entry), (entry)) \
    V(void, git_tree_entry_free, (git_tree_entry *entry), (entry)) \
    F(const git_oid *, git_tree_entry_id, (const git_tree_entry *entry), (entry)) \
    F(const char *, git_tree_entry_name, (const git_tree_entry *entry), (entry)) \
    F(git_object_t, git_tree_entry_type, (const git_tree_entry *entry), (entry)) \
    F(size_t, git_tree_entrycount, (const git_tree *tree), (tree)) \
    V(void, git_tree_free, (git_tree *tree), (tree)) \
    F(int, git_tree_lookup, (git_tree **out, git_repository *repo, const git_oid *id), (out, repo, id))

/* One pointer per function, typed from <git2.h>. */
#define GITKIT_POINTER(ret, name, params, args) __typeof__(&name) name;
static struct {
    GITKIT_FUNCTIONS(GITKIT_POINTER, GITKIT_POINTER)
    /* Variadic, so GitKit cannot call it from Swift: only gitkit_set_ca_file below does. */
    __typeof__(&git_libgit2_opts) git_libgit2_opts;
} lib;

#define GITKIT_FORWARD(ret, name, params, args) ret name params { return lib.name args; }
#define GITKIT_FORWARD_VOID(ret, name, params, args) void name params { lib.name args; }
GITKIT_FUNCTIONS(GITKIT_FORWARD, GITKIT_FORWARD_VOID)

#define GITKIT_STRING(x) #x
#define GITKIT_SONAME(major, minor) "libgit2.so." GITKIT_STRING(major) "." GITKIT_STRING(minor)
/* The library the headers describe: Debian's libgit2-dev and its libgit2-1.N share a version. */
static const char soname[] = GITKIT_SONAME(LIBGIT2_VER_MAJOR, LIBGIT2_VER_MINOR);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char load_error[512];
static int loaded = 0;

static int bind(void *handle, void **slot, const char *symbol) {
    *slot = dlsym(handle, symbol);
    if (*slot != NULL) return 1;
    snprintf(load_error, sizeof load_error, "%s has no %s", soname, symbol);
    return 0;
}

static void load(void) {
    /* RTLD_GLOBAL, as linking would: the CA interposer (no_ca_bundle.c) finds the real mbedTLS
     * function with RTLD_NEXT, which searches the global scope only. */
    void *handle = dlopen(soname, RTLD_NOW | RTLD_GLOBAL);
    if (handle == NULL) {
        const char *why = dlerror();
        snprintf(load_error, sizeof load_error, "cannot load %s (install libgit2-%d.%d): %s", soname,
                 LIBGIT2_VER_MAJOR, LIBGIT2_VER_MINOR, why ? why : "unknown error");
        return;
    }
#define GITKIT_BIND(ret, name, params, args) \
    if (!bind(handle, (void **)&lib.name, #name)) return;
    GITKIT_FUNCTIONS(GITKIT_BIND, GITKIT_BIND)
    GITKIT_BIND(int, git_libgit2_opts, (), ())
    loaded = 1;
}

/* Loading and initialising are one step, once per process. */
static void load_and_initialise(void) {
    load();
    if (loaded) lib.git_libgit2_init();
}

int gitkit_load(char *error, int error_size) {
    pthread_once(&once, load_and_initialise);
    if (loaded) return 0;
    snprintf(error, (size_t)error_size, "%s", load_error);
    return -1;
}

int gitkit_set_ca_file(const char *file) {
    return lib.git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, file, NULL);
}
