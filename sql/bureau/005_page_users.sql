-- The bureau's page (docs/bureau.md, "The bureau's page"): its users. Names are
-- stored in NFKC form (daemon/runtime/user_rules.h); two names that differ only in
-- case are one name. Passwords are argon2id strings (libsodium crypto_pwhash_str).
-- role: city (every county), county (its county only), auditor (reads everything,
-- changes nothing), admin (the users). What they do goes to audit_log.
-- (Numbered 005: 004 is the ingest speed-up of another change.)
CREATE TABLE page_users (
    id bigserial PRIMARY KEY,
    name text NOT NULL,
    role text NOT NULL CHECK (role IN ('city', 'county', 'auditor', 'admin')),
    county text,
    password_hash text NOT NULL,
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((role = 'county') = (county IS NOT NULL))
);
CREATE UNIQUE INDEX page_users_name ON page_users (lower(name));
