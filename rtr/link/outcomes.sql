-- Outcomes per infusion event. Grain: one row per subject_id + infusion_date.
-- Each event owns the clinical records dated from its infusion up to the subject's next
-- infusion, so a re-infusion does not inherit the response to the first product.
CREATE OR REPLACE TEMP TABLE lk_outcomes AS
WITH ev AS (
    SELECT subject_id, infusion_date, first_infusion_date, next_infusion_date FROM lk_events
),
-- Toxicity is known only where the treating site reports adverse events at all. A site that
-- sends none (a registry without AE collection, a product whose trial does not grade CRS)
-- has unknown toxicity, not "grade 0"; a site that sends some has grade 0 for patients
-- without CRS/ICANS, as in a trial with complete AE collection.
ae_sites AS (
    SELECT DISTINCT s.site_id
    FROM src_adverse_events AS ae JOIN lk_subjects AS s ON s.subject_id = ae.subject_id
),
assessed AS (
    SELECT ev.subject_id, ev.infusion_date,
           s.site_id IN (SELECT site_id FROM ae_sites)
           OR ev.subject_id IN (SELECT subject_id FROM src_adverse_events) AS tox_assessed
    FROM ev LEFT JOIN lk_subjects AS s ON s.subject_id = ev.subject_id
),
-- Criteria-specific categories (Lugano PET: CMR/PMR/NMR/PMD; IMWG: sCR/VGPR/MR; iwCLL: CRi/PR-L)
-- map onto CR/PR/SD/PD; ingestion already does this, it is repeated here defensively.
resp AS (
    SELECT subject_id, assessment_date, coalesce(is_best_overall, false) AS is_best_overall,
           CASE upper(trim(response))
               WHEN 'CR' THEN 'CR' WHEN 'CMR' THEN 'CR' WHEN 'SCR' THEN 'CR' WHEN 'CRI' THEN 'CR'
               WHEN 'PR' THEN 'PR' WHEN 'PMR' THEN 'PR' WHEN 'VGPR' THEN 'PR' WHEN 'PR-L' THEN 'PR'
               WHEN 'SD' THEN 'SD' WHEN 'NMR' THEN 'SD' WHEN 'MR' THEN 'SD'
               WHEN 'PD' THEN 'PD' WHEN 'PMD' THEN 'PD'
               ELSE 'NE'
           END AS response
    FROM src_responses
    WHERE subject_id IS NOT NULL AND assessment_date IS NOT NULL AND response IS NOT NULL
),
bor AS (
    -- The sender's best-overall flag wins; otherwise the best category observed.
    SELECT ev.subject_id, ev.infusion_date,
           arg_min(resp.response,
                   (CASE WHEN resp.is_best_overall THEN 0 ELSE 10 END)
                   + CASE resp.response WHEN 'CR' THEN 1 WHEN 'PR' THEN 2 WHEN 'SD' THEN 3
                                        WHEN 'PD' THEN 4 ELSE 5 END) AS best_overall_response
    FROM ev
    JOIN resp ON resp.subject_id = ev.subject_id
             AND resp.assessment_date >= ev.infusion_date
             AND (ev.next_infusion_date IS NULL OR resp.assessment_date < ev.next_infusion_date)
    GROUP BY ev.subject_id, ev.infusion_date
),
tox AS (
    -- An AE without onset date is attributed to the subject's first infusion.
    SELECT ev.subject_id, ev.infusion_date,
           max(ae.grade) FILTER (WHERE upper(trim(ae.ae_term)) = 'CRS') AS worst_crs_grade,
           max(ae.grade) FILTER (WHERE upper(trim(ae.ae_term)) = 'ICANS') AS worst_icans_grade
    FROM ev
    JOIN src_adverse_events AS ae
      ON ae.subject_id = ev.subject_id
     AND coalesce(ae.onset_date, ev.first_infusion_date) >= ev.infusion_date
     AND (ev.next_infusion_date IS NULL
          OR coalesce(ae.onset_date, ev.first_infusion_date) < ev.next_infusion_date)
    GROUP BY ev.subject_id, ev.infusion_date
),
pk AS (
    SELECT ev.subject_id, ev.infusion_date,
           max(x.car_transgene_copies_per_ug_dna) AS peak_expansion_copies_per_ug
    FROM ev
    JOIN src_expansion AS x
      ON x.subject_id = ev.subject_id
     AND x.sample_date >= ev.infusion_date
     AND (ev.next_infusion_date IS NULL OR x.sample_date < ev.next_infusion_date)
    GROUP BY ev.subject_id, ev.infusion_date
),
surv AS (
    -- PFS event: progression after this infusion or death, whichever first; otherwise
    -- censored at last contact. OS event: death; otherwise censored at last contact.
    SELECT ev.subject_id, ev.infusion_date,
           least(CASE WHEN f.progression_date >= ev.infusion_date THEN f.progression_date END,
                 f.death_date) AS pfs_event_date,
           f.death_date,
           f.last_known_alive_date,
           f.subject_id IS NOT NULL AS has_follow_up
    FROM ev
    LEFT JOIN lk_follow AS f ON f.subject_id = ev.subject_id
)
SELECT ev.subject_id, ev.infusion_date,
       bor.best_overall_response,
       bor.best_overall_response = 'CR' AS cr,
       bor.best_overall_response IN ('CR', 'PR') AS orr,
       CASE WHEN assessed.tox_assessed THEN coalesce(tox.worst_crs_grade, 0) END
           AS worst_crs_grade,
       CASE WHEN assessed.tox_assessed THEN coalesce(tox.worst_icans_grade, 0) END
           AS worst_icans_grade,
       CASE WHEN assessed.tox_assessed THEN coalesce(tox.worst_crs_grade, 0) >= 3 END
           AS crs_grade3plus,
       CASE WHEN assessed.tox_assessed THEN coalesce(tox.worst_icans_grade, 0) >= 3 END
           AS icans_grade3plus,
       -- A negative time (last contact before infusion) is a data error, not a survival time.
       CASE WHEN coalesce(surv.pfs_event_date, surv.last_known_alive_date) >= ev.infusion_date
            THEN coalesce(surv.pfs_event_date, surv.last_known_alive_date) - ev.infusion_date
       END AS pfs_days,
       CASE WHEN coalesce(surv.pfs_event_date, surv.last_known_alive_date) >= ev.infusion_date
            THEN surv.pfs_event_date IS NOT NULL
       END AS pfs_event,
       CASE WHEN coalesce(surv.death_date, surv.last_known_alive_date) >= ev.infusion_date
            THEN coalesce(surv.death_date, surv.last_known_alive_date) - ev.infusion_date
       END AS os_days,
       CASE WHEN coalesce(surv.death_date, surv.last_known_alive_date) >= ev.infusion_date
            THEN surv.death_date IS NOT NULL
       END AS os_event,
       pk.peak_expansion_copies_per_ug,
       (bor.best_overall_response IS NOT NULL OR surv.has_follow_up) AS has_outcome
FROM ev
LEFT JOIN bor USING (subject_id, infusion_date)
LEFT JOIN tox USING (subject_id, infusion_date)
LEFT JOIN assessed USING (subject_id, infusion_date)
LEFT JOIN pk USING (subject_id, infusion_date)
LEFT JOIN surv USING (subject_id, infusion_date);
