//! Reports: Biểu 06 (JSON, CSV, XLSX), Quyết định 766 indicators and queue counts.

use actix_web::{HttpResponse, web};
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook};
use serde::Deserialize;
use utoipa::IntoParams;

use super::access::{Caller, Reporters, Staff};
use crate::app::AppState;
use crate::app::report_page::{self, HEADINGS, group_heading, numbers, rules_note};
use crate::app::reports::{self, Bieu06, PeriodQuery};
use crate::error::{AppError, AppResult, Problem};

/// One text cell. Text that a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, tab or
/// carriage return first: OWASP "CSV injection") gets a leading `'`, which shows it as text.
fn neutralised(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    }
}

/// The UTF-8 byte-order mark: without it Excel reads a CSV in the machine's code page and
/// shows the Vietnamese headings as mojibake.
pub const BOM: &str = "\u{feff}";

/// Biểu 06 as CSV (RFC 4180 quoting by the `csv` crate, CRLF line ends), with a BOM.
fn to_csv(report: &Bieu06) -> Result<Vec<u8>, csv::Error> {
    let mut out = BOM.as_bytes().to_vec();
    {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut out);
        let mut header = vec!["STT", "Mã", group_heading(&report.group_by)];
        header.extend(HEADINGS);
        w.write_record(&header)?;
        let rows = report
            .rows
            .iter()
            .enumerate()
            .map(|(i, r)| ((i + 1).to_string(), r))
            .chain(std::iter::once((String::new(), &report.total)));
        for (stt, r) in rows {
            let mut cells = vec![stt, neutralised(&r.key), neutralised(&r.label)];
            cells.extend(numbers(r).iter().map(i64::to_string));
            cells.push(
                r.on_time_rate
                    .map(|x| format!("{x:.2}"))
                    .unwrap_or_default(),
            );
            w.write_record(&cells)?;
        }
        w.flush()?;
    }
    Ok(out)
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
    let last_col = 16u16;
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
    ws.merge_range(4, 7, 4, 10, "Số hồ sơ đã giải quyết", &head)?;
    ws.merge_range(4, 11, 4, 13, "Số hồ sơ đang giải quyết", &head)?;
    ws.merge_range(4, 14, 4, 15, "Số hồ sơ rút, dừng xử lý", &head)?;
    ws.merge_range(4, 16, 5, 16, HEADINGS[13], &head)?;
    for (i, h) in HEADINGS[..13].iter().enumerate() {
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
    let mut row = 6;
    for (stt, r) in rows {
        match stt {
            Some(s) => ws.write_number_with_format(row, 0, s as f64, &cell)?,
            None => ws.write_with_format(row, 0, "", &cell)?,
        };
        ws.write_with_format(row, 1, r.key.as_str(), &cell)?;
        ws.write_with_format(row, 2, r.label.as_str(), &cell)?;
        for (i, v) in numbers(r).iter().enumerate() {
            ws.write_number_with_format(row, 3 + i as u16, *v as f64, &cell)?;
        }
        match r.on_time_rate {
            Some(x) => ws.write_number_with_format(row, 16, x, &cell)?,
            None => ws.write_with_format(row, 16, "", &cell)?,
        };
        row += 1;
    }
    ws.write(row + 1, 0, rules_note(report))?;
    wb.save_to_buffer()
}

/// Biểu 06/VPCP/KSTT for a period: received (online, direct/postal, carried over), resolved
/// (early, on time, late), stopped (withdrawn on request, other), in progress (within,
/// overdue), on-time rate; with the period and the rules used.
#[utoipa::path(get, path = "/api/v1/reports/bieu-06", tag = "reports", params(PeriodQuery),
    responses((status = 200, body = Bieu06, description = "JSON, or CSV (UTF-8 with BOM) / XLSX / printable HTML with format=csv|xlsx|html"), (status = 422, body = Problem)))]
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
    if !matches!(format.as_str(), "json" | "csv" | "xlsx" | "html") {
        return Err(AppError::invalid_field(
            "format",
            "must be json, csv, xlsx or html",
        ));
    }
    let tz = state.calendar.settings().timezone();
    let rules = state.settings.reports.rules();
    let html = format == "html";
    let (report, months) = state
        .run(move |conn| {
            let report = reports::bieu06(conn, tz, rules, &query)?;
            let months = if html {
                reports::monthly_rates(conn, rules, report.from, report.to)?
            } else {
                Vec::new()
            };
            Ok((report, months))
        })
        .await?;
    let name = format!("bieu-06_{}_{}", report.from, report.to);
    let attachment = |ext: &str| {
        (
            "Content-Disposition",
            format!("attachment; filename=\"{name}.{ext}\""),
        )
    };
    Ok(match format.as_str() {
        "csv" => HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header(attachment("csv"))
            .body(to_csv(&report).map_err(AppError::internal)?),
        "xlsx" => HttpResponse::Ok()
            .content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
            .insert_header(attachment("xlsx"))
            .body(to_xlsx(&report, &state.settings.agency.name).map_err(AppError::internal)?),
        "html" => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(report_page::render(
                &report,
                &months,
                &state.settings.agency.name,
            )?),
        _ => HttpResponse::Ok().json(report),
    })
}

/// Quyết định 766 indicators for a period, each with numerator, denominator, rate, threshold,
/// points and the formula used. The period used and the rules are in the `Report-Period` and
/// `Report-Rules` headers (the body stays the list api.md promises).
#[utoipa::path(get, path = "/api/v1/reports/indicators", tag = "reports", params(PeriodQuery),
    responses((status = 200, body = Vec<crate::domain::stats::Indicator>,
        headers(("Report-Period" = String, description = "from/to used, e.g. 2024-01-01/2024-06-30"),
                ("Report-Rules" = String, description = "withdrawn_counts_as_resolved=…; judged_against=…"))),
        (status = 422, body = Problem)))]
pub async fn indicators(
    state: web::Data<AppState>,
    _caller: Caller<Reporters>,
    q: web::Query<PeriodQuery>,
) -> AppResult<HttpResponse> {
    let cache = state.calendar.clone();
    let rules = state.settings.reports.rules();
    let out = state
        .run(move |conn| {
            let cal = cache.current(conn)?;
            reports::indicators(conn, &cal, rules, &q)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((
            "Report-Period",
            format!("{}/{}", out.period.from, out.period.to),
        ))
        .insert_header((
            "Report-Rules",
            format!(
                "withdrawn_counts_as_resolved={}; judged_against={}",
                out.rules.withdrawn_counts_as_resolved,
                out.rules.judged_against.as_str()
            ),
        ))
        .json(out.list))
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
    use super::neutralised;

    #[test]
    fn formula_like_cells_are_neutralised() {
        assert_eq!(neutralised("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        for lead in ["+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralised(lead), format!("'{lead}"));
        }
        assert_eq!(neutralised("Lao động"), "Lao động");
    }
}
