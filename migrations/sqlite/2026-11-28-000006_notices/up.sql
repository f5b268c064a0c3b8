-- Staff notices the due-time watcher has raised (dossier due soon, dossier overdue, step due
-- soon): one row per notice, whether or not an email went out, so that each is raised once and
-- the watcher reads only dossiers whose notice of that kind is still to be raised. Kept apart
-- from the outbox, whose sent rows are pruned after outbox.retain_days.
CREATE TABLE dossier_notices (
    notice_key TEXT PRIMARY KEY NOT NULL,
    dossier_id TEXT NOT NULL REFERENCES dossiers (id),
    kind TEXT NOT NULL CHECK (kind IN ('dossier_due_soon', 'dossier_overdue', 'step_due_soon')),
    -- Step notices: the start of the step they are about (a step run again is a new notice).
    step_started_at TIMESTAMP,
    raised_at TIMESTAMP NOT NULL
);
CREATE INDEX dossier_notices_dossier ON dossier_notices (dossier_id, kind, step_started_at);
-- The watcher's dossier notices raised before this table existed (their outbox keys are
-- `kind:dossier_id`); step notices already raised are found by their outbox key.
INSERT INTO dossier_notices (notice_key, dossier_id, kind, step_started_at, raised_at)
SELECT o.idempotency_key, o.dossier_id, o.event, NULL, o.created_at
FROM outbox o JOIN dossiers d ON d.id = o.dossier_id
WHERE o.event IN ('dossier_due_soon', 'dossier_overdue');
