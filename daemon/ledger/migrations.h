/* The schema migrations embedded at build time from sql/NNN_*.sql. */
#ifndef GS_MIGRATIONS_H
#define GS_MIGRATIONS_H

struct migration {
    int version;      /* NNN of the file name; user_version after applying it */
    const char *name; /* file name, for messages */
    const char *sql;  /* the whole file */
};

extern const struct migration gs_migrations[];
extern const int gs_migration_count;

#endif
