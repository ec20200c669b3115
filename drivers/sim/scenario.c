#include "scenario.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <modbus/modbus.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "config_load.h"
#include "log.h"
#include "textnum.h"

#define TEMP_MIN_CENTI (-5000L) /* what the device registers can plausibly hold */
#define TEMP_MAX_CENTI 15000L
#define CARD_MAX INT64_C(4294967295)    /* two 16-bit card registers */
#define DURATION_MAX_MS (24LL * 3600 * 1000)
#define AT_MAX_S 1e7

enum arg_kind { ARG_NONE, ARG_DURATION, ARG_DELAY, ARG_CODE, ARG_UP_DOWN };

/* What each command accepts after its device name. */
struct verb_spec {
    const char *name;
    enum sim_verb verb;
    bool device;       /* takes a device name */
    bool values;       /* temp=, card=, ambient= */
    enum arg_kind arg; /* one bare word */
    bool for_ok;       /* "for DURATION" */
};

static const struct verb_spec verbs[] = {
    {"arrive", SIM_ARRIVE, true, true, ARG_NONE, false},
    {"invalid", SIM_INVALID, true, true, ARG_NONE, false},
    {"fault", SIM_FAULT, true, false, ARG_NONE, true},
    {"silent", SIM_SILENT, true, false, ARG_DURATION, true},
    {"slow", SIM_SLOW, true, false, ARG_DELAY, true},
    {"exception", SIM_EXCEPTION, true, false, ARG_CODE, true},
    {"malformed", SIM_MALFORMED, true, false, ARG_NONE, true},
    {"flap", SIM_FLAP, true, false, ARG_UP_DOWN, true},
    {"leave", SIM_LEAVE, true, false, ARG_NONE, false},
    {"clear", SIM_CLEAR, true, false, ARG_NONE, false},
    {"quit", SIM_QUIT, false, false, ARG_NONE, false},
};

struct scenario {
    int n, cap, next;
    struct sim_cmd *cmds; /* sorted by at_ms, file order among equal times */
};

/* Splits off the next blank-separated word of *p, NUL-terminating it in place. */
static char *next_word(char **p)
{
    char *s = *p + strspn(*p, " \t\r\n");
    if (*s == '\0') {
        *p = s;
        return NULL;
    }
    char *e = s + strcspn(s, " \t\r\n");
    if (*e != '\0')
        *e++ = '\0';
    *p = e;
    return s;
}

/* Formats the reason for a parse error; returns -1 for the caller to pass on. */
static int GS_PRINTF(3, 4) fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

bool scenario_is_blank(const char *line)
{
    size_t n = strspn(line, " \t\r\n");
    return line[n] == '\0' || line[n] == '#';
}

static const struct verb_spec *find_verb(const char *name)
{
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (strcmp(verbs[i].name, name) == 0)
            return &verbs[i];
    return NULL;
}

/* ---- arguments ------------------------------------------------------------- */

static int parse_value(char *word, struct sim_cmd *cmd, char *err, size_t errlen)
{
    char *v = strchr(word, '=');
    long n;
    *v++ = '\0';
    bool temp = strcmp(word, "temp") == 0, ambient = strcmp(word, "ambient") == 0;
    if (temp || ambient) {
        if (tn_centi(v, TEMP_MIN_CENTI, TEMP_MAX_CENTI, &n) < 0)
            return fail(err, errlen, "%s=%s: expected °C from -50 to 150, at most two decimals",
                        word, v);
        *(temp ? &cmd->temp_centi : &cmd->ambient_centi) = n;
        cmd->has_ambient |= ambient;
        return 0;
    }
    if (strcmp(word, "card") != 0)
        return fail(err, errlen, "unknown value '%s' (temp, card, ambient)", word);
    int64_t card;
    if (tn_int64(v, 0, CARD_MAX, &card) < 0)
        return fail(err, errlen, "card=%s: expected a number from 0 to %" PRId64, v, CARD_MAX);
    cmd->card = (uint32_t)card;
    return 0;
}

/* UP/DOWN: "1s/500ms", the two halves of a flap. */
static int parse_up_down(char *word, struct sim_cmd *cmd)
{
    char *slash = strchr(word, '/');
    if (slash == NULL)
        return -1;
    *slash = '\0';
    return tn_duration_ms(word, 1, DURATION_MAX_MS, &cmd->up_ms) == 0 &&
                   tn_duration_ms(slash + 1, 1, DURATION_MAX_MS, &cmd->down_ms) == 0
               ? 0
               : -1;
}

static int parse_bare(const struct verb_spec *vs, char *word, struct sim_cmd *cmd,
                      char *err, size_t errlen)
{
    long code;
    switch (vs->arg) {
    case ARG_UP_DOWN:
        if (parse_up_down(word, cmd) == 0)
            return 0;
        return fail(err, errlen, "expected UP/DOWN durations such as 1s/1s");
    case ARG_DURATION:
        if (tn_duration_ms(word, 1, DURATION_MAX_MS, &cmd->for_ms) == 0)
            return 0;
        return fail(err, errlen, "'%s': expected a duration such as 5s", word);
    case ARG_DELAY:
        if (tn_duration_ms(word, 0, DURATION_MAX_MS, &cmd->delay_ms) == 0)
            return 0;
        return fail(err, errlen, "'%s': expected a delay such as 800ms", word);
    case ARG_CODE:
        if (tn_long_hex(word, 1, MODBUS_EXCEPTION_MAX - 1, &code) == 0) {
            cmd->code = (int)code;
            return 0;
        }
        return fail(err, errlen, "'%s': expected an exception code from 1 to %d", word,
                    MODBUS_EXCEPTION_MAX - 1);
    case ARG_NONE: break;
    }
    return fail(err, errlen, "unexpected '%s'", word);
}

static int parse_for(const struct verb_spec *vs, char **p, struct sim_cmd *cmd, char *err,
                     size_t errlen)
{
    char *word = next_word(p);
    if (!vs->for_ok)
        return fail(err, errlen, "%s takes no 'for'", vs->name);
    if (word == NULL || tn_duration_ms(word, 1, DURATION_MAX_MS, &cmd->for_ms) < 0)
        return fail(err, errlen, "'for' needs a duration such as 3s");
    return 0;
}

static int parse_args(const struct verb_spec *vs, char *p, struct sim_cmd *cmd, char *err,
                      size_t errlen)
{
    int bare = 0, rc = 0;
    for (char *w = next_word(&p); w != NULL && rc == 0; w = next_word(&p)) {
        if (strcmp(w, "for") == 0)
            rc = parse_for(vs, &p, cmd, err, errlen);
        else if (strchr(w, '=') != NULL && vs->values)
            rc = parse_value(w, cmd, err, errlen);
        else if (bare++ == 0)
            rc = parse_bare(vs, w, cmd, err, errlen);
        else
            rc = fail(err, errlen, "unexpected '%s'", w);
    }
    return rc;
}

/* ---- commands -------------------------------------------------------------- */

/* What a command cannot do without: a temperature, a delay, a code, a duration. */
static int check_complete(const struct verb_spec *vs, const struct sim_cmd *cmd, char *err,
                          size_t errlen)
{
    if (vs->values && cmd->temp_centi == LONG_MIN)
        return fail(err, errlen, "%s needs temp=", vs->name);
    if (vs->arg == ARG_DELAY && cmd->delay_ms < 0)
        return fail(err, errlen, "slow needs a delay, e.g. 'slow DEVICE 800ms'");
    if (vs->arg == ARG_CODE && cmd->code == 0)
        return fail(err, errlen, "exception needs a code, e.g. 'exception DEVICE 4'");
    if (vs->arg == ARG_DURATION && cmd->for_ms == 0)
        return fail(err, errlen, "silent needs a duration, e.g. 'silent DEVICE 5s'");
    if (vs->arg == ARG_UP_DOWN && cmd->up_ms == 0)
        return fail(err, errlen, "flap needs UP/DOWN, e.g. 'flap DEVICE 1s/1s'");
    return 0;
}

int scenario_parse_command(const struct config *cfg, char *line, struct sim_cmd *cmd,
                           char *err, size_t errlen)
{
    line[strcspn(line, "#")] = '\0';
    char *p = line, *word = next_word(&p);
    const struct verb_spec *vs = word ? find_verb(word) : NULL;
    if (vs == NULL)
        return fail(err, errlen, "unknown command '%s'", word ? word : "");
    *cmd = (struct sim_cmd){.verb = vs->verb, .device = -1, .temp_centi = LONG_MIN,
                            .delay_ms = -1};
    if (vs->device) {
        char *name = next_word(&p);
        if (name == NULL)
            return fail(err, errlen, "%s needs a device name", vs->name);
        if ((cmd->device = config_find_device(cfg, name)) < 0)
            return fail(err, errlen, "unknown device '%s'", name);
    }
    if (parse_args(vs, p, cmd, err, errlen) < 0)
        return -1;
    return check_complete(vs, cmd, err, errlen);
}

void scenario_format(const struct config *cfg, const struct sim_cmd *cmd, char *buf, size_t n)
{
    char temp[16], card[24] = "";
    const char *verb = cmd->verb == SIM_INVALID ? "invalid" : "arrive";
    if (cmd->card != 0)
        snprintf(card, sizeof card, " card=%lu", (unsigned long)cmd->card);
    snprintf(buf, n, "%s %s%s temp=%s", verb, cfg->devices[cmd->device].name, card,
             tn_format_centi(cmd->temp_centi, temp, sizeof temp));
}

/* ---- files ----------------------------------------------------------------- */

int scenario_parse_time(const char *word, int64_t *ms)
{
    double s;
    if (word != NULL && tn_double(word, 0, AT_MAX_S, &s) == 0) {
        *ms = llround(s * 1000.0);
        return 0;
    }
    return word != NULL && tn_duration_ms(word, 0, (int64_t)AT_MAX_S * 1000, ms) == 0 ? 0 : -1;
}

/* Inserts after every command with the same or an earlier time (stable). */
static int add_command(struct scenario *s, const struct sim_cmd *cmd)
{
    if (s->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 16;
        struct sim_cmd *c = realloc(s->cmds, (size_t)cap * sizeof *c);
        if (c == NULL)
            return -1;
        s->cmds = c;
        s->cap = cap;
    }
    int i = s->n;
    while (i > 0 && s->cmds[i - 1].at_ms > cmd->at_ms) {
        s->cmds[i] = s->cmds[i - 1];
        i--;
    }
    s->cmds[i] = *cmd;
    s->n++;
    return 0;
}

static int load_line(const struct config *cfg, struct scenario *s, char *line, char *err,
                     size_t errlen)
{
    struct sim_cmd cmd;
    int64_t at;
    line[strcspn(line, "#")] = '\0';
    char *p = line, *word = next_word(&p);
    if (word == NULL || strcmp(word, "at") != 0)
        return fail(err, errlen, "expected 'at SECONDS COMMAND'");
    if (scenario_parse_time(next_word(&p), &at) < 0)
        return fail(err, errlen, "'at' needs a time in seconds, e.g. 'at 1.5'");
    if (scenario_parse_command(cfg, p, &cmd, err, errlen) < 0)
        return -1;
    cmd.at_ms = at;
    if (add_command(s, &cmd) < 0)
        return fail(err, errlen, "out of memory");
    return 0;
}

static int load_stream(const struct config *cfg, const char *path, FILE *f,
                       struct scenario *s, FILE *errs)
{
    char *line = NULL, err[256];
    size_t cap = 0;
    int lineno = 0, problems = 0;
    while (getline(&line, &cap, f) >= 0) {
        lineno++;
        if (scenario_is_blank(line))
            continue;
        if (load_line(cfg, s, line, err, sizeof err) < 0) {
            fprintf(errs, "%s:%d: %s\n", path, lineno, err);
            problems++;
        }
    }
    free(line);
    return problems;
}

int scenario_load(const struct config *cfg, const char *path, struct scenario **out,
                  FILE *errs)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(errs, "%s: %s\n", path, strerror(errno));
        return 1;
    }
    struct scenario *s = calloc(1, sizeof *s);
    int problems = s ? load_stream(cfg, path, f, s, errs) : 1;
    fclose(f);
    if (problems) {
        scenario_free(s);
        return problems;
    }
    *out = s;
    return 0;
}

int64_t scenario_next_due(const struct scenario *s)
{
    return s && s->next < s->n ? s->cmds[s->next].at_ms : -1;
}

const struct sim_cmd *scenario_take(struct scenario *s, int64_t elapsed_ms)
{
    if (s == NULL || s->next >= s->n || s->cmds[s->next].at_ms > elapsed_ms)
        return NULL;
    return &s->cmds[s->next++];
}

void scenario_free(struct scenario *s)
{
    if (s == NULL)
        return;
    free(s->cmds);
    free(s);
}
