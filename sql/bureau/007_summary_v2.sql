-- The summary's version 2 (issue 19), PostgreSQL 15. Migration 7 (6 is the bureau's
-- page's).
--
-- A school sends gatescreen.summary/2 once it is updated, /1 until then: the
-- collector checks each against its own schema (daemon/documents/doc_schemas.h) and
-- both go into summary_figures. Version 2's figures are new columns there, and in
-- summary_city_day for the city's sums:
--   schools_closed   1 when the school said it was closed that day (a holiday, a
--                    closure), with closed_kind and closed_reason: it reported, and
--                    reported closed, so it is neither missing nor a school whose
--                    zero checks mean something went wrong;
--   schools_grouped  1 for a version 2 summary: the students' and staff's
--                    (teachers and other staff, 教职工) figures apart. A version 1
--                    summary cannot tell them apart: those columns stay NULL for it
--                    (not 0, which would read as "no staff absent"), and the sums
--                    say over how many schools they are (schools_grouped).
-- The three functions that know summary_figures' columns (summary_figures_of,
-- summary_city_add, summary_figures_put, as 004 left them) are defined again with
-- the new columns; nothing else changes. The rows already stored are version 1's:
-- the defaults are theirs.

-- The day's latest revision says the school was closed: the missing list reads it
-- here, in the row it reads anyway (bureau/store/bstore_missing.c), rather than join
-- summary_figures for every school. Set by the same upsert as the revision.
ALTER TABLE summary_latest ADD COLUMN closed boolean NOT NULL DEFAULT false;

ALTER TABLE summary_figures
    ADD COLUMN schools_closed integer NOT NULL DEFAULT 0,
    ADD COLUMN schools_grouped integer NOT NULL DEFAULT 0,
    ADD COLUMN closed_kind text,
    ADD COLUMN closed_reason text,
    ADD COLUMN students_expected integer,
    ADD COLUMN students_morning_done integer,
    ADD COLUMN students_absences_all integer,
    ADD COLUMN students_absences_illness integer,
    ADD COLUMN staff_population integer,
    ADD COLUMN staff_expected integer,
    ADD COLUMN staff_morning_done integer,
    ADD COLUMN staff_morning_all integer,
    ADD COLUMN staff_absences_all integer,
    ADD COLUMN staff_absences_illness integer;

ALTER TABLE summary_city_day
    ADD COLUMN schools_closed integer NOT NULL DEFAULT 0,
    ADD COLUMN schools_grouped integer NOT NULL DEFAULT 0,
    ADD COLUMN students_expected bigint NOT NULL DEFAULT 0,
    ADD COLUMN students_morning_done bigint NOT NULL DEFAULT 0,
    ADD COLUMN students_absences_all bigint NOT NULL DEFAULT 0,
    ADD COLUMN students_absences_illness bigint NOT NULL DEFAULT 0,
    ADD COLUMN staff_population bigint NOT NULL DEFAULT 0,
    ADD COLUMN staff_expected bigint NOT NULL DEFAULT 0,
    ADD COLUMN staff_morning_done bigint NOT NULL DEFAULT 0,
    ADD COLUMN staff_morning_all bigint NOT NULL DEFAULT 0,
    ADD COLUMN staff_absences_all bigint NOT NULL DEFAULT 0,
    ADD COLUMN staff_absences_illness bigint NOT NULL DEFAULT 0;

-- The figures of one stored summary document (004), with version 2's.
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
          WHERE jsonb_typeof(e->'availability') = 'number'),
        -- 007
        coalesce(jsonb_typeof(d.doc->'closed') = 'object', false)::integer,
        coalesce(jsonb_typeof(d.doc->'groups') = 'object', false)::integer,
        d.doc#>>'{closed,kind}',
        d.doc#>>'{closed,reason}',
        gs_count(d.doc#>'{groups,students,expected}'),
        gs_count(d.doc#>'{groups,students,checks,morning,done}'),
        gs_count(d.doc#>'{groups,students,absences,all}'),
        gs_count(d.doc#>'{groups,students,absences,illness}'),
        gs_count(d.doc#>'{groups,staff,population}'),
        gs_count(d.doc#>'{groups,staff,expected}'),
        gs_count(d.doc#>'{groups,staff,checks,morning,done}'),
        gs_count(d.doc#>'{groups,staff,checks,morning,all}'),
        gs_count(d.doc#>'{groups,staff,absences,all}'),
        gs_count(d.doc#>'{groups,staff,absences,illness}')
    )::summary_figures;
END
$$;

-- Adds sign (1 or -1) times the figures of f to its day's row `shard` (004), with
-- version 2's.
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
        sign * f.availability_sum,
        -- 007: version 1's NULLs add nothing
        sign * coalesce(f.schools_closed, 0),
        sign * coalesce(f.schools_grouped, 0),
        sign * coalesce(f.students_expected, 0),
        sign * coalesce(f.students_morning_done, 0),
        sign * coalesce(f.students_absences_all, 0),
        sign * coalesce(f.students_absences_illness, 0),
        sign * coalesce(f.staff_population, 0),
        sign * coalesce(f.staff_expected, 0),
        sign * coalesce(f.staff_morning_done, 0),
        sign * coalesce(f.staff_morning_all, 0),
        sign * coalesce(f.staff_absences_all, 0),
        sign * coalesce(f.staff_absences_illness, 0))
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
        availability_sum = c.availability_sum + excluded.availability_sum,
        schools_closed = c.schools_closed + excluded.schools_closed,
        schools_grouped = c.schools_grouped + excluded.schools_grouped,
        students_expected = c.students_expected + excluded.students_expected,
        students_morning_done = c.students_morning_done + excluded.students_morning_done,
        students_absences_all = c.students_absences_all + excluded.students_absences_all,
        students_absences_illness = c.students_absences_illness + excluded.students_absences_illness,
        staff_population = c.staff_population + excluded.staff_population,
        staff_expected = c.staff_expected + excluded.staff_expected,
        staff_morning_done = c.staff_morning_done + excluded.staff_morning_done,
        staff_morning_all = c.staff_morning_all + excluded.staff_morning_all,
        staff_absences_all = c.staff_absences_all + excluded.staff_absences_all,
        staff_absences_illness = c.staff_absences_illness + excluded.staff_absences_illness;
END
$$;

-- As in 004, with version 2's columns.
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
         lanes, lanes_known, availability_sum,
         schools_closed, schools_grouped, closed_kind, closed_reason, students_expected, students_morning_done, students_absences_all, students_absences_illness, staff_population, staff_expected, staff_morning_done, staff_morning_all, staff_absences_all, staff_absences_illness) = ROW(new_f.*)
     WHERE school_code = new_f.school_code AND day = new_f.day;
    PERFORM summary_city_add(old_f, -1, shard);
    PERFORM summary_city_add(new_f, 1, shard);
END
$$;
