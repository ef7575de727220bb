-- Infusion lots and infusion events.
-- lk_infusion_lots: one row per subject_id + infusion_date + lot_id (an infusion may use several
-- lots, e.g. separate CD4 and CD8 lots).
CREATE OR REPLACE TEMP TABLE lk_infusion_lots AS
SELECT DISTINCT ON (subject_id, infusion_date, lot_id)
       subject_id, infusion_date, lot_id, dose_total_cells, dose_per_kg,
       lymphodepletion, bridging_therapy
FROM src_infusions
WHERE subject_id IS NOT NULL AND infusion_date IS NOT NULL
ORDER BY subject_id, infusion_date, lot_id, dose_total_cells DESC NULLS LAST;

-- lk_lots / lk_subjects / lk_collections / lk_follow: one row per key, whatever upstream sent.
CREATE OR REPLACE TEMP TABLE lk_lots AS
SELECT DISTINCT ON (lot_id) * FROM src_lots WHERE lot_id IS NOT NULL ORDER BY lot_id;

CREATE OR REPLACE TEMP TABLE lk_subjects AS
SELECT DISTINCT ON (subject_id) * FROM src_subjects WHERE subject_id IS NOT NULL ORDER BY subject_id;

CREATE OR REPLACE TEMP TABLE lk_collections AS
SELECT DISTINCT ON (collection_id) * FROM src_collections
WHERE collection_id IS NOT NULL ORDER BY collection_id;

CREATE OR REPLACE TEMP TABLE lk_follow AS
SELECT DISTINCT ON (subject_id) * FROM src_follow_up
WHERE subject_id IS NOT NULL ORDER BY subject_id, last_known_alive_date DESC NULLS LAST;

-- lk_events: one row per infusion event = subject_id + infusion_date. The primary lot is the
-- first by lot_id; doses of the lots given together add up to the administered dose.
CREATE OR REPLACE TEMP TABLE lk_events AS
WITH grouped AS (
    SELECT subject_id, infusion_date,
           min(lot_id) AS lot_id,
           string_agg(DISTINCT lot_id, ',' ORDER BY lot_id) AS lot_ids,
           count(DISTINCT lot_id) AS n_lots,
           sum(dose_total_cells) AS dose_total_cells,
           sum(dose_per_kg) AS dose_per_kg,
           first(lymphodepletion ORDER BY lot_id) FILTER (WHERE lymphodepletion IS NOT NULL)
               AS lymphodepletion,
           first(bridging_therapy ORDER BY lot_id) FILTER (WHERE bridging_therapy IS NOT NULL)
               AS bridging_therapy
    FROM lk_infusion_lots
    GROUP BY subject_id, infusion_date
)
SELECT *,
       infusion_date = min(infusion_date) OVER (PARTITION BY subject_id) AS is_first_infusion,
       min(infusion_date) OVER (PARTITION BY subject_id) AS first_infusion_date,
       lead(infusion_date) OVER (PARTITION BY subject_id ORDER BY infusion_date)
           AS next_infusion_date
FROM grouped;
