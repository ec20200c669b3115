/* The day report's CSV downloads (docs/web-api.md "CSV exports"): checks,
 * absences and flags of a date, optionally of one class (a teacher's always of
 * theirs). UTF-8 with a BOM first, so that Excel opens Chinese names as such;
 * RFC 4180 and a header row; a field that a spreadsheet would take for a formula
 * gets a leading apostrophe (daemon/core/csv_out.h, shared with the bureau's
 * exports): names and notes are typed by people, and an export must never run
 * anything. */
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "csv_out.h"
#include "textnum.h"
#include "web_api.h"

struct csv {
    FILE *f;
};

/* One record: n fields and CRLF (core/csv_out.h quotes and guards them). */
static void row(struct csv *c, const char *const *fields, int n)
{
    csv_out_record(c->f, fields, n);
}

#define ROW(c, ...)                                                          \
    do {                                                                     \
        const char *const f_[] = {__VA_ARGS__};                              \
        row(c, f_, (int)(sizeof f_ / sizeof f_[0]));                         \
    } while (0)

static const char *centi(int v, char *buf, size_t n)
{
    return tn_format_centi(v, buf, n);
}

static const char *number(int64_t v, char *buf, size_t n)
{
    snprintf(buf, n, "%lld", (long long)v);
    return buf;
}

/* ---- the three files -------------------------------------------------------------- */

static void check_row(const struct lw_check *v, void *arg)
{
    char t[16], th[16], at[32];
    ROW(arg, v->day, v->window, v->external_id, v->name, v->class_name,
        centi(v->temp_centi, t, sizeof t), centi(v->threshold_centi, th, sizeof th),
        v->instrument, v->by, civil_local_text(v->at_ms, CIVIL_DAY_HHMMSS, "", at, sizeof at));
}

static int checks(struct csv *c, struct ledger *l, const char *day, const char *class_name)
{
    ROW(c, "date", "window", "external_id", "name", "class", "temperature_c", "threshold_c",
        "instrument", "recorded_by", "time");
    return ledger_web_day_checks(l, day, class_name, check_row, c);
}

static void absence_row(const struct absence_view *v, void *arg)
{
    static const char *const clinic[] = {"", "no", "yes"};
    char late[32], followups[16];
    ROW(arg, v->day, v->external_id, v->name, v->class_name, v->cause, v->symptoms, v->onset_day,
        clinic[v->clinic_visit >= -1 && v->clinic_visit <= 1 ? v->clinic_visit + 1 : 0],
        v->diagnosis, v->note, civil_local_text(v->late_ms, CIVIL_DAY_HHMMSS, "", late, sizeof late), v->returned_day,
        number(v->followups, followups, sizeof followups), v->last_followup, v->recorded_by);
}

static int absences(struct csv *c, struct ledger *l, const char *day, const char *class_name)
{
    ROW(c, "date", "external_id", "name", "class", "cause", "symptoms", "onset_date",
        "clinic_visit", "diagnosis", "note", "late_arrival", "returned_date", "followups",
        "last_followup", "recorded_by");
    return ledger_list_absences(l, day, class_name, absence_row, c);
}

static void flag_row(const struct lw_flag *v, void *arg)
{
    char id[24], opened[32], card[24] = "", s[16], th[16], r[16] = "", rt[32], ref[24] = "";
    number(v->id, id, sizeof id);
    if (v->has_card)
        number((int64_t)v->card, card, sizeof card);
    if (v->has_recheck)
        centi(v->recheck_centi, r, sizeof r);
    if (v->referral_id)
        number(v->referral_id, ref, sizeof ref);
    ROW(arg, id, v->day, civil_local_text(v->opened_ms, CIVIL_DAY_HHMMSS, "", opened, sizeof opened), v->external_id, v->name,
        v->class_name, card, v->lane, centi(v->screen_centi, s, sizeof s),
        centi(v->threshold_centi, th, sizeof th), v->state, r, v->recheck_instrument,
        v->recheck_by, civil_local_text(v->recheck_ms, CIVIL_DAY_HHMMSS, "", rt, sizeof rt), ref, v->referral_outcome);
}

static int flags(struct csv *c, struct ledger *l, const char *day, const char *class_name)
{
    ROW(c, "flag_id", "date", "opened", "external_id", "name", "class", "card", "lane",
        "screen_c", "threshold_c", "state", "recheck_c", "recheck_instrument", "recheck_by",
        "recheck_time", "referral_id", "referral_outcome");
    return ledger_web_day_flags(l, day, class_name, flag_row, c);
}

/* ---- the response ----------------------------------------------------------------- */

typedef int (*csv_fill)(struct csv *c, struct ledger *l, const char *day,
                        const char *class_name);

void wa_csv_reply(struct web_response *rs, const char *filename,
                  int (*fill)(FILE *f, void *ctx), void *ctx)
{
    char *buf = NULL, disposition[160];
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        web_error(rs, 500, "out of memory");
        return;
    }
    fputs(CSV_OUT_BOM, f); /* Excel reads UTF-8 only with it */
    int rc = fill(f, ctx);
    if (fclose(f) != 0 || rc < 0) {
        free(buf);
        web_error(rs, 500, "the export could not be made (see the daemon's log)");
        return;
    }
    rs->status = 200;
    rs->content_type = "text/csv; charset=utf-8";
    rs->body = buf;
    rs->len = len;
    snprintf(disposition, sizeof disposition, "attachment; filename=\"%s\"", filename);
    web_header(rs, "Content-Disposition", disposition);
}

struct day_export {
    struct ledger *l;
    const char *day, *class_name;
    csv_fill fill;
};

static int day_fill(FILE *f, void *ctx)
{
    struct day_export *e = ctx;
    struct csv c = {.f = f};
    return e->fill(&c, e->l, e->day, e->class_name);
}

static void export(struct web_request *rq, struct web_response *rs, const char *what,
                   csv_fill fill)
{
    char day[LEDGER_DAY_LEN], filename[64];
    struct day_export e = {.day = day, .fill = fill};
    if (wa_query_day(rq, rs, day) < 0 || wa_query_class(rq, rs, &e.class_name) < 0 ||
        !(e.l = web_ledger(rq, rs)))
        return;
    snprintf(filename, sizeof filename, "%s-%s.csv", what, day);
    wa_csv_reply(rs, filename, day_fill, &e);
}

void wa_csv_checks(struct web_request *rq, struct web_response *rs)
{
    export(rq, rs, "checks", checks);
}

void wa_csv_absences(struct web_request *rq, struct web_response *rs)
{
    export(rq, rs, "absences", absences);
}

void wa_csv_flags(struct web_request *rq, struct web_response *rs)
{
    export(rq, rs, "flags", flags);
}
