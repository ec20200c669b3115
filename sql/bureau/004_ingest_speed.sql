-- The collector's ingest (issue 15, "Performance": tests/bench/bench_ingest.py),
-- PostgreSQL 15. Migration 4: the roll-ups' functions of 003 again, the same
-- statements and results, cheaper for each upload.
--
-- A LANGUAGE sql function that PostgreSQL cannot inline into its caller is parsed
-- and planned again on every call. summary_figures_of (41 figures, three
-- sub-selects) cost 0.9 ms of planning per upload and summary_city_add 0.26 ms: most
-- of the database's work for an upload (summary_figures_put took 1.6 ms of an
-- upload's ~2.5). As PL/pgSQL their statements' plans are kept for the connection's
-- life, and the collector's pooled connections live long.
--
-- And the document's jsonb is stored compressed (pglz: a summary's row with its body
-- is over 2 kB), so each of the 41 figures read from documents.doc decompressed it
-- again. summary_figures_put now reads the figures from the body's text parsed once
-- (documents.doc is body::jsonb, bureau/store/bstore_ingest.c), so an upload's
-- figures cost 0.1 ms rather than 0.25. summary_figures_put went from 1.6 to 0.37 ms.
--
-- summary_figures_of stays the one place that knows where each figure is; 003's
-- backfill used the earlier definition, with the same result.

-- The figures of one stored summary document (003), as PL/pgSQL.
CREATE OR REPLACE FUNCTION summary_figures_of(d documents) RETURNS summary_figures
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    RETURN ROW(
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
    )::summary_figures;
END
$$;

-- Adds sign (1 or -1) times the figures of f to its day's row `shard` (003), as
-- PL/pgSQL; `shard` and the other names are the table's columns where they are both.
CREATE OR REPLACE FUNCTION summary_city_add(f summary_figures, sign integer, shard smallint)
RETURNS void
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    INSERT INTO summary_city_day AS c VALUES (
        f.day, shard, sign, sign * (f.noon_done IS NOT NULL)::integer,
        sign * f.population_student, sign * f.population_teacher, sign * f.population_staff,
        sign * f.population_total, sign * f.expected, sign * f.on_leave,
        sign * f.morning_done, sign * f.morning_expected, sign * f.morning_all,
        sign * coalesce(f.noon_done, 0), sign * coalesce(f.noon_expected, 0),
        sign * coalesce(f.noon_all, 0), sign * f.fever_screens, sign * f.fever_confirmed,
        sign * f.fever_cleared, sign * f.fever_open, sign * f.referrals_opened,
        sign * f.referrals_sent_home, sign * f.referrals_hospital,
        sign * f.referrals_returned_to_class, sign * f.referrals_pending,
        sign * f.absences_all, sign * f.absences_illness, sign * f.absences_personal,
        sign * f.absences_other, sign * f.absences_late, sign * f.absences_unexplained,
        sign * f.symptom_fever, sign * f.symptom_cough, sign * f.symptom_sore_throat,
        sign * f.symptom_diarrhoea, sign * f.symptom_vomiting, sign * f.symptom_rash,
        sign * f.symptom_conjunctivitis, sign * f.symptom_other,
        sign * f.returns_after_illness, sign * f.certificates_recorded,
        sign * f.alerts_opened, sign * f.alerts_open, sign * f.lanes, sign * f.lanes_known,
        sign * f.availability_sum)
    ON CONFLICT (day, shard) DO UPDATE SET
        reported = c.reported + excluded.reported,
        noon_schools = c.noon_schools + excluded.noon_schools,
        population_student = c.population_student + excluded.population_student,
        population_teacher = c.population_teacher + excluded.population_teacher,
        population_staff = c.population_staff + excluded.population_staff,
        population_total = c.population_total + excluded.population_total,
        expected = c.expected + excluded.expected,
        on_leave = c.on_leave + excluded.on_leave,
        morning_done = c.morning_done + excluded.morning_done,
        morning_expected = c.morning_expected + excluded.morning_expected,
        morning_all = c.morning_all + excluded.morning_all,
        noon_done = c.noon_done + excluded.noon_done,
        noon_expected = c.noon_expected + excluded.noon_expected,
        noon_all = c.noon_all + excluded.noon_all,
        fever_screens = c.fever_screens + excluded.fever_screens,
        fever_confirmed = c.fever_confirmed + excluded.fever_confirmed,
        fever_cleared = c.fever_cleared + excluded.fever_cleared,
        fever_open = c.fever_open + excluded.fever_open,
        referrals_opened = c.referrals_opened + excluded.referrals_opened,
        referrals_sent_home = c.referrals_sent_home + excluded.referrals_sent_home,
        referrals_hospital = c.referrals_hospital + excluded.referrals_hospital,
        referrals_returned_to_class =
            c.referrals_returned_to_class + excluded.referrals_returned_to_class,
        referrals_pending = c.referrals_pending + excluded.referrals_pending,
        absences_all = c.absences_all + excluded.absences_all,
        absences_illness = c.absences_illness + excluded.absences_illness,
        absences_personal = c.absences_personal + excluded.absences_personal,
        absences_other = c.absences_other + excluded.absences_other,
        absences_late = c.absences_late + excluded.absences_late,
        absences_unexplained = c.absences_unexplained + excluded.absences_unexplained,
        symptom_fever = c.symptom_fever + excluded.symptom_fever,
        symptom_cough = c.symptom_cough + excluded.symptom_cough,
        symptom_sore_throat = c.symptom_sore_throat + excluded.symptom_sore_throat,
        symptom_diarrhoea = c.symptom_diarrhoea + excluded.symptom_diarrhoea,
        symptom_vomiting = c.symptom_vomiting + excluded.symptom_vomiting,
        symptom_rash = c.symptom_rash + excluded.symptom_rash,
        symptom_conjunctivitis = c.symptom_conjunctivitis + excluded.symptom_conjunctivitis,
        symptom_other = c.symptom_other + excluded.symptom_other,
        returns_after_illness = c.returns_after_illness + excluded.returns_after_illness,
        certificates_recorded = c.certificates_recorded + excluded.certificates_recorded,
        alerts_opened = c.alerts_opened + excluded.alerts_opened,
        alerts_open = c.alerts_open + excluded.alerts_open,
        lanes = c.lanes + excluded.lanes,
        lanes_known = c.lanes_known + excluded.lanes_known,
        availability_sum = c.availability_sum + excluded.availability_sum;
END
$$;

-- As in 003, but the figures from the body parsed once (above).
CREATE OR REPLACE FUNCTION summary_figures_put(doc_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    d documents;
    new_f summary_figures;
    old_f summary_figures;
    shard smallint := (doc_id % 32)::smallint;
BEGIN
    SELECT * INTO STRICT d FROM documents WHERE id = doc_id;
    d.doc := d.body::jsonb; -- the same JSON, parsed once rather than decompressed 41 times
    new_f := summary_figures_of(d);
    INSERT INTO summary_figures SELECT (new_f).* ON CONFLICT (school_code, day) DO NOTHING;
    IF FOUND THEN
        PERFORM summary_city_add(new_f, 1, shard);
        RETURN;
    END IF;
    SELECT * INTO STRICT old_f FROM summary_figures
     WHERE school_code = new_f.school_code AND day = new_f.day FOR UPDATE;
    IF old_f.revision >= new_f.revision THEN
        RETURN; -- an older revision arriving late changes nothing
    END IF;
    UPDATE summary_figures SET
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
         lanes, lanes_known, availability_sum) = ROW(new_f.*)
     WHERE school_code = new_f.school_code AND day = new_f.day;
    PERFORM summary_city_add(old_f, -1, shard);
    PERFORM summary_city_add(new_f, 1, shard);
END
$$;
