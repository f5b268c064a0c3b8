//! Reports: Biểu 06 (JSON, CSV, XLSX), Quyết định 766 indicators and queue counts.

use actix_web::{HttpResponse, web};
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook};
use serde::Deserialize;
use utoipa::IntoParams;

use super::access::{Caller, Reporters, Staff};
use crate::app::AppState;
use crate::app::reports::{self, Bieu06, PeriodQuery};
use crate::domain::stats::Bieu06Row;
use crate::error::{AppError, AppResult, Problem};

/// Column headings as on the official form, left to right after the row label.
const HEADINGS: [&str; 13] = [
    "Tổng số hồ sơ tiếp nhận",
    "Tiếp nhận trực tuyến",
    "Tiếp nhận trực tiếp, bưu chính",
    "Từ kỳ trước chuyển qua",
    "Tổng số đã giải quyết",
    "Trước hạn",
    "Đúng hạn",
    "Quá hạn",
    "Rút hồ sơ, dừng xử lý",
    "Tổng số đang giải quyết",
    "Trong hạn",
    "Quá hạn",
    "Tỷ lệ giải quyết đúng hạn (%)",
];

fn numbers(r: &Bieu06Row) -> [f64; 12] {
    [
        r.received.total,
        r.received.online,
        r.received.direct_postal,
        r.received.carried_over,
        r.resolved.total,
        r.resolved.early,
        r.resolved.on_time,
        r.resolved.late,
        r.resolved.withdrawn,
        r.in_progress.total,
        r.in_progress.within,
        r.in_progress.overdue,
    ]
    .map(|n| n as f64)
}

fn group_heading(group_by: &str) -> &'static str {
    match group_by {
        "field" => "Lĩnh vực",
        "procedure" => "Thủ tục hành chính",
        "unit" => "Đơn vị",
        _ => "Nội dung",
    }
}

/// One CSV cell. Text that a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, tab or
/// carriage return first: OWASP "CSV injection") gets a leading `'`, which shows it as text.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn to_csv(report: &Bieu06) -> String {
    let mut out = String::new();
    let mut header = vec!["STT", "Mã", group_heading(&report.group_by)];
    header.extend(HEADINGS);
    out.push_str(
        &header
            .iter()
            .map(|h| csv_field(h))
            .collect::<Vec<_>>()
            .join(","),
    );
    out.push_str("\r\n");
    let rows = report
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| ((i + 1).to_string(), r))
        .chain(std::iter::once((String::new(), &report.total)));
    for (stt, r) in rows {
        let mut cells = vec![stt, csv_field(&r.key), csv_field(&r.label)];
        cells.extend(numbers(r).iter().map(|n| (*n as i64).to_string()));
        cells.push(
            r.on_time_rate
                .map(|x| format!("{x:.2}"))
                .unwrap_or_default(),
        );
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

fn to_xlsx(report: &Bieu06, agency: &str) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Biểu 06")?;
    let bold = Format::new().set_bold().set_align(FormatAlign::Center);
    let head = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_border(FormatBorder::Thin);
    let cell = Format::new().set_border(FormatBorder::Thin);
    let last_col = 15u16;
    ws.merge_range(0, 0, 0, last_col, agency, &bold)?;
    ws.merge_range(
        1,
        0,
        1,
        last_col,
        "Biểu số 06/VPCP/KSTT — TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH",
        &bold,
    )?;
    let period = format!(
        "Kỳ báo cáo: từ ngày {} đến ngày {}",
        report.from.format("%d/%m/%Y"),
        report.to.format("%d/%m/%Y")
    );
    ws.merge_range(2, 0, 2, last_col, &period, &bold)?;
    // Two heading rows: the groups, then the columns.
    ws.merge_range(4, 0, 5, 0, "STT", &head)?;
    ws.merge_range(4, 1, 5, 1, "Mã", &head)?;
    ws.merge_range(4, 2, 5, 2, group_heading(&report.group_by), &head)?;
    ws.merge_range(4, 3, 4, 6, "Số hồ sơ nhận giải quyết", &head)?;
    ws.merge_range(4, 7, 4, 11, "Số hồ sơ đã giải quyết", &head)?;
    ws.merge_range(4, 12, 4, 14, "Số hồ sơ đang giải quyết", &head)?;
    ws.merge_range(4, 15, 5, 15, HEADINGS[12], &head)?;
    for (i, h) in HEADINGS[..12].iter().enumerate() {
        ws.write_with_format(5, 3 + i as u16, *h, &head)?;
    }
    ws.set_row_height(5, 45)?;
    ws.set_column_width(2, 40)?;
    let rows = report
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| (Some(i + 1), r))
        .chain(std::iter::once((None, &report.total)));
    for (n, (stt, r)) in rows.enumerate() {
        let row = 6 + n as u32;
        match stt {
            Some(s) => ws.write_number_with_format(row, 0, s as f64, &cell)?,
            None => ws.write_with_format(row, 0, "", &cell)?,
        };
        ws.write_with_format(row, 1, r.key.as_str(), &cell)?;
        ws.write_with_format(row, 2, r.label.as_str(), &cell)?;
        for (i, v) in numbers(r).iter().enumerate() {
            ws.write_number_with_format(row, 3 + i as u16, *v, &cell)?;
        }
        match r.on_time_rate {
            Some(x) => ws.write_number_with_format(row, 15, x, &cell)?,
            None => ws.write_with_format(row, 15, "", &cell)?,
        };
    }
    wb.save_to_buffer()
}

/// Biểu 06/VPCP/KSTT for a period: received (online, direct/postal, carried over), resolved
/// (early, on time, late, withdrawn), in progress (within, overdue), on-time rate.
#[utoipa::path(get, path = "/api/v1/reports/bieu-06", tag = "reports", params(PeriodQuery),
    responses((status = 200, body = Bieu06, description = "JSON, or CSV / XLSX with format=csv|xlsx"), (status = 422, body = Problem)))]
pub async fn bieu06(
    state: web::Data<AppState>,
    _caller: Caller<Reporters>,
    q: web::Query<PeriodQuery>,
) -> AppResult<HttpResponse> {
    bieu06_response(&state, q.into_inner()).await
}

/// Biểu 06 in the format asked for; the console's export answers the same.
pub(super) async fn bieu06_response(
    state: &web::Data<AppState>,
    query: PeriodQuery,
) -> AppResult<HttpResponse> {
    let format = query.format.clone().unwrap_or_else(|| "json".into());
    if !matches!(format.as_str(), "json" | "csv" | "xlsx") {
        return Err(AppError::invalid_field(
            "format",
            "must be json, csv or xlsx",
        ));
    }
    let tz = state.calendar.settings().timezone();
    let report = state
        .run(move |conn| reports::bieu06(conn, tz, &query))
        .await?;
    let name = format!("bieu-06_{}_{}", report.from, report.to);
    Ok(match format.as_str() {
        "csv" => HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                "Content-Disposition",
                format!("attachment; filename=\"{name}.csv\""),
            ))
            .body(to_csv(&report)),
        "xlsx" => HttpResponse::Ok()
            .content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
            .insert_header((
                "Content-Disposition",
                format!("attachment; filename=\"{name}.xlsx\""),
            ))
            .body(to_xlsx(&report, &state.settings.agency.name).map_err(AppError::internal)?),
        _ => HttpResponse::Ok().json(report),
    })
}

/// Quyết định 766 indicators for a period, each with numerator, denominator, rate, threshold and points.
#[utoipa::path(get, path = "/api/v1/reports/indicators", tag = "reports", params(PeriodQuery),
    responses((status = 200, body = Vec<crate::domain::stats::Indicator>), (status = 422, body = Problem)))]
pub async fn indicators(
    state: web::Data<AppState>,
    _caller: Caller<Reporters>,
    q: web::Query<PeriodQuery>,
) -> AppResult<HttpResponse> {
    let cache = state.calendar.clone();
    let list = state
        .run(move |conn| {
            let cal = cache.current(conn)?;
            reports::indicators(conn, &cal, &q)
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct QueueQuery {
    /// A unit's queue (officers and leaders: their own unit by default).
    pub unit_code: Option<String>,
}

/// Due today, due soon, overdue and counts by state, for a unit or for all.
#[utoipa::path(get, path = "/api/v1/reports/queue", tag = "reports", params(QueueQuery),
    responses((status = 200, body = reports::QueueCounts)))]
pub async fn queue(
    state: web::Data<AppState>,
    principal: Caller<Staff>,
    q: web::Query<QueueQuery>,
) -> AppResult<HttpResponse> {
    let unit = match (&q.unit_code, principal.role.needs_unit()) {
        (Some(u), true) if Some(u) != principal.unit_code.as_ref() => {
            return Err(AppError::forbidden(
                "Officers and leaders see their own unit's queue.",
            ));
        }
        (None, true) => principal.unit_code.clone(),
        (u, _) => u.clone(),
    };
    let cache = state.calendar.clone();
    let now = state.clock.now();
    let counts = state
        .run(move |conn| {
            let cal = cache.current(conn)?;
            reports::queue(conn, &cal, unit.as_deref(), now)
        })
        .await?;
    Ok(HttpResponse::Ok().json(counts))
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn formula_like_cells_are_neutralised() {
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        for lead in ["+1", "-1", "@SUM(A1)", "\tx"] {
            assert_eq!(csv_field(lead), format!("'{lead}"));
        }
        assert_eq!(csv_field("\rx"), "\"'\rx\"");
        assert_eq!(csv_field("Đầu tư, xây dựng"), "\"Đầu tư, xây dựng\"");
        assert_eq!(csv_field("Lao động"), "Lao động");
    }
}
