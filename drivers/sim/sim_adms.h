/* A simulated ZKTeco ADMS (iClock push) terminal for gatescreen-sim (--adms NAME;
 * drivers/sim/README.md "ADMS terminals"): it is the config's [terminal NAME] of
 * kind zkteco-adms, talks from its address to [terminals] listen with its serial,
 * and does what the devices do: the handshake until answered, a heartbeat every
 * Delay, and ATTLOG uploads of the punches it is given, with the temperature and
 * mask in the columns, scale and unit its [terminal] says; an upload not answered
 * 200 stays queued and is sent again (with what came since: a backlog), and a punch
 * may be sent twice on purpose (a terminal that missed the answer). One thread per
 * terminal; its log says what it sent and got. */
#ifndef GS_SIM_ADMS_H
#define GS_SIM_ADMS_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define SIM_ADMS_MAX 8

struct sim_adms;

/* The terminal `name` of `cfg` (which must outlive it); NULL with `why`. The
 * process time zone must be the school's already (its lines are local time). */
struct sim_adms *sim_adms_start(const struct config *cfg, const char *name, int64_t heartbeat_ms,
                                char *why, size_t why_len);
void sim_adms_stop(struct sim_adms *a);

/* A stdin command for the ADMS terminals:
 *   punch NAME PIN [TEMP] [mask=0|1] [skew=SECONDS] [dup]
 *   silent NAME on|off      (off the network: no heartbeats, no uploads)
 * 1: done; 0: not an ADMS command (also `silent` naming no ADMS terminal: a
 * device's); -1: refused, `why` says why. */
int sim_adms_command(struct sim_adms *const *all, int n, const char *line, char *why,
                     size_t why_len);

#endif
