-- Issue 13: what the reports need to judge a dossier under every setting, as columns the report
-- index holds (the report reads only the index):
--   timeliness_current  the finish judged against due_at_current (reports.judge_against);
--   due_current_day     the local day of due_at_current;
--   held_day            while the clock stands still with time left against due_at: the local
--                       day it stopped (a paused or frozen dossier is not overdue, issue 13);
--   held_current_day    the same against due_at_current.
-- Existing rows are carried forward. Local days are taken at UTC+7 (Asia/Ho_Chi_Minh, the
-- agency zone of every Vietnamese office; no daylight saving), as the service stamps them.
ALTER TABLE dossiers ADD COLUMN timeliness_current TEXT;
ALTER TABLE dossiers ADD COLUMN due_current_day INTEGER;
ALTER TABLE dossiers ADD COLUMN held_day INTEGER;
ALTER TABLE dossiers ADD COLUMN held_current_day INTEGER;

UPDATE dossiers SET due_current_day = CASE
    WHEN due_at_current IS NULL OR due_at_current = due_at THEN due_day
    ELSE (CAST(due_at_current + INTERVAL '7 hours' AS DATE) - DATE '1970-01-01') END;
UPDATE dossiers SET timeliness_current = CASE
    WHEN timeliness IS NULL OR due_at_current IS NULL OR due_at_current = due_at THEN timeliness
    WHEN finished_at > due_at_current THEN 'late'
    WHEN finished_day < due_current_day THEN 'early'
    ELSE 'on_time' END;
UPDATE dossiers SET
    held_day = CASE WHEN paused_at <= due_at
        THEN (CAST(paused_at + INTERVAL '7 hours' AS DATE) - DATE '1970-01-01') END,
    held_current_day = CASE WHEN paused_at <= COALESCE(due_at_current, due_at)
        THEN (CAST(paused_at + INTERVAL '7 hours' AS DATE) - DATE '1970-01-01') END
WHERE paused_at IS NOT NULL AND finished_at IS NULL;

DROP INDEX dossiers_report;
CREATE INDEX dossiers_report ON dossiers (received_day, finished_day, due_day, due_current_day,
    held_day, held_current_day, channel, state, state_before_withdrawal, timeliness,
    timeliness_current, field, procedure_code, unit_code);
