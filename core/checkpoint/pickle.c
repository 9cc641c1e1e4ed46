/* A safe pickle virtual machine for torch.save streams (pickle.h): only
 * the opcodes and allowlisted globals a state dict needs, nothing called. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weightinit/tensor.h>

#include "checkpoint/pickle.h"

/* Everything a pickle builds is bump-allocated from chunks and freed at
 * once: memo sharing and cycles (a list appended to itself) then need no
 * reference counting.  Growable arrays of lists and dicts are realloc'd
 * and remembered in `conts`. */
struct chunk {
    struct chunk *next;
    size_t used, size;
    _Alignas(16) unsigned char data[];
};

/* The VM refuses to hold more than this; with WI_PICKLE_MAX_BYTES of
 * input a legitimate stream needs far less. */
#define VM_MEM_MAX ((size_t)1 << 30)

struct wi_priv_pickle {
    struct chunk *chunks;
    size_t mem;
    wi_priv_pval_t **conts;
    size_t nconts, capconts;
    wi_priv_storage_t **storages;
    size_t nstorages, capstorages;
    wi_priv_strset_t storage_keys;
    wi_priv_pval_t **stack;
    size_t sp, capstack;
    size_t *marks;
    size_t nmarks, capmarks;
    wi_priv_pval_t **memo;
    size_t capmemo;
};

struct run {
    wi_priv_pickle_t *vm;
    const uint8_t *buf;
    size_t len, pos, op_pos;
    int pid_len;
    const char *source, *what;
    wi_error_t *err;
};

wi_priv_pickle_t *wi_priv_pickle_new(void)
{
    return calloc(1, sizeof(wi_priv_pickle_t));
}

void wi_priv_pickle_free(wi_priv_pickle_t *vm)
{
    if (!vm)
        return;
    for (size_t i = 0; i < vm->nconts; i++) {
        wi_priv_pval_t *c = vm->conts[i];
        if (c->kind == WI_PK_DICT) {
            free(c->u.dict.keys);
            free(c->u.dict.values);
        } else {
            free(c->u.seq.items);
        }
    }
    free(vm->conts);
    free(vm->storages);
    wi_priv_strset_free(&vm->storage_keys);
    free(vm->stack);
    free(vm->marks);
    free(vm->memo);
    for (struct chunk *c = vm->chunks, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(vm);
}

static int fail(struct run *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct run *r, int code, const char *fmt, ...)
{
    char msg[WI_ERROR_TEXT_LENGTH];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return wi_error_set(r->err, code, r->source, NULL, "%s at byte %zu: %s",
                        r->what, r->op_pos, msg);
}

static int oom(struct run *r)
{
    return fail(r, WI_ENOMEM, "out of memory (the pickle needs more than "
                              "%zu MiB or malloc failed)",
                VM_MEM_MAX >> 20);
}

/* Accounts n more bytes; 0 when within the cap. */
static int charge(wi_priv_pickle_t *vm, size_t n)
{
    if (n > VM_MEM_MAX - vm->mem)
        return -1;
    vm->mem += n;
    return 0;
}

static void *arena_alloc(struct run *r, size_t n)
{
    wi_priv_pickle_t *vm = r->vm;
    if (n > VM_MEM_MAX) {
        oom(r);
        return NULL;
    }
    n = (n + 15) & ~(size_t)15;
    struct chunk *c = vm->chunks;
    if (!c || c->size - c->used < n) {
        size_t size = n > 65536 ? n : 65536;
        if (charge(vm, size) < 0 || !(c = malloc(sizeof *c + size))) {
            oom(r);
            return NULL;
        }
        c->size = size;
        c->used = 0;
        c->next = vm->chunks;
        vm->chunks = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

/* Returns arr grown to hold at least need elements of esize (arr itself
 * when it already does), or NULL with the error set and arr untouched.
 * Returning the pointer keeps the callers' typed arrays free of
 * void ** aliasing. */
static void *grow(struct run *r, void *arr, size_t *cap, size_t need,
                  size_t esize)
{
    if (arr && need <= *cap)
        return arr;
    size_t ncap = *cap ? *cap : 8;
    while (ncap < need)
        ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
    if (ncap > SIZE_MAX / esize || charge(r->vm, (ncap - *cap) * esize) < 0) {
        oom(r);
        return NULL;
    }
    void *p = realloc(arr, ncap * esize);
    if (!p) {
        oom(r);
        return NULL;
    }
    *cap = ncap;
    return p;
}

static wi_priv_pval_t *new_val(struct run *r, wi_priv_pkind_t kind)
{
    wi_priv_pval_t *v = arena_alloc(r, sizeof *v);
    if (v) {
        memset(v, 0, sizeof *v);
        v->kind = kind;
    }
    return v;
}

/* Lists, sets and dicts own realloc'd arrays: remember them for free. */
static wi_priv_pval_t *new_container(struct run *r, wi_priv_pkind_t kind)
{
    wi_priv_pickle_t *vm = r->vm;
    wi_priv_pval_t **conts = grow(r, vm->conts, &vm->capconts,
                                  vm->nconts + 1, sizeof *conts);
    if (!conts)
        return NULL;
    vm->conts = conts;
    wi_priv_pval_t *v = new_val(r, kind);
    if (v)
        vm->conts[vm->nconts++] = v;
    return v;
}

static char *arena_strdup(struct run *r, const void *data, size_t len)
{
    if (len == SIZE_MAX) {
        oom(r);
        return NULL;
    }
    char *s = arena_alloc(r, len + 1);
    if (s) {
        memcpy(s, data, len);
        s[len] = '\0';
    }
    return s;
}

/* ---- stack, marks, memo ---- */

static size_t fence(const wi_priv_pickle_t *vm)
{
    return vm->nmarks ? vm->marks[vm->nmarks - 1] : 0;
}

static int push(struct run *r, wi_priv_pval_t *v)
{
    wi_priv_pickle_t *vm = r->vm;
    if (!v)
        return WI_ENOMEM;
    wi_priv_pval_t **stack = grow(r, vm->stack, &vm->capstack, vm->sp + 1,
                                  sizeof *stack);
    if (!stack)
        return WI_ENOMEM;
    vm->stack = stack;
    vm->stack[vm->sp++] = v;
    return 0;
}

static const char *opname(int op);

/* Python's unpickler cannot pop below the innermost MARK either. */
static wi_priv_pval_t *pop(struct run *r, int op)
{
    wi_priv_pickle_t *vm = r->vm;
    if (vm->sp <= fence(vm)) {
        fail(r, WI_EFORMAT, "stack underflow in %s", opname(op));
        return NULL;
    }
    return vm->stack[--vm->sp];
}

static wi_priv_pval_t *top(struct run *r, int op)
{
    wi_priv_pickle_t *vm = r->vm;
    if (vm->sp <= fence(vm)) {
        fail(r, WI_EFORMAT, "stack underflow in %s", opname(op));
        return NULL;
    }
    return vm->stack[vm->sp - 1];
}

/* Pops everything above the innermost MARK and the MARK itself;
 * *items points into the stack (valid until the next push). */
static int pop_mark(struct run *r, int op, wi_priv_pval_t ***items,
                    size_t *n)
{
    wi_priv_pickle_t *vm = r->vm;
    if (vm->nmarks == 0)
        return fail(r, WI_EFORMAT, "%s without a MARK", opname(op));
    size_t m = vm->marks[--vm->nmarks];
    *n = vm->sp - m;
    /* The stack may still be unallocated: NULL + 0 is undefined. */
    *items = *n ? vm->stack + m : NULL;
    vm->sp = m;
    return 0;
}

static int memo_put(struct run *r, uint64_t idx, int op)
{
    wi_priv_pickle_t *vm = r->vm;
    /* Picklers number memo slots 0, 1, 2...; each needs an opcode, so an
     * index beyond the stream length is hostile and would only make us
     * allocate. */
    if (idx > r->len)
        return fail(r, WI_EFORMAT, "%s memo index %llu is out of range",
                    opname(op), (unsigned long long)idx);
    wi_priv_pval_t *v = top(r, op);
    if (!v)
        return WI_EFORMAT;
    size_t old = vm->capmemo;
    wi_priv_pval_t **memo = grow(r, vm->memo, &vm->capmemo, (size_t)idx + 1,
                                 sizeof *memo);
    if (!memo)
        return WI_ENOMEM;
    vm->memo = memo;
    for (size_t i = old; i < vm->capmemo; i++)
        vm->memo[i] = NULL;
    vm->memo[idx] = v;
    return 0;
}

static int memo_get(struct run *r, uint64_t idx, int op)
{
    wi_priv_pickle_t *vm = r->vm;
    if (idx >= vm->capmemo || !vm->memo[idx])
        return fail(r, WI_EFORMAT, "%s of memo index %llu, which was never "
                                   "stored (bad memo index)",
                    opname(op), (unsigned long long)idx);
    return push(r, vm->memo[idx]);
}

/* ---- reading the stream ---- */

static int need(struct run *r, size_t n, int op)
{
    if (r->len - r->pos < n)
        return fail(r, WI_EFORMAT, "truncated pickle: %s needs %zu bytes, "
                                   "only %zu left",
                    opname(op), n, r->len - r->pos);
    return 0;
}

static uint64_t read_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* UTF-8 as Python's decoder with 'surrogatepass' accepts it (pickle
 * writes lone surrogates that way). */
static int valid_utf8(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t k;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            k = 1, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            k = 2, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            k = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return 0;
        }
        if (n - i <= k)
            return 0;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff)
            return 0;
        i += k + 1;
    }
    return 1;
}

static int push_str(struct run *r, size_t n, int op)
{
    if (need(r, n, op) < 0)
        return WI_EFORMAT;
    const uint8_t *p = r->buf + r->pos;
    if (!valid_utf8(p, n))
        return fail(r, WI_EFORMAT, "%s string is not valid UTF-8",
                    opname(op));
    wi_priv_pval_t *v = new_val(r, WI_PK_STR);
    if (!v || !(v->u.str.data = arena_strdup(r, p, n)))
        return WI_ENOMEM;
    v->u.str.len = n;
    r->pos += n;
    return push(r, v);
}

static int push_int(struct run *r, int64_t i)
{
    wi_priv_pval_t *v = new_val(r, WI_PK_INT);
    if (v)
        v->u.i = i;
    return push(r, v);
}

/* LONG1: little-endian two's complement of n bytes. */
static int push_long(struct run *r, size_t n, int op)
{
    if (need(r, n, op) < 0)
        return WI_EFORMAT;
    const uint8_t *p = r->buf + r->pos;
    r->pos += n;
    /* Drop redundant sign bytes, so that what fits int64 becomes INT. */
    while (n > 1 && ((p[n - 1] == 0x00 && !(p[n - 2] & 0x80)) ||
                     (p[n - 1] == 0xff && (p[n - 2] & 0x80))))
        n--;
    if (n <= 8) {
        uint64_t u = n ? read_le(p, (int)n) : 0;
        if (n && n < 8 && (p[n - 1] & 0x80))
            u |= ~(uint64_t)0 << (8 * n);
        int64_t i;
        memcpy(&i, &u, sizeof i); /* two's complement, no UB */
        return push_int(r, i);
    }
    wi_priv_pval_t *v = new_val(r, WI_PK_BIGINT);
    if (!v || !(v->u.str.data = arena_strdup(r, p, n)))
        return WI_ENOMEM;
    v->u.str.len = n;
    return push(r, v);
}

static int push_float_be(struct run *r, int op)
{
    if (need(r, 8, op) < 0)
        return WI_EFORMAT;
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u = u << 8 | r->buf[r->pos + i];
    r->pos += 8;
    double d;
    memcpy(&d, &u, sizeof d);
    wi_priv_pval_t *v = new_val(r, WI_PK_FLOAT);
    if (v)
        v->u.f = d;
    return push(r, v);
}

/* ---- globals ---- */

static int is_any(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return 1;
    return 0;
}

/* Globals whose only purpose in a pickle is running code.  We would never
 * call them anyway, but a file naming them is hostile: refuse it whole
 * rather than hand out its other contents. */
static int denied(const char *module, const char *name)
{
    static const char *const modules[] = {
        "os", "posix", "nt", "subprocess", "sys", "shutil", "socket", "pty",
        "runpy", "importlib", "pickle", "_pickle", "marshal", "ctypes",
        "code", "codeop", "commands", "webbrowser", "multiprocessing", NULL};
    static const char *const builtins[] = {
        "eval", "exec", "execfile", "compile", "__import__", "open", "input",
        "breakpoint", "setattr", "delattr", "globals", "locals", "vars",
        "exit", "quit", NULL};
    char root[64];
    size_t n = strcspn(module, ".");
    if (n < sizeof root) {
        memcpy(root, module, n);
        root[n] = '\0';
        if (is_any(root, modules))
            return 1;
    }
    return (strcmp(module, "builtins") == 0 ||
            strcmp(module, "__builtin__") == 0) &&
           is_any(name, builtins);
}

/* GLOBAL's arguments: two newline-terminated lines. */
static int read_line(struct run *r, const char **out)
{
    const uint8_t *p = r->buf + r->pos;
    size_t avail = r->len - r->pos, n = 0;
    while (n < avail && n < 1024 && p[n] != '\n')
        n++;
    if (n == avail)
        return fail(r, WI_EFORMAT, "truncated pickle: GLOBAL name is not "
                                   "terminated by a newline");
    if (n == 1024)
        return fail(r, WI_EFORMAT, "GLOBAL name longer than 1024 bytes");
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x20 || p[i] > 0x7e)
            return fail(r, WI_EFORMAT,
                        "GLOBAL name holds the non-printable byte 0x%02x",
                        p[i]);
    if (!(*out = arena_strdup(r, p, n)))
        return WI_ENOMEM;
    r->pos += n + 1;
    return 0;
}

static int op_global(struct run *r)
{
    const char *module, *name;
    if (read_line(r, &module) < 0 || read_line(r, &name) < 0)
        return WI_EFORMAT;
    if (denied(module, name))
        return fail(r, WI_EFORMAT,
                    "pickle global '%s %s' is not allowed: Python would run "
                    "code when loading this file (hostile file?)",
                    module, name);
    wi_priv_pval_t *v = new_val(r, WI_PK_GLOBAL);
    if (v) {
        v->u.global.module = module;
        v->u.global.name = name;
    }
    return push(r, v);
}

static int global_is(const wi_priv_pval_t *g, const char *module,
                     const char *name)
{
    return g->kind == WI_PK_GLOBAL && strcmp(g->u.global.module, module) == 0 &&
           strcmp(g->u.global.name, name) == 0;
}

static const struct {
    const char *name;
    int dtype;
    size_t esize;
} storage_types[] = {
    {"DoubleStorage", WI_DTYPE_F64, 8}, {"FloatStorage", WI_DTYPE_F32, 4},
    {"HalfStorage", WI_DTYPE_F16, 2},   {"BFloat16Storage", WI_DTYPE_BF16, 2},
    {"LongStorage", WI_DTYPE_I64, 8},   {"IntStorage", WI_DTYPE_I32, 4},
    {"ShortStorage", WI_DTYPE_I16, 2},  {"CharStorage", WI_DTYPE_I8, 1},
    {"ByteStorage", WI_DTYPE_U8, 1},    {"BoolStorage", WI_DTYPE_BOOL, 1},
    /* Recognised so that files holding them still parse; a tensor of
     * one of these is refused only if it is asked for. */
    {"ComplexDoubleStorage", -1, 16}, {"ComplexFloatStorage", -1, 8},
    {"QInt8Storage", -1, 1},          {"QInt32Storage", -1, 4},
    {"QUInt8Storage", -1, 1},         {"QUInt4x2Storage", -1, 1},
    {"QUInt2x4Storage", -1, 1},       {"UntypedStorage", -1, 1},
};

static int storage_type(const wi_priv_pval_t *g)
{
    if (g->kind != WI_PK_GLOBAL || strcmp(g->u.global.module, "torch") != 0)
        return -1;
    for (size_t i = 0; i < sizeof storage_types / sizeof *storage_types; i++)
        if (strcmp(g->u.global.name, storage_types[i].name) == 0)
            return (int)i;
    return -1;
}

/* ---- the allowlisted callables ---- */

static wi_priv_pval_t *new_opaque(struct run *r, const wi_priv_pval_t *cause)
{
    wi_priv_pval_t *v = new_val(r, WI_PK_OPAQUE);
    if (v)
        v->u.global = cause->u.global;
    return v;
}

/* A tensor whose arguments are wrong: refused only if it is asked for,
 * with the key it is stored under. */
static wi_priv_pval_t *bad_tensor(struct run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static wi_priv_pval_t *bad_tensor(struct run *r, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char full[320];
    snprintf(full, sizeof full, "%s (%s at byte %zu)", msg, r->what,
             r->op_pos);
    wi_priv_pval_t *v = new_val(r, WI_PK_TENSOR);
    if (v) {
        v->u.tensor.ndim = -1;
        if (!(v->u.tensor.invalid = arena_strdup(r, full, strlen(full))))
            return NULL;
    }
    return v;
}

/* Copies a tuple of ints >= 0; else the index of the first bad item. */
static int ints_of(const wi_priv_pval_t *t, int64_t *out, size_t n,
                   size_t *bad)
{
    for (size_t i = 0; i < n; i++) {
        if (t->u.seq.items[i]->kind != WI_PK_INT ||
            t->u.seq.items[i]->u.i < 0) {
            *bad = i;
            return -1;
        }
        out[i] = t->u.seq.items[i]->u.i;
    }
    return 0;
}

static wi_priv_pval_t *bad_dim(struct run *r, const char *what,
                               const wi_priv_pval_t *t, size_t i)
{
    const wi_priv_pval_t *v = t->u.seq.items[i];
    if (v->kind == WI_PK_INT)
        return bad_tensor(r, "tensor %s[%zu] is %lld, expected >= 0", what,
                          i, (long long)v->u.i);
    return bad_tensor(r, "tensor %s[%zu] is %s, expected an int", what, i,
                      wi_priv_pval_kind(v));
}

/* _rebuild_tensor_v2(storage, storage_offset, size, stride, ...).  The
 * bounds check is the one torch's set_() does: the last element the view
 * reaches must lie inside the storage. */
static wi_priv_pval_t *rebuild_tensor(struct run *r, wi_priv_pval_t **a,
                                      size_t n)
{
    if (n < 4)
        return bad_tensor(r, "_rebuild_tensor_v2 called with %zu arguments",
                          n);
    for (size_t i = 0; i < 4; i++)
        if (a[i]->kind == WI_PK_OPAQUE)
            return new_opaque(r, a[i]);
    if (a[0]->kind != WI_PK_STORAGE)
        return bad_tensor(r, "tensor storage is %s, not a storage",
                          wi_priv_pval_kind(a[0]));
    if (a[1]->kind != WI_PK_INT)
        return bad_tensor(r, "tensor storage offset is %s, not an int",
                          wi_priv_pval_kind(a[1]));
    if (a[1]->u.i < 0)
        return bad_tensor(r, "tensor storage offset %lld is negative",
                          (long long)a[1]->u.i);
    if (a[2]->kind != WI_PK_TUPLE || a[3]->kind != WI_PK_TUPLE ||
        a[2]->u.seq.len != a[3]->u.seq.len)
        return bad_tensor(r, "tensor size and stride are not two tuples of "
                             "equal length");
    size_t nd = a[2]->u.seq.len;
    if (nd > 64)
        return bad_tensor(r, "tensor has %zu dimensions", nd);
    int64_t *size = arena_alloc(r, (2 * nd + 1) * sizeof *size);
    if (!size)
        return NULL;
    int64_t *stride = size + nd;
    size_t bad;
    if (ints_of(a[2], size, nd, &bad) < 0)
        return bad_dim(r, "size", a[2], bad);
    if (ints_of(a[3], stride, nd, &bad) < 0)
        return bad_dim(r, "stride", a[3], bad);
    const wi_priv_storage_t *st = a[0]->u.storage;
    int64_t numel = 1, last = a[1]->u.i, term;
    for (size_t i = 0; i < nd; i++) {
        if (__builtin_mul_overflow(numel, size[i], &numel))
            return bad_tensor(r, "tensor size overflows 64 bits");
    }
    for (size_t i = 0; numel > 0 && i < nd; i++) {
        if (__builtin_mul_overflow(size[i] - 1, stride[i], &term) ||
            __builtin_add_overflow(last, term, &last))
            return bad_tensor(r, "tensor view overflows 64 bits");
    }
    if (numel > 0 && last >= st->numel)
        return bad_tensor(r, "tensor view (storage offset %lld) reaches "
                             "element %lld but storage '%s' holds only %lld "
                             "elements",
                          (long long)a[1]->u.i, (long long)last, st->key,
                          (long long)st->numel);
    wi_priv_pval_t *v = new_val(r, WI_PK_TENSOR);
    if (v) {
        v->u.tensor.storage = a[0]->u.storage;
        v->u.tensor.offset = a[1]->u.i;
        v->u.tensor.ndim = (int)nd;
        v->u.tensor.size = size;
        v->u.tensor.stride = stride;
    }
    return v;
}

/* Keys and values grow together; on failure both stay usable. */
static int dict_add(struct run *r, wi_priv_pval_t *d, wi_priv_pval_t *k,
                    wi_priv_pval_t *v)
{
    if (d->u.dict.len == d->u.dict.cap) {
        size_t cap = d->u.dict.cap, vcap = cap;
        wi_priv_pval_t **keys = grow(r, d->u.dict.keys, &cap,
                                     d->u.dict.len + 1, sizeof *keys);
        if (!keys)
            return WI_ENOMEM;
        d->u.dict.keys = keys;
        wi_priv_pval_t **values = grow(r, d->u.dict.values, &vcap, cap,
                                       sizeof *values);
        if (!values)
            return WI_ENOMEM;
        d->u.dict.values = values;
        d->u.dict.cap = cap;
    }
    d->u.dict.keys[d->u.dict.len] = k;
    d->u.dict.values[d->u.dict.len++] = v;
    return 0;
}

/* OrderedDict() or OrderedDict([(k, v), ...]). */
static wi_priv_pval_t *ordered_dict(struct run *r, const wi_priv_pval_t *g,
                                    wi_priv_pval_t **a, size_t n)
{
    const wi_priv_pval_t *pairs = n == 1 ? a[0] : NULL;
    if (pairs && pairs->kind == WI_PK_OPAQUE)
        return new_opaque(r, pairs);
    if (n > 1 || (pairs && pairs->kind != WI_PK_LIST &&
                  pairs->kind != WI_PK_TUPLE))
        return new_opaque(r, g);
    for (size_t i = 0; pairs && i < pairs->u.seq.len; i++) {
        const wi_priv_pval_t *p = pairs->u.seq.items[i];
        if (p->kind != WI_PK_TUPLE || p->u.seq.len != 2)
            return new_opaque(r, g);
    }
    wi_priv_pval_t *d = new_container(r, WI_PK_DICT);
    if (!d)
        return NULL;
    d->u.dict.ordered = 1;
    for (size_t i = 0; pairs && i < pairs->u.seq.len; i++)
        if (dict_add(r, d, pairs->u.seq.items[i]->u.seq.items[0],
                     pairs->u.seq.items[i]->u.seq.items[1]) < 0)
            return NULL;
    return d;
}

/* What calling g(*args) would give, without calling anything. */
static wi_priv_pval_t *call(struct run *r, const wi_priv_pval_t *g,
                            wi_priv_pval_t **a, size_t n)
{
    if (global_is(g, "collections", "OrderedDict"))
        return ordered_dict(r, g, a, n);
    if (global_is(g, "torch._utils", "_rebuild_tensor_v2"))
        return n <= 7 ? rebuild_tensor(r, a, n)
                      : bad_tensor(r, "_rebuild_tensor_v2 called with %zu "
                                      "arguments", n);
    if (global_is(g, "torch._utils", "_rebuild_tensor"))
        return n == 4 ? rebuild_tensor(r, a, n)
                      : bad_tensor(r, "_rebuild_tensor called with %zu "
                                      "arguments", n);
    /* torch >= 1.13 wraps tensors that carry Python attributes:
     * _rebuild_from_type_v2(func, type, args, state) = func(*args) when
     * type is Tensor or Parameter (the state only sets attributes). */
    if (global_is(g, "torch._tensor", "_rebuild_from_type_v2") && n == 4 &&
        a[2]->kind == WI_PK_TUPLE &&
        (global_is(a[1], "torch", "Tensor") ||
         global_is(a[1], "torch.nn.parameter", "Parameter")) &&
        (global_is(a[0], "torch._utils", "_rebuild_tensor_v2") ||
         global_is(a[0], "torch._utils", "_rebuild_tensor")))
        return call(r, a[0], a[2]->u.seq.items, a[2]->u.seq.len);
    /* A tensor subclass: name the subclass. */
    if (global_is(g, "torch._tensor", "_rebuild_from_type_v2") && n == 4 &&
        (a[1]->kind == WI_PK_GLOBAL || a[1]->kind == WI_PK_OPAQUE)) {
        wi_priv_pval_t *v = new_opaque(r, a[1]);
        if (v)
            v->u.global.tensor = 1;
        return v;
    }
    if (global_is(g, "torch._utils", "_rebuild_parameter") ||
        global_is(g, "torch._utils", "_rebuild_parameter_with_state")) {
        if (n >= 1 && (a[0]->kind == WI_PK_TENSOR ||
                       a[0]->kind == WI_PK_OPAQUE))
            return a[0];
        return bad_tensor(r, "_rebuild_parameter without a tensor");
    }
    return new_opaque(r, g);
}

static int op_reduce(struct run *r, int op)
{
    wi_priv_pval_t *args = pop(r, op), *f = args ? pop(r, op) : NULL;
    if (!f)
        return WI_EFORMAT;
    if (args->kind != WI_PK_TUPLE)
        return fail(r, WI_EFORMAT, "%s arguments are %s, not a tuple",
                    opname(op), wi_priv_pval_kind(args));
    if (f->kind == WI_PK_OPAQUE)
        return push(r, new_opaque(r, f));
    if (f->kind != WI_PK_GLOBAL)
        return fail(r, WI_EFORMAT, "%s on %s, which is not callable",
                    opname(op), wi_priv_pval_kind(f));
    wi_priv_pval_t **a = args->u.seq.items;
    size_t n = args->u.seq.len;
    /* NEWOBJ is cls.__new__(cls, *args): only OrderedDict() is data. */
    if (op == 0x81 && !(global_is(f, "collections", "OrderedDict") && !n))
        return push(r, new_opaque(r, f));
    return push(r, call(r, f, a, n));
}

/* BUILD sets state on the object below it.  Opaque objects stay inert;
 * an OrderedDict's state is attributes such as _metadata and a tensor's
 * is Python attributes: neither changes a value we read. */
static int op_build(struct run *r)
{
    wi_priv_pval_t *state = pop(r, 'b'), *obj = state ? top(r, 'b') : NULL;
    if (!obj)
        return WI_EFORMAT;
    if (obj->kind == WI_PK_OPAQUE || obj->kind == WI_PK_TENSOR ||
        (obj->kind == WI_PK_DICT && obj->u.dict.ordered))
        return 0;
    return fail(r, WI_EFORMAT, "BUILD on %s is not allowed",
                wi_priv_pval_kind(obj));
}

static int op_tuple(struct run *r, int op, size_t n)
{
    wi_priv_pickle_t *vm = r->vm;
    wi_priv_pval_t **items = NULL;
    if (n == SIZE_MAX) {
        if (pop_mark(r, op, &items, &n) < 0)
            return WI_EFORMAT;
    } else {
        if (vm->sp - fence(vm) < n)
            return fail(r, WI_EFORMAT, "stack underflow in %s", opname(op));
        vm->sp -= n;
        items = n ? vm->stack + vm->sp : NULL;
    }
    wi_priv_pval_t *t = new_val(r, WI_PK_TUPLE);
    if (!t)
        return WI_ENOMEM;
    if (n) {
        if (n > SIZE_MAX / sizeof *items ||
            !(t->u.seq.items = arena_alloc(r, n * sizeof *items)))
            return WI_ENOMEM;
        memcpy(t->u.seq.items, items, n * sizeof *items);
    }
    t->u.seq.len = t->u.seq.cap = n;
    return push(r, t);
}

static int seq_add(struct run *r, wi_priv_pval_t *seq, wi_priv_pval_t **items,
                   size_t n)
{
    if (n > SIZE_MAX - seq->u.seq.len)
        return oom(r);
    wi_priv_pval_t **all = grow(r, seq->u.seq.items, &seq->u.seq.cap,
                                seq->u.seq.len + n, sizeof *all);
    if (!all)
        return WI_ENOMEM;
    seq->u.seq.items = all;
    if (n)
        memcpy(seq->u.seq.items + seq->u.seq.len, items, n * sizeof *items);
    seq->u.seq.len += n;
    return 0;
}

/* APPEND(S) (list) and ADDITEMS (set). */
static int op_append(struct run *r, int op, int marked)
{
    /* = NULL: gcc -O2 cannot see that pop_mark sets it on success. */
    wi_priv_pval_t **items = NULL, *one, *target;
    size_t n = 1;
    if (marked) {
        if (pop_mark(r, op, &items, &n) < 0)
            return WI_EFORMAT;
    } else {
        if (!(one = pop(r, op)))
            return WI_EFORMAT;
        items = &one;
    }
    if (!(target = top(r, op)))
        return WI_EFORMAT;
    wi_priv_pkind_t want = op == 0x90 ? WI_PK_SET : WI_PK_LIST;
    if (target->kind == WI_PK_OPAQUE)
        return 0;
    if (target->kind != want)
        return fail(r, WI_EFORMAT, "%s on %s", opname(op),
                    wi_priv_pval_kind(target));
    /* items point into the stack above sp: seq_add does not push. */
    return seq_add(r, target, items, n);
}

static int op_setitems(struct run *r, int op, int marked)
{
    wi_priv_pval_t **items = NULL, *pair[2], *d;
    size_t n = 2;
    if (marked) {
        if (pop_mark(r, op, &items, &n) < 0)
            return WI_EFORMAT;
        if (n % 2)
            return fail(r, WI_EFORMAT, "SETITEMS with an odd number (%zu) of "
                                       "keys and values", n);
    } else {
        if (!(pair[1] = pop(r, op)) || !(pair[0] = pop(r, op)))
            return WI_EFORMAT;
        items = pair;
    }
    if (!(d = top(r, op)))
        return WI_EFORMAT;
    if (d->kind == WI_PK_OPAQUE)
        return 0;
    if (d->kind != WI_PK_DICT)
        return fail(r, WI_EFORMAT, "%s on %s", opname(op),
                    wi_priv_pval_kind(d));
    /* items point into the stack above sp; dict_add does not push. */
    for (size_t i = 0; i < n; i += 2)
        if (dict_add(r, d, items[i], items[i + 1]) < 0)
            return WI_ENOMEM;
    return 0;
}

/* ---- persistent ids: ('storage', type, key, location, numel[, view]) */

static int op_persid(struct run *r)
{
    wi_priv_pickle_t *vm = r->vm;
    wi_priv_pval_t *pid = pop(r, 'Q');
    if (!pid)
        return WI_EFORMAT;
    wi_priv_pval_t **a = pid->u.seq.items;
    if (pid->kind != WI_PK_TUPLE || pid->u.seq.len < 1 ||
        a[0]->kind != WI_PK_STR || strcmp(a[0]->u.str.data, "storage") != 0)
        return fail(r, WI_EFORMAT, "persistent id is %s, not a "
                                   "('storage', ...) tuple",
                    wi_priv_pval_kind(pid));
    if (pid->u.seq.len != (size_t)r->pid_len)
        return fail(r, WI_EFORMAT, "storage persistent id has %zu fields, "
                                   "expected %d",
                    pid->u.seq.len, r->pid_len);
    int t = storage_type(a[1]);
    if (t < 0 && a[1]->kind == WI_PK_GLOBAL)
        return fail(r, WI_EUNSUPPORTED, "persistent id names '%s %s', not a "
                                        "torch storage type",
                    a[1]->u.global.module, a[1]->u.global.name);
    if (t < 0)
        return fail(r, WI_EFORMAT, "persistent id's storage type is %s",
                    wi_priv_pval_kind(a[1]));
    if (a[2]->kind != WI_PK_STR || strlen(a[2]->u.str.data) != a[2]->u.str.len)
        return fail(r, WI_EFORMAT, "storage key is %s, not a string",
                    wi_priv_pval_kind(a[2]));
    if (a[4]->kind != WI_PK_INT || a[4]->u.i < 0)
        return fail(r, WI_EFORMAT, "storage size is %s, not an int >= 0",
                    wi_priv_pval_kind(a[4]));
    if (r->pid_len == 6 && a[5]->kind != WI_PK_NONE)
        return fail(r, WI_EUNSUPPORTED, "legacy storage views (view_metadata "
                                        "of storage '%s') are not supported",
                    a[2]->u.str.data);
    size_t found;
    int added;
    if (wi_priv_strset_put(&vm->storage_keys, a[2]->u.str.data,
                           vm->nstorages, &found, &added) < 0)
        return oom(r);
    wi_priv_storage_t *st;
    if (added) {
        wi_priv_storage_t **all = grow(r, vm->storages, &vm->capstorages,
                                       vm->nstorages + 1, sizeof *all);
        if (!all)
            return WI_ENOMEM;
        vm->storages = all;
        if (!(st = arena_alloc(r, sizeof *st)))
            return WI_ENOMEM;
        st->index = vm->nstorages;
        st->key = a[2]->u.str.data;
        st->type_name = storage_types[t].name;
        st->dtype = storage_types[t].dtype;
        st->esize = storage_types[t].esize;
        st->numel = a[4]->u.i;
        vm->storages[vm->nstorages++] = st;
    } else {
        st = vm->storages[found];
    }
    wi_priv_pval_t *v = new_val(r, WI_PK_STORAGE);
    if (v)
        v->u.storage = st;
    return push(r, v);
}

/* ---- the loop ---- */

static const struct {
    uint8_t op;
    const char *name;
    int proto;
} unsupported[] = {
    {'I', "INT", 0},        {'L', "LONG", 0},          {'S', "STRING", 0},
    {'V', "UNICODE", 0},    {'F', "FLOAT", 0},         {'P', "PERSID", 0},
    {'g', "GET", 0},        {'p', "PUT", 0},           {'l', "LIST", 0},
    {'d', "DICT", 0},       {'i', "INST", 0},          {'o', "OBJ", 1},
    {'T', "BINSTRING", 1},  {'0', "POP", 0},           {'1', "POP_MARK", 1},
    {'2', "DUP", 0},        {0x82, "EXT1", 2},         {0x83, "EXT2", 2},
    {0x84, "EXT4", 2},      {0x8b, "LONG4", 2},        {'B', "BINBYTES", 3},
    {'C', "SHORT_BINBYTES", 3}, {0x8c, "SHORT_BINUNICODE", 4},
    {0x8d, "BINUNICODE8", 4},   {0x8e, "BINBYTES8", 4},
    {0x91, "FROZENSET", 4}, {0x92, "NEWOBJ_EX", 4},    {0x93, "STACK_GLOBAL", 4},
    {0x94, "MEMOIZE", 4},   {0x95, "FRAME", 4},        {0x96, "BYTEARRAY8", 5},
    {0x97, "NEXT_BUFFER", 5}, {0x98, "READONLY_BUFFER", 5},
};

static const char *opname(int op)
{
    switch (op) {
    case 0x80: return "PROTO";
    case '.': return "STOP";
    case 'c': return "GLOBAL";
    case 'R': return "REDUCE";
    case 'b': return "BUILD";
    case 0x81: return "NEWOBJ";
    case '(': return "MARK";
    case 't': return "TUPLE";
    case 0x85: return "TUPLE1";
    case 0x86: return "TUPLE2";
    case 0x87: return "TUPLE3";
    case ')': return "EMPTY_TUPLE";
    case ']': return "EMPTY_LIST";
    case '}': return "EMPTY_DICT";
    case 0x8f: return "EMPTY_SET";
    case 0x90: return "ADDITEMS";
    case 'a': return "APPEND";
    case 'e': return "APPENDS";
    case 's': return "SETITEM";
    case 'u': return "SETITEMS";
    case 'N': return "NONE";
    case 0x88: return "NEWTRUE";
    case 0x89: return "NEWFALSE";
    case 'J': return "BININT";
    case 'K': return "BININT1";
    case 'M': return "BININT2";
    case 0x8a: return "LONG1";
    case 'G': return "BINFLOAT";
    case 'X': return "BINUNICODE";
    case 'U': return "SHORT_BINSTRING";
    case 'Q': return "BINPERSID";
    case 'h': return "BINGET";
    case 'j': return "LONG_BINGET";
    case 'q': return "BINPUT";
    case 'r': return "LONG_BINPUT";
    }
    return "?";
}

static int unknown_op(struct run *r, int op)
{
    for (size_t i = 0; i < sizeof unsupported / sizeof *unsupported; i++)
        if (unsupported[i].op == op)
            return fail(r, WI_EUNSUPPORTED,
                        "pickle opcode %s (0x%02x, protocol %d) is not "
                        "supported: weightinit reads pickle protocol 2 as "
                        "torch.save writes it",
                        unsupported[i].name, op, unsupported[i].proto);
    return fail(r, WI_EFORMAT, "unknown pickle opcode 0x%02x", op);
}

static int simple_push(struct run *r, wi_priv_pkind_t kind, int64_t i)
{
    wi_priv_pval_t *v = kind == WI_PK_DICT || kind == WI_PK_LIST ||
                                kind == WI_PK_SET
                            ? new_container(r, kind)
                            : new_val(r, kind);
    if (v && (kind == WI_PK_BOOL || kind == WI_PK_INT))
        v->u.i = i;
    return push(r, v);
}

static int op_mark(struct run *r)
{
    wi_priv_pickle_t *vm = r->vm;
    if (vm->nmarks >= WI_PICKLE_MAX_DEPTH)
        return fail(r, WI_EFORMAT, "pickle nesting deeper than %d levels",
                    WI_PICKLE_MAX_DEPTH);
    size_t *marks = grow(r, vm->marks, &vm->capmarks, vm->nmarks + 1,
                         sizeof *marks);
    if (!marks)
        return WI_ENOMEM;
    vm->marks = marks;
    vm->marks[vm->nmarks++] = vm->sp;
    return 0;
}

/* One opcode; 1 at STOP. */
static int step(struct run *r, wi_priv_pval_t **out)
{
    r->op_pos = r->pos;
    if (r->pos >= r->len)
        return fail(r, WI_EFORMAT, "truncated pickle: the stream ends "
                                   "before STOP");
    int op = r->buf[r->pos++];
    const uint8_t *p = r->buf + r->pos;
    switch (op) {
    case 0x80:
        if (need(r, 1, op) < 0)
            return WI_EFORMAT;
        r->pos++;
        if (p[0] > 5)
            return fail(r, WI_EUNSUPPORTED, "unknown pickle protocol %d",
                        p[0]);
        return 0;
    case '.':
        if (!(*out = pop(r, op)))
            return WI_EFORMAT;
        return 1;
    case 'c': return op_global(r);
    case 'R':
    case 0x81: return op_reduce(r, op);
    case 'b': return op_build(r);
    case '(': return op_mark(r);
    case 't': return op_tuple(r, op, SIZE_MAX);
    case ')': return op_tuple(r, op, 0);
    case 0x85:
    case 0x86:
    case 0x87: return op_tuple(r, op, (size_t)(op - 0x84));
    case ']': return simple_push(r, WI_PK_LIST, 0);
    case '}': return simple_push(r, WI_PK_DICT, 0);
    case 0x8f: return simple_push(r, WI_PK_SET, 0);
    case 'a': return op_append(r, op, 0);
    case 'e':
    case 0x90: return op_append(r, op, 1);
    case 's': return op_setitems(r, op, 0);
    case 'u': return op_setitems(r, op, 1);
    case 'N': return simple_push(r, WI_PK_NONE, 0);
    case 0x88: return simple_push(r, WI_PK_BOOL, 1);
    case 0x89: return simple_push(r, WI_PK_BOOL, 0);
    case 'J': {
        if (need(r, 4, op) < 0)
            return WI_EFORMAT;
        uint32_t u = (uint32_t)read_le(p, 4);
        int32_t i;
        memcpy(&i, &u, sizeof i);
        r->pos += 4;
        return push_int(r, i);
    }
    case 'K':
    case 'M': {
        int n = op == 'K' ? 1 : 2;
        if (need(r, (size_t)n, op) < 0)
            return WI_EFORMAT;
        r->pos += (size_t)n;
        return push_int(r, (int64_t)read_le(p, n));
    }
    case 0x8a:
        if (need(r, 1, op) < 0)
            return WI_EFORMAT;
        r->pos++;
        return push_long(r, p[0], op);
    case 'G': return push_float_be(r, op);
    case 'X':
        if (need(r, 4, op) < 0)
            return WI_EFORMAT;
        r->pos += 4;
        return push_str(r, (size_t)read_le(p, 4), op);
    case 'U':
        if (need(r, 1, op) < 0)
            return WI_EFORMAT;
        r->pos++;
        return push_str(r, p[0], op);
    case 'Q': return op_persid(r);
    case 'h':
    case 'q':
    case 'j':
    case 'r': {
        int n = op == 'h' || op == 'q' ? 1 : 4;
        if (need(r, (size_t)n, op) < 0)
            return WI_EFORMAT;
        r->pos += (size_t)n;
        uint64_t idx = read_le(p, n);
        return op == 'h' || op == 'j' ? memo_get(r, idx, op)
                                      : memo_put(r, idx, op);
    }
    }
    return unknown_op(r, op);
}

int wi_priv_pickle_run(wi_priv_pickle_t *vm, const uint8_t *buf, size_t len,
                       size_t *pos, int pid_len, const char *source,
                       const char *what, wi_priv_pval_t **out,
                       wi_error_t *err)
{
    struct run r = {vm, buf, len, *pos, *pos, pid_len, source, what, err};
    if (*pos > len || len - *pos > WI_PICKLE_MAX_BYTES)
        return fail(&r, WI_EUNSUPPORTED, "pickle of %zu bytes is larger than "
                                         "the %zu MiB limit",
                    len - *pos, WI_PICKLE_MAX_BYTES >> 20);
    vm->sp = 0;
    vm->nmarks = 0;
    for (size_t i = 0; i < vm->capmemo; i++)
        vm->memo[i] = NULL;
    int rc;
    while ((rc = step(&r, out)) == 0)
        ;
    if (rc < 0)
        return rc;
    *pos = r.pos;
    return 0;
}

size_t wi_priv_pickle_nstorages(const wi_priv_pickle_t *vm)
{
    return vm->nstorages;
}

wi_priv_storage_t *wi_priv_pickle_find_storage(wi_priv_pickle_t *vm,
                                               const char *key)
{
    size_t index;
    return wi_priv_strset_get(&vm->storage_keys, key, &index)
               ? vm->storages[index]
               : NULL;
}

const char *wi_priv_pval_kind(const wi_priv_pval_t *v)
{
    switch (v->kind) {
    case WI_PK_NONE: return "None";
    case WI_PK_BOOL: return "a bool";
    case WI_PK_INT:
    case WI_PK_BIGINT: return "an int";
    case WI_PK_FLOAT: return "a float";
    case WI_PK_STR: return "a string";
    case WI_PK_TUPLE: return "a tuple";
    case WI_PK_LIST: return "a list";
    case WI_PK_SET: return "a set";
    case WI_PK_DICT: return v->u.dict.ordered ? "an OrderedDict" : "a dict";
    case WI_PK_GLOBAL: return "a class or function";
    case WI_PK_OPAQUE: return "an object";
    case WI_PK_STORAGE: return "a storage";
    case WI_PK_TENSOR: return "a tensor";
    }
    return "a value";
}

size_t wi_priv_pickle_memory(const wi_priv_pickle_t *vm) { return vm->mem; }

wi_priv_pval_t *wi_priv_pdict_get(const wi_priv_pval_t *d, const char *key)
{
    if (d->kind != WI_PK_DICT)
        return NULL;
    for (size_t i = d->u.dict.len; i-- > 0;) {
        const wi_priv_pval_t *k = d->u.dict.keys[i];
        if (k->kind == WI_PK_STR && strcmp(k->u.str.data, key) == 0 &&
            strlen(k->u.str.data) == k->u.str.len)
            return d->u.dict.values[i];
    }
    return NULL;
}

/* ---- string set (open addressing, FNV-1a) ---- */

static size_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return (size_t)h;
}

static int strset_grow(wi_priv_strset_t *set)
{
    size_t ncap = set->cap ? set->cap * 2 : 64;
    if (ncap > SIZE_MAX / sizeof(size_t))
        return -1;
    const char **keys = calloc(ncap, sizeof *keys);
    size_t *values = calloc(ncap, sizeof *values);
    if (!keys || !values) {
        free(keys);
        free(values);
        return -1;
    }
    for (size_t i = 0; i < set->cap; i++) {
        if (!set->keys[i])
            continue;
        size_t j = hash_str(set->keys[i]) & (ncap - 1);
        while (keys[j])
            j = (j + 1) & (ncap - 1);
        keys[j] = set->keys[i];
        values[j] = set->values[i];
    }
    free(set->keys);
    free(set->values);
    set->keys = keys;
    set->values = values;
    set->cap = ncap;
    return 0;
}

int wi_priv_strset_put(wi_priv_strset_t *set, const char *key, size_t value,
                       size_t *found, int *added)
{
    if ((set->len + 1) * 2 > set->cap && strset_grow(set) < 0)
        return WI_ENOMEM;
    size_t j = hash_str(key) & (set->cap - 1);
    while (set->keys[j]) {
        if (strcmp(set->keys[j], key) == 0) {
            *found = set->values[j];
            *added = 0;
            return 0;
        }
        j = (j + 1) & (set->cap - 1);
    }
    set->keys[j] = key;
    set->values[j] = value;
    set->len++;
    *found = value;
    *added = 1;
    return 0;
}

int wi_priv_strset_get(const wi_priv_strset_t *set, const char *key,
                       size_t *value)
{
    if (!set->cap)
        return 0;
    size_t j = hash_str(key) & (set->cap - 1);
    while (set->keys[j]) {
        if (strcmp(set->keys[j], key) == 0) {
            *value = set->values[j];
            return 1;
        }
        j = (j + 1) & (set->cap - 1);
    }
    return 0;
}

void wi_priv_strset_free(wi_priv_strset_t *set)
{
    free(set->keys);
    free(set->values);
    memset(set, 0, sizeof *set);
}
