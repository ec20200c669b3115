/* Value parsers: each validates one key's text and stores it in its section's
 * struct, or reports why not (the key stays at its default). */
#include "config_parse.h"

#include "textnum.h"
#include "zone.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

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
        cp_bad(p, k, "%s %s", cp_quote(v, q), why);
        return -1;
    }
    if (strlen(v) >= cap) {
        cp_bad(p, k, "too long (max %zu bytes)", cap - 1);
        return -1;
    }
    return 0;
}

void cp_parse_text(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    if (check_text(p, k, v, k->aux) == 0)
        memcpy(cp_member(obj, k->off), v, strlen(v) + 1);
}

/* The bureau's code for the school ends up in file names and upstream keys. */
void cp_parse_code(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    if (check_text(p, k, v, k->aux) < 0)
        return;
    if (!cp_ident_chars(v, strlen(v), "_-")) {
        cp_bad_value(p, k, v, "a code of letters, digits, '_' and '-'");
        return;
    }
    memcpy(cp_member(obj, k->off), v, strlen(v) + 1);
}

/* Relative paths are taken relative to the config's folder, so that the service
 * does not depend on its working directory. */
void cp_parse_path(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    if (check_text(p, k, v, k->aux) < 0)
        return;
    char *dst = cp_member(obj, k->off);
    size_t n = strlen(v);
    if (v[0] == '/' || p->base_dir == NULL) {
        memcpy(dst, v, n + 1);
        return;
    }
    size_t dn = strlen(p->base_dir);
    bool slash = dn > 0 && p->base_dir[dn - 1] == '/';
    if (dn + !slash + n >= k->aux) {
        cp_bad(p, k, "too long once put in the config's folder %s (max %zu bytes)", p->base_dir,
               k->aux - 1);
        return;
    }
    memcpy(dst, p->base_dir, dn);
    if (!slash)
        dst[dn++] = '/';
    memcpy(dst + dn, v, n + 1);
}

void cp_parse_timezone(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    if (check_text(p, k, v, k->aux) < 0)
        return;
    if (!zone_name_ok(v)) {
        cp_bad_value(p, k, v, "a time zone name such as Asia/Shanghai");
        return;
    }
    char path[PATH_MAX];
    if (!zone_installed(v, path, sizeof path)) {
        cp_bad_value(p, k, v, "a time zone known to this system (no file %s)", path);
        return;
    }
    memcpy(cp_member(obj, k->off), v, strlen(v) + 1);
}

/* ---- numbers, times, flags ------------------------------------------------------- */

void cp_parse_int(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    long n;
    if (tn_long(v, k->min, k->max, &n) < 0) {
        cp_bad_value(p, k, v, "a whole number between %ld and %ld", k->min, k->max);
        return;
    }
    *(int *)cp_member(obj, k->off) = (int)n;
}

void cp_parse_mask(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    long n;
    if (tn_long_hex(v, 0, 0xFFFF, &n) < 0) {
        cp_bad_value(p, k, v, "a bit mask between 0 and 0xFFFF (e.g. 0x0004)");
        return;
    }
    *(uint16_t *)cp_member(obj, k->off) = (uint16_t)n;
}

void cp_parse_duration(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    int64_t ms;
    char lo[TN_DURATION_LEN], hi[TN_DURATION_LEN];
    if (tn_duration_ms(v, k->min, k->max, &ms) < 0) {
        cp_bad_value(p, k, v, "a duration between %s and %s (e.g. 500ms, 2s, 5min, 1h)",
                     tn_format_ms(k->min, lo), tn_format_ms(k->max, hi));
        return;
    }
    *(int64_t *)cp_member(obj, k->off) = ms;
}

/* Wiegand timings are microseconds. */
void cp_parse_duration_us(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    int64_t us;
    if (tn_duration_us(v, k->min, k->max, &us) < 0) {
        cp_bad_value(p, k, v, "a duration between %ldus and %ldus (e.g. 150us, 2ms, 25ms)",
                     k->min, k->max);
        return;
    }
    *(int64_t *)cp_member(obj, k->off) = us;
}

/* Temperatures are exact hundredths: 37.29 and 37.30 never blur. */
void cp_parse_centi(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    long c;
    char lo[24], hi[24];
    if (tn_centi(v, k->min, k->max, &c) < 0) {
        cp_bad_value(p, k, v, "a temperature between %s and %s",
                     tn_format_centi(k->min, lo, sizeof lo),
                     tn_format_centi(k->max, hi, sizeof hi));
        return;
    }
    *(int *)cp_member(obj, k->off) = (int)c;
}

void cp_parse_bool(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    if (tn_bool(v, (bool *)cp_member(obj, k->off)) < 0)
        cp_bad_value(p, k, v, "yes or no");
}

static void store_enum(const struct keydef *k, void *obj, int value)
{
    if (k->flags & K_BOOL)
        *(bool *)cp_member(obj, k->off) = value != 0;
    else if (k->flags & K_CHAR)
        *(char *)cp_member(obj, k->off) = (char)value;
    else
        memcpy(cp_member(obj, k->off), &value, sizeof value);
}

void cp_parse_enum(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    int i = cp_find_name(k->names, v, strlen(v));
    if (i < 0) {
        char list[160];
        cp_bad_value(p, k, v, "one of: %s", cp_join_names(k->names, list, sizeof list));
        return;
    }
    store_enum(k, obj, k->names[i].value);
}

void cp_parse_log_level(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    enum log_level lvl;
    if (log_parse_level(v, &lvl) < 0) {
        cp_bad_value(p, k, v, "one of: error, warning, notice, info, debug");
        return;
    }
    *(int *)cp_member(obj, k->off) = (int)lvl;
}

void cp_parse_hhmm(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    if (tn_hhmm(v, (int *)cp_member(obj, k->off)) < 0)
        cp_bad_value(p, k, v, "a time of day HH:MM (00:00 to 23:59)");
}

void cp_parse_span(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    if (tn_span(v, (int *)cp_member(obj, k->off), (int *)cp_member(obj, k->aux)) < 0)
        cp_bad_value(p, k, v, "a time span HH:MM-HH:MM within one day, start before end");
}

/* "off" or a span: an optional check window. */
static void parse_optional_span(struct parser *p, const struct keydef *k, const char *v,
                                bool *enabled, int *start, int *end)
{
    if (strcmp(v, "off") == 0) {
        *enabled = false;
        return;
    }
    if (tn_span(v, start, end) < 0) {
        cp_bad_value(p, k, v, "off or a time span HH:MM-HH:MM within one day, start before end");
        return;
    }
    *enabled = true;
}

void cp_parse_noon(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    struct cfg_windows *w = obj;
    parse_optional_span(p, k, v, &w->noon_enabled, &w->noon_start, &w->noon_end);
}

void cp_parse_evening(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    struct cfg_windows *w = obj;
    parse_optional_span(p, k, v, &w->evening_enabled, &w->evening_start, &w->evening_end);
}

static const struct name_val kind_names[] = {
    {"student", CFG_KIND_STUDENT}, {"teacher", CFG_KIND_TEACHER}, {"staff", CFG_KIND_STAFF},
    {NULL, 0},
};

/* "student, teacher": who is expected at school every day. */
void cp_parse_kinds(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    unsigned mask = 0;
    for (const char *s = v;;) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        while (n > 0 && isspace((unsigned char)*s))
            s++, n--;
        while (n > 0 && isspace((unsigned char)s[n - 1]))
            n--;
        int i = cp_find_name(kind_names, s, n);
        if (i < 0) {
            cp_bad_value(p, k, v, "a comma-separated list of student, teacher, staff");
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


/* The weekday named by s (n bytes, blanks around it allowed), -1 for an unknown name,
 * NO_WEEKDAY for none at all. */
static int weekday_index(const char *s, size_t n)
{
    s = cp_trim(s, &n);
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
        cp_bad_value(p, k, v, "a list of weekdays and ranges such as mon-fri or mon,wed,fri (%s)",
                     WEEKDAY_LIST);
        return -1;
    }
    if (a < 0 || b < 0) {
        char name[CFG_TEXT_MAX], q[QUOTED_MAX];
        const char *bad_name = a < 0 ? s : dash + 1;
        size_t len = a < 0 ? an : bn;
        bad_name = cp_trim(bad_name, &len);
        len = len < sizeof name ? len : sizeof name - 1;
        memcpy(name, bad_name, len);
        name[len] = '\0';
        cp_bad(p, k, "%s is not a weekday (%s)", cp_quote(name, q), WEEKDAY_LIST);
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
void cp_parse_days(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    unsigned mask = 0, item;
    for (const char *s = v;;) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        if (day_item(p, k, v, s, n, &item) < 0)
            return;
        for (int i = 1; i <= 7 && (mask & item); i++) /* reported in mon..sun order */
            if (mask & item & (1u << (i % 7))) {
                cp_bad(p, k, "%s is given twice", weekday_names[i % 7]);
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
void cp_parse_tcp(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    struct cfg_bus *b = obj;
    const char *colon = strrchr(v, ':');
    long port;
    if (colon == NULL || tn_long(colon + 1, 1, 65535, &port) < 0) {
        cp_bad_value(p, k, v, "HOST:PORT with a port between 1 and 65535");
        return;
    }
    const char *h = v;
    size_t hn = (size_t)(colon - v);
    bool v6 = hn >= 2 && h[0] == '[' && h[hn - 1] == ']';
    if (v6)
        h++, hn -= 2;
    if (hn == 0 || hn >= sizeof b->host || !cp_ident_chars(h, hn, v6 ? ":.%" : "-._")) {
        cp_bad_value(p, k, v, "HOST:PORT (a host name or address; IPv6 in brackets: [::1]:502)");
        return;
    }
    memcpy(b->host, h, hn);
    b->host[hn] = '\0';
    unsigned char addr[16];
    if (v6 && inet_pton(AF_INET6, b->host, addr) != 1) {
        b->host[0] = '\0';
        cp_bad_value(p, k, v, "HOST:PORT with a valid IPv6 address in the brackets");
        return;
    }
    b->port = (int)port;
    b->is_tcp = true;
}

/* Any absolute path: a USB adapter's /dev/ttyUSB0, a udev alias, or a pty link. */
void cp_parse_serial(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    struct cfg_bus *b = obj;
    if (check_text(p, k, v, sizeof b->device) < 0)
        return;
    if (v[0] != '/') {
        cp_bad_value(p, k, v, "an absolute device path such as /dev/ttyUSB0");
        return;
    }
    memcpy(b->device, v, strlen(v) + 1);
}

void cp_parse_baud(struct parser *p, const struct keydef *k, void *obj, const char *v)
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
    cp_bad_value(p, k, v, "one of: 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200");
}

/* ---- profiles --------------------------------------------------------------------- */

/* block = FUNCTION:START:COUNT, one read request each. */
void cp_parse_block(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    struct cfg_profile *pr = obj;
    char buf[64], *start, *count;
    if (cp_work_copy(p, k, v, buf, sizeof buf) < 0)
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
        cp_bad_value(p, k, v, "FUNCTION:START:COUNT with function 3 or 4, start 0..65535 and "
                           "count 1..125 (e.g. 3:0:6)");
        return;
    }
    if (pr->nblocks >= CFG_MAX_BLOCKS) {
        cp_bad(p, k, "more than %d blocks", CFG_MAX_BLOCKS);
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
    int i = 2, o = i < n ? cp_find_name(order_names, w[i], strlen(w[i])) : -1;
    if (o >= 0) {
        f->order = (enum cfg_word_order)order_names[o].value;
        i++;
    }
    if (f->order != CFG_WO_ABCD && (f->type == CFG_T_INT16 || f->type == CFG_T_UINT16)) {
        cp_bad(p, k, "word order %s needs a 32-bit type", w[2]);
        return -1;
    }
    if (i < n && (tn_double(w[i], -1e6, 1e6, &f->scale) < 0 || f->scale == 0)) {
        cp_bad(p, k, "%s is not a word order (ABCD, CDAB, BADC, DCBA) or a non-zero scale",
               cp_quote(w[i], q));
        return -1;
    }
    if (i < n)
        i++;
    if (i < n) {
        cp_bad(p, k, "%s is one word too many (ADDRESS TYPE [ORDER] [SCALE])", cp_quote(w[i], q));
        return -1;
    }
    return 0;
}

/* body_temp = ADDRESS TYPE [ORDER] [SCALE], e.g. "0 int16 0.01" or "0x10 float32 CDAB". */
void cp_parse_field(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    struct cfg_profile *pr = obj;
    struct cfg_field f = {.present = true, .order = CFG_WO_ABCD, .scale = 1};
    char buf[96], *w[4], q[QUOTED_MAX];
    if (cp_work_copy(p, k, v, buf, sizeof buf) < 0)
        return;
    int n = cp_split_words(buf, w, 4), t;
    long addr;
    if (n < 2 || n > 4) {
        cp_bad_value(p, k, v, "ADDRESS TYPE [ORDER] [SCALE] (e.g. 0 int16 0.01)");
        return;
    }
    if (tn_long_hex(w[0], 0, 0xFFFF, &addr) < 0) {
        cp_bad(p, k, "register address %s is not between 0 and 65535 (or 0xFFFF)",
               cp_quote(w[0], q));
        return;
    }
    if ((t = cp_find_name(type_names, w[1], strlen(w[1]))) < 0) {
        cp_bad(p, k, "%s is not a type (int16, uint16, int32, uint32, float32)", cp_quote(w[1], q));
        return;
    }
    f.address = (int)addr;
    f.type = (enum cfg_field_type)type_names[t].value;
    if (field_options(p, k, w, n, &f) == 0)
        pr->fields[k->aux] = f;
}

/* ---- devices and lanes ------------------------------------------------------------ */

/* A name a [device] refers to; looked up once the whole file is read. */
void cp_parse_ref(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    (void)obj;
    const char *why = cp_name_problem(v, strlen(v));
    if (why != NULL) {
        char q[QUOTED_MAX];
        cp_bad(p, k, "name %s %s", cp_quote(v, q), why);
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
        if (cp_name_problem(w, strlen(w)) != NULL)
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

void cp_parse_gpio(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    struct cfg_lane *l = obj;
    struct cfg_gpio_line g = {.present = true, .offset = -1};
    char buf[96], *w[2];
    if (cp_work_copy(p, k, v, buf, sizeof buf) < 0)
        return;
    int n = cp_split_words(buf, w, 2);
    if (n < 1 || n > 2 ||
        (n == 2 && strcmp(w[1], "active-low") != 0 && strcmp(w[1], "active-high") != 0) ||
        gpio_line(w[0], &g) < 0) {
        cp_bad_value(p, k, v, "gpiochipN:OFFSET (offset 0..511) or a line name, optionally "
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
void cp_parse_url(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    struct cfg_upstream *u = obj;
    char q[QUOTED_MAX];
    if (check_text(p, k, v, sizeof u->url) < 0)
        return;
    if (strncasecmp(v, "http://", 7) == 0) {
        cp_bad(p, k, "%s: TLS is required, use an https:// URL", cp_quote(v, q));
        return;
    }
    bool blank = false;
    for (const char *s = v; *s; s++)
        blank |= isspace((unsigned char)*s) != 0;
    if (strncasecmp(v, "https://", 8) != 0 || v[8] == '\0' || v[8] == '/' || blank) {
        cp_bad_value(p, k, v, "an https:// URL (e.g. https://bureau.example.cn/api/v1)");
        return;
    }
    memcpy(u->url, v, strlen(v) + 1);
    u->enabled = true;
}

void cp_parse_listen(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    struct cfg_web *w = obj;
    unsigned char addr[16];
    if (strlen(v) >= sizeof w->listen ||
        (inet_pton(AF_INET, v, addr) != 1 && inet_pton(AF_INET6, v, addr) != 1)) {
        cp_bad_value(p, k, v, "an IPv4 or IPv6 address (e.g. 127.0.0.1, 0.0.0.0, ::1)");
        return;
    }
    memcpy(w->listen, v, strlen(v) + 1);
}


/* ADDR:PORT, IPv6 in brackets ([::]:8099): the terminals' listener. */
void cp_parse_addr_port(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    struct cfg_terminals *t = obj;
    const char *colon = strrchr(v, ':');
    long port;
    unsigned char addr[16];
    char host[sizeof t->listen];
    size_t hn = colon != NULL ? (size_t)(colon - v) : 0;
    bool v6 = hn >= 2 && v[0] == '[' && v[hn - 1] == ']';
    const char *h = v6 ? v + 1 : v;
    hn = v6 ? hn - 2 : hn;
    if (colon == NULL || tn_long(colon + 1, 1, 65535, &port) < 0 || hn == 0 ||
        hn >= sizeof host) {
        cp_bad_value(p, k, v, "ADDR:PORT with a port between 1 and 65535 (e.g. 0.0.0.0:8099)");
        return;
    }
    memcpy(host, h, hn);
    host[hn] = '\0';
    if (inet_pton(v6 ? AF_INET6 : AF_INET, host, addr) != 1) {
        cp_bad_value(p, k, v, "an IPv4 address or an IPv6 one in brackets before the port "
                              "(0.0.0.0:8099, [::]:8099)");
        return;
    }
    memcpy(t->listen, host, hn + 1);
    t->port = (int)port;
    t->enabled = true;
}

/* One IPv4 or IPv6 address, no name: the address is compared with the peer's. */
void cp_parse_address(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    unsigned char addr[16];
    if (strlen(v) >= k->aux ||
        (inet_pton(AF_INET, v, addr) != 1 && inet_pton(AF_INET6, v, addr) != 1)) {
        cp_bad_value(p, k, v, "an IPv4 or IPv6 address (a host name is not accepted: the "
                              "address is what the listener compares)");
        return;
    }
    memcpy(cp_member(obj, k->off), v, strlen(v) + 1);
}
