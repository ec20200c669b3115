-- One sender per outbox row, and the order each kind keeps (issue 16).
--
-- lease_until_ms / lease_holder: a sender (the daemon's uploader, `gatescreen
-- upload`) takes the row in a write transaction before its POST and gives it back
-- with the verdict. Another sender leaves a row alone while its lease runs; a
-- holder that died (kill -9, power) loses it when it expires ([upstream] timeout
-- + a margin), so the row is sent again then. 0 / '' = nobody holds it.
--
-- day: a summary's school day (NULL for a notice). A parked summary holds back the
-- later revisions of its day, so that the bureau receives a day's revisions in
-- order also when parked ones are sent again (`upload --retry-parked`).
ALTER TABLE outbox ADD COLUMN lease_until_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN lease_holder TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN day TEXT;

-- The key is CODE/DAY/REVISION: the stored revision with that ending gives the day.
UPDATE outbox SET day = (SELECT s.day FROM summaries s WHERE outbox.idempotency_key
                         LIKE '%/' || s.day || '/' || s.revision)
 WHERE kind = 'summary';

CREATE INDEX outbox_kind ON outbox (state, kind, id);
