-- The bureau's roll-ups (issue 15, "Roll-ups and the pull API"), PostgreSQL 15.
-- Migration 3 (2 is the deadlines' and the missing schools').
--
-- A county's day adds up about a thousand school-days and a city's month some
-- three hundred thousand: parsing each one's jsonb at query time would be most of
-- the work. So each school-day's figures are taken out of its latest summary
-- revision once, when that revision arrives, into plain columns of
-- summary_figures; the roll-ups only add columns up (bureau/store/bstore_rollup.c).
--
-- One row per (school, day), in step with summary_latest: written in the same
-- transaction by the same upload, and replaced only by a higher revision
-- (INSERT ... ON CONFLICT ... WHERE summary_figures.revision < excluded.revision),
-- so an older revision arriving late changes nothing, whichever collector
-- instance takes it.

-- A count of a summary as an integer. The schema makes every count a JSON integer
-- of at least 0 but sets no maximum (an integer may also be written 7.0); what no
-- school can have (over 2^31 - 1 people) is kept as 2^31 - 1, so that a document
-- the schema accepts is never refused here. NULL when v is not a number (noon
-- figures of a school without noon checks).
CREATE FUNCTION gs_count(v jsonb) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(v) = 'number'
                THEN least(greatest(v::numeric, 0), 2147483647)::integer END
$$;

CREATE TABLE summary_figures (
    school_code text NOT NULL REFERENCES schools (code),
    day date NOT NULL,
    revision integer NOT NULL,
    document_id bigint NOT NULL REFERENCES documents (id),
    -- population: the active roster; expected: of the kinds expected every day,
    -- not on leave
    population_student integer NOT NULL,
    population_teacher integer NOT NULL,
    population_staff integer NOT NULL,
    population_total integer NOT NULL,
    expected integer NOT NULL,
    on_leave integer NOT NULL,
    -- checks: done = expected people checked, all = every check
    morning_done integer NOT NULL,
    morning_expected integer NOT NULL,
    morning_all integer NOT NULL,
    noon_done integer,      -- NULL: the school has no noon checks
    noon_expected integer,
    noon_all integer,
    fever_screens integer NOT NULL,
    fever_confirmed integer NOT NULL,
    fever_cleared integer NOT NULL,
    fever_open integer NOT NULL,
    referrals_opened integer NOT NULL,
    referrals_sent_home integer NOT NULL,
    referrals_hospital integer NOT NULL,
    referrals_returned_to_class integer NOT NULL,
    referrals_pending integer NOT NULL,
    absences_all integer NOT NULL,
    absences_illness integer NOT NULL,
    absences_personal integer NOT NULL,
    absences_other integer NOT NULL,
    absences_late integer NOT NULL,
    absences_unexplained integer NOT NULL,
    symptom_fever integer NOT NULL,
    symptom_cough integer NOT NULL,
    symptom_sore_throat integer NOT NULL,
    symptom_diarrhoea integer NOT NULL,
    symptom_vomiting integer NOT NULL,
    symptom_rash integer NOT NULL,
    symptom_conjunctivitis integer NOT NULL,
    symptom_other integer NOT NULL,
    returns_after_illness integer NOT NULL,
    certificates_recorded integer NOT NULL,
    alerts_opened integer NOT NULL,
    alerts_open integer NOT NULL,     -- cluster alerts open at the school (of the day or before)
    -- devices: lanes configured, lanes whose availability is known, and the sum of
    -- those availabilities (the mean is availability_sum / lanes_known)
    lanes integer NOT NULL,
    lanes_known integer NOT NULL,
    availability_sum double precision NOT NULL,
    PRIMARY KEY (school_code, day)
);
-- A day or a range of days, all schools: the roll-ups' only access path.
CREATE INDEX summary_figures_day ON summary_figures (day);

-- The figures of one stored summary document, as a summary_figures row. The one
-- place that knows where each figure is in a summary (config/schema/
-- summary.schema.json): the collector's upsert and the backfill below both use it.
CREATE FUNCTION summary_figures_of(d documents) RETURNS summary_figures
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT ROW(
        d.school_code, (d.doc->>'date')::date, gs_count(d.doc->'revision'), d.id,
        gs_count(d.doc#>'{population,student}'), gs_count(d.doc#>'{population,teacher}'),
        gs_count(d.doc#>'{population,staff}'), gs_count(d.doc#>'{population,total}'),
        gs_count(d.doc->'expected'), gs_count(d.doc->'on_leave'),
        gs_count(d.doc#>'{checks,morning,done}'), gs_count(d.doc#>'{checks,morning,expected}'),
        gs_count(d.doc#>'{checks,morning,all}'),
        gs_count(d.doc#>'{checks,noon,done}'), gs_count(d.doc#>'{checks,noon,expected}'),
        gs_count(d.doc#>'{checks,noon,all}'),
        gs_count(d.doc#>'{fevers,screens}'), gs_count(d.doc#>'{fevers,confirmed}'),
        gs_count(d.doc#>'{fevers,cleared}'), gs_count(d.doc#>'{fevers,open}'),
        gs_count(d.doc#>'{referrals,opened}'),
        gs_count(d.doc#>'{referrals,by_outcome,sent_home}'),
        gs_count(d.doc#>'{referrals,by_outcome,hospital}'),
        gs_count(d.doc#>'{referrals,by_outcome,returned_to_class}'),
        gs_count(d.doc#>'{referrals,pending}'),
        gs_count(d.doc#>'{absences,all}'), gs_count(d.doc#>'{absences,by_cause,illness}'),
        gs_count(d.doc#>'{absences,by_cause,personal}'),
        gs_count(d.doc#>'{absences,by_cause,other}'), gs_count(d.doc#>'{absences,by_cause,late}'),
        gs_count(d.doc#>'{absences,unexplained}'),
        gs_count(d.doc#>'{absences,by_symptom,fever}'),
        gs_count(d.doc#>'{absences,by_symptom,cough}'),
        gs_count(d.doc#>'{absences,by_symptom,sore_throat}'),
        gs_count(d.doc#>'{absences,by_symptom,diarrhoea}'),
        gs_count(d.doc#>'{absences,by_symptom,vomiting}'),
        gs_count(d.doc#>'{absences,by_symptom,rash}'),
        gs_count(d.doc#>'{absences,by_symptom,conjunctivitis}'),
        gs_count(d.doc#>'{absences,by_symptom,other}'),
        gs_count(d.doc#>'{returns,after_illness}'),
        gs_count(d.doc#>'{returns,certificates_recorded}'),
        gs_count(d.doc#>'{alerts,opened}'), gs_count(d.doc#>'{alerts,open_count}'),
        (SELECT count(*)::integer FROM jsonb_array_elements(d.doc->'devices')),
        (SELECT count(*)::integer FROM jsonb_array_elements(d.doc->'devices') e
          WHERE jsonb_typeof(e->'availability') = 'number'),
        (SELECT coalesce(sum((e->>'availability')::double precision), 0)
           FROM jsonb_array_elements(d.doc->'devices') e
          WHERE jsonb_typeof(e->'availability') = 'number')
    )::summary_figures
$$;

-- The figures of document doc_id (a summary revision just stored) into
-- summary_figures, unless the day already has a higher revision there: the same
-- rule as summary_latest's, in the same transaction (bstore_ingest.c), so the two
-- always name the same revision. ROW(excluded.*) is the whole new row; its key
-- columns are the conflicting row's own.
CREATE FUNCTION summary_figures_put(doc_id bigint) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO summary_figures
    SELECT f.* FROM documents d, LATERAL summary_figures_of(d) f WHERE d.id = doc_id
    ON CONFLICT (school_code, day) DO UPDATE SET
        (school_code, day, revision, document_id,
         population_student, population_teacher, population_staff, population_total,
         expected, on_leave, morning_done, morning_expected, morning_all,
         noon_done, noon_expected, noon_all,
         fever_screens, fever_confirmed, fever_cleared, fever_open,
         referrals_opened, referrals_sent_home, referrals_hospital,
         referrals_returned_to_class, referrals_pending,
         absences_all, absences_illness, absences_personal, absences_other, absences_late,
         absences_unexplained,
         symptom_fever, symptom_cough, symptom_sore_throat, symptom_diarrhoea,
         symptom_vomiting, symptom_rash, symptom_conjunctivitis, symptom_other,
         returns_after_illness, certificates_recorded, alerts_opened, alerts_open,
         lanes, lanes_known, availability_sum) = ROW(excluded.*)
    WHERE summary_figures.revision < excluded.revision
$$;

-- The summaries stored before this migration: the figures of each day's latest.
INSERT INTO summary_figures
SELECT f.*
  FROM summary_latest l JOIN documents d ON d.id = l.document_id,
       LATERAL summary_figures_of(d) f;

-- Acknowledging a notice (gatescreen-bureau notice ack): notices already has who and
-- when; the list of those not acknowledged yet by day is the pull API's
-- /v1/notices?unacknowledged=1 and the CLI's notice list.
CREATE INDEX notices_day ON notices (day, school_code);
