//! The printable Biểu 06 page (issue 13): the official table in Vietnamese with the on-time
//! rate by month drawn as SVG on the server (no script, no CDN). Pure: report data in, HTML
//! out. `GET /api/v1/reports/bieu-06?format=html` serves [`render`]; the staff console's
//! dashboard embeds [`render_section`], the same table and chart without the page around it.

use minijinja::Environment;
use serde_json::json;

use super::reports::{Bieu06, MonthRate};
use crate::domain::stats::{Bieu06Row, DueBasis};
use crate::error::{AppError, AppResult};

/// Column headings after the row label: the official form's (received 4, resolved 4, in
/// progress 3), then ours (withdrawn on request, stopped otherwise), then the rate.
pub const HEADINGS: [&str; 14] = [
    "Tổng số hồ sơ tiếp nhận",
    "Tiếp nhận trực tuyến",
    "Tiếp nhận trực tiếp, bưu chính",
    "Từ kỳ trước chuyển qua",
    "Tổng số đã giải quyết",
    "Trước hạn",
    "Đúng hạn",
    "Quá hạn",
    "Tổng số đang giải quyết",
    "Trong hạn",
    "Quá hạn",
    "Rút hồ sơ theo yêu cầu",
    "Dừng xử lý",
    "Tỷ lệ giải quyết đúng hạn (%)",
];

/// The row's numbers in the order of [`HEADINGS`] (without the rate).
pub fn numbers(r: &Bieu06Row) -> [i64; 13] {
    [
        r.received.total,
        r.received.online,
        r.received.direct_postal,
        r.received.carried_over,
        r.resolved.total,
        r.resolved.early,
        r.resolved.on_time,
        r.resolved.late,
        r.in_progress.total,
        r.in_progress.within,
        r.in_progress.overdue,
        r.stopped.withdrawn,
        r.stopped.other,
    ]
}

pub fn group_heading(group_by: &str) -> &'static str {
    match group_by {
        "field" => "Lĩnh vực",
        "procedure" => "Thủ tục hành chính",
        "unit" => "Đơn vị",
        _ => "Nội dung",
    }
}

/// The note under the table saying which rules were used (CSV has none; XLSX and HTML do).
pub fn rules_note(report: &Bieu06) -> String {
    let withdrawn = if report.rules.withdrawn_counts_as_resolved {
        "hồ sơ rút theo yêu cầu được tính vào số đã giải quyết (theo thời điểm dừng xử lý)"
    } else {
        "hồ sơ rút theo yêu cầu không tính vào số đã giải quyết (cột riêng)"
    };
    let basis = match report.rules.judged_against {
        DueBasis::DueAt => "hạn trả kết quả theo Giấy tiếp nhận (due_at)",
        DueBasis::DueAtCurrent => "hạn hẹn lại theo Phiếu xin lỗi (due_at_current)",
    };
    format!(
        "Ghi chú: {withdrawn}; đúng hạn, quá hạn tính theo {basis}; hồ sơ đang chờ bổ sung hoặc chờ rút được tính theo hạn đã lùi bằng thời gian tạm dừng."
    )
}

const TEMPLATES: [(&str, &str); 2] = [
    (
        "bieu06.html",
        include_str!("../../config/templates/web/bieu06.html"),
    ),
    (
        "bieu06-section.html",
        include_str!("../../config/templates/web/bieu06-section.html"),
    ),
];

fn env() -> AppResult<Environment<'static>> {
    let mut env = Environment::new();
    for (name, source) in TEMPLATES {
        env.add_template(name, source)
            .map_err(|e| AppError::internal(format!("templates/web/{name}: {e}")))?;
    }
    Ok(env)
}

fn context(report: &Bieu06, months: &[MonthRate], agency: &str) -> serde_json::Value {
    let row = |stt: String, r: &Bieu06Row| {
        json!({
            "stt": stt,
            "key": r.key,
            "label": r.label,
            "numbers": numbers(r),
            "rate": r.on_time_rate.map(|x| format!("{x:.2}").replace('.', ",")),
        })
    };
    let rows: Vec<_> = report
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| row((i + 1).to_string(), r))
        .collect();
    let preset = report.period.preset.as_deref().map(|p| {
        let cut = match report.period.cutoff {
            crate::domain::period::Cutoff::Calendar => "theo năm dương lịch",
            crate::domain::period::Cutoff::Nd09 => {
                "chốt số liệu theo Điều 12 Nghị định 09/2019/NĐ-CP"
            }
        };
        format!("{p}, {cut}")
    });
    json!({
        "agency_name": agency,
        "from": report.from.format("%d/%m/%Y").to_string(),
        "to": report.to.format("%d/%m/%Y").to_string(),
        "preset": preset,
        "group_heading": group_heading(&report.group_by),
        "headings": HEADINGS,
        "rows": rows,
        "total": row(String::new(), &report.total),
        "note": rules_note(report),
        "chart": chart_svg(months),
    })
}

/// The whole printable page.
pub fn render(report: &Bieu06, months: &[MonthRate], agency: &str) -> AppResult<String> {
    env()?
        .get_template("bieu06.html")
        .and_then(|t| t.render(minijinja::value::Serde(context(report, months, agency))))
        .map_err(AppError::internal)
}

/// The table and the chart with their style, to place inside another page (the dashboard).
pub fn render_section(report: &Bieu06, months: &[MonthRate], agency: &str) -> AppResult<String> {
    env()?
        .get_template("bieu06-section.html")
        .and_then(|t| t.render(minijinja::value::Serde(context(report, months, agency))))
        .map_err(AppError::internal)
}

/// The on-time rate by month as an SVG bar chart: one bar per month (its height the rate, its
/// label the percentage), a dash for a month with nothing resolved, axis at 0, 50 and 100 %.
/// Only numbers and the months' own labels go into it, so nothing needs escaping.
pub fn chart_svg(months: &[MonthRate]) -> String {
    const LEFT: usize = 44;
    const STEP: usize = 56;
    const BAR: usize = 34;
    const TOP: f64 = 24.0;
    const PLOT: f64 = 160.0;
    let width = LEFT + STEP * months.len().max(1) + 12;
    let height = TOP as usize + PLOT as usize + 40;
    let y = |pct: f64| TOP + PLOT * (1.0 - pct / 100.0);
    let mut svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="Tỷ lệ giải quyết đúng hạn theo tháng" font-family="Times New Roman, serif" font-size="12">"##
    );
    for pct in [0.0, 50.0, 100.0] {
        svg.push_str(&format!(
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{x2}" y2="{y:.1}" stroke="#999" stroke-width="0.5"/><text x="{tx}" y="{ty:.1}" text-anchor="end">{pct:.0}%</text>"##,
            y = y(pct),
            x2 = width - 8,
            tx = LEFT - 4,
            ty = y(pct) + 4.0,
        ));
    }
    for (i, m) in months.iter().enumerate() {
        let x = LEFT + 11 + i * STEP;
        let label = match (m.month.get(5..7), m.month.get(0..4)) {
            (Some(mm), Some(yyyy)) => format!("T{mm}/{yyyy}"),
            _ => m.month.clone(),
        };
        svg.push_str(&format!(
            r##"<text x="{cx}" y="{ly:.1}" text-anchor="middle">{label}</text>"##,
            cx = x + BAR / 2,
            ly = TOP + PLOT + 16.0,
        ));
        match m.on_time_rate {
            Some(r) => svg.push_str(&format!(
                r##"<rect x="{x}" y="{top:.1}" width="{BAR}" height="{h:.1}" fill="#2b5797"><title>{label}: {r:.2}% ({n}/{d})</title></rect><text x="{cx}" y="{vy:.1}" text-anchor="middle">{rs}</text>"##,
                top = y(r),
                h = PLOT * r / 100.0,
                cx = x + BAR / 2,
                vy = y(r) - 4.0,
                rs = format!("{r:.1}").replace('.', ","),
                n = m.in_time,
                d = m.resolved,
            )),
            None => svg.push_str(&format!(
                r##"<text x="{cx}" y="{vy:.1}" text-anchor="middle">—</text>"##,
                cx = x + BAR / 2,
                vy = TOP + PLOT - 4.0,
            )),
        }
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn month(m: &str, resolved: i64, in_time: i64) -> MonthRate {
        MonthRate {
            month: m.into(),
            resolved,
            in_time,
            on_time_rate: crate::domain::stats::rate(in_time, resolved),
        }
    }

    #[test]
    fn the_chart_has_one_bar_per_month_with_a_rate() {
        let svg = chart_svg(&[
            month("2025-01", 4, 3),
            month("2025-02", 0, 0),
            month("2025-03", 2, 2),
        ]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(svg.contains("T01/2025") && svg.contains("T02/2025") && svg.contains("T03/2025"));
        // 75 % of a 160-unit plot from y = 24: the bar starts at 64 and is 120 high.
        assert!(
            svg.contains(r#"y="64.0" width="34" height="120.0""#),
            "{svg}"
        );
        assert!(svg.contains(">75,0<") && svg.contains(">100,0<") && svg.contains(">—<"));
        assert!(!svg.contains("<script"));
    }
}
