/* `gatescreen user ...`: the web page's users (add, list, passwd, disable, enable). */
#ifndef GS_CLI_USER_H
#define GS_CLI_USER_H

#include "cli_nurse.h"

cli_command cli_user_add, cli_user_list, cli_user_passwd, cli_user_disable, cli_user_enable;

#endif
