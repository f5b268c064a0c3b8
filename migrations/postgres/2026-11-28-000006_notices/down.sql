DROP TABLE dossier_notices;
