DROP INDEX dossiers_applicant;
DROP TABLE component_files;
DROP TABLE files;
