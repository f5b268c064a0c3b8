//! Digitised components: attaching uploaded or reused files to a dossier's checklist items,
//! their metadata, and the dossier's digitisation status (Thông tư 01/2023).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::files::{self as store, ComponentFileRow, FileRow};
use crate::db::{self, DbConnection, from_db_time, to_db_time};
use crate::domain::dossier::{DossierRecord, digitisation};
use crate::error::{AppError, AppResult, Code, FieldErrors};
use crate::storage::Stored;

use super::context::{Ctx, visible_dossier};

/// What the person digitising records about the document (all optional).
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct FileMetadata {
    pub document_number: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub issue_date: Option<NaiveDate>,
    pub issuer: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub valid_until: Option<NaiveDate>,
}

impl FileMetadata {
    pub fn check(&self) -> AppResult<()> {
        let mut e = FieldErrors::default();
        e.check(
            self.document_number.as_ref().is_none_or(|s| s.len() <= 100),
            "document_number",
            "is too long",
        );
        e.check(
            self.issuer.as_ref().is_none_or(|s| s.len() <= 300),
            "issuer",
            "is too long",
        );
        if let (Some(a), Some(b)) = (self.issue_date, self.valid_until) {
            e.check(a <= b, "valid_until", "must not be before issue_date");
        }
        e.into_result()
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttachedFile {
    pub item_code: String,
    pub sha256: String,
    pub size: i64,
    pub media_type: String,
    #[serde(flatten)]
    pub metadata: FileMetadata,
    pub digitised_by: String,
    pub digitised_at: crate::clock::ApiTime,
    /// The earlier dossier whose file this reuses.
    pub reused_from: Option<String>,
}

impl AttachedFile {
    fn new(c: ComponentFileRow, f: FileRow) -> Self {
        AttachedFile {
            item_code: c.item_code,
            sha256: f.sha256,
            size: f.size,
            media_type: f.media_type,
            metadata: FileMetadata {
                document_number: c.document_number,
                issue_date: c.issue_date,
                issuer: c.issuer,
                valid_until: c.valid_until,
            },
            digitised_by: c.digitised_by,
            digitised_at: from_db_time(c.digitised_at).into(),
            reused_from: c.reused_from,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DossierFiles {
    /// Every component that must be digitised has a file.
    pub digitised: bool,
    /// Items that must be digitised and have no file yet.
    pub missing: Vec<String>,
    pub files: Vec<AttachedFile>,
}

/// Recomputes and stores the dossier's digitisation and reuse flags.
pub(crate) fn refresh_status(
    conn: &mut DbConnection,
    d: &DossierRecord,
) -> AppResult<DossierFiles> {
    let files = attached(conn, d)?;
    let status = digitisation::status(&d.components, files.iter().map(|f| f.item_code.as_str()));
    let reused = files.iter().any(|f| f.reused_from.is_some());
    store::set_digitisation(conn, &d.id, status.digitised, reused)?;
    Ok(DossierFiles {
        digitised: status.digitised,
        missing: status.missing,
        files,
    })
}

fn attached(conn: &mut DbConnection, d: &DossierRecord) -> AppResult<Vec<AttachedFile>> {
    Ok(store::list_for_dossier(conn, &d.id)?
        .into_iter()
        .map(|(c, f)| AttachedFile::new(c, f))
        .collect())
}

fn component_of(d: &DossierRecord, item_code: &str) -> AppResult<()> {
    if d.components.iter().any(|c| c.item_code == item_code) {
        Ok(())
    } else {
        Err(AppError::new(
            Code::ComponentNotFound,
            format!("Dossier {} has no component {item_code:?}.", d.code),
        ))
    }
}

/// Checks what an upload is for before its bytes are kept: the dossier (visible to the
/// caller) and its checklist item; with the received file's hash, also its metadata and that
/// it is not attached to the item already. `attach` checks all of it again in its transaction.
pub fn check_upload(
    conn: &mut DbConnection,
    ctx: &Ctx,
    dossier_code: &str,
    item_code: &str,
    received: Option<(&str, &FileMetadata)>,
) -> AppResult<()> {
    let row = visible_dossier(conn, ctx, dossier_code)?;
    component_of(&row, item_code)?;
    if let Some((sha, meta)) = received {
        meta.check()?;
        if store::find_component_file(conn, &row.id, item_code, sha)?.is_some() {
            return Err(already_attached());
        }
    }
    Ok(())
}

fn already_attached() -> AppError {
    AppError::new(
        Code::FileExists,
        "This file is already attached to the component.",
    )
}

/// Removes stored files that no row names (a crash or a failed transaction between the
/// rename and the commit) once older than `grace`, and temporary files of dead uploads.
pub fn sweep_orphan_files(
    conn: &mut DbConnection,
    files: &crate::storage::Store,
    grace: std::time::Duration,
) -> AppResult<crate::storage::SweepReport> {
    let report = files
        .sweep(grace, |sha| {
            store::find_file(conn, sha)
                .map(|row| row.is_some())
                .map_err(std::io::Error::other)
        })
        .map_err(AppError::internal)?;
    if report.orphans + report.temporary > 0 {
        tracing::info!(
            files.orphans = report.orphans,
            files.temporary = report.temporary,
            "storage sweep removed unreferenced files"
        );
    }
    Ok(report)
}

/// Attaches a stored upload to a component, in one transaction with the status refresh.
/// The file is already durable on disk, so the row never names a missing file.
pub fn attach(
    conn: &mut DbConnection,
    ctx: &Ctx,
    dossier_code: &str,
    item_code: &str,
    stored: &Stored,
    media_type: &str,
    meta: &FileMetadata,
) -> AppResult<AttachedFile> {
    meta.check()?;
    db::write_tx(conn, |conn| {
        let row = visible_dossier(conn, ctx, dossier_code)?;
        component_of(&row, item_code)?;
        let file = FileRow {
            sha256: stored.sha256.clone(),
            size: i64::try_from(stored.size).map_err(AppError::internal)?,
            media_type: media_type.to_owned(),
            created_at: to_db_time(ctx.now),
        };
        store::insert_file_if_new(conn, &file)?;
        let link = link(&row, item_code, &stored.sha256, meta, ctx, None);
        if store::find_component_file(conn, &row.id, item_code, &stored.sha256)?.is_some() {
            return Err(already_attached());
        }
        store::insert_component_file(conn, &link)?;
        refresh_status(conn, &row)?;
        Ok(AttachedFile::new(link, file))
    })
}

fn link(
    row: &DossierRecord,
    item: &str,
    sha: &str,
    meta: &FileMetadata,
    ctx: &Ctx,
    reused_from: Option<String>,
) -> ComponentFileRow {
    ComponentFileRow {
        dossier_id: row.id.clone(),
        item_code: item.to_owned(),
        sha256: sha.to_owned(),
        document_number: meta.document_number.clone(),
        issue_date: meta.issue_date,
        issuer: meta.issuer.clone(),
        valid_until: meta.valid_until,
        digitised_by: ctx.principal.username.clone(),
        digitised_at: to_db_time(ctx.now),
        reused_from,
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReuseRequest {
    /// A file already stored for an earlier dossier of the same applicant.
    pub sha256: String,
    #[serde(flatten)]
    pub metadata: FileMetadata,
}

/// Points a component at a file of an earlier dossier of the same applicant (same identity
/// number) instead of a new scan.
pub fn reuse(
    conn: &mut DbConnection,
    ctx: &Ctx,
    dossier_code: &str,
    item_code: &str,
    req: &ReuseRequest,
) -> AppResult<AttachedFile> {
    req.metadata.check()?;
    db::write_tx(conn, |conn| {
        let row = visible_dossier(conn, ctx, dossier_code)?;
        component_of(&row, item_code)?;
        let id_number = row.applicant_id_number.clone().ok_or_else(|| {
            AppError::new(
                Code::ReuseNoIdentity,
                "The applicant has no identity number to match.",
            )
        })?;
        let from = store::owned_by_applicant(conn, &req.sha256, &id_number)?
            .filter(|c| *c != row.code)
            .ok_or_else(|| {
                AppError::new(
                    Code::ReuseNotFound,
                    "No earlier dossier of this applicant has that file.",
                )
            })?;
        let file =
            store::find_file(conn, &req.sha256)?.ok_or_else(|| AppError::internal("file row"))?;
        if store::find_component_file(conn, &row.id, item_code, &req.sha256)?.is_some() {
            return Err(already_attached());
        }
        let link = link(&row, item_code, &req.sha256, &req.metadata, ctx, Some(from));
        store::insert_component_file(conn, &link)?;
        refresh_status(conn, &row)?;
        Ok(AttachedFile::new(link, file))
    })
}

pub fn list(conn: &mut DbConnection, ctx: &Ctx, dossier_code: &str) -> AppResult<DossierFiles> {
    let d = visible_dossier(conn, ctx, dossier_code)?;
    let files = attached(conn, &d)?;
    let status = digitisation::status(&d.components, files.iter().map(|f| f.item_code.as_str()));
    // The stored flag, as the dossier view shows it.
    Ok(DossierFiles {
        digitised: d.digitised,
        missing: status.missing,
        files,
    })
}

/// The media type of a file attached to the component (for download).
pub fn find(
    conn: &mut DbConnection,
    ctx: &Ctx,
    dossier_code: &str,
    item_code: &str,
    sha: &str,
) -> AppResult<FileRow> {
    let row = visible_dossier(conn, ctx, dossier_code)?;
    store::find_component_file(conn, &row.id, item_code, sha)?
        .ok_or_else(|| AppError::new(Code::FileNotFound, "No such file on this component."))?;
    store::find_file(conn, sha)?.ok_or_else(|| AppError::new(Code::FileNotFound, "No such file."))
}
