/* The configuration parser: the shipped configs load, defaults apply, and every kind
 * of mistake gives its exact "FILE:LINE: message", all of them in one run. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_load.h"
#include "log.h"

#define NBUILTIN_TEST 2 /* gatescreen-ir, pyrometer: [profile]s follow */

#define DATA GS_TEST_DATA "/config/"

/* What every in-memory test starts from: 14 lines, valid on its own. */
#define BASE                                                                           \
    "[school]\ncode = T001\nname = 测试学校\n[ledger]\ndatabase = ledger.db\n"         \
    "[windows]\nmorning = 07:00-08:30\n[bus gw]\ntcp = 127.0.0.1:1502\n[lane a]\n"     \
    "gate = 东门\n[device ir-a]\nbus = gw\nlane = a\n"

/* ---- helpers ------------------------------------------------------------------- */

static struct config *load(const char *path, char **errs)
{
    size_t n;
    FILE *f = open_memstream(errs, &n);
    assert_non_null(f);
    struct config *cfg = config_load(path, f);
    fclose(f);
    return cfg;
}

static struct config *parse_len(const char *text, size_t len, char **errs)
{
    size_t n;
    FILE *f = open_memstream(errs, &n);
    assert_non_null(f);
    struct config *cfg = config_parse("mem.conf", text, len, "/srv/gs", f);
    fclose(f);
    return cfg;
}

static struct config *parse(const char *text, char **errs)
{
    return parse_len(text, strlen(text), errs);
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* The message formatted from fmt must appear in errs. */
__attribute__((format(printf, 2, 3)))
static void expect(const char *errs, const char *fmt, ...)
{
    char needle[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(needle, sizeof needle, fmt, ap);
    va_end(ap);
    if (strstr(errs, needle) == NULL)
        fail_msg("expected \"%s\" among:\n%s", needle, errs);
}

/* 1-based number of the first line of text that equals `line`. */
static int line_of(const char *text, const char *line)
{
    size_t n = strlen(line);
    int no = 1;
    for (const char *s = text; *s; no++) {
        if (strncmp(s, line, n) == 0 && (s[n] == '\n' || s[n] == '\0'))
            return no;
        const char *nl = strchr(s, '\n');
        if (nl == NULL)
            break;
        s = nl + 1;
    }
    fail_msg("no line \"%s\"", line);
    return -1;
}

/* Parses text that must fail with exactly `n` problems; the caller frees errs. */
static char *parse_bad(const char *text, int n)
{
    char *errs = NULL;
    struct config *cfg = parse(text, &errs);
    assert_null(cfg);
    if (count_lines(errs) != n)
        fail_msg("expected %d problems, got:\n%s", n, errs);
    return errs;
}

static struct config *parse_ok(const char *text)
{
    char *errs = NULL;
    struct config *cfg = parse(text, &errs);
    if (cfg == NULL)
        fail_msg("expected no problems, got:\n%s", errs);
    assert_string_equal(errs, "");
    free(errs);
    return cfg;
}

/* ---- the shipped configs ------------------------------------------------------- */

static void test_example_loads(void **state)
{
    (void)state;
    char *errs = NULL;
    struct config *cfg = load(GS_SOURCE_DIR "/config/gatescreen.conf", &errs);
    if (cfg == NULL)
        fail_msg("%s", errs);
    assert_string_equal(errs, "");
    assert_string_equal(cfg->school.code, "411002001");
    assert_string_equal(cfg->school.name, "许昌市示范小学");
    assert_true(cfg->upstream.enabled);
    assert_string_equal(cfg->upstream.ca_file, "/etc/gatescreen/bureau-ca.pem");
    assert_true(cfg->web.enabled);
    assert_int_equal(cfg->nbuses, 2);
    assert_false(cfg->buses[1].is_tcp);
    assert_string_equal(cfg->buses[1].device, "/dev/ttyUSB0");
    assert_int_equal(cfg->nprofiles, 3);
    assert_int_equal(cfg->nlanes, 6);
    assert_int_equal(cfg->nterminals, 2);
    assert_int_equal(cfg->terminal[1].kind, CFG_TERM_ZKTECO_ADMS);
    assert_int_equal(cfg->terminal[0].lane, config_find_lane(cfg, "east-3"));
    assert_int_equal(cfg->terminals.port, 8099);
    int l = config_find_lane(cfg, "north-2");
    assert_true(l >= 0);
    assert_int_equal(cfg->lanes[l].identity, CFG_ID_WIEGAND);
    assert_string_equal(cfg->lanes[l].io[CFG_IO_PRESENCE].name, "NORTH2_BEAM");
    assert_true(cfg->lanes[l].io[CFG_IO_PRESENCE].active_low);
    assert_string_equal(cfg->windows.calendar.term_start, "2026-09-01");
    assert_int_equal(cfg->windows.calendar.nholidays, 2);
    assert_int_equal(cfg->windows.ngrades, 3);
    assert_int_equal(cfg->windows.nclasses, 1);
    assert_string_equal(cfg->path, GS_SOURCE_DIR "/config/gatescreen.conf");
    config_free(cfg);
    free(errs);
}

static void test_demo_loads(void **state)
{
    (void)state;
    char *errs = NULL;
    struct config *cfg = load(GS_SOURCE_DIR "/config/demo.conf", &errs);
    if (cfg == NULL)
        fail_msg("%s", errs);
    assert_string_equal(cfg->school.code, "DEMO001");
    assert_string_equal(cfg->ledger.database, GS_SOURCE_DIR "/config/ledger.db");
    assert_int_equal(cfg->windows.morning_start, 7 * 60);
    assert_int_equal(cfg->windows.morning_end, 8 * 60 + 30);
    assert_true(cfg->windows.noon_enabled);
    assert_int_equal(cfg->windows.noon_start, 11 * 60 + 30);
    assert_int_equal(cfg->windows.noon_end, 13 * 60);
    assert_int_equal(cfg->nbuses, 1);
    assert_true(cfg->buses[0].is_tcp);
    assert_string_equal(cfg->buses[0].host, "127.0.0.1");
    assert_int_equal(cfg->buses[0].port, 15020);
    assert_int_equal(cfg->nlanes, 4);
    assert_int_equal(cfg->ndevices, 4);
    static const char *const lanes[] = {"east-1", "east-2", "north-1", "north-2"};
    for (int i = 0; i < 4; i++) {
        int l = config_find_lane(cfg, lanes[i]);
        assert_true(l >= 0);
        assert_string_equal(cfg->lanes[l].gate, i < 2 ? "东门" : "北门");
        assert_int_equal(cfg->lanes[l].identity, CFG_ID_DEVICE);
        assert_int_equal(cfg->lanes[l].indicator, CFG_IND_CONSOLE);
        assert_int_equal(cfg->devices[i].unit_id, i + 1);
        assert_int_equal(cfg->devices[i].bus, 0);
        assert_int_equal(cfg->devices[i].profile, 0); /* gatescreen-ir */
        assert_int_equal(cfg->devices[i].poll_ms, 50);
        assert_int_equal(cfg->devices[i].lane, l);
    }
    assert_false(cfg->upstream.enabled);
    assert_false(cfg->web.enabled);
    config_free(cfg);
    free(errs);
}

/* ---- defaults and exact values ------------------------------------------------- */

static void test_defaults(void **state)
{
    (void)state;
    char *errs = NULL;
    struct config *cfg = load(DATA "good_minimal.conf", &errs);
    if (cfg == NULL)
        fail_msg("%s", errs);
    assert_int_equal(cfg->daemon.log_level, LOG_LVL_INFO);
    assert_int_equal(cfg->daemon.stop_timeout_ms, 2000);
    assert_string_equal(cfg->school.timezone, "Asia/Shanghai");
    assert_int_equal(cfg->ledger.retention_days, 120);
    assert_true(cfg->ledger.synchronous_full);
    assert_false(cfg->windows.noon_enabled);
    assert_int_equal(cfg->windows.absence_grace_ms, 30 * 60000);
    assert_int_equal(cfg->windows.absence_kinds, CFG_KIND_STUDENT);
    assert_int_equal(cfg->windows.school_days, 0x3E); /* mon-fri; bit 0 = Sunday */
    assert_string_equal(cfg->daemon.indicator_log, "");
    const struct cfg_screening *s = &cfg->screening;
    assert_int_equal(s->threshold_centi, 3730);
    assert_int_equal(s->valid_min_centi, 3400);
    assert_int_equal(s->valid_max_centi, 4300);
    assert_true(s->identity_required);
    assert_int_equal(s->pair_window_ms, 5000);
    assert_int_equal(s->hold_admit_ms, 2000);
    assert_int_equal(s->hold_fever_ms, 10000);
    assert_int_equal(s->hold_invalid_ms, 3000);
    assert_int_equal(s->hold_deny_ms, 5000);
    assert_int_equal(s->hold_nurse_ms, 5000);
    assert_int_equal(s->hold_no_measurement_ms, 3000);
    assert_int_equal(s->buzzer_ms, 3000);
    assert_int_equal(s->blink_period_ms, 500);
    assert_int_equal(s->cluster_day_cases, 3);
    assert_int_equal(s->cluster_3day_cases, 5);
    const struct cfg_bus *b = &cfg->buses[0];
    assert_true(b->is_tcp);
    assert_int_equal(b->baud, 9600);
    assert_int_equal(b->parity, 'E');
    assert_int_equal(b->data_bits, 8);
    assert_int_equal(b->stop_bits, 1);
    assert_int_equal(b->response_timeout_ms, 500);
    assert_int_equal(b->byte_timeout_ms, 50);
    assert_int_equal(b->pause_ms, 5);
    assert_int_equal(b->retry_max_ms, 2000);
    const struct cfg_device *d = &cfg->devices[0];
    assert_int_equal(d->unit_id, 1);
    assert_int_equal(d->profile, 0);
    assert_string_equal(cfg->profiles[d->profile].name, "gatescreen-ir");
    assert_int_equal(d->poll_ms, 50);
    assert_int_equal(d->offset_centi, 0);
    assert_int_equal(d->lane, 0);
    const struct cfg_lane *l = &cfg->lanes[0];
    assert_int_equal(l->identity, CFG_ID_DEVICE);
    assert_int_equal(l->indicator, CFG_IND_CONSOLE);
    assert_int_equal(l->enforce, CFG_ENFORCE_SOFT);
    for (int r = 0; r < CFG_IO_COUNT; r++)
        assert_false(l->io[r].present);
    assert_false(cfg->upstream.enabled);
    assert_false(cfg->upstream.identify_names);
    assert_int_equal(cfg->upstream.day_end, 18 * 60);
    assert_int_equal(cfg->upstream.connect_timeout_ms, 10000);
    assert_int_equal(cfg->upstream.timeout_ms, 30000);
    assert_int_equal(cfg->upstream.retry_min_ms, 5000);
    assert_int_equal(cfg->upstream.retry_max_ms, 600000);
    assert_false(cfg->web.enabled);
    assert_string_equal(cfg->web.listen, "127.0.0.1");
    assert_int_equal(cfg->web.port, 8443);
    assert_false(cfg->web.allow_plain_http);
    assert_int_equal(cfg->web.session_idle_ms, 30 * 60000);
    assert_int_equal(cfg->web.session_max_ms, 12 * 3600000);
    assert_int_equal(cfg->web.max_connections_per_address, 16);
    assert_int_equal(cfg->web.request_timeout_ms, 10000);
    assert_int_equal(cfg->web.streams_per_user, 4);
    assert_int_equal(cfg->web.streams_max, 32);
    config_free(cfg);
    free(errs);
}

static void test_relative_paths(void **state)
{
    (void)state;
    char *errs = NULL;
    struct config *cfg = load(DATA "good_minimal.conf", &errs);
    assert_non_null(cfg);
    assert_string_equal(cfg->ledger.database, GS_TEST_DATA "/config/sub/ledger.db");
    assert_string_equal(cfg->path, GS_TEST_DATA "/config/good_minimal.conf");
    config_free(cfg);
    free(errs);

    cfg = parse_ok(BASE "[upstream]\nurl = https://x.example.cn/api\nca_file = ca.pem\n"
                        "secret_file = /etc/gatescreen/secret\n"
                        "[web]\ntls_cert = ./web.crt\ntls_key = keys/web.key\n");
    assert_string_equal(cfg->ledger.database, "/srv/gs/ledger.db");
    assert_string_equal(cfg->upstream.ca_file, "/srv/gs/ca.pem");
    assert_string_equal(cfg->upstream.secret_file, "/etc/gatescreen/secret");
    assert_string_equal(cfg->web.tls_cert, "/srv/gs/./web.crt");
    assert_string_equal(cfg->web.tls_key, "/srv/gs/keys/web.key");
    config_free(cfg);

    /* A config in / gives "/ledger.db", not "//ledger.db". */
    FILE *f = fopen("/dev/null", "w");
    cfg = config_parse("root.conf", BASE, strlen(BASE), "/", f);
    fclose(f);
    assert_non_null(cfg);
    assert_string_equal(cfg->ledger.database, "/ledger.db");
    config_free(cfg);
}

static void test_threshold_exact(void **state)
{
    (void)state;
    static const struct { const char *text; int centi; } ok[] = {
        {"37.29", 3729}, {"37.30", 3730}, {"37.3", 3730}, {"37", 3700}, {"35.00", 3500},
        {"40", 4000},
    };
    char text[512];
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        snprintf(text, sizeof text, BASE "[screening]\nthreshold = %s\n", ok[i].text);
        struct config *cfg = parse_ok(text);
        assert_int_equal(cfg->screening.threshold_centi, ok[i].centi);
        config_free(cfg);
    }
    static const char *const bad[] = {"37.295", "34.99", "40.01", "37,3", "37.3C", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, BASE "[screening]\nthreshold = %s\n", bad[i]);
        char *errs = parse_bad(text, 1);
        expect(errs, "mem.conf:16: [screening] threshold: \"%s\" is not a temperature between "
                     "35.00 and 40.00", bad[i]);
        free(errs);
    }
}

static void test_builtin_profiles(void **state)
{
    (void)state;
    int n = 0;
    const struct cfg_profile *p = config_builtin_profiles(&n);
    assert_int_equal(n, 2);

    const struct cfg_profile *ir = &p[0];
    assert_string_equal(ir->name, "gatescreen-ir");
    assert_int_equal(ir->line, 0);
    assert_int_equal(ir->nblocks, 1);
    assert_int_equal(ir->blocks[0].function, 3);
    assert_int_equal(ir->blocks[0].start, 0);
    assert_int_equal(ir->blocks[0].count, 6);
    static const struct { int addr; enum cfg_field_type type; double scale; } irf[] = {
        {0, CFG_T_INT16, 0.01}, {1, CFG_T_INT16, 0.01}, {2, CFG_T_UINT16, 1},
        {3, CFG_T_UINT16, 1},   {4, CFG_T_UINT16, 1},   {5, CFG_T_UINT16, 1},
    };
    for (int r = 0; r < CFG_F_COUNT; r++) {
        assert_true(ir->fields[r].present);
        assert_int_equal(ir->fields[r].address, irf[r].addr);
        assert_int_equal(ir->fields[r].type, irf[r].type);
        assert_int_equal(ir->fields[r].order, CFG_WO_ABCD);
        assert_true(ir->fields[r].scale == irf[r].scale);
    }
    assert_int_equal(ir->status_valid, 0x0001);
    assert_int_equal(ir->status_fault, 0x0002);
    assert_int_equal(ir->status_present, 0x0004);
    assert_int_equal(ir->trigger, CFG_TRIGGER_SEQUENCE);

    const struct cfg_profile *py = &p[1];
    assert_string_equal(py->name, "pyrometer");
    assert_int_equal(py->line, 0); /* built-ins have no line in the file */
    assert_int_equal(py->trigger, CFG_TRIGGER_RISE);
    assert_true(py->presence_if_line);
    assert_int_equal(py->rise.presence_min_centi, 3000);
    /* Its map (issue 18, the Calex manual) is checked against the README's table:
     * test_readme_lists_builtin_profiles. */

    /* ... and the same, first, in every loaded config. */
    struct config *cfg = parse_ok(BASE);
    assert_true(cfg->nprofiles >= 2);
    assert_memory_equal(&cfg->profiles[0], &p[0], sizeof p[0]);
    assert_memory_equal(&cfg->profiles[1], &p[1], sizeof p[1]);
    config_free(cfg);
}

/* ---- the README's "Built-in profiles" is the code's table ------------------------ */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* The text of "#### `NAME`" up to the next heading, NUL-terminated in place. */
static char *readme_profile(char *readme, const char *name)
{
    char head[64];
    snprintf(head, sizeof head, "\n#### `%s`\n", name);
    char *s = strstr(readme, head);
    assert_non_null(s);
    s += strlen(head);
    char *end = strstr(s, "\n#");
    if (end != NULL)
        *end = '\0';
    return s;
}

static int count_prefixed(const char *text, const char *prefix)
{
    int n = 0;
    for (const char *l = text; l != NULL; l = strchr(l + 1, '\n'))
        n += strncmp(l + (*l == '\n'), prefix, strlen(prefix)) == 0;
    return n;
}

static void expect_line(const char *text, const char *line)
{
    if (strstr(text, line) == NULL)
        fail_msg("README.md, built-in profiles: missing \"%s\"", line);
}

static void check_profile_fields(const char *text, const struct cfg_profile *pr)
{
    static const char *const types[] = {"int16", "uint16", "int32", "uint32", "float32"};
    char line[160];
    int nfields = 0;
    for (int r = 0; r < CFG_F_COUNT; r++) {
        const struct cfg_field *f = &pr->fields[r];
        if (!f->present)
            continue;
        bool temp = r == CFG_F_BODY_TEMP || r == CFG_F_AMBIENT_TEMP;
        snprintf(line, sizeof line, "| 0x%04X | %s | %s | %g%s |", (unsigned)f->address,
                 r == CFG_F_BODY_TEMP ? "body_temp" : r == CFG_F_AMBIENT_TEMP ? "ambient_temp"
                 : r == CFG_F_STATUS ? "status" : r == CFG_F_SEQUENCE ? "sequence"
                 : r == CFG_F_CARD_LO ? "card_lo" : "card_hi",
                 types[f->type], f->scale, temp ? " °C" : "");
        expect_line(text, line);
        nfields++;
    }
    assert_int_equal(count_prefixed(text, "| 0x"), nfields);
}

static void check_profile_bits(const char *text, const struct cfg_profile *pr)
{
    char head[48], role[32];
    int nbits = 0;
    for (int bit = 0; bit < 16; bit++) {
        unsigned m = 1u << bit;
        const char *r = pr->status_valid & m ? "valid" : pr->status_fault & m ? "fault"
                      : pr->status_present & m ? "present" : NULL;
        if (r == NULL)
            continue;
        snprintf(head, sizeof head, "| bit %d (0x%04X) | ", bit, m);
        snprintf(role, sizeof role, " | %s |", r);
        const char *row = strstr(text, head);
        if (row == NULL)
            fail_msg("README.md, profile %s: no row for status %s", pr->name, head);
        const char *eol = strchr(row, '\n');
        size_t len = eol ? (size_t)(eol - row) : strlen(row);
        size_t rl = strlen(role);
        if (len <= rl || strncmp(row + len - rl, role, rl) != 0)
            fail_msg("README.md, profile %s: status %s should end \"%s\"", pr->name, head, role);
        nbits++;
    }
    assert_int_equal(count_prefixed(text, "| bit "), nbits);
}

static void test_readme_lists_builtin_profiles(void **state)
{
    (void)state;
    static const char *const triggers[] = {"sequence", "presence", "rise"};
    int n;
    const struct cfg_profile *p = config_builtin_profiles(&n);
    for (int i = 0; i < n; i++) {
        char *text = readme_profile(slurp(GS_SOURCE_DIR "/README.md"), p[i].name);
        char line[160];
        size_t o = (size_t)snprintf(line, sizeof line, "Blocks: ");
        for (int b = 0; b < p[i].nblocks; b++)
            o += (size_t)snprintf(line + o, sizeof line - o, "%s`%d:0x%04X:%d`", b ? ", " : "",
                                  p[i].blocks[b].function, (unsigned)p[i].blocks[b].start,
                                  p[i].blocks[b].count);
        expect_line(text, line);
        snprintf(line, sizeof line, "Trigger: `%s`", triggers[p[i].trigger]);
        expect_line(text, line);
        check_profile_fields(text, &p[i]);
        check_profile_bits(text, &p[i]);
    }
}

/* ---- terminals (issue 18) ------------------------------------------------------------ */

static void test_terminal_keys(void **state)
{
    (void)state;
    struct config *cfg = parse_ok(BASE "[terminals]\nlisten = 0.0.0.0:8099\n"
                                  "[lane b]\ngate = 北门\nindicator = console\n"
                                  "[terminal east-1-face]\nkind = hikvision-isapi\nmode = push\n"
                                  "address = 192.168.1.64\nlane = b\nuser = admin\n"
                                  "password_file = east-1-face.pw\n"
                                  "[lane c]\ngate = 北门\n[terminal v6]\nkind = hikvision-isapi\n"
                                  "address = fd00::64\nlane = c\n");
    assert_true(cfg->terminals.enabled);
    assert_string_equal(cfg->terminals.listen, "0.0.0.0");
    assert_int_equal(cfg->terminals.port, 8099);
    assert_int_equal(cfg->terminals.max_body, 1024 * 1024);
    assert_int_equal(cfg->terminals.max_connections, 16);
    assert_int_equal(cfg->terminals.request_timeout_ms, 10000);
    assert_int_equal(cfg->nterminals, 2);
    const struct cfg_terminal *t = &cfg->terminal[0];
    assert_int_equal(t->kind, CFG_TERM_HIKVISION_ISAPI);
    assert_int_equal(t->mode, CFG_TERM_PUSH);
    assert_string_equal(t->address, "192.168.1.64");
    assert_int_equal(t->lane, 1);
    assert_string_equal(t->user, "admin");
    assert_string_equal(t->password_file, "/srv/gs/east-1-face.pw");
    assert_string_equal(cfg->terminal[1].address, "fd00::64");
    config_free(cfg);
    cfg = parse_ok(BASE "[terminals]\nlisten = [::1]:9000\n");
    assert_string_equal(cfg->terminals.listen, "::1");
    assert_int_equal(cfg->terminals.port, 9000);
    config_free(cfg);
    /* Stream mode: no listener needed; isapi_port defaults to 80. */
    cfg = parse_ok(BASE "[lane b]\ngate = x\n[terminal s]\nkind = hikvision-isapi\n"
                   "mode = stream\naddress = 10.0.0.7\nlane = b\nuser = admin\n"
                   "password_file = s.pw\nisapi_port = 8080\n[lane c]\ngate = y\n"
                   "[terminal s2]\nkind = hikvision-isapi\nmode = stream\naddress = 10.0.0.8\n"
                   "lane = c\nuser = admin\npassword_file = s.pw\n");
    assert_false(cfg->terminals.enabled);
    assert_int_equal(cfg->terminal[0].mode, CFG_TERM_STREAM);
    assert_int_equal(cfg->terminal[0].isapi_port, 8080);
    assert_int_equal(cfg->terminal[1].isapi_port, 80);
    config_free(cfg);
}

static void test_terminal_errors(void **state)
{
    (void)state;
    char *errs = parse_bad(BASE "[terminals]\nlisten = 0.0.0.0\nmax_body = 10\n"
                           "request_timeout = 2h\n"
                           "[terminal t1]\nkind = zkteco\nmode = pull\naddress = gate-1.lan\n"
                           "lane = nosuchlane\npassword_file = t1.pw\n"
                           "[terminal t2]\nkind = hikvision-isapi\naddress = 10.0.0.9\nlane = a\n"
                           "[lane b]\ngate = x\n[terminal t3]\nkind = hikvision-isapi\n"
                           "address = 10.0.0.9\nlane = b\n"
                           "[terminal t4]\nkind = hikvision-isapi\naddress = 10.0.0.4\nlane = b\n"
                           "[terminal t5]\n", 14);
    expect(errs, "mem.conf:16: [terminals] listen: \"0.0.0.0\" is not ADDR:PORT");
    expect(errs, "mem.conf:17: [terminals] max_body: \"10\" is not a whole number between 4096");
    expect(errs, "mem.conf:18: [terminals] request_timeout: \"2h\" is not a duration");
    expect(errs, "mem.conf:20: [terminal t1] kind: \"zkteco\" is not one of: hikvision-isapi");
    expect(errs, "mem.conf:21: [terminal t1] mode: \"pull\" is not one of: push, stream");
    expect(errs, "mem.conf:22: [terminal t1] address: \"gate-1.lan\" is not an IPv4 or IPv6 "
                 "address");
    expect(errs, "mem.conf:23: [terminal t1] lane: no [lane nosuchlane] in the file");
    expect(errs, "mem.conf:24: [terminal t1] password_file: needs user");
    expect(errs, "mem.conf:28: [terminal t2] lane: lane a is already served by [device ir-a] "
                 "(line 12)");
    expect(errs, "mem.conf:33: [terminal t3] address: 10.0.0.9 is already [terminal t2]'s "
                 "(line 25)");
    expect(errs, "mem.conf:38: [terminal t4] lane: lane b is already served by [terminal t3] "
                 "(line 31)");
    expect(errs, "mem.conf:39: [terminal t5] missing required key \"kind\"");
    expect(errs, "mem.conf:39: [terminal t5] missing required key \"address\"");
    expect(errs, "mem.conf:39: [terminal t5] missing required key \"lane\"");
    free(errs);
    /* A terminal without the listener, and the listener on the nurse page's port. */
    errs = parse_bad(BASE "[web]\nenabled = yes\nport = 8443\n[lane b]\ngate = x\n"
                     "[terminal t]\nkind = hikvision-isapi\naddress = 10.0.0.1\nlane = b\n", 1);
    expect(errs, "mem.conf:20: [terminal t] needs [terminals] listen = ADDR:PORT");
    free(errs);
    errs = parse_bad(BASE "[web]\nenabled = yes\nport = 8443\n[terminals]\n"
                     "listen = 127.0.0.1:8443\n", 1);
    expect(errs, "mem.conf:19: [terminals] listen: port 8443 is the nurse's page's");
    free(errs);
    errs = parse_bad(BASE "[terminals]\nlisten = 127.0.0.1:8099\n[lane b]\ngate = x\n"
                     "[terminal ir-a]\nkind = hikvision-isapi\naddress = 10.0.0.1\nlane = b\n", 1);
    expect(errs, "mem.conf:19: [terminal ir-a]: [device ir-a] (line 12) has that name already");
    free(errs);
    /* Stream mode logs in to the terminal: user and password_file are needed. */
    errs = parse_bad(BASE "[lane b]\ngate = x\n[terminal s]\nkind = hikvision-isapi\n"
                     "mode = stream\naddress = 10.0.0.7\nlane = b\nisapi_port = 0\n", 2);
    expect(errs, "mem.conf:17: [terminal s]: mode = stream needs user and password_file");
    expect(errs, "mem.conf:22: [terminal s] isapi_port: \"0\" is not a whole number between 1 "
                 "and 65535");
    free(errs);
}

/* kind = zkteco-adms (issue 18): its keys, the defaults that depend on the kind, errors. */
static void test_terminal_adms_keys(void **state)
{
    (void)state;
    struct config *cfg = parse_ok(BASE "[terminals]\nlisten = 0.0.0.0:8099\n"
                                  "[lane b]\ngate = x\n[terminal zk]\nkind = zkteco-adms\n"
                                  "address = 10.0.0.5\nserial = CKJK2019-60_01\nlane = b\n"
                                  "[lane c]\ngate = x\n[terminal zk2]\nkind = zkteco-adms\n"
                                  "address = 10.0.0.6\nserial = A1\nlane = c\n"
                                  "temperature_column = 6\nmask_column = 0\n"
                                  "temperature_scale = 10\ntemperature_unit = fahrenheit\n"
                                  "offline_after = 0s\n"
                                  "[lane d]\ngate = x\n[terminal hik]\nkind = hikvision-isapi\n"
                                  "address = 10.0.0.7\nlane = d\n");
    const struct cfg_terminal *t = &cfg->terminal[0];
    assert_int_equal(t->kind, CFG_TERM_ZKTECO_ADMS);
    assert_string_equal(t->serial, "CKJK2019-60_01");
    assert_int_equal(t->temperature_column, 9);
    assert_int_equal(t->mask_column, 8);
    assert_int_equal(t->temperature_scale, 1);
    assert_int_equal(t->temperature_unit, 0);
    assert_int_equal(t->offline_after_ms, 60000);
    t = &cfg->terminal[1];
    assert_int_equal(t->temperature_column, 6);
    assert_int_equal(t->mask_column, 0);
    assert_int_equal(t->temperature_scale, 10);
    assert_int_equal(t->temperature_unit, 1);
    assert_int_equal(t->offline_after_ms, 0);
    assert_int_equal(cfg->terminal[2].offline_after_ms, 0); /* Hikvision push: never */
    config_free(cfg);
    char *errs = parse_bad(BASE "[terminals]\nlisten = 0.0.0.0:8099\n"
                           "[lane b]\ngate = x\n[terminal zk]\nkind = zkteco-adms\n"
                           "address = 10.0.0.5\nlane = b\nuser = u\npassword_file = zk.pw\n"
                           "temperature_column = 8\ntemperature_scale = 0\n"
                           "[lane c]\ngate = x\n[terminal hik]\nkind = hikvision-isapi\n"
                           "address = 10.0.0.7\nlane = c\nserial = X1\nmask_column = 3\n"
                           "[lane d]\ngate = x\n[terminal zk3]\nkind = zkteco-adms\n"
                           "address = 10.0.0.8\nlane = d\nserial = bad/sn\n", 7);
    expect(errs, "mem.conf:19: [terminal zk] (kind = zkteco-adms) needs serial = the SN");
    expect(errs, "mem.conf:24: [terminal zk] password_file: ZKTeco ADMS terminals send no HTTP "
                 "credentials");
    expect(errs, "mem.conf:26: [terminal zk] temperature_scale: \"0\" is not a whole number");
    expect(errs, "mem.conf:25: [terminal zk] temperature_column: temperature_column and "
                 "mask_column are both 8 (mask_column's default is 8; 0: none)");
    expect(errs, "mem.conf:33: [terminal hik] serial: is for kind = zkteco-adms only");
    expect(errs, "mem.conf:34: [terminal hik] mask_column: is for kind = zkteco-adms only");
    expect(errs, "mem.conf:37: [terminal zk3] (kind = zkteco-adms) needs serial");
    free(errs);
    /* Stream mode and the ISAPI port are Hikvision's (a merge of both kinds found them
     * accepted for ADMS). */
    errs = parse_bad(BASE "[lane b]\ngate = x\n[terminal zk]\nkind = zkteco-adms\n"
                     "mode = stream\naddress = 10.0.0.5\nlane = b\nserial = CK1\n"
                     "isapi_port = 8080\nuser = u\n", 2);
    expect(errs, "[terminal zk] mode: stream is for kind = hikvision-isapi only");
    expect(errs, "[terminal zk] isapi_port: is for kind = hikvision-isapi only");
    free(errs);
}

/* ---- custom profiles -------------------------------------------------------------- */

/* trigger = rise (issue 18): its keys, their defaults, their errors. */
static void test_rise_keys(void **state)
{
    (void)state;
    struct config *cfg = parse_ok(BASE "[profile py]\nblock = 3:0x0F:7\n"
                                  "body_temp = 0x13 int16 0.1\ntrigger = rise\n"
                                  "presence_min = 32.5\nsettle_samples = 4\n"
                                  "settle_tolerance = 0.3\nrise_value = peak\ndwell = 1500ms\n"
                                  "[profile py2]\nblock = 3:0:1\nbody_temp = 0 int16\n"
                                  "trigger = rise\n"
                                  "[lane b]\ngate = 北门\nidentity = none\n[device py-b]\n"
                                  "bus = gw\nunit = 2\nprofile = pyrometer\nlane = b\n");
    const struct cfg_profile *py = &cfg->profiles[NBUILTIN_TEST];
    assert_int_equal(py->trigger, CFG_TRIGGER_RISE);
    assert_false(py->presence_if_line); /* a [profile]'s rise is what it says */
    assert_int_equal(py->rise.presence_min_centi, 3250);
    assert_int_equal(py->rise.settle_samples, 4);
    assert_int_equal(py->rise.settle_tolerance_centi, 30);
    assert_true(py->rise.peak);
    assert_int_equal(py->rise.dwell_ms, 1500);
    const struct cfg_rise *d = &cfg->profiles[NBUILTIN_TEST + 1].rise; /* the defaults */
    assert_int_equal(d->presence_min_centi, 3000);
    assert_int_equal(d->settle_samples, 3);
    assert_int_equal(d->settle_tolerance_centi, 20);
    assert_false(d->peak);
    assert_int_equal(d->dwell_ms, 2000);
    config_free(cfg); /* the pyrometer on a lane with no presence line: no complaint */

    char *errs = parse_bad(BASE "[profile p]\nblock = 3:0:4\nbody_temp = 0 int16\n"
                           "sequence = 1 uint16\npresence_min = 31\ndwell = 1s\n"
                           "[profile q]\nblock = 3:0:4\nbody_temp = 0 int16\ntrigger = rise\n"
                           "presence_min = 50\nsettle_samples = 0\nsettle_tolerance = 3\n"
                           "rise_value = max\ndwell = 20s\n", 7);
    expect(errs, "mem.conf:19: [profile p] presence_min: only applies to trigger = rise");
    expect(errs, "mem.conf:20: [profile p] dwell: only applies to trigger = rise");
    expect(errs, "mem.conf:25: [profile q] presence_min: \"50\" is not a temperature between "
                 "20.00 and 42.00");
    expect(errs, "mem.conf:26: [profile q] settle_samples: \"0\" is not a whole number between "
                 "1 and 16");
    expect(errs, "mem.conf:27: [profile q] settle_tolerance: \"3\" is not a temperature between "
                 "0.00 and 2.00");
    expect(errs, "mem.conf:28: [profile q] rise_value: \"max\" is not one of: settled, peak");
    expect(errs, "mem.conf:29: [profile q] dwell: \"20s\" is not a duration between 100ms and "
                 "10s");
    free(errs);
}


static void test_profiles_parse(void **state)
{
    (void)state;
    char *errs = NULL;
    struct config *cfg = load(DATA "good_profiles.conf", &errs);
    if (cfg == NULL)
        fail_msg("%s", errs);
    assert_int_equal(cfg->nprofiles, 5);
    const struct cfg_profile *f = &cfg->profiles[2];
    assert_string_equal(f->name, "f32");
    assert_int_equal(f->line, 11);
    assert_int_equal(f->nblocks, 2);
    assert_int_equal(f->blocks[0].function, 4);
    assert_int_equal(f->blocks[0].start, 0x100);
    assert_int_equal(f->blocks[0].count, 8);
    assert_int_equal(f->blocks[1].function, 3);
    const struct cfg_field *body = &f->fields[CFG_F_BODY_TEMP];
    assert_int_equal(body->address, 0x100);
    assert_int_equal(body->type, CFG_T_FLOAT32);
    assert_int_equal(body->order, CFG_WO_CDAB);
    assert_true(body->scale == 1);
    assert_int_equal(f->fields[CFG_F_AMBIENT_TEMP].order, CFG_WO_DCBA);
    assert_int_equal(f->fields[CFG_F_CARD_LO].type, CFG_T_UINT32);
    assert_int_equal(f->fields[CFG_F_CARD_LO].order, CFG_WO_BADC);
    assert_false(f->fields[CFG_F_CARD_HI].present);
    assert_int_equal(f->status_valid, 1);
    assert_int_equal(f->status_fault, 2);
    assert_int_equal(f->status_present, 0x8000);
    assert_int_equal(f->trigger, CFG_TRIGGER_SEQUENCE);

    const struct cfg_profile *i32 = &cfg->profiles[3];
    assert_int_equal(i32->fields[CFG_F_BODY_TEMP].type, CFG_T_INT32);
    assert_int_equal(i32->fields[CFG_F_BODY_TEMP].order, CFG_WO_ABCD);
    assert_true(i32->fields[CFG_F_BODY_TEMP].scale == 0.001);
    assert_int_equal(i32->fields[CFG_F_AMBIENT_TEMP].type, CFG_T_UINT32);
    assert_true(i32->fields[CFG_F_AMBIENT_TEMP].scale == -0.5);
    assert_int_equal(i32->trigger, CFG_TRIGGER_PRESENCE); /* no sequence field */

    const struct cfg_profile *i16 = &cfg->profiles[4];
    assert_int_equal(i16->fields[CFG_F_BODY_TEMP].type, CFG_T_INT16);
    assert_true(i16->fields[CFG_F_BODY_TEMP].scale == 0.1);

    assert_string_equal(cfg->buses[0].host, "::1"); /* [::1]:1502 */
    assert_int_equal(cfg->buses[0].port, 1502);
    assert_int_equal(cfg->devices[0].profile, 2);
    assert_int_equal(cfg->devices[1].profile, 3);
    assert_int_equal(cfg->devices[2].profile, 4);
    config_free(cfg);
    free(errs);
}

static void test_profile_errors(void **state)
{
    (void)state;
    char *errs = NULL;
    assert_null(load(DATA "bad_profiles.conf", &errs));
    const char *f = "bad_profiles.conf";
    expect(errs, "%s:10: [profile p1] body_temp: registers 3..4 are not inside one block", f);
    expect(errs, "%s:11: [profile p1] ambient_temp: word order CDAB needs a 32-bit type", f);
    expect(errs, "%s:12: [profile p1] status_present: needs a status field", f);
    expect(errs, "%s:13: [profile p1] trigger: sequence needs a sequence field", f);
    expect(errs, "%s:14: [profile p2] missing required key \"body_temp\"", f);
    expect(errs, "%s:15: [profile p2] block: \"5:0:4\" is not FUNCTION:START:COUNT", f);
    expect(errs, "%s:16: [profile p2] block: \"3:0:126\" is not FUNCTION:START:COUNT", f);
    expect(errs, "%s:17: [profile p2] block: \"3:65535:2\" is not FUNCTION:START:COUNT", f);
    expect(errs, "%s:28: [profile p3] block: more than 8 blocks", f);
    expect(errs, "%s:29: [profile p3] body_temp: \"real\" is not a type", f);
    expect(errs, "%s:30: [profile p3] card_hi: register address \"99999\" is not between 0 "
                 "and 65535", f);
    expect(errs, "%s:31: [profile p3] sequence: \"0\" is not a word order (ABCD, CDAB, BADC, "
                 "DCBA) or a non-zero scale", f);
    expect(errs, "%s:32: [profile p3] status: \"2\" is not ADDRESS TYPE [ORDER] [SCALE]", f);
    expect(errs, "%s:33: [profile p3] card_lo: \"4 uint16 ABCD 1 extra\" is not ADDRESS TYPE",
           f);
    assert_int_equal(count_lines(errs), 14);
    free(errs);
}

/* ---- every kind of mistake --------------------------------------------------------- */

static void test_value_errors(void **state)
{
    (void)state;
    char *errs = NULL;
    assert_null(load(DATA "bad_values.conf", &errs));
    const char *f = "bad_values.conf";
    expect(errs, "%s:2: [daemon] log_level: \"loud\" is not one of: error, warning, notice, "
                 "info, debug", f);
    expect(errs, "%s:3: [daemon] stop_timeout: \"1min\" is not a duration between 100ms and "
                 "30s", f);
    expect(errs, "%s:5: [school] code: \"411 002\" is not a code of letters, digits", f);
    expect(errs, "%s:7: [school] timezone: \"Asia/Nowhere\" is not a time zone known to this "
                 "system", f);
    expect(errs, "%s:10: [ledger] retention_days: \"0\" is not a whole number between 1 and "
                 "3650", f);
    expect(errs, "%s:11: [ledger] synchronous: \"always\" is not one of: full, normal", f);
    expect(errs, "%s:13: [windows] morning: \"08:30-07:00\" is not a time span", f);
    expect(errs, "%s:14: [windows] noon: \"11:30\" is not off or a time span", f);
    expect(errs, "%s:15: [windows] absence_grace: \"7h\" is not a duration between 0ms and 6h",
           f);
    expect(errs, "%s:16: [windows] absence_kinds: \"student, parent\" is not a comma-separated "
                 "list of student, teacher, staff", f);
    expect(errs, "%s:18: [screening] threshold: \"37.3x\" is not a temperature between 35.00 "
                 "and 40.00", f);
    expect(errs, "%s:19: [screening] valid_min: \"24.99\" is not a temperature between 25.00 "
                 "and 45.00", f);
    expect(errs, "%s:20: [screening] identity_required: \"maybe\" is not yes or no", f);
    expect(errs, "%s:21: [screening] hold_admit: \"2\" is not a duration between 100ms and "
                 "10min", f);
    expect(errs, "%s:22: [screening] buzzer: \"2min\" is not a duration between 0ms and 1min",
           f);
    expect(errs, "%s:23: [screening] cluster_day_cases: \"101\" is not a whole number between 1 "
                 "and 100", f);
    expect(errs, "%s:25: [bus gw] tcp: \"127.0.0.1:70000\" is not HOST:PORT with a port "
                 "between 1 and 65535", f);
    expect(errs, "%s:26: [bus gw] response_timeout: \"5ms\" is not a duration between 10ms and "
                 "10s", f);
    expect(errs, "%s:28: [bus rtu] serial: \"ttyUSB0\" is not an absolute device path", f);
    expect(errs, "%s:29: [bus rtu] baud: \"9601\" is not one of: 1200, 2400, 4800, 9600, "
                 "19200, 38400, 57600, 115200", f);
    expect(errs, "%s:30: [bus rtu] parity: \"X\" is not one of: N, E, O", f);
    expect(errs, "%s:31: [bus rtu] data_bits: \"9\" is not a whole number between 5 and 8", f);
    expect(errs,
           "%s:34: [lane a] green: \"gpiochip0:512\" is not gpiochipN:OFFSET (offset 0..511)", f);
    expect(errs, "%s:35: [lane a] red: \"bad name\" is not gpiochipN:OFFSET", f);
    expect(errs, "%s:38: [device ir-a] unit: \"248\" is not a whole number between 1 and 247",
           f);
    expect(errs, "%s:39: [device ir-a] offset: \"5.01\" is not a temperature between -5.00 and "
                 "5.00", f);
    expect(errs, "%s:40: [device ir-a] poll: \"5ms\" is not a duration between 10ms and 1min",
           f);
    expect(errs, "%s:43: [web] listen: \"localhost\" is not an IPv4 or IPv6 address", f);
    expect(errs, "%s:44: [web] port: \"0\" is not a whole number between 1 and 65535", f);
    /* All of them, each once, and nothing else. */
    assert_int_equal(count_lines(errs), 29);
    free(errs);
}

static void test_structure_errors(void **state)
{
    (void)state;
    char *errs = NULL;
    assert_null(load(DATA "bad_structure.conf", &errs));
    const char *f = "bad_structure.conf";
    expect(errs, "%s:1: key \"stray\" before any [section]", f);
    expect(errs, "%s:4: [school] code: duplicate key (first on line 3)", f);
    expect(errs, "%s:6: [school] \"colour\": unknown key", f);
    expect(errs, "%s:7: [ledger] missing required key \"database\"", f);
    expect(errs, "%s:8: syntax error (expected [section] or key = value)", f);
    expect(errs, "%s:9: syntax error (no ] at the end of the section header)", f);
    expect(errs, "%s:12: unknown section [classroom]", f);
    expect(errs, "%s:14: duplicate section [school] (first on line 2)", f);
    expect(errs, "%s:16: [bus] needs a name: [bus NAME]", f);
    expect(errs, "%s:18: [bus NAME]: name \"a/b\" may only have letters, digits", f);
    expect(errs, "%s:19: [lane NAME]: name \"东门\" may only have letters, digits", f);
    expect(errs, "%s:20: [profile gatescreen-ir]: that is the name of a built-in profile", f);
    expect(errs, "%s:21: syntax error (text after the ] of a section header)", f);
    expect(errs, "%s:22: syntax error (no key name before the '=')", f);
    expect(errs, "%s:23: [device d1] missing required key \"bus\"", f);
    expect(errs, "%s:23: [device d1] missing required key \"lane\"", f);
    /* Keys of rejected sections (lines 13, 15, 17) are not reported again. */
    assert_int_equal(count_lines(errs), 16);
    free(errs);
}

static void test_reference_errors(void **state)
{
    (void)state;
    char *errs = NULL;
    assert_null(load(DATA "bad_refs.conf", &errs));
    const char *f = "bad_refs.conf";
    expect(errs, "%s:14: lane lonely has no [device] serving it", f);
    expect(errs, "%s:21: [device d2] bus: no [bus nosuchbus] in this file", f);
    expect(errs, "%s:25: [device d3] unit: unit 1 on [bus gw] is already used by [device d1] "
                 "(line 16)", f);
    expect(errs, "%s:26: [device d3] lane: lane b is already served by [device d2] (line 20)",
           f);
    expect(errs, "%s:30: [device d4] profile: no [profile nosuchprofile] in this file and no "
                 "built-in profile of that name", f);
    expect(errs, "%s:31: [device d4] lane: no [lane nosuchlane] in this file", f);
    expect(errs, "%s:35: [device d5] lane: lane a is already served by [device d1]", f);
    assert_int_equal(count_lines(errs), 7);
    free(errs);
}

static void test_network_errors(void **state)
{
    (void)state;
    char *errs = NULL;
    assert_null(load(DATA "bad_network.conf", &errs));
    const char *f = "bad_network.conf";
    expect(errs, "%s:8: [windows] noon: starts at 08:00, before the morning window ends (08:30)",
           f);
    expect(errs, "%s:11: [screening] needs valid_min < threshold < valid_max (here 37.50, "
                 "37.50, 43.00)", f);
    expect(errs, "%s:13: [upstream] url: \"http://bureau.example.cn/api\": TLS is required, use "
                 "an https:// URL", f);
    expect(errs, "%s:14: [upstream] client_cert: needs client_key too", f);
    expect(errs, "%s:16: [upstream] retry_max: retry_max 5min is shorter than retry_min 10min",
           f);
    expect(errs, "%s:19: [web] listen: 0.0.0.0 is not a loopback address, so health data would "
                 "cross the network in plain HTTP", f);
    expect(errs, "%s:20: [web] tls_key: needs tls_cert too", f);
    expect(errs, "%s:22: [web] session_max: session_max 1h is shorter than session_idle 2h", f);
    expect(errs, "%s:24: [web] streams_max: streams_max 4 is less than streams_per_user 8", f);
    expect(errs, "%s:25: [web] max_connections_per_address: ", f);
    assert_int_equal(count_lines(errs), 10);
    free(errs);

    assert_null(load(DATA "bad_upstream.conf", &errs));
    f = "bad_upstream.conf";
    expect(errs, "%s:8: [upstream] missing required key \"ca_file\" (needed when url is set)",
           f);
    expect(errs, "%s:8: [upstream] missing required key \"secret_file\"", f);
    expect(errs, "%s:10: [upstream] identify: \"everything\" is not one of: pseudonym, names",
           f);
    expect(errs, "%s:11: [upstream] day_end: \"25:00\" is not a time of day HH:MM", f);
    expect(errs, "%s:14: [web] listen: 192.168.1.10 is not a loopback address", f);
    assert_int_equal(count_lines(errs), 5);
    free(errs);
}

static void test_plain_http(void **state)
{
    (void)state;
    /* Loopback (v4, v6, v4-mapped), TLS, or an explicit yes: all accepted. */
    static const char *const ok[] = {
        "[web]\nenabled = yes\n",
        "[web]\nenabled = yes\nlisten = 127.0.0.2\n",
        "[web]\nenabled = yes\nlisten = ::1\n",
        "[web]\nenabled = yes\nlisten = ::ffff:127.0.0.1\n",
        "[web]\nenabled = yes\nlisten = 0.0.0.0\ntls_cert = a.crt\ntls_key = a.key\n",
        "[web]\nenabled = yes\nlisten = ::\nallow_plain_http = yes\n",
        "[web]\nenabled = no\nlisten = 0.0.0.0\n",
    };
    char text[1024];
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        snprintf(text, sizeof text, "%s%s", BASE, ok[i]);
        config_free(parse_ok(text));
    }
    char *errs = parse_bad(BASE "[web]\nenabled = yes\nlisten = ::\n", 1);
    expect(errs, "mem.conf:17: [web] listen: :: is not a loopback address");
    free(errs);
}

static void test_upstream_url(void **state)
{
    (void)state;
    struct config *cfg = parse_ok(BASE "[upstream]\nurl = https://jyj.example.cn/v1\n"
                                       "ca_file = ca.pem\nsecret_file = k\nidentify = names\n");
    assert_true(cfg->upstream.enabled);
    assert_string_equal(cfg->upstream.url, "https://jyj.example.cn/v1");
    assert_true(cfg->upstream.identify_names);
    config_free(cfg);

    char *errs = parse_bad(BASE "[upstream]\nurl = http://jyj.example.cn/v1\n", 1);
    expect(errs, "mem.conf:16: [upstream] url: \"http://jyj.example.cn/v1\": TLS is required");
    free(errs);
    errs = parse_bad(BASE "[upstream]\nurl = ftp://x\n", 1);
    expect(errs, "mem.conf:16: [upstream] url: \"ftp://x\" is not an https:// URL");
    free(errs);
    errs = parse_bad(BASE "[upstream]\nurl = https://\n", 1);
    expect(errs, "mem.conf:16: [upstream] url: \"https://\" is not an https:// URL");
    free(errs);
    /* Without url the other keys are optional and nothing is sent. */
    cfg = parse_ok(BASE "[upstream]\nday_end = 17:30\n");
    assert_false(cfg->upstream.enabled);
    assert_int_equal(cfg->upstream.day_end, 17 * 60 + 30);
    config_free(cfg);
}

static void test_lane_rules(void **state)
{
    (void)state;
    char *errs = NULL;
    assert_null(load(DATA "bad_lanes.conf", &errs));
    const char *f = "bad_lanes.conf";
    expect(errs, "%s:10: [bus gw] baud: only for a serial bus (this one is tcp)", f);
    expect(errs, "%s:13: [bus both] serial: a bus is either tcp or serial, not both", f);
    expect(errs, "%s:14: [bus neither] needs tcp = HOST:PORT or serial = /dev/DEVICE", f);
    expect(errs, "%s:18: [lane a] identity: wiegand needs wiegand_d0 and wiegand_d1 lines", f);
    expect(errs, "%s:19: [lane a] indicator: gpio needs green, amber and red lines (missing: "
                 "red)", f);
    expect(errs, "%s:20: [lane a] enforce: hard needs a relay line", f);
    expect(errs, "%s:25: [lane b] identity: device, but profile pyrometer of [device d2] reads "
                 "no card", f);
    expect(errs, "%s:26: [lane b] red: this line is already used by [lane a] green (line 21)",
           f);
    assert_int_equal(count_lines(errs), 8);
    free(errs);

    struct config *cfg = parse_ok(
        BASE "[lane b]\ngate = 北门\nidentity = wiegand\nindicator = gpio\nenforce = hard\n"
             "green = gpiochip0:17\namber = gpiochip0:27 active-low\nred = LED_RED\n"
             "relay = gpiochip1:0\nwiegand_d0 = gpiochip2:4\nwiegand_d1 = gpiochip2:5\n"
             "presence = BEAM_B  active-low\n"
             "[device py-b]\nbus = gw\nunit = 2\nprofile = pyrometer\nlane = b\n");
    const struct cfg_lane *l = &cfg->lanes[config_find_lane(cfg, "b")];
    assert_int_equal(l->identity, CFG_ID_WIEGAND);
    assert_int_equal(l->indicator, CFG_IND_GPIO);
    assert_int_equal(l->enforce, CFG_ENFORCE_HARD);
    assert_string_equal(l->io[CFG_IO_GREEN].chip, "gpiochip0");
    assert_int_equal(l->io[CFG_IO_GREEN].offset, 17);
    assert_string_equal(l->io[CFG_IO_GREEN].name, "");
    assert_false(l->io[CFG_IO_GREEN].active_low);
    assert_true(l->io[CFG_IO_AMBER].active_low);
    assert_string_equal(l->io[CFG_IO_RED].name, "LED_RED");
    assert_string_equal(l->io[CFG_IO_RED].chip, "");
    assert_int_equal(l->io[CFG_IO_RED].offset, -1);
    assert_string_equal(l->io[CFG_IO_PRESENCE].name, "BEAM_B");
    assert_true(l->io[CFG_IO_PRESENCE].active_low);
    assert_false(l->io[CFG_IO_BUZZER].present);
    assert_int_equal(config_find_device(cfg, "py-b"), 1);
    assert_int_equal(config_find_device(cfg, "nope"), -1);
    assert_int_equal(config_find_lane(cfg, "nope"), -1);
    config_free(cfg);
}

static void test_bus_kinds(void **state)
{
    (void)state;
    struct config *cfg = parse_ok(BASE "[bus rtu]\nserial = /tmp/gs-rtu/ttyA\nbaud = 19200\n"
                                       "parity = N\nstop_bits = 2\nretry_max = 5s\n"
                                       "[bus v6]\ntcp = [fd00::5]:502\n"
                                       "[bus named]\ntcp = gw-east.school.lan:1502\n");
    assert_false(cfg->buses[1].is_tcp);
    assert_string_equal(cfg->buses[1].device, "/tmp/gs-rtu/ttyA");
    assert_int_equal(cfg->buses[1].baud, 19200);
    assert_int_equal(cfg->buses[1].parity, 'N');
    assert_int_equal(cfg->buses[1].stop_bits, 2);
    assert_int_equal(cfg->buses[1].retry_max_ms, 5000);
    assert_string_equal(cfg->buses[2].host, "fd00::5");
    assert_string_equal(cfg->buses[3].host, "gw-east.school.lan");
    assert_int_equal(cfg->buses[3].port, 1502);
    config_free(cfg);

    static const char *const bad[] = {"fd00::5:502", ":502", "[fd00::zz]:502", "host",
                                      "host:", "a b:502"};
    char text[512];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, BASE "[bus x]\ntcp = %s\n", bad[i]);
        char *errs = parse_bad(text, 1);
        expect(errs, "mem.conf:16: [bus x] tcp: \"%s\" is not HOST:PORT", bad[i]);
        free(errs);
    }
}

static void test_missing_sections(void **state)
{
    (void)state;
    char *errs = parse_bad("", 3);
    expect(errs, "mem.conf:1: missing [school] section");
    expect(errs, "mem.conf:1: missing [ledger] section");
    expect(errs, "mem.conf:1: missing [windows] section");
    free(errs);

    errs = parse_bad("[school]\n[ledger]\n[windows]\n", 4);
    expect(errs, "mem.conf:1: [school] missing required key \"code\"");
    expect(errs, "mem.conf:1: [school] missing required key \"name\"");
    expect(errs, "mem.conf:2: [ledger] missing required key \"database\"");
    expect(errs, "mem.conf:3: [windows] missing required key \"morning\"");
    free(errs);

    errs = parse_bad(BASE "[lane b]\n[device d]\n", 4);
    expect(errs, "mem.conf:15: [lane b] missing required key \"gate\"");
    expect(errs, "mem.conf:15: lane b has no [device] serving it");
    expect(errs, "mem.conf:16: [device d] missing required key \"bus\"");
    expect(errs, "mem.conf:16: [device d] missing required key \"lane\"");
    free(errs);
}

static void test_unknown_section_and_key(void **state)
{
    (void)state;
    const char *text = BASE "[screening]\nthreshhold = 37.5\n[gates]\nnorth = 1\nsouth = 2\n"
                            "[school]\n";
    char *errs = parse_bad(text, 3);
    expect(errs, "mem.conf:%d: [screening] \"threshhold\": unknown key",
           line_of(text, "threshhold = 37.5"));
    expect(errs, "mem.conf:%d: unknown section [gates]", line_of(text, "[gates]"));
    expect(errs, "mem.conf:%d: duplicate section [school] (first on line 1)", 20);
    free(errs);
}


/* ---- the term calendar and the groups (issue 19) --------------------------------- */

static void test_calendar_keys(void **state)
{
    (void)state;
    struct config *cfg = parse_ok(BASE "[calendar]\nterm_start = 2026-09-01\n"
                                  "term_end = 2027-01-20\n"
                                  "holidays = 2026-10-01..2026-10-07, 2027-01-01\n"
                                  "workdays = 2026-10-10, 2026-09-27\n"
                                  "[grade 初三]\nslot = 07:10-07:25\n"
                                  "[grade 初二]\nreturn = 2026-09-07\nslot = 07:25-07:40\n"
                                  "[class 初一(1)班]\nslot = 07:40-07:55\n");
    const struct cfg_calendar *c = &cfg->windows.calendar;
    assert_string_equal(c->term_start, "2026-09-01");
    assert_string_equal(c->term_end, "2027-01-20");
    assert_int_equal(c->nholidays, 2);
    assert_string_equal(c->holidays[0].from, "2026-10-01");
    assert_string_equal(c->holidays[0].to, "2026-10-07");
    assert_string_equal(c->holidays[1].from, "2027-01-01");
    assert_string_equal(c->holidays[1].to, "2027-01-01");
    assert_int_equal(c->nworkdays, 2);
    assert_string_equal(c->workdays[1], "2026-09-27");
    assert_int_equal(cfg->windows.ngrades, 2);
    assert_string_equal(cfg->windows.grades[0].name, "初三");
    assert_true(cfg->windows.grades[0].has_slot);
    assert_int_equal(cfg->windows.grades[0].slot_start, 7 * 60 + 10);
    assert_string_equal(cfg->windows.grades[0].return_day, "");
    assert_string_equal(cfg->windows.grades[1].return_day, "2026-09-07");
    assert_int_equal(cfg->windows.nclasses, 1);
    assert_string_equal(cfg->windows.classes[0].name, "初一(1)班");
    assert_int_equal(cfg->windows.classes[0].slot_end, 7 * 60 + 55);
    config_free(cfg);
    /* None of it: no calendar, no groups. */
    cfg = parse_ok(BASE);
    assert_int_equal(cfg->windows.calendar.nholidays, 0);
    assert_string_equal(cfg->windows.calendar.term_start, "");
    assert_int_equal(cfg->windows.ngrades, 0);
    config_free(cfg);
}

static void test_calendar_errors(void **state)
{
    (void)state;
    const char *text = BASE "[calendar]\nterm_start = 2026-09-31\nterm_end = 2026-08-01\n"
                            "holidays = 2026-10-07..2026-10-01\nworkdays = 2026-10-12\n"
                            "[grade 初 三]\n[grade 初二]\nslot = 06:50-07:05\nreturn = soon\n"
                            "[class 初一]\nslot = 07:40\n";
    char *errs = parse_bad(text, 7);
    expect(errs, "mem.conf:%d: [calendar] term_start: \"2026-09-31\" is not a date YYYY-MM-DD",
           line_of(text, "term_start = 2026-09-31"));
    expect(errs, "mem.conf:%d: [calendar] holidays: 2026-10-07..2026-10-01 ends before it "
                 "begins", line_of(text, "holidays = 2026-10-07..2026-10-01"));
    expect(errs, "mem.conf:%d: [calendar] workdays: 2026-10-12 is a school day already by "
                 "[windows] days", line_of(text, "workdays = 2026-10-12"));
    expect(errs, "mem.conf:%d: [grade NAME]: name \"初 三\" may not have blanks",
           line_of(text, "[grade 初 三]"));
    expect(errs, "mem.conf:%d: [grade 初二] slot: 06:50-07:05 is not within the morning window "
                 "[windows] morning 07:00-08:30", line_of(text, "slot = 06:50-07:05"));
    expect(errs, "mem.conf:%d: [grade 初二] return: \"soon\" is not a date YYYY-MM-DD",
           line_of(text, "return = soon"));
    expect(errs, "mem.conf:%d: [class 初一] slot: \"07:40\" is not a time span",
           line_of(text, "slot = 07:40"));
    free(errs);
    errs = parse_bad(BASE "[calendar]\nterm_start = 2026-09-01\nterm_end = 2026-08-01\n"
                          "holidays = 2026-10-01, 2026-10-0x\nworkdays = 2026-10-01\n", 3);
    expect(errs, "[calendar] term_end: 2026-08-01 is before term_start 2026-09-01");
    expect(errs, "[calendar] holidays: \"2026-10-0x\" is not a date YYYY-MM-DD or a range "
                 "FROM..TO");
    expect(errs, "[calendar] workdays: 2026-10-01 is a school day already");
    free(errs);
}

/* Every problem of a file in one run, in line order. */
static void test_many_errors_sorted(void **state)
{
    (void)state;
    const char *text = "[school]\ncode = T 1\nname = \n[ledger]\ndatabase = ledger.db\n"
                       "[windows]\nmorning = 7:00-8:30\n[screening]\nthreshold = 37.3x\n"
                       "hold_admit = 2\n[device ir-2]\nbus = nosuchbus\nlane = nolane\n";
    char *errs = parse_bad(text, 7);
    int last = 0;
    for (const char *s = errs; *s; s = strchr(s, '\n') + 1) {
        int line = (int)strtol(s + strlen("mem.conf:"), NULL, 10);
        assert_true(line >= last);
        last = line;
    }
    expect(errs, "mem.conf:2: [school] code:");
    expect(errs, "mem.conf:3: [school] name: \"\" is empty");
    expect(errs, "mem.conf:7: [windows] morning:");
    expect(errs, "mem.conf:9: [screening] threshold:");
    expect(errs, "mem.conf:10: [screening] hold_admit:");
    expect(errs, "mem.conf:12: [device ir-2] bus: no [bus nosuchbus]");
    expect(errs, "mem.conf:13: [device ir-2] lane: no [lane nolane]");
    free(errs);
}

static void test_syntax_errors_all_reported(void **state)
{
    (void)state;
    const char *text = BASE "oops\n[screening]\nwhat is this\nthreshold = 37.5\n; ok comment\n"
                            "# ok too\nkey ; = 3\n[web\n";
    char *errs = parse_bad(text, 4);
    expect(errs, "mem.conf:15: syntax error (expected [section] or key = value)");
    expect(errs, "mem.conf:17: syntax error (expected [section] or key = value)");
    expect(errs, "mem.conf:21: syntax error (expected [section] or key = value)");
    expect(errs, "mem.conf:22: syntax error (no ] at the end of the section header)");
    free(errs);
}

static void test_long_line(void **state)
{
    (void)state;
    char text[2048], value[501];
    memset(value, 'x', 500);
    value[500] = '\0';
    /* A long comment is fine. */
    snprintf(text, sizeof text, "# %s\n%s", value, BASE);
    config_free(parse_ok(text));
    /* A long value line is refused with its length, and the key counts as missing. */
    snprintf(text, sizeof text, "[school]\ncode = T001\nname = %s\n%s", value,
             strstr(BASE, "[ledger]"));
    char *errs = parse_bad(text, 2);
    expect(errs, "mem.conf:3: line too long (507 bytes, max 199)");
    expect(errs, "mem.conf:1: [school] missing required key \"name\"");
    free(errs);
    /* A value that fits the line but not its field (timezone: 64 bytes). */
    snprintf(text, sizeof text, "[school]\ncode = T\nname = x\ntimezone = Asia/%.70s\n%s",
             value, strstr(BASE, "[ledger]"));
    errs = parse_bad(text, 1);
    expect(errs, "mem.conf:4: [school] timezone: too long (max 63 bytes)");
    free(errs);
    /* Long values are clipped in messages. */
    errs = parse_bad(BASE "[web]\nlisten = 0000:0000:0000:0000:0000:0000:0000:0000:0000:0000\n",
                     1);
    expect(errs, "mem.conf:16: [web] listen: \"0000:0000:0000:0000:0000:0000:0000:0000:0000:"
                 "000...\" is not an IPv4 or IPv6 address");
    free(errs);
}

static void test_too_long_values(void **state)
{
    (void)state;
    char *errs = parse_bad("[school]\ncode = A123456789012345678901234567890123\nname = x\n"
                           "[ledger]\ndatabase = l.db\n[windows]\nmorning = 07:00-08:00\n",
                           1);
    expect(errs, "mem.conf:2: [school] code: too long (max 31 bytes)");
    free(errs);
    errs = parse_bad(BASE "[bus b12345678901234567890123456789012]\ntcp = 127.0.0.1:1\n", 1);
    expect(errs, "mem.conf:15: [bus NAME]: name \"b12345678901234567890123456789012\" is too "
                 "long (max 31 bytes)");
    free(errs);
    /* Exactly 31 bytes is fine. */
    struct config *cfg = parse_ok(BASE "[bus b123456789012345678901234567890]\n"
                                       "tcp = 127.0.0.1:1\n");
    assert_string_equal(cfg->buses[1].name, "b123456789012345678901234567890");
    config_free(cfg);
}

static void test_too_many_buses(void **state)
{
    (void)state;
    size_t cap = 8192, n = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    n += (size_t)snprintf(text + n, cap - n, "%s", BASE); /* bus gw is the first */
    for (int i = 1; i <= CFG_MAX_BUSES + 1; i++)
        n += (size_t)snprintf(text + n, cap - n, "[bus b%d]\ntcp = 127.0.0.1:%d\n", i, 1000 + i);
    assert_true(n < cap);
    char *errs = parse_bad(text, 2);
    /* gw + b1..b31 fill the array; b32 and b33 are refused, without a crash. */
    expect(errs, "mem.conf:%d: too many [bus] sections (max 32)", line_of(text, "[bus b32]"));
    expect(errs, "mem.conf:%d: too many [bus] sections (max 32)", line_of(text, "[bus b33]"));
    free(errs);
    free(text);
}

static void test_text_encoding(void **state)
{
    (void)state;
    /* CRLF line ends, a byte order mark, indentation, inline comments, ":" separators. */
    const char *text = "\xEF\xBB\xBF[school]\r\n  code = T001 ; the bureau's code\r\n"
                       "name: 测试学校\r\n[ledger]\r\ndatabase = ledger.db\r\n[windows]\r\n"
                       "\tmorning = 07:00-08:30\r\nnoon = off\r\n";
    struct config *cfg = parse_ok(text);
    assert_string_equal(cfg->school.code, "T001");
    assert_string_equal(cfg->school.name, "测试学校");
    assert_false(cfg->windows.noon_enabled);
    assert_int_equal(cfg->nlanes, 0);
    config_free(cfg);

    /* GBK bytes for 测试 are not UTF-8. */
    char *errs = parse_bad("[school]\ncode = T1\nname = \xB2\xE2\xCA\xD4\n[ledger]\n"
                           "database = l.db\n[windows]\nmorning = 07:00-08:00\n", 1);
    expect(errs, "mem.conf:3: [school] name: \"\\xB2\\xE2\\xCA\\xD4\" is not valid UTF-8");
    free(errs);

    /* A NUL byte in a line. */
    static const char nul[] = "[school]\ncode = T\0001\nname = x\n[ledger]\ndatabase = l.db\n"
                              "[windows]\nmorning = 07:00-08:00\n";
    errs = NULL;
    assert_null(parse_len(nul, sizeof nul - 1, &errs));
    expect(errs, "mem.conf:2: NUL byte in the line");
    free(errs);
}

static void test_windows_and_kinds(void **state)
{
    (void)state;
    struct config *cfg = parse_ok("[windows]\nmorning = 07:00-08:30\nnoon = 08:30-09:00\n"
                                  "absence_kinds = teacher , student,staff\n"
                                  "absence_grace = 0ms\n[school]\ncode = T\nname = x\n"
                                  "[ledger]\ndatabase = l.db\n");
    assert_true(cfg->windows.noon_enabled);
    assert_int_equal(cfg->windows.noon_start, 8 * 60 + 30);
    assert_int_equal(cfg->windows.absence_kinds,
                     CFG_KIND_STUDENT | CFG_KIND_TEACHER | CFG_KIND_STAFF);
    assert_int_equal(cfg->windows.absence_grace_ms, 0);
    config_free(cfg);
}

/* Issue 19: the noon sweep and the boarders' evening window. */
static void test_noon_sweep_and_evening(void **state)
{
    (void)state;
    struct config *cfg = parse_ok("[windows]\nmorning = 07:00-08:30\nnoon = 11:30-13:00\n"
                                  "noon_sweep = yes\nevening = 20:00-20:30\n[school]\n"
                                  "code = T\nname = x\n[ledger]\ndatabase = l.db\n");
    assert_true(cfg->windows.noon_sweep);
    assert_true(cfg->windows.evening_enabled);
    assert_int_equal(cfg->windows.evening_start, 20 * 60);
    assert_int_equal(cfg->windows.evening_end, 20 * 60 + 30);
    config_free(cfg);
    cfg = parse_ok("[windows]\nmorning = 07:00-08:30\n[school]\ncode = T\nname = x\n"
                   "[ledger]\ndatabase = l.db\n");
    assert_false(cfg->windows.noon_sweep);
    assert_false(cfg->windows.evening_enabled);
    config_free(cfg);
    char *errs = parse_bad("[windows]\nmorning = 07:00-08:30\nnoon_sweep = yes\n"
                           "evening = 08:00-09:00\n[school]\ncode = T\nname = x\n"
                           "[ledger]\ndatabase = l.db\n", 2);
    expect(errs, "mem.conf:3: [windows] noon_sweep: needs a noon window ([windows] noon = "
                 "HH:MM-HH:MM)");
    expect(errs, "mem.conf:4: [windows] evening: starts at 08:00, before the morning window "
                 "ends (08:30)");
    free(errs);
    errs = parse_bad("[windows]\nmorning = 07:00-08:30\nnoon = 11:30-13:00\n"
                     "evening = 12:00-20:00x\n[school]\ncode = T\nname = x\n"
                     "[ledger]\ndatabase = l.db\n", 1);
    expect(errs, "mem.conf:4: [windows] evening: \"12:00-20:00x\" is not off or a time span");
    free(errs);
    errs = parse_bad("[windows]\nmorning = 07:00-08:30\nnoon = 11:30-13:00\n"
                     "evening = 12:00-20:00\n[school]\ncode = T\nname = x\n"
                     "[ledger]\ndatabase = l.db\n", 1);
    expect(errs, "mem.conf:4: [windows] evening: starts at 12:00, before the noon window ends "
                 "(13:00)");
    free(errs);
}

/* [windows] days: the text before and after it, so that it is on line 3. */
#define DAYS_HEAD "[windows]\nmorning = 07:00-08:30\n"
#define DAYS_TAIL "[school]\ncode = T\nname = x\n[ledger]\ndatabase = l.db\n"

static void test_school_days(void **state)
{
    (void)state;
    static const struct { const char *value; unsigned mask; } t[] = {
        {"mon-fri", 0x3E}, {"mon,tue,wed,thu,fri", 0x3E}, {"MON-Fri", 0x3E},
        {"fri,thu,wed,tue,mon", 0x3E}, {" mon - fri ", 0x3E}, {"mon-sun", 0x7F},
        {"sun", 0x01}, {"sat", 0x40}, {"sat, sun", 0x41}, {"mon-wed, fri", 0x2E},
        {"wed-wed", 0x08}, {"sun-thu", 0x1F}, {"fri-mon", 0x63}, {"tue-mon", 0x7F},
    };
    char text[256];
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        snprintf(text, sizeof text, DAYS_HEAD "days = %s\n" DAYS_TAIL, t[i].value);
        struct config *cfg = parse_ok(text);
        if (cfg->windows.school_days != t[i].mask)
            fail_msg("days = %s: mask 0x%02X, expected 0x%02X", t[i].value,
                     cfg->windows.school_days, t[i].mask);
        config_free(cfg);
    }
}

static void test_school_days_errors(void **state)
{
    (void)state;
#define NOT_A_LIST "is not a list of weekdays and ranges such as mon-fri or mon,wed,fri " \
                   "(mon, tue, wed, thu, fri, sat, sun)"
#define NOT_A_DAY "is not a weekday (mon, tue, wed, thu, fri, sat, sun)"
    static const struct { const char *value, *message; } t[] = {
        {"", "\"\" " NOT_A_LIST},
        {"mon,,fri", "\"mon,,fri\" " NOT_A_LIST},
        {"mon,", "\"mon,\" " NOT_A_LIST},
        {", mon", "\", mon\" " NOT_A_LIST},
        {"mon-", "\"mon-\" " NOT_A_LIST},
        {"-fri", "\"-fri\" " NOT_A_LIST},
        {"funday", "\"funday\" " NOT_A_DAY},
        {"monday-friday", "\"monday\" " NOT_A_DAY},
        {"mon-fry", "\"fry\" " NOT_A_DAY},
        {"mon,tue thu", "\"tue thu\" " NOT_A_DAY},
        {"mon-wed-fri", "\"wed-fri\" " NOT_A_DAY},
        {"1-5", "\"1\" " NOT_A_DAY},
        {"周一", "\"周一\" " NOT_A_DAY},
        {"mon,wed,mon", "mon is given twice"},
        {"Mon,MON", "mon is given twice"},
        {"mon-fri,wed", "wed is given twice"},
        {"mon-wed,tue-thu", "tue is given twice"},
        {"sat-mon,sun", "sun is given twice"},
        {"mon-sun,sun-mon", "mon is given twice"},
    };
    char text[256];
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        snprintf(text, sizeof text, DAYS_HEAD "days = %s\n" DAYS_TAIL, t[i].value);
        char *errs = parse_bad(text, 1);
        expect(errs, "mem.conf:3: [windows] days: %s\n", t[i].message);
        free(errs);
    }
    /* Given twice: the first one counts, the second is reported. */
    char *errs = parse_bad(DAYS_HEAD "days = mon-fri\ndays = sat\n" DAYS_TAIL, 1);
    expect(errs, "mem.conf:4: [windows] days: duplicate key (first on line 3)\n");
    free(errs);
#undef NOT_A_LIST
#undef NOT_A_DAY
}

/* BASE plus lanes b and c with indicator = test (lines 17 and 20), served by devices. */
#define TEST_LANES                                                                     \
    BASE "[lane b]\ngate = x\nindicator = test\n[lane c]\ngate = x\nindicator = test\n" \
         "[device ir-b]\nbus = gw\nunit = 2\nlane = b\n"                              \
         "[device ir-c]\nbus = gw\nunit = 3\nlane = c\n"

static void test_indicator_log(void **state)
{
    (void)state;
    char *errs = parse_bad(TEST_LANES, 2);
    expect(errs, "mem.conf:17: [lane b] indicator: test needs indicator_log in [daemon] (the "
                 "file its light changes go to)\n");
    expect(errs, "mem.conf:20: [lane c] indicator: test needs indicator_log in [daemon] (the "
                 "file its light changes go to)\n");
    free(errs);

    /* Relative to the config's folder, like the ledger; [daemon] may come last. */
    struct config *cfg = parse_ok(TEST_LANES "[daemon]\nindicator_log = run/lights.log\n");
    assert_string_equal(cfg->daemon.indicator_log, "/srv/gs/run/lights.log");
    assert_int_equal(cfg->lanes[1].indicator, CFG_IND_TEST);
    config_free(cfg);
    cfg = parse_ok(TEST_LANES "[daemon]\nindicator_log = /tmp/gs/lights.log\n");
    assert_string_equal(cfg->daemon.indicator_log, "/tmp/gs/lights.log");
    config_free(cfg);
    /* Not needed without test lanes, but allowed. */
    cfg = parse_ok("[daemon]\nindicator_log = lights.log\n" BASE);
    assert_string_equal(cfg->daemon.indicator_log, "/srv/gs/lights.log");
    config_free(cfg);
    FILE *f = fopen("/dev/null", "w");
    const char *text = BASE "[daemon]\nindicator_log = lights.log\n";
    cfg = config_parse("root.conf", text, strlen(text), "/", f);
    fclose(f);
    assert_non_null(cfg);
    assert_string_equal(cfg->daemon.indicator_log, "/lights.log");
    config_free(cfg);

    /* A bad value is reported once, not again at each test lane. */
    errs = parse_bad(TEST_LANES "[daemon]\nindicator_log = \n", 1);
    expect(errs, "mem.conf:30: [daemon] indicator_log: \"\" is empty\n");
    free(errs);
}

static void test_gpio_section(void **state)
{
    (void)state;
    struct config *cfg = parse_ok(BASE);
    assert_int_equal(cfg->gpio.lamp_test_ms, 300);
    assert_int_equal(cfg->gpio.presence_debounce_ms, 50);
    assert_int_equal(cfg->gpio.wiegand_pulse_min_us, 20);
    assert_int_equal(cfg->gpio.wiegand_pulse_max_us, 150);
    assert_int_equal(cfg->gpio.wiegand_interval_min_us, 200);
    assert_int_equal(cfg->gpio.wiegand_frame_gap_us, 25000);
    config_free(cfg);
    cfg = parse_ok(BASE "[gpio]\nlamp_test = 0s\npresence_debounce = 20ms\n"
                        "wiegand_pulse_min = 0us\nwiegand_pulse_max = 20ms\n"
                        "wiegand_interval_min = 100us\nwiegand_frame_gap = 0.1s\n");
    assert_int_equal(cfg->gpio.lamp_test_ms, 0);
    assert_int_equal(cfg->gpio.presence_debounce_ms, 20);
    assert_int_equal(cfg->gpio.wiegand_pulse_max_us, 20000);
    assert_int_equal(cfg->gpio.wiegand_interval_min_us, 100);
    assert_int_equal(cfg->gpio.wiegand_frame_gap_us, 100000);
    config_free(cfg);

    const char *bad = BASE "[gpio]\nwiegand_pulse_min = 50\nwiegand_frame_gap = 11s\n"
                           "lamp_test = 6s\n";
    char *errs = parse_bad(bad, 3);
    expect(errs, "%d: [gpio] wiegand_pulse_min: \"50\" is not a duration between 0us and "
                 "1000000us", line_of(bad, "wiegand_pulse_min = 50"));
    expect(errs, "%d: [gpio] wiegand_frame_gap: \"11s\"", line_of(bad, "wiegand_frame_gap = 11s"));
    expect(errs, "%d: [gpio] lamp_test: \"6s\"", line_of(bad, "lamp_test = 6s"));
    free(errs);
    bad = BASE "[gpio]\nwiegand_pulse_min = 200us\nwiegand_pulse_max = 100us\n"
               "wiegand_interval_min = 30ms\n";
    errs = parse_bad(bad, 2);
    expect(errs, "%d: [gpio] wiegand_pulse_max: wiegand_pulse_max 100us must be longer than "
                 "wiegand_pulse_min 200us", line_of(bad, "wiegand_pulse_max = 100us"));
    expect(errs, "%d: [gpio] wiegand_interval_min: wiegand_frame_gap 25000us must be longer "
                 "than wiegand_interval_min 30000us", line_of(bad, "wiegand_interval_min = 30ms"));
    free(errs);
}

/* Wiegand pulses are low by the standard: those lines are active-low unless the
 * file says active-high; every other line is active-high unless it says active-low. */
static void test_gpio_polarity(void **state)
{
    (void)state;
    struct config *cfg = parse_ok(
        BASE "[lane b]\ngate = 北门\nidentity = wiegand\nwiegand_d0 = W0\n"
             "wiegand_d1 = W1 active-high\npresence = BEAM active-high\ngreen = G\n"
             "[profile plain]\nblock = 3:0:1\nbody_temp = 0 int16 0.01\n"
             "[device py-b]\nbus = gw\nunit = 2\nprofile = plain\nlane = b\n");
    const struct cfg_lane *l = &cfg->lanes[config_find_lane(cfg, "b")];
    assert_true(l->io[CFG_IO_WIEGAND_D0].active_low);
    assert_false(l->io[CFG_IO_WIEGAND_D1].active_low);
    assert_false(l->io[CFG_IO_PRESENCE].active_low);
    assert_false(l->io[CFG_IO_GREEN].active_low);
    config_free(cfg);

    const char *bad = BASE "[lane b]\ngate = 北门\nidentity = device\nwiegand_d0 = W0\n"
                           "green = G active-sometimes\namber = 0:17\nred = chip1:2\n"
                           "enforce = hard\nrelay = R\n"
                           "[profile plain]\nblock = 3:0:1\nbody_temp = 0 int16 0.01\n"
                           "[device py-b]\nbus = gw\nunit = 2\nprofile = plain\nlane = b\n";
    char *errs = parse_bad(bad, 7);
    expect(errs, "%d: [lane b] green: \"G active-sometimes\" is not gpiochipN:OFFSET",
           line_of(bad, "green = G active-sometimes"));
    /* Chip numbers or labels alone would name a chip in one libgpiod build only. */
    expect(errs, "%d: [lane b] amber: \"0:17\" is not gpiochipN:OFFSET",
           line_of(bad, "amber = 0:17"));
    expect(errs, "%d: [lane b] red: \"chip1:2\" is not gpiochipN:OFFSET",
           line_of(bad, "red = chip1:2"));
    expect(errs, "%d: [lane b] enforce: hard needs indicator = gpio",
           line_of(bad, "enforce = hard"));
    expect(errs, "%d: [lane b] identity: the lane has Wiegand lines but identity is not wiegand",
           line_of(bad, "identity = device"));
    expect(errs, "[lane b] identity: device, but profile plain of [device py-b] reads no card");
    expect(errs, "lane b: [device py-b] (profile plain) measures on presence but reports no "
                 "presence bit; add a presence line to the lane");
    free(errs);
}

static void test_daemon_and_screening_values(void **state)
{
    (void)state;
    struct config *cfg = parse_ok(BASE "[daemon]\nlog_level = debug\nstop_timeout = 1.5s\n"
                        "[screening]\nvalid_min = 35.5\nvalid_max = 42\n"
                        "identity_required = no\nhold_fever = 1min\nbuzzer = 0s\n");
    assert_int_equal(cfg->daemon.log_level, LOG_LVL_DEBUG);
    assert_int_equal(cfg->daemon.stop_timeout_ms, 1500);
    assert_int_equal(cfg->screening.valid_min_centi, 3550);
    assert_int_equal(cfg->screening.valid_max_centi, 4200);
    assert_false(cfg->screening.identity_required);
    assert_int_equal(cfg->screening.hold_fever_ms, 60000);
    assert_int_equal(cfg->screening.buzzer_ms, 0);
    config_free(cfg);
}

static void test_cannot_read(void **state)
{
    (void)state;
    char *errs = NULL;
    assert_null(load(DATA "no-such-file.conf", &errs));
    expect(errs, "%sno-such-file.conf: cannot read: No such file or directory\n", DATA);
    free(errs);
    assert_null(load(DATA, &errs));
    expect(errs, ": cannot read: Is a directory\n");
    free(errs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_loads),
        cmocka_unit_test(test_demo_loads),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_relative_paths),
        cmocka_unit_test(test_threshold_exact),
        cmocka_unit_test(test_builtin_profiles),
        cmocka_unit_test(test_readme_lists_builtin_profiles),
        cmocka_unit_test(test_rise_keys),
        cmocka_unit_test(test_terminal_keys),
        cmocka_unit_test(test_terminal_errors),
        cmocka_unit_test(test_terminal_adms_keys),
        cmocka_unit_test(test_profiles_parse),
        cmocka_unit_test(test_profile_errors),
        cmocka_unit_test(test_value_errors),
        cmocka_unit_test(test_structure_errors),
        cmocka_unit_test(test_reference_errors),
        cmocka_unit_test(test_network_errors),
        cmocka_unit_test(test_plain_http),
        cmocka_unit_test(test_upstream_url),
        cmocka_unit_test(test_lane_rules),
        cmocka_unit_test(test_bus_kinds),
        cmocka_unit_test(test_missing_sections),
        cmocka_unit_test(test_unknown_section_and_key),
        cmocka_unit_test(test_many_errors_sorted),
        cmocka_unit_test(test_syntax_errors_all_reported),
        cmocka_unit_test(test_long_line),
        cmocka_unit_test(test_too_long_values),
        cmocka_unit_test(test_too_many_buses),
        cmocka_unit_test(test_text_encoding),
        cmocka_unit_test(test_windows_and_kinds),
        cmocka_unit_test(test_noon_sweep_and_evening),
        cmocka_unit_test(test_school_days),
        cmocka_unit_test(test_school_days_errors),
        cmocka_unit_test(test_indicator_log),
        cmocka_unit_test(test_daemon_and_screening_values),
        cmocka_unit_test(test_gpio_section), cmocka_unit_test(test_gpio_polarity),
        cmocka_unit_test(test_cannot_read),
        cmocka_unit_test(test_calendar_keys), cmocka_unit_test(test_calendar_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
