/* gatescreen-sim's Hikvision terminals (drivers/sim/README.md, "Terminals"): every
 * [terminal] of kind hikvision-isapi in the configuration behaves like a face/
 * thermal terminal. mode = push: it POSTs each event to [terminals] listen from
 * its own address (JSON, or multipart with a JPEG), sends again after a failure,
 * and can repeat an event (a terminal that saw no answer). mode = stream: it serves
 * GET /ISAPI/Event/notification/alertStream on address:isapi_port with HTTP Digest
 * (its user and password_file), XML heartbeats and the events as JSON or XML parts,
 * each followed by a JPEG. Commands come from the simulator's stdin. */
#ifndef GS_SIM_TERMINAL_H
#define GS_SIM_TERMINAL_H

#include <stddef.h>

#include "config.h"

struct sim_terms;

/* NULL with *failed = 0 when the configuration has no Hikvision terminal; NULL with
 * *failed = 1 (logged) when a port cannot be had or a password file read. */
struct sim_terms *sim_terms_start(const struct config *cfg, int *failed);
void sim_terms_stop(struct sim_terms *st);

/* Whether `line` is a terminal command ("face ...", "face-drop ..."). */
int sim_terms_is_command(const char *line);
/* Runs it: 0, or -1 with the reason in err. `line` is modified. */
int sim_terms_command(struct sim_terms *st, char *line, char *err, size_t errlen);

#endif
