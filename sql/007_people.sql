-- gatescreen ledger, schema version 7 (issue 19): the school's people beyond the
-- roster's first columns. Boarders, health observation and visitors.

-- Boarders (住校生) sleep at school: the roster's boarder / 住校 column. Stored now;
-- the evening check window (晚检) and its absence sweep come later (issue 19).
ALTER TABLE people ADD COLUMN boarder INTEGER NOT NULL DEFAULT 0 CHECK (boarder IN (0, 1));

-- Health observation (健康观察): for days from_day..to_day (both included) the gate
-- sends the person to the nurse, or admits them with a note ([screening]
-- observation), and the nurse sees every reading and check of those days. Ended
-- early by the nurse: ended_day is the first day no longer under observation (the
-- row stays: the history is the record).
CREATE TABLE observations (
    id          INTEGER PRIMARY KEY,
    person_id   INTEGER NOT NULL REFERENCES people (id),
    reason      TEXT    NOT NULL
                CHECK (reason IN ('risk_area', 'close_contact', 'after_illness', 'other')),
    note        TEXT    NOT NULL DEFAULT '',
    from_day    TEXT    NOT NULL,
    to_day      TEXT    NOT NULL CHECK (to_day >= from_day),
    by_user     TEXT    NOT NULL DEFAULT '',
    at_ms       INTEGER NOT NULL,
    ended_day   TEXT,
    ended_ms    INTEGER,
    ended_by    TEXT
);
CREATE INDEX observations_person ON observations (person_id, to_day);
CREATE INDEX observations_days ON observations (to_day, from_day);

-- What the gate noted on a reading: 'observation' when the person was under
-- observation that day (also when admitted: [screening] observation = note).
ALTER TABLE readings ADD COLUMN note TEXT NOT NULL DEFAULT '';

-- Visitors registered by gate staff (来访登记). The phone is stored whole (the host
-- may need to call back) and shown masked. A temperature at or above the
-- threshold refuses the visitor and puts them on the nurse's list for the day.
-- Personal data: deleted with the readings after [ledger] retention_days.
CREATE TABLE visitors (
    id              INTEGER PRIMARY KEY,
    day             TEXT    NOT NULL,
    at_ms           INTEGER NOT NULL,
    name            TEXT    NOT NULL,
    phone           TEXT    NOT NULL,
    organisation    TEXT    NOT NULL DEFAULT '',
    reason          TEXT    NOT NULL,
    host            TEXT    NOT NULL,
    temp_centi      INTEGER NOT NULL,
    temp_source     TEXT    NOT NULL CHECK (temp_source IN ('lane', 'entered')),
    lane            TEXT    NOT NULL DEFAULT '',
    reading_id      INTEGER REFERENCES readings (id) ON DELETE SET NULL, -- the lane's reading
                                                    -- taken (each is one visitor's at most)
    threshold_centi INTEGER NOT NULL,
    outcome         TEXT    NOT NULL CHECK (outcome IN ('admitted', 'refused')),
    approved_by     TEXT    NOT NULL,
    by_user         TEXT    NOT NULL
);
CREATE INDEX visitors_day ON visitors (day);

-- Every gate reading and manual check of a person during one of their observations
-- (its days, up to the day it was ended): what the nurse goes through. A gate
-- check whose reading was purged shows as a manual row with source 'gate'.
-- Callers bind the person or an uncorrelated set of observation ids (pushed into
-- each arm, like the views of 002).
CREATE VIEW observation_checks (observation_id, person_id, at_ms, day, source, temp_centi,
                                threshold_centi, outcome, lane) AS
    SELECT o.id, o.person_id, r.at_ms, r.day, 'gate', r.body_centi, r.threshold_centi,
           r.outcome, coalesce(ln.name, '')
      FROM observations o
      JOIN readings r ON r.person_id = o.person_id AND r.day >= o.from_day
                     AND r.day <= o.to_day AND (o.ended_day IS NULL OR r.day <= o.ended_day)
      LEFT JOIN lanes ln ON ln.id = r.lane_id
    UNION ALL
    SELECT o.id, o.person_id, c.at_ms, c.day, c.instrument, c.temp_centi, c.threshold_centi,
           c.window, ''
      FROM observations o
      JOIN checks c ON c.person_id = o.person_id AND c.day >= o.from_day
                   AND c.day <= o.to_day AND (o.ended_day IS NULL OR c.day <= o.ended_day)
     WHERE c.reading_id IS NULL;
