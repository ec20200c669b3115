/* The bureau's configuration file (gatescreen-bureaud and gatescreen-bureau read the
 * same one): INI read with inih, every value checked, every problem reported as
 * "FILE:LINE: message" before anything is used. The reference for every key is
 * config/bureau.conf. Sections:
 *
 *   [collector]  listen, tls_cert, tls_key, client_ca, instance, threads,
 *                connection_timeout, max_body, rate_per_minute, rate_burst,
 *                log_level
 *   [database]   dsn or dsn_file (exactly one), connect_timeout, statement_timeout
 *   [pull]       token_files, token_sha256 (optional section: the pull API's tokens)
 *   [deadlines]  morning, day, timezone (optional: 10:00, 17:00, Asia/Shanghai)
 *   [page]       listen, tls_cert, tls_key, threads, session_idle, session_max
 *                (optional section: no section, no page; docs/bureau.md, "The
 *                bureau's page")
 *
 * A reload loads a new struct bconfig and replaces the one in force (the collector's
 * threads read only what they copied at start, and the live body limit). */
#ifndef GS_BCONFIG_H
#define GS_BCONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define BCFG_TEXT_MAX 256  /* paths and names */
#define BCFG_DSN_MAX 1024  /* a libpq connection string */
#define BCFG_INSTANCE_MAX 64

struct bcfg_collector {
    char listen[BCFG_TEXT_MAX];      /* the address as written, for messages */
    char address[64];                /* IPv4 or IPv6 address, without brackets */
    int port;
    char tls_cert[BCFG_TEXT_MAX];    /* absolute after loading */
    char tls_key[BCFG_TEXT_MAX];
    char client_ca[BCFG_TEXT_MAX];   /* the CA that issued the schools' certificates */
    char instance[BCFG_INSTANCE_MAX]; /* this collector's name in documents.received_by */
    int threads;                     /* request threads = database connections */
    int64_t connection_timeout_ms;   /* an idle or stalled connection is closed */
    long max_body;                   /* bytes; a larger body is 413 (live on reload) */
    int rate_per_minute;             /* uploads per school and kind; 0 off (live) */
    int rate_burst;                  /* uploads taken at once before the rate (live) */
    int log_level;                   /* enum log_level (live on reload) */
};

struct bcfg_database {
    char dsn[BCFG_DSN_MAX];          /* "" when dsn_file is used */
    char dsn_file[BCFG_TEXT_MAX];    /* a secret file holding the connection string */
    int64_t connect_timeout_ms;
    int64_t statement_timeout_ms;
};

/* The pull API's bearer tokens (docs/bureau-api.md): secret files holding one
 * token each, and tokens given by their SHA-256 (lower-case hex). Lists of up to
 * BCFG_PULL_MAX, separated by commas or blanks. None: the pull API answers 403. */
#define BCFG_PULL_MAX 16
struct bcfg_pull {
    char token_files[BCFG_PULL_MAX][BCFG_TEXT_MAX]; /* absolute after loading */
    int n_token_files;
    char token_sha256[BCFG_PULL_MAX][65];
    int n_token_sha256;
};

/* By when a school's report of a day is due (docs/bureau.md, "Deadlines and missing
 * schools"): minutes after midnight of the day in the bureau's zone. */
struct bcfg_deadlines {
    int morning;                     /* the morning figures (default 10:00) */
    int day;                         /* the day's (default 17:00); after morning */
    char timezone[64];               /* IANA name; the bureau's days and deadlines */
};

/* The bureau's page (bureau/page/): HTTPS for bureau staff, no client certificate. */
struct bcfg_page {
    bool enabled;                    /* the section is there */
    char listen[BCFG_TEXT_MAX];
    char address[64];
    int port;
    char tls_cert[BCFG_TEXT_MAX];
    char tls_key[BCFG_TEXT_MAX];
    int threads;                     /* request threads = database connections */
    int64_t session_idle_ms;
    int64_t session_max_ms;
};

struct bconfig {
    char path[BCFG_TEXT_MAX];        /* the file, absolute */
    struct bcfg_page page;
    struct bcfg_collector collector;
    struct bcfg_database database;
    struct bcfg_pull pull;
    struct bcfg_deadlines deadlines;
};

/* Loads and checks FILE; every problem on errs as "FILE:LINE: message"; NULL when
 * there was any. Relative paths are taken relative to the file's folder. */
struct bconfig *bconfig_load(const char *path, FILE *errs);
/* The same from text (tests, fuzzing): `name` for messages, `base_dir` for paths. */
struct bconfig *bconfig_parse(const char *name, const char *text, size_t len,
                              const char *base_dir, FILE *errs);
void bconfig_free(struct bconfig *c);

/* What a start would refuse about the files the configuration names: the TLS key,
 * the dsn_file and the pull token files must be secret files (no group or other
 * bit), the certificates readable. 0, or -1 with "PATH: ..." lines on errs. */
int bconfig_check_files(const struct bconfig *c, FILE *errs);

/* The connection string: dsn, or dsn_file's text without its trailing newline.
 * *out is malloc'ed (the caller wipes and frees it: it may hold a password).
 * 0, or -1 with a message on errs. */
int bconfig_dsn(const struct bconfig *c, char **out, FILE *errs);

#endif
