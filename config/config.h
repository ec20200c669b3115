/* The configuration's types: what a loaded config holds. Loading it is
 * config_load.h; reference: config/gatescreen.conf documents every key. */
#ifndef GS_CONFIG_H
#define GS_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#define CFG_NAME_MAX 32  /* names of sections such as [bus NAME] */
#define CFG_TEXT_MAX 256 /* free text and paths */

enum cfg_kind_mask { CFG_KIND_STUDENT = 1, CFG_KIND_TEACHER = 2, CFG_KIND_STAFF = 4 };

struct cfg_school {
    char code[CFG_NAME_MAX];     /* bureau's code for the school, [A-Za-z0-9_-] */
    char name[CFG_TEXT_MAX];
    char timezone[64];           /* IANA zone, e.g. Asia/Shanghai */
};

struct cfg_ledger {
    char database[CFG_TEXT_MAX]; /* absolute after loading */
    int retention_days;          /* readings older than this are purged */
    bool synchronous_full;       /* synchronous=FULL (default) or NORMAL */
};

/* The term calendar ([calendar]): days are "YYYY-MM-DD" (ISO dates compare as
 * text), "" when not given. Closures decided on the day (a storm warning, an
 * outbreak) are not here but in the ledger (`gatescreen calendar close`): a
 * plan is configuration, an event is a record with who and when. */
#define CFG_DAY_LEN 11
#define CFG_MAX_DAY_RANGES 64
struct cfg_day_range {
    char from[CFG_DAY_LEN], to[CFG_DAY_LEN]; /* both included; from <= to */
};
struct cfg_calendar {
    char term_start[CFG_DAY_LEN], term_end[CFG_DAY_LEN]; /* "": the term is open that side */
    int nholidays, nworkdays;
    struct cfg_day_range holidays[CFG_MAX_DAY_RANGES];
    char workdays[CFG_MAX_DAY_RANGES][CFG_DAY_LEN]; /* make-up school days (调休) */
};

/* A [grade NAME] or [class NAME]: its own arrival slot (错峰上学) and, for a grade,
 * the day it comes back (分批开学). Names are the roster's grade or class, UTF-8. */
#define CFG_MAX_GROUPS 64
struct cfg_group {
    char name[CFG_NAME_MAX];
    int line;
    char return_day[CFG_DAY_LEN]; /* grade: expected from this day on; "" = always */
    bool has_slot;
    int slot_start, slot_end;     /* minutes after local midnight, inside the morning */
};

struct cfg_windows {
    int morning_start, morning_end; /* minutes after local midnight */
    bool noon_enabled;
    int noon_start, noon_end;
    bool noon_sweep;             /* the noon absence sweep (午检缺勤) at noon end + grace */
    bool evening_enabled;        /* boarders' evening check (晚检) and its sweep */
    int evening_start, evening_end;
    int64_t absence_grace_ms;    /* sweep this long after the morning window closes */
    unsigned absence_kinds;      /* enum cfg_kind_mask: who is expected every day */
    unsigned school_days;        /* bit per weekday, bit 0 = Sunday .. bit 6 = Saturday */
    /* Here rather than beside the windows in struct config: what decides a school
     * day and who is expected travels with the windows (a day job's copy). */
    struct cfg_calendar calendar;
    int ngrades, nclasses;
    struct cfg_group grades[CFG_MAX_GROUPS], classes[CFG_MAX_GROUPS];
};

struct cfg_screening {
    int threshold_centi;         /* fever screen at or above, e.g. 3730 */
    int valid_min_centi, valid_max_centi;
    bool identity_required;
    int64_t pair_window_ms;      /* card and measurement belong together within this */
    int64_t hold_admit_ms, hold_fever_ms, hold_invalid_ms, hold_deny_ms, hold_nurse_ms,
        hold_no_measurement_ms;
    int64_t buzzer_ms;
    int64_t blink_period_ms;
    int cluster_day_cases;       /* illness cases in one class in one day */
    int cluster_3day_cases;      /* ... in three days */
    bool observation_refer;      /* under observation: see the nurse (refer), else
                                  * admitted with a note on the reading (note) */
};

enum cfg_parity { CFG_PARITY_NONE = 'N', CFG_PARITY_EVEN = 'E', CFG_PARITY_ODD = 'O' };

struct cfg_bus {
    char name[CFG_NAME_MAX];
    int line;                    /* line of the section header, for messages */
    bool is_tcp;
    char host[CFG_TEXT_MAX];     /* tcp */
    int port;
    char device[CFG_TEXT_MAX];   /* serial */
    int baud;
    char parity;                 /* enum cfg_parity */
    int data_bits, stop_bits;
    int64_t response_timeout_ms, byte_timeout_ms, pause_ms;
    int64_t retry_max_ms;        /* cap of the backoff for units that time out */
};

enum cfg_field_type { CFG_T_INT16, CFG_T_UINT16, CFG_T_INT32, CFG_T_UINT32, CFG_T_FLOAT32 };
enum cfg_word_order { CFG_WO_ABCD, CFG_WO_CDAB, CFG_WO_BADC, CFG_WO_DCBA };
enum cfg_field_role { CFG_F_BODY_TEMP, CFG_F_AMBIENT_TEMP, CFG_F_STATUS, CFG_F_SEQUENCE,
                      CFG_F_CARD_LO, CFG_F_CARD_HI, CFG_F_COUNT };

#define CFG_MAX_BLOCKS 8

struct cfg_block { int function; int start; int count; }; /* function 3 or 4 */

struct cfg_field {
    bool present;
    int address;                 /* register address; inside one block */
    enum cfg_field_type type;
    enum cfg_word_order order;
    double scale;                /* value = raw * scale (°C for temperatures) */
};

/* What tells a new measurement from the last one's value: the sequence register,
 * a "person present" edge (status bit or the lane's presence line), or a rise of
 * the object temperature itself (IR sensors with neither, e.g. pyrometers). */
enum cfg_trigger { CFG_TRIGGER_SEQUENCE, CFG_TRIGGER_PRESENCE, CFG_TRIGGER_RISE };

/* trigger = rise: a measurement is the object temperature rising to presence_min
 * or above and settling there; the next one needs a fall below presence_min. */
struct cfg_rise {
    int presence_min_centi;      /* default 30.00 °C: skin, not a wall or the air */
    int settle_samples;          /* polls in a row that must agree */
    int settle_tolerance_centi;  /* ... within this spread */
    bool peak;                   /* the reading is the peak over the dwell, not the settled value */
    int64_t dwell_ms;            /* peak: how long after the rise; settled: the longest wait */
};

struct cfg_profile {
    char name[CFG_NAME_MAX];
    int line;
    int nblocks;
    struct cfg_block blocks[CFG_MAX_BLOCKS];
    struct cfg_field fields[CFG_F_COUNT];
    uint16_t status_valid, status_fault, status_present; /* bit masks, 0 = not reported */
    enum cfg_trigger trigger;
    struct cfg_rise rise;
    bool presence_if_line;       /* built-in pyrometer: rise, but a lane's presence line wins */
};

struct cfg_device {
    char name[CFG_NAME_MAX];
    int line;
    int bus, profile, lane;      /* indexes into the config's arrays */
    int unit_id;
    int64_t poll_ms;
    int offset_centi;            /* calibration added to the body reading */
};

enum cfg_identity { CFG_ID_NONE, CFG_ID_WIEGAND, CFG_ID_DEVICE };
enum cfg_indicator { CFG_IND_CONSOLE, CFG_IND_GPIO, CFG_IND_TEST };
enum cfg_enforce { CFG_ENFORCE_SOFT, CFG_ENFORCE_HARD };
enum cfg_gpio_role { CFG_IO_GREEN, CFG_IO_AMBER, CFG_IO_RED, CFG_IO_BUZZER, CFG_IO_RELAY,
                     CFG_IO_WIEGAND_D0, CFG_IO_WIEGAND_D1, CFG_IO_PRESENCE, CFG_IO_COUNT };

struct cfg_gpio_line {
    bool present;
    char chip[CFG_NAME_MAX];     /* "gpiochip0"; empty when the line is named */
    int offset;                  /* -1 when named */
    char name[CFG_NAME_MAX];     /* line name; empty when chip:offset */
    bool active_low;             /* wiegand_d0/d1 default to active-low (pulses are low) */
};

struct cfg_lane {
    char name[CFG_NAME_MAX];
    int line;
    char gate[CFG_TEXT_MAX];
    enum cfg_identity identity;
    enum cfg_indicator indicator;
    enum cfg_enforce enforce;
    struct cfg_gpio_line io[CFG_IO_COUNT];
};

struct cfg_upstream {
    bool enabled;                /* url set */
    char url[CFG_TEXT_MAX];      /* https:// only */
    char ca_file[CFG_TEXT_MAX], client_cert[CFG_TEXT_MAX], client_key[CFG_TEXT_MAX];
    char token_file[CFG_TEXT_MAX], secret_file[CFG_TEXT_MAX];
    bool identify_names;         /* identify = names; default pseudonym */
    int day_end;                 /* minutes after midnight: the day's final summary */
    int64_t connect_timeout_ms, timeout_ms;
    int64_t retry_min_ms, retry_max_ms;
};

#define CFG_WEB_CONNECTIONS 128  /* the page's connections in all (one thread each) */
#define CFG_WEB_STREAMS_MAX 64   /* event streams: at most half of them */

struct cfg_web {
    bool enabled;
    char listen[64];
    int port;
    char tls_cert[CFG_TEXT_MAX], tls_key[CFG_TEXT_MAX];
    bool allow_plain_http;
    int64_t session_idle_ms, session_max_ms;
    /* What one client may hold (issue 16): connections per address, the time to
     * send a whole request (TLS handshake, headers, body), event streams per user
     * and of all users. */
    int max_connections_per_address;
    int64_t request_timeout_ms;
    int streams_per_user, streams_max;
};

/* [gpio]: timings of the GPIO lights and inputs (lines are per lane). */
struct cfg_gpio {
    int64_t lamp_test_ms;          /* each lamp lit this long at start; 0: no lamp test */
    int64_t presence_debounce_ms;  /* a presence input must hold this long */
    int64_t wiegand_pulse_min_us, wiegand_pulse_max_us; /* checked when both edges are seen */
    int64_t wiegand_interval_min_us; /* start of one bit to the next, either line */
    int64_t wiegand_frame_gap_us;  /* silence that ends a card frame */
};

/* [terminals] and [terminal NAME]: face/thermal terminals that push events over
 * plain HTTP to a listener of their own (issue 18). */
#define CFG_MAX_TERMINALS 64
enum cfg_term_kind { CFG_TERM_HIKVISION_ISAPI, CFG_TERM_ZKTECO_ADMS };
enum cfg_term_mode { CFG_TERM_PUSH, CFG_TERM_STREAM };

struct cfg_terminals {
    bool enabled;                /* listen given */
    char listen[64];             /* the address, IPv4 or IPv6 */
    int port;
    int max_body;                /* bytes, JPEG parts included */
    int max_connections;         /* in all (the listener's thread pool is this bounded) */
    int64_t request_timeout_ms;  /* to send the whole request */
    int64_t max_clock_skew_ms;   /* a terminal's clock further off than this is logged */
};

struct cfg_terminal {
    char name[CFG_NAME_MAX];
    int line;
    enum cfg_term_kind kind;
    enum cfg_term_mode mode;
    char address[64];            /* only this address may push as this terminal */
    char lane_name[CFG_NAME_MAX];
    int lane;                    /* index into lanes */
    char user[CFG_NAME_MAX];
    char password_file[CFG_TEXT_MAX]; /* push: when set, Basic or Digest credentials required */
    int64_t offline_after_ms;    /* not heard from for this long: offline (0: never) */
    /* zkteco-adms: the SN it sends, and where its ATTLOG lines hold what a thermal
     * model adds (README "ZKTeco ADMS": not public for every model). */
    char serial[64];
    int temperature_column, mask_column; /* 1-based, 0: none */
    int temperature_scale;       /* the column's number / this = degrees */
    int temperature_unit;        /* 0 celsius, 1 fahrenheit */
    int isapi_port;              /* stream: the terminal's own HTTP port (default 80) */
};

struct cfg_daemon {
    int log_level;               /* enum log_level */
    int64_t stop_timeout_ms;
    char indicator_log[CFG_TEXT_MAX]; /* indicator = test lanes append here */
};

#define CFG_MAX_BUSES 32
#define CFG_MAX_PROFILES 16
#define CFG_MAX_DEVICES 128
#define CFG_MAX_LANES 128

struct config {
    char path[CFG_TEXT_MAX];     /* absolute path of the file loaded */
    struct cfg_daemon daemon;
    struct cfg_school school;
    struct cfg_ledger ledger;
    struct cfg_windows windows;
    struct cfg_screening screening;
    struct cfg_upstream upstream;
    struct cfg_web web;
    struct cfg_gpio gpio;
    struct cfg_terminals terminals;
    int nbuses, nprofiles, ndevices, nlanes, nterminals;
    struct cfg_bus buses[CFG_MAX_BUSES];
    struct cfg_profile profiles[CFG_MAX_PROFILES]; /* built-ins first */
    struct cfg_device devices[CFG_MAX_DEVICES];
    struct cfg_lane lanes[CFG_MAX_LANES];
    struct cfg_terminal terminal[CFG_MAX_TERMINALS];
};

#endif
