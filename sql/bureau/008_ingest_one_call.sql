-- One upload, one statement (issue 15, "Performance"). Migration 8.
--
-- The collector sent seven statements per upload, each a round trip to the server:
-- the credential of the client certificate, BEGIN, the document's INSERT, its
-- summaries and summary_latest rows, summary_figures_put, COMMIT. Each round trip
-- cost both sides system calls and context switches (tests/bench/README.md: ~73
-- system calls per fresh upload, 36 of them recvfrom). ingest_document does the same
-- in one call, in the call's own transaction (the collector runs it outside BEGIN,
-- so it commits before the answer comes back, synchronous_commit as configured).
--
-- What it does, as bureau/store/bstore_ingest.c did:
--   1. the credential of p_cert_sha256 (with its school's active flag). None:
--      outcome 'unknown', nothing written. Revoked, the school disabled, another
--      school than p_school_code, or a token digest that is not the credential's:
--      outcome 'refused', nothing written. Either way the credential's columns come
--      back and the collector words the refusal (collector_upload.c), comparing the
--      token digests again in constant time;
--   2. the document, INSERT ... ON CONFLICT (school_code, idem_key) DO NOTHING: the
--      one unique constraint that makes an upload count once however many collectors
--      race. Taken: the row that took it is committed by then (READ COMMITTED, and
--      each statement of a PL/pgSQL function sees what committed before it), and its
--      body's hash says 'duplicate' (the same again) or 'conflict' (another
--      document), with that row's id; nothing else is written. Gone meanwhile (an
--      administrator deleted it): 'gone', and the sender's retry decides;
--   3. a summary: its summaries row, the day's summary_latest (only ever raised) and
--      summary_figures_put; a notice: its notices row. Outcome 'stored'.
-- Values the server refuses (a date that is not one) raise as before: the call fails
-- and nothing of it stays.
CREATE FUNCTION ingest_document(
    p_cert_sha256 text, p_token_sha256 text, p_school_code text, p_kind text,
    p_idem_key text, p_body_sha256 text, p_body text, p_received_by text, p_day date,
    p_revision integer, p_generated_at timestamptz, p_closed boolean, p_notice_id text,
    p_notice_type text, p_opened_at timestamptz,
    OUT outcome text, OUT document_id bigint, OUT credential_id bigint,
    OUT credential_school text, OUT credential_token text, OUT revoked boolean,
    OUT school_active boolean)
LANGUAGE plpgsql AS $$
DECLARE
    taken_sha256 text;
BEGIN
    SELECT c.id, c.school_code, c.token_sha256, c.revoked_at IS NOT NULL, s.active
      INTO credential_id, credential_school, credential_token, revoked, school_active
      FROM credentials c JOIN schools s ON s.code = c.school_code
     WHERE c.cert_sha256 = p_cert_sha256;
    IF NOT FOUND THEN
        outcome := 'unknown';
        RETURN;
    END IF;
    IF revoked OR NOT school_active OR credential_school <> p_school_code
       OR credential_token <> p_token_sha256 THEN
        outcome := 'refused';
        RETURN;
    END IF;
    INSERT INTO documents (school_code, kind, idem_key, body_sha256, body, doc, received_by)
    VALUES (p_school_code, p_kind, p_idem_key, p_body_sha256, p_body, p_body::jsonb,
            p_received_by)
    ON CONFLICT (school_code, idem_key) DO NOTHING
    RETURNING id INTO document_id;
    IF document_id IS NULL THEN
        SELECT d.id, d.body_sha256 INTO document_id, taken_sha256 FROM documents d
         WHERE d.school_code = p_school_code AND d.idem_key = p_idem_key;
        outcome := CASE WHEN NOT FOUND THEN 'gone'
                        WHEN taken_sha256 = p_body_sha256 THEN 'duplicate'
                        ELSE 'conflict' END;
        RETURN;
    END IF;
    outcome := 'stored';
    IF p_kind = 'summary' THEN
        INSERT INTO summaries (school_code, day, revision, document_id, generated_at,
                               received_at)
        VALUES (p_school_code, p_day, p_revision, document_id, p_generated_at, now());
        -- closed (version 2, 007): the missing list reads it from the day's latest.
        INSERT INTO summary_latest AS l (school_code, day, revision, document_id,
                                         first_received_at, received_at, closed)
        VALUES (p_school_code, p_day, p_revision, document_id, now(), now(), p_closed)
        ON CONFLICT (school_code, day) DO UPDATE SET
            revision = excluded.revision, document_id = excluded.document_id,
            received_at = excluded.received_at, closed = excluded.closed
        WHERE l.revision < excluded.revision;
        PERFORM summary_figures_put(document_id);
    ELSE
        INSERT INTO notices (school_code, notice_id, type, day, opened_at, document_id,
                             received_at)
        VALUES (p_school_code, p_notice_id, p_notice_type, p_day, p_opened_at, document_id,
                now());
    END IF;
END
$$;
