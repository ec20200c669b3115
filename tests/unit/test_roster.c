#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roster.h"

#define HEADER "external_id,kind,name,grade,class,card,active\n"
/* Every header name accepted, as "unknown column" lists them. */
#define ACCEPTED "external_id (学号, 工号, 学号/工号, 学籍号, 编号, id), kind (类别, 身份, " \
    "人员类别), name (姓名), grade (年级), class (班级), card (卡号), active (状态, 在校), " \
    "boarder (住校); read and not kept: 性别, 序号, 备注"

/* Parses `len` bytes as "t.csv"; *errs gets everything written to the error stream. */
static int parse_n(const char *text, size_t len, struct roster **out, char **errs)
{
    size_t n;
    FILE *f = open_memstream(errs, &n);
    assert_non_null(f);
    int problems = roster_parse("t.csv", text, len, out, f);
    fclose(f);
    if (problems > 0)
        assert_null(*out);
    else
        assert_non_null(*out);
    return problems;
}

static int parse(const char *text, struct roster **out, char **errs)
{
    return parse_n(text, strlen(text), out, errs);
}

/* The file must parse cleanly; returns the roster. */
static struct roster *good(const char *text)
{
    struct roster *r = NULL;
    char *errs = NULL;
    int problems = parse(text, &r, &errs);
    if (problems != 0)
        fail_msg("unexpected problems:\n%s", errs);
    assert_string_equal(errs, "");
    free(errs);
    return r;
}

/* The file must fail with exactly these messages. */
static void bad_n(const char *text, size_t len, int want_problems, const char *want_errs)
{
    struct roster *r = (struct roster *)&r; /* must be reset to NULL */
    char *errs = NULL;
    int problems = parse_n(text, len, &r, &errs);
    assert_string_equal(errs, want_errs);
    assert_int_equal(problems, want_problems);
    free(errs);
}

static void bad(const char *text, int want_problems, const char *want_errs)
{
    bad_n(text, strlen(text), want_problems, want_errs);
}

/* The file must fail; the error text must contain `want` (for long messages). */
static void bad_has(const char *text, const char *want)
{
    struct roster *r = NULL;
    char *errs = NULL;
    assert_true(parse(text, &r, &errs) > 0);
    if (strstr(errs, want) == NULL)
        fail_msg("expected \"%s\" in:\n%s", want, errs);
    free(errs);
}

static void test_chinese_round_trip(void **state)
{
    (void)state;
    static const char *const names[] = {
        "张伟", "欧阳娜娜", "\xF0\xA0\xAE\xB7田一郎" /* 𠮷, outside the BMP */, "王喆",
        "李堃", "陈淼", "买买提·艾力", "司马相如",
    };
    char text[2048] = HEADER;
    size_t used = strlen(text);
    for (size_t i = 0; i < 8; i++)
        used += (size_t)snprintf(text + used, sizeof text - used,
                                 "S%03zu,student,%s,三年级,三年级2班,%zu,yes\n", i, names[i],
                                 100000 + i);
    struct roster *r = good(text);
    assert_int_equal(r->nrows, 8);
    for (int i = 0; i < 8; i++) {
        const struct roster_row *row = &r->rows[i];
        assert_string_equal(row->name, names[i]);
        assert_memory_equal(row->name, names[i], strlen(names[i]) + 1);
        assert_string_equal(row->grade, "三年级");
        assert_string_equal(row->class_name, "三年级2班");
        assert_true(row->has_card);
        assert_int_equal(row->card, 100000 + i);
        assert_int_equal(row->kind, PERSON_STUDENT);
        assert_true(row->active);
        assert_int_equal(row->line, i + 2);
    }
    assert_string_equal(r->rows[3].external_id, "S003");
    roster_free(r);
}

static void test_bom_crlf_no_final_newline(void **state)
{
    (void)state;
    struct roster *r = good("\xEF\xBB\xBF" "external_id,kind,name\r\nT1,teacher,李老师\r\n"
                            "W1,staff,赵师傅");
    assert_int_equal(r->nrows, 2);
    assert_string_equal(r->rows[0].external_id, "T1"); /* not "\xEF\xBB\xBF..." */
    assert_string_equal(r->rows[0].name, "李老师");
    assert_string_equal(r->rows[1].name, "赵师傅"); /* no stray \r */
    assert_int_equal(r->rows[1].line, 3);
    assert_int_equal(r->rows[1].kind, PERSON_STAFF);
    assert_false(r->rows[1].has_card);
    assert_string_equal(r->rows[1].grade, "");
    roster_free(r);
}

static void test_quoting(void **state)
{
    (void)state;
    struct roster *r = good(HEADER "S1,student,\"O\"\"Brien, Jo\",\"一年级\",\"\",\"42\",yes\r\n"
                            "S2,student, \"  spaced  \" ,,,,\n"
                            "\"S3\",\"student\",\"a,b,\"\"c\"\"\",,,,\"\"\n");
    assert_int_equal(r->nrows, 3);
    assert_string_equal(r->rows[0].name, "O\"Brien, Jo");
    assert_string_equal(r->rows[0].grade, "一年级");
    assert_string_equal(r->rows[0].class_name, "");
    assert_int_equal(r->rows[0].card, 42);
    assert_string_equal(r->rows[1].name, "  spaced  "); /* inside quotes: kept */
    assert_string_equal(r->rows[2].external_id, "S3");
    assert_string_equal(r->rows[2].name, "a,b,\"c\"");
    assert_true(r->rows[2].active);
    roster_free(r);
}

static void test_trim_blank_lines_and_order(void **state)
{
    (void)state;
    struct roster *r = good("\n  \nName , CARD,Kind,EXTERNAL_ID, active\n\n"
                            "  周杰 ,  7 , Teacher ,T9 , No \n \t \n"
                            "吴桐,,STUDENT,S9,0\n");
    assert_int_equal(r->nrows, 2);
    assert_string_equal(r->rows[0].name, "周杰");
    assert_string_equal(r->rows[0].external_id, "T9");
    assert_int_equal(r->rows[0].kind, PERSON_TEACHER);
    assert_int_equal(r->rows[0].card, 7);
    assert_false(r->rows[0].active);
    assert_int_equal(r->rows[0].line, 5);
    assert_int_equal(r->rows[1].line, 7);
    assert_false(r->rows[1].has_card);
    assert_false(r->rows[1].active);
    roster_free(r);
}

static void test_chinese_header_and_values(void **state)
{
    (void)state;
    struct roster *r = good("姓名,学号,类别,年级,班级,卡号,在校\n"
                            "刘洋,S1,学生,一年级,一年级1班,123,是\n"
                            "孙老师,T1,老师,,,,否\n"
                            "钱师傅,W1,后勤,,,,\n"
                            "马丽,T2,教师,,,,true\n"
                            "何平,W2,职工,,,,on\n"
                            "高峰,W3,员工,,,,1\n");
    assert_int_equal(r->nrows, 6);
    assert_int_equal(r->rows[0].kind, PERSON_STUDENT);
    assert_true(r->rows[0].active);
    assert_int_equal(r->rows[1].kind, PERSON_TEACHER);
    assert_false(r->rows[1].active);
    assert_int_equal(r->rows[2].kind, PERSON_STAFF);
    assert_true(r->rows[2].active); /* empty = yes */
    assert_int_equal(r->rows[3].kind, PERSON_TEACHER);
    assert_int_equal(r->rows[4].kind, PERSON_STAFF);
    assert_int_equal(r->rows[5].kind, PERSON_STAFF);
    roster_free(r);
    r = good("工号,类别,姓名\nT7,教师,钱七\n");
    assert_string_equal(r->rows[0].external_id, "T7");
    roster_free(r);
}

static void test_kind_names(void **state)
{
    (void)state;
    enum person_kind k;
    assert_int_equal(person_kind_parse("STAFF", &k), 0);
    assert_int_equal(k, PERSON_STAFF);
    assert_int_equal(person_kind_parse("学生", &k), 0);
    assert_int_equal(k, PERSON_STUDENT);
    assert_int_equal(person_kind_parse("pupil", &k), -1);
    assert_int_equal(person_kind_parse("", &k), -1);
    assert_int_equal(person_kind_parse(NULL, &k), -1);
    assert_string_equal(person_kind_name(PERSON_STUDENT), "student");
    assert_string_equal(person_kind_name(PERSON_TEACHER), "teacher");
    assert_string_equal(person_kind_name(PERSON_STAFF), "staff");
}

static void test_cards(void **state)
{
    (void)state;
    struct roster *r = good("external_id,kind,name,card\nS1,student,甲,9007199254740991\n"
                            "S2,student,乙,000123\n");
    assert_int_equal(r->rows[0].card, 9007199254740991ULL);
    assert_int_equal(r->rows[1].card, 123);
    roster_free(r);
    bad("external_id,kind,name,card\nS1,student,甲,12a4\nS2,student,乙,-5\n"
        "S3,student,丙,0\nS4,student,丁,9007199254740992\nS5,student,戊,1e6\n"
        "S6,student,己,99999999999999999999999\n", 6,
        "t.csv:2: card \"12a4\" is not a number (decimal digits only, "
        "no spaces inside; format the column as text in the spreadsheet)\n"
        "t.csv:3: card \"-5\" is not a number (decimal digits only, "
        "no spaces inside; format the column as text in the spreadsheet)\n"
        "t.csv:4: card 0 is out of range (1 to 9007199254740991)\n"
        "t.csv:5: card 9007199254740992 is out of range (1 to 9007199254740991)\n"
        "t.csv:6: card \"1e6\" is not a number (decimal digits only, "
        "no spaces inside; format the column as text in the spreadsheet)\n"
        "t.csv:7: card 99999999999999999999999 is out of range (1 to 9007199254740991)\n");
    bad("external_id,kind,name,card\nS1,student,甲,55\nS2,student,乙,66\n"
        "S3,student,丙,055\n", 1, "t.csv:4: card 55 is on line 2 and again on line 4\n");
}

static void test_ids(void **state)
{
    (void)state;
    bad(HEADER "S1,student,甲,,,,\nS2,student,乙,,,,\n,student,丙,,,,\n"
        "S1,student,丁,,,,\n\"S 5\",student,戊,,,,\n", 3,
        "t.csv:4: empty external_id\n"
        "t.csv:5: duplicate external_id \"S1\" (first on line 2)\n"
        "t.csv:6: external_id \"S 5\" contains a space\n");
    char text[256];
    snprintf(text, sizeof text, "external_id,kind,name\n%064d,student,甲\n", 7);
    bad(text, 1, "t.csv:2: external_id is too long (64 bytes; at most 63)\n");
    snprintf(text, sizeof text, "external_id,kind,name\n%063d,student,甲\n", 7);
    roster_free(good(text));
    bad("external_id,kind,name\nS1\xE3\x80\x80,student,甲\n", 1,
        "t.csv:2: external_id \"S1\xE3\x80\x80\" contains a space\n");
}

static void test_kind_and_active(void **state)
{
    (void)state;
    bad(HEADER "S1,pupil,甲,,,,\nS2,,乙,,,,\nS3,student,丙,,,,maybe\n", 3,
        "t.csv:2: unknown kind \"pupil\" (expected student, teacher or staff; "
        "学生, 教师/老师 or 职工/员工/后勤)\n"
        "t.csv:3: unknown kind \"\" (expected student, teacher or staff; "
        "学生, 教师/老师 or 职工/员工/后勤)\n"
        "t.csv:4: active \"maybe\" is not yes or no (是/否; 在校, 在读, 在职, 正常 or 离校, "
        "毕业, 休学, 转学, 退学, 离职, 退休)\n");
}

static void test_names(void **state)
{
    (void)state;
    char text[512] = "external_id,kind,name\nS1,student,";
    size_t n = strlen(text);
    for (int i = 0; i < 42; i++) /* 42 x 3 = 126 bytes: fits */
        n += (size_t)snprintf(text + n, sizeof text - n, "张");
    snprintf(text + n, sizeof text - n, "a\n");
    struct roster *r = good(text);
    assert_int_equal(strlen(r->rows[0].name), 127);
    roster_free(r);
    snprintf(text + n, sizeof text - n, "ab\n");
    bad(text, 1, "t.csv:2: name is too long (128 bytes; at most 127)\n");
    bad("external_id,kind,name\nS1,student,\nS2,student,\"  \"\n", 2,
        "t.csv:2: empty name\nt.csv:3: empty name\n");
    bad("external_id,kind,name,grade,class\nS1,student,甲,一二三四五六七八九十一,\n", 1,
        "t.csv:2: grade is too long (33 bytes; at most 31)\n");
}

static void test_control_characters(void **state)
{
    (void)state;
    /* A line break inside quotes is CSV, but not a name: the record spans lines 2-3
     * and the next record is on line 4. */
    bad("external_id,kind,name\nS1,student,\"张\n三\"\nS2,bogus,李四\nS3,student,王\t五\n", 3,
        "t.csv:2: field \"name\" contains a line break (U+000A at byte 4; no control "
        "characters allowed)\n"
        "t.csv:4: unknown kind \"bogus\" (expected student, teacher or staff; "
        "学生, 教师/老师 or 职工/员工/后勤)\n"
        "t.csv:5: field \"name\" contains a control character (U+0009 at byte 4; no control "
        "characters allowed)\n");
    static const char nul[] = "external_id,kind,name\nS1,student,a\0b\n";
    bad_n(nul, sizeof nul - 1, 1,
          "t.csv:2: field \"name\" contains a control character (U+0000 at byte 2; no control "
          "characters allowed)\n");
    bad("external_id,kind,name\nS1,student,a\xC2\x85z\n", 1,
        "t.csv:2: field \"name\" contains a control character (U+0085 at byte 2; no control "
        "characters allowed)\n");
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    bad(HEADER "S1,student,\xE5\xBC\xA0\xFF,,,,\n"
        "S2,student,\xC0\xAF,,,,\n"
        "S3,student,ab\xE5\xBC,,,,\n"
        "S4,student,ok,\xED\xA0\x80,,,\n"
        "S5\xF4\x90\x80\x80,student,ok,,,,\n", 5,
        "t.csv:2: invalid UTF-8 at byte 4 of field \"name\"\n"
        "t.csv:3: invalid UTF-8 at byte 1 of field \"name\"\n"
        "t.csv:4: invalid UTF-8 at byte 3 of field \"name\"\n"
        "t.csv:5: invalid UTF-8 at byte 1 of field \"grade\"\n"
        "t.csv:6: invalid UTF-8 at byte 3 of field \"external_id\"\n");
    /* Fields that are not columns: their number. */
    bad("external_id,kind,name\nS1,student,x,\xFF\n", 2,
        "t.csv:2: invalid UTF-8 at byte 1 of field 4\n"
        "t.csv:2: expected 3 fields, found 4\n");
}

static void test_malformed_quoting(void **state)
{
    (void)state;
    bad(HEADER "S1,student,ab\"c,,,,\n"
        "S2,student,\"abc\"x,,,,\n"
        "S3,student,ok,,,,\n"
        "S4,nobody,ok,,,,\n", 3,
        "t.csv:2: field 3: a quote inside an unquoted field (quote the whole field and "
        "double the quote)\n"
        "t.csv:3: field 3: text after the closing quote\n"
        "t.csv:5: unknown kind \"nobody\" (expected student, teacher or staff; "
        "学生, 教师/老师 or 职工/员工/后勤)\n");
    /* The error is on the record's first line even when found on a later one. */
    bad(HEADER "S1,student,\"a\nb\"c,,,,\nS2,x,ok,,,,\n", 2,
        "t.csv:2: field 3: text after the closing quote\n"
        "t.csv:4: unknown kind \"x\" (expected student, teacher or staff; "
        "学生, 教师/老师 or 职工/员工/后勤)\n");
}

static void test_unterminated_quote(void **state)
{
    (void)state;
    bad("external_id,kind,name,grade,class,card,active\n"
        "S1,student,\xE5\xBC\xA0\xFF,1,1,,yes\n"
        "S2,student,\"unterminated,1,1,,yes\n", 2,
        "t.csv:2: invalid UTF-8 at byte 4 of field \"name\"\n"
        "t.csv:3: field 3: the quote is never closed (the field runs to the end of the "
        "file)\n");
    /* The lines after an unterminated quote are still checked. */
    bad("external_id,kind,name\nS1,student,\"abc\nS2,student,ok\nS3,wrong,ok\n", 2,
        "t.csv:2: field 3: the quote is never closed (the field runs to the end of the "
        "file)\n"
        "t.csv:4: unknown kind \"wrong\" (expected student, teacher or staff; "
        "学生, 教师/老师 or 职工/员工/后勤)\n");
}

static void test_field_count(void **state)
{
    (void)state;
    bad(HEADER "S1,student,甲,,,\nS2,student,乙,,,,,\nS3,student,丙,,,,\n", 2,
        "t.csv:2: expected 7 fields, found 6\n"
        "t.csv:3: expected 7 fields, found 8\n");
}

static void test_header_problems(void **state)
{
    (void)state;
    /* Rows are not read at all after a bad header: S1's bad kind is not reported. */
    bad("external_id,name,grade\nS1,nobody,x\n", 1,
        "t.csv:1: missing required column \"kind\" (类别, 身份 or 人员类别; may be left out "
        "only when the id column is 学号)\n");
    bad("\n\nexternal_id,kind,name,colour,Name,\nS1,nobody,x,y,z,\n", 3,
        "t.csv:3: unknown column \"colour\" (accepted: " ACCEPTED ")\n"
        "t.csv:3: duplicate column \"name\" (columns 3 and 5)\n"
        "t.csv:3: column 6 has no name\n");
    bad("ident,kind\n", 3,
        "t.csv:1: unknown column \"ident\" (accepted: " ACCEPTED ")\n"
        "t.csv:1: missing required column \"external_id\" (学号, 工号 or 学号/工号)\n"
        "t.csv:1: missing required column \"name\" (姓名)\n");
    bad("external_id,\"kind,name\n", 1,
        "t.csv:1: field 2: the quote is never closed (the field runs to the end of the "
        "file)\n");
    bad("external_id,kind,n\xFF\n", 2,
        "t.csv:1: invalid UTF-8 at byte 2 of field 3\n"
        "t.csv:1: missing required column \"name\" (姓名)\n");
}

static void test_empty_and_header_only(void **state)
{
    (void)state;
    const char *no_header = "t.csv:1: no header (the file is empty; the first row names the "
                            "columns: external_id,kind,name,...)\n";
    bad("", 1, no_header);
    bad("\xEF\xBB\xBF", 1, no_header);
    bad("\n \r\n\t\n", 1, no_header);
    struct roster *r = NULL;
    assert_int_equal(roster_parse("t.csv", NULL, 0, &r, NULL), 1);
    assert_null(r);
    r = good(HEADER);
    assert_int_equal(r->nrows, 0);
    roster_free(r);
    r = good("external_id,kind,name");
    assert_int_equal(r->nrows, 0);
    roster_free(r);
    roster_free(NULL);
}

static void test_multiple_errors(void **state)
{
    (void)state;
    bad(HEADER "S1,student,甲,,,1,\n"
        "S1,student,乙,,,1,\n"
        ",pupil,,,,x,maybe\n"
        "S4,student,丁,,,\n", 8,
        "t.csv:3: duplicate external_id \"S1\" (first on line 2)\n"
        "t.csv:3: card 1 is on line 2 and again on line 3\n"
        "t.csv:4: empty external_id\n"
        "t.csv:4: unknown kind \"pupil\" (expected student, teacher or staff; "
        "学生, 教师/老师 or 职工/员工/后勤)\n"
        "t.csv:4: empty name\n"
        "t.csv:4: card \"x\" is not a number (decimal digits only, "
        "no spaces inside; format the column as text in the spreadsheet)\n"
        "t.csv:4: active \"maybe\" is not yes or no (是/否; 在校, 在读, 在职, 正常 or 离校, "
        "毕业, 休学, 转学, 退学, 离职, 退休)\n"
        "t.csv:5: expected 7 fields, found 6\n");
    /* Long values are clipped in messages, never in the middle of a character. */
    bad_has("external_id,kind,name\nS1,一二三四五六七八九十一二三四五六七八九十,甲\n",
            "unknown kind \"一二三四五六七八九十一二三四五六...\"");
}

static void test_message_cap(void **state)
{
    (void)state;
    size_t cap = 1500 * 24 + 64, n = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    n += (size_t)snprintf(text, cap, "external_id,kind,name\n");
    for (int i = 0; i < 1500; i++)
        n += (size_t)snprintf(text + n, cap - n, "S%d,pupil,x\n", i);
    struct roster *r = NULL;
    char *errs = NULL;
    assert_int_equal(parse(text, &r, &errs), 1500);
    size_t lines = 0;
    for (const char *p = errs; (p = strchr(p, '\n')) != NULL; p++)
        lines++;
    assert_int_equal(lines, 1001);
    assert_non_null(strstr(errs, "t.csv:1001: unknown kind"));
    assert_null(strstr(errs, "t.csv:1002:"));
    assert_non_null(strstr(errs, "\nt.csv: ... and 500 more problems\n"));
    free(errs);
    free(text);
}

static void test_100k_rows(void **state)
{
    (void)state;
    const int rows = 100000;
    size_t cap = (size_t)rows * 80 + 64, n = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    n += (size_t)snprintf(text, cap, "%s", HEADER);
    for (int i = 0; i < rows; i++)
        n += (size_t)snprintf(text + n, cap - n, "S%07d,student,欧阳%d,六年级,六年级%d班,%d,yes\n",
                              i, i % 97, i % 4 + 1, 1000000 + i * 7);
    struct roster *r = good(text);
    assert_int_equal(r->nrows, rows);
    assert_string_equal(r->rows[rows - 1].external_id, "S0099999");
    assert_int_equal(r->rows[rows - 1].card, 1000000 + (rows - 1) * 7);
    assert_int_equal(r->rows[rows - 1].line, rows + 1);
    roster_free(r);
    /* The same with one duplicate at the end: found through the index. */
    snprintf(text + n, cap - n, "S0000005,student,重复,,,\n");
    bad(text, 1, "t.csv:100002: expected 7 fields, found 6\n");
    snprintf(text + n, cap - n, "S0000005,student,重复,,,,yes\n");
    bad(text, 1, "t.csv:100002: duplicate external_id \"S0000005\" (first on line 7)\n");
    free(text);
}

/* Issue 19: a typical Excel export from a Chinese school's system (BOM, CRLF, a
 * bilingual id header, no kind column, gender, boarders, a status column). */
static void test_school_export(void **state)
{
    (void)state;
    struct roster *r = good("\xEF\xBB\xBF" "学号/ID,姓名,性别,年级,班级,卡号,住校,状态\r\n"
                            "20250101,张三,男,初一,初一(1)班,0012345678,是,在校\r\n"
                            "20250102,李四,女,初一,初一(1)班,,否,毕业\r\n"
                            "20250103,王五,男,初一,初一(2)班,\" 0077 \",,在读\r\n");
    assert_int_equal(r->nrows, 3);
    assert_string_equal(r->rows[0].external_id, "20250101");
    assert_int_equal(r->rows[0].kind, PERSON_STUDENT); /* 学号 and no kind column */
    assert_int_equal(r->rows[0].card, 12345678);        /* the number is the card */
    assert_true(r->rows[0].boarder);
    assert_true(r->rows[0].active);
    assert_false(r->rows[1].boarder);
    assert_false(r->rows[1].active);
    assert_int_equal(r->rows[2].card, 77);              /* blanks around: dropped */
    assert_false(r->rows[2].boarder);                   /* empty = no */
    assert_true(r->rows[2].active);
    roster_free(r);
    /* Variants: brackets, a required-field star, full-width spaces, English too. */
    r = good("学号/工号,人员类别,姓名（Name）,班级*,卡号,住校,\xE3\x80\x80Status\n"
             "T1,教师,孙老师,,,走读,在职\nS1,学生,刘洋,一年级1班,42,住校,离校\n");
    assert_int_equal(r->rows[0].kind, PERSON_TEACHER);
    assert_false(r->rows[0].boarder);
    assert_true(r->rows[0].active);
    assert_true(r->rows[1].boarder);
    assert_false(r->rows[1].active);
    assert_string_equal(r->rows[1].class_name, "一年级1班");
    roster_free(r);
    r = good("id,kind,name,boarder\nS1,student,甲,yes\nS2,student,乙,no\n");
    assert_true(r->rows[0].boarder);
    assert_false(r->rows[1].boarder);
    roster_free(r);
    /* 工号 alone does not say teacher or staff: the kind column is needed. */
    bad_has("工号,姓名\nT1,钱七\n", "missing required column \"kind\" (类别, 身份 or 人员类别; "
            "may be left out only when the id column is 学号)");
    bad_has("学号,姓名,住校\nS1,甲,maybe\n", "boarder \"maybe\" is not yes or no (是/否, 住校/走读)");
    bad_has("学号,姓名,状态\nS1,甲,maybe\n", "active \"maybe\" is not yes or no");
    bad_has("学号,姓名,卡号\nS1,甲,\"12 34\"\n", "card \"12 34\" is not a number (decimal "
            "digits only, no spaces inside");
    bad_has("学号/姓名,班级\n", "column \"学号/姓名\" names two columns (external_id and name)");
    bad_has("学号,姓名,colour\n", "unknown column \"colour\" (accepted: external_id (学号, 工号, "
            "学号/工号, 学籍号, 编号, id)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chinese_round_trip),
        cmocka_unit_test(test_bom_crlf_no_final_newline),
        cmocka_unit_test(test_quoting),
        cmocka_unit_test(test_trim_blank_lines_and_order),
        cmocka_unit_test(test_chinese_header_and_values),
        cmocka_unit_test(test_kind_names),
        cmocka_unit_test(test_cards),
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_kind_and_active),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_control_characters),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_malformed_quoting),
        cmocka_unit_test(test_unterminated_quote),
        cmocka_unit_test(test_field_count),
        cmocka_unit_test(test_header_problems),
        cmocka_unit_test(test_empty_and_header_only),
        cmocka_unit_test(test_multiple_errors),
        cmocka_unit_test(test_message_cap),
        cmocka_unit_test(test_100k_rows),
        cmocka_unit_test(test_school_export),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
