-- The bureau's collector (gatescreen-bureaud), PostgreSQL 15. Migration 1.
-- Several collector instances write to one database at once: every write that could
-- race is decided by a unique constraint (INSERT ... ON CONFLICT), never by reading
-- first and writing after. Times are timestamptz; a school's "day" is its local
-- civil date as it sent it.

-- Which migrations ran (the collector applies sql/bureau/NNN_*.sql in order, each in
-- one transaction, under an advisory lock so that two instances starting together
-- do not both apply one).
CREATE TABLE schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- The schools the bureau expects reports from (gatescreen-bureau school import/add).
CREATE TABLE schools (
    code text PRIMARY KEY CHECK (code ~ '^[A-Za-z0-9_-]{1,31}$'),
    name text NOT NULL CHECK (name <> ''),
    county text NOT NULL CHECK (county <> ''),
    kind text NOT NULL CHECK (kind IN ('幼儿园', '小学', '初中', '高中', '九年一贯制', '完全中学',
                                       '职业学校', '特殊教育学校', '其他')),
    enrolment integer NOT NULL DEFAULT 0 CHECK (enrolment >= 0),
    contact_name text NOT NULL DEFAULT '',
    contact_phone text NOT NULL DEFAULT '',
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX schools_county ON schools (county, code);

-- A school's credentials (gatescreen-bureau school enrol): the client certificate the
-- bureau's CA issued (its serial and SHA-256 fingerprint) and the SHA-256 of the bearer
-- token (the token itself is only in the school's bundle). Revoked: refused from then on.
CREATE TABLE credentials (
    id bigserial PRIMARY KEY,
    school_code text NOT NULL REFERENCES schools (code),
    cert_serial text NOT NULL UNIQUE,
    cert_sha256 text NOT NULL UNIQUE CHECK (cert_sha256 ~ '^[0-9a-f]{64}$'),
    token_sha256 text NOT NULL UNIQUE CHECK (token_sha256 ~ '^[0-9a-f]{64}$'),
    not_after timestamptz NOT NULL,
    issued_at timestamptz NOT NULL DEFAULT now(),
    issued_by text NOT NULL,
    revoked_at timestamptz,
    revoked_by text
);
CREATE INDEX credentials_school ON credentials (school_code);

-- Every document accepted, exactly once: (school, Idempotency-Key) is unique. The
-- body is kept as sent (text) and as jsonb for the roll-ups; body_sha256 tells a
-- retry of the same document (2xx, nothing new) from another document under the
-- same key (409, quarantined).
CREATE TABLE documents (
    id bigserial PRIMARY KEY,
    school_code text NOT NULL REFERENCES schools (code),
    kind text NOT NULL CHECK (kind IN ('summary', 'notice')),
    idem_key text NOT NULL CHECK (idem_key <> ''),
    body_sha256 text NOT NULL CHECK (body_sha256 ~ '^[0-9a-f]{64}$'),
    body text NOT NULL,
    doc jsonb NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    received_by text NOT NULL,
    UNIQUE (school_code, idem_key)
);

-- Every summary revision received; the highest revision of a school's day is its
-- figure (summary_latest), whatever order they arrive in.
CREATE TABLE summaries (
    school_code text NOT NULL REFERENCES schools (code),
    day date NOT NULL,
    revision integer NOT NULL CHECK (revision >= 1),
    document_id bigint NOT NULL UNIQUE REFERENCES documents (id),
    generated_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    PRIMARY KEY (school_code, day, revision)
);

CREATE TABLE summary_latest (
    school_code text NOT NULL REFERENCES schools (code),
    day date NOT NULL,
    revision integer NOT NULL,
    document_id bigint NOT NULL REFERENCES documents (id),
    first_received_at timestamptz NOT NULL, -- the day's first report (on time or late)
    received_at timestamptz NOT NULL,       -- this revision's
    PRIMARY KEY (school_code, day)
);
CREATE INDEX summary_latest_day ON summary_latest (day, school_code);

-- Urgent notices (a referral opened, a cluster alert), with the bureau's
-- acknowledgement.
CREATE TABLE notices (
    school_code text NOT NULL REFERENCES schools (code),
    notice_id text NOT NULL,
    type text NOT NULL,
    day date NOT NULL,
    opened_at timestamptz NOT NULL,
    document_id bigint NOT NULL UNIQUE REFERENCES documents (id),
    received_at timestamptz NOT NULL,
    acknowledged_at timestamptz,
    acknowledged_by text,
    ack_note text,
    PRIMARY KEY (school_code, notice_id)
);
CREATE INDEX notices_unacknowledged ON notices (received_at) WHERE acknowledged_at IS NULL;

-- What was refused after the sender was known to be an enrolled school (schema
-- failures, a key reused with another body, a school code that is not the
-- certificate's, a body too large): kept for the bureau's IT, never silently
-- dropped. The body is kept byte for byte (bytea: it may not even be UTF-8) up to
-- the collector's size limit; a body over the limit is not read, so it is NULL.
CREATE TABLE quarantine (
    id bigserial PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT now(),
    received_by text NOT NULL,
    school_code text,        -- the certificate's school
    cert_sha256 text,        -- the certificate it came with
    kind text,               -- X-Gatescreen-Kind as sent
    idem_key text,           -- Idempotency-Key as sent
    http_status integer NOT NULL,
    reason text NOT NULL,
    json_pointer text,
    body bytea
);
CREATE INDEX quarantine_time ON quarantine (received_at);

-- Who did what (CLI and, later, the bureau's page).
CREATE TABLE audit_log (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    actor text NOT NULL,
    action text NOT NULL,
    target text NOT NULL DEFAULT '',
    detail text NOT NULL DEFAULT ''
);
