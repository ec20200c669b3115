/* Private to config/: the parser's state, the tables that drive it and the
 * helpers its files share. The public side is config.h (types) and config_load.h.
 *
 * Files: config_parse.c reads the text (lines, sections, keys) and runs the whole
 * file's checks; config_problem.c collects and words the problems; config_values.c
 * parses one value each; config_keys.c holds the key and section tables with the
 * defaults; config_check.c the rules that need the whole file; config_profiles.c
 * the built-in Modbus profiles. */
#ifndef GS_CONFIG_PARSE_H
#define GS_CONFIG_PARSE_H

#include "config.h"
#include "log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

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
            S_GPIO, S_TERMINALS, S_CALENDAR, S_BUS, S_PROFILE, S_DEVICE, S_TERMINAL, S_LANE,
            S_GRADE, S_CLASS, S_COUNT };
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
        lane[CFG_MAX_LANES], terminal[CFG_MAX_TERMINALS], grade[CFG_MAX_GROUPS],
        klass[CFG_MAX_GROUPS];
    char refs[CFG_MAX_DEVICES][REF_COUNT][CFG_NAME_MAX];
    int lane_device[CFG_MAX_LANES]; /* the device serving each lane, -1 */
    int lane_terminal[CFG_MAX_LANES]; /* the terminal serving each lane, -1 */
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
    bool roster_name; /* named after the roster's grade or class: UTF-8 allowed */
    size_t off;       /* the object (or the array) in struct config */
    size_t size;      /* named: element size */
    size_t count_off; /* named: the int counting elements */
    size_t name_off, line_off;
    int max;          /* named: capacity */
    void (*init)(void *obj);
    void (*check)(struct parser *p, int index); /* after the whole file was read */
};

extern const struct sectdef cp_sections[S_COUNT];

/* Key names of the profile fields and the lane GPIO lines, by role. */
extern const char *const cp_field_keys[CFG_F_COUNT];
extern const char *const cp_gpio_keys[CFG_IO_COUNT];

/* ---- built-in profiles (config_profiles.c) -------------------------------------- */

#define NBUILTIN 2
/* Copied first into every config; their names cannot be taken by [profile]s. */
extern const struct cfg_profile cp_builtin_profiles[NBUILTIN];
/* trigger = rise: its defaults, and the profile keys that only apply to it. */
#define CP_NRISE_KEYS 5
extern const struct cfg_rise cp_rise_defaults;
extern const char *const cp_rise_keys[CP_NRISE_KEYS];

/* ---- problems and small helpers (config_problem.c) ------------------------------ */

void cp_flush_problems(struct parser *p);
GS_PRINTF(3, 4)
void cp_problem(struct parser *p, int line, const char *fmt, ...);
const char *cp_quote(const char *v, char out[QUOTED_MAX]);
void *cp_element(struct config *cfg, enum sect s, int i);
const char *cp_element_name(const struct config *cfg, enum sect s, int i);
GS_PRINTF(6, 7)
void cp_key_problem(struct parser *p, enum sect s, int i, int line, const char *key,
                    const char *fmt, ...);
GS_PRINTF(3, 4)
void cp_bad(struct parser *p, const struct keydef *k, const char *fmt, ...);
GS_PRINTF(4, 5)
void cp_bad_value(struct parser *p, const struct keydef *k, const char *v, const char *fmt,
                  ...);
const char *cp_fmt_hhmm(int minutes, char buf[8]);
struct inst *cp_inst_of(struct parser *p, enum sect s, int i);
int cp_key_index(enum sect s, const char *key);
int cp_given(struct parser *p, enum sect s, int i, const char *key);
int cp_line_of(struct parser *p, enum sect s, int i, const char *key);
bool cp_failed(struct parser *p, enum sect s, int i, const char *key);
int cp_find_name(const struct name_val *t, const char *s, size_t n);
const char *cp_join_names(const struct name_val *t, char *buf, size_t n);
bool cp_ident_chars(const char *s, size_t n, const char *extra);
const char *cp_name_problem(const char *s, size_t n);
int cp_split_words(char *s, char **w, int max);
int cp_work_copy(struct parser *p, const struct keydef *k, const char *v, char *buf,
                 size_t n);
void *cp_member(void *obj, size_t off);
int cp_max_int(int a, int b);

/* ---- values (config_values.c): one parser per kind of value --------------------- */

void cp_parse_text(struct parser *p, const struct keydef *k, void *obj, const char *v);
void cp_parse_code(struct parser *p, const struct keydef *k, void *obj, const char *v);
void cp_parse_path(struct parser *p, const struct keydef *k, void *obj, const char *v);
void cp_parse_timezone(struct parser *p, const struct keydef *k, void *obj, const char *v);
void cp_parse_int(struct parser *p, const struct keydef *k, void *obj, const char *v);
void cp_parse_mask(struct parser *p, const struct keydef *k, void *obj, const char *v);
void cp_parse_duration(struct parser *p, const struct keydef *k, void *obj, const char *v);
void cp_parse_duration_us(struct parser *p, const struct keydef *k, void *obj, const char *v);
void cp_parse_centi(struct parser *p, const struct keydef *k, void *obj, const char *v);
void cp_parse_bool(struct parser *p, const struct keydef *k, void *obj, const char *v);
void cp_parse_enum(struct parser *p, const struct keydef *k, void *obj, const char *v);
void cp_parse_log_level(struct parser *p, const struct keydef *k, void *obj, const char *v);
void cp_parse_hhmm(struct parser *p, const struct keydef *k, void *obj, const char *v);
void cp_parse_span(struct parser *p, const struct keydef *k, void *obj, const char *v);
void cp_parse_noon(struct parser *p, const struct keydef *k, void *obj, const char *v);
void cp_parse_evening(struct parser *p, const struct keydef *k, void *obj, const char *v);
void cp_parse_kinds(struct parser *p, const struct keydef *k, void *obj, const char *v);
void cp_parse_days(struct parser *p, const struct keydef *k, void *obj, const char *v);
void cp_parse_date(struct parser *p, const struct keydef *k, void *obj, const char *v);
void cp_parse_day_ranges(struct parser *p, const struct keydef *k, void *obj, const char *v);
void cp_parse_workdays(struct parser *p, const struct keydef *k, void *obj, const char *v);
void cp_parse_slot(struct parser *p, const struct keydef *k, void *obj, const char *v);
void cp_parse_tcp(struct parser *p, const struct keydef *k, void *obj, const char *v);
void cp_parse_serial(struct parser *p, const struct keydef *k, void *obj, const char *v);
void cp_parse_baud(struct parser *p, const struct keydef *k, void *obj, const char *v);
void cp_parse_block(struct parser *p, const struct keydef *k, void *obj, const char *v);
void cp_parse_field(struct parser *p, const struct keydef *k, void *obj, const char *v);
void cp_parse_ref(struct parser *p, const struct keydef *k, void *obj, const char *v);
void cp_parse_gpio(struct parser *p, const struct keydef *k, void *obj, const char *v);
void cp_parse_url(struct parser *p, const struct keydef *k, void *obj, const char *v);
void cp_parse_listen(struct parser *p, const struct keydef *k, void *obj, const char *v);
void cp_parse_addr_port(struct parser *p, const struct keydef *k, void *obj, const char *v);
void cp_parse_address(struct parser *p, const struct keydef *k, void *obj, const char *v);

/* ---- defaults (config_keys.c) ---------------------------------------------------- */

void cp_defaults_general(struct config *cfg);
void cp_defaults_screening(struct cfg_screening *s);
void cp_defaults_gpio(struct cfg_gpio *g);
void cp_defaults_network(struct cfg_upstream *u, struct cfg_web *w);
void cp_defaults_terminals(struct cfg_terminals *t);

/* ---- rules that need the whole file (config_check.c) ---------------------------- */

int *cp_count_of(struct config *cfg, enum sect s);
int cp_find_named(const struct config *cfg, enum sect s, const char *name);
void cp_check_screening(struct parser *p, int i);
void cp_check_windows(struct parser *p, int i);
void cp_check_upstream(struct parser *p, int i);
void cp_check_gpio(struct parser *p, int i);
void cp_check_web(struct parser *p, int i);
void cp_check_bus(struct parser *p, int i);
void cp_check_profile(struct parser *p, int i);
void cp_check_device(struct parser *p, int i);
void cp_check_lane(struct parser *p, int i);
void cp_check_terminals(struct parser *p, int i);
void cp_check_terminal(struct parser *p, int i);
/* config_calendar.c: [calendar], [grade NAME], [class NAME]. */
void cp_check_calendar(struct parser *p, int i);
void cp_check_grade(struct parser *p, int i);
void cp_check_class(struct parser *p, int i);
void cp_group_init(void *obj);
const char *cp_roster_name_problem(const char *s, size_t n);

/* ---- reading (config_parse.c) ---------------------------------------------------- */

const char *cp_trim(const char *s, size_t *n);

#endif
