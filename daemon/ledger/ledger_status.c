/* The classes of a ledger call's failure (enum ledger_status): how a refusal or a
 * database error becomes one. */
#include "ledger_private.h"

enum ledger_status ledger_status_of_sqlite(int rc)
{
    switch (rc & 0xff) { /* the primary code of an extended one */
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return LEDGER_BUSY;
    case SQLITE_CONSTRAINT:
        return LEDGER_CONFLICT;
    default:
        return LEDGER_IO;
    }
}

int ledger_refuse(struct ledger *l, enum ledger_status st)
{
    l->refused = st;
    return -1;
}

enum ledger_status ledger_failure(struct ledger *l)
{
    if (l->refused != LEDGER_OK)
        return l->refused;
    return ledger_status_of_sqlite(l->last_rc);
}

enum ledger_status ledger_end(struct ledger *l, int rc)
{
    if (rc == 0 && ledger_commit(l) == 0)
        return LEDGER_OK;
    enum ledger_status st = ledger_failure(l); /* before the rollback clears the error */
    ledger_rollback(l);
    return st;
}
