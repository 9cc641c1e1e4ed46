/* The registry of initializer and module types by name, and the plugin
 * loader that checks a file before dlopen sees it and its descriptor
 * after. */
#include <dirent.h>
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <weightinit/registry.h>

#include "base/suggest.h"
#include "plugin/registry_internal.h"

struct entry {
    wi_registry_kind_t kind;
    char *name;
    char *origin;
    const void *type; /* wi_initializer_type_t or wi_module_type_t */
};

struct loaded {
    char *path; /* realpath */
    dev_t dev;  /* the file's identity: a file reached by two paths */
    ino_t ino;  /* (a hard link, a bind mount) is still one plugin */
    void *handle;
    void (*unload)(void); /* the descriptor's (1.4), or NULL */
};

struct failure {
    char *file;
    char *message;
};

struct wi_registry {
    struct entry *entries;
    size_t n_entries, cap_entries;
    struct loaded *plugins;
    size_t n_plugins;
    struct failure *failures;
    size_t n_failures;
};

/* The plugin being registered: its registry and file. */
struct wi_plugin {
    wi_registry_t *reg;
    const char *file;
};

wi_registry_t *wi_registry_new(void)
{
    return calloc(1, sizeof(wi_registry_t));
}

void wi_registry_free(wi_registry_t *reg)
{
    if (!reg)
        return;
    for (size_t i = 0; i < reg->n_entries; i++) {
        free(reg->entries[i].name);
        free(reg->entries[i].origin);
    }
    for (size_t i = 0; i < reg->n_failures; i++) {
        free(reg->failures[i].file);
        free(reg->failures[i].message);
    }
    /* Entries point into the plugins: close those last. */
    for (size_t i = 0; i < reg->n_plugins; i++) {
        if (reg->plugins[i].unload)
            reg->plugins[i].unload();
        dlclose(reg->plugins[i].handle);
        free(reg->plugins[i].path);
    }
    free(reg->entries);
    free(reg->plugins);
    free(reg->failures);
    free(reg);
}

static wi_registry_t *default_registry;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

static void free_default(void) { wi_registry_free(default_registry); }

static void create_default(void)
{
    default_registry = wi_registry_new();
    if (default_registry)
        atexit(free_default);
}

wi_registry_t *wi_registry_default(void)
{
    pthread_once(&default_once, create_default);
    return default_registry;
}

static const struct entry *find(const wi_registry_t *reg,
                                wi_registry_kind_t kind, const char *name)
{
    for (size_t i = 0; i < reg->n_entries; i++)
        if (reg->entries[i].kind == kind && strcmp(reg->entries[i].name, name) == 0)
            return &reg->entries[i];
    return NULL;
}

static const char *kind_name(wi_registry_kind_t kind)
{
    return kind == WI_REGISTRY_INITIALIZER ? "initializer" : "module type";
}

static int add_entry(wi_registry_t *reg, wi_registry_kind_t kind,
                     const char *name, const void *type, const char *origin,
                     wi_error_t *err)
{
    if (!name || !name[0])
        return wi_error_set(err, WI_EPLUGIN, origin, NULL,
                            "a %s without a name", kind_name(kind));
    const struct entry *dup = find(reg, kind, name);
    if (dup)
        return wi_error_set(err, WI_EINVAL, origin, NULL,
                            "%s '%s' is registered twice: by %s and by %s",
                            kind_name(kind), name, dup->origin, origin);
    if (reg->n_entries == reg->cap_entries) {
        size_t cap = reg->cap_entries ? reg->cap_entries * 2 : 16;
        struct entry *e = realloc(reg->entries, cap * sizeof *e);
        if (!e)
            return wi_error_set(err, WI_ENOMEM, origin, NULL, "out of memory");
        reg->entries = e;
        reg->cap_entries = cap;
    }
    struct entry e = {kind, strdup(name), strdup(origin), type};
    if (!e.name || !e.origin) {
        free(e.name);
        free(e.origin);
        return wi_error_set(err, WI_ENOMEM, origin, NULL, "out of memory");
    }
    reg->entries[reg->n_entries++] = e;
    return 0;
}

int wi_registry_add_initializer(wi_registry_t *reg,
                                const wi_initializer_type_t *type,
                                const char *origin, wi_error_t *err)
{
    if (!type || type->struct_size < WI_INITIALIZER_TYPE_SIZE_1_0 ||
        !type->create || !type->info || !type->destroy ||
        !type->init_module == !type->apply)
        return wi_error_set(err, WI_EPLUGIN, origin, NULL,
                            "initializer type '%s' is incomplete: it needs "
                            "struct_size, create, info, destroy and exactly "
                            "one of init_module and apply",
                            type && type->name ? type->name : "?");
    return add_entry(reg, WI_REGISTRY_INITIALIZER, type->name, type, origin, err);
}

int wi_registry_add_module_type(wi_registry_t *reg,
                                const wi_module_type_t *type,
                                const char *origin, wi_error_t *err)
{
    if (!type || type->struct_size < WI_MODULE_TYPE_SIZE_1_1 || !type->name)
        return wi_error_set(err, WI_EPLUGIN, origin, NULL,
                            "module type '%s' is incomplete: its struct_size "
                            "is %u, less than the %zu bytes of ABI 1.1, or it "
                            "has no name", type && type->name ? type->name : "?",
                            type ? type->struct_size : 0,
                            (size_t)WI_MODULE_TYPE_SIZE_1_1);
    return add_entry(reg, WI_REGISTRY_MODULE_TYPE, type->name, type, origin, err);
}

int wi_priv_register_initializer(wi_plugin_t *plugin,
                             const wi_initializer_type_t *type, wi_error_t *err)
{
    return wi_registry_add_initializer(plugin->reg, type, plugin->file, err);
}

int wi_priv_register_module_type(wi_plugin_t *plugin, const wi_module_type_t *type,
                             wi_error_t *err)
{
    return wi_registry_add_module_type(plugin->reg, type, plugin->file, err);
}

/* ---- loading ---------------------------------------------------------- */

static int already_loaded(const wi_registry_t *reg, const struct stat *st)
{
    for (size_t i = 0; i < reg->n_plugins; i++)
        if (reg->plugins[i].dev == st->st_dev && reg->plugins[i].ino == st->st_ino)
            return 1;
    return 0;
}

/* Checks the descriptor; returns 0 or fills err with both versions. */
static int check_descriptor(const wi_plugin_descriptor_t *d, const char *path,
                            wi_error_t *err)
{
    if (!d)
        return wi_error_set(err, WI_EPLUGIN, path, NULL,
                            "%s() returned NULL", WI_PLUGIN_DESCRIPTOR_SYMBOL);
    if (d->abi_major != WI_PLUGIN_ABI_MAJOR || d->abi_minor > WI_PLUGIN_ABI_MINOR)
        return wi_error_set(err, WI_EPLUGIN, path, NULL,
                            "plugin ABI %u.%u is not supported: this weightinit "
                            "has plugin ABI %d.%d and loads %d.0 to %d.%d; "
                            "rebuild the plugin against this weightinit's "
                            "headers", d->abi_major, d->abi_minor,
                            WI_PLUGIN_ABI_MAJOR, WI_PLUGIN_ABI_MINOR,
                            WI_PLUGIN_ABI_MAJOR, WI_PLUGIN_ABI_MAJOR,
                            WI_PLUGIN_ABI_MINOR);
    /* Read at its own size: smaller is older, larger is newer (members
     * this host does not know are ignored), below 1.0's is not ours. */
    if (d->struct_size < WI_PLUGIN_DESCRIPTOR_SIZE_1_0)
        return wi_error_set(err, WI_EPLUGIN, path, NULL,
                            "plugin descriptor has size %u, less than the %zu "
                            "bytes of ABI %d.0: the plugin was not built with "
                            "WI_PLUGIN_DEFINE from weightinit/plugin.h",
                            d->struct_size, (size_t)WI_PLUGIN_DESCRIPTOR_SIZE_1_0,
                            WI_PLUGIN_ABI_MAJOR);
    if (!d->name || !d->register_types)
        return wi_error_set(err, WI_EPLUGIN, path, NULL,
                            "plugin descriptor lacks a name or a register "
                            "function");
    return 0;
}

static const wi_host_t *installed_host;

void wi_priv_host_install(const wi_host_t *host) { installed_host = host; }
const wi_host_t *wi_priv_host(void) { return installed_host; }

/* Runs the register function; on failure removes what it registered. */
static int register_plugin(wi_registry_t *reg, const wi_plugin_descriptor_t *d,
                           const char *path, wi_error_t *err)
{
    size_t before = reg->n_entries;
    struct wi_plugin plugin = {reg, path};
    wi_error_t inner;
    wi_error_clear(&inner);
    int rc = d->register_types(wi_priv_host(), &plugin, &inner);
    if (rc == 0)
        return 0;
    while (reg->n_entries > before) {
        reg->n_entries--;
        free(reg->entries[reg->n_entries].name);
        free(reg->entries[reg->n_entries].origin);
    }
    char msg[WI_ERROR_TEXT_LENGTH + 64];
    if (strcmp(inner.source, path) == 0) /* named once, by the outer error */
        inner.source[0] = '\0';
    return wi_error_set(err, rc < 0 ? rc : WI_EPLUGIN, path, NULL,
                        "registering plugin '%s' failed: %s", d->name,
                        inner.text[0] ? wi_error_format(&inner, msg, sizeof msg)
                                      : "(no message)");
}

static int remember(wi_registry_t *reg, const char *real, const struct stat *st,
                    void *handle, void (*unload)(void), wi_error_t *err)
{
    struct loaded *p = realloc(reg->plugins, (reg->n_plugins + 1) * sizeof *p);
    char *copy = strdup(real);
    if (!p || !copy) {
        free(copy);
        if (p)
            reg->plugins = p;
        return wi_error_set(err, WI_ENOMEM, real, NULL, "out of memory");
    }
    reg->plugins = p;
    reg->plugins[reg->n_plugins++] =
        (struct loaded){copy, st->st_dev, st->st_ino, handle, unload};
    return 0;
}

/* The ELF header of this library as loaded: the class, byte order and
 * machine a plugin must share to be loadable here. */
static const ElfW(Ehdr) *host_elf(void)
{
    static const char anchor = 0;
    Dl_info info;
    if (!dladdr(&anchor, &info) || !info.dli_fbase)
        return NULL;
    const ElfW(Ehdr) *h = info.dli_fbase;
    return memcmp(h->e_ident, ELFMAG, SELFMAG) == 0 ? h : NULL;
}

/* off + n * size <= file size, without overflow. */
static int fits(uint64_t off, uint64_t n, uint64_t size, uint64_t file)
{
    return off <= file && (size == 0 || n <= (file - off) / size);
}

/* Reads n bytes at off of fd (off + n within the file) into a new
 * buffer; NULL when out of memory or the read falls short. */
static char *read_at(int fd, uint64_t off, uint64_t n)
{
    char *buf = n <= SIZE_MAX ? malloc(n ? (size_t)n : 1) : NULL;
    if (buf && pread(fd, buf, (size_t)n, (off_t)off) != (ssize_t)n) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* The first undefined dynamic symbol named wi_* in syms/strs (the
 * .dynsym and .dynstr sections read whole), or NULL.  strs ends in a NUL
 * byte, so every name is a C string. */
static const char *first_wi_import(const ElfW(Sym) *syms, size_t n_syms,
                                   const char *strs, size_t n_strs)
{
    for (size_t i = 0; i < n_syms; i++) {
        ElfW(Word) at = syms[i].st_name;
        if (syms[i].st_shndx == SHN_UNDEF && at < n_strs &&
            strncmp(strs + at, "wi_", 3) == 0)
            return strs + at;
    }
    return NULL;
}

/* Why the ELF image in fd breaks the plugin ABI's one rule, or NULL: a
 * plugin reaches weightinit only through the host table, so a direct
 * call of a wi_* function (it would resolve against the library loaded in
 * the process, by-passing the ABI's versioning) is refused before dlopen
 * runs any of its code.  Section headers are optional in ELF: without
 * them there is nothing to check. */
static const char *abi_problem(int fd, uint64_t size, const ElfW(Ehdr) *eh,
                               char *why, size_t n)
{
    ElfW(Shdr) dyn, str;
    int found = 0;
    for (unsigned i = 0; eh->e_shoff && i < eh->e_shnum && !found; i++) {
        if (pread(fd, &dyn, sizeof dyn, (off_t)(eh->e_shoff + (uint64_t)i * sizeof dyn)) !=
            (ssize_t)sizeof dyn)
            return "truncated: cannot read a section header";
        found = dyn.sh_type == SHT_DYNSYM;
    }
    if (!found)
        return NULL;
    if (dyn.sh_entsize != sizeof(ElfW(Sym)) || dyn.sh_link >= eh->e_shnum ||
        !fits(dyn.sh_offset, 1, dyn.sh_size, size) ||
        pread(fd, &str, sizeof str,
              (off_t)(eh->e_shoff + (uint64_t)dyn.sh_link * sizeof str)) != (ssize_t)sizeof str ||
        !fits(str.sh_offset, 1, str.sh_size, size) || str.sh_size == 0)
        return "corrupt: its dynamic symbol table lies past the end of the file";
    ElfW(Sym) *syms = (ElfW(Sym) *)read_at(fd, dyn.sh_offset, dyn.sh_size);
    char *strs = read_at(fd, str.sh_offset, str.sh_size);
    const char *name = NULL, *problem = NULL;
    if (!syms || !strs)
        problem = "cannot read its dynamic symbol table (out of memory?)";
    else if (strs[str.sh_size - 1] != '\0')
        problem = "corrupt: its dynamic string table is not NUL-terminated";
    else if ((name = first_wi_import(syms, dyn.sh_size / sizeof *syms, strs, str.sh_size)))
        problem = why;
    if (name)
        snprintf(why, n, "it calls weightinit's %.64s directly; a plugin may call "
                 "weightinit only through the host table it is handed (include "
                 "only weightinit/plugin.h and link with -Wl,-z,defs)", name);
    free(syms);
    free(strs);
    return problem;
}

/* Why the ELF image in fd (size bytes) cannot be mapped safely, or NULL.
 * dlopen maps the file and would die of SIGBUS touching a page past the
 * end of a truncated file: every table and every loaded segment must lie
 * inside the file. */
static const char *elf_problem(int fd, uint64_t size, char *why, size_t n)
{
    ElfW(Ehdr) eh;
    memset(&eh, 0, sizeof eh);
    const ElfW(Ehdr) *host = host_elf();
    ssize_t got = pread(fd, &eh, sizeof eh, 0);
    if (got < 0) {
        snprintf(why, n, "cannot read it: %s", strerror(errno));
        return why;
    }
    if ((size_t)got < SELFMAG || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
        return "not an ELF file (no ELF magic number)";
    if ((size_t)got < sizeof eh)
        return "truncated: too short for an ELF header";
    if (host && (eh.e_ident[EI_CLASS] != host->e_ident[EI_CLASS] ||
                 eh.e_ident[EI_DATA] != host->e_ident[EI_DATA] ||
                 eh.e_machine != host->e_machine)) {
        snprintf(why, n, "built for another machine (ELF class %d, byte order "
                 "%d, machine %d; this weightinit is class %d, byte order %d, "
                 "machine %d)", eh.e_ident[EI_CLASS], eh.e_ident[EI_DATA],
                 eh.e_machine, host->e_ident[EI_CLASS], host->e_ident[EI_DATA],
                 host->e_machine);
        return why;
    }
    if (eh.e_type != ET_DYN)
        return "not a shared object (ELF type is not ET_DYN): build it with "
               "-shared -fPIC";
    if (eh.e_phentsize != sizeof(ElfW(Phdr)) ||
        !fits(eh.e_phoff, eh.e_phnum, sizeof(ElfW(Phdr)), size))
        return "truncated or corrupt: the program header table lies past the "
               "end of the file";
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        ElfW(Phdr) ph;
        off_t at = (off_t)(eh.e_phoff + (uint64_t)i * sizeof ph);
        if (pread(fd, &ph, sizeof ph, at) != (ssize_t)sizeof ph)
            return "truncated: cannot read a program header";
        if ((ph.p_type == PT_LOAD || ph.p_type == PT_DYNAMIC) &&
            !fits(ph.p_offset, 1, ph.p_filesz, size)) {
            snprintf(why, n, "truncated: segment %u needs bytes up to %llu but "
                     "the file has %llu (an interrupted copy or download?)", i,
                     (unsigned long long)ph.p_offset + ph.p_filesz,
                     (unsigned long long)size);
            return why;
        }
    }
    if (eh.e_shoff && (eh.e_shentsize != sizeof(ElfW(Shdr)) ||
                       !fits(eh.e_shoff, eh.e_shnum ? eh.e_shnum : 1,
                             sizeof(ElfW(Shdr)), size)))
        return "truncated: the section header table lies past the end of the "
               "file";
    return abi_problem(fd, size, &eh, why, n);
}

/* Opens path without blocking (a FIFO has no writer), and refuses what
 * dlopen must never see: anything but a regular file, a file that is not
 * a complete ELF shared object for this machine.  Fills st. */
static int check_file(const char *path, struct stat *st, wi_error_t *err)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return wi_error_set(err, WI_EPLUGIN, path, NULL,
                            "cannot open plugin: %s", strerror(errno));
    char buf[400];
    const char *why = NULL;
    if (fstat(fd, st) < 0)
        why = strerror(errno);
    else if (S_ISDIR(st->st_mode))
        why = "it is a directory, not a plugin file";
    else if (!S_ISREG(st->st_mode))
        why = "not a regular file (a FIFO, socket or device is never loaded)";
    else
        why = elf_problem(fd, (uint64_t)st->st_size, buf, sizeof buf);
    close(fd);
    if (why)
        return wi_error_set(err, WI_EPLUGIN, path, NULL,
                            "not a loadable shared object: %s", why);
    return 0;
}

int wi_priv_registry_load_plugin(wi_registry_t *reg, const char *path,
                                 int *loaded, wi_error_t *err)
{
    char real[PATH_MAX];
    struct stat st;
    *loaded = 0;
    if (!reg || !path)
        return wi_error_set(err, WI_EINVAL, path, NULL,
                            "no registry or no plugin path");
    if (!realpath(path, real))
        return wi_error_set(err, WI_EPLUGIN, path, NULL,
                            "cannot open plugin: %s", strerror(errno));
    int rc = check_file(real, &st, err);
    if (rc < 0) {
        if (err) /* name the file as the caller did */
            snprintf(err->source, sizeof err->source, "%s", path);
        return rc;
    }
    if (already_loaded(reg, &st))
        return 0;
    /* dlopen needs a path with a slash to skip the library search. */
    void *handle = dlopen(real, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char *why = dlerror();
        return wi_error_set(err, WI_EPLUGIN, path, NULL,
                            "not a loadable shared object: %s",
                            why ? why : "unknown reason");
    }
    wi_plugin_descriptor_fn fn;
    *(void **)&fn = dlsym(handle, WI_PLUGIN_DESCRIPTOR_SYMBOL);
    const wi_plugin_descriptor_t *d = fn ? fn() : NULL;
    rc = fn ? check_descriptor(d, path, err)
            : wi_error_set(err, WI_EPLUGIN, path, NULL,
                           "not a weightinit plugin: no '%s' symbol "
                           "(define it with WI_PLUGIN_DEFINE)",
                           WI_PLUGIN_DESCRIPTOR_SYMBOL);
    void (*unload)(void) = rc == 0 && WI_PLUGIN_DESCRIPTOR_HAS(d, unload) ? d->unload : NULL;
    /* Remembered before registering, so that no registered type ever
     * outlives the handle that holds it. */
    if (rc == 0)
        rc = remember(reg, real, &st, handle, unload, err);
    if (rc == 0 && (rc = register_plugin(reg, d, path, err)) < 0) {
        free(reg->plugins[--reg->n_plugins].path);
        if (unload)
            unload();
    }
    if (rc < 0)
        dlclose(handle);
    *loaded = rc == 0;
    return rc;
}

int wi_registry_load_plugin(wi_registry_t *reg, const char *path,
                            wi_error_t *err)
{
    int loaded;
    return wi_priv_registry_load_plugin(reg, path, &loaded, err);
}

static void record_failure(wi_registry_t *reg, const char *file,
                           const wi_error_t *err)
{
    char msg[1200];
    struct failure *f = realloc(reg->failures, (reg->n_failures + 1) * sizeof *f);
    if (!f)
        return;
    reg->failures = f;
    f[reg->n_failures].file = strdup(file);
    f[reg->n_failures].message = strdup(wi_error_format(err, msg, sizeof msg));
    reg->n_failures++;
}

static int is_plugin_file(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    return n > 3 && strcmp(e->d_name + n - 3, ".so") == 0;
}

static int load_dir(wi_registry_t *reg, const char *dir)
{
    struct dirent **list;
    int n = scandir(dir, &list, is_plugin_file, alphasort), failures = 0;
    for (int i = 0; i < n; i++) {
        char path[PATH_MAX];
        wi_error_t err;
        snprintf(path, sizeof path, "%s/%s", dir, list[i]->d_name);
        if (wi_registry_load_plugin(reg, path, &err) < 0) {
            record_failure(reg, path, &err);
            failures++;
        }
        free(list[i]);
    }
    free(list);
    return failures;
}

static char builtin_dir[PATH_MAX];

/* The built-in plugins sit beside the library: build/plugins for a build
 * tree, <libdir>/weightinit/plugins once installed, found relative to the
 * library itself so that a relocated or DESTDIR-staged install works. */
static void find_builtin_dir(void)
{
    Dl_info info;
    char lib[PATH_MAX], build[PATH_MAX];
    snprintf(builtin_dir, sizeof builtin_dir, "%s", WI_PLUGINDIR);
    static const char anchor = 0; /* any object inside this library */
    if (!dladdr(&anchor, &info) || !info.dli_fname ||
        !realpath(info.dli_fname, lib))
        return;
    char *slash = strrchr(lib, '/');
    if (!slash)
        return;
    *slash = '\0';
    if (realpath(WI_BUILD_LIBDIR, build) && strcmp(lib, build) == 0)
        snprintf(builtin_dir, sizeof builtin_dir, "%s", WI_BUILD_PLUGINDIR);
    else if (snprintf(builtin_dir, sizeof builtin_dir, "%s/weightinit/plugins",
                      lib) >= (int)sizeof builtin_dir)
        snprintf(builtin_dir, sizeof builtin_dir, "%s", WI_PLUGINDIR);
}

const char *wi_registry_builtin_plugin_dir(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, find_builtin_dir);
    return builtin_dir;
}

int wi_registry_load_builtin(wi_registry_t *reg)
{
    return reg ? load_dir(reg, wi_registry_builtin_plugin_dir()) : 0;
}

int wi_registry_load_path(wi_registry_t *reg, const char *dirs)
{
    int failures = 0;
    char *copy = reg && dirs && *dirs ? strdup(dirs) : NULL, *save = NULL;
    for (char *dir = copy ? strtok_r(copy, ":", &save) : NULL; dir;
         dir = strtok_r(NULL, ":", &save))
        failures += load_dir(reg, dir);
    free(copy);
    return failures;
}

int wi_registry_load_search_path(wi_registry_t *reg)
{
    int failures = wi_registry_load_builtin(reg);
    return failures + wi_registry_load_path(reg, getenv("WEIGHTINIT_PLUGIN_PATH"));
}

/* ---- lookups ---------------------------------------------------------- */

static int by_entry_name(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    if (x->kind != y->kind)
        return (int)x->kind - (int)y->kind;
    return strcmp(x->name, y->name);
}

static void sort_entries(const wi_registry_t *reg)
{
    if (reg->n_entries > 1)
        qsort(reg->entries, reg->n_entries, sizeof *reg->entries, by_entry_name);
}

static void not_found(const wi_registry_t *reg, const char *name,
                      wi_error_t *err)
{
    char names[WI_ERROR_TEXT_LENGTH] = "", hint[160] = "";
    size_t len = 0, best = 4;
    sort_entries(reg);
    for (size_t i = 0; i < reg->n_entries; i++) {
        const struct entry *e = &reg->entries[i];
        if (e->kind != WI_REGISTRY_INITIALIZER)
            continue;
        if (len < sizeof names)
            len += (size_t)snprintf(names + len, sizeof names - len, "%s%s",
                                    len ? ", " : "", e->name);
        size_t d = wi_priv_edit_distance(name, e->name);
        if (d < best) {
            best = d;
            snprintf(hint, sizeof hint, "did you mean '%s'? ", e->name);
        }
    }
    char failed[300] = "";
    if (reg->n_failures)
        snprintf(failed, sizeof failed, "; %zu plugin(s) failed to load, "
                 "first: %s", reg->n_failures, reg->failures[0].message);
    wi_error_set(err, WI_ENOTFOUND, NULL, NULL,
                 "unknown initializer '%s'; %sregistered: %s%s", name, hint,
                 len ? names : "(none: no initializer plugin was loaded)",
                 failed);
}

const wi_initializer_type_t *
wi_registry_find_initializer(const wi_registry_t *reg, const char *name,
                             wi_error_t *err)
{
    const struct entry *e = find(reg, WI_REGISTRY_INITIALIZER, name);
    if (!e)
        not_found(reg, name, err);
    return e ? e->type : NULL;
}

const wi_module_type_t *wi_registry_find_module_type(const wi_registry_t *reg,
                                                     const char *name)
{
    const struct entry *e = find(reg, WI_REGISTRY_MODULE_TYPE, name);
    return e ? e->type : NULL;
}

size_t wi_registry_size(const wi_registry_t *reg)
{
    sort_entries(reg);
    return reg->n_entries;
}

const char *wi_registry_name(const wi_registry_t *reg, size_t i) { return reg->entries[i].name; }
wi_registry_kind_t wi_registry_kind(const wi_registry_t *reg, size_t i) { return reg->entries[i].kind; }
const char *wi_registry_origin(const wi_registry_t *reg, size_t i) { return reg->entries[i].origin; }
size_t wi_registry_failure_count(const wi_registry_t *reg) { return reg->n_failures; }
const char *wi_registry_failure_file(const wi_registry_t *reg, size_t i) { return reg->failures[i].file; }
const char *wi_registry_failure_message(const wi_registry_t *reg, size_t i) { return reg->failures[i].message; }
