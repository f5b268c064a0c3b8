DROP INDEX dossiers_report;
ALTER TABLE dossiers DROP COLUMN held_current_day;
ALTER TABLE dossiers DROP COLUMN held_day;
ALTER TABLE dossiers DROP COLUMN due_current_day;
ALTER TABLE dossiers DROP COLUMN timeliness_current;
CREATE INDEX dossiers_report ON dossiers (received_day, finished_day, due_day, channel, state, timeliness, field, procedure_code, unit_code);
