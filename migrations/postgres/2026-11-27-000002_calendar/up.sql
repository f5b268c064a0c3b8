-- The working calendar: one row per special date (design §5), loaded from
-- config/calendars/vn-YYYY.toml and edited by admins.
CREATE TABLE calendar_days (
    date DATE PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('holiday', 'compensatory_off', 'swapped_off', 'makeup_workday')),
    name TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    updated_by TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- Years whose data file has been loaded once: a restart does not undo an admin's edits.
CREATE TABLE calendar_years (
    year INTEGER PRIMARY KEY NOT NULL,
    loaded_at TIMESTAMP NOT NULL
);

-- Every admin change, with the old and new values.
CREATE TABLE calendar_changes (
    id TEXT PRIMARY KEY NOT NULL,
    date DATE NOT NULL,
    actor TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    old_kind TEXT,
    old_name TEXT,
    new_kind TEXT,
    new_name TEXT
);
CREATE INDEX calendar_changes_date ON calendar_changes (date);

-- Bumped by every change, so that each instance knows when to reload its cached calendar.
CREATE TABLE calendar_revision (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    revision BIGINT NOT NULL
);
INSERT INTO calendar_revision (id, revision) VALUES (1, 0);
