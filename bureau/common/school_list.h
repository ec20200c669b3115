/* The schools a bureau expects reports from, as an administrator gives them: a CSV
 * file (`gatescreen-bureau school import`) or the options of `school add`. Parsing
 * and checking only, no database; both ways go through school_set, so a value the
 * CSV refuses, the command line refuses the same way.
 *
 * CSV (README "For the bureau"): UTF-8 (optional BOM), RFC 4180 (core/csv.c), a
 * header naming the columns in any order, English (any case) or Chinese:
 *   code (学校代码)       required; 1 to 31 of A-Z a-z 0-9 _ -, unique in the file
 *   name (学校名称)       required
 *   county (区县)         required: the county or district
 *   kind (类型)           required: 幼儿园 小学 初中 高中 九年一贯制 完全中学 职业学校
 *                         特殊教育学校 其他 (or kindergarten, primary, junior, senior,
 *                         nine-year, complete, vocational, special, other)
 *   enrolment (在校人数)  optional whole number, default 0
 *   contact_name (联系人), contact_phone (联系电话)  optional */
#ifndef GS_SCHOOL_LIST_H
#define GS_SCHOOL_LIST_H

#include <stddef.h>
#include <stdio.h>

enum school_field { SF_CODE, SF_NAME, SF_COUNTY, SF_KIND, SF_ENROLMENT, SF_CONTACT_NAME,
                    SF_CONTACT_PHONE, SF_COUNT };

struct school_row {
    int line;              /* where the record starts (0: from the command line) */
    char code[32];
    char name[128];
    char county[64];
    char kind[32];         /* the Chinese name, as the database keeps it */
    long enrolment;
    char contact_name[64];
    char contact_phone[32];
};

struct school_list {
    int n;
    struct school_row *rows;
};

/* The column's English name ("contact_phone"). */
const char *school_field_name(enum school_field f);
/* Checks value and stores it in r: 0, or -1 with the reason in why ("kind \"x\" is
 * not one of ..."). */
int school_set(struct school_row *r, enum school_field f, const char *value, char *why,
               size_t why_size);
/* A query's county or school code (f SF_COUNTY or SF_CODE), checked as school_set
 * checks it, into out (NULL v: not given, out ""): 0, or -1 with *param = name and
 * why (also for text that is not UTF-8). */
int school_filter_set(char *out, size_t size, enum school_field f, const char *name,
                      const char *v, const char **param, char *why, size_t n);

/* Parses a whole CSV file in memory. Every problem goes to errs as "NAME:LINE:
 * message"; returns the number of problems (0: *out is set; else *out is NULL). */
int school_list_parse(const char *name, const char *buf, size_t len,
                      struct school_list **out, FILE *errs);
void school_list_free(struct school_list *l);

#endif
