/* The ledger as the nurse's web page reads it (docs/web-api.md): people search,
 * one person's history, the Today queue's lists that the CLI has no listing for
 * (absences still without a cause, returns without a certificate), the day
 * report's uploads and the CSV exports' rows. All their SQL is in ledger_web.c;
 * the web modules (web_api*.c, web_csv.c) turn these views into JSON and CSV.
 * Read only: the page's actions go through the same ledger functions as the CLI
 * (ledger_health.h).
 *
 * Views as in ledger_upstream.h: strings point into the row being read and are
 * valid only during the callback, never NULL ("" when the ledger has nothing).
 * Every function returns 0, or -1 on a database error (logged); the lookups
 * return 1 found / 0 not found / -1. Every query is served by an index of
 * sql/001_initial.sql (each says which). */
#ifndef GS_LEDGER_WEB_H
#define GS_LEDGER_WEB_H

#include <stdbool.h>
#include <stdint.h>

#include "ledger.h"
#include "ledger_health.h"
#include "ledger_outbox.h"
#include "roster.h"

/* ---- people ----------------------------------------------------------------------- */

#define LW_CARDS_MAX 192 /* a few card numbers, comma-separated */

struct lw_person {
    int64_t id;                       /* people.id: for the history queries below */
    char external_id[ROSTER_ID_MAX];
    char kind[16];
    char name[ROSTER_NAME_MAX];
    char grade[ROSTER_GRADE_MAX];
    char class_name[ROSTER_CLASS_MAX];
    char status[16];                  /* people.health_status */
    char cards[LW_CARDS_MAX];         /* "1001,1002", "" none */
    bool active;
};

/* One person by external id (active or not): 1 and *out, 0 nobody, -1. */
int ledger_web_find_person(struct ledger *l, const char *external_id, struct lw_person *out);

/* People whose external id, name or class contains `text` (ASCII letters match in
 * either case), or who hold card `text` when it is a card number; exact id and
 * card matches first, then by class and id. class_name: only that class (NULL:
 * any). At most `limit` (the people table is scanned: a substring cannot use an
 * index, and 5,000 rows take about a millisecond). */
int ledger_web_search(struct ledger *l, const char *text, const char *class_name, int limit,
                      void (*fn)(const struct lw_person *p, void *arg), void *arg);

/* ---- one person's history, newest first ------------------------------------------ */

struct lw_reading {
    int64_t at_ms;
    const char *lane, *quality, *outcome; /* lane "" when not known */
    bool has_body;
    int body_centi;
};
/* Readings at or after since_ms (index readings_person). */
int ledger_web_readings(struct ledger *l, int64_t person_id, int64_t since_ms,
                        void (*fn)(const struct lw_reading *v, void *arg), void *arg);

struct lw_check {
    const char *external_id, *name, *class_name; /* the person */
    const char *day, *window, *instrument, *by;  /* instrument 'gate': a gate reading */
    int temp_centi, threshold_centi;
    int64_t at_ms;
};
/* A person's checks of since_day and later (the checks' unique key). */
int ledger_web_person_checks(struct ledger *l, int64_t person_id, const char *since_day,
                             void (*fn)(const struct lw_check *v, void *arg), void *arg);
/* The checks of a day, by window, class and person; class_name NULL = all
 * (index checks_day). */
int ledger_web_day_checks(struct ledger *l, const char *day, const char *class_name,
                          void (*fn)(const struct lw_check *v, void *arg), void *arg);

struct lw_flag {
    int64_t id, opened_ms;
    const char *external_id, *name, *class_name; /* "" for an unknown card */
    bool has_card;
    uint64_t card;                               /* the card of the screen's reading */
    const char *day, *lane, *state;              /* open | confirmed | cleared */
    int screen_centi, threshold_centi;
    bool has_recheck;
    int recheck_centi;
    const char *recheck_instrument, *recheck_by; /* "" before the recheck */
    int64_t recheck_ms;                          /* 0 before the recheck */
    int64_t referral_id;                         /* 0: none */
    const char *referral_outcome;                /* "" none or waiting */
};
/* A person's flags of since_day and later (index flags_person). */
int ledger_web_person_flags(struct ledger *l, int64_t person_id, const char *since_day,
                            void (*fn)(const struct lw_flag *v, void *arg), void *arg);
/* The flags of a day (opened that day), oldest first; class_name NULL = all, else
 * only that class's people (no unknown cards). Index flags_state. */
int ledger_web_day_flags(struct ledger *l, const char *day, const char *class_name,
                         void (*fn)(const struct lw_flag *v, void *arg), void *arg);

struct lw_referral {
    int64_t id, flag_id, opened_ms;
    const char *day;
    const char *outcome, *outcome_by, *note; /* outcome "" while waiting */
    int64_t outcome_ms;                      /* 0 while waiting */
};
/* A person's referrals of since_day and later (through their flags: index
 * flags_person, then the referrals' unique flag_id). */
int ledger_web_person_referrals(struct ledger *l, int64_t person_id, const char *since_day,
                                void (*fn)(const struct lw_referral *v, void *arg), void *arg);

/* A person's absences of since_day and later, as ledger_list_absences shows them
 * (the absences' unique key). */
int ledger_web_person_absences(struct ledger *l, int64_t person_id, const char *since_day,
                               void (*fn)(const struct absence_view *v, void *arg), void *arg);

/* A person's noon and evening absences of since_day and later, newest first
 * (the part_absences' unique key). */
int ledger_web_person_part_absences(struct ledger *l, int64_t person_id, const char *since_day,
                                    void (*fn)(const struct part_absence_view *v, void *arg),
                                    void *arg);

struct lw_certificate {
    const char *issued_day, *issuer, *checked_by;
    int64_t recorded_ms;
    const char *absence_day; /* the illness absence it covers, "" none */
};
/* A person's certificates issued on since_day or later (index certificates_person). */
int ledger_web_person_certificates(struct ledger *l, int64_t person_id, const char *since_day,
                                   void (*fn)(const struct lw_certificate *v, void *arg),
                                   void *arg);

struct lw_leave {
    const char *from_day, *to_day, *reason, *by;
    int64_t at_ms;
};
/* A person's leave that ends on since_day or later (index leaves_person). */
int ledger_web_person_leaves(struct ledger *l, int64_t person_id, const char *since_day,
                             void (*fn)(const struct lw_leave *v, void *arg), void *arg);

/* ---- the Today queue -------------------------------------------------------------- */

/* Absences on or before `day` whose cause is still 'unknown' (the gate sends such
 * a person to the nurse until it is recorded, however old), the newest day first,
 * then by class and person, at most `limit`; class_name NULL = all (index
 * absences_day, read backwards: a long backlog costs only what is listed). */
int ledger_web_unexplained(struct ledger *l, const char *day, const char *class_name, int limit,
                           void (*fn)(const struct absence_view *v, void *arg), void *arg);
/* How many there are in all (the covering index absences_day). */
int ledger_web_count_unexplained(struct ledger *l, const char *day, const char *class_name,
                                 int *count);

struct lw_return {
    const char *external_id, *name, *class_name;
    const char *event_day; /* the latest illness absence or referral needing the certificate */
    const char *cause;     /* illness (an absence) | sent_home | hospital (a referral) */
    int64_t arrived_ms;    /* the first arrival of the day */
};
/* People who came to school on `day` (a gate decision that lets them in or sends
 * them to the nurse, or a manual check) and need a certificate by the rules of
 * ledger_needs_certificate (view contract_uncovered_event), for an illness
 * before that day: back without a certificate. By class and person; class_name
 * NULL = all (the day's readings by index readings_at, its checks by checks_day,
 * the absences and referrals recorded since the day began by a scan, and the
 * view's illness absences up to the day by absences_day, kept for the people
 * found: about 6-9 ms for 12,000 absences, 3 ms before the view; then per person
 * by their indexes). */
int ledger_web_returns(struct ledger *l, const char *day, const char *class_name,
                       void (*fn)(const struct lw_return *v, void *arg), void *arg);

/* The class of cluster alert `id`: 1 and class_name, 0 no such alert, -1. */
int ledger_web_alert_class(struct ledger *l, int64_t id, char *class_name, size_t n);

/* ---- the day report --------------------------------------------------------------- */

/* The outbox rows that carry `day`: its summary revisions ("CODE/DAY/REV") and
 * the urgent notices of the referrals and cluster alerts of that day, in outbox
 * order (the outbox's unique key). */
int ledger_web_uploads(struct ledger *l, const char *school_code, const char *day,
                       void (*fn)(const struct outbox_view *v, void *arg), void *arg);

#endif
