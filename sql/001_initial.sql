-- gatescreen ledger, schema version 1 (docs/design.md, "Data model").
-- Conventions: temperatures in centi-degrees Celsius (3730 = 37.30 °C); instants are
-- INTEGER milliseconds since the Unix epoch, UTC (columns named *_ms); civil days are
-- TEXT 'YYYY-MM-DD' in the school's time zone. Applied in one transaction by
-- daemon/ledger/ledger.c, which then sets PRAGMA user_version = 1.

CREATE TABLE people (
    id            INTEGER PRIMARY KEY,
    external_id   TEXT    NOT NULL UNIQUE,          -- the school's id (student number, ...)
    kind          TEXT    NOT NULL CHECK (kind IN ('student', 'teacher', 'staff')),
    name          TEXT    NOT NULL,
    grade         TEXT    NOT NULL DEFAULT '',
    class         TEXT    NOT NULL DEFAULT '',
    active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    health_status TEXT    NOT NULL DEFAULT 'normal'
                  CHECK (health_status IN ('normal', 'screened', 'confirmed', 'isolated',
                                           'absent_ill', 'returned')),
    created_ms    INTEGER NOT NULL,
    updated_ms    INTEGER NOT NULL
);
CREATE INDEX people_class ON people (class, active);

-- A person may hold several cards; each card belongs to one person.
CREATE TABLE cards (
    card_no    INTEGER PRIMARY KEY,                 -- number as the reader reports it
    person_id  INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    source     TEXT    NOT NULL DEFAULT 'roster' CHECK (source IN ('roster', 'manual')),
    added_ms   INTEGER NOT NULL
);
CREATE INDEX cards_person ON cards (person_id);

-- Lanes and devices as configured; rows are kept when they leave the config so that
-- history still names them.
CREATE TABLE lanes (
    id    INTEGER PRIMARY KEY,
    name  TEXT NOT NULL UNIQUE,
    gate  TEXT NOT NULL DEFAULT ''
);
CREATE TABLE devices (
    id       INTEGER PRIMARY KEY,
    name     TEXT    NOT NULL UNIQUE,
    lane_id  INTEGER REFERENCES lanes (id),
    bus      TEXT    NOT NULL DEFAULT '',
    unit_id  INTEGER NOT NULL DEFAULT 0,
    profile  TEXT    NOT NULL DEFAULT ''
);

-- Every reading, valid or not, with what was in force when it was taken.
CREATE TABLE readings (
    id              INTEGER PRIMARY KEY,
    at_ms           INTEGER NOT NULL,
    lane_id         INTEGER REFERENCES lanes (id),
    device_id       INTEGER REFERENCES devices (id),
    person_id       INTEGER REFERENCES people (id),
    card_no         INTEGER,                        -- as presented, known or not
    raw_centi       INTEGER,                        -- as the device reported it
    offset_centi    INTEGER NOT NULL DEFAULT 0,     -- device calibration applied
    body_centi      INTEGER,                        -- raw + offset
    ambient_centi   INTEGER,
    status          INTEGER NOT NULL DEFAULT 0,     -- device status register
    quality         TEXT    NOT NULL
                    CHECK (quality IN ('valid', 'out_of_range', 'fault', 'no_measurement')),
    threshold_centi INTEGER NOT NULL,
    outcome         TEXT    NOT NULL,               -- the lane's decision
    day             TEXT    NOT NULL
);
CREATE INDEX readings_at ON readings (at_ms);
CREATE INDEX readings_person ON readings (person_id, at_ms);

-- One check per person, day and window: the first valid gate reading or a manual one.
CREATE TABLE checks (
    id              INTEGER PRIMARY KEY,
    person_id       INTEGER NOT NULL REFERENCES people (id),
    day             TEXT    NOT NULL,
    window          TEXT    NOT NULL CHECK (window IN ('morning', 'noon')),
    temp_centi      INTEGER NOT NULL,
    threshold_centi INTEGER NOT NULL,
    instrument      TEXT    NOT NULL
                    CHECK (instrument IN ('gate', 'infrared', 'ear', 'axillary', 'oral')),
    reading_id      INTEGER REFERENCES readings (id),
    by_user         TEXT    NOT NULL DEFAULT '',
    at_ms           INTEGER NOT NULL,
    UNIQUE (person_id, day, window)
);
CREATE INDEX checks_day ON checks (day, window);

-- Fever screen -> recheck with a contact thermometer -> confirmed or cleared.
CREATE TABLE flags (
    id                 INTEGER PRIMARY KEY,
    person_id          INTEGER REFERENCES people (id),
    reading_id         INTEGER REFERENCES readings (id),
    opened_ms          INTEGER NOT NULL,
    day                TEXT    NOT NULL,
    screen_centi       INTEGER NOT NULL,
    threshold_centi    INTEGER NOT NULL,
    state              TEXT    NOT NULL DEFAULT 'open'
                       CHECK (state IN ('open', 'confirmed', 'cleared')),
    recheck_centi      INTEGER,
    recheck_instrument TEXT CHECK (recheck_instrument IN ('infrared', 'ear', 'axillary', 'oral')),
    recheck_by         TEXT,
    recheck_ms         INTEGER
);
CREATE INDEX flags_state ON flags (state, day);
CREATE INDEX flags_person ON flags (person_id);

-- Isolation-room referral opened by a confirmed recheck.
CREATE TABLE referrals (
    id          INTEGER PRIMARY KEY,
    flag_id     INTEGER NOT NULL UNIQUE REFERENCES flags (id),
    person_id   INTEGER REFERENCES people (id),
    opened_ms   INTEGER NOT NULL,
    day         TEXT    NOT NULL,
    outcome     TEXT CHECK (outcome IN ('sent_home', 'hospital', 'returned_to_class')),
    outcome_by  TEXT,
    outcome_ms  INTEGER,
    note        TEXT NOT NULL DEFAULT ''
);

-- Absences and their causes (因病缺勤登记、病因追踪).
CREATE TABLE absences (
    id             INTEGER PRIMARY KEY,
    person_id      INTEGER NOT NULL REFERENCES people (id),
    day            TEXT    NOT NULL,
    cause          TEXT    NOT NULL DEFAULT 'unknown'
                   CHECK (cause IN ('unknown', 'illness', 'personal', 'other', 'late')),
    symptoms       TEXT    NOT NULL DEFAULT '',     -- comma list from a fixed vocabulary
    onset_day      TEXT,
    clinic_visit   INTEGER CHECK (clinic_visit IN (0, 1)),
    diagnosis      TEXT    NOT NULL DEFAULT '',
    note           TEXT    NOT NULL DEFAULT '',
    recorded_by    TEXT    NOT NULL DEFAULT '',
    recorded_ms    INTEGER NOT NULL,
    late_ms        INTEGER,                         -- set when the person arrived late
    returned_day   TEXT,                            -- first day back after the absence
    UNIQUE (person_id, day)
);
CREATE INDEX absences_day ON absences (day, cause);

CREATE TABLE absence_followups (
    id          INTEGER PRIMARY KEY,
    absence_id  INTEGER NOT NULL REFERENCES absences (id) ON DELETE CASCADE,
    at_ms       INTEGER NOT NULL,
    by_user     TEXT    NOT NULL DEFAULT '',
    note        TEXT    NOT NULL
);

-- Leave registered in advance: no absence is created for these days.
CREATE TABLE leaves (
    id          INTEGER PRIMARY KEY,
    person_id   INTEGER NOT NULL REFERENCES people (id),
    from_day    TEXT    NOT NULL,
    to_day      TEXT    NOT NULL CHECK (to_day >= from_day),
    reason      TEXT    NOT NULL DEFAULT '',
    by_user     TEXT    NOT NULL DEFAULT '',
    at_ms       INTEGER NOT NULL
);
CREATE INDEX leaves_person ON leaves (person_id, from_day);

-- Return-to-school certificates (复学证明).
CREATE TABLE certificates (
    id           INTEGER PRIMARY KEY,
    person_id    INTEGER NOT NULL REFERENCES people (id),
    absence_id   INTEGER REFERENCES absences (id),
    issuer       TEXT    NOT NULL,
    issued_day   TEXT    NOT NULL,
    checked_by   TEXT    NOT NULL,
    recorded_ms  INTEGER NOT NULL
);
CREATE INDEX certificates_person ON certificates (person_id);

CREATE TABLE health_status_history (
    id         INTEGER PRIMARY KEY,
    person_id  INTEGER NOT NULL REFERENCES people (id),
    at_ms      INTEGER NOT NULL,
    status     TEXT    NOT NULL,
    reason     TEXT    NOT NULL DEFAULT '',
    by_user    TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX health_status_history_person ON health_status_history (person_id, at_ms);

-- Cluster early warnings (WS/T 772-2020 practice) and the cases behind them.
CREATE TABLE alerts (
    id          INTEGER PRIMARY KEY,
    class       TEXT    NOT NULL,
    rule        TEXT    NOT NULL CHECK (rule IN ('day', 'three_days')),
    day         TEXT    NOT NULL,
    opened_ms   INTEGER NOT NULL,
    cases       INTEGER NOT NULL,
    closed_ms   INTEGER,
    closed_by   TEXT,
    UNIQUE (class, rule, day)
);
CREATE TABLE alert_cases (
    alert_id    INTEGER NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    person_id   INTEGER NOT NULL REFERENCES people (id),
    case_kind   TEXT    NOT NULL CHECK (case_kind IN ('confirmed_fever', 'illness_absence')),
    day         TEXT    NOT NULL,
    PRIMARY KEY (alert_id, person_id, case_kind, day)
);

-- Per-day aggregates that outlive the purge of readings.
CREATE TABLE day_figures (
    day         TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    value       INTEGER NOT NULL,
    PRIMARY KEY (day, name)
);

-- Daily summaries as sent upstream; a new revision whenever the facts change.
CREATE TABLE summaries (
    id            INTEGER PRIMARY KEY,
    day           TEXT    NOT NULL,
    revision      INTEGER NOT NULL,
    generated_ms  INTEGER NOT NULL,
    body          TEXT    NOT NULL,
    UNIQUE (day, revision)
);

-- Everything to be sent upstream, in order; nothing leaves before the server acknowledged.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    kind             TEXT    NOT NULL CHECK (kind IN ('summary', 'notice')),
    idempotency_key  TEXT    NOT NULL UNIQUE,
    body             TEXT    NOT NULL,
    created_ms       INTEGER NOT NULL,
    state            TEXT    NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'sent', 'parked')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms  INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT    NOT NULL DEFAULT '',
    sent_ms          INTEGER
);
CREATE INDEX outbox_state ON outbox (state, id);

CREATE TABLE users (
    id              INTEGER PRIMARY KEY,
    name            TEXT    NOT NULL UNIQUE,
    role            TEXT    NOT NULL CHECK (role IN ('nurse', 'teacher', 'admin', 'gate')),
    class           TEXT    NOT NULL DEFAULT '',
    password_hash   TEXT    NOT NULL,               -- argon2id (libsodium crypto_pwhash_str)
    active          INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    failed_logins   INTEGER NOT NULL DEFAULT 0,
    locked_until_ms INTEGER NOT NULL DEFAULT 0,
    created_ms      INTEGER NOT NULL
);

-- Who did what: every nurse, teacher and administrator action.
CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY,
    at_ms    INTEGER NOT NULL,
    actor    TEXT    NOT NULL,
    action   TEXT    NOT NULL,
    target   TEXT    NOT NULL DEFAULT '',
    detail   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log (at_ms);
