/* `gatescreen observe ...`: health observation (健康观察) from the command line. */
#ifndef GS_CLI_PEOPLE_H
#define GS_CLI_PEOPLE_H

#include "cli_nurse.h"

cli_command cli_observe, cli_observe_end, cli_observations, cli_observation;

#endif
