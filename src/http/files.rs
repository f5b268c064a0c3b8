//! Digitised components: multipart upload (streamed to disk), reuse, list and download.

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use futures_util::StreamExt;

use super::access::{Caller, Digitisers, Staff};
use super::dossiers::with_ctx;
use super::json::Json;
use crate::app::AppState;
use crate::app::files::{self, AttachedFile, DossierFiles, FileMetadata, ReuseRequest};
use crate::domain::media;
use crate::error::{AppError, AppResult, Code, Problem};

const TEXT_FIELD_LIMIT: usize = 1024;
/// A file and four metadata fields; anything beyond a few more parts is not a real form.
const MAX_PARTS: usize = 8;

fn multipart_error(e: actix_multipart::MultipartError) -> AppError {
    AppError::new(
        Code::RequestBadMultipart,
        format!("Bad multipart body: {e}"),
    )
}

fn date(field: &str, v: &str) -> AppResult<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::invalid_field(field, "must be YYYY-MM-DD"))
}

/// Upload a scan for a checklist item: `multipart/form-data` with a `file` part and optional
/// `document_number`, `issue_date`, `issuer`, `valid_until`. The type is told from the bytes
/// (PDF, JPEG, PNG by default: `storage.allowed_media_types`); larger than
/// `storage.max_upload_bytes` is 413.
#[utoipa::path(post, path = "/api/v1/dossiers/{code}/components/{item_code}/files", tag = "documents",
    params(("code" = String, Path), ("item_code" = String, Path)),
    request_body(content_type = "multipart/form-data", description = "`file` plus optional metadata fields"),
    responses((status = 201, body = AttachedFile), (status = 413, body = Problem), (status = 415, body = Problem),
        (status = 503, body = Problem, description = "storage read-only (`storage.read_only`)"), (status = 507, body = Problem, description = "storage full (`storage.full`)")))]
pub async fn upload(
    state: web::Data<AppState>,
    principal: Caller<Digitisers>,
    path: web::Path<(String, String)>,
    payload: Multipart,
) -> AppResult<HttpResponse> {
    let (code, item) = path.into_inner();
    let attached = receive_upload(&state, principal.into_inner(), code, item, payload).await?;
    Ok(HttpResponse::Created().json(attached))
}

/// Streams one upload to storage and attaches it (the API's and the console's upload).
pub(super) async fn receive_upload(
    state: &web::Data<AppState>,
    principal: crate::app::users::Principal,
    code: String,
    item: String,
    mut payload: Multipart,
) -> AppResult<AttachedFile> {
    // Nothing is received for a dossier or an item that is not there.
    let (c, i) = (code.clone(), item.clone());
    with_ctx(state, principal.clone(), move |conn, ctx| {
        files::check_upload(conn, ctx, &c, &i, None)
    })
    .await?;
    let max = state.settings.storage.max_upload_bytes;
    let mut meta = FileMetadata::default();
    let mut upload = None;
    let mut declared = None;
    let mut parts = 0;
    while let Some(field) = payload.next().await {
        parts += 1;
        if parts > MAX_PARTS {
            return Err(AppError::invalid_field(
                "file",
                format!("a form of at most {MAX_PARTS} parts"),
            ));
        }
        let mut field = field.map_err(multipart_error)?;
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            if upload.is_some() {
                return Err(AppError::invalid_field("file", "send one file per request"));
            }
            declared = field.content_type().map(|m| m.essence_str().to_owned());
            let mut incoming = state.store.begin().map_err(AppError::storage)?;
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(multipart_error)?;
                if incoming.size() + chunk.len() as u64 > max {
                    // Dropping `incoming` removes what was written.
                    return Err(AppError::new(
                        Code::FileTooLarge,
                        format!("The file is larger than {max} bytes."),
                    ));
                }
                incoming.write(&chunk).map_err(AppError::storage)?;
            }
            upload = Some(incoming);
        } else {
            let mut text = Vec::new();
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(multipart_error)?;
                if text.len() + chunk.len() > TEXT_FIELD_LIMIT {
                    return Err(AppError::invalid_field(&name, "is too long"));
                }
                text.extend_from_slice(&chunk);
            }
            let value = String::from_utf8(text)
                .map_err(|_| AppError::invalid_field(&name, "must be UTF-8 text"))?;
            let value = value.trim().to_owned();
            if value.is_empty() {
                continue;
            }
            match name.as_str() {
                "document_number" => meta.document_number = Some(value),
                "issuer" => meta.issuer = Some(value),
                "issue_date" => meta.issue_date = Some(date("issue_date", &value)?),
                "valid_until" => meta.valid_until = Some(date("valid_until", &value)?),
                other => {
                    return Err(AppError::invalid_field(
                        other,
                        "is not a field of this upload",
                    ));
                }
            }
        }
    }
    let incoming = upload.ok_or_else(|| AppError::invalid_field("file", "is required"))?;
    let sniffed = media::sniff(incoming.head());
    let allowed = &state.settings.storage.allowed_media_types;
    let media_type = match sniffed {
        Some(t)
            if allowed.iter().any(|a| a == t)
                && declared
                    .as_deref()
                    .is_none_or(|d| d == t || d == "application/octet-stream") =>
        {
            t
        }
        _ => {
            return Err(AppError::new(
                Code::FileMediaType,
                format!(
                    "The file's bytes are not an accepted type ({}); declared {}.",
                    allowed.join(", "),
                    declared.as_deref().unwrap_or("nothing")
                ),
            ));
        }
    };
    // The metadata and the item are checked before the file is kept; the rename happens
    // before the row that names the file is committed (a crash in between leaves an orphan
    // for the sweep, never a row without its file).
    let (c, i, sha, m) = (code.clone(), item.clone(), incoming.sha256(), meta.clone());
    with_ctx(state, principal.clone(), move |conn, ctx| {
        files::check_upload(conn, ctx, &c, &i, Some((&sha, &m)))
    })
    .await?;
    let store = state.store.clone();
    let stored = web::block(move || store.finish(incoming))
        .await?
        .map_err(AppError::storage)?;
    with_ctx(state, principal, move |conn, ctx| {
        files::attach(conn, ctx, &code, &item, &stored, media_type, &meta)
    })
    .await
}

/// Attach a file already stored for an earlier dossier of the same applicant.
#[utoipa::path(post, path = "/api/v1/dossiers/{code}/components/{item_code}/reuse", tag = "documents",
    params(("code" = String, Path), ("item_code" = String, Path)), request_body = ReuseRequest,
    responses((status = 201, body = AttachedFile), (status = 404, body = Problem)))]
pub async fn reuse(
    state: web::Data<AppState>,
    principal: Caller<Digitisers>,
    path: web::Path<(String, String)>,
    body: Json<ReuseRequest>,
) -> AppResult<HttpResponse> {
    let (code, item) = path.into_inner();
    let attached = with_ctx(&state, principal, move |conn, ctx| {
        files::reuse(conn, ctx, &code, &item, &body)
    })
    .await?;
    Ok(HttpResponse::Created().json(attached))
}

/// A dossier's files and its digitisation status.
#[utoipa::path(get, path = "/api/v1/dossiers/{code}/files", tag = "documents", params(("code" = String, Path)),
    responses((status = 200, body = DossierFiles)))]
pub async fn list(
    state: web::Data<AppState>,
    principal: Caller<Staff>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let code = path.into_inner();
    let list = with_ctx(&state, principal, move |conn, ctx| {
        files::list(conn, ctx, &code)
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Download a component's file, streamed, with the media type found at upload; PDFs and images
/// `inline`, anything else as an `attachment`.
#[utoipa::path(get, path = "/api/v1/dossiers/{code}/components/{item_code}/files/{sha256}", tag = "documents",
    params(("code" = String, Path), ("item_code" = String, Path), ("sha256" = String, Path)),
    responses((status = 200, description = "the file"), (status = 404, body = Problem)))]
pub async fn download(
    state: web::Data<AppState>,
    principal: Caller<Staff>,
    path: web::Path<(String, String, String)>,
) -> AppResult<HttpResponse> {
    let (code, item, sha) = path.into_inner();
    send_file(&state, principal.into_inner(), code, item, sha).await
}

/// One component's file, streamed (the API's and the console's download).
pub(super) async fn send_file(
    state: &web::Data<AppState>,
    principal: crate::app::users::Principal,
    code: String,
    item: String,
    sha: String,
) -> AppResult<HttpResponse> {
    let s = sha.clone();
    let file_row = with_ctx(state, principal, move |conn, ctx| {
        files::find(conn, ctx, &code, &item, &s)
    })
    .await?;
    let path = state
        .store
        .path_of(&sha)
        .ok_or_else(|| AppError::new(Code::FileNotFound, "No such file."))?;
    let (file, len) = web::block(move || {
        let f = std::fs::File::open(path)?;
        let len = f.metadata()?.len();
        Ok::<_, std::io::Error>((f, len))
    })
    .await?
    .map_err(AppError::internal)?;
    // PDFs and images may open in the browser; anything else is only ever saved.
    let inline =
        file_row.media_type == "application/pdf" || file_row.media_type.starts_with("image/");
    let ext = match file_row.media_type.as_str() {
        "application/pdf" => "pdf",
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/tiff" => "tif",
        "image/gif" => "gif",
        _ => "bin",
    };
    let disposition = if inline { "inline" } else { "attachment" };
    Ok(HttpResponse::Ok()
        .content_type(file_row.media_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("{disposition}; filename=\"{sha}.{ext}\""),
        ))
        // Already compressed formats; and `Compress` leaves a response with an encoding alone.
        .insert_header((header::CONTENT_ENCODING, "identity"))
        .insert_header(("X-Content-SHA256", sha))
        .no_chunking(len)
        .streaming(chunks(file)))
}

/// A file's bytes, 64 KiB at a time, each read on the blocking pool.
fn chunks(
    file: std::fs::File,
) -> impl futures_util::Stream<Item = Result<web::Bytes, std::io::Error>> {
    futures_util::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let read = web::block(move || {
            use std::io::Read;
            let mut buf = vec![0; 64 * 1024];
            let n = file.read(&mut buf)?;
            buf.truncate(n);
            Ok::<_, std::io::Error>((file, buf))
        })
        .await;
        match read {
            Ok(Ok((_, buf))) if buf.is_empty() => None,
            Ok(Ok((file, buf))) => Some((Ok(web::Bytes::from(buf)), Some(file))),
            Ok(Err(e)) => Some((Err(e), None)),
            Err(e) => Some((Err(std::io::Error::other(e)), None)),
        }
    })
}
