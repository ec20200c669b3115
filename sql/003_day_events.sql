-- The day's events keyed on school days (issue 14; docs/design.md, "Time").
--
-- day_events: one row per day and event once the day worker has done it, so
-- that a clock set back (within the day or across midnight), a reload that
-- moves a window, or a restart never runs it a second time: one rollover and
-- purge a day, one sweep, and the day's figures stored once, at its first day
-- end. event is civil.c's day_event_name: 'rollover', 'morning-closed',
-- 'absence-sweep', 'noon-closed', 'day-end'. done_ms is when it was done (UTC
-- ms); 0 for the days finished before this table existed.
CREATE TABLE day_events (
    day      TEXT    NOT NULL,
    event    TEXT    NOT NULL CHECK (event IN ('rollover', 'morning-closed', 'absence-sweep',
                                               'noon-closed', 'day-end')),
    done_ms  INTEGER NOT NULL,
    PRIMARY KEY (day, event)
);

-- A day whose figures were stored had its day end, and the sweep before it: the
-- catch-up at the next start must not store them again.
INSERT INTO day_events (day, event, done_ms)
    SELECT d.day, e.event, 0
      FROM (SELECT DISTINCT day FROM day_figures WHERE name = 'expected') d,
           (SELECT 'rollover' AS event UNION ALL SELECT 'morning-closed'
            UNION ALL SELECT 'absence-sweep' UNION ALL SELECT 'noon-closed'
            UNION ALL SELECT 'day-end') e;

-- A morning check and a sweep absence of the same person and day never stand
-- together. The sweep makes an absence ('unknown', or 'late' for someone seen
-- only after the window) for each person without a morning check. If a morning
-- check arrives after the sweep (the wall clock was set back into the window, a
-- reload stretched the window, a nurse records a check taken in the window),
-- the person was there within the window: the sweep's absence is withdrawn, and
-- the withdrawal is kept in the audit log. An absence someone has worked on (a
-- cause given: illness, personal, other; or a follow-up written) is a person's
-- record and stays; the gate then only notes the arrival time (ledger_gate.c).
-- A real late arrival, after the window, gets no morning check: its absence
-- becomes 'late' as before.
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
