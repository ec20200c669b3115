/* Simulator commands: one line of text ("arrive ir-1 temp=36.6 card=123456") to a
 * struct sim_cmd, and scenario files of such lines timed with "at T". The format
 * is documented in drivers/sim/README.md. Parsing only: simdev applies them. */
#ifndef GS_SCENARIO_H
#define GS_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"

enum sim_verb { SIM_ARRIVE, SIM_INVALID, SIM_FAULT, SIM_SILENT, SIM_SLOW, SIM_EXCEPTION,
                SIM_MALFORMED, SIM_FLAP, SIM_LEAVE, SIM_CLEAR, SIM_QUIT };

struct sim_cmd {
    int64_t at_ms;        /* scenario files: from the start */
    enum sim_verb verb;
    int device;           /* index into cfg->devices; -1 for quit */
    long temp_centi;      /* arrive, invalid */
    bool has_ambient;
    long ambient_centi;
    uint32_t card;        /* 0: no card presented */
    int64_t delay_ms;     /* slow */
    int64_t up_ms, down_ms; /* flap: answering, then silent, in turn */
    int code;             /* exception */
    int64_t for_ms;       /* how long a condition lasts; 0 = until changed */
};

/* Parses one command without the "at T" prefix; `line` is modified (split into
 * words). Returns 0, or -1 with the reason in err. */
int scenario_parse_command(const struct config *cfg, char *line, struct sim_cmd *cmd,
                           char *err, size_t errlen);
/* An arrive or invalid command as the line that scenario_parse_command reads
 * back: how random arrivals are printed. */
void scenario_format(const struct config *cfg, const struct sim_cmd *cmd, char *buf,
                     size_t n);
/* A time from the start: bare seconds ("1.5") or a duration with its unit
 * ("500ms", "2min"). */
int scenario_parse_time(const char *word, int64_t *ms);
/* true for lines that are blank or only a comment. */
bool scenario_is_blank(const char *line);

struct scenario;

/* Loads a scenario file. Every problem is written to errs as "FILE:LINE: message";
 * returns the number of problems (0: *out is set). */
int scenario_load(const struct config *cfg, const char *path, struct scenario **out,
                  FILE *errs);
/* Monotonic offset (ms from the start) of the next command, or -1 when none is left. */
int64_t scenario_next_due(const struct scenario *s);
/* The next command if it is due at `elapsed_ms`, else NULL. */
const struct sim_cmd *scenario_take(struct scenario *s, int64_t elapsed_ms);
void scenario_free(struct scenario *s);

#endif
