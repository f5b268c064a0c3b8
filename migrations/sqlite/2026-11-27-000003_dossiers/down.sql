DROP TABLE idempotency_keys;
DROP TABLE dossier_sequences;
DROP TABLE dossier_events;
DROP TABLE dossier_units;
DROP TABLE dossiers;
DROP TABLE procedures;
