/* The configuration file: INI read by inih, every value validated, every problem
 * reported as "FILE:LINE: message" before anything is used.
 *
 * Division of work. Debian's inih calls the handler without a line number and
 * never for a section header, so our own reader (read_line) feeds inih one line at
 * a time and counts lines. It also takes care of everything about a line's shape:
 * comments, blank lines, section headers (handled here, never passed on), syntax
 * errors (all of them, not only inih's first) and over-long lines. inih then only
 * ever sees "key = value" lines; it splits them, strips inline " ;" comments and
 * blanks, and calls on_key, which finds the key's descriptor in a table and lets
 * the descriptor's parser validate and store the value. Cross-key and
 * cross-section rules (references, pairs, orderings) run once the whole file has
 * been read, so sections may come in any order.
 */
#include "config.h"

#include "log.h"
#include "textnum.h"
#include "wiegand.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* Enough to see every pattern in a broken file; more only scrolls the first away. */
#define MAX_MESSAGES 1000
/* Values quoted in messages are clipped to this many bytes. */
#define SHOW_MAX 48
/* A quoted value: every byte may become \xNN, plus quotes and "...". */
#define QUOTED_MAX (SHOW_MAX * 4 + 24)
#define PREFIX_MAX (2 * QUOTED_MAX + 2 * CFG_NAME_MAX + 64)
/* The most keys one kind of section has (lanes: 12); see the static asserts. */
#define MAX_KEYS 20
/* A config file is a few kilobytes; anything this big is a mistake. */
#define MAX_FILE_SIZE (1024 * 1024)
#define ZONEINFO "/usr/share/zoneinfo"
#define DEFAULT_PROFILE "gatescreen-ir"

#define SEC 1000L
#define MINUTE (60 * SEC)
#define HOUR (60 * MINUTE)
#define DAY (24 * HOUR)

/* Enum members are written through an int; this holds for GCC and Clang. */
_Static_assert(sizeof(enum cfg_identity) == sizeof(int), "enum size");
_Static_assert(sizeof(enum cfg_trigger) == sizeof(int), "enum size");

/* ---- types --------------------------------------------------------------------- */

enum sect { S_NONE, S_DAEMON, S_SCHOOL, S_LEDGER, S_WINDOWS, S_SCREENING, S_UPSTREAM, S_WEB,
            S_GPIO, S_BUS, S_PROFILE, S_DEVICE, S_LANE, S_COUNT };
#define S_FIRST_NAMED S_BUS

/* Names a [device] refers to; resolved once the whole file has been read. */
enum ref { REF_BUS, REF_PROFILE, REF_LANE, REF_COUNT };

/* What the file said about one section: where it and each of its keys were. */
struct inst {
    int line;              /* of the section header; 0 = not in the file */
    int keyline[MAX_KEYS]; /* where each key was first given; 0 = not given */
    unsigned failed;       /* bit per key whose value was rejected */
};

struct message {
    int line, seq;
    char *text;
};

struct parser {
    const char *name; /* file name used in messages */
    FILE *errs;
    int count;        /* problems found so far */
    struct message *msgs; /* the first MAX_MESSAGES of them */
    int nmsgs;
    const char *base_dir;
    struct config *cfg;
    const char *text; /* the reader's position in the file */
    size_t len, pos;
    int lineno;
    enum sect sect;   /* current section; S_NONE before the first one */
    int index;        /* ... its element in the config's array */
    bool skip;        /* current section was rejected: its keys are ignored quietly */
    int syntax_line;  /* last line reported as a syntax error */
    struct inst single[S_FIRST_NAMED];
    struct inst bus[CFG_MAX_BUSES], profile[CFG_MAX_PROFILES], device[CFG_MAX_DEVICES],
        lane[CFG_MAX_LANES];
    char refs[CFG_MAX_DEVICES][REF_COUNT][CFG_NAME_MAX];
    int lane_device[CFG_MAX_LANES]; /* the device serving each lane, -1 */
};

struct keydef;
typedef void (*key_parser)(struct parser *p, const struct keydef *k, void *obj, const char *v);

enum key_flags {
    K_REQUIRED = 1, /* missing → error at the section header */
    K_REPEAT = 2,   /* may be given several times (profile blocks) */
    K_SERIAL = 4,   /* only for serial buses */
    K_BOOL = 8,     /* enum stored in a bool member */
    K_CHAR = 16,    /* enum stored in a char member */
};

struct name_val {
    const char *name;
    int value;
};

struct keydef {
    const char *key;
    key_parser parse;
    size_t off;    /* member in the section's struct */
    size_t aux;    /* text: member size; span: end member; field/gpio/ref: role */
    long min, max; /* range; milliseconds for durations, hundredths for temperatures */
    const struct name_val *names; /* enums, NULL-terminated */
    unsigned flags;
};

struct sectdef {
    const char *name;
    const struct keydef *keys;
    int nkeys;
    bool named, required;
    size_t off;       /* the object (or the array) in struct config */
    size_t size;      /* named: element size */
    size_t count_off; /* named: the int counting elements */
    size_t name_off, line_off;
    int max;          /* named: capacity */
    void (*init)(void *obj);
    void (*check)(struct parser *p, int index); /* after the whole file was read */
};

static const struct sectdef sections[S_COUNT];

static const char *const field_keys[CFG_F_COUNT] = {
    "body_temp", "ambient_temp", "status", "sequence", "card_lo", "card_hi",
};
static const char *const gpio_keys[CFG_IO_COUNT] = {
    "green", "amber", "red", "buzzer", "relay", "wiegand_d0", "wiegand_d1", "presence",
};

/* ---- built-in profiles ---------------------------------------------------------- */

#define FIELD(addr, t, sc) {.present = true, .address = (addr), .type = (t), \
                            .order = CFG_WO_ABCD, .scale = (sc)}

static const struct cfg_profile builtin_profiles[] = {
    {
        .name = "gatescreen-ir", .builtin = true, .nblocks = 1, .blocks = {{3, 0, 6}},
        .fields = {
            [CFG_F_BODY_TEMP] = FIELD(0, CFG_T_INT16, 0.01),
            [CFG_F_AMBIENT_TEMP] = FIELD(1, CFG_T_INT16, 0.01),
            [CFG_F_STATUS] = FIELD(2, CFG_T_UINT16, 1),
            [CFG_F_SEQUENCE] = FIELD(3, CFG_T_UINT16, 1),
            [CFG_F_CARD_LO] = FIELD(4, CFG_T_UINT16, 1),
            [CFG_F_CARD_HI] = FIELD(5, CFG_T_UINT16, 1),
        },
        .status_valid = 0x0001, .status_fault = 0x0002, .status_present = 0x0004,
        .trigger = CFG_TRIGGER_SEQUENCE,
    },
    {
        /* Calex PyroUSB style: no sequence counter, so a reading is taken on the
         * rising edge of "person present". */
        .name = "pyrometer", .builtin = true, .nblocks = 2, .blocks = {{3, 0x00, 2}, {3, 0x15, 1}},
        .fields = {
            [CFG_F_BODY_TEMP] = FIELD(0, CFG_T_INT16, 0.1),
            [CFG_F_AMBIENT_TEMP] = FIELD(1, CFG_T_INT16, 0.1),
            [CFG_F_STATUS] = FIELD(0x15, CFG_T_UINT16, 1),
        },
        .status_valid = 0x0001, .status_fault = 0x0002, .status_present = 0x0004,
        .trigger = CFG_TRIGGER_PRESENCE,
    },
};

#define NBUILTIN ((int)(sizeof builtin_profiles / sizeof builtin_profiles[0]))

const struct cfg_profile *config_builtin_profiles(int *count)
{
    if (count != NULL)
        *count = NBUILTIN;
    return builtin_profiles;
}

/* ---- messages ------------------------------------------------------------------- */

/* Problems are kept and written sorted by line at the end, so that the rules
 * checked after reading (references, pairs) appear where they belong. */
GS_PRINTF(4, 0)
static void vproblem(struct parser *p, int line, const char *prefix, const char *fmt, va_list ap)
{
    if (p->count < INT_MAX)
        p->count++;
    if (p->errs == NULL || p->count > MAX_MESSAGES)
        return;
    char *msg = NULL, *text = NULL;
    if (p->msgs == NULL)
        p->msgs = calloc(MAX_MESSAGES, sizeof *p->msgs);
    if (p->msgs != NULL && vasprintf(&msg, fmt, ap) >= 0 &&
        asprintf(&text, "%s%s", prefix, msg) >= 0) {
        int k = p->nmsgs++;
        p->msgs[k] = (struct message){line, k, text};
    } else {
        fprintf(p->errs, "%s:%d: %s(out of memory)\n", p->name, line, prefix);
    }
    free(msg);
}

static int by_line(const void *a, const void *b)
{
    const struct message *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

static void flush_problems(struct parser *p)
{
    if (p->msgs != NULL)
        qsort(p->msgs, (size_t)p->nmsgs, sizeof *p->msgs, by_line);
    for (int i = 0; i < p->nmsgs; i++) {
        fprintf(p->errs, "%s:%d: %s\n", p->name, p->msgs[i].line, p->msgs[i].text);
        free(p->msgs[i].text);
    }
    if (p->count > MAX_MESSAGES && p->errs != NULL)
        fprintf(p->errs, "%s: ... and %d more problems\n", p->name, p->count - MAX_MESSAGES);
    free(p->msgs);
}

GS_PRINTF(3, 4)
static void problem(struct parser *p, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vproblem(p, line, "", fmt, ap);
    va_end(ap);
}

/* Length of the valid UTF-8 character at s (n bytes left), 0 if not one. */
static size_t utf8_char(const char *s, size_t n)
{
    unsigned char c = (unsigned char)s[0];
    size_t len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    if (len == 0 || len > n || tn_utf8_invalid_at(s, len) >= 0)
        return 0;
    return len;
}

/* A value as shown in messages: quoted, clipped, with control bytes and invalid
 * UTF-8 escaped, so that a broken file cannot garble the terminal. */
static const char *quote(const char *v, char out[QUOTED_MAX])
{
    size_t o = 0, n = strlen(v), i = 0;
    out[o++] = '"';
    while (i < n && i < SHOW_MAX) {
        size_t len = utf8_char(v + i, n - i);
        if (len == 0 || (unsigned char)v[i] < 0x20 || v[i] == 0x7f) {
            snprintf(out + o, QUOTED_MAX - o, "\\x%02X", (unsigned char)v[i]);
            o += 4;
            i++;
            continue;
        }
        memcpy(out + o, v + i, len);
        o += len;
        i += len;
    }
    if (i < n) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o++] = '"';
    out[o] = '\0';
    return out;
}

static void *element(struct config *cfg, enum sect s, int i)
{
    return (char *)cfg + sections[s].off + (size_t)i * sections[s].size;
}

static const char *element_name(const struct config *cfg, enum sect s, int i)
{
    return (const char *)cfg + sections[s].off + (size_t)i * sections[s].size +
           sections[s].name_off;
}

/* "[bus rtu]", "[school]". */
static const char *label(const struct parser *p, enum sect s, int i, char *buf, size_t n)
{
    if (sections[s].named)
        snprintf(buf, n, "[%s %s]", sections[s].name, element_name(p->cfg, s, i));
    else
        snprintf(buf, n, "[%s]", sections[s].name);
    return buf;
}

/* "FILE:LINE: [bus rtu] baud: message"; no key part when key is NULL. */
GS_PRINTF(6, 7)
static void key_problem(struct parser *p, enum sect s, int i, int line, const char *key,
                        const char *fmt, ...)
{
    char lbl[2 * CFG_NAME_MAX + 8], prefix[PREFIX_MAX];
    label(p, s, i, lbl, sizeof lbl);
    snprintf(prefix, sizeof prefix, key ? "%s %s: " : "%s ", lbl, key ? key : "");
    va_list ap;
    va_start(ap, fmt);
    vproblem(p, line, prefix, fmt, ap);
    va_end(ap);
}

/* A problem with the key being read. */
GS_PRINTF(3, 4)
static void bad(struct parser *p, const struct keydef *k, const char *fmt, ...)
{
    char lbl[2 * CFG_NAME_MAX + 8], prefix[PREFIX_MAX];
    label(p, p->sect, p->index, lbl, sizeof lbl);
    snprintf(prefix, sizeof prefix, "%s %s: ", lbl, k->key);
    va_list ap;
    va_start(ap, fmt);
    vproblem(p, p->lineno, prefix, fmt, ap);
    va_end(ap);
}

/* `[screening] threshold: "37.3x" is not a temperature between 35.00 and 40.00` */
GS_PRINTF(4, 5)
static void bad_value(struct parser *p, const struct keydef *k, const char *v, const char *fmt,
                      ...)
{
    char lbl[2 * CFG_NAME_MAX + 8], q[QUOTED_MAX], prefix[PREFIX_MAX];
    label(p, p->sect, p->index, lbl, sizeof lbl);
    snprintf(prefix, sizeof prefix, "%s %s: %s is not ", lbl, k->key, quote(v, q));
    va_list ap;
    va_start(ap, fmt);
    vproblem(p, p->lineno, prefix, fmt, ap);
    va_end(ap);
}

/* Milliseconds the way tn_duration_ms reads them: 600000 -> "10min". */
static const char *fmt_ms(long ms, char buf[24])
{
    if (ms != 0 && ms % HOUR == 0)
        snprintf(buf, 24, "%ldh", ms / HOUR);
    else if (ms != 0 && ms % MINUTE == 0)
        snprintf(buf, 24, "%ldmin", ms / MINUTE);
    else if (ms != 0 && ms % SEC == 0)
        snprintf(buf, 24, "%lds", ms / SEC);
    else
        snprintf(buf, 24, "%ldms", ms);
    return buf;
}

static const char *fmt_hhmm(int minutes, char buf[8])
{
    snprintf(buf, 8, "%02d:%02d", (minutes / 60) % 100, minutes % 60);
    return buf;
}

/* ---- small helpers ---------------------------------------------------------------- */

static void *member(void *obj, size_t off) { return (char *)obj + off; }

static struct inst *inst_of(struct parser *p, enum sect s, int i)
{
    switch (s) {
    case S_BUS: return &p->bus[i];
    case S_PROFILE: return &p->profile[i];
    case S_DEVICE: return &p->device[i];
    case S_LANE: return &p->lane[i];
    default: return &p->single[s];
    }
}

/* noinline: inlined into the validators, gcc 12 -O3 compares the literal keys
 * with every table entry and warns (-Wstring-compare) about ones that cannot match. */
__attribute__((noinline)) static int key_index(enum sect s, const char *key)
{
    for (int i = 0; i < sections[s].nkeys; i++)
        if (strcmp(sections[s].keys[i].key, key) == 0)
            return i;
    return -1;
}

/* The line where `key` was given, or 0. */
static int given(struct parser *p, enum sect s, int i, const char *key)
{
    int k = key_index(s, key);
    return k < 0 ? 0 : inst_of(p, s, i)->keyline[k];
}

/* Where to point at a rule about `key`: its line, else the section header. */
static int line_of(struct parser *p, enum sect s, int i, const char *key)
{
    int line = given(p, s, i, key);
    if (line == 0)
        line = inst_of(p, s, i)->line;
    return line > 0 ? line : 1;
}

static bool failed(struct parser *p, enum sect s, int i, const char *key)
{
    int k = key_index(s, key);
    return k >= 0 && (inst_of(p, s, i)->failed & (1u << k));
}

static int max_int(int a, int b) { return a > b ? a : b; }

/* Index of the name in a NULL-terminated table (s need not be terminated), or -1. */
static int find_name(const struct name_val *t, const char *s, size_t n)
{
    for (int i = 0; t[i].name != NULL; i++)
        if (strlen(t[i].name) == n && memcmp(t[i].name, s, n) == 0)
            return i;
    return -1;
}

/* "a, b, c" for messages. */
static const char *join_names(const struct name_val *t, char *buf, size_t n)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; t[i].name != NULL && o < n; i++)
        o += (size_t)snprintf(buf + o, n - o, "%s%s", i ? ", " : "", t[i].name);
    return buf;
}

static bool ident_chars(const char *s, size_t n, const char *extra)
{
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && (s[i] == '\0' || !strchr(extra, s[i])))
            return false;
    return true;
}

/* Why s (n bytes) cannot be the name of a section or line, or NULL. */
static const char *name_problem(const char *s, size_t n)
{
    if (n == 0)
        return "is empty";
    if (n >= CFG_NAME_MAX)
        return "is too long (max 31 bytes)";
    if (!ident_chars(s, n, "_.-"))
        return "may only have letters, digits, '_', '.' and '-'";
    return NULL;
}

/* Splits s in place at runs of blanks; the number of words, or max + 1 if more. */
static int split_words(char *s, char **w, int max)
{
    int n = 0;
    for (char *t = s; *t != '\0';) {
        while (*t != '\0' && isspace((unsigned char)*t))
            *t++ = '\0';
        if (*t == '\0')
            break;
        if (n == max)
            return max + 1;
        w[n++] = t;
        while (*t != '\0' && !isspace((unsigned char)*t))
            t++;
    }
    return n;
}

/* Copies a value into a small work buffer; -1 (reported) if it does not fit. */
static int work_copy(struct parser *p, const struct keydef *k, const char *v, char *buf,
                     size_t n)
{
    size_t len = strlen(v);
    if (len >= n) {
        bad(p, k, "too long (max %zu bytes)", n - 1);
        return -1;
    }
    memcpy(buf, v, len + 1);
    return 0;
}

/* ---- text values ------------------------------------------------------------------ */

/* Why v cannot be text in the config, or NULL. */
static const char *text_problem(const char *v)
{
    size_t n = strlen(v);
    if (n == 0)
        return "is empty";
    if (tn_utf8_invalid_at(v, n) >= 0)
        return "is not valid UTF-8 (save the file as UTF-8, not GBK)";
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
            return "has a control character";
    return NULL;
}

static int check_text(struct parser *p, const struct keydef *k, const char *v, size_t cap)
{
    char q[QUOTED_MAX];
    const char *why = text_problem(v);
    if (why != NULL) {
        bad(p, k, "%s %s", quote(v, q), why);
        return -1;
    }
    if (strlen(v) >= cap) {
        bad(p, k, "too long (max %zu bytes)", cap - 1);
        return -1;
    }
    return 0;
}

static void parse_text(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    if (check_text(p, k, v, k->aux) == 0)
        memcpy(member(obj, k->off), v, strlen(v) + 1);
}

/* The bureau's code for the school ends up in file names and upstream keys. */
static void parse_code(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    if (check_text(p, k, v, k->aux) < 0)
        return;
    if (!ident_chars(v, strlen(v), "_-")) {
        bad_value(p, k, v, "a code of letters, digits, '_' and '-'");
        return;
    }
    memcpy(member(obj, k->off), v, strlen(v) + 1);
}

/* Relative paths are taken relative to the config's folder, so that the service
 * does not depend on its working directory. */
static void parse_path(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    if (check_text(p, k, v, k->aux) < 0)
        return;
    char *dst = member(obj, k->off);
    size_t n = strlen(v);
    if (v[0] == '/' || p->base_dir == NULL) {
        memcpy(dst, v, n + 1);
        return;
    }
    size_t dn = strlen(p->base_dir);
    bool slash = dn > 0 && p->base_dir[dn - 1] == '/';
    if (dn + !slash + n >= k->aux) {
        bad(p, k, "too long once put in the config's folder %s (max %zu bytes)", p->base_dir,
            k->aux - 1);
        return;
    }
    memcpy(dst, p->base_dir, dn);
    if (!slash)
        dst[dn++] = '/';
    memcpy(dst + dn, v, n + 1);
}

static void parse_timezone(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    if (check_text(p, k, v, k->aux) < 0)
        return;
    if (!ident_chars(v, strlen(v), "_+-/") || v[0] == '/' || strstr(v, "..") != NULL) {
        bad_value(p, k, v, "a time zone name such as Asia/Shanghai");
        return;
    }
    char path[sizeof ZONEINFO + CFG_TEXT_MAX];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", ZONEINFO, v);
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        bad_value(p, k, v, "a time zone known to this system (no file %s)", path);
        return;
    }
    memcpy(member(obj, k->off), v, strlen(v) + 1);
}

/* ---- numbers, times, flags ------------------------------------------------------- */

static void parse_int(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    long n;
    if (tn_long(v, k->min, k->max, &n) < 0) {
        bad_value(p, k, v, "a whole number between %ld and %ld", k->min, k->max);
        return;
    }
    *(int *)member(obj, k->off) = (int)n;
}

static void parse_mask(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    long n;
    if (tn_long_hex(v, 0, 0xFFFF, &n) < 0) {
        bad_value(p, k, v, "a bit mask between 0 and 0xFFFF (e.g. 0x0004)");
        return;
    }
    *(uint16_t *)member(obj, k->off) = (uint16_t)n;
}

static void parse_duration(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    int64_t ms;
    char lo[24], hi[24];
    if (tn_duration_ms(v, k->min, k->max, &ms) < 0) {
        bad_value(p, k, v, "a duration between %s and %s (e.g. 500ms, 2s, 5min, 1h)",
                  fmt_ms(k->min, lo), fmt_ms(k->max, hi));
        return;
    }
    *(int64_t *)member(obj, k->off) = ms;
}

/* Wiegand timings are microseconds. */
static void parse_duration_us(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    int64_t us;
    if (tn_duration_us(v, k->min, k->max, &us) < 0) {
        bad_value(p, k, v, "a duration between %ldus and %ldus (e.g. 150us, 2ms, 25ms)",
                  k->min, k->max);
        return;
    }
    *(int64_t *)member(obj, k->off) = us;
}

/* Temperatures are exact hundredths: 37.29 and 37.30 never blur. */
static void parse_centi(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    long c;
    char lo[24], hi[24];
    if (tn_centi(v, k->min, k->max, &c) < 0) {
        bad_value(p, k, v, "a temperature between %s and %s",
                  tn_format_centi(k->min, lo, sizeof lo), tn_format_centi(k->max, hi, sizeof hi));
        return;
    }
    *(int *)member(obj, k->off) = (int)c;
}

static void parse_bool(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    if (tn_bool(v, (bool *)member(obj, k->off)) < 0)
        bad_value(p, k, v, "yes or no");
}

static void store_enum(const struct keydef *k, void *obj, int value)
{
    if (k->flags & K_BOOL)
        *(bool *)member(obj, k->off) = value != 0;
    else if (k->flags & K_CHAR)
        *(char *)member(obj, k->off) = (char)value;
    else
        memcpy(member(obj, k->off), &value, sizeof value);
}

static void parse_enum(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    int i = find_name(k->names, v, strlen(v));
    if (i < 0) {
        char list[160];
        bad_value(p, k, v, "one of: %s", join_names(k->names, list, sizeof list));
        return;
    }
    store_enum(k, obj, k->names[i].value);
}

static void parse_log_level(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    enum log_level lvl;
    if (log_parse_level(v, &lvl) < 0) {
        bad_value(p, k, v, "one of: error, warning, notice, info, debug");
        return;
    }
    *(int *)member(obj, k->off) = (int)lvl;
}

static void parse_hhmm(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    if (tn_hhmm(v, (int *)member(obj, k->off)) < 0)
        bad_value(p, k, v, "a time of day HH:MM (00:00 to 23:59)");
}

static void parse_span(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    if (tn_span(v, (int *)member(obj, k->off), (int *)member(obj, k->aux)) < 0)
        bad_value(p, k, v, "a time span HH:MM-HH:MM within one day, start before end");
}

static void parse_noon(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    struct cfg_windows *w = obj;
    if (strcmp(v, "off") == 0) {
        w->noon_enabled = false;
        return;
    }
    if (tn_span(v, &w->noon_start, &w->noon_end) < 0) {
        bad_value(p, k, v, "off or a time span HH:MM-HH:MM within one day, start before end");
        return;
    }
    w->noon_enabled = true;
}

static const struct name_val kind_names[] = {
    {"student", CFG_KIND_STUDENT}, {"teacher", CFG_KIND_TEACHER}, {"staff", CFG_KIND_STAFF},
    {NULL, 0},
};

/* "student, teacher": who is expected at school every day. */
static void parse_kinds(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    unsigned mask = 0;
    for (const char *s = v;;) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        while (n > 0 && isspace((unsigned char)*s))
            s++, n--;
        while (n > 0 && isspace((unsigned char)s[n - 1]))
            n--;
        int i = find_name(kind_names, s, n);
        if (i < 0) {
            bad_value(p, k, v, "a comma-separated list of student, teacher, staff");
            return;
        }
        mask |= (unsigned)kind_names[i].value;
        if (comma == NULL)
            break;
        s = comma + 1;
    }
    ((struct cfg_windows *)obj)->absence_kinds = mask;
}

/* Weekdays in the order of struct civil: bit 0 = Sunday. */
static const char *const weekday_names[7] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
#define WEEKDAY_LIST "mon, tue, wed, thu, fri, sat, sun"
#define NO_WEEKDAY (-2)

static const char *trim(const char *s, size_t *n);

/* The weekday named by s (n bytes, blanks around it allowed), -1 for an unknown name,
 * NO_WEEKDAY for none at all. */
static int weekday_index(const char *s, size_t n)
{
    s = trim(s, &n);
    if (n == 0)
        return NO_WEEKDAY;
    for (int d = 0; d < 7 && n == 3; d++)
        if (strncasecmp(s, weekday_names[d], 3) == 0)
            return d;
    return -1;
}

/* One item of a days list, "wed" or "mon-fri", as a mask; a range may wrap around
 * the end of the week ("sun-thu", "sat-mon"). -1 (reported) if it is neither. */
static int day_item(struct parser *p, const struct keydef *k, const char *v, const char *s,
                    size_t n, unsigned *mask)
{
    const char *dash = memchr(s, '-', n);
    size_t an = dash ? (size_t)(dash - s) : n, bn = dash ? n - an - 1 : 0;
    int a = weekday_index(s, an), b = dash ? weekday_index(dash + 1, bn) : a;
    if (a == NO_WEEKDAY || b == NO_WEEKDAY) {
        bad_value(p, k, v, "a list of weekdays and ranges such as mon-fri or mon,wed,fri (%s)",
                  WEEKDAY_LIST);
        return -1;
    }
    if (a < 0 || b < 0) {
        char name[CFG_TEXT_MAX], q[QUOTED_MAX];
        const char *bad_name = a < 0 ? s : dash + 1;
        size_t len = a < 0 ? an : bn;
        bad_name = trim(bad_name, &len);
        len = len < sizeof name ? len : sizeof name - 1;
        memcpy(name, bad_name, len);
        name[len] = '\0';
        bad(p, k, "%s is not a weekday (%s)", quote(name, q), WEEKDAY_LIST);
        return -1;
    }
    *mask = 0;
    for (int d = a;; d = (d + 1) % 7) {
        *mask |= 1u << d;
        if (d == b)
            return 0;
    }
}

/* "mon-fri", "mon,tue,thu,fri", "mon-wed, fri": the school days. */
static void parse_days(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    unsigned mask = 0, item;
    for (const char *s = v;;) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        if (day_item(p, k, v, s, n, &item) < 0)
            return;
        for (int i = 1; i <= 7 && (mask & item); i++) /* reported in mon..sun order */
            if (mask & item & (1u << (i % 7))) {
                bad(p, k, "%s is given twice", weekday_names[i % 7]);
                return;
            }
        mask |= item;
        if (comma == NULL)
            break;
        s = comma + 1;
    }
    ((struct cfg_windows *)obj)->school_days = mask;
}

/* ---- buses ------------------------------------------------------------------------- */

/* HOST:PORT, with an IPv6 address in brackets: [fd00::5]:502. */
static void parse_tcp(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    struct cfg_bus *b = obj;
    const char *colon = strrchr(v, ':');
    long port;
    if (colon == NULL || tn_long(colon + 1, 1, 65535, &port) < 0) {
        bad_value(p, k, v, "HOST:PORT with a port between 1 and 65535");
        return;
    }
    const char *h = v;
    size_t hn = (size_t)(colon - v);
    bool v6 = hn >= 2 && h[0] == '[' && h[hn - 1] == ']';
    if (v6)
        h++, hn -= 2;
    if (hn == 0 || hn >= sizeof b->host || !ident_chars(h, hn, v6 ? ":.%" : "-._")) {
        bad_value(p, k, v, "HOST:PORT (a host name or address; IPv6 in brackets: [::1]:502)");
        return;
    }
    memcpy(b->host, h, hn);
    b->host[hn] = '\0';
    unsigned char addr[16];
    if (v6 && inet_pton(AF_INET6, b->host, addr) != 1) {
        b->host[0] = '\0';
        bad_value(p, k, v, "HOST:PORT with a valid IPv6 address in the brackets");
        return;
    }
    b->port = (int)port;
    b->is_tcp = true;
}

/* Any absolute path: a USB adapter's /dev/ttyUSB0, a udev alias, or a pty link. */
static void parse_serial(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    struct cfg_bus *b = obj;
    if (check_text(p, k, v, sizeof b->device) < 0)
        return;
    if (v[0] != '/') {
        bad_value(p, k, v, "an absolute device path such as /dev/ttyUSB0");
        return;
    }
    memcpy(b->device, v, strlen(v) + 1);
}

static void parse_baud(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    static const long rates[] = {1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200};
    long n;
    if (tn_long(v, 1, 115200, &n) == 0) {
        for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
            if (rates[i] == n) {
                ((struct cfg_bus *)obj)->baud = (int)n;
                return;
            }
        }
    }
    bad_value(p, k, v, "one of: 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200");
}

/* ---- profiles --------------------------------------------------------------------- */

/* block = FUNCTION:START:COUNT, one read request each. */
static void parse_block(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    struct cfg_profile *pr = obj;
    char buf[64], *start, *count;
    if (work_copy(p, k, v, buf, sizeof buf) < 0)
        return;
    long f = 0, s = 0, c = 0;
    if ((start = strchr(buf, ':')) != NULL && (count = strchr(start + 1, ':')) != NULL) {
        *start++ = '\0';
        *count++ = '\0';
        if (tn_long(buf, 3, 4, &f) < 0 || tn_long_hex(start, 0, 0xFFFF, &s) < 0 ||
            tn_long(count, 1, 125, &c) < 0)
            f = 0;
    }
    if (f == 0 || s + c > 0x10000) {
        bad_value(p, k, v, "FUNCTION:START:COUNT with function 3 or 4, start 0..65535 and "
                           "count 1..125 (e.g. 3:0:6)");
        return;
    }
    if (pr->nblocks >= CFG_MAX_BLOCKS) {
        bad(p, k, "more than %d blocks", CFG_MAX_BLOCKS);
        return;
    }
    pr->blocks[pr->nblocks++] = (struct cfg_block){(int)f, (int)s, (int)c};
}

static const struct name_val type_names[] = {
    {"int16", CFG_T_INT16}, {"uint16", CFG_T_UINT16}, {"int32", CFG_T_INT32},
    {"uint32", CFG_T_UINT32}, {"float32", CFG_T_FLOAT32}, {NULL, 0},
};
static const struct name_val order_names[] = {
    {"ABCD", CFG_WO_ABCD}, {"CDAB", CFG_WO_CDAB}, {"BADC", CFG_WO_BADC}, {"DCBA", CFG_WO_DCBA},
    {NULL, 0},
};

/* The words after ADDRESS TYPE: [ORDER] [SCALE]; -1 (reported) if bad. */
static int field_options(struct parser *p, const struct keydef *k, char **w, int n,
                         struct cfg_field *f)
{
    char q[QUOTED_MAX];
    int i = 2, o = i < n ? find_name(order_names, w[i], strlen(w[i])) : -1;
    if (o >= 0) {
        f->order = (enum cfg_word_order)order_names[o].value;
        i++;
    }
    if (f->order != CFG_WO_ABCD && (f->type == CFG_T_INT16 || f->type == CFG_T_UINT16)) {
        bad(p, k, "word order %s needs a 32-bit type", w[2]);
        return -1;
    }
    if (i < n && (tn_double(w[i], -1e6, 1e6, &f->scale) < 0 || f->scale == 0)) {
        bad(p, k, "%s is not a word order (ABCD, CDAB, BADC, DCBA) or a non-zero scale",
            quote(w[i], q));
        return -1;
    }
    if (i < n)
        i++;
    if (i < n) {
        bad(p, k, "%s is one word too many (ADDRESS TYPE [ORDER] [SCALE])", quote(w[i], q));
        return -1;
    }
    return 0;
}

/* body_temp = ADDRESS TYPE [ORDER] [SCALE], e.g. "0 int16 0.01" or "0x10 float32 CDAB". */
static void parse_field(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    struct cfg_profile *pr = obj;
    struct cfg_field f = {.present = true, .order = CFG_WO_ABCD, .scale = 1};
    char buf[96], *w[4], q[QUOTED_MAX];
    if (work_copy(p, k, v, buf, sizeof buf) < 0)
        return;
    int n = split_words(buf, w, 4), t;
    long addr;
    if (n < 2 || n > 4) {
        bad_value(p, k, v, "ADDRESS TYPE [ORDER] [SCALE] (e.g. 0 int16 0.01)");
        return;
    }
    if (tn_long_hex(w[0], 0, 0xFFFF, &addr) < 0) {
        bad(p, k, "register address %s is not between 0 and 65535 (or 0xFFFF)", quote(w[0], q));
        return;
    }
    if ((t = find_name(type_names, w[1], strlen(w[1]))) < 0) {
        bad(p, k, "%s is not a type (int16, uint16, int32, uint32, float32)", quote(w[1], q));
        return;
    }
    f.address = (int)addr;
    f.type = (enum cfg_field_type)type_names[t].value;
    if (field_options(p, k, w, n, &f) == 0)
        pr->fields[k->aux] = f;
}

/* ---- devices and lanes ------------------------------------------------------------ */

/* A name a [device] refers to; looked up once the whole file is read. */
static void parse_ref(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    (void)obj;
    const char *why = name_problem(v, strlen(v));
    if (why != NULL) {
        char q[QUOTED_MAX];
        bad(p, k, "name %s %s", quote(v, q), why);
        return;
    }
    memcpy(p->refs[p->index][k->aux], v, strlen(v) + 1);
}

/* CHIP:OFFSET or a line NAME, optionally followed by "active-low" or "active-high". */
static int gpio_line(const char *w, struct cfg_gpio_line *g)
{
    const char *colon = strchr(w, ':');
    long off;
    if (colon == NULL) {
        if (name_problem(w, strlen(w)) != NULL)
            return -1;
        memcpy(g->name, w, strlen(w) + 1);
        return 0;
    }
    /* gpiochipN only: the libgpiod 1.6 and 2.x builds must read a config alike. */
    size_t cn = (size_t)(colon - w);
    if (cn <= 8 || cn >= CFG_NAME_MAX || strncmp(w, "gpiochip", 8) != 0 ||
        strspn(w + 8, "0123456789") != cn - 8 || tn_long(colon + 1, 0, 511, &off) < 0)
        return -1;
    memcpy(g->chip, w, cn);
    g->chip[cn] = '\0';
    g->offset = (int)off;
    return 0;
}

static void parse_gpio(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    struct cfg_lane *l = obj;
    struct cfg_gpio_line g = {.present = true, .offset = -1};
    char buf[96], *w[2];
    if (work_copy(p, k, v, buf, sizeof buf) < 0)
        return;
    int n = split_words(buf, w, 2);
    if (n < 1 || n > 2 ||
        (n == 2 && strcmp(w[1], "active-low") != 0 && strcmp(w[1], "active-high") != 0) ||
        gpio_line(w[0], &g) < 0) {
        bad_value(p, k, v, "gpiochipN:OFFSET (offset 0..511) or a line name, optionally "
                           "followed by active-low or active-high (e.g. gpiochip0:17 active-low)");
        return;
    }
    /* Wiegand pulses are low by the standard: those lines default to active-low. */
    bool wiegand = k->aux == CFG_IO_WIEGAND_D0 || k->aux == CFG_IO_WIEGAND_D1;
    g.active_low = n == 2 ? strcmp(w[1], "active-low") == 0 : wiegand;
    l->io[k->aux] = g;
}

/* ---- upstream and web ------------------------------------------------------------ */

/* Health data only leaves the school over TLS. */
static void parse_url(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    struct cfg_upstream *u = obj;
    char q[QUOTED_MAX];
    if (check_text(p, k, v, sizeof u->url) < 0)
        return;
    if (strncasecmp(v, "http://", 7) == 0) {
        bad(p, k, "%s: TLS is required, use an https:// URL", quote(v, q));
        return;
    }
    bool blank = false;
    for (const char *s = v; *s; s++)
        blank |= isspace((unsigned char)*s) != 0;
    if (strncasecmp(v, "https://", 8) != 0 || v[8] == '\0' || v[8] == '/' || blank) {
        bad_value(p, k, v, "an https:// URL (e.g. https://bureau.example.cn/api/v1)");
        return;
    }
    memcpy(u->url, v, strlen(v) + 1);
    u->enabled = true;
}

static void parse_listen(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    struct cfg_web *w = obj;
    unsigned char addr[16];
    if (strlen(v) >= sizeof w->listen ||
        (inet_pton(AF_INET, v, addr) != 1 && inet_pton(AF_INET6, v, addr) != 1)) {
        bad_value(p, k, v, "an IPv4 or IPv6 address (e.g. 127.0.0.1, 0.0.0.0, ::1)");
        return;
    }
    memcpy(w->listen, v, strlen(v) + 1);
}

/* ---- key tables -------------------------------------------------------------------- */

#define KEY(k, fn, T, m, ...) {.key = (k), .parse = (fn), .off = offsetof(T, m), __VA_ARGS__}
#define TEXT(k, fn, T, m, ...) KEY(k, fn, T, m, .aux = sizeof(((T *)0)->m), __VA_ARGS__)
#define RANGE(k, fn, T, m, lo, hi) KEY(k, fn, T, m, .min = (lo), .max = (hi))
#define ENUM(k, T, m, tbl, fl) KEY(k, parse_enum, T, m, .names = (tbl), .flags = (fl))
#define ARRAY_LEN(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define KEYS(a) .keys = (a), .nkeys = ARRAY_LEN(a)

static const struct name_val sync_names[] = {{"full", 1}, {"normal", 0}, {NULL, 0}};
static const struct name_val parity_names[] = {
    {"N", CFG_PARITY_NONE}, {"E", CFG_PARITY_EVEN}, {"O", CFG_PARITY_ODD}, {NULL, 0},
};
static const struct name_val trigger_names[] = {
    {"sequence", CFG_TRIGGER_SEQUENCE}, {"presence", CFG_TRIGGER_PRESENCE}, {NULL, 0},
};
static const struct name_val identity_names[] = {
    {"wiegand", CFG_ID_WIEGAND}, {"device", CFG_ID_DEVICE}, {"none", CFG_ID_NONE}, {NULL, 0},
};
static const struct name_val indicator_names[] = {
    {"console", CFG_IND_CONSOLE}, {"gpio", CFG_IND_GPIO}, {"test", CFG_IND_TEST}, {NULL, 0},
};
static const struct name_val enforce_names[] = {
    {"soft", CFG_ENFORCE_SOFT}, {"hard", CFG_ENFORCE_HARD}, {NULL, 0},
};
static const struct name_val identify_table[] = {{"pseudonym", 0}, {"names", 1}, {NULL, 0}};

static const struct keydef daemon_keys[] = {
    KEY("log_level", parse_log_level, struct cfg_daemon, log_level, .flags = 0),
    RANGE("stop_timeout", parse_duration, struct cfg_daemon, stop_timeout_ms, 100, 30 * SEC),
    TEXT("indicator_log", parse_path, struct cfg_daemon, indicator_log, .flags = 0),
};

#define WIEGAND_US(k, m, lo, hi) RANGE(k, parse_duration_us, struct cfg_gpio, m, lo, hi)
static const struct keydef gpio_keys_section[] = {
    RANGE("lamp_test", parse_duration, struct cfg_gpio, lamp_test_ms, 0, 5 * SEC),
    RANGE("presence_debounce", parse_duration, struct cfg_gpio, presence_debounce_ms, 0, 2 * SEC),
    WIEGAND_US("wiegand_pulse_min", wiegand_pulse_min_us, 0, 1000000),
    WIEGAND_US("wiegand_pulse_max", wiegand_pulse_max_us, 1, 1000000),
    WIEGAND_US("wiegand_interval_min", wiegand_interval_min_us, 0, 1000000),
    WIEGAND_US("wiegand_frame_gap", wiegand_frame_gap_us, 1000, 10000000),
};

static const struct keydef school_keys[] = {
    TEXT("code", parse_code, struct cfg_school, code, .flags = K_REQUIRED),
    TEXT("name", parse_text, struct cfg_school, name, .flags = K_REQUIRED),
    TEXT("timezone", parse_timezone, struct cfg_school, timezone, .flags = 0),
};

static const struct keydef ledger_keys[] = {
    TEXT("database", parse_path, struct cfg_ledger, database, .flags = K_REQUIRED),
    RANGE("retention_days", parse_int, struct cfg_ledger, retention_days, 1, 3650),
    ENUM("synchronous", struct cfg_ledger, synchronous_full, sync_names, K_BOOL),
};

static const struct keydef windows_keys[] = {
    KEY("morning", parse_span, struct cfg_windows, morning_start,
        .aux = offsetof(struct cfg_windows, morning_end), .flags = K_REQUIRED),
    KEY("noon", parse_noon, struct cfg_windows, noon_start, .flags = 0),
    RANGE("absence_grace", parse_duration, struct cfg_windows, absence_grace_ms, 0, 6 * HOUR),
    KEY("absence_kinds", parse_kinds, struct cfg_windows, absence_kinds, .flags = 0),
    KEY("days", parse_days, struct cfg_windows, school_days, .flags = 0),
};

#define HOLD(k, m) RANGE(k, parse_duration, struct cfg_screening, m, 100, 10 * MINUTE)
static const struct keydef screening_keys[] = {
    RANGE("threshold", parse_centi, struct cfg_screening, threshold_centi, 3500, 4000),
    RANGE("valid_min", parse_centi, struct cfg_screening, valid_min_centi, 2500, 4500),
    RANGE("valid_max", parse_centi, struct cfg_screening, valid_max_centi, 2500, 4500),
    KEY("identity_required", parse_bool, struct cfg_screening, identity_required, .flags = 0),
    RANGE("pair_window", parse_duration, struct cfg_screening, pair_window_ms, 100, 60 * SEC),
    HOLD("hold_admit", hold_admit_ms),
    HOLD("hold_fever", hold_fever_ms),
    HOLD("hold_invalid", hold_invalid_ms),
    HOLD("hold_deny", hold_deny_ms),
    HOLD("hold_nurse", hold_nurse_ms),
    HOLD("hold_no_measurement", hold_no_measurement_ms),
    RANGE("buzzer", parse_duration, struct cfg_screening, buzzer_ms, 0, MINUTE),
    RANGE("blink_period", parse_duration, struct cfg_screening, blink_period_ms, 100, 5 * SEC),
    RANGE("cluster_day_cases", parse_int, struct cfg_screening, cluster_day_cases, 1, 100),
    RANGE("cluster_3day_cases", parse_int, struct cfg_screening, cluster_3day_cases, 1, 100),
};

static const struct keydef upstream_keys[] = {
    KEY("url", parse_url, struct cfg_upstream, url, .flags = 0),
    TEXT("ca_file", parse_path, struct cfg_upstream, ca_file, .flags = 0),
    TEXT("client_cert", parse_path, struct cfg_upstream, client_cert, .flags = 0),
    TEXT("client_key", parse_path, struct cfg_upstream, client_key, .flags = 0),
    TEXT("token_file", parse_path, struct cfg_upstream, token_file, .flags = 0),
    TEXT("secret_file", parse_path, struct cfg_upstream, secret_file, .flags = 0),
    ENUM("identify", struct cfg_upstream, identify_names, identify_table, K_BOOL),
    KEY("day_end", parse_hhmm, struct cfg_upstream, day_end, .flags = 0),
    RANGE("connect_timeout", parse_duration, struct cfg_upstream, connect_timeout_ms, SEC,
          2 * MINUTE),
    RANGE("timeout", parse_duration, struct cfg_upstream, timeout_ms, SEC, 10 * MINUTE),
    RANGE("retry_min", parse_duration, struct cfg_upstream, retry_min_ms, SEC, HOUR),
    RANGE("retry_max", parse_duration, struct cfg_upstream, retry_max_ms, SEC, DAY),
};

static const struct keydef web_keys[] = {
    KEY("enabled", parse_bool, struct cfg_web, enabled, .flags = 0),
    KEY("listen", parse_listen, struct cfg_web, listen, .flags = 0),
    RANGE("port", parse_int, struct cfg_web, port, 1, 65535),
    TEXT("tls_cert", parse_path, struct cfg_web, tls_cert, .flags = 0),
    TEXT("tls_key", parse_path, struct cfg_web, tls_key, .flags = 0),
    KEY("allow_plain_http", parse_bool, struct cfg_web, allow_plain_http, .flags = 0),
    RANGE("session_idle", parse_duration, struct cfg_web, session_idle_ms, MINUTE, DAY),
    RANGE("session_max", parse_duration, struct cfg_web, session_max_ms, MINUTE, 7 * DAY),
};

static const struct keydef bus_keys[] = {
    KEY("tcp", parse_tcp, struct cfg_bus, host, .flags = 0),
    KEY("serial", parse_serial, struct cfg_bus, device, .flags = 0),
    KEY("baud", parse_baud, struct cfg_bus, baud, .flags = K_SERIAL),
    ENUM("parity", struct cfg_bus, parity, parity_names, K_CHAR | K_SERIAL),
    KEY("data_bits", parse_int, struct cfg_bus, data_bits, .min = 5, .max = 8, .flags = K_SERIAL),
    KEY("stop_bits", parse_int, struct cfg_bus, stop_bits, .min = 1, .max = 2, .flags = K_SERIAL),
    RANGE("response_timeout", parse_duration, struct cfg_bus, response_timeout_ms, 10, 10 * SEC),
    RANGE("byte_timeout", parse_duration, struct cfg_bus, byte_timeout_ms, 1, 5 * SEC),
    RANGE("pause", parse_duration, struct cfg_bus, pause_ms, 0, 5 * SEC),
    RANGE("retry_max", parse_duration, struct cfg_bus, retry_max_ms, 100, HOUR),
};

/* The field keys are spelled as in field_keys, which check_profile uses. */
static const struct keydef profile_keys[] = {
    KEY("block", parse_block, struct cfg_profile, blocks, .flags = K_REPEAT),
    KEY("body_temp", parse_field, struct cfg_profile, fields, .aux = CFG_F_BODY_TEMP,
        .flags = K_REQUIRED),
    KEY("ambient_temp", parse_field, struct cfg_profile, fields, .aux = CFG_F_AMBIENT_TEMP),
    KEY("status", parse_field, struct cfg_profile, fields, .aux = CFG_F_STATUS),
    KEY("sequence", parse_field, struct cfg_profile, fields, .aux = CFG_F_SEQUENCE),
    KEY("card_lo", parse_field, struct cfg_profile, fields, .aux = CFG_F_CARD_LO),
    KEY("card_hi", parse_field, struct cfg_profile, fields, .aux = CFG_F_CARD_HI),
    KEY("status_valid", parse_mask, struct cfg_profile, status_valid, .flags = 0),
    KEY("status_fault", parse_mask, struct cfg_profile, status_fault, .flags = 0),
    KEY("status_present", parse_mask, struct cfg_profile, status_present, .flags = 0),
    ENUM("trigger", struct cfg_profile, trigger, trigger_names, 0),
};

static const struct keydef device_keys[] = {
    KEY("bus", parse_ref, struct cfg_device, bus, .aux = REF_BUS, .flags = K_REQUIRED),
    RANGE("unit", parse_int, struct cfg_device, unit_id, 1, 247),
    KEY("profile", parse_ref, struct cfg_device, profile, .aux = REF_PROFILE),
    RANGE("poll", parse_duration, struct cfg_device, poll_ms, 10, MINUTE),
    RANGE("offset", parse_centi, struct cfg_device, offset_centi, -500, 500),
    KEY("lane", parse_ref, struct cfg_device, lane, .aux = REF_LANE, .flags = K_REQUIRED),
};

#define GPIO_KEY(k, role) KEY(k, parse_gpio, struct cfg_lane, io, .aux = (role))
static const struct keydef lane_keys[] = {
    TEXT("gate", parse_text, struct cfg_lane, gate, .flags = K_REQUIRED),
    ENUM("identity", struct cfg_lane, identity, identity_names, 0),
    ENUM("indicator", struct cfg_lane, indicator, indicator_names, 0),
    ENUM("enforce", struct cfg_lane, enforce, enforce_names, 0),
    GPIO_KEY("green", CFG_IO_GREEN),
    GPIO_KEY("amber", CFG_IO_AMBER),
    GPIO_KEY("red", CFG_IO_RED),
    GPIO_KEY("buzzer", CFG_IO_BUZZER),
    GPIO_KEY("relay", CFG_IO_RELAY),
    GPIO_KEY("wiegand_d0", CFG_IO_WIEGAND_D0),
    GPIO_KEY("wiegand_d1", CFG_IO_WIEGAND_D1),
    GPIO_KEY("presence", CFG_IO_PRESENCE),
};

_Static_assert(ARRAY_LEN(screening_keys) <= MAX_KEYS, "MAX_KEYS");
_Static_assert(ARRAY_LEN(upstream_keys) <= MAX_KEYS, "MAX_KEYS");
_Static_assert(ARRAY_LEN(lane_keys) <= MAX_KEYS, "MAX_KEYS");
_Static_assert(ARRAY_LEN(profile_keys) <= MAX_KEYS, "MAX_KEYS");
_Static_assert(ARRAY_LEN(bus_keys) <= MAX_KEYS, "MAX_KEYS");
_Static_assert(MAX_KEYS <= 32, "failed is a 32-bit mask");

/* ---- defaults ---------------------------------------------------------------------- */

static void defaults_general(struct config *cfg)
{
    cfg->daemon = (struct cfg_daemon){.log_level = LOG_LVL_INFO, .stop_timeout_ms = 2 * SEC};
    memcpy(cfg->school.timezone, "Asia/Shanghai", sizeof "Asia/Shanghai");
    cfg->ledger.retention_days = 120;
    cfg->ledger.synchronous_full = true;
    cfg->windows.absence_grace_ms = 30 * MINUTE;
    cfg->windows.absence_kinds = CFG_KIND_STUDENT;
    cfg->windows.school_days = 0x3E; /* mon-fri */
    memcpy(cfg->profiles, builtin_profiles, sizeof builtin_profiles);
    cfg->nprofiles = NBUILTIN;
}

static void defaults_screening(struct cfg_screening *s)
{
    *s = (struct cfg_screening){
        .threshold_centi = 3730, .valid_min_centi = 3400, .valid_max_centi = 4300,
        .identity_required = true, .pair_window_ms = 5 * SEC,
        .hold_admit_ms = 2 * SEC, .hold_fever_ms = 10 * SEC, .hold_invalid_ms = 3 * SEC,
        .hold_deny_ms = 5 * SEC, .hold_nurse_ms = 5 * SEC, .hold_no_measurement_ms = 3 * SEC,
        .buzzer_ms = 3 * SEC, .blink_period_ms = 500,
        .cluster_day_cases = 3, .cluster_3day_cases = 5,
    };
}

static void defaults_gpio(struct cfg_gpio *g)
{
    struct wiegand_limits w;
    wiegand_default_limits(&w);
    *g = (struct cfg_gpio){
        .lamp_test_ms = 300, .presence_debounce_ms = 50,
        .wiegand_pulse_min_us = w.pulse_min_us, .wiegand_pulse_max_us = w.pulse_max_us,
        .wiegand_interval_min_us = w.interval_min_us, .wiegand_frame_gap_us = w.frame_gap_us,
    };
}

static void defaults_network(struct cfg_upstream *u, struct cfg_web *w)
{
    *u = (struct cfg_upstream){
        .day_end = 18 * 60, .connect_timeout_ms = 10 * SEC, .timeout_ms = 30 * SEC,
        .retry_min_ms = 5 * SEC, .retry_max_ms = 10 * MINUTE,
    };
    *w = (struct cfg_web){
        .listen = "127.0.0.1", .port = 8443, .session_idle_ms = 30 * MINUTE,
        .session_max_ms = 12 * HOUR,
    };
}

static void bus_init(void *obj)
{
    struct cfg_bus *b = obj;
    b->baud = 9600;
    b->parity = CFG_PARITY_EVEN;
    b->data_bits = 8;
    b->stop_bits = 1;
    b->response_timeout_ms = 500;
    b->byte_timeout_ms = 50;
    b->pause_ms = 5;
    b->retry_max_ms = 30 * SEC;
}

/* The trigger is settled in check_profile, once we know about a sequence field. */
static void profile_init(void *obj)
{
    ((struct cfg_profile *)obj)->trigger = CFG_TRIGGER_SEQUENCE;
}

static void device_init(void *obj)
{
    struct cfg_device *d = obj;
    d->bus = d->profile = d->lane = -1;
    d->unit_id = 1;
    d->poll_ms = 50;
}

static void lane_init(void *obj)
{
    struct cfg_lane *l = obj;
    l->identity = CFG_ID_DEVICE;
    l->indicator = CFG_IND_CONSOLE;
    l->enforce = CFG_ENFORCE_SOFT;
    for (int r = 0; r < CFG_IO_COUNT; r++)
        l->io[r].offset = -1;
}

/* ---- rules that need the whole file --------------------------------------------- */

static int *count_of(struct config *cfg, enum sect s)
{
    return (int *)((char *)cfg + sections[s].count_off);
}

/* Index of the named element of a [kind NAME] array, or -1. */
static int find_named(const struct config *cfg, enum sect s, const char *name)
{
    int n = *(const int *)((const char *)cfg + sections[s].count_off);
    for (int i = 0; i < n; i++)
        if (strcmp(element_name(cfg, s, i), name) == 0)
            return i;
    return -1;
}

static void check_screening(struct parser *p, int i)
{
    static const char *const keys[] = {"valid_min", "threshold", "valid_max"};
    const struct cfg_screening *sc = &p->cfg->screening;
    int line = 0;
    for (int k = 0; k < 3; k++) {
        if (failed(p, S_SCREENING, i, keys[k]))
            return;
        line = max_int(line, given(p, S_SCREENING, i, keys[k]));
    }
    if (sc->valid_min_centi < sc->threshold_centi && sc->threshold_centi < sc->valid_max_centi)
        return;
    char a[16], b[16], c[16];
    key_problem(p, S_SCREENING, i, line ? line : line_of(p, S_SCREENING, i, "threshold"), NULL,
                "needs valid_min < threshold < valid_max (here %s, %s, %s)",
                tn_format_centi(sc->valid_min_centi, a, sizeof a),
                tn_format_centi(sc->threshold_centi, b, sizeof b),
                tn_format_centi(sc->valid_max_centi, c, sizeof c));
}

static void check_windows(struct parser *p, int i)
{
    const struct cfg_windows *w = &p->cfg->windows;
    if (!w->noon_enabled || !given(p, S_WINDOWS, i, "morning") ||
        failed(p, S_WINDOWS, i, "morning") || w->noon_start >= w->morning_end)
        return;
    char a[8], b[8];
    key_problem(p, S_WINDOWS, i, line_of(p, S_WINDOWS, i, "noon"), "noon",
                "starts at %s, before the morning window ends (%s)", fmt_hhmm(w->noon_start, a),
                fmt_hhmm(w->morning_end, b));
}

/* Keys that only make sense together, such as a certificate and its key. */
static void check_pair(struct parser *p, enum sect s, int i, const char *a, const char *b)
{
    int la = given(p, s, i, a), lb = given(p, s, i, b);
    if (!la == !lb)
        return;
    key_problem(p, s, i, la ? la : lb, la ? a : b, "needs %s too (give both or neither)",
                la ? b : a);
}

/* A duration that must not be shorter than another one. */
static void check_order(struct parser *p, enum sect s, int i, const char *lo_key,
                        const char *hi_key, int64_t lo, int64_t hi)
{
    if (lo <= hi || failed(p, s, i, lo_key) || failed(p, s, i, hi_key))
        return;
    char a[24], b[24];
    const char *key = given(p, s, i, hi_key) ? hi_key : lo_key;
    key_problem(p, s, i, line_of(p, s, i, key), key, "%s %s is shorter than %s %s", hi_key,
                fmt_ms(hi, a), lo_key, fmt_ms(lo, b));
}

static void check_upstream(struct parser *p, int i)
{
    static const char *const needed[] = {"ca_file", "secret_file"};
    const struct cfg_upstream *u = &p->cfg->upstream;
    check_pair(p, S_UPSTREAM, i, "client_cert", "client_key");
    check_order(p, S_UPSTREAM, i, "retry_min", "retry_max", u->retry_min_ms, u->retry_max_ms);
    for (int k = 0; k < 2 && u->enabled; k++)
        if (!given(p, S_UPSTREAM, i, needed[k]))
            key_problem(p, S_UPSTREAM, i, inst_of(p, S_UPSTREAM, i)->line, NULL,
                        "missing required key \"%s\" (needed when url is set)", needed[k]);
}

static bool is_loopback(const char *addr)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, addr, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, addr, &a6) != 1)
        return false;
    return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
}

/* Wiegand limits in µs must leave room for a pulse and a bit. */
static void check_us_order(struct parser *p, int i, const char *lo_key, const char *hi_key,
                           int64_t lo, int64_t hi)
{
    if (lo < hi || failed(p, S_GPIO, i, lo_key) || failed(p, S_GPIO, i, hi_key))
        return;
    const char *key = given(p, S_GPIO, i, hi_key) ? hi_key : lo_key;
    key_problem(p, S_GPIO, i, line_of(p, S_GPIO, i, key), key,
                "%s %lldus must be longer than %s %lldus", hi_key, (long long)hi, lo_key,
                (long long)lo);
}

static void check_gpio(struct parser *p, int i)
{
    const struct cfg_gpio *g = &p->cfg->gpio;
    check_us_order(p, i, "wiegand_pulse_min", "wiegand_pulse_max", g->wiegand_pulse_min_us,
                   g->wiegand_pulse_max_us);
    check_us_order(p, i, "wiegand_interval_min", "wiegand_frame_gap",
                   g->wiegand_interval_min_us, g->wiegand_frame_gap_us);
}

/* The nurse page carries health data: plain HTTP only on the machine itself,
 * unless the administrator says so explicitly. */
static void check_web(struct parser *p, int i)
{
    const struct cfg_web *w = &p->cfg->web;
    check_pair(p, S_WEB, i, "tls_cert", "tls_key");
    check_order(p, S_WEB, i, "session_idle", "session_max", w->session_idle_ms,
                w->session_max_ms);
    if (!w->enabled || w->tls_cert[0] != '\0' || w->allow_plain_http || is_loopback(w->listen) ||
        failed(p, S_WEB, i, "listen"))
        return;
    key_problem(p, S_WEB, i, line_of(p, S_WEB, i, "listen"), "listen",
                "%s is not a loopback address, so health data would cross the network in plain "
                "HTTP; set tls_cert and tls_key (or allow_plain_http = yes)",
                w->listen);
}

static void check_bus(struct parser *p, int i)
{
    int tcp = given(p, S_BUS, i, "tcp"), serial = given(p, S_BUS, i, "serial");
    if (tcp && serial)
        key_problem(p, S_BUS, i, max_int(tcp, serial), tcp > serial ? "tcp" : "serial",
                    "a bus is either tcp or serial, not both");
    else if (!tcp && !serial)
        key_problem(p, S_BUS, i, inst_of(p, S_BUS, i)->line, NULL,
                    "needs tcp = HOST:PORT or serial = /dev/DEVICE");
    if (!tcp)
        return;
    for (int k = 0; k < sections[S_BUS].nkeys; k++) {
        const struct keydef *kd = &sections[S_BUS].keys[k];
        if ((kd->flags & K_SERIAL) && inst_of(p, S_BUS, i)->keyline[k])
            key_problem(p, S_BUS, i, inst_of(p, S_BUS, i)->keyline[k], kd->key,
                        "only for a serial bus (this one is tcp)");
    }
}

static bool field_in_blocks(const struct cfg_profile *pr, const struct cfg_field *f)
{
    int width = f->type == CFG_T_INT16 || f->type == CFG_T_UINT16 ? 1 : 2;
    for (int b = 0; b < pr->nblocks; b++)
        if (f->address >= pr->blocks[b].start &&
            f->address + width <= pr->blocks[b].start + pr->blocks[b].count)
            return true;
    return false;
}

static void check_fields(struct parser *p, int i, const struct cfg_profile *pr)
{
    for (int r = 0; r < CFG_F_COUNT; r++) {
        const struct cfg_field *f = &pr->fields[r];
        if (!f->present || pr->nblocks == 0 || field_in_blocks(pr, f))
            continue;
        bool wide = f->type != CFG_T_INT16 && f->type != CFG_T_UINT16;
        key_problem(p, S_PROFILE, i, line_of(p, S_PROFILE, i, field_keys[r]), field_keys[r],
                    wide ? "registers %d..%d are not inside one block of this profile"
                         : "register %d is not inside a block of this profile",
                    f->address, f->address + 1);
    }
    if (pr->fields[CFG_F_CARD_HI].present && !pr->fields[CFG_F_CARD_LO].present)
        key_problem(p, S_PROFILE, i, line_of(p, S_PROFILE, i, "card_hi"), "card_hi",
                    "needs card_lo too");
}

static void check_masks(struct parser *p, int i, const struct cfg_profile *pr)
{
    static const char *const masks[] = {"status_valid", "status_fault", "status_present"};
    if (pr->fields[CFG_F_STATUS].present || failed(p, S_PROFILE, i, "status"))
        return;
    for (int k = 0; k < 3; k++)
        if (given(p, S_PROFILE, i, masks[k]))
            key_problem(p, S_PROFILE, i, given(p, S_PROFILE, i, masks[k]), masks[k],
                        "needs a status field to apply to");
}

/* Without a sequence counter a new reading is told by the presence edge. */
static void check_trigger(struct parser *p, int i, struct cfg_profile *pr)
{
    bool seq = pr->fields[CFG_F_SEQUENCE].present;
    if (!given(p, S_PROFILE, i, "trigger")) {
        pr->trigger = seq ? CFG_TRIGGER_SEQUENCE : CFG_TRIGGER_PRESENCE;
        return;
    }
    if (pr->trigger == CFG_TRIGGER_SEQUENCE && !seq && !failed(p, S_PROFILE, i, "sequence"))
        key_problem(p, S_PROFILE, i, given(p, S_PROFILE, i, "trigger"), "trigger",
                    "sequence needs a sequence field (or use trigger = presence)");
}

static void check_profile(struct parser *p, int i)
{
    struct cfg_profile *pr = &p->cfg->profiles[i];
    if (pr->nblocks == 0 && !failed(p, S_PROFILE, i, "block"))
        key_problem(p, S_PROFILE, i, inst_of(p, S_PROFILE, i)->line, NULL,
                    "needs at least one block = FUNCTION:START:COUNT");
    check_fields(p, i, pr);
    check_masks(p, i, pr);
    check_trigger(p, i, pr);
}

/* The element of the bus, profile or lane a device names; -1 (reported) if none. */
static int resolve(struct parser *p, int i, enum ref r)
{
    static const enum sect kinds[REF_COUNT] = {S_BUS, S_PROFILE, S_LANE};
    static const char *const keys[REF_COUNT] = {"bus", "profile", "lane"};
    const char *name = p->refs[i][r];
    if (name[0] == '\0' && (r != REF_PROFILE || given(p, S_DEVICE, i, "profile")))
        return -1; /* missing or malformed: already reported */
    if (name[0] == '\0')
        name = DEFAULT_PROFILE;
    int found = find_named(p->cfg, kinds[r], name);
    if (found < 0)
        key_problem(p, S_DEVICE, i, line_of(p, S_DEVICE, i, keys[r]), keys[r],
                    r == REF_PROFILE ? "no [%s %s] in this file and no built-in profile of "
                                       "that name (gatescreen-ir, pyrometer)"
                                     : "no [%s %s] in this file",
                    sections[kinds[r]].name, name);
    return found;
}

/* Unit ids address devices on one wire: two devices cannot share one. */
static void check_unit(struct parser *p, int i)
{
    const struct cfg_device *devs = p->cfg->devices, *d = &devs[i];
    for (int j = 0; j < i; j++) {
        if (devs[j].bus != d->bus || devs[j].unit_id != d->unit_id)
            continue;
        key_problem(p, S_DEVICE, i, line_of(p, S_DEVICE, i, "unit"), "unit",
                    "unit %d on [bus %s] is already used by [device %s] (line %d)", d->unit_id,
                    p->cfg->buses[d->bus].name, devs[j].name, devs[j].line);
        return;
    }
}

static void claim_lane(struct parser *p, int i)
{
    const struct cfg_device *d = &p->cfg->devices[i];
    int other = p->lane_device[d->lane];
    if (other < 0) {
        p->lane_device[d->lane] = i;
        return;
    }
    key_problem(p, S_DEVICE, i, line_of(p, S_DEVICE, i, "lane"), "lane",
                "lane %s is already served by [device %s] (line %d); one device per lane",
                p->cfg->lanes[d->lane].name, p->cfg->devices[other].name,
                p->cfg->devices[other].line);
}

static void check_device(struct parser *p, int i)
{
    struct cfg_device *d = &p->cfg->devices[i];
    d->bus = resolve(p, i, REF_BUS);
    d->profile = resolve(p, i, REF_PROFILE);
    d->lane = resolve(p, i, REF_LANE);
    if (d->bus >= 0)
        check_unit(p, i);
    if (d->lane >= 0)
        claim_lane(p, i);
}

static void check_identity(struct parser *p, int i, int dev)
{
    const struct cfg_lane *l = &p->cfg->lanes[i];
    int line = line_of(p, S_LANE, i, "identity");
    if (l->identity == CFG_ID_WIEGAND &&
        (!l->io[CFG_IO_WIEGAND_D0].present || !l->io[CFG_IO_WIEGAND_D1].present))
        key_problem(p, S_LANE, i, line, "identity",
                    "wiegand needs wiegand_d0 and wiegand_d1 lines");
    if (l->identity != CFG_ID_WIEGAND &&
        (l->io[CFG_IO_WIEGAND_D0].present || l->io[CFG_IO_WIEGAND_D1].present))
        key_problem(p, S_LANE, i, line, "identity",
                    "the lane has Wiegand lines but identity is not wiegand");
    if (l->identity != CFG_ID_DEVICE || dev < 0 || p->cfg->devices[dev].profile < 0)
        return;
    const struct cfg_profile *pr = &p->cfg->profiles[p->cfg->devices[dev].profile];
    if (!pr->fields[CFG_F_CARD_LO].present)
        key_problem(p, S_LANE, i, line, "identity",
                    "device, but profile %s of [device %s] reads no card (no card_lo field); "
                    "use identity = wiegand or none",
                    pr->name, p->cfg->devices[dev].name);
}

/* A measurement told by presence needs a presence bit or a presence sensor. */
static void check_presence_source(struct parser *p, int i, int dev)
{
    const struct cfg_lane *l = &p->cfg->lanes[i];
    if (dev < 0 || p->cfg->devices[dev].profile < 0 || l->io[CFG_IO_PRESENCE].present)
        return;
    const struct cfg_profile *pr = &p->cfg->profiles[p->cfg->devices[dev].profile];
    if (pr->trigger == CFG_TRIGGER_PRESENCE &&
        (pr->status_present == 0 || !pr->fields[CFG_F_STATUS].present))
        problem(p, l->line,
                "lane %s: [device %s] (profile %s) measures on presence but reports no presence "
                "bit; add a presence line to the lane", l->name, p->cfg->devices[dev].name,
                pr->name);
}

static void check_outputs(struct parser *p, int i)
{
    static const int lights[] = {CFG_IO_GREEN, CFG_IO_AMBER, CFG_IO_RED};
    const struct cfg_lane *l = &p->cfg->lanes[i];
    char missing[64] = "";
    size_t o = 0;
    for (int k = 0; k < 3 && l->indicator == CFG_IND_GPIO; k++)
        if (!l->io[lights[k]].present)
            o += (size_t)snprintf(missing + o, sizeof missing - o, "%s%s", o ? ", " : "",
                                  gpio_keys[lights[k]]);
    if (o > 0)
        key_problem(p, S_LANE, i, line_of(p, S_LANE, i, "indicator"), "indicator",
                    "gpio needs green, amber and red lines (missing: %s)", missing);
    if (l->enforce == CFG_ENFORCE_HARD && !l->io[CFG_IO_RELAY].present)
        key_problem(p, S_LANE, i, line_of(p, S_LANE, i, "enforce"), "enforce",
                    "hard needs a relay line");
    else if (l->enforce == CFG_ENFORCE_HARD && l->indicator != CFG_IND_GPIO)
        key_problem(p, S_LANE, i, line_of(p, S_LANE, i, "enforce"), "enforce",
                    "hard needs indicator = gpio (the relay is driven by the GPIO indicator)");
}

static bool same_line(const struct cfg_gpio_line *a, const struct cfg_gpio_line *b)
{
    return a->present && b->present && a->offset == b->offset && strcmp(a->chip, b->chip) == 0 &&
           strcmp(a->name, b->name) == 0;
}

/* The first use of line (lane i, role r) in an earlier lane or role, if any. */
static bool earlier_use(const struct config *cfg, int i, int r, int *lane, int *role)
{
    const struct cfg_gpio_line *g = &cfg->lanes[i].io[r];
    for (int j = 0; j <= i; j++) {
        for (int r2 = 0; r2 < (j < i ? CFG_IO_COUNT : r); r2++) {
            if (same_line(g, &cfg->lanes[j].io[r2])) {
                *lane = j;
                *role = r2;
                return true;
            }
        }
    }
    return false;
}

/* A GPIO line can be requested once: a line used twice would fail at start. */
static void check_gpio_unique(struct parser *p, int i)
{
    int j, r2;
    for (int r = 0; r < CFG_IO_COUNT; r++)
        if (earlier_use(p->cfg, i, r, &j, &r2))
            key_problem(p, S_LANE, i, line_of(p, S_LANE, i, gpio_keys[r]), gpio_keys[r],
                        "this line is already used by [lane %s] %s (line %d)",
                        p->cfg->lanes[j].name, gpio_keys[r2], line_of(p, S_LANE, j, gpio_keys[r2]));
}

/* A test indicator writes its light changes to a file the tests read. */
static void check_test_indicator(struct parser *p, int i)
{
    if (p->cfg->lanes[i].indicator != CFG_IND_TEST || given(p, S_DAEMON, 0, "indicator_log"))
        return;
    key_problem(p, S_LANE, i, line_of(p, S_LANE, i, "indicator"), "indicator",
                "test needs indicator_log in [daemon] (the file its light changes go to)");
}

static void check_lane(struct parser *p, int i)
{
    const struct cfg_lane *l = &p->cfg->lanes[i];
    int dev = p->lane_device[i];
    if (dev < 0)
        problem(p, l->line, "lane %s has no [device] serving it (add one with lane = %s)",
                l->name, l->name);
    check_identity(p, i, dev);
    check_presence_source(p, i, dev);
    check_outputs(p, i);
    check_test_indicator(p, i);
    check_gpio_unique(p, i);
}

/* ---- sections ---------------------------------------------------------------------- */

#define SINGLE(n, m, kt, req, chk) \
    {.name = (n), KEYS(kt), .required = (req), .off = offsetof(struct config, m), .check = (chk)}
#define NAMED(n, T, arr, cnt, cap, kt, ini, chk)                                             \
    {.name = (n), KEYS(kt), .named = true, .off = offsetof(struct config, arr),             \
     .size = sizeof(T), .count_off = offsetof(struct config, cnt),                           \
     .name_off = offsetof(T, name), .line_off = offsetof(T, line), .max = (cap),             \
     .init = (ini), .check = (chk)}

/* Checks run in this order: devices claim their lanes before lanes are checked. */
static const struct sectdef sections[S_COUNT] = {
    [S_NONE] = {.name = ""},
    [S_DAEMON] = SINGLE("daemon", daemon, daemon_keys, false, NULL),
    [S_SCHOOL] = SINGLE("school", school, school_keys, true, NULL),
    [S_LEDGER] = SINGLE("ledger", ledger, ledger_keys, true, NULL),
    [S_WINDOWS] = SINGLE("windows", windows, windows_keys, true, check_windows),
    [S_SCREENING] = SINGLE("screening", screening, screening_keys, false, check_screening),
    [S_UPSTREAM] = SINGLE("upstream", upstream, upstream_keys, false, check_upstream),
    [S_WEB] = SINGLE("web", web, web_keys, false, check_web),
    [S_GPIO] = SINGLE("gpio", gpio, gpio_keys_section, false, check_gpio),
    [S_BUS] = NAMED("bus", struct cfg_bus, buses, nbuses, CFG_MAX_BUSES, bus_keys, bus_init,
                    check_bus),
    [S_PROFILE] = NAMED("profile", struct cfg_profile, profiles, nprofiles, CFG_MAX_PROFILES,
                        profile_keys, profile_init, check_profile),
    [S_DEVICE] = NAMED("device", struct cfg_device, devices, ndevices, CFG_MAX_DEVICES,
                       device_keys, device_init, check_device),
    [S_LANE] = NAMED("lane", struct cfg_lane, lanes, nlanes, CFG_MAX_LANES, lane_keys,
                     lane_init, check_lane),
};

static enum sect find_sect(const char *kind, size_t n)
{
    for (int s = S_NONE + 1; s < S_COUNT; s++)
        if (strlen(sections[s].name) == n && memcmp(sections[s].name, kind, n) == 0)
            return (enum sect)s;
    return S_NONE;
}

static void enter(struct parser *p, enum sect s, int i)
{
    p->sect = s;
    p->index = i;
    p->skip = false;
    inst_of(p, s, i)->line = p->lineno;
}

static void begin_single(struct parser *p, enum sect s, size_t name_len)
{
    const struct inst *in = inst_of(p, s, 0);
    if (name_len > 0)
        problem(p, p->lineno, "[%s] takes no name", sections[s].name);
    else if (in->line != 0)
        problem(p, p->lineno, "duplicate section [%s] (first on line %d)", sections[s].name,
                in->line);
    else
        enter(p, s, 0);
}

/* Reports why a [kind NAME] cannot be added: its name is taken or the array is full. */
static void name_taken(struct parser *p, enum sect s, const char *name)
{
    const char *kind = sections[s].name;
    int dup = find_named(p->cfg, s, name);
    if (s == S_PROFILE && dup >= 0 && dup < NBUILTIN)
        problem(p, p->lineno, "[profile %s]: that is the name of a built-in profile", name);
    else if (dup >= 0)
        problem(p, p->lineno, "duplicate section [%s %s] (first on line %d)", kind, name,
                *(const int *)((const char *)element(p->cfg, s, dup) + sections[s].line_off));
    else
        problem(p, p->lineno, "too many [%s] sections (max %d)", kind, sections[s].max);
}

static void begin_named(struct parser *p, enum sect s, const char *name)
{
    const struct sectdef *sd = &sections[s];
    const char *why = name_problem(name, strlen(name));
    char q[QUOTED_MAX];
    if (name[0] == '\0') {
        problem(p, p->lineno, "[%s] needs a name: [%s NAME]", sd->name, sd->name);
        return;
    }
    if (why != NULL) {
        problem(p, p->lineno, "[%s NAME]: name %s %s", sd->name, quote(name, q), why);
        return;
    }
    int *count = count_of(p->cfg, s);
    if (find_named(p->cfg, s, name) >= 0 || *count >= sd->max) {
        name_taken(p, s, name);
        return;
    }
    int i = (*count)++;
    char *obj = element(p->cfg, s, i);
    sd->init(obj);
    memcpy(obj + sd->name_off, name, strlen(name) + 1);
    *(int *)(obj + sd->line_off) = p->lineno;
    enter(p, s, i);
}

/* hdr: the trimmed text between [ and ]. */
static void begin_section(struct parser *p, char *hdr)
{
    size_t kn = strcspn(hdr, " \t");
    char *name = hdr + kn, q[QUOTED_MAX];
    while (isspace((unsigned char)*name))
        name++;
    enum sect s = find_sect(hdr, kn);
    if (s == S_NONE) {
        hdr[kn] = '\0';
        quote(hdr, q); /* shown without its quotes, inside the brackets */
        problem(p, p->lineno, "unknown section [%.*s] (expected daemon, school, ledger, "
                              "windows, screening, upstream, web, bus, profile, device or lane)",
                (int)strlen(q) - 2, q + 1);
    } else if (sections[s].named) {
        begin_named(p, s, name);
    } else {
        begin_single(p, s, strlen(name));
    }
}

/* ---- reading lines --------------------------------------------------------------- */

static void syntax(struct parser *p, const char *what)
{
    problem(p, p->lineno, "syntax error (%s)", what);
    p->syntax_line = p->lineno;
}

/* The next line of the text without its line end; NULL at the end. */
static const char *next_line(struct parser *p, size_t *n)
{
    if (p->pos >= p->len)
        return NULL;
    const char *s = p->text + p->pos;
    const char *nl = memchr(s, '\n', p->len - p->pos);
    *n = nl ? (size_t)(nl - s) : p->len - p->pos;
    p->pos += *n + (nl != NULL);
    p->lineno++;
    return s;
}

static const char *trim(const char *s, size_t *n)
{
    while (*n > 0 && isspace((unsigned char)*s))
        s++, (*n)--;
    while (*n > 0 && isspace((unsigned char)s[*n - 1]))
        (*n)--;
    return s;
}

/* A [section] line is dispatched here and never shown to inih. */
static void section_line(struct parser *p, const char *s, size_t n)
{
    const char *close = memchr(s, ']', n);
    /* Keys after a broken header would land in the section before it. */
    p->sect = S_NONE;
    p->skip = true;
    if (close == NULL) {
        syntax(p, "no ] at the end of the section header");
        return;
    }
    size_t rest = n - (size_t)(close + 1 - s), hn = (size_t)(close - s) - 1;
    const char *after = trim(close + 1, &rest), *h = trim(s + 1, &hn);
    char hdr[CFG_TEXT_MAX];
    if (rest > 0 && after[0] != ';' && after[0] != '#') {
        syntax(p, "text after the ] of a section header");
    } else if (hn >= sizeof hdr) {
        problem(p, p->lineno, "section header too long");
    } else {
        memcpy(hdr, h, hn);
        hdr[hn] = '\0';
        begin_section(p, hdr);
    }
}

/* inih's own rule for a key line: '=' or ':' before any " ;" comment, with a
 * name before it. Checked here so that every bad line is reported, not the first. */
static bool key_line_ok(struct parser *p, const char *s, size_t n)
{
    bool was_space = false;
    size_t i = 0;
    for (; i < n && s[i] != '=' && s[i] != ':' && !(was_space && s[i] == ';'); i++)
        was_space = isspace((unsigned char)s[i]) != 0;
    if (i == n || s[i] == ';')
        syntax(p, "expected [section] or key = value");
    else if (i == 0)
        syntax(p, "no key name before the '='");
    return i < n && s[i] != ';' && i > 0;
}

/* inih's reader: hands over the next line, or an empty one for lines dealt with
 * here. Leading blanks are dropped, so inih never sees a continuation line. */
static char *read_line(char *buf, int num, void *stream)
{
    struct parser *p = stream;
    size_t n;
    const char *s = next_line(p, &n);
    if (s == NULL || num < 1)
        return NULL;
    if (p->lineno == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
        s += 3, n -= 3; /* UTF-8 byte order mark from Windows editors */
    s = trim(s, &n);
    buf[0] = '\0';
    if (n == 0 || s[0] == ';' || s[0] == '#')
        return buf;
    if (memchr(s, '\0', n) != NULL) {
        problem(p, p->lineno, "NUL byte in the line");
        return buf;
    }
    if (s[0] == '[') {
        section_line(p, s, n);
        return buf;
    }
    if (!key_line_ok(p, s, n))
        return buf;
    if (n >= (size_t)num) {
        problem(p, p->lineno, "line too long (%zu bytes, max %d)", n, num - 1);
        return buf;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    return buf;
}

static int on_key(void *user, const char *section, const char *key, const char *value)
{
    struct parser *p = user;
    char q[QUOTED_MAX];
    (void)section; /* always "": read_line handles the section headers */
    if (p->skip)
        return 1;
    if (p->sect == S_NONE) {
        problem(p, p->lineno, "key %s before any [section]", quote(key, q));
        return 1;
    }
    int k = key_index(p->sect, key);
    struct inst *in = inst_of(p, p->sect, p->index);
    if (k < 0) {
        key_problem(p, p->sect, p->index, p->lineno, quote(key, q), "unknown key");
    } else if (in->keyline[k] != 0 && !(sections[p->sect].keys[k].flags & K_REPEAT)) {
        key_problem(p, p->sect, p->index, p->lineno, key, "duplicate key (first on line %d)",
                    in->keyline[k]);
    } else {
        int before = p->count;
        if (in->keyline[k] == 0)
            in->keyline[k] = p->lineno;
        sections[p->sect].keys[k].parse(p, &sections[p->sect].keys[k],
                                         element(p->cfg, p->sect, p->index), value);
        if (p->count != before)
            in->failed |= 1u << k;
    }
    return 1;
}

/* ---- the whole file ---------------------------------------------------------------- */

static void check_required(struct parser *p, enum sect s, int i)
{
    const struct sectdef *sd = &sections[s];
    const struct inst *in = inst_of(p, s, i);
    for (int k = 0; k < sd->nkeys; k++)
        if ((sd->keys[k].flags & K_REQUIRED) && in->keyline[k] == 0)
            key_problem(p, s, i, in->line, NULL, "missing required key \"%s\"", sd->keys[k].key);
}

static void check_all(struct parser *p)
{
    for (int s = S_NONE + 1; s < S_COUNT; s++) {
        const struct sectdef *sd = &sections[s];
        if (!sd->named && inst_of(p, s, 0)->line == 0) {
            if (sd->required)
                problem(p, 1, "missing [%s] section", sd->name);
            continue;
        }
        int n = sd->named ? *count_of(p->cfg, s) : 1;
        for (int i = s == S_PROFILE ? NBUILTIN : 0; i < n; i++) {
            check_required(p, s, i);
            if (sd->check != NULL)
                sd->check(p, i);
        }
    }
}

static void parser_init(struct parser *p, const char *name, const char *text, size_t len,
                        const char *base_dir, FILE *errs, struct config *cfg)
{
    p->name = name != NULL ? name : "config";
    p->errs = errs;
    p->base_dir = base_dir;
    p->cfg = cfg;
    p->text = text != NULL ? text : "";
    p->len = text != NULL ? len : 0;
    p->sect = S_NONE;
    for (int i = 0; i < CFG_MAX_LANES; i++)
        p->lane_device[i] = -1;
}

struct config *config_parse(const char *name, const char *text, size_t len,
                            const char *base_dir, FILE *errs)
{
    struct parser *p = calloc(1, sizeof *p);
    struct config *cfg = calloc(1, sizeof *cfg);
    if (p == NULL || cfg == NULL) {
        if (errs != NULL)
            fprintf(errs, "%s: out of memory\n", name);
        free(p);
        free(cfg);
        return NULL;
    }
    parser_init(p, name, text, len, base_dir, errs, cfg);
    defaults_general(cfg);
    defaults_screening(&cfg->screening);
    defaults_network(&cfg->upstream, &cfg->web);
    defaults_gpio(&cfg->gpio);
    int rc = ini_parse_stream(read_line, p, on_key, p);
    if (rc < 0)
        problem(p, p->lineno, "out of memory");
    else if (rc > 0 && rc != p->syntax_line)
        problem(p, rc, "syntax error (expected [section] or key = value)");
    check_all(p);
    flush_problems(p);
    int count = p->count;
    free(p);
    if (count > 0) {
        free(cfg);
        return NULL;
    }
    if (name != NULL && strlen(name) < sizeof cfg->path)
        memcpy(cfg->path, name, strlen(name) + 1);
    return cfg;
}

/* The whole file in memory, NUL-terminated; NULL with errno set on failure. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, n = 0, got;
    char *buf = malloc(cap), *bigger;
    int err = ENOMEM;
    while (buf != NULL && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 < cap)
            continue;
        if (cap > MAX_FILE_SIZE || (bigger = realloc(buf, cap * 2)) == NULL) {
            err = cap > MAX_FILE_SIZE ? EFBIG : ENOMEM;
            goto fail;
        }
        buf = bigger;
        cap *= 2;
    }
    err = buf == NULL ? ENOMEM : errno;
    if (buf == NULL || ferror(f))
        goto fail;
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
fail:
    free(buf);
    fclose(f);
    errno = err != 0 ? err : EIO;
    return NULL;
}

struct config *config_load(const char *path, FILE *errs)
{
    char *abs = realpath(path, NULL), *dir = NULL, *text = NULL;
    size_t len = 0;
    if (abs == NULL || (text = read_file(abs, &len)) == NULL) {
        int err = errno;
        if (errs != NULL)
            fprintf(errs, "%s: cannot read: %s\n", path, strerror(err));
        free(abs);
        return NULL;
    }
    char *slash = strrchr(abs, '/'); /* realpath gives an absolute path */
    dir = strndup(abs, slash == abs ? 1 : (size_t)(slash - abs));
    struct config *cfg = dir ? config_parse(path, text, len, dir, errs) : NULL;
    if (dir == NULL && errs != NULL)
        fprintf(errs, "%s: out of memory\n", path);
    if (cfg != NULL && strlen(abs) >= sizeof cfg->path) {
        if (errs != NULL)
            fprintf(errs, "%s: path too long (max %zu bytes)\n", path, sizeof cfg->path - 1);
        free(cfg);
        cfg = NULL;
    } else if (cfg != NULL) {
        memcpy(cfg->path, abs, strlen(abs) + 1);
    }
    free(dir);
    free(text);
    free(abs);
    return cfg;
}

void config_free(struct config *cfg) { free(cfg); }

int config_find_lane(const struct config *cfg, const char *name)
{
    return find_named(cfg, S_LANE, name);
}

int config_find_device(const struct config *cfg, const char *name)
{
    return find_named(cfg, S_DEVICE, name);
}
