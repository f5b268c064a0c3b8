-- Digitised documents (design §7): each stored file once, by its SHA-256, and its use as a
-- dossier component with the document's metadata.
CREATE TABLE files (
    sha256 TEXT PRIMARY KEY NOT NULL,
    size BIGINT NOT NULL,
    media_type TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE component_files (
    dossier_id TEXT NOT NULL REFERENCES dossiers (id),
    item_code TEXT NOT NULL,
    sha256 TEXT NOT NULL REFERENCES files (sha256),
    document_number TEXT,
    issue_date DATE,
    issuer TEXT,
    valid_until DATE,
    digitised_by TEXT NOT NULL,
    digitised_at TIMESTAMP NOT NULL,
    -- The dossier whose file this reuses (Thông tư 01/2023), if any.
    reused_from TEXT,
    PRIMARY KEY (dossier_id, item_code, sha256)
);
CREATE INDEX component_files_sha ON component_files (sha256);
CREATE INDEX dossiers_applicant ON dossiers (applicant_id_number, id);
