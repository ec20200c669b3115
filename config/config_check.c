/* The rules that need the whole file: ranges against each other, references
 * between sections, unit ids and GPIO lines used once. They run after reading,
 * so sections may come in any order. */
#include "config_parse.h"

#include "busload.h"
#include "config_load.h"
#include "netaddr.h"
#include "textnum.h"

#include <string.h>

/* ---- rules that need the whole file --------------------------------------------- */

int *cp_count_of(struct config *cfg, enum sect s)
{
    return (int *)((char *)cfg + cp_sections[s].count_off);
}

/* Index of the named element of a [kind NAME] array, or -1. */
int cp_find_named(const struct config *cfg, enum sect s, const char *name)
{
    int n = *(const int *)((const char *)cfg + cp_sections[s].count_off);
    for (int i = 0; i < n; i++)
        if (strcmp(cp_element_name(cfg, s, i), name) == 0)
            return i;
    return -1;
}

void cp_check_screening(struct parser *p, int i)
{
    static const char *const keys[] = {"valid_min", "threshold", "valid_max"};
    const struct cfg_screening *sc = &p->cfg->screening;
    int line = 0;
    for (int k = 0; k < 3; k++) {
        if (cp_failed(p, S_SCREENING, i, keys[k]))
            return;
        line = cp_max_int(line, cp_given(p, S_SCREENING, i, keys[k]));
    }
    if (sc->valid_min_centi < sc->threshold_centi && sc->threshold_centi < sc->valid_max_centi)
        return;
    char a[16], b[16], c[16];
    if (line == 0)
        line = cp_line_of(p, S_SCREENING, i, "threshold");
    cp_key_problem(p, S_SCREENING, i, line, NULL,
                   "needs valid_min < threshold < valid_max (here %s, %s, %s)",
                   tn_format_centi(sc->valid_min_centi, a, sizeof a),
                   tn_format_centi(sc->threshold_centi, b, sizeof b),
                   tn_format_centi(sc->valid_max_centi, c, sizeof c));
}

static void check_noon(struct parser *p, int i)
{
    const struct cfg_windows *w = &p->cfg->windows;
    if (w->noon_sweep && !w->noon_enabled && !cp_failed(p, S_WINDOWS, i, "noon"))
        cp_key_problem(p, S_WINDOWS, i, cp_line_of(p, S_WINDOWS, i, "noon_sweep"), "noon_sweep",
                       "needs a noon window ([windows] noon = HH:MM-HH:MM)");
    if (!w->noon_enabled || !cp_given(p, S_WINDOWS, i, "morning") ||
        cp_failed(p, S_WINDOWS, i, "morning") || w->noon_start >= w->morning_end)
        return;
    char a[8], b[8];
    cp_key_problem(p, S_WINDOWS, i, cp_line_of(p, S_WINDOWS, i, "noon"), "noon",
                   "starts at %s, before the morning window ends (%s)",
                   cp_fmt_hhmm(w->noon_start, a), cp_fmt_hhmm(w->morning_end, b));
}

/* The boarders' evening window comes after the day's other windows. */
static void check_evening(struct parser *p, int i)
{
    const struct cfg_windows *w = &p->cfg->windows;
    bool noon = w->noon_enabled && !cp_failed(p, S_WINDOWS, i, "noon");
    int last = noon ? w->noon_end : w->morning_end;
    if (!w->evening_enabled || (!noon && (!cp_given(p, S_WINDOWS, i, "morning") ||
                                          cp_failed(p, S_WINDOWS, i, "morning"))) ||
        w->evening_start >= last)
        return;
    char a[8], b[8];
    cp_key_problem(p, S_WINDOWS, i, cp_line_of(p, S_WINDOWS, i, "evening"), "evening",
                   "starts at %s, before the %s window ends (%s)",
                   cp_fmt_hhmm(w->evening_start, a), noon ? "noon" : "morning",
                   cp_fmt_hhmm(last, b));
}

void cp_check_windows(struct parser *p, int i)
{
    check_noon(p, i);
    check_evening(p, i);
}

/* Keys that only make sense together, such as a certificate and its key. */
static void check_pair(struct parser *p, enum sect s, int i, const char *a, const char *b)
{
    int la = cp_given(p, s, i, a), lb = cp_given(p, s, i, b);
    if (!la == !lb)
        return;
    cp_key_problem(p, s, i, la ? la : lb, la ? a : b, "needs %s too (give both or neither)",
                   la ? b : a);
}

/* A duration that must not be shorter than another one. */
static void check_order(struct parser *p, enum sect s, int i, const char *lo_key,
                        const char *hi_key, int64_t lo, int64_t hi)
{
    if (lo <= hi || cp_failed(p, s, i, lo_key) || cp_failed(p, s, i, hi_key))
        return;
    char a[TN_DURATION_LEN], b[TN_DURATION_LEN];
    const char *key = cp_given(p, s, i, hi_key) ? hi_key : lo_key;
    cp_key_problem(p, s, i, cp_line_of(p, s, i, key), key, "%s %s is shorter than %s %s", hi_key,
                   tn_format_ms(hi, a), lo_key, tn_format_ms(lo, b));
}

void cp_check_upstream(struct parser *p, int i)
{
    static const char *const needed[] = {"ca_file", "secret_file"};
    const struct cfg_upstream *u = &p->cfg->upstream;
    check_pair(p, S_UPSTREAM, i, "client_cert", "client_key");
    check_order(p, S_UPSTREAM, i, "retry_min", "retry_max", u->retry_min_ms, u->retry_max_ms);
    for (int k = 0; k < 2 && u->enabled; k++)
        if (!cp_given(p, S_UPSTREAM, i, needed[k]))
            cp_key_problem(p, S_UPSTREAM, i, cp_inst_of(p, S_UPSTREAM, i)->line, NULL,
                           "missing required key \"%s\" (needed when url is set)", needed[k]);
}

/* Wiegand limits in µs must leave room for a pulse and a bit. */
static void check_us_order(struct parser *p, int i, const char *lo_key, const char *hi_key,
                           int64_t lo, int64_t hi)
{
    if (lo < hi || cp_failed(p, S_GPIO, i, lo_key) || cp_failed(p, S_GPIO, i, hi_key))
        return;
    const char *key = cp_given(p, S_GPIO, i, hi_key) ? hi_key : lo_key;
    cp_key_problem(p, S_GPIO, i, cp_line_of(p, S_GPIO, i, key), key,
                   "%s %lldus must be longer than %s %lldus", hi_key, (long long)hi, lo_key,
                   (long long)lo);
}

void cp_check_gpio(struct parser *p, int i)
{
    const struct cfg_gpio *g = &p->cfg->gpio;
    check_us_order(p, i, "wiegand_pulse_min", "wiegand_pulse_max", g->wiegand_pulse_min_us,
                   g->wiegand_pulse_max_us);
    check_us_order(p, i, "wiegand_interval_min", "wiegand_frame_gap",
                   g->wiegand_interval_min_us, g->wiegand_frame_gap_us);
}

/* The nurse page carries health data: plain HTTP only on the machine itself,
 * unless the administrator says so explicitly. */
void cp_check_web(struct parser *p, int i)
{
    const struct cfg_web *w = &p->cfg->web;
    check_pair(p, S_WEB, i, "tls_cert", "tls_key");
    check_order(p, S_WEB, i, "session_idle", "session_max", w->session_idle_ms,
                w->session_max_ms);
    if (w->streams_per_user > w->streams_max && !cp_failed(p, S_WEB, i, "streams_per_user") &&
        !cp_failed(p, S_WEB, i, "streams_max")) {
        const char *key = cp_given(p, S_WEB, i, "streams_max") ? "streams_max" : "streams_per_user";
        cp_key_problem(p, S_WEB, i, cp_line_of(p, S_WEB, i, key), key,
                       "streams_max %d is less than streams_per_user %d", w->streams_max,
                       w->streams_per_user);
    }
    if (!w->enabled || w->tls_cert[0] != '\0' || w->allow_plain_http || netaddr_is_loopback(w->listen) ||
        cp_failed(p, S_WEB, i, "listen"))
        return;
    cp_key_problem(p, S_WEB, i, cp_line_of(p, S_WEB, i, "listen"), "listen",
                   "%s is not a loopback address, so health data would cross the network in plain "
                   "HTTP; set tls_cert and tls_key (or allow_plain_http = yes)",
                   w->listen);
}

void cp_check_bus(struct parser *p, int i)
{
    int tcp = cp_given(p, S_BUS, i, "tcp"), serial = cp_given(p, S_BUS, i, "serial");
    if (tcp && serial)
        cp_key_problem(p, S_BUS, i, cp_max_int(tcp, serial), tcp > serial ? "tcp" : "serial",
                       "a bus is either tcp or serial, not both");
    else if (!tcp && !serial)
        cp_key_problem(p, S_BUS, i, cp_inst_of(p, S_BUS, i)->line, NULL,
                       "needs tcp = HOST:PORT or serial = /dev/DEVICE");
    if (!tcp)
        return;
    for (int k = 0; k < cp_sections[S_BUS].nkeys; k++) {
        const struct keydef *kd = &cp_sections[S_BUS].keys[k];
        if ((kd->flags & K_SERIAL) && cp_inst_of(p, S_BUS, i)->keyline[k])
            cp_key_problem(p, S_BUS, i, cp_inst_of(p, S_BUS, i)->keyline[k], kd->key,
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
        const char *key = cp_field_keys[r];
        cp_key_problem(p, S_PROFILE, i, cp_line_of(p, S_PROFILE, i, key), key,
                       wide ? "registers %d..%d are not inside one block of this profile"
                            : "register %d is not inside a block of this profile",
                       f->address, f->address + 1);
    }
    if (pr->fields[CFG_F_CARD_HI].present && !pr->fields[CFG_F_CARD_LO].present)
        cp_key_problem(p, S_PROFILE, i, cp_line_of(p, S_PROFILE, i, "card_hi"), "card_hi",
                       "needs card_lo too");
}

static void check_masks(struct parser *p, int i, const struct cfg_profile *pr)
{
    static const char *const masks[] = {"status_valid", "status_fault", "status_present"};
    if (pr->fields[CFG_F_STATUS].present || cp_failed(p, S_PROFILE, i, "status"))
        return;
    for (int k = 0; k < 3; k++)
        if (cp_given(p, S_PROFILE, i, masks[k]))
            cp_key_problem(p, S_PROFILE, i, cp_given(p, S_PROFILE, i, masks[k]), masks[k],
                           "needs a status field to apply to");
}

/* Without a sequence counter a new reading is told by the presence edge. */
static void check_trigger(struct parser *p, int i, struct cfg_profile *pr)
{
    bool seq = pr->fields[CFG_F_SEQUENCE].present;
    if (!cp_given(p, S_PROFILE, i, "trigger")) {
        pr->trigger = seq ? CFG_TRIGGER_SEQUENCE : CFG_TRIGGER_PRESENCE;
        return;
    }
    if (pr->trigger == CFG_TRIGGER_SEQUENCE && !seq && !cp_failed(p, S_PROFILE, i, "sequence"))
        cp_key_problem(p, S_PROFILE, i, cp_given(p, S_PROFILE, i, "trigger"), "trigger",
                       "sequence needs a sequence field (or use trigger = presence or rise)");
}

/* The rise keys would silently do nothing under another trigger. */
static void check_rise_keys(struct parser *p, int i, const struct cfg_profile *pr)
{
    if (pr->trigger == CFG_TRIGGER_RISE || cp_failed(p, S_PROFILE, i, "trigger"))
        return;
    for (int k = 0; k < CP_NRISE_KEYS; k++)
        if (cp_given(p, S_PROFILE, i, cp_rise_keys[k]))
            cp_key_problem(p, S_PROFILE, i, cp_given(p, S_PROFILE, i, cp_rise_keys[k]),
                           cp_rise_keys[k], "only applies to trigger = rise");
}

void cp_check_profile(struct parser *p, int i)
{
    struct cfg_profile *pr = &p->cfg->profiles[i];
    if (pr->nblocks == 0 && !cp_failed(p, S_PROFILE, i, "block"))
        cp_key_problem(p, S_PROFILE, i, cp_inst_of(p, S_PROFILE, i)->line, NULL,
                       "needs at least one block = FUNCTION:START:COUNT");
    check_fields(p, i, pr);
    check_masks(p, i, pr);
    check_trigger(p, i, pr);
    check_rise_keys(p, i, pr);
}

/* The element of the bus, profile or lane a device names; -1 (reported) if none. */
static int resolve(struct parser *p, int i, enum ref r)
{
    static const enum sect kinds[REF_COUNT] = {S_BUS, S_PROFILE, S_LANE};
    static const char *const keys[REF_COUNT] = {"bus", "profile", "lane"};
    const char *name = p->refs[i][r];
    if (name[0] == '\0' && (r != REF_PROFILE || cp_given(p, S_DEVICE, i, "profile")))
        return -1; /* missing or malformed: already reported */
    if (name[0] == '\0')
        name = DEFAULT_PROFILE;
    int found = cp_find_named(p->cfg, kinds[r], name);
    if (found < 0)
        cp_key_problem(p, S_DEVICE, i, cp_line_of(p, S_DEVICE, i, keys[r]), keys[r],
                       r == REF_PROFILE ? "no [%s %s] in this file and no built-in profile of "
                                       "that name (gatescreen-ir, pyrometer)"
                                     : "no [%s %s] in this file",
                    cp_sections[kinds[r]].name, name);
    return found;
}

/* Unit ids address devices on one wire: two devices cannot share one. */
static void check_unit(struct parser *p, int i)
{
    const struct cfg_device *devs = p->cfg->devices, *d = &devs[i];
    for (int j = 0; j < i; j++) {
        if (devs[j].bus != d->bus || devs[j].unit_id != d->unit_id)
            continue;
        cp_key_problem(p, S_DEVICE, i, cp_line_of(p, S_DEVICE, i, "unit"), "unit",
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
    cp_key_problem(p, S_DEVICE, i, cp_line_of(p, S_DEVICE, i, "lane"), "lane",
                   "lane %s is already served by [device %s] (line %d); one device per lane",
                   p->cfg->lanes[d->lane].name, p->cfg->devices[other].name,
                   p->cfg->devices[other].line);
}

void cp_check_device(struct parser *p, int i)
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
    int line = cp_line_of(p, S_LANE, i, "identity");
    if (l->identity == CFG_ID_WIEGAND &&
        (!l->io[CFG_IO_WIEGAND_D0].present || !l->io[CFG_IO_WIEGAND_D1].present))
        cp_key_problem(p, S_LANE, i, line, "identity",
                       "wiegand needs wiegand_d0 and wiegand_d1 lines");
    if (l->identity != CFG_ID_WIEGAND &&
        (l->io[CFG_IO_WIEGAND_D0].present || l->io[CFG_IO_WIEGAND_D1].present))
        cp_key_problem(p, S_LANE, i, line, "identity",
                       "the lane has Wiegand lines but identity is not wiegand");
    if (l->identity != CFG_ID_DEVICE || dev < 0 || p->cfg->devices[dev].profile < 0)
        return;
    const struct cfg_profile *pr = &p->cfg->profiles[p->cfg->devices[dev].profile];
    if (!pr->fields[CFG_F_CARD_LO].present)
        cp_key_problem(p, S_LANE, i, line, "identity",
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
        cp_problem(p, l->line,
                   "lane %s: [device %s] (profile %s) measures on presence but reports no presence "
                   "bit; add a presence line to the lane (or use trigger = rise in the profile)",
                   l->name, p->cfg->devices[dev].name,
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
                                  cp_gpio_keys[lights[k]]);
    if (o > 0)
        cp_key_problem(p, S_LANE, i, cp_line_of(p, S_LANE, i, "indicator"), "indicator",
                       "gpio needs green, amber and red lines (missing: %s)", missing);
    if (l->enforce == CFG_ENFORCE_HARD && !l->io[CFG_IO_RELAY].present)
        cp_key_problem(p, S_LANE, i, cp_line_of(p, S_LANE, i, "enforce"), "enforce",
                       "hard needs a relay line");
    else if (l->enforce == CFG_ENFORCE_HARD && l->indicator != CFG_IND_GPIO)
        cp_key_problem(p, S_LANE, i, cp_line_of(p, S_LANE, i, "enforce"), "enforce",
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
            cp_key_problem(p, S_LANE, i, cp_line_of(p, S_LANE, i, cp_gpio_keys[r]), cp_gpio_keys[r],
                           "this line is already used by [lane %s] %s (line %d)",
                           p->cfg->lanes[j].name, cp_gpio_keys[r2],
                           cp_line_of(p, S_LANE, j, cp_gpio_keys[r2]));
}

/* A test indicator writes its light changes to a file the tests read. */
static void check_test_indicator(struct parser *p, int i)
{
    if (p->cfg->lanes[i].indicator != CFG_IND_TEST || cp_given(p, S_DAEMON, 0, "indicator_log"))
        return;
    cp_key_problem(p, S_LANE, i, cp_line_of(p, S_LANE, i, "indicator"), "indicator",
                   "test needs indicator_log in [daemon] (the file its light changes go to)");
}

void cp_check_lane(struct parser *p, int i)
{
    const struct cfg_lane *l = &p->cfg->lanes[i];
    int dev = p->lane_device[i];
    if (dev < 0 && p->lane_terminal[i] < 0)
        cp_problem(p, l->line, "lane %s has no [device] serving it (add a [device] or [terminal] with lane = %s)",
                   l->name, l->name);
    check_identity(p, i, dev);
    check_presence_source(p, i, dev);
    check_outputs(p, i);
    check_test_indicator(p, i);
    check_gpio_unique(p, i);
}


/* ---- warnings: a valid file that asks for what cannot be done ------------------- */

int config_warnings(const struct config *cfg, FILE *out)
{
    int n = 0;
    for (int i = 0; i < cfg->nbuses; i++) {
        struct busload l;
        char text[512];
        busload_of(cfg, i, &l);
        if (!busload_over(&l))
            continue;
        fprintf(out, "%s:%d: warning: [bus %s] %s\n", cfg->path, cfg->buses[i].line,
                cfg->buses[i].name, busload_describe(&l, &cfg->buses[i], text, sizeof text));
        n++;
    }
    return n;
}

/* ---- terminals -------------------------------------------------------------------- */

void cp_check_terminals(struct parser *p, int i)
{
    const struct cfg_terminals *t = &p->cfg->terminals;
    if (t->enabled && p->cfg->web.enabled && t->port == p->cfg->web.port &&
        !cp_failed(p, S_TERMINALS, i, "listen"))
        cp_key_problem(p, S_TERMINALS, i, cp_line_of(p, S_TERMINALS, i, "listen"), "listen",
                       "port %d is the nurse's page's ([web] port); terminals need a port of "
                       "their own", t->port);
}

static void check_terminal_address(struct parser *p, int i)
{
    const struct cfg_terminal *t = &p->cfg->terminal[i];
    for (int j = 0; j < i; j++)
        if (strcmp(p->cfg->terminal[j].address, t->address) == 0 && t->address[0] != '\0')
            cp_key_problem(p, S_TERMINAL, i, cp_line_of(p, S_TERMINAL, i, "address"), "address",
                           "%s is already [terminal %s]'s (line %d); one address per terminal",
                           t->address, p->cfg->terminal[j].name, p->cfg->terminal[j].line);
}

static void claim_terminal_lane(struct parser *p, int i)
{
    struct cfg_terminal *t = &p->cfg->terminal[i];
    int line = cp_line_of(p, S_TERMINAL, i, "lane");
    t->lane = cp_find_named(p->cfg, S_LANE, t->lane_name);
    if (t->lane < 0) {
        cp_key_problem(p, S_TERMINAL, i, line, "lane", "no [lane %s] in the file", t->lane_name);
        return;
    }
    int dev = p->lane_device[t->lane], other = p->lane_terminal[t->lane];
    if (dev >= 0)
        cp_key_problem(p, S_TERMINAL, i, line, "lane",
                       "lane %s is already served by [device %s] (line %d); one device per lane",
                       t->lane_name, p->cfg->devices[dev].name, p->cfg->devices[dev].line);
    else if (other >= 0)
        cp_key_problem(p, S_TERMINAL, i, line, "lane",
                       "lane %s is already served by [terminal %s] (line %d); one device per lane",
                       t->lane_name, p->cfg->terminal[other].name, p->cfg->terminal[other].line);
    else
        p->lane_terminal[t->lane] = i;
}

/* An ADMS serial number as its requests carry it (SN=...). */
static bool sn_valid(const char *sn)
{
    size_t n = strlen(sn);
    return n > 0 && strspn(sn, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                               "0123456789-_") == n;
}

/* The keys of one kind only, and the defaults that depend on the kind. */
static void check_terminal_kind_keys(struct parser *p, int i)
{
    static const char *const adms_only[] = {"serial", "temperature_column", "mask_column",
                                            "temperature_scale", "temperature_unit"};
    struct cfg_terminal *t = &p->cfg->terminal[i];
    bool adms = t->kind == CFG_TERM_ZKTECO_ADMS;
    for (size_t k = 0; k < sizeof adms_only / sizeof adms_only[0] && !adms; k++)
        if (cp_given(p, S_TERMINAL, i, adms_only[k]))
            cp_key_problem(p, S_TERMINAL, i, cp_line_of(p, S_TERMINAL, i, adms_only[k]),
                           adms_only[k], "is for kind = zkteco-adms only");
    /* An ADMS terminal says it is alive every Delay (10 s, our handshake's answer), a
     * Hikvision alertStream sends heartbeat parts every few seconds to a minute (its
     * stream is taken for dead after 120 s of silence); a Hikvision terminal that
     * pushes says nothing between events. */
    if (!cp_given(p, S_TERMINAL, i, "offline_after"))
        t->offline_after_ms = adms ? 60000 : t->mode == CFG_TERM_STREAM ? 120000 : 0;
    if (!adms)
        return;
    if (t->mode == CFG_TERM_STREAM)
        cp_key_problem(p, S_TERMINAL, i, cp_line_of(p, S_TERMINAL, i, "mode"), "mode",
                       "stream is for kind = hikvision-isapi only (ZKTeco terminals push)");
    if (cp_given(p, S_TERMINAL, i, "isapi_port"))
        cp_key_problem(p, S_TERMINAL, i, cp_line_of(p, S_TERMINAL, i, "isapi_port"), "isapi_port",
                       "is for kind = hikvision-isapi only");
    if (!sn_valid(t->serial))
        cp_problem(p, t->line, "[terminal %s] (kind = zkteco-adms) needs serial = the SN its "
                               "requests carry (letters, digits, '-', '_'; on its System Info "
                               "page)", t->name);
    if (cp_given(p, S_TERMINAL, i, "password_file"))
        cp_key_problem(p, S_TERMINAL, i, cp_line_of(p, S_TERMINAL, i, "password_file"),
                       "password_file", "ZKTeco ADMS terminals send no HTTP credentials; only "
                       "its address and serial are checked (README \"ZKTeco ADMS\")");
    const char *key = cp_given(p, S_TERMINAL, i, "mask_column") ? "mask_column"
                                                                 : "temperature_column";
    if (t->temperature_column > 0 && t->temperature_column == t->mask_column)
        cp_key_problem(p, S_TERMINAL, i, cp_line_of(p, S_TERMINAL, i, key), key,
                       "temperature_column and mask_column are both %d (mask_column's default "
                       "is 8; 0: none)", t->mask_column);
}

void cp_check_terminal(struct parser *p, int i)
{
    const struct cfg_terminal *t = &p->cfg->terminal[i];
    if (t->mode == CFG_TERM_PUSH && !cp_given(p, S_TERMINALS, 0, "listen"))
        cp_problem(p, t->line, "[terminal %s] needs [terminals] listen = ADDR:PORT (where it "
                               "pushes its events)", t->name);
    if (t->mode == CFG_TERM_STREAM && t->kind == CFG_TERM_HIKVISION_ISAPI &&
        (!cp_given(p, S_TERMINAL, i, "user") ||
         !cp_given(p, S_TERMINAL, i, "password_file")))
        cp_problem(p, t->line, "[terminal %s]: mode = stream needs user and password_file "
                               "(the terminal's login, for HTTP digest)", t->name);
    check_terminal_address(p, i);
    /* Both are rows of the ledger's devices, by name. */
    int dev = cp_find_named(p->cfg, S_DEVICE, t->name);
    if (dev >= 0)
        cp_problem(p, t->line, "[terminal %s]: [device %s] (line %d) has that name already; "
                               "devices and terminals need different names",
                   t->name, t->name, p->cfg->devices[dev].line);
    if (!cp_failed(p, S_TERMINAL, i, "lane") && t->lane_name[0] != '\0')
        claim_terminal_lane(p, i);
    if (cp_given(p, S_TERMINAL, i, "password_file") && !cp_given(p, S_TERMINAL, i, "user"))
        cp_key_problem(p, S_TERMINAL, i, cp_line_of(p, S_TERMINAL, i, "password_file"),
                       "password_file", "needs user (the name the terminal sends)");
    check_terminal_kind_keys(p, i);
}
