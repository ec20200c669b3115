/* The bureau's schema migrations, embedded at build time from sql/bureau/NNN_*.sql
 * (cmake/embed_sql.cmake). */
#ifndef GS_BSTORE_MIGRATIONS_H
#define GS_BSTORE_MIGRATIONS_H

struct bstore_migration {
    int version;      /* NNN of the file name */
    const char *name; /* the file name, for messages and schema_migrations */
    const char *sql;  /* the whole file */
};

extern const struct bstore_migration bstore_migrations[];
extern const int bstore_migration_count;

#endif
