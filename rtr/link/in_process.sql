-- In-process features per lot, aggregated inside DuckDB (the time series can hold 10^8 rows).
-- Grain of the result: one row per lot_id that has any in-process observation.
WITH ts AS (
    SELECT lot_id, observed_at, measure_code, value
    FROM src_in_process_timeseries
    WHERE lot_id IS NOT NULL AND observed_at IS NOT NULL AND value IS NOT NULL
),
-- Growth: exponential phase slope of ln(VCD) per day and doublings between first and last count.
growth AS (
    SELECT lot_id,
           regr_slope(ln(value), epoch(observed_at) / 86400.0) AS in_process_growth_rate_per_day,
           log2(arg_max(value, observed_at) / arg_min(value, observed_at))
               AS in_process_population_doublings
    FROM ts
    WHERE measure_code = 'viable_cell_density' AND value > 0
    GROUP BY lot_id
),
viability AS (
    SELECT lot_id, arg_max(value, observed_at) AS in_process_last_viability_pct
    FROM ts
    WHERE measure_code = 'viability_pct'
    GROUP BY lot_id
),
-- Time outside the operating range = readings outside x the lot's mean sampling interval for
-- that measure (exact for the regular sampling of online sensors; a window over the next
-- reading would sort 10^8 rows for little gain).
outside AS (
    SELECT ts.lot_id, ts.measure_code,
           count(*) FILTER (WHERE ts.value < r.lower_bound OR ts.value > r.upper_bound)
           * CASE WHEN count(*) > 1
                  THEN (epoch(max(ts.observed_at)) - epoch(min(ts.observed_at)))
                       / 3600.0 / (count(*) - 1)
                  ELSE 0.0 END AS hours_outside
    FROM ts
    JOIN lk_operating_ranges AS r USING (measure_code)
    GROUP BY ts.lot_id, ts.measure_code
),
lots AS (
    SELECT DISTINCT lot_id FROM ts
)
SELECT lots.lot_id,
       growth.in_process_growth_rate_per_day,
       growth.in_process_population_doublings,
       viability.in_process_last_viability_pct
       {outside_columns}
FROM lots
LEFT JOIN growth USING (lot_id)
LEFT JOIN viability USING (lot_id)
LEFT JOIN outside USING (lot_id)
GROUP BY ALL
