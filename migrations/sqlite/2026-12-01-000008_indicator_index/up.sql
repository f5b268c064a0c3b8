-- Issue 13: the Quyết định 766 indicators are one aggregate grouped by procedure version (the
-- official formulas read each version's paper-result and fee flags). This index holds every
-- column that aggregate reads, procedure_id first, so that SQLite scans the index in group
-- order (no table rows, no sort for the GROUP BY): docs/performance.md.
CREATE INDEX dossiers_indicators ON dossiers (procedure_id, received_day, finished_day, state,
    state_before_withdrawal, outcome, channel, supplement_count, due_day, due_current_day,
    held_day, held_current_day, timeliness, timeliness_current, satisfaction, delivered_at,
    electronic_result, paid_online, digitised, reused, working_seconds);
