-- gatescreen ledger, schema version 12 (issue 19): the nurse records what a noon or
-- evening absence (sql/010's part_absences: 午检缺勤, 晚检缺勤) was, as for the day's
-- absences (`gatescreen absence --part`, POST /api/v1/people/:id/absence with
-- "part"): the cause (already there), the symptoms of an illness and a note. The
-- rest of an absence's record (onset, clinic visit, diagnosis, follow-ups, return)
-- belongs to the day's absence. Columns added with defaults: existing rows keep
-- their meaning (no symptoms, no note).
ALTER TABLE part_absences ADD COLUMN symptoms TEXT NOT NULL DEFAULT '';
ALTER TABLE part_absences ADD COLUMN note TEXT NOT NULL DEFAULT '';
