-- Transactional outbox: each notification is written in the transaction of the change that
-- causes it, then sent by the worker (design §8).
CREATE TABLE outbox (
    id TEXT PRIMARY KEY NOT NULL,
    event TEXT NOT NULL,
    dossier_id TEXT,
    dossier_code TEXT,
    recipient TEXT NOT NULL,
    language TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    -- One row per (event, subject of the event): a retried or repeated cause enqueues nothing new.
    idempotency_key TEXT NOT NULL UNIQUE,
    -- Stable across resends, so that a message sent again after a crash is recognisable.
    message_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_dossier ON outbox (dossier_code);
