DROP INDEX dossiers_indicators;
