/* The term calendar and the roster's groups: [calendar] (term, holidays, make-up
 * school days), [grade NAME] (the day it comes back, its arrival slot) and
 * [class NAME] (its arrival slot). Their values and the rules that need the whole
 * file. What a day is, from these, is daemon/core/civil.c's civil_day_kind. */
#include "config_parse.h"

#include <ctype.h>
#include <string.h>

#include "textnum.h"

/* ---- values ------------------------------------------------------------------------ */

static bool is_day(const char *s, size_t n)
{
    char buf[CFG_DAY_LEN];
    int y, m, d;
    if (n != CFG_DAY_LEN - 1)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return tn_date(buf, &y, &m, &d) == 0;
}

void cp_parse_date(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    if (!is_day(v, strlen(v))) {
        cp_bad_value(p, k, v, "a date YYYY-MM-DD");
        return;
    }
    memcpy(cp_member(obj, k->off), v, CFG_DAY_LEN);
}

/* One item of a list, blanks around it dropped: "2026-10-01" or
 * "2026-10-01..2026-10-07". -1 (reported) when it is neither. */
static int day_item(struct parser *p, const struct keydef *k, const char *s, size_t n,
                    bool range_ok, struct cfg_day_range *out)
{
    s = cp_trim(s, &n);
    const char *dots = n > 2 ? strstr(s, "..") : NULL;
    size_t a = dots && dots < s + n ? (size_t)(dots - s) : n;
    char item[64];
    snprintf(item, sizeof item, "%.*s", (int)(n < 60 ? n : 60), s);
    if (!is_day(s, a) || (a < n && (!range_ok || !is_day(s + a + 2, n - a - 2)))) {
        cp_bad_value(p, k, item, range_ok ? "a date YYYY-MM-DD or a range FROM..TO"
                                          : "a date YYYY-MM-DD");
        return -1;
    }
    memcpy(out->from, s, CFG_DAY_LEN - 1);
    out->from[CFG_DAY_LEN - 1] = '\0';
    memcpy(out->to, a < n ? s + a + 2 : s, CFG_DAY_LEN - 1);
    out->to[CFG_DAY_LEN - 1] = '\0';
    if (strcmp(out->from, out->to) > 0) {
        cp_bad(p, k, "%s ends before it begins", item);
        return -1;
    }
    return 0;
}

/* Comma-separated items into out[0..max): their count, -1 when one was bad. */
static int day_list(struct parser *p, const struct keydef *k, const char *v, bool range_ok,
                    struct cfg_day_range *out, int max)
{
    int n = 0;
    for (const char *s = v;;) {
        const char *comma = strchr(s, ',');
        size_t len = comma ? (size_t)(comma - s) : strlen(s);
        if (n == max) {
            cp_bad(p, k, "too many dates (max %d)", max);
            return -1;
        }
        if (day_item(p, k, s, len, range_ok, &out[n++]) < 0)
            return -1;
        if (!comma)
            return n;
        s = comma + 1;
    }
}

/* "2026-10-01..2026-10-07, 2027-01-01": the holidays (节假日, 寒假 ...). */
void cp_parse_day_ranges(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    struct cfg_calendar *c = obj;
    int n = day_list(p, k, v, true, c->holidays, CFG_MAX_DAY_RANGES);
    c->nholidays = n < 0 ? 0 : n;
}

/* "2026-10-10, 2026-09-27": make-up school days (调休). */
void cp_parse_workdays(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    struct cfg_calendar *c = obj;
    struct cfg_day_range r[CFG_MAX_DAY_RANGES];
    int n = day_list(p, k, v, false, r, CFG_MAX_DAY_RANGES);
    c->nworkdays = n < 0 ? 0 : n;
    for (int i = 0; i < c->nworkdays; i++)
        memcpy(c->workdays[i], r[i].from, CFG_DAY_LEN);
}

void cp_parse_slot(struct parser *p, const struct keydef *k, void *obj, const char *v)
{
    struct cfg_group *g = obj;
    if (tn_span(v, &g->slot_start, &g->slot_end) < 0) {
        cp_bad_value(p, k, v, "a time span HH:MM-HH:MM within one day, start before end");
        return;
    }
    g->has_slot = true;
}

void cp_group_init(void *obj)
{
    memset(obj, 0, sizeof(struct cfg_group));
}

/* A grade or class as the roster writes it: UTF-8, no blanks, no brackets. */
const char *cp_roster_name_problem(const char *s, size_t n)
{
    if (n == 0)
        return "is empty";
    if (n >= CFG_NAME_MAX)
        return "is too long (max 31 bytes: 10 Chinese characters)";
    if (tn_utf8_invalid_at(s, n) >= 0)
        return "is not UTF-8";
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == '[' || s[i] == ']' || s[i] == ';' ||
            s[i] == '#' || isspace((unsigned char)s[i]))
            return "may not have blanks, control characters, brackets, ';' or '#'";
    return NULL;
}

/* ---- rules of the whole file --------------------------------------------------------- */

static bool in_ranges(const struct cfg_calendar *c, const char *day)
{
    for (int i = 0; i < c->nholidays; i++)
        if (strcmp(c->holidays[i].from, day) <= 0 && strcmp(day, c->holidays[i].to) <= 0)
            return true;
    return false;
}

static int weekday_of(const char *day)
{
    int y, m, d;
    if (tn_date(day, &y, &m, &d) < 0)
        return -1;
    /* Sakamoto's method: 0 = Sunday. */
    static const int t[] = {0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4};
    y -= m < 3;
    return (y + y / 4 - y / 100 + y / 400 + t[m - 1] + d) % 7;
}

static void check_workdays(struct parser *p, int i, const struct config *cfg)
{
    const struct cfg_calendar *c = &cfg->windows.calendar;
    int line = cp_line_of(p, S_CALENDAR, i, "workdays");
    for (int k = 0; k < c->nworkdays; k++) {
        const char *day = c->workdays[k];
        int wd = weekday_of(day);
        if (in_ranges(c, day))
            cp_key_problem(p, S_CALENDAR, i, line, "workdays", "%s is also in holidays", day);
        else if (wd >= 0 && (cfg->windows.school_days >> wd & 1u))
            cp_key_problem(p, S_CALENDAR, i, line, "workdays",
                           "%s is a school day already by [windows] days; workdays are the "
                           "make-up days (调休) that fall on a day off, such as a Saturday",
                           day);
    }
}

void cp_check_calendar(struct parser *p, int i)
{
    const struct cfg_calendar *c = &p->cfg->windows.calendar;
    if (c->term_start[0] && c->term_end[0] && strcmp(c->term_start, c->term_end) > 0)
        cp_key_problem(p, S_CALENDAR, i, cp_line_of(p, S_CALENDAR, i, "term_end"), "term_end",
                       "%s is before term_start %s", c->term_end, c->term_start);
    check_workdays(p, i, p->cfg);
}

/* A slot lies within the morning window: lateness is counted inside it, and the
 * absence sweep after the window's end still covers everyone. */
static void check_slot(struct parser *p, enum sect s, int i, const struct cfg_group *g)
{
    const struct cfg_windows *w = &p->cfg->windows;
    char a[8], b[8], c[8], d[8];
    if (!g->has_slot || (g->slot_start >= w->morning_start && g->slot_end <= w->morning_end))
        return;
    cp_key_problem(p, s, i, cp_line_of(p, s, i, "slot"), "slot",
                   "%s-%s is not within the morning window [windows] morning %s-%s",
                   cp_fmt_hhmm(g->slot_start, a), cp_fmt_hhmm(g->slot_end, b),
                   cp_fmt_hhmm(w->morning_start, c), cp_fmt_hhmm(w->morning_end, d));
}

static void check_ends(struct parser *p, enum sect s, int i, const struct cfg_group *g);

void cp_check_grade(struct parser *p, int i)
{
    check_slot(p, S_GRADE, i, &p->cfg->windows.grades[i]);
    check_ends(p, S_GRADE, i, &p->cfg->windows.grades[i]);
}

/* Each distinct slot end is an absence sweep of the day (civil.h's
 * CIVIL_MAX_SLOT_ENDS of them at most). */
#define MAX_SLOT_ENDS 8

static bool new_end(const struct cfg_windows *w, const struct cfg_group *upto, int end)
{
    for (int i = 0; i < w->ngrades && &w->grades[i] != upto; i++)
        if (w->grades[i].has_slot && w->grades[i].slot_end == end)
            return false;
    for (int i = 0; i < w->nclasses && &w->classes[i] != upto; i++)
        if (w->classes[i].has_slot && w->classes[i].slot_end == end)
            return false;
    return true;
}

/* The number of distinct slot ends up to and including g. */
static int ends_upto(const struct cfg_windows *w, const struct cfg_group *g)
{
    int n = 0;
    for (int i = 0; i < w->ngrades; i++) {
        n += w->grades[i].has_slot && new_end(w, &w->grades[i], w->grades[i].slot_end);
        if (&w->grades[i] == g)
            return n;
    }
    for (int i = 0; i < w->nclasses; i++) {
        n += w->classes[i].has_slot && new_end(w, &w->classes[i], w->classes[i].slot_end);
        if (&w->classes[i] == g)
            return n;
    }
    return n;
}

static void check_ends(struct parser *p, enum sect s, int i, const struct cfg_group *g)
{
    if (g->has_slot && new_end(&p->cfg->windows, g, g->slot_end) &&
        ends_upto(&p->cfg->windows, g) == MAX_SLOT_ENDS + 1)
        cp_key_problem(p, s, i, cp_line_of(p, s, i, "slot"), "slot",
                       "more than %d different slot ends: each is an absence sweep; give "
                       "groups that arrive together the same slot", MAX_SLOT_ENDS);
}

void cp_check_class(struct parser *p, int i)
{
    check_slot(p, S_CLASS, i, &p->cfg->windows.classes[i]);
    check_ends(p, S_CLASS, i, &p->cfg->windows.classes[i]);
}
