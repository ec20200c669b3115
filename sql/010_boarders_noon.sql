-- gatescreen ledger, schema version 10 (issue 19): boarders' evening check (晚检) and
-- the noon and evening absence sweeps (午检缺勤, 晚检缺勤). docs/design.md, "Part-day
-- absences".

-- A manual check may be an evening check (the dormitory staff's 晚检 of the
-- boarders). SQLite cannot change a CHECK: the table is built again with the wider
-- one, every row kept with its id. The view and trigger on it go first (a rename
-- checks every view of the schema) and come back as they were (sql/003, sql/007).
DROP VIEW observation_checks;
DROP TRIGGER morning_check_withdraws_sweep_absence;
CREATE TABLE checks_new (
    id              INTEGER PRIMARY KEY,
    person_id       INTEGER NOT NULL REFERENCES people (id),
    day             TEXT    NOT NULL,
    window          TEXT    NOT NULL CHECK (window IN ('morning', 'noon', 'evening')),
    temp_centi      INTEGER NOT NULL,
    threshold_centi INTEGER NOT NULL,
    instrument      TEXT    NOT NULL
                    CHECK (instrument IN ('gate', 'infrared', 'ear', 'axillary', 'oral')),
    reading_id      INTEGER REFERENCES readings (id),
    by_user         TEXT    NOT NULL DEFAULT '',
    at_ms           INTEGER NOT NULL,
    UNIQUE (person_id, day, window)
);
INSERT INTO checks_new (id, person_id, day, window, temp_centi, threshold_centi, instrument,
                        reading_id, by_user, at_ms)
    SELECT id, person_id, day, window, temp_centi, threshold_centi, instrument, reading_id,
           by_user, at_ms FROM checks;
DROP TABLE checks;
ALTER TABLE checks_new RENAME TO checks;
CREATE INDEX checks_day ON checks (day, window);

CREATE TRIGGER morning_check_withdraws_sweep_absence AFTER INSERT ON checks
WHEN NEW.window = 'morning'
BEGIN
    INSERT INTO audit_log (at_ms, actor, action, target, detail)
        SELECT NEW.at_ms, NEW.by_user, 'absence withdrawn', p.external_id,
               a.day || ': ' || a.cause || ' absence of the sweep; a morning check came'
          FROM absences a JOIN people p ON p.id = a.person_id
         WHERE a.person_id = NEW.person_id AND a.day = NEW.day
           AND a.cause IN ('unknown', 'late')
           AND NOT EXISTS (SELECT 1 FROM absence_followups f WHERE f.absence_id = a.id);
    DELETE FROM absences
     WHERE person_id = NEW.person_id AND day = NEW.day AND cause IN ('unknown', 'late')
       AND NOT EXISTS (SELECT 1 FROM absence_followups f WHERE f.absence_id = absences.id);
END;

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

-- Part-day absences: absent for the afternoon (part 'noon': seen in the morning,
-- no noon check, the noon sweep) or for the evening (part 'evening': a boarder
-- without an evening check, the evening sweep). Apart from absences, whose one row
-- per person and day is the day's absence (the registers, the figures, the
-- clusters and the certificates count it): a pupil who left at noon was at school
-- that day. cause as in absences; the sweeps write 'unknown'.
CREATE TABLE part_absences (
    id           INTEGER PRIMARY KEY,
    person_id    INTEGER NOT NULL REFERENCES people (id),
    day          TEXT    NOT NULL,
    part         TEXT    NOT NULL CHECK (part IN ('noon', 'evening')),
    cause        TEXT    NOT NULL DEFAULT 'unknown'
                 CHECK (cause IN ('unknown', 'illness', 'personal', 'other')),
    recorded_by  TEXT    NOT NULL DEFAULT '',
    recorded_ms  INTEGER NOT NULL,
    UNIQUE (person_id, day, part)
);
CREATE INDEX part_absences_day ON part_absences (day, part);

-- A noon or evening check recorded after its sweep (the nurse writes down a check
-- taken in the window): the person was there, the sweep's absence goes, as the
-- morning's does (sql/003).
CREATE TRIGGER part_check_withdraws_sweep_absence AFTER INSERT ON checks
WHEN NEW.window IN ('noon', 'evening')
BEGIN
    INSERT INTO audit_log (at_ms, actor, action, target, detail)
        SELECT NEW.at_ms, NEW.by_user, 'absence withdrawn', p.external_id,
               a.day || ': ' || a.part || ' absence of the sweep; a ' || a.part || ' check came'
          FROM part_absences a JOIN people p ON p.id = a.person_id
         WHERE a.person_id = NEW.person_id AND a.day = NEW.day AND a.part = NEW.window
           AND a.cause = 'unknown';
    DELETE FROM part_absences
     WHERE person_id = NEW.person_id AND day = NEW.day AND part = NEW.window
       AND cause = 'unknown';
END;

-- The noon and evening sweeps are recorded once a day like the others
-- (daemon/gate/dayworker.c).
CREATE TABLE day_events_new (
    day      TEXT    NOT NULL,
    event    TEXT    NOT NULL CHECK (event IN ('rollover', 'morning-closed', 'absence-sweep',
                                               'noon-closed', 'day-end', 'noon-sweep',
                                               'evening-sweep')
                                     OR event GLOB 'slot-sweep [0-2][0-9]:[0-5][0-9]'),
    done_ms  INTEGER NOT NULL,
    PRIMARY KEY (day, event)
);
INSERT INTO day_events_new (day, event, done_ms) SELECT day, event, done_ms FROM day_events;
DROP TABLE day_events;
ALTER TABLE day_events_new RENAME TO day_events;
