-- Breaks in the chain of identity (collection -> lot -> infusion -> subject).
-- Grain: one row per issue found; see README.md for the grain of each kind.
-- Parameters: $as_of (DATE, the data cut-off), $window_days (follow-up window for outcomes).
WITH
infused AS (
    -- Each infused lot with its lot record, its collection and the infused subject.
    SELECT i.subject_id, i.infusion_date, i.lot_id,
           l.lot_id IS NOT NULL AS has_lot,
           l.modality, l.disposition, l.release_date, l.coi_id AS lot_coi_id,
           l.collection_id, c.coi_id AS collection_coi_id, c.subject_id AS collection_subject_id,
           s.coi_id AS subject_coi_id,
           coalesce(l.modality LIKE 'autologous%', false) AS is_autologous
    FROM lk_infusion_lots AS i
    LEFT JOIN lk_lots AS l USING (lot_id)
    LEFT JOIN lk_collections AS c ON c.collection_id = l.collection_id
    LEFT JOIN lk_subjects AS s ON s.subject_id = i.subject_id
),
orphan_infusion AS (
    SELECT 'orphan_infusion' AS kind, 'error' AS severity, subject_id, lot_id,
           NULL::VARCHAR AS collection_id, infusion_date,
           concat('Infusion of subject ', subject_id, ' on ', infusion_date, ' names lot ',
                  coalesce(lot_id, '(none)'),
                  ', which no manufacturing delivery contains; send the lot record from the CDMO ',
                  'or correct the lot_id on the infusion record.') AS detail,
           true AS blocks_analysis
    FROM infused WHERE NOT has_lot
),
lot_not_released AS (
    SELECT 'lot_not_released', 'error', subject_id, lot_id, collection_id, infusion_date,
           concat('Lot ', lot_id, ' has disposition ', coalesce(disposition, '(missing)'),
                  ' but was infused into subject ', subject_id, ' on ', infusion_date,
                  '; confirm the release record with the CDMO quality unit or correct the disposition.'),
           false
    FROM infused
    WHERE has_lot AND coalesce(disposition, '') NOT IN ('released', 'released_out_of_spec')
),
coi_infused AS (
    -- Autologous: collection, lot and subject must carry one and the same chain-of-identity id.
    SELECT 'coi_mismatch', 'error', subject_id, lot_id, collection_id, infusion_date,
           concat('Chain-of-identity ids disagree for autologous lot ', lot_id,
                  ' infused into subject ', subject_id, ' on ', infusion_date,
                  ': collection ', coalesce(collection_id, '(none)'), ' has ',
                  coalesce(collection_coi_id, '(none)'), ', lot has ', coalesce(lot_coi_id, '(none)'),
                  ', subject has ', coalesce(subject_coi_id, '(none)'),
                  '; check which record carries the wrong coi_id and correct it at its source.'),
           true
    FROM infused
    WHERE is_autologous
      -- list_distinct drops NULLs: only ids that are present are compared.
      AND len(list_distinct([collection_coi_id, lot_coi_id, subject_coi_id])) > 1
),
coi_lot_only AS (
    -- Autologous lots never infused still must match their collection.
    SELECT 'coi_mismatch', 'error', c.subject_id, l.lot_id, l.collection_id, NULL::DATE,
           concat('Autologous lot ', l.lot_id, ' carries coi_id ', l.coi_id, ' but its collection ',
                  l.collection_id, ' carries ', c.coi_id,
                  '; correct the coi_id on the lot or the collection record.'),
           true
    FROM lk_lots AS l
    JOIN lk_collections AS c ON c.collection_id = l.collection_id
    WHERE l.modality LIKE 'autologous%' AND l.coi_id <> c.coi_id
      AND l.lot_id NOT IN (SELECT lot_id FROM lk_infusion_lots WHERE lot_id IS NOT NULL)
),
subject_mismatch AS (
    SELECT 'subject_mismatch', 'error', subject_id, lot_id, collection_id, infusion_date,
           concat('Autologous lot ', lot_id, ' was made from collection ', collection_id,
                  ' of subject ', collection_subject_id, ' but infused into subject ', subject_id,
                  ' on ', infusion_date,
                  '; correct the lot_id on the infusion or the subject_id on the collection.'),
           true
    FROM infused
    WHERE is_autologous AND collection_subject_id IS NOT NULL
      AND collection_subject_id <> subject_id
),
lot_subjects AS (
    SELECT lot_id, subject_id, min(infusion_date) AS infusion_date, any_value(collection_id) AS collection_id,
           count(*) OVER (PARTITION BY lot_id) AS n_subjects,
           string_agg(subject_id, ', ' ORDER BY subject_id) OVER (PARTITION BY lot_id) AS subjects
    FROM infused
    WHERE is_autologous
    GROUP BY lot_id, subject_id
),
autologous_lot_multiple_subjects AS (
    SELECT 'autologous_lot_multiple_subjects', 'error', subject_id, lot_id, collection_id,
           infusion_date,
           concat('Autologous lot ', lot_id, ' was infused into ', n_subjects, ' subjects (',
                  subjects, '); an autologous lot belongs to one patient, so correct the lot_id ',
                  'on the wrong infusion record.'),
           true
    FROM lot_subjects WHERE n_subjects > 1
),
infusion_before_release AS (
    SELECT 'infusion_before_release', 'warning', subject_id, lot_id, collection_id, infusion_date,
           concat('Subject ', subject_id, ' was infused on ', infusion_date, ' with lot ', lot_id,
                  ', released only on ', release_date,
                  '; check the infusion and release dates or document the release at risk.'),
           false
    FROM infused WHERE infusion_date < release_date
),
subject_without_infusion AS (
    SELECT 'subject_without_infusion', 'warning', s.subject_id, l.lot_id, c.collection_id,
           NULL::DATE,
           concat('Subject ', s.subject_id, ' (site ', coalesce(s.site_id, '(none)'),
                  ') has no infusion record; send it, or confirm that the subject was never ',
                  'infused (e.g. manufacturing failure or withdrawal).'),
           false
    FROM lk_subjects AS s
    LEFT JOIN (SELECT subject_id, min(collection_id) AS collection_id FROM lk_collections
               GROUP BY subject_id) AS c USING (subject_id)
    LEFT JOIN (SELECT collection_id, min(lot_id) AS lot_id FROM lk_lots
               GROUP BY collection_id) AS l USING (collection_id)
    WHERE s.subject_id NOT IN (SELECT subject_id FROM lk_infusion_lots)
),
infusion_without_outcome AS (
    SELECT 'infusion_without_outcome', 'warning', e.subject_id, e.lot_id, NULL::VARCHAR,
           e.infusion_date,
           concat('Subject ', e.subject_id, ' was infused on ', e.infusion_date, ' with lot ',
                  coalesce(e.lot_id, '(none)'), ' but has no response or follow-up record ',
                  ($as_of - e.infusion_date), ' days later (window ', $window_days,
                  ' days); request the outcome data from the site.'),
           false
    FROM lk_events AS e
    JOIN lk_outcomes AS o USING (subject_id, infusion_date)
    WHERE NOT o.has_outcome AND $as_of - e.infusion_date > $window_days
),
record_without_subject AS (
    -- Responses, adverse events, follow-up and infusions of a patient no clinical delivery
    -- describes: kept, but silent in every analysis until the patient's record arrives.
    SELECT 'record_without_subject', 'warning', r.subject_id, NULL::VARCHAR, NULL::VARCHAR,
           NULL::DATE,
           concat('Subject ', r.subject_id, ' has ', string_agg(r.n || ' ' || r.what, ', ' ORDER BY r.what),
                  ' but no subjects record in any clinical delivery; send it (SDTM DM, ADaM ADSL, ',
                  'FHIR Patient or subjects.csv) or correct the subject_id on those records.'),
           false
    FROM (
        SELECT subject_id, 'adverse events' AS what, count(*) AS n FROM src_adverse_events GROUP BY 1
        UNION ALL SELECT subject_id, 'follow-up records', count(*) FROM src_follow_up GROUP BY 1
        UNION ALL SELECT subject_id, 'infusions', count(*) FROM src_infusions GROUP BY 1
        UNION ALL SELECT subject_id, 'responses', count(*) FROM src_responses GROUP BY 1
    ) AS r
    WHERE r.subject_id IS NOT NULL AND r.subject_id NOT IN (SELECT subject_id FROM lk_subjects)
    GROUP BY r.subject_id
)
SELECT * FROM orphan_infusion
UNION ALL SELECT * FROM lot_not_released
UNION ALL SELECT * FROM coi_infused
UNION ALL SELECT * FROM coi_lot_only
UNION ALL SELECT * FROM subject_mismatch
UNION ALL SELECT * FROM autologous_lot_multiple_subjects
UNION ALL SELECT * FROM infusion_before_release
UNION ALL SELECT * FROM subject_without_infusion
UNION ALL SELECT * FROM infusion_without_outcome
UNION ALL SELECT * FROM record_without_subject
ORDER BY kind, subject_id NULLS LAST, lot_id NULLS LAST, infusion_date NULLS LAST
