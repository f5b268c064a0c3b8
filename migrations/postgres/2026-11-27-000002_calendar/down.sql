DROP TABLE calendar_revision;
DROP TABLE calendar_changes;
DROP TABLE calendar_years;
DROP TABLE calendar_days;
