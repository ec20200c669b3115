-- Days the school is closed though the calendar says open (issue 19, README "The
-- school calendar"): bad weather, an outbreak. Set and lifted at run time with
-- `gatescreen calendar close|reopen`; the term, holidays and make-up days are the
-- configuration's ([calendar]). On a closed day the absence sweep makes nobody
-- absent and the day's summary says "closed" with the reason.
--
-- source: who closed it. 'school' from the command line; 'bureau' is kept for a
-- city-wide closure the bureau may push to its schools one day (docs/design.md,
-- "The school calendar"): not built, but such a row would mean the same, and the
-- school could not lift it with `reopen`.
CREATE TABLE closed_days (
    day      TEXT    PRIMARY KEY CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    reason   TEXT    NOT NULL CHECK (length(reason) BETWEEN 1 AND 200),
    source   TEXT    NOT NULL DEFAULT 'school' CHECK (source IN ('school', 'bureau')),
    by_user  TEXT    NOT NULL,
    at_ms    INTEGER NOT NULL
);

-- Arrival slots (错峰上学): each slot end has its own absence sweep, recorded once a
-- day like the others as 'slot-sweep HH:MM' (daemon/gate/dayworker.c). SQLite
-- cannot change a CHECK: the table is built again with the wider one.
CREATE TABLE day_events_new (
    day      TEXT    NOT NULL,
    event    TEXT    NOT NULL CHECK (event IN ('rollover', 'morning-closed', 'absence-sweep',
                                               'noon-closed', 'day-end')
                                     OR event GLOB 'slot-sweep [0-2][0-9]:[0-5][0-9]'),
    done_ms  INTEGER NOT NULL,
    PRIMARY KEY (day, event)
);
INSERT INTO day_events_new (day, event, done_ms) SELECT day, event, done_ms FROM day_events;
DROP TABLE day_events;
ALTER TABLE day_events_new RENAME TO day_events;
