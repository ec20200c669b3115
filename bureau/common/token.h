/* A school's bearer token as the bureau sees it: the text a school sends after
 * "Authorization: Bearer ", and its SHA-256, which is all the bureau keeps
 * (credentials.token_sha256). The CLI hashes the token file it registers and the
 * collector hashes what arrives with the same two functions, so the two agree. */
#ifndef GS_TOKEN_H
#define GS_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#define TOKEN_MIN 16   /* shorter ones are guessable; the school's tools make 43 */
#define TOKEN_MAX 512

/* Whether token[len] is a token: TOKEN_MIN to TOKEN_MAX bytes of printable ASCII
 * without spaces (it travels in an HTTP header). */
bool token_valid(const char *token, size_t len);
/* A token file's text without its line end (an editor's newline, CR LF): the new
 * length. */
size_t token_trim(char *text, size_t len);
/* Lower-case hex SHA-256 of token[len]. */
void token_sha256_hex(const char *token, size_t len, char out[65]);
/* Whether two hex digests are equal, in time that does not depend on where they
 * differ. */
bool token_digest_equal(const char *a, const char *b);

#endif
