-- Handling units and user accounts. Times are UTC; ids are UUID text.
CREATE TABLE units (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    email TEXT,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    full_name TEXT NOT NULL,
    email TEXT,
    role TEXT NOT NULL CHECK (role IN ('admin', 'clerk', 'officer', 'leader', 'viewer', 'portal')),
    unit_code TEXT REFERENCES units (code),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    -- Bumped on password change, role change or deactivation: older tokens stop working.
    token_version INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX users_unit_code ON users (unit_code);
