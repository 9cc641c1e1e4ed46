/* `weightinit plan`: what init would write, read off the write plan
 * without computing a value (docs/plan.md documents the --json form).
 * Every parameter in state_dict order with its writes in order (the
 * layer's own writes at construction, each construction-time init entry,
 * then each init_cfg entry or init_weights the engine attributed), the write that gives the values (primitive and float32
 * parameters) and the draws taken and skipped; then the diagnostics. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct event {
    const wi_module_t *owner;
    size_t index, seq;
    char *source, *info;
};

struct start {
    const wi_module_t *owner;
    size_t index;
    uint64_t version; /* writes made at construction */
};

struct cli_plan {
    struct event *ev;
    size_t n_ev, cap_ev;
    struct start *st;
    size_t n_st, cap_st;
    int st_sorted; /* st was sorted for bsearch (see find_start) */
    size_t built_ev; /* events observed while the model was built */
    int oom;
};

cli_plan_t *cli_plan_new(void) { return calloc(1, sizeof(cli_plan_t)); }

void cli_plan_free(cli_plan_t *p)
{
    for (size_t i = 0; p && i < p->n_ev; i++) {
        free(p->ev[i].source);
        free(p->ev[i].info);
    }
    if (p) {
        free(p->ev);
        free(p->st);
    }
    free(p);
}

static int grow(void **a, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? 2 * *cap : 256;
    void *q = realloc(*a, c * size);
    if (!q)
        return -1;
    *a = q;
    *cap = c;
    return 0;
}

static void observe(const wi_module_t *owner, size_t index, const char *source,
                    const char *info, void *ud)
{
    cli_plan_t *p = ud;
    if (grow((void **)&p->ev, &p->cap_ev, p->n_ev, sizeof *p->ev) < 0) {
        p->oom = 1;
        return;
    }
    struct event *e = &p->ev[p->n_ev];
    *e = (struct event){owner, index, p->n_ev, strdup(source ? source : ""),
                        strdup(info ? info : "")};
    p->oom |= !e->source || !e->info;
    p->n_ev++;
}

static int note_start(const char *name, wi_module_t *owner, size_t index, void *ud)
{
    cli_plan_t *p = ud;
    (void)name;
    if (grow((void **)&p->st, &p->cap_st, p->n_st, sizeof *p->st) < 0)
        return p->oom = 1;
    wi_tensor_t *t = wi_module_parameter(owner, index);
    p->st[p->n_st++] = (struct start){owner, index, t ? wi_tensor_version(t) : 0};
    return 0;
}

void cli_plan_watch(cli_plan_t *p, wi_context_t *ctx)
{
    wi_context_set_write_observer(ctx, observe, p);
}

int cli_plan_observe(cli_plan_t *p, wi_module_t *root, wi_context_t *ctx)
{
    p->built_ev = p->n_ev;
    wi_module_named_parameters(root, note_start, p);
    wi_context_set_write_observer(ctx, observe, p);
    return p->oom ? -1 : 0;
}

static int by_param(const void *a, const void *b)
{
    const struct event *x = a, *y = b;
    if (x->owner != y->owner)
        return (uintptr_t)x->owner < (uintptr_t)y->owner ? -1 : 1;
    if (x->index != y->index)
        return x->index < y->index ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int start_cmp(const void *a, const void *b)
{
    const struct start *x = a, *y = b;
    if (x->owner != y->owner)
        return (uintptr_t)x->owner < (uintptr_t)y->owner ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* The final write's parameters, named as the kernels use them. */
static json_t *final_json(const wi_tensor_write_info_t *w)
{
    json_t *f = json_pack("{s:s, s:I, s:I}", "kind", w->kind, "draws",
                          (json_int_t)w->draws, "skipped_draws",
                          (json_int_t)w->skipped_draws);
    static const char *const names[][6] = {
        {"from", "range"}, {"mean", "std"}, {"from", "range", "scale", "shift", "lo", "hi"},
        {"value"}};
    static const char *const kinds[] = {"uniform", "normal", "trunc_normal", "constant"};
    for (size_t k = 0; f && k < 4; k++) {
        if (strcmp(w->kind, kinds[k]) != 0)
            continue;
        json_t *ps = json_object();
        for (int i = 0; ps && i < 6 && names[k][i]; i++)
            json_object_set_new(ps, names[k][i], json_real(w->p[i]));
        if (ps && k < 2 && w->p[2] != 1.0) /* a scaled draw */
            json_object_set_new(ps, "times", json_real(w->p[2]));
        json_object_set_new(f, "params", ps);
    }
    return f;
}

/* One parameter's plan entry at a time, to a sink given the walk. */
struct walk;
typedef int (*entry_fn)(const json_t *entry, struct walk *w);

struct walk {
    cli_plan_t *p;
    entry_fn fn;
    /* Instead of fn: the provenance member of a parameter (the source of
     * its last write and its final writer, NULL for construction), with
     * no plan entry built. */
    int (*provenance)(const char *name, const char *source, const char *writer,
                      struct walk *w);
    void *ud;
    uint64_t params, draws, skipped, elements;
    size_t next_st; /* the next start of the plan's walk order */
};

/* The construction writes of (owner, index).  The starts were noted in
 * the same walk order as the plan's, so they are met in turn; only if
 * the tree changed in between are they sorted (once) and searched (a
 * million parameters would otherwise pay a sort and its copy). */
static const struct start *find_start(struct walk *w, const wi_module_t *owner,
                                      size_t index)
{
    cli_plan_t *p = w->p;
    if (!p->st_sorted && w->next_st < p->n_st && p->st[w->next_st].owner == owner &&
        p->st[w->next_st].index == index)
        return &p->st[w->next_st++];
    if (!p->st_sorted && p->n_st) {
        qsort(p->st, p->n_st, sizeof *p->st, start_cmp);
        p->st_sorted = 1;
    }
    struct start key = {owner, index, 0};
    return p->n_st ? bsearch(&key, p->st, p->n_st, sizeof key, start_cmp) : NULL;
}

/* The first event of (owner, index) in the sorted events, or where it
 * would be. */
static size_t first_event(const cli_plan_t *p, const wi_module_t *owner, size_t index)
{
    struct event ek = {owner, index, 0, NULL, NULL};
    size_t lo = 0, hi = p->n_ev;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (by_param(&p->ev[mid], &ek) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The provenance walk: the last event's source and the final writer. */
static int add_provenance(const char *name, wi_module_t *owner, size_t index,
                          struct walk *w)
{
    const cli_plan_t *p = w->p;
    const char *source = NULL;
    for (size_t k = first_event(p, owner, index);
         k < p->n_ev && p->ev[k].owner == owner && p->ev[k].index == index; k++)
        source = p->ev[k].source;
    w->params++;
    return w->provenance(name, source, wi_module_parameter_info(owner, index), w);
}

static int add_param(const char *name, wi_module_t *owner, size_t index, void *ud)
{
    struct walk *w = ud;
    const wi_tensor_t *t = wi_module_parameter(owner, index);
    if (!t)
        return 0;
    if (w->provenance)
        return add_provenance(name, owner, index, w) < 0;
    json_t *shape = json_array(), *writes = json_array();
    for (int i = 0; i < wi_tensor_ndim(t); i++)
        json_array_append_new(shape, json_integer(wi_tensor_shape(t)[i]));
    const struct start *s = find_start(w, owner, index);
    size_t lo = first_event(w->p, owner, index);
    /* The layer's own writes: those made by the time the model was built,
     * less the construction-time init entries' (one write each). */
    uint64_t own = s ? s->version : 0;
    for (size_t k = lo; k < w->p->n_ev && w->p->ev[k].owner == owner &&
                        w->p->ev[k].index == index && w->p->ev[k].seq < w->p->built_ev;
         k++)
        own -= own > 0;
    if (own)
        json_array_append_new(writes, json_pack("{s:s, s:I}", "source", "construction",
                                                "count", (json_int_t)own));
    for (; lo < w->p->n_ev && w->p->ev[lo].owner == owner && w->p->ev[lo].index == index; lo++)
        json_array_append_new(writes, json_pack("{s:s, s:s}", "source", w->p->ev[lo].source,
                                                "info", w->p->ev[lo].info));
    wi_tensor_write_info_t info;
    wi_tensor_write_info(t, &info);
    w->params++;
    w->draws += info.draws;
    w->skipped += info.skipped_draws;
    w->elements += (uint64_t)wi_tensor_numel(t);
    const char *writer = wi_module_parameter_info(owner, index);
    json_t *e = json_pack("{s:s, s:o, s:I, s:o, s:s?, s:o}", "name", name, "shape", shape,
                          "numel", (json_int_t)wi_tensor_numel(t), "writes", writes,
                          "final_writer", writer, "final", final_json(&info));
    int rc = !e || w->fn(e, w) < 0;
    json_decref(e);
    return rc;
}

static json_t *diagnostics_json(const wi_diagnostics_t *d)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < wi_diagnostics_count(d); i++) {
        const wi_diagnostic_t *x = wi_diagnostics_get(d, i);
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s?}", "kind",
                                           wi_diag_kind_name(x->kind), "path", x->path,
                                           "message", x->message, "suggestion",
                                           x->suggestion));
    }
    return a;
}

/* Calls fn on each parameter's entry in state_dict order; w->params and
 * the totals count them.  -1 when out of memory or fn failed. */
static int each_param(cli_plan_t *p, wi_module_t *root, struct walk *w)
{
    if (p->oom)
        return -1;
    if (p->n_ev) /* qsort and bsearch take no NULL array, even empty */
        qsort(p->ev, p->n_ev, sizeof *p->ev, by_param);
    w->p = p;
    return wi_module_named_parameters(root, add_param, w) != 0 ? -1 : 0;
}

/* --json: the document json_dumpf(plan, JSON_INDENT(1)) would print,
 * an entry at a time: each is dumped on its own and indented by two. */
static int print_json_entry(const json_t *e, struct walk *w)
{
    FILE *out = (FILE *)w->ud;
    char *text = json_dumps(e, JSON_INDENT(1));
    if (!text)
        return -1;
    fputs(w->params > 1 ? ",\n  " : "\n  ", out);
    for (const char *c = text; *c; c++)
        if (putc(*c, out) == '\n')
            fputs("  ", out);
    free(text);
    return 0;
}

/* The text form: one block per parameter. */
static int print_text_entry(const json_t *e, struct walk *w)
{
    FILE *out = (FILE *)w->ud;
    size_t k;
    json_t *wr;
    char *shape = json_dumps(json_object_get(e, "shape"), JSON_COMPACT);
    json_t *f = json_object_get(e, "final");
    cli_printf(out, "%s %s\n", json_string_value(json_object_get(e, "name")),
               shape ? shape : "?");
    free(shape);
    json_array_foreach(json_object_get(e, "writes"), k, wr) {
        json_t *count = json_object_get(wr, "count");
        if (count)
            fprintf(out, "  write: construction (%lld)\n",
                    (long long)json_integer_value(count));
        else
            cli_printf(out, "  write: %s: %s\n",
                       json_string_value(json_object_get(wr, "source")),
                       json_string_value(json_object_get(wr, "info")));
    }
    char *ps = json_dumps(json_object_get(f, "params"), JSON_COMPACT);
    cli_printf(out, "  final: %s%s%s, %lld draws, %lld skipped\n",
               json_string_value(json_object_get(f, "kind")), ps ? " " : "", ps ? ps : "",
               (long long)json_integer_value(json_object_get(f, "draws")),
               (long long)json_integer_value(json_object_get(f, "skipped_draws")));
    free(ps);
    return 0;
}

/* The model's ties as [{"name", "tensor"}], in the model file's order:
 * name was tied to tensor after initialisation (Hugging Face's order),
 * so its own writes' values were discarded and it adds no parameter. */
static json_t *ties_json(const json_t *ties)
{
    json_t *a = json_array(), *target;
    const char *name;
    json_object_foreach((json_t *)ties, name, target)
        json_array_append_new(a, json_pack("{s:s, s:s}", "name", name, "tensor",
                                           json_string_value(target)));
    return a;
}

/* What follows "parameters" in the JSON form: the totals, the ties and
 * the diagnostics, dumped as an object whose opening brace is dropped. */
static int print_json_tail(const struct walk *w, const json_t *ties,
                           const wi_diagnostics_t *d, FILE *out)
{
    json_t *tail = json_pack("{s:{s:I, s:I, s:I, s:I}, s:o, s:o}", "totals", "parameters",
                             (json_int_t)w->params, "elements", (json_int_t)w->elements,
                             "draws", (json_int_t)w->draws, "skipped_draws",
                             (json_int_t)w->skipped, "ties", ties_json(ties),
                             "diagnostics", diagnostics_json(d));
    char *text = tail ? json_dumps(tail, JSON_INDENT(1)) : NULL;
    json_decref(tail);
    if (!text)
        return -1;
    fprintf(out, "%s,\n%s\n", w->params ? "\n ]" : "]", text + 2);
    free(text);
    return 0;
}

int cli_plan_print(cli_plan_t *p, wi_module_t *root, const wi_diagnostics_t *d,
                   const json_t *ties, int json, FILE *out)
{
    struct walk w = {0};
    w.ud = out;
    /* The entry printers get the walk itself (the count so far). */
    w.fn = json ? print_json_entry : print_text_entry;
    if (json)
        fputs("{\n \"plan_version\": 1,\n \"parameters\": [", out);
    if (each_param(p, root, &w) < 0)
        return -1;
    if (json)
        return print_json_tail(&w, ties, d, out);
    const char *name;
    json_t *target;
    json_object_foreach((json_t *)ties, name, target)
        cli_printf(out, "tie: %s is %s (one tensor, listed once; no draws of its own)\n",
                   name, json_string_value(target));
    fprintf(out, "%llu parameters, %llu elements; %llu draws computed when written, "
            "%llu skipped (never computed)\n",
            (unsigned long long)w.params, (unsigned long long)w.elements,
            (unsigned long long)w.draws, (unsigned long long)w.skipped);
    return 0;
}

/* One "name": {"source", "writer"} member, as json_dumps(JSON_COMPACT)
 * of the whole object would write it. */
static int provenance_entry(const char *name, const char *source, const char *writer,
                            struct walk *w)
{
    FILE *out = (FILE *)w->ud;
    json_t *k = json_string(name);
    json_t *v = json_pack("{s:s, s:s}", "source", source ? source : "construction",
                          "writer", writer ? writer : "construction");
    char *key = k ? json_dumps(k, JSON_ENCODE_ANY) : NULL;
    char *val = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(k);
    json_decref(v);
    int rc = key && val ? 0 : -1;
    if (rc == 0)
        fprintf(out, "%s%s:%s", w->params > 1 ? "," : "", key, val);
    free(key);
    free(val);
    return rc;
}

char *cli_plan_provenance(cli_plan_t *p, wi_module_t *root)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    if (!out)
        return NULL;
    struct walk w = {0};
    w.ud = out;
    w.provenance = provenance_entry;
    fputc('{', out);
    int rc = each_param(p, root, &w);
    fputc('}', out);
    if (fclose(out) != 0 || rc < 0) {
        free(text);
        return NULL;
    }
    return text;
}
