/* The bureau page's users (sql/bureau/005_page_users.sql; docs/bureau.md, "The
 * bureau's page"): who may log in, with which role and county, their argon2id hash.
 * Shared by `gatescreen-bureau user ...` and the page's login (bureau/page/). The
 * rules for names and passwords are the school's (daemon/runtime/user_rules.h).
 * Calls that change something write one audit_log row in the same transaction. */
#ifndef GS_BSTORE_USERS_H
#define GS_BSTORE_USERS_H

#include <stdbool.h>
#include <stdio.h>

#include "bstore.h"
#include "user_rules.h"

#define PAGE_HASH_MAX 128   /* crypto_pwhash_STRBYTES */
#define PAGE_COUNTY_MAX 64

enum page_role { PAGE_CITY, PAGE_COUNTY, PAGE_AUDITOR, PAGE_ADMIN, PAGE_ROLE_COUNT };
/* "city", "county", "auditor", "admin"; -1 for another word. */
int page_role_parse(const char *word);
const char *page_role_name(enum page_role r);

struct page_user {
    long long id;
    char name[USER_NAME_MAX];
    enum page_role role;
    char county[PAGE_COUNTY_MAX];   /* a county officer's; "" for the other roles */
    char hash[PAGE_HASH_MAX];
    bool active;
    char created_at[32];
};

/* Whether the values can be a user: the name rules, a county for county officers
 * only. Sentences on errs; 0, or -1. */
int page_user_check(const char *name, enum page_role role, const char *county, FILE *errs);

/* A new user (checked with page_user_check): BSTORE_CONFLICT when the name (in any
 * case) exists, BSTORE_NOT_FOUND when no school is in the county. */
enum bstore_status bstore_user_add(struct bstore *s, const char *name, enum page_role role,
                                   const char *county, const char *hash, const char *actor,
                                   FILE *errs);
/* By name (exactly, as stored) or id: *found false when there is none. */
enum bstore_status bstore_user_find(struct bstore *s, const char *name, struct page_user *u,
                                    bool *found);
enum bstore_status bstore_user_get(struct bstore *s, long long id, struct page_user *u,
                                   bool *found);
/* Every user by name. */
enum bstore_status bstore_user_list(struct bstore *s,
                                    void (*fn)(const struct page_user *u, void *arg), void *arg);
/* Disables or enables a user: BSTORE_NOT_FOUND when there is no such user. */
enum bstore_status bstore_user_set_active(struct bstore *s, const char *name, bool active,
                                          const char *actor, FILE *errs);
/* One audit_log row of its own (the page's logins, logouts and refusals). */
enum bstore_status bstore_audit(struct bstore *s, const char *actor, const char *action,
                                const char *target, const char *detail);

#endif
