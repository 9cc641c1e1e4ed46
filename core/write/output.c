/* Output groups (output.h): resolve and classify each output, refuse
 * inputs, write regular files through registered temporaries, commit all
 * or nothing. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <weightinit/output.h>

#include "write/atomic_file.h"
#include "write/write_internal.h"

/* The temporaries a signal handler must remove.  Static storage, so the
 * handler never reads freed memory; a temporary that finds no free slot
 * (more than 1024 at once: a sharded checkpoint of 5 TB in 5 GB shards)
 * is still written, only not removed on a signal (the next run sweeps
 * it).  Untouched slots cost no memory (zero pages). */
#define N_SLOTS 1024
enum { SLOT_FREE, SLOT_TAKEN, SLOT_LIVE };
static struct {
    atomic_int state;
    char path[PATH_MAX];
} slots[N_SLOTS];

static int slot_take(const char *path)
{
    if (strlen(path) >= PATH_MAX)
        return -1;
    for (int i = 0; i < N_SLOTS; i++) {
        int want = SLOT_FREE;
        if (atomic_compare_exchange_strong(&slots[i].state, &want, SLOT_TAKEN)) {
            strcpy(slots[i].path, path);
            atomic_store(&slots[i].state, SLOT_LIVE);
            return i;
        }
    }
    return -1;
}

static void slot_release(int i)
{
    if (i >= 0)
        atomic_store(&slots[i].state, SLOT_FREE);
}

void wi_output_remove_temps(void)
{
    for (int i = 0; i < N_SLOTS; i++)
        if (atomic_load(&slots[i].state) == SLOT_LIVE)
            unlink(slots[i].path);
}

/* Identity of a place: an existing file (dev, ino), or a name that does
 * not exist yet in a folder (the folder's dev, ino, and the name). */
struct id {
    dev_t dev;
    ino_t ino;
    char *name; /* NULL for an existing file */
};

struct out {
    char *label;  /* as the caller named it */
    char *target; /* the file a temporary is renamed onto; NULL if direct */
    char *tmp;
    dev_t tmp_dev; /* the temporary's identity, checked before renaming */
    ino_t tmp_ino;
    FILE *fp;     /* NULL once finished (wi_priv_output_group_close) */
    int slot;
    int borrowed; /* caller-owned stream: flushed, never closed */
    struct id id;
};

struct in {
    char *label;
    dev_t dev;
    ino_t ino;
};

struct wi_output_group {
    struct in *ins;
    size_t n_ins;
    struct out *outs;
    size_t n_outs;
    int committed;
    int no_sync; /* wi_output_group_set_sync(g, 0) */
};

wi_output_group_t *wi_output_group_new(void)
{
    return calloc(1, sizeof(wi_output_group_t));
}

size_t wi_output_group_size(const wi_output_group_t *g)
{
    return g ? g->n_outs : 0;
}

const char *wi_output_group_name(const wi_output_group_t *g, size_t i)
{
    return g && i < g->n_outs ? g->outs[i].label : NULL;
}

const char *wi_output_group_temp(const wi_output_group_t *g, size_t i)
{
    return g && i < g->n_outs ? g->outs[i].tmp : NULL;
}

static int same_id(const struct id *a, const struct id *b)
{
    if (a->dev != b->dev || a->ino != b->ino || !a->name != !b->name)
        return 0;
    return !a->name || strcmp(a->name, b->name) == 0;
}

static int oom(wi_error_t *err, const char *label)
{
    return wi_error_set(err, WI_ENOMEM, label, NULL, "out of memory");
}

int wi_output_group_add_input(wi_output_group_t *g, const char *path,
                              wi_error_t *err)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    struct id id = {st.st_dev, st.st_ino, NULL};
    for (size_t i = 0; i < g->n_outs; i++)
        if (same_id(&g->outs[i].id, &id))
            return wi_error_set(err, WI_EINVAL, g->outs[i].label, NULL,
                                "is the same file as the input %s; refusing to "
                                "overwrite an input", path);
    for (size_t i = 0; i < g->n_ins; i++)
        if (g->ins[i].dev == st.st_dev && g->ins[i].ino == st.st_ino)
            return 0;
    struct in *ins = realloc(g->ins, (g->n_ins + 1) * sizeof *ins);
    if (!ins)
        return oom(err, path);
    g->ins = ins;
    if (!(ins[g->n_ins].label = strdup(path)))
        return oom(err, path);
    ins[g->n_ins].dev = st.st_dev;
    ins[g->n_ins].ino = st.st_ino;
    g->n_ins++;
    return 0;
}

/* Refuses id when it is an input or another output. */
static int check_id(const wi_output_group_t *g, const struct id *id,
                    const char *label, wi_error_t *err)
{
    for (size_t i = 0; !id->name && i < g->n_ins; i++)
        if (g->ins[i].dev == id->dev && g->ins[i].ino == id->ino)
            return wi_error_set(err, WI_EINVAL, label, NULL, "is the same file as "
                                "the input %s; refusing to overwrite an input",
                                g->ins[i].label);
    for (size_t i = 0; i < g->n_outs; i++)
        if (same_id(&g->outs[i].id, id))
            return wi_error_set(err, WI_EINVAL, label, NULL, "is the same file as "
                                "the output %s; each output needs its own file",
                                g->outs[i].label);
    return 0;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

static const char *base_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Follows a dangling symbolic link to the name that does not exist. */
static char *follow_dangling(const char *path)
{
    char *cur = strdup(path);
    for (int hops = 0; cur && hops < 40; hops++) {
        char link[PATH_MAX];
        ssize_t n = readlink(cur, link, sizeof link - 1);
        if (n < 0) {
            if (errno == EINVAL) { /* not a link: it exists after all */
                free(cur);
                errno = EEXIST;
                return NULL;
            }
            return errno == ENOENT ? cur : (free(cur), NULL);
        }
        link[n] = '\0';
        char *next;
        if (link[0] == '/' || !strchr(cur, '/')) {
            next = strdup(link);
        } else {
            char *dir = dir_of(cur);
            size_t len = dir ? strlen(dir) + (size_t)n + 2 : 0;
            next = dir ? malloc(len) : NULL;
            if (next)
                snprintf(next, len, "%s/%s", dir, link);
            free(dir);
        }
        free(cur);
        cur = next;
    }
    if (cur) {
        free(cur);
        errno = ELOOP;
    }
    return NULL;
}

struct place {
    char *target; /* malloc'd */
    struct stat st;
    int exists;
    struct id id;
};

/* Where path leads: symbolic links followed (also dangling ones), the
 * target classified, its identity. */
static int resolve(const char *path, struct place *p, wi_error_t *err)
{
    memset(p, 0, sizeof *p);
    struct stat lst;
    int is_link = lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode);
    if (stat(path, &p->st) == 0) {
        p->exists = 1;
        /* A link to a regular file: replace the file the link names
         * (realpath also sees through /proc/self/fd links), never the link. */
        p->target = is_link && S_ISREG(p->st.st_mode) ? realpath(path, NULL)
                                                      : strdup(path);
        struct stat again;
        if (p->target && is_link && S_ISREG(p->st.st_mode) &&
            (stat(p->target, &again) != 0 || again.st_ino != p->st.st_ino ||
             again.st_dev != p->st.st_dev))
            return wi_error_set(err, WI_EIO, path, NULL, "cannot resolve the "
                                "symbolic link to the file it names");
        p->id.dev = p->st.st_dev;
        p->id.ino = p->st.st_ino;
    } else if (errno == ENOENT) {
        p->target = is_link ? follow_dangling(path) : strdup(path);
        if (!p->target && errno != ENOMEM)
            return wi_error_set(err, WI_EIO, path, NULL, "cannot follow the "
                                "symbolic link: %s", strerror(errno));
    } else {
        return wi_error_set(err, WI_EIO, path, NULL, "cannot write: %s",
                            strerror(errno));
    }
    if (!p->target)
        return oom(err, path);
    if (p->exists)
        return 0;
    char *dir = dir_of(p->target);
    struct stat dst;
    if (!dir)
        return oom(err, path);
    int rc = stat(dir, &dst);
    int e = errno;
    free(dir);
    if (rc != 0 || !S_ISDIR(dst.st_mode))
        return wi_error_set(err, WI_EIO, path, NULL, "cannot create a file in "
                            "its folder: %s", strerror(rc != 0 ? e : ENOTDIR));
    p->id.dev = dst.st_dev;
    p->id.ino = dst.st_ino;
    p->id.name = strdup(base_of(p->target));
    return p->id.name ? 0 : oom(err, path);
}

/* What the system would refuse when renaming a file onto target: a
 * folder this process may not write (dir_too: checked by creating the
 * temporary when opening), or (a sticky folder such as /tmp) a file
 * there of another user, even a writable one. */
static int check_replace(const char *target, const char *label, int dir_too,
                         wi_error_t *err)
{
    char *dir = dir_of(target);
    struct stat dst, st;
    if (!dir)
        return oom(err, label);
    int rc = stat(dir, &dst) != 0 ||
                     (dir_too && faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) != 0)
                 ? wi_error_set(err, WI_EIO, label, NULL, "cannot replace: %s",
                                strerror(errno))
                 : 0;
    free(dir);
    uid_t me = geteuid();
    if (rc == 0 && (dst.st_mode & S_ISVTX) && me != 0 && dst.st_uid != me &&
        lstat(target, &st) == 0 && st.st_uid != me)
        rc = wi_error_set(err, WI_EIO, label, NULL, "cannot replace: %s (a file of "
                          "another user in a sticky folder)", strerror(EPERM));
    return rc;
}

static int refuse_kind(const struct place *p, const char *path, wi_error_t *err)
{
    mode_t m = p->st.st_mode;
    if (!p->exists || S_ISREG(m) || S_ISFIFO(m) || S_ISCHR(m))
        return 0;
    if (S_ISDIR(m))
        return wi_error_set(err, WI_EINVAL, path, NULL, "is a directory; name a "
                            "file to write");
    if (S_ISSOCK(m))
        return wi_error_set(err, WI_EINVAL, path, NULL, "is a socket; cannot "
                            "write a file there");
    if (S_ISBLK(m))
        return wi_error_set(err, WI_EINVAL, path, NULL, "is a block device; "
                            "refusing to write onto it");
    return wi_error_set(err, WI_EINVAL, path, NULL, "is not a regular file");
}

/* 8 hex digits for this host and PID namespace: a PID in a temporary's
 * name means something only where both match. */
static void host_tag(char out[9])
{
    char buf[HOST_NAME_MAX + 1 + 64] = "";
    gethostname(buf, HOST_NAME_MAX);
    buf[HOST_NAME_MAX] = '\0';
    size_t n = strlen(buf);
    buf[n++] = '/';
    ssize_t k = readlink("/proc/self/ns/pid", buf + n, sizeof buf - n - 1);
    buf[n + (k > 0 ? (size_t)k : 0)] = '\0';
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const char *c = buf; *c; c++)
        h = (h ^ (uint8_t)*c) * 16777619u;
    snprintf(out, 9, "%08x", (unsigned)h);
}

#define TMP_MARK ".wi-tmp-"
#define RAND_LEN 10
static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";

/* Parses `.NAME.wi-tmp-HOST-PID-RANDOM`: the PID when HOST is tag. */
static long temp_pid(const char *name, const char *tag)
{
    if (name[0] != '.')
        return -1;
    const char *m = NULL;
    for (const char *p = strstr(name, TMP_MARK); p; p = strstr(p + 1, TMP_MARK))
        m = p;
    if (!m || strncmp(m + strlen(TMP_MARK), tag, 8) != 0 ||
        m[strlen(TMP_MARK) + 8] != '-')
        return -1;
    char *end;
    const char *digits = m + strlen(TMP_MARK) + 9;
    if (*digits < '1' || *digits > '9')
        return -1;
    long pid = strtol(digits, &end, 10);
    if (*end != '-' || strlen(end + 1) != RAND_LEN ||
        strspn(end + 1, alphabet) != RAND_LEN)
        return -1;
    return pid;
}

/* Removes the temporaries of dead weightinit runs in dir. */
static void sweep(const char *dir)
{
    char tag[9];
    host_tag(tag);
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        long pid = temp_pid(e->d_name, tag);
        struct stat st;
        if (pid <= 0 || pid > INT_MAX || (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
            continue;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISREG(st.st_mode))
            unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
}

static void random_text(char *out, size_t n)
{
    static atomic_uint counter;
    unsigned char bytes[32];
    if (getrandom(bytes, n, GRND_NONBLOCK) != (ssize_t)n) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^
                     ((uint64_t)atomic_fetch_add(&counter, 1) << 52);
        for (size_t i = 0; i < n; i++, x = x * 6364136223846793005u + 1442695040888963407u)
            bytes[i] = (unsigned char)(x >> 56);
    }
    for (size_t i = 0; i < n; i++)
        out[i] = alphabet[bytes[i] % (sizeof alphabet - 1)];
    out[n] = '\0';
}

/* Creates the temporary beside target: O_EXCL, never following a link. */
static int create_temp(struct out *o, const struct place *p, wi_error_t *err)
{
    const char *base = base_of(p->target);
    size_t dirlen = (size_t)(base - p->target);
    char tag[9], rnd[RAND_LEN + 1];
    host_tag(tag);
    /* Keep the name within NAME_MAX (255): room for the suffix. */
    int keep = (int)strlen(base) > 200 ? 200 : (int)strlen(base);
    size_t n = dirlen + (size_t)keep + 64;
    if (!(o->tmp = malloc(n)))
        return oom(err, o->label);
    int fd = -1;
    /* No signal between creating the file and registering it for the
     * handler's cleanup, or a Ctrl-C there would leave it behind. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (int tries = 0; fd < 0 && tries < 32; tries++) {
        random_text(rnd, RAND_LEN);
        snprintf(o->tmp, n, "%.*s.%.*s" TMP_MARK "%s-%ld-%s", (int)dirlen, p->target,
                 keep, base, tag, (long)getpid(), rnd);
        fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    int e = errno;
    struct stat st;
    if (fd >= 0) {
        o->slot = slot_take(o->tmp);
        if (fstat(fd, &st) == 0)
            o->tmp_dev = st.st_dev, o->tmp_ino = st.st_ino;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (fd < 0) {
        free(o->tmp);
        o->tmp = NULL;
        return wi_error_set(err, WI_EIO, o->label, NULL, "cannot create a file in "
                            "its folder: %s", strerror(e));
    }
    if (p->exists) {
        /* The replacement looks like the file it replaces (as sed -i). */
        if (p->st.st_uid != geteuid() || p->st.st_gid != getegid())
            (void)!fchown(fd, p->st.st_uid, p->st.st_gid);
        (void)!fchmod(fd, p->st.st_mode & 0777);
    }
    if (!(o->fp = fdopen(fd, "wb"))) {
        int e = errno;
        close(fd);
        return wi_error_set(err, WI_EIO, o->label, NULL, "cannot open: %s",
                            strerror(e));
    }
    return 0;
}

/* A FIFO or character device: written in place (a shell's `>`). */
static int open_direct(struct out *o, const struct place *p, wi_error_t *err)
{
    int fd = open(p->target, O_WRONLY | O_NOCTTY | O_CLOEXEC);
    struct stat st;
    if (fd >= 0 && (fstat(fd, &st) != 0 || st.st_ino != p->st.st_ino ||
                    st.st_dev != p->st.st_dev)) {
        close(fd);
        return wi_error_set(err, WI_EIO, o->label, NULL, "changed while opening it");
    }
    if (fd < 0 || !(o->fp = fdopen(fd, "wb"))) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return wi_error_set(err, WI_EIO, o->label, NULL, "cannot open: %s",
                            strerror(e));
    }
    free(o->target);
    o->target = NULL;
    return 0;
}

static void out_discard(struct out *o)
{
    if (o->fp && !o->borrowed)
        fclose(o->fp);
    if (o->tmp)
        unlink(o->tmp);
    slot_release(o->slot);
    free(o->label);
    free(o->target);
    free(o->tmp);
    free(o->id.name);
    memset(o, 0, sizeof *o);
    o->slot = -1;
}

static struct out *out_new(wi_output_group_t *g, const char *label, wi_error_t *err)
{
    struct out *outs = realloc(g->outs, (g->n_outs + 1) * sizeof *outs);
    if (!outs) {
        oom(err, label);
        return NULL;
    }
    g->outs = outs;
    struct out *o = &outs[g->n_outs];
    memset(o, 0, sizeof *o);
    o->slot = -1;
    if (!(o->label = strdup(label))) {
        oom(err, label);
        return NULL;
    }
    return o;
}

FILE *wi_output_group_open(wi_output_group_t *g, const char *path, wi_error_t *err)
{
    if (g->committed) {
        wi_error_set(err, WI_ESTATE, path, NULL, "the group is already committed");
        return NULL;
    }
    /* An unset shell variable ("$REPORT"): nothing names a file, and
     * renaming onto "" would fail only after the other outputs. */
    if (!path || !*path) {
        wi_error_set(err, WI_EINVAL, NULL, NULL, "expected the name of a file to "
                     "write, got an empty string");
        return NULL;
    }
    struct place p;
    int rc = resolve(path, &p, err);
    if (rc == 0)
        rc = refuse_kind(&p, path, err);
    if (rc == 0)
        rc = check_id(g, &p.id, path, err);
    if (rc == 0 && p.exists && S_ISREG(p.st.st_mode) &&
        faccessat(AT_FDCWD, p.target, W_OK, AT_EACCESS) != 0)
        rc = wi_error_set(err, WI_EIO, path, NULL, "cannot write: %s", strerror(errno));
    if (rc == 0 && (!p.exists || S_ISREG(p.st.st_mode)))
        rc = check_replace(p.target, path, 0, err);
    struct out *o = rc == 0 ? out_new(g, path, err) : NULL;
    if (!o) {
        free(p.target);
        free(p.id.name);
        return NULL;
    }
    o->target = p.target;
    o->id = p.id;
    if (p.exists && !S_ISREG(p.st.st_mode)) {
        rc = open_direct(o, &p, err);
    } else {
        char *dir = dir_of(p.target);
        if (dir)
            sweep(dir);
        free(dir);
        rc = dir ? create_temp(o, &p, err) : oom(err, path);
    }
    if (rc < 0) {
        out_discard(o);
        return NULL;
    }
    g->n_outs++;
    return o->fp;
}

int wi_output_group_add_stream(wi_output_group_t *g, FILE *fp, const char *name,
                               wi_error_t *err)
{
    struct stat st;
    if (fstat(fileno(fp), &st) != 0)
        return wi_error_set(err, WI_EIO, name, NULL, "cannot write: %s",
                            strerror(errno));
    struct id id = {st.st_dev, st.st_ino, NULL};
    int rc = check_id(g, &id, name, err);
    struct out *o = rc == 0 ? out_new(g, name, err) : NULL;
    if (!o)
        return rc < 0 ? rc : WI_ENOMEM;
    o->fp = fp;
    o->borrowed = 1;
    o->id = id;
    g->n_outs++;
    return 0;
}

/* Flushes, syncs (temporaries) and closes one output, unless done. */
static int out_finish(struct out *o, int sync, wi_error_t *err)
{
    if (!o->fp)
        return 0;
    errno = 0;
    int bad = fflush(o->fp) != 0 || ferror(o->fp);
    if (!bad && sync && o->tmp && fsync(fileno(o->fp)) != 0)
        bad = 1;
    int e = errno ? errno : EIO;
    if (!o->borrowed) {
        if (fclose(o->fp) != 0 && !bad) {
            bad = 1;
            e = errno;
        }
        o->fp = NULL;
    }
    return bad ? wi_error_set(err, WI_EIO, o->label, NULL, "cannot write: %s",
                              strerror(e))
               : 0;
}

static int sync_dir(const char *target)
{
    char *dir = dir_of(target);
    int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    free(dir);
    if (fd < 0)
        return -1;
    int rc = fsync(fd) != 0 && errno != EINVAL && errno != EROFS ? -1 : 0;
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

FILE *wi_priv_output_group_stream(const wi_output_group_t *g, const char *path)
{
    for (size_t i = 0; g && path && i < g->n_outs; i++)
        if (!g->outs[i].borrowed && strcmp(g->outs[i].label, path) == 0)
            return g->outs[i].fp;
    return NULL;
}

int wi_priv_output_group_close(wi_output_group_t *g, FILE *fp, wi_error_t *err)
{
    for (size_t i = 0; fp && i < g->n_outs; i++)
        if (g->outs[i].fp == fp)
            return out_finish(&g->outs[i], !g->no_sync, err);
    return wi_error_set(err, WI_EINVAL, NULL, NULL, "not an open output of the group");
}

/* What would make rename(tmp, target) fail, for every output before the
 * first rename: a failing output must not leave the others replaced.
 * (Another process can still interfere between this and the renames.) */
static int check_rename(const struct out *o, wi_error_t *err)
{
    struct stat st;
    if (lstat(o->tmp, &st) != 0 || st.st_dev != o->tmp_dev || st.st_ino != o->tmp_ino)
        return wi_error_set(err, WI_EIO, o->label, NULL, "its temporary %s was "
                            "removed or replaced while writing (folder moved?)",
                            o->tmp);
    if (stat(o->target, &st) == 0 && S_ISDIR(st.st_mode))
        return wi_error_set(err, WI_EIO, o->label, NULL, "cannot replace: it is a "
                            "directory now");
    return check_replace(o->target, o->label, 1, err);
}

void wi_output_group_set_sync(wi_output_group_t *g, int sync)
{
    g->no_sync = !sync;
}

int wi_output_group_commit(wi_output_group_t *g, wi_error_t *err)
{
    if (g->committed)
        return wi_error_set(err, WI_ESTATE, NULL, NULL, "the outputs are already "
                            "committed");
    g->committed = 1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < g->n_outs; i++)
        rc = out_finish(&g->outs[i], !g->no_sync, err);
    for (size_t i = 0; rc == 0 && i < g->n_outs; i++)
        if (g->outs[i].tmp)
            rc = check_rename(&g->outs[i], err);
    /* A signal handler (wi_output_remove_temps) must not split the
     * renames: signals wait until they are done. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (size_t i = 0; rc == 0 && i < g->n_outs; i++) {
        struct out *o = &g->outs[i];
        if (!o->tmp)
            continue;
        if (rename(o->tmp, o->target) != 0) {
            rc = wi_error_set(err, WI_EIO, o->label, NULL, "cannot replace: %s",
                              strerror(errno));
            break;
        }
        free(o->tmp);
        o->tmp = NULL;
        slot_release(o->slot);
        o->slot = -1;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    for (size_t i = 0; rc == 0 && !g->no_sync && i < g->n_outs; i++)
        if (g->outs[i].target && sync_dir(g->outs[i].target) != 0)
            rc = wi_error_set(err, WI_EIO, g->outs[i].label, NULL, "written, but "
                              "syncing its folder failed: %s", strerror(errno));
    if (rc < 0) /* before the first rename: no output is left anywhere */
        for (size_t i = 0; i < g->n_outs; i++)
            if (g->outs[i].tmp) {
                unlink(g->outs[i].tmp);
                free(g->outs[i].tmp);
                g->outs[i].tmp = NULL;
            }
    return rc;
}

void wi_output_group_free(wi_output_group_t *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n_outs; i++)
        out_discard(&g->outs[i]);
    for (size_t i = 0; i < g->n_ins; i++)
        free(g->ins[i].label);
    free(g->outs);
    free(g->ins);
    free(g);
}

const char *wi_priv_atomic_temp(const wi_priv_atomic_t *f)
{
    const struct out *o = f->group && f->group->n_outs ? &f->group->outs[0] : NULL;
    return !o ? NULL : o->tmp ? o->tmp : o->label;
}
