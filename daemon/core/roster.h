/* The school roster as CSV: parsing and validation only (no database).
 * Format (README "Roster format"): UTF-8 (optional BOM), RFC 4180 quoting, a header
 * row naming the columns in any order:
 *   external_id (required)  the school's id for the person, unique
 *   kind        (required)  student | teacher | staff (also 学生 | 教师 | 职工)
 *   name        (required)  as written, stored byte for byte
 *   grade, class            optional text
 *   card                    optional card number, decimal, unique in the file
 *   active                  optional yes/no (default yes)
 *   boarder                 optional yes/no (default no): sleeps at school (住校生)
 * and the Chinese names schools' exports use (roster.c, README "Roster format").
 */
#ifndef GS_ROSTER_H
#define GS_ROSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum person_kind { PERSON_STUDENT, PERSON_TEACHER, PERSON_STAFF };

/* "student", "teacher", "staff". */
const char *person_kind_name(enum person_kind kind);
/* Accepts the English names and the Chinese ones listed above. */
int person_kind_parse(const char *text, enum person_kind *out);

#define ROSTER_ID_MAX 64
#define ROSTER_NAME_MAX 128
#define ROSTER_GRADE_MAX 32
#define ROSTER_CLASS_MAX 64

struct roster_row {
    int line;                         /* file line where the record starts */
    char external_id[ROSTER_ID_MAX];
    enum person_kind kind;
    char name[ROSTER_NAME_MAX];
    char grade[ROSTER_GRADE_MAX];
    char class_name[ROSTER_CLASS_MAX];
    bool has_card;
    uint64_t card;
    bool active;
    bool boarder;
};

struct roster {
    int nrows;
    struct roster_row *rows;
    /* Header names of columns read and not kept (性别, 序号, 备注), ", "-separated. */
    char unkept[128];
};

/* Parses a whole CSV file held in memory. Every problem is written to `errs` as
 * "NAME:LINE: message" and counted; returns the number of problems (0 = *out is
 * set and valid; >0 = *out is NULL). Never stops at the first problem. */
int roster_parse(const char *name, const char *buf, size_t len, struct roster **out,
                 FILE *errs);
void roster_free(struct roster *roster);

#endif
