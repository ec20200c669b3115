/* What each section may hold: the key tables (name, parser, member, range),
 * the defaults, and the table of sections that drives config_parse.c. */
#include "config_parse.h"

#include "wiegand.h"

#include <string.h>

const char *const cp_field_keys[CFG_F_COUNT] = {
    "body_temp", "ambient_temp", "status", "sequence", "card_lo", "card_hi",
};
const char *const cp_gpio_keys[CFG_IO_COUNT] = {
    "green", "amber", "red", "buzzer", "relay", "wiegand_d0", "wiegand_d1", "presence",
};

/* ---- key tables -------------------------------------------------------------------- */

#define KEY(k, fn, T, m, ...) {.key = (k), .parse = (fn), .off = offsetof(T, m), __VA_ARGS__}
#define TEXT(k, fn, T, m, ...) KEY(k, fn, T, m, .aux = sizeof(((T *)0)->m), __VA_ARGS__)
#define RANGE(k, fn, T, m, lo, hi) KEY(k, fn, T, m, .min = (lo), .max = (hi))
#define ENUM(k, T, m, tbl, fl) KEY(k, cp_parse_enum, T, m, .names = (tbl), .flags = (fl))
#define ARRAY_LEN(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define KEYS(a) .keys = (a), .nkeys = ARRAY_LEN(a)

static const struct name_val sync_names[] = {{"full", 1}, {"normal", 0}, {NULL, 0}};
static const struct name_val parity_names[] = {
    {"N", CFG_PARITY_NONE}, {"E", CFG_PARITY_EVEN}, {"O", CFG_PARITY_ODD}, {NULL, 0},
};
static const struct name_val trigger_names[] = {
    {"sequence", CFG_TRIGGER_SEQUENCE}, {"presence", CFG_TRIGGER_PRESENCE},
    {"rise", CFG_TRIGGER_RISE}, {NULL, 0},
};
static const struct name_val rise_value_names[] = {{"settled", 0}, {"peak", 1}, {NULL, 0}};
static const struct name_val identity_names[] = {
    {"wiegand", CFG_ID_WIEGAND}, {"device", CFG_ID_DEVICE}, {"none", CFG_ID_NONE}, {NULL, 0},
};
static const struct name_val indicator_names[] = {
    {"console", CFG_IND_CONSOLE}, {"gpio", CFG_IND_GPIO}, {"test", CFG_IND_TEST}, {NULL, 0},
};
static const struct name_val enforce_names[] = {
    {"soft", CFG_ENFORCE_SOFT}, {"hard", CFG_ENFORCE_HARD}, {NULL, 0},
};
static const struct name_val observation_names[] = {{"refer", 1}, {"note", 0}, {NULL, 0}};
static const struct name_val identify_table[] = {{"pseudonym", 0}, {"names", 1}, {NULL, 0}};

static const struct keydef daemon_keys[] = {
    KEY("log_level", cp_parse_log_level, struct cfg_daemon, log_level, .flags = 0),
    RANGE("stop_timeout", cp_parse_duration, struct cfg_daemon, stop_timeout_ms, 100, 30 * SEC),
    TEXT("indicator_log", cp_parse_path, struct cfg_daemon, indicator_log, .flags = 0),
};

#define WIEGAND_US(k, m, lo, hi) RANGE(k, cp_parse_duration_us, struct cfg_gpio, m, lo, hi)
static const struct keydef gpio_keys_section[] = {
    RANGE("lamp_test", cp_parse_duration, struct cfg_gpio, lamp_test_ms, 0, 5 * SEC),
    RANGE("presence_debounce", cp_parse_duration, struct cfg_gpio, presence_debounce_ms, 0, 2 * SEC),
    WIEGAND_US("wiegand_pulse_min", wiegand_pulse_min_us, 0, 1000000),
    WIEGAND_US("wiegand_pulse_max", wiegand_pulse_max_us, 1, 1000000),
    WIEGAND_US("wiegand_interval_min", wiegand_interval_min_us, 0, 1000000),
    WIEGAND_US("wiegand_frame_gap", wiegand_frame_gap_us, 1000, 10000000),
};

static const struct keydef school_keys[] = {
    TEXT("code", cp_parse_code, struct cfg_school, code, .flags = K_REQUIRED),
    TEXT("name", cp_parse_text, struct cfg_school, name, .flags = K_REQUIRED),
    TEXT("timezone", cp_parse_timezone, struct cfg_school, timezone, .flags = 0),
};

static const struct keydef ledger_keys[] = {
    TEXT("database", cp_parse_path, struct cfg_ledger, database, .flags = K_REQUIRED),
    RANGE("retention_days", cp_parse_int, struct cfg_ledger, retention_days, 1, 3650),
    ENUM("synchronous", struct cfg_ledger, synchronous_full, sync_names, K_BOOL),
};

static const struct keydef windows_keys[] = {
    KEY("morning", cp_parse_span, struct cfg_windows, morning_start,
        .aux = offsetof(struct cfg_windows, morning_end), .flags = K_REQUIRED),
    KEY("noon", cp_parse_noon, struct cfg_windows, noon_start, .flags = 0),
    KEY("noon_sweep", cp_parse_bool, struct cfg_windows, noon_sweep, .flags = 0),
    KEY("evening", cp_parse_evening, struct cfg_windows, evening_start, .flags = 0),
    RANGE("absence_grace", cp_parse_duration, struct cfg_windows, absence_grace_ms, 0, 6 * HOUR),
    KEY("absence_kinds", cp_parse_kinds, struct cfg_windows, absence_kinds, .flags = 0),
    KEY("days", cp_parse_days, struct cfg_windows, school_days, .flags = 0),
};

#define HOLD(k, m) RANGE(k, cp_parse_duration, struct cfg_screening, m, 100, 10 * MINUTE)
static const struct keydef screening_keys[] = {
    RANGE("threshold", cp_parse_centi, struct cfg_screening, threshold_centi, 3500, 4000),
    RANGE("valid_min", cp_parse_centi, struct cfg_screening, valid_min_centi, 2500, 4500),
    RANGE("valid_max", cp_parse_centi, struct cfg_screening, valid_max_centi, 2500, 4500),
    KEY("identity_required", cp_parse_bool, struct cfg_screening, identity_required, .flags = 0),
    RANGE("pair_window", cp_parse_duration, struct cfg_screening, pair_window_ms, 100, 60 * SEC),
    HOLD("hold_admit", hold_admit_ms),
    HOLD("hold_fever", hold_fever_ms),
    HOLD("hold_invalid", hold_invalid_ms),
    HOLD("hold_deny", hold_deny_ms),
    HOLD("hold_nurse", hold_nurse_ms),
    HOLD("hold_no_measurement", hold_no_measurement_ms),
    RANGE("buzzer", cp_parse_duration, struct cfg_screening, buzzer_ms, 0, MINUTE),
    RANGE("blink_period", cp_parse_duration, struct cfg_screening, blink_period_ms, 100, 5 * SEC),
    RANGE("cluster_day_cases", cp_parse_int, struct cfg_screening, cluster_day_cases, 1, 100),
    RANGE("cluster_3day_cases", cp_parse_int, struct cfg_screening, cluster_3day_cases, 1, 100),
    ENUM("observation", struct cfg_screening, observation_refer, observation_names, K_BOOL),
};

static const struct keydef upstream_keys[] = {
    KEY("url", cp_parse_url, struct cfg_upstream, url, .flags = 0),
    TEXT("ca_file", cp_parse_path, struct cfg_upstream, ca_file, .flags = 0),
    TEXT("client_cert", cp_parse_path, struct cfg_upstream, client_cert, .flags = 0),
    TEXT("client_key", cp_parse_path, struct cfg_upstream, client_key, .flags = 0),
    TEXT("token_file", cp_parse_path, struct cfg_upstream, token_file, .flags = 0),
    TEXT("secret_file", cp_parse_path, struct cfg_upstream, secret_file, .flags = 0),
    ENUM("identify", struct cfg_upstream, identify_names, identify_table, K_BOOL),
    KEY("day_end", cp_parse_hhmm, struct cfg_upstream, day_end, .flags = 0),
    RANGE("connect_timeout", cp_parse_duration, struct cfg_upstream, connect_timeout_ms, SEC,
          2 * MINUTE),
    RANGE("timeout", cp_parse_duration, struct cfg_upstream, timeout_ms, SEC, 10 * MINUTE),
    RANGE("retry_min", cp_parse_duration, struct cfg_upstream, retry_min_ms, SEC, HOUR),
    RANGE("retry_max", cp_parse_duration, struct cfg_upstream, retry_max_ms, SEC, DAY),
};

static const struct keydef web_keys[] = {
    KEY("enabled", cp_parse_bool, struct cfg_web, enabled, .flags = 0),
    KEY("listen", cp_parse_listen, struct cfg_web, listen, .flags = 0),
    RANGE("port", cp_parse_int, struct cfg_web, port, 1, 65535),
    TEXT("tls_cert", cp_parse_path, struct cfg_web, tls_cert, .flags = 0),
    TEXT("tls_key", cp_parse_path, struct cfg_web, tls_key, .flags = 0),
    KEY("allow_plain_http", cp_parse_bool, struct cfg_web, allow_plain_http, .flags = 0),
    RANGE("session_idle", cp_parse_duration, struct cfg_web, session_idle_ms, MINUTE, DAY),
    RANGE("session_max", cp_parse_duration, struct cfg_web, session_max_ms, MINUTE, 7 * DAY),
    RANGE("max_connections_per_address", cp_parse_int, struct cfg_web,
          max_connections_per_address, 2, CFG_WEB_CONNECTIONS),
    RANGE("request_timeout", cp_parse_duration, struct cfg_web, request_timeout_ms, SEC,
          5 * MINUTE),
    RANGE("streams_per_user", cp_parse_int, struct cfg_web, streams_per_user, 1,
          CFG_WEB_STREAMS_MAX),
    RANGE("streams_max", cp_parse_int, struct cfg_web, streams_max, 1, CFG_WEB_STREAMS_MAX),
};

static const struct name_val term_kind_names[] = {
    {"hikvision-isapi", CFG_TERM_HIKVISION_ISAPI}, {"zkteco-adms", CFG_TERM_ZKTECO_ADMS},
    {NULL, 0},
};
static const struct name_val term_unit_names[] = {{"celsius", 0}, {"fahrenheit", 1}, {NULL, 0}};
static const struct name_val term_mode_names[] = {
    {"push", CFG_TERM_PUSH}, {"stream", CFG_TERM_STREAM}, {NULL, 0},
};

static const struct keydef terminals_keys[] = {
    KEY("listen", cp_parse_addr_port, struct cfg_terminals, listen, .flags = 0),
    RANGE("max_body", cp_parse_int, struct cfg_terminals, max_body, 4096, 16 * 1024 * 1024),
    RANGE("max_connections", cp_parse_int, struct cfg_terminals, max_connections, 1, 256),
    RANGE("request_timeout", cp_parse_duration, struct cfg_terminals, request_timeout_ms, SEC,
          MINUTE),
    RANGE("max_clock_skew", cp_parse_duration, struct cfg_terminals, max_clock_skew_ms, SEC, DAY),
};

static const struct keydef terminal_keys[] = {
    ENUM("kind", struct cfg_terminal, kind, term_kind_names, K_REQUIRED),
    ENUM("mode", struct cfg_terminal, mode, term_mode_names, 0),
    TEXT("address", cp_parse_address, struct cfg_terminal, address, .flags = K_REQUIRED),
    TEXT("lane", cp_parse_text, struct cfg_terminal, lane_name, .flags = K_REQUIRED),
    TEXT("user", cp_parse_text, struct cfg_terminal, user, .flags = 0),
    TEXT("password_file", cp_parse_path, struct cfg_terminal, password_file, .flags = 0),
    RANGE("offline_after", cp_parse_duration, struct cfg_terminal, offline_after_ms, 0, DAY),
    TEXT("serial", cp_parse_text, struct cfg_terminal, serial, .flags = 0),
    RANGE("temperature_column", cp_parse_int, struct cfg_terminal, temperature_column, 0, 32),
    RANGE("mask_column", cp_parse_int, struct cfg_terminal, mask_column, 0, 32),
    RANGE("temperature_scale", cp_parse_int, struct cfg_terminal, temperature_scale, 1, 1000),
    ENUM("temperature_unit", struct cfg_terminal, temperature_unit, term_unit_names, 0),
    RANGE("isapi_port", cp_parse_int, struct cfg_terminal, isapi_port, 1, 65535),
};

static const struct keydef bus_keys[] = {
    KEY("tcp", cp_parse_tcp, struct cfg_bus, host, .flags = 0),
    KEY("serial", cp_parse_serial, struct cfg_bus, device, .flags = 0),
    KEY("baud", cp_parse_baud, struct cfg_bus, baud, .flags = K_SERIAL),
    ENUM("parity", struct cfg_bus, parity, parity_names, K_CHAR | K_SERIAL),
    KEY("data_bits", cp_parse_int, struct cfg_bus, data_bits, .min = 5, .max = 8, .flags = K_SERIAL),
    KEY("stop_bits", cp_parse_int, struct cfg_bus, stop_bits, .min = 1, .max = 2, .flags = K_SERIAL),
    RANGE("response_timeout", cp_parse_duration, struct cfg_bus, response_timeout_ms, 10, 10 * SEC),
    RANGE("byte_timeout", cp_parse_duration, struct cfg_bus, byte_timeout_ms, 1, 5 * SEC),
    RANGE("pause", cp_parse_duration, struct cfg_bus, pause_ms, 0, 5 * SEC),
    RANGE("retry_max", cp_parse_duration, struct cfg_bus, retry_max_ms, 100, HOUR),
};

/* The field keys are spelled as in cp_field_keys, which cp_check_profile uses. */
static const struct keydef profile_keys[] = {
    KEY("block", cp_parse_block, struct cfg_profile, blocks, .flags = K_REPEAT),
    KEY("body_temp", cp_parse_field, struct cfg_profile, fields, .aux = CFG_F_BODY_TEMP,
        .flags = K_REQUIRED),
    KEY("ambient_temp", cp_parse_field, struct cfg_profile, fields, .aux = CFG_F_AMBIENT_TEMP),
    KEY("status", cp_parse_field, struct cfg_profile, fields, .aux = CFG_F_STATUS),
    KEY("sequence", cp_parse_field, struct cfg_profile, fields, .aux = CFG_F_SEQUENCE),
    KEY("card_lo", cp_parse_field, struct cfg_profile, fields, .aux = CFG_F_CARD_LO),
    KEY("card_hi", cp_parse_field, struct cfg_profile, fields, .aux = CFG_F_CARD_HI),
    KEY("status_valid", cp_parse_mask, struct cfg_profile, status_valid, .flags = 0),
    KEY("status_fault", cp_parse_mask, struct cfg_profile, status_fault, .flags = 0),
    KEY("status_present", cp_parse_mask, struct cfg_profile, status_present, .flags = 0),
    ENUM("trigger", struct cfg_profile, trigger, trigger_names, 0),
    /* trigger = rise; cp_rise_keys lists them for the check that they are only given then */
    RANGE("presence_min", cp_parse_centi, struct cfg_profile, rise.presence_min_centi, 2000, 4200),
    RANGE("settle_samples", cp_parse_int, struct cfg_profile, rise.settle_samples, 1, 16),
    RANGE("settle_tolerance", cp_parse_centi, struct cfg_profile, rise.settle_tolerance_centi, 0,
          200),
    ENUM("rise_value", struct cfg_profile, rise.peak, rise_value_names, K_BOOL),
    RANGE("dwell", cp_parse_duration, struct cfg_profile, rise.dwell_ms, 100, 10 * SEC),
};
const char *const cp_rise_keys[CP_NRISE_KEYS] = {
    "presence_min", "settle_samples", "settle_tolerance", "rise_value", "dwell",
};

static const struct keydef device_keys[] = {
    KEY("bus", cp_parse_ref, struct cfg_device, bus, .aux = REF_BUS, .flags = K_REQUIRED),
    RANGE("unit", cp_parse_int, struct cfg_device, unit_id, 1, 247),
    KEY("profile", cp_parse_ref, struct cfg_device, profile, .aux = REF_PROFILE),
    RANGE("poll", cp_parse_duration, struct cfg_device, poll_ms, 10, MINUTE),
    RANGE("offset", cp_parse_centi, struct cfg_device, offset_centi, -500, 500),
    KEY("lane", cp_parse_ref, struct cfg_device, lane, .aux = REF_LANE, .flags = K_REQUIRED),
};

#define GPIO_KEY(k, role) KEY(k, cp_parse_gpio, struct cfg_lane, io, .aux = (role))
static const struct keydef lane_keys[] = {
    TEXT("gate", cp_parse_text, struct cfg_lane, gate, .flags = K_REQUIRED),
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

void cp_defaults_general(struct config *cfg)
{
    cfg->daemon = (struct cfg_daemon){.log_level = LOG_LVL_INFO, .stop_timeout_ms = 2 * SEC};
    memcpy(cfg->school.timezone, "Asia/Shanghai", sizeof "Asia/Shanghai");
    cfg->ledger.retention_days = 120;
    cfg->ledger.synchronous_full = true;
    cfg->windows.absence_grace_ms = 30 * MINUTE;
    cfg->windows.absence_kinds = CFG_KIND_STUDENT;
    cfg->windows.school_days = 0x3E; /* mon-fri */
    memcpy(cfg->profiles, cp_builtin_profiles, sizeof cp_builtin_profiles);
    cfg->nprofiles = NBUILTIN;
}

void cp_defaults_screening(struct cfg_screening *s)
{
    *s = (struct cfg_screening){
        .threshold_centi = 3730, .valid_min_centi = 3400, .valid_max_centi = 4300,
        .identity_required = true, .pair_window_ms = 5 * SEC,
        .hold_admit_ms = 2 * SEC, .hold_fever_ms = 10 * SEC, .hold_invalid_ms = 3 * SEC,
        .hold_deny_ms = 5 * SEC, .hold_nurse_ms = 5 * SEC, .hold_no_measurement_ms = 3 * SEC,
        .buzzer_ms = 3 * SEC, .blink_period_ms = 500,
        .cluster_day_cases = 3, .cluster_3day_cases = 5, .observation_refer = true,
    };
}

void cp_defaults_gpio(struct cfg_gpio *g)
{
    struct wiegand_limits w;
    wiegand_default_limits(&w);
    *g = (struct cfg_gpio){
        .lamp_test_ms = 300, .presence_debounce_ms = 50,
        .wiegand_pulse_min_us = w.pulse_min_us, .wiegand_pulse_max_us = w.pulse_max_us,
        .wiegand_interval_min_us = w.interval_min_us, .wiegand_frame_gap_us = w.frame_gap_us,
    };
}

void cp_defaults_network(struct cfg_upstream *u, struct cfg_web *w)
{
    *u = (struct cfg_upstream){
        .day_end = 18 * 60, .connect_timeout_ms = 10 * SEC, .timeout_ms = 30 * SEC,
        .retry_min_ms = 5 * SEC, .retry_max_ms = 10 * MINUTE,
    };
    *w = (struct cfg_web){
        .listen = "127.0.0.1", .port = 8443, .session_idle_ms = 30 * MINUTE,
        .session_max_ms = 12 * HOUR, .max_connections_per_address = 16,
        .request_timeout_ms = 10 * SEC, .streams_per_user = 4, .streams_max = 32,
    };
}

void cp_defaults_terminals(struct cfg_terminals *t)
{
    /* A Hikvision event with its face and thermal pictures is some 100-300 KB. */
    *t = (struct cfg_terminals){.port = 8099, .max_body = 1024 * 1024, .max_connections = 16,
                                .request_timeout_ms = 10 * SEC, .max_clock_skew_ms = 2 * MINUTE};
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
    b->retry_max_ms = 2 * SEC; /* on a gate a unit back is read within about 2 s */
}

/* The trigger is settled in cp_check_profile, once we know about a sequence field. */
static void profile_init(void *obj)
{
    struct cfg_profile *pr = obj;
    pr->trigger = CFG_TRIGGER_SEQUENCE;
    pr->rise = cp_rise_defaults;
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

static void terminal_init(void *obj)
{
    struct cfg_terminal *t = obj;
    t->lane = -1;
    t->mode = CFG_TERM_PUSH;
    t->temperature_column = 9; /* README "ZKTeco ADMS": MaskFlag, Temperature after 7 */
    t->mask_column = 8;
    t->temperature_scale = 1;
    t->isapi_port = 80;
}

/* ---- the calendar and the groups (config_calendar.c) ------------------------------- */

static const struct keydef calendar_keys[] = {
    TEXT("term_start", cp_parse_date, struct cfg_calendar, term_start, .flags = 0),
    TEXT("term_end", cp_parse_date, struct cfg_calendar, term_end, .flags = 0),
    KEY("holidays", cp_parse_day_ranges, struct cfg_calendar, holidays, .flags = 0),
    KEY("workdays", cp_parse_workdays, struct cfg_calendar, workdays, .flags = 0),
};

static const struct keydef grade_keys[] = {
    TEXT("return", cp_parse_date, struct cfg_group, return_day, .flags = 0),
    KEY("slot", cp_parse_slot, struct cfg_group, slot_start, .flags = 0),
};

static const struct keydef class_keys[] = {
    KEY("slot", cp_parse_slot, struct cfg_group, slot_start, .flags = 0),
};

/* ---- sections ---------------------------------------------------------------------- */

#define SINGLE(n, m, kt, req, chk) \
    {.name = (n), KEYS(kt), .required = (req), .off = offsetof(struct config, m), .check = (chk)}
#define NAMED(n, T, arr, cnt, cap, kt, ini, chk)                                             \
    {.name = (n), KEYS(kt), .named = true, .off = offsetof(struct config, arr),             \
     .size = sizeof(T), .count_off = offsetof(struct config, cnt),                           \
     .name_off = offsetof(T, name), .line_off = offsetof(T, line), .max = (cap),             \
     .init = (ini), .check = (chk)}

/* Grades and classes are named as the roster names them (初三, 初三(1)班). */
#define ROSTER_NAMED(n, arr, cnt, kt, chk)                                                  \
    {.name = (n), KEYS(kt), .named = true, .roster_name = true,                             \
     .off = offsetof(struct config, arr), .size = sizeof(struct cfg_group),                 \
     .count_off = offsetof(struct config, cnt), .name_off = offsetof(struct cfg_group, name), \
     .line_off = offsetof(struct cfg_group, line), .max = CFG_MAX_GROUPS,                  \
     .init = cp_group_init, .check = (chk)}

/* Checks run in this order: devices claim their lanes before lanes are checked. */
const struct sectdef cp_sections[S_COUNT] = {
    [S_NONE] = {.name = ""},
    [S_DAEMON] = SINGLE("daemon", daemon, daemon_keys, false, NULL),
    [S_SCHOOL] = SINGLE("school", school, school_keys, true, NULL),
    [S_LEDGER] = SINGLE("ledger", ledger, ledger_keys, true, NULL),
    [S_WINDOWS] = SINGLE("windows", windows, windows_keys, true, cp_check_windows),
    [S_SCREENING] = SINGLE("screening", screening, screening_keys, false, cp_check_screening),
    [S_UPSTREAM] = SINGLE("upstream", upstream, upstream_keys, false, cp_check_upstream),
    [S_WEB] = SINGLE("web", web, web_keys, false, cp_check_web),
    [S_GPIO] = SINGLE("gpio", gpio, gpio_keys_section, false, cp_check_gpio),
    [S_TERMINALS] = SINGLE("terminals", terminals, terminals_keys, false, cp_check_terminals),
    [S_BUS] = NAMED("bus", struct cfg_bus, buses, nbuses, CFG_MAX_BUSES, bus_keys, bus_init,
                    cp_check_bus),
    [S_PROFILE] = NAMED("profile", struct cfg_profile, profiles, nprofiles, CFG_MAX_PROFILES,
                        profile_keys, profile_init, cp_check_profile),
    [S_DEVICE] = NAMED("device", struct cfg_device, devices, ndevices, CFG_MAX_DEVICES,
                       device_keys, device_init, cp_check_device),
    [S_TERMINAL] = NAMED("terminal", struct cfg_terminal, terminal, nterminals,
                         CFG_MAX_TERMINALS, terminal_keys, terminal_init, cp_check_terminal),
    [S_LANE] = NAMED("lane", struct cfg_lane, lanes, nlanes, CFG_MAX_LANES, lane_keys,
                     lane_init, cp_check_lane),
    [S_CALENDAR] = SINGLE("calendar", windows.calendar, calendar_keys, false, cp_check_calendar),
    [S_GRADE] = ROSTER_NAMED("grade", windows.grades, windows.ngrades, grade_keys,
                             cp_check_grade),
    [S_CLASS] = ROSTER_NAMED("class", windows.classes, windows.nclasses, class_keys,
                             cp_check_class),
};
