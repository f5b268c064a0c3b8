-- Procedures (one row per version), dossiers, their history, code sequences and idempotency.

CREATE TABLE procedures (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL,
    version INTEGER NOT NULL,
    is_current BOOLEAN NOT NULL,
    name TEXT NOT NULL,
    field TEXT NOT NULL,
    unit_code TEXT NOT NULL REFERENCES units (code),
    -- The whole definition as the API shows it (duration, checklist, steps…), JSON text.
    definition TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (code, version)
);
CREATE INDEX procedures_current ON procedures (is_current, code);

CREATE TABLE dossiers (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    procedure_id TEXT NOT NULL REFERENCES procedures (id),
    procedure_code TEXT NOT NULL,
    field TEXT NOT NULL,
    unit_code TEXT NOT NULL,
    state TEXT NOT NULL,
    outcome TEXT,
    channel TEXT NOT NULL,
    rule_regime TEXT NOT NULL,
    applicant TEXT NOT NULL,
    applicant_name TEXT NOT NULL,
    applicant_id_number TEXT,
    -- Code, applicant name and identity number folded to lower case (the list's `q`).
    search_text TEXT NOT NULL,
    components TEXT NOT NULL,
    note TEXT NOT NULL,
    lookup_key_hash TEXT NOT NULL,
    submitted_at TIMESTAMP,
    received_at TIMESTAMP,
    -- The running clock: effective start of the current run and working time added by pauses.
    clock_started_at TIMESTAMP,
    paused_seconds BIGINT NOT NULL DEFAULT 0,
    paused_at TIMESTAMP,
    due_at TIMESTAMP,
    due_at_current TIMESTAMP,
    current_step INTEGER,
    current_unit TEXT,
    step_started_at TIMESTAMP,
    step_due_at TIMESTAMP,
    supplement_count INTEGER NOT NULL DEFAULT 0,
    completion_asked BOOLEAN NOT NULL DEFAULT FALSE,
    state_before_withdrawal TEXT,
    -- Working seconds spent waiting for supplements (Quyết định 766 subtracts them).
    supplement_wait_seconds BIGINT NOT NULL DEFAULT 0,
    apology TEXT,
    late_apology BOOLEAN NOT NULL DEFAULT FALSE,
    resolved_at TIMESTAMP,
    finished_at TIMESTAMP,
    timeliness TEXT,
    -- Working time from receipt to the end of processing, supplement waits excluded (766: 2.2).
    working_seconds BIGINT,
    -- Every component that must be digitised has a file (Thông tư 01/2023); set by uploads.
    digitised BOOLEAN NOT NULL DEFAULT FALSE,
    -- At least one component reuses a file of an earlier dossier (766: 4.3).
    reused BOOLEAN NOT NULL DEFAULT FALSE,
    result_reference TEXT,
    electronic_result BOOLEAN NOT NULL DEFAULT FALSE,
    paid_online BOOLEAN,
    delivered_at TIMESTAMP,
    delivery_method TEXT,
    satisfaction INTEGER,
    -- Local dates (days since 1970-01-01 in the agency's zone) of receipt, end of processing
    -- and due time: reports compare whole days, so integers serve them exactly and fast.
    received_day INTEGER,
    finished_day INTEGER,
    due_day INTEGER,
    version INTEGER NOT NULL,
    last_event_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX dossiers_state_due ON dossiers (state, due_at);
CREATE INDEX dossiers_current_unit ON dossiers (current_unit, state);
CREATE INDEX dossiers_received_at ON dossiers (received_at);
CREATE INDEX dossiers_finished_at ON dossiers (finished_at);
-- Covers the Biểu 06 aggregate: the report reads this index only, never the table.
CREATE INDEX dossiers_report ON dossiers (received_day, finished_day, due_day, channel, state, timeliness, field, procedure_code, unit_code);
CREATE INDEX dossiers_procedure ON dossiers (procedure_code);
CREATE INDEX dossiers_applicant_id ON dossiers (applicant_id_number);

-- Units a dossier has been in (officers and leaders see dossiers that passed through theirs).
CREATE TABLE dossier_units (
    dossier_id TEXT NOT NULL REFERENCES dossiers (id),
    unit_code TEXT NOT NULL,
    PRIMARY KEY (dossier_id, unit_code)
);
CREATE INDEX dossier_units_unit ON dossier_units (unit_code);

-- The history: one immutable row per action; it is the processing-control slip (form 05).
CREATE TABLE dossier_events (
    dossier_id TEXT NOT NULL REFERENCES dossiers (id),
    seq INTEGER NOT NULL,
    action TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    unit_code TEXT,
    occurred_at TIMESTAMP NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    note TEXT NOT NULL,
    details TEXT NOT NULL,
    -- The step this row opens and its due time.
    step TEXT,
    step_unit TEXT,
    step_due_at TIMESTAMP,
    -- The step this row closes, and how it ended against its due time.
    closed_step TEXT,
    closed_step_due_at TIMESTAMP,
    step_timeliness TEXT,
    due_at TIMESTAMP,
    PRIMARY KEY (dossier_id, seq)
);

-- Per-agency daily code sequence (Thông tư 01/2018 Điều 19), allocated in the receipt's transaction.
CREATE TABLE dossier_sequences (
    agency_code TEXT NOT NULL,
    day DATE NOT NULL,
    last INTEGER NOT NULL,
    PRIMARY KEY (agency_code, day)
);

-- Idempotency-Key of POST /dossiers: the first answer, returned again for a retry.
CREATE TABLE idempotency_keys (
    user_id TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    response TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, key)
);
