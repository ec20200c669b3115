/* JSON Schema (the subset config/schema/ uses) on jansson values; see docschema.h. */
#include "docschema.h"

#include <math.h>
#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "textnum.h"

#define MAX_PATTERNS 64
#define MAX_DEPTH 64 /* of $ref and nesting: the schemas are a few levels deep */

struct pattern {
    const json_t *node; /* the "pattern" string in the schema */
    regex_t re;
};

struct docschema {
    json_t *root;
    int npatterns;
    struct pattern patterns[MAX_PATTERNS];
};

/* ---- loading ---------------------------------------------------------------- */

static const char *const known_keywords[] = {
    "$schema", "$id", "$comment", "title", "description", "examples", "default", "$defs",
    "type", "const", "enum", "properties", "required", "additionalProperties", "items",
    "minItems", "maxItems", "minLength", "maxLength", "minimum", "maximum", "pattern",
    "oneOf", "anyOf", "allOf", "$ref",
};

static bool known(const char *key)
{
    for (size_t i = 0; i < sizeof known_keywords / sizeof known_keywords[0]; i++)
        if (strcmp(key, known_keywords[i]) == 0)
            return true;
    return false;
}

static int add_pattern(struct docschema *s, const char *name, const json_t *node, FILE *errs)
{
    if (!json_is_string(node) || s->npatterns == MAX_PATTERNS) {
        fprintf(errs, "%s: a pattern that is not a string, or more than %d patterns\n", name,
                MAX_PATTERNS);
        return -1;
    }
    struct pattern *p = &s->patterns[s->npatterns];
    if (regcomp(&p->re, json_string_value(node), REG_EXTENDED | REG_NOSUB) != 0) {
        fprintf(errs, "%s: pattern %s is not a POSIX extended expression\n", name,
                json_string_value(node));
        return -1;
    }
    p->node = node;
    s->npatterns++;
    return 0;
}

static int prepare(struct docschema *s, const char *name, const json_t *node, int depth,
                   FILE *errs);

/* The members of a keyword whose value holds schemas (properties, $defs: an object
 * of them; oneOf...: an array of them; items...: one). */
static int prepare_children(struct docschema *s, const char *name, const char *key,
                            const json_t *v, int depth, FILE *errs)
{
    const char *k;
    const json_t *child;
    size_t i;
    if (strcmp(key, "properties") == 0 || strcmp(key, "$defs") == 0) {
        json_object_foreach((json_t *)v, k, child)
            if (prepare(s, name, child, depth + 1, errs) < 0)
                return -1;
    } else if (strcmp(key, "oneOf") == 0 || strcmp(key, "anyOf") == 0 ||
               strcmp(key, "allOf") == 0) {
        json_array_foreach(v, i, child)
            if (prepare(s, name, child, depth + 1, errs) < 0)
                return -1;
    } else if (strcmp(key, "items") == 0 ||
               (strcmp(key, "additionalProperties") == 0 && json_is_object(v))) {
        return prepare(s, name, v, depth + 1, errs);
    }
    return 0;
}

/* Refuses keywords this code does not enforce; compiles the patterns. */
static int prepare(struct docschema *s, const char *name, const json_t *node, int depth,
                   FILE *errs)
{
    if (json_is_boolean(node))
        return 0;
    if (!json_is_object(node) || depth > MAX_DEPTH) {
        fprintf(errs, "%s: a schema that is not an object, or nested too deeply\n", name);
        return -1;
    }
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)node, key, v) {
        if (!known(key)) {
            fprintf(errs, "%s: keyword \"%s\" is not supported by docschema.c\n", name, key);
            return -1;
        }
        if (strcmp(key, "pattern") == 0 && add_pattern(s, name, v, errs) < 0)
            return -1;
        if (prepare_children(s, name, key, v, depth, errs) < 0)
            return -1;
    }
    return 0;
}

struct docschema *docschema_new(const char *name, const char *text, size_t len, FILE *errs)
{
    struct docschema *s = calloc(1, sizeof *s);
    json_error_t e;
    if (!s) {
        fprintf(errs, "%s: out of memory\n", name);
        return NULL;
    }
    if (!(s->root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e))) {
        fprintf(errs, "%s:%d: %s\n", name, e.line, e.text);
        goto fail;
    }
    if (prepare(s, name, s->root, 0, errs) < 0)
        goto fail;
    return s;
fail:
    docschema_free(s);
    return NULL;
}

void docschema_free(struct docschema *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->npatterns; i++)
        regfree(&s->patterns[i].re);
    json_decref(s->root);
    free(s);
}

/* ---- checking ---------------------------------------------------------------- */

struct walk {
    const struct docschema *s;
    struct docschema_problem *p;
    char ptr[256];  /* the instance's JSON pointer so far */
    size_t ptrlen;
    bool quiet;     /* inside oneOf/anyOf: only whether it matches */
};

static int problem(struct walk *w, const char *fmt, const char *arg)
{
    if (w->quiet)
        return -1;
    snprintf(w->p->pointer, sizeof w->p->pointer, "%s", w->ptr);
    snprintf(w->p->message, sizeof w->p->message, fmt, arg);
    return -1;
}

/* Appends "/token" (with ~0 ~1 escapes) to the pointer; returns the old length. */
static size_t push(struct walk *w, const char *token)
{
    size_t old = w->ptrlen, n = old;
    if (n + 1 < sizeof w->ptr)
        w->ptr[n++] = '/';
    for (const char *c = token; *c && n + 2 < sizeof w->ptr; c++) {
        if (*c == '~' || *c == '/') {
            w->ptr[n++] = '~';
            w->ptr[n++] = *c == '~' ? '0' : '1';
        } else {
            w->ptr[n++] = *c;
        }
    }
    w->ptr[n] = '\0';
    w->ptrlen = n;
    return old;
}

static void pop(struct walk *w, size_t old)
{
    w->ptrlen = old;
    w->ptr[old] = '\0';
}

static int check(struct walk *w, const json_t *schema, const json_t *doc, int depth);

/* JSON Schema's integer: any number with a zero fraction (1.0 is one). */
static bool is_integer(const json_t *v)
{
    return json_is_integer(v) || (json_is_real(v) && floor(json_real_value(v)) ==
                                                         json_real_value(v));
}

static bool has_type(const json_t *v, const char *type)
{
    if (strcmp(type, "object") == 0)
        return json_is_object(v);
    if (strcmp(type, "array") == 0)
        return json_is_array(v);
    if (strcmp(type, "string") == 0)
        return json_is_string(v);
    if (strcmp(type, "number") == 0)
        return json_is_number(v);
    if (strcmp(type, "integer") == 0)
        return is_integer(v);
    if (strcmp(type, "boolean") == 0)
        return json_is_boolean(v);
    return strcmp(type, "null") == 0 && json_is_null(v);
}

static int check_type(struct walk *w, const json_t *type, const json_t *doc)
{
    if (json_is_string(type))
        return has_type(doc, json_string_value(type)) ? 0
               : problem(w, "must be of type %s", json_string_value(type));
    size_t i;
    const json_t *t;
    json_array_foreach(type, i, t)
        if (json_is_string(t) && has_type(doc, json_string_value(t)))
            return 0;
    return problem(w, "has none of the types allowed%s", "");
}

/* Equality as JSON Schema means it: 1 and 1.0 are the same number. */
static bool same_value(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b))
        return json_number_value(a) == json_number_value(b);
    return json_equal((json_t *)a, (json_t *)b);
}

static int check_enum(struct walk *w, const json_t *options, const json_t *doc)
{
    size_t i;
    const json_t *o;
    json_array_foreach(options, i, o)
        if (same_value(o, doc))
            return 0;
    return problem(w, "is not one of the values allowed%s", "");
}

static int check_required(struct walk *w, const json_t *req, const json_t *doc)
{
    size_t i;
    const json_t *name;
    json_array_foreach(req, i, name)
        if (json_is_string(name) && !json_object_get(doc, json_string_value(name)))
            return problem(w, "lacks the required member \"%s\"", json_string_value(name));
    return 0;
}

static int check_members(struct walk *w, const json_t *schema, const json_t *doc, int depth)
{
    const json_t *props = json_object_get(schema, "properties");
    const json_t *extra = json_object_get(schema, "additionalProperties");
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)doc, key, v) {
        const json_t *sub = props ? json_object_get(props, key) : NULL;
        if (!sub)
            sub = extra;
        if (!sub)
            continue;
        size_t old = push(w, key);
        int rc = json_is_false(sub) ? problem(w, "is not a member this document may have%s", "")
                                    : check(w, sub, v, depth + 1);
        pop(w, old);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int check_object(struct walk *w, const json_t *schema, const json_t *doc, int depth)
{
    if (!json_is_object(doc))
        return 0;
    const json_t *req = json_object_get(schema, "required");
    if (req && check_required(w, req, doc) < 0)
        return -1;
    return check_members(w, schema, doc, depth);
}

static int check_array(struct walk *w, const json_t *schema, const json_t *doc, int depth)
{
    if (!json_is_array(doc))
        return 0;
    const json_t *min = json_object_get(schema, "minItems");
    const json_t *max = json_object_get(schema, "maxItems");
    if (min && json_number_value(min) > (double)json_array_size(doc))
        return problem(w, "has too few items%s", "");
    if (max && json_number_value(max) < (double)json_array_size(doc))
        return problem(w, "has too many items%s", "");
    const json_t *items = json_object_get(schema, "items"), *v;
    size_t i;
    char index[24];
    json_array_foreach(doc, i, v) {
        if (!items)
            break;
        snprintf(index, sizeof index, "%zu", i);
        size_t old = push(w, index);
        int rc = check(w, items, v, depth + 1);
        pop(w, old);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static const regex_t *pattern_of(const struct docschema *s, const json_t *node)
{
    for (int i = 0; i < s->npatterns; i++)
        if (s->patterns[i].node == node)
            return &s->patterns[i].re;
    return NULL;
}

static int check_string(struct walk *w, const json_t *schema, const json_t *doc)
{
    if (!json_is_string(doc))
        return 0;
    const char *text = json_string_value(doc);
    size_t len = json_string_length(doc);
    double chars = (double)tn_utf8_length(text, len); /* jansson's strings are valid UTF-8 */
    const json_t *min = json_object_get(schema, "minLength");
    const json_t *max = json_object_get(schema, "maxLength");
    const json_t *pat = json_object_get(schema, "pattern");
    if (min && json_number_value(min) > chars)
        return problem(w, "is too short%s", "");
    if (max && json_number_value(max) < chars)
        return problem(w, "is too long%s", "");
    const regex_t *re = pat ? pattern_of(w->s, pat) : NULL;
    /* a NUL inside the text would end the match early: no pattern allows one */
    if (re && (strlen(text) != len || regexec(re, text, 0, NULL, 0) != 0))
        return problem(w, "does not match %s", json_string_value(pat));
    return 0;
}

static int check_number(struct walk *w, const json_t *schema, const json_t *doc)
{
    if (!json_is_number(doc))
        return 0;
    const json_t *min = json_object_get(schema, "minimum");
    const json_t *max = json_object_get(schema, "maximum");
    double v = json_number_value(doc);
    if (min && v < json_number_value(min))
        return problem(w, "is below the minimum%s", "");
    if (max && v > json_number_value(max))
        return problem(w, "is above the maximum%s", "");
    return 0;
}

/* How many of the schemas in `list` the value matches (quietly). */
static int count_matches(struct walk *w, const json_t *list, const json_t *doc, int depth)
{
    bool was_quiet = w->quiet;
    int n = 0;
    size_t i;
    const json_t *sub;
    w->quiet = true;
    json_array_foreach(list, i, sub)
        n += check(w, sub, doc, depth + 1) == 0;
    w->quiet = was_quiet;
    return n;
}

static const json_t *resolve(const struct docschema *s, const char *ref);

/* Whether an alternative is plainly not meant for the value: its type does not fit,
 * or a member it fixes with "const" (a notice's "type") has another value. */
static bool ruled_out(const struct walk *w, const json_t *alt, const json_t *doc)
{
    const json_t *ref = json_object_get(alt, "$ref"), *type, *props, *sub;
    const char *key;
    if (json_is_string(ref) && resolve(w->s, json_string_value(ref)))
        alt = resolve(w->s, json_string_value(ref));
    type = json_object_get(alt, "type");
    if (json_is_string(type) && !has_type(doc, json_string_value(type)))
        return true;
    props = json_object_get(alt, "properties");
    json_object_foreach((json_t *)props, key, sub) {
        const json_t *c = json_object_get(sub, "const"), *v = json_object_get(doc, key);
        if (c && v && !same_value(c, v))
            return true;
    }
    return false;
}

/* The value matches none of the alternatives. When only one of them can be meant
 * for it (the notice whose "type" is cluster_alert, a window that is an object, not
 * null), its own first problem says more, with a deeper pointer, than "matches
 * none". */
static int explain_none(struct walk *w, const json_t *list, const json_t *doc, int depth,
                        const char *fmt)
{
    const json_t *meant = NULL, *alt;
    size_t i;
    int n = 0;
    json_array_foreach(list, i, alt)
        if (!ruled_out(w, alt, doc)) {
            meant = alt;
            n++;
        }
    if (n == 1 && check(w, meant, doc, depth + 1) < 0)
        return -1;
    return problem(w, fmt, "");
}

static int check_combined(struct walk *w, const json_t *schema, const json_t *doc, int depth)
{
    const json_t *one = json_object_get(schema, "oneOf");
    const json_t *any = json_object_get(schema, "anyOf");
    const json_t *all = json_object_get(schema, "allOf");
    int n;
    if (one && (n = count_matches(w, one, doc, depth)) != 1)
        return n == 0 ? explain_none(w, one, doc, depth, "matches none of its alternatives%s")
                      : problem(w, "matches more than one of its alternatives%s", "");
    if (any && count_matches(w, any, doc, depth) == 0)
        return explain_none(w, any, doc, depth, "matches none of its alternatives%s");
    size_t i;
    const json_t *sub;
    json_array_foreach(all, i, sub)
        if (check(w, sub, doc, depth + 1) < 0)
            return -1;
    return 0;
}

/* "#/$defs/NAME" or "#": the only references the schemas use. */
static const json_t *resolve(const struct docschema *s, const char *ref)
{
    static const char defs[] = "#/$defs/";
    if (strcmp(ref, "#") == 0)
        return s->root;
    if (strncmp(ref, defs, sizeof defs - 1) != 0)
        return NULL;
    return json_object_get(json_object_get(s->root, "$defs"), ref + sizeof defs - 1);
}

static int check_ref(struct walk *w, const json_t *ref, const json_t *doc, int depth)
{
    const json_t *target = json_is_string(ref) ? resolve(w->s, json_string_value(ref)) : NULL;
    if (!target)
        return problem(w, "the schema's $ref %s cannot be resolved",
                       json_is_string(ref) ? json_string_value(ref) : "?");
    return check(w, target, doc, depth + 1);
}

static int check(struct walk *w, const json_t *schema, const json_t *doc, int depth)
{
    if (json_is_true(schema))
        return 0;
    if (json_is_false(schema) || depth > MAX_DEPTH)
        return problem(w, "is not allowed here%s", "");
    const json_t *v;
    if ((v = json_object_get(schema, "$ref")) && check_ref(w, v, doc, depth) < 0)
        return -1;
    if ((v = json_object_get(schema, "type")) && check_type(w, v, doc) < 0)
        return -1;
    if ((v = json_object_get(schema, "const")) && !same_value(v, doc))
        return problem(w, "is not the value required here%s", "");
    if ((v = json_object_get(schema, "enum")) && check_enum(w, v, doc) < 0)
        return -1;
    if (check_object(w, schema, doc, depth) < 0 || check_array(w, schema, doc, depth) < 0 ||
        check_string(w, schema, doc) < 0 || check_number(w, schema, doc) < 0)
        return -1;
    return check_combined(w, schema, doc, depth);
}

int docschema_check(const struct docschema *s, const json_t *doc, struct docschema_problem *p)
{
    struct walk w = {.s = s, .p = p};
    memset(p, 0, sizeof *p);
    return check(&w, s->root, doc, 0);
}
