-- The gate's contract, stated once. The gate's card lookup (ledger_gate.c), the
-- nurse's side (ledger_absence.c, ledger_health.c) and the web page's lists
-- (ledger_web.c) all read these views, so the rules cannot drift apart.
-- Views only: safe on an existing ledger, no data changes.
--
-- Referrals are reached through their flag (flags_person, then referrals.flag_id
-- UNIQUE): referrals has no index on person_id, and referrals.person_id is
-- always the flag's person (ledger_recheck opens the referral on the person's
-- own flag). SQLite pushes `person_id = ?` (a bound value, or IN an uncorrelated
-- subquery) into each arm of a UNION ALL view, so one person's rows come from
-- the indexes; it does not push a correlated `person_id = outer.id`, so callers
-- bind the person.

-- Open case: the person has a fever screen awaiting its recheck (a flag still
-- 'open'), or a referral to the isolation room still without an outcome. The
-- gate sends such a person to the nurse. kind is 'flag' or 'referral', id that
-- row's id, day its day. An unknown person's screen is listed with person_id
-- NULL (the nurse's recheck queue shows it; no person lookup can match it).
CREATE VIEW contract_open_case (person_id, kind, id, day) AS
    SELECT f.person_id, 'flag', f.id, f.day FROM flags f
     WHERE f.state = 'open'
    UNION ALL
    SELECT f.person_id, 'referral', r.id, r.day
      FROM flags f JOIN referrals r ON r.flag_id = f.id
     WHERE r.outcome IS NULL;

-- What needs a return certificate (复学证明): an absence for illness, or a
-- referral that sent the person home or to hospital; the day it happened, cause
-- 'illness' (an absence) or the referral's outcome, id the absence or referral.
CREATE VIEW contract_certificate_event (person_id, day, cause, id) AS
    SELECT a.person_id, a.day, 'illness', a.id FROM absences a
     WHERE a.cause = 'illness'
    UNION ALL
    SELECT f.person_id, r.day, r.outcome, r.id
      FROM flags f JOIN referrals r ON r.flag_id = f.id
     WHERE r.outcome IN ('sent_home', 'hospital') AND f.person_id IS NOT NULL;

-- Needs a certificate on day D: an event above on or before D (the caller's
-- `day <= D`) later than the person's latest certificate, whenever issued.
-- Events on the same day as the latest certificate count as covered.
CREATE VIEW contract_uncovered_event (person_id, day, cause, id) AS
    SELECT e.person_id, e.day, e.cause, e.id FROM contract_certificate_event e
     WHERE e.day > coalesce((SELECT max(c.issued_day) FROM certificates c
                              WHERE c.person_id = e.person_id), '');

-- Untraced absence (病因追踪): an absence whose cause is still 'unknown'. The gate
-- sends a person with one before today to the nurse (who asks why before the
-- person goes in: the caller's `day < D`); the nurse's page lists those up to
-- today (`day <= D`). id is the absence.
CREATE VIEW contract_untraced_absence (person_id, day, id) AS
    SELECT a.person_id, a.day, a.id FROM absences a
     WHERE a.cause = 'unknown';
