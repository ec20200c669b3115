-- The school calendar and closures (issue 15, "Deadlines and missing reports"),
-- PostgreSQL 15. Migration 2. What `gatescreen-bureau missing` and GET /v1/missing
-- read to know which schools are expected on a day (docs/bureau.md, "Deadlines and
-- missing schools"):
--
--   a day is a school day when it is a weekday (Monday to Friday), unless
--   calendar_days says otherwise; an active school is expected on a school day
--   unless a closure covers it (all schools, or its county).
--
-- Every write is one INSERT ... ON CONFLICT or DELETE decided by these keys, so
-- several administrators or programs may write at once.

-- The exceptions to "weekdays are school days", for the whole bureau: a holiday
-- (国庆, a winter break) or a make-up working day (调休: a Saturday or Sunday that
-- is worked). A day without a row follows its weekday.
CREATE TABLE calendar_days (
    day date PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name text NOT NULL DEFAULT '',
    set_at timestamptz NOT NULL DEFAULT now(),
    set_by text NOT NULL
);

-- A day the bureau closed schools (a storm, an epidemic): every school (county
-- NULL) or one county's. Those schools are not expected that day.
CREATE TABLE closures (
    day date NOT NULL,
    county text CHECK (county <> ''),
    reason text NOT NULL CHECK (reason <> ''),
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by text NOT NULL
);
-- One closure per day and scope (NULL, all schools, is one scope): the key the
-- writes' ON CONFLICT names.
CREATE UNIQUE INDEX closures_day_scope ON closures (day, (coalesce(county, '')));

-- The missing list reads every school's first arrival of one day: with the arrival
-- in the index, that is an index-only scan of the day's entries (once the day's
-- pages are all-visible, i.e. for every day but the last few), never the heap. The
-- same key as summary_latest_day, which it replaces: one index to keep up, not two.
CREATE INDEX summary_latest_day_first ON summary_latest (day, school_code)
    INCLUDE (first_received_at);
DROP INDEX summary_latest_day;
