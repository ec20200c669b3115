/* `gatescreen upstream enrol BUNDLE`: installs the bureau's enrolment bundle
 * (runtime/bundle.h) on the school's box and points [upstream] at it. */
#ifndef GS_CLI_ENROL_H
#define GS_CLI_ENROL_H

#include "cli_nurse.h"

/* upstream enrol BUNDLE [--dir DIR] [--config FILE] [--user NAME]: checks the bundle
 * (its certificate is this school's, the key is the certificate's, the CAs parse)
 * against [school] code; writes DIR/bureau-ca.pem, client.pem (0644), client.key
 * and token (0600, owned by NAME, default gatescreen, when run as root), a new
 * pseudonym key when there is none; sets [upstream] url, ca_file, client_cert,
 * client_key, token_file (and secret_file) in the configuration, every other line
 * kept; and checks the result as gatescreend would. All or nothing: on any error
 * nothing is changed. Each replaced file is kept as FILE.bak. DIR defaults to the
 * configuration's folder. */
cli_command cli_upstream_enrol;

#endif
