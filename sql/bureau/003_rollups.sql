-- The bureau's roll-ups (issue 15, "Roll-ups and the pull API"), PostgreSQL 15.
-- Migration 3 (2 is the deadlines' and the missing schools').
--
-- A county's day adds up about a thousand school-days and a city's month some
-- three hundred thousand: parsing each one's jsonb at query time would be most of
-- the work. So each school-day's figures are taken out of its latest summary
-- revision once, when that revision arrives, into plain columns of
-- summary_figures, and the city's day is kept summed in summary_city_day; the
-- roll-ups only add columns up (bureau/store/bstore_rollup.c).
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

-- Each day's figures for the whole city, kept up to date by the uploads: a city's month
-- is then some thirty times 32 rows to add instead of 300,000 school-days (the county
-- and school levels add summary_figures up; a county's day is a few thousand rows).
-- When a school-day's figures change, its new figures are added and its old ones
-- subtracted (summary_city_add). Additions commute, so each day's total is exact
-- whatever order the uploads commit in; a day is spread over 32 rows (shard, picked
-- from the document's id) only so that the schools reporting at the same moment do
-- not all wait for one row's lock. Each upload changes one row: no deadlock.
CREATE TABLE summary_city_day (
    day date NOT NULL,
    shard smallint NOT NULL,
    reported integer NOT NULL,          -- school-days with figures
    noon_schools integer NOT NULL,      -- of them, schools with noon checks
    population_student bigint NOT NULL,
    population_teacher bigint NOT NULL,
    population_staff bigint NOT NULL,
    population_total bigint NOT NULL,
    expected bigint NOT NULL,
    on_leave bigint NOT NULL,
    morning_done bigint NOT NULL,
    morning_expected bigint NOT NULL,
    morning_all bigint NOT NULL,
    noon_done bigint NOT NULL,
    noon_expected bigint NOT NULL,
    noon_all bigint NOT NULL,
    fever_screens bigint NOT NULL,
    fever_confirmed bigint NOT NULL,
    fever_cleared bigint NOT NULL,
    fever_open bigint NOT NULL,
    referrals_opened bigint NOT NULL,
    referrals_sent_home bigint NOT NULL,
    referrals_hospital bigint NOT NULL,
    referrals_returned_to_class bigint NOT NULL,
    referrals_pending bigint NOT NULL,
    absences_all bigint NOT NULL,
    absences_illness bigint NOT NULL,
    absences_personal bigint NOT NULL,
    absences_other bigint NOT NULL,
    absences_late bigint NOT NULL,
    absences_unexplained bigint NOT NULL,
    symptom_fever bigint NOT NULL,
    symptom_cough bigint NOT NULL,
    symptom_sore_throat bigint NOT NULL,
    symptom_diarrhoea bigint NOT NULL,
    symptom_vomiting bigint NOT NULL,
    symptom_rash bigint NOT NULL,
    symptom_conjunctivitis bigint NOT NULL,
    symptom_other bigint NOT NULL,
    returns_after_illness bigint NOT NULL,
    certificates_recorded bigint NOT NULL,
    alerts_opened bigint NOT NULL,
    alerts_open bigint NOT NULL,
    lanes bigint NOT NULL,
    lanes_known bigint NOT NULL,
    availability_sum double precision NOT NULL,
    PRIMARY KEY (day, shard)
);

-- Adds sign (1 or -1) times the figures of f to its day's row `shard`.
CREATE FUNCTION summary_city_add(f summary_figures, sign integer, shard smallint) RETURNS void
LANGUAGE sql AS $$
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
        availability_sum = c.availability_sum + excluded.availability_sum
$$;

-- The figures of document doc_id (a summary revision just stored) into
-- summary_figures, unless the day has a higher revision there already: the same rule
-- as summary_latest's, in the same transaction (bstore_ingest.c), so that the two
-- always name the same revision; and the change into the city's day. A new
-- school-day is inserted (ON CONFLICT DO NOTHING: a racing upload's row is committed
-- by then); a known one is locked, read, and replaced only by a higher revision, so
-- that what is subtracted from the city's day is what was there.
CREATE FUNCTION summary_figures_put(doc_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    new_f summary_figures;
    old_f summary_figures;
    shard smallint := (doc_id % 32)::smallint;
BEGIN
    SELECT f.* INTO STRICT new_f
      FROM documents d, LATERAL summary_figures_of(d) f WHERE d.id = doc_id;
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

-- The summaries stored before this migration: the figures of each day's latest,
-- and each day's sum for the city (in its row 0).
INSERT INTO summary_figures
SELECT f.*
  FROM summary_latest l JOIN documents d ON d.id = l.document_id,
       LATERAL summary_figures_of(d) f;
SELECT summary_city_add(f, 1, 0::smallint) FROM summary_figures f;

-- Acknowledging a notice (gatescreen-bureau notice ack): notices already has who and
-- when; the list of those not acknowledged yet by day is the pull API's
-- /v1/notices?unacknowledged=1 and the CLI's notice list.
CREATE INDEX notices_day ON notices (day, school_code);
