-- Events pushed by face/thermal terminals (issue 18, README "HTTP terminals").
--
-- A terminal pushes each event at least once and again when it saw no 200: the
-- pair (terminal, serial) is recorded once, so a repeat (also after a restart of
-- gatescreend) makes no second reading. The row keeps what the terminal said
-- beside our decision (the reading's outcome): its own clock, its own verdict on
-- the temperature, the mask, the event type. Pictures are never stored.
CREATE TABLE terminal_events (
    id              INTEGER PRIMARY KEY,
    terminal        TEXT    NOT NULL,               -- [terminal NAME]
    serial          INTEGER,                        -- serialNo (NULL: not sent, never a repeat)
    reading_id      INTEGER REFERENCES readings (id) ON DELETE SET NULL,
    received_ms     INTEGER NOT NULL,               -- our clock
    device_time     TEXT    NOT NULL DEFAULT '',    -- dateTime, the terminal's clock, as sent
    skew_ms         INTEGER,                        -- its clock minus ours (NULL: no offset sent)
    employee_no     TEXT    NOT NULL DEFAULT '',    -- employeeNoString
    device_abnormal INTEGER,                        -- isAbnomalTemperature: 1, 0, NULL
    mask            TEXT    NOT NULL DEFAULT '',
    major           INTEGER,
    minor           INTEGER,
    UNIQUE (terminal, serial)
);
CREATE INDEX terminal_events_reading ON terminal_events (reading_id);
