//! `motcua demo`: units, one user per role, the sample procedures of an industrial-zone
//! management board, and dossiers in every state — through the same use cases as the API.

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::app::dossiers::{self, ActionRequest, CreateDossierRequest, Ctx};
use crate::app::units::{self, Unit};
use crate::app::users::{self, CreateUserRequest, Principal};
use crate::app::{AppState, procedures};
use crate::db::DbConnection;
use crate::domain::procedure::ProcedureDefinition;
use crate::domain::role::Role;
use crate::error::{AppError, AppResult, Code};

pub const UNITS_JSON: &str = include_str!("../../config/demo/units.json");
pub const PROCEDURES_JSON: &str = include_str!("../../config/demo/procedures.json");

/// The demo accounts (documented in the README): username, role, unit, password.
pub const DEMO_USERS: &[(&str, Role, Option<&str>, &str)] = &[
    ("admin", Role::Admin, None, "motcua-admin"),
    ("clerk", Role::Clerk, Some("BPMC"), "motcua-clerk"),
    ("officer", Role::Officer, Some("P.DT"), "motcua-officer"),
    ("leader", Role::Leader, Some("P.DT"), "motcua-leader"),
    ("lanhdao", Role::Leader, Some("LD"), "motcua-lanhdao"),
    ("viewer", Role::Viewer, None, "motcua-viewer"),
    ("portal", Role::Portal, None, "motcua-portal"),
];

pub fn parse_procedures(text: &str) -> AppResult<Vec<ProcedureDefinition>> {
    serde_json::from_str(text)
        .map_err(|e| AppError::new(Code::ProcedureBadFile, format!("procedures file: {e}")))
}

/// Loads or updates procedures; answers how many were created or changed.
pub fn import_procedures(
    conn: &mut DbConnection,
    state: &AppState,
    actor: &str,
    defs: &[ProcedureDefinition],
) -> AppResult<usize> {
    let day = state.calendar.settings().day_length();
    let now = state.clock.now();
    let mut changed = 0;
    for def in defs {
        if procedures::upsert(conn, actor, def, day, now)
            .map_err(|e| AppError::new(Code::ProcedureInvalid, format!("{}: {e}", def.code)))?
            .is_some()
        {
            changed += 1;
        }
    }
    Ok(changed)
}

fn principal_of(conn: &mut DbConnection, username: &str) -> AppResult<Principal> {
    let u = users::get_user(conn, username)?;
    Ok(Principal {
        user_id: u.id,
        username: u.username,
        role: u.role,
        unit_code: u.unit_code,
    })
}

/// The counter's own check at receipt is not a handling step (the receipt action is), so
/// the published workflows' counter steps are not part of the demo procedures' steps.
///
/// Loads the demo data; safe to run twice (existing units, users, procedures and demo
/// dossiers are kept, and only what is missing is added).
pub fn load(conn: &mut DbConnection, state: &AppState) -> AppResult<String> {
    let now: DateTime<Utc> = state.clock.now();
    let unit_list: Vec<Unit> = serde_json::from_str(UNITS_JSON).map_err(AppError::internal)?;
    for u in &unit_list {
        match units::create_unit(conn, u, now) {
            Ok(_) => {}
            Err(e) if e.code() == Code::UnitExists => {}
            Err(e) => return Err(e),
        }
    }
    for (username, role, unit, password) in DEMO_USERS {
        let req = CreateUserRequest {
            username: (*username).into(),
            password: (*password).into(),
            full_name: format!("Tài khoản mẫu ({role})"),
            email: Some(format!("{username}@bqlkcn.example.gov.vn")),
            role: *role,
            unit_code: unit.map(str::to_owned),
            active: true,
        };
        match users::create_user(conn, &req, now) {
            Ok(_) => {}
            Err(e) if e.code() == Code::UserExists => {}
            Err(e) => return Err(e),
        }
    }
    let defs = parse_procedures(PROCEDURES_JSON)?;
    let changed = import_procedures(conn, state, "admin", &defs)?;
    let (plans, made) = dossiers_in_every_state(conn, state, &defs)?;
    Ok(format!(
        "demo: {} units, {} users, {} procedures ({} new or changed), {} dossiers in every state ({} new)",
        unit_list.len(),
        DEMO_USERS.len(),
        defs.len(),
        changed,
        plans,
        made
    ))
}

/// One dossier per plan below, each recognised by its applicant's tax number so that a second
/// run adds none (and a run cut short is completed). Answers (plans, dossiers created).
fn dossiers_in_every_state(
    conn: &mut DbConnection,
    state: &AppState,
    defs: &[ProcedureDefinition],
) -> AppResult<(usize, usize)> {
    let clerk = principal_of(conn, "clerk")?;
    let admin = principal_of(conn, "admin")?;
    let portal = principal_of(conn, "portal")?;
    let cal = state.calendar.current(conn)?;
    let now = state.clock.now();
    // Each plan: who files, then the actions (all by the admin, who may act for any unit).
    let plans: &[(&str, &[&str])] = &[
        ("portal", &[]),
        ("portal", &["refuse"]),
        ("clerk", &[]),
        ("clerk", &["transfer"]),
        ("clerk", &["transfer", "forward"]),
        ("clerk", &["transfer", "request_supplement"]),
        ("clerk", &["transfer", "request_payment"]),
        ("clerk", &["transfer", "request_withdrawal"]),
        ("clerk", &["transfer", "request_withdrawal", "stop"]),
        ("clerk", &["transfer", "forward", "apologize"]),
        ("clerk", &["transfer", "reject"]),
        ("clerk", &["transfer", "approve"]),
        ("clerk", &["transfer", "approve", "deliver"]),
    ];
    let mut made = 0;
    for (i, (filer, actions)) in plans.iter().enumerate() {
        let id_number = format!("01089{:05}", i + 1);
        if crate::db::dossiers::exists_for_applicant(conn, &id_number)? {
            continue;
        }
        let def = &defs[i % defs.len()];
        let online = *filer == "portal";
        let who = if online { &portal } else { &clerk };
        let components = def
            .checklist
            .iter()
            .filter(|c| c.required)
            .map(|c| dossiers::ComponentInput {
                item_code: c.code.clone(),
                kind: dossiers::ComponentKind::Original,
                count: 1,
                pages: Some(3),
            })
            .collect();
        let req = CreateDossierRequest {
            procedure_code: def.code.clone(),
            channel: if online {
                dossiers::Channel::Online
            } else {
                dossiers::Channel::Direct
            },
            applicant: dossiers::Applicant {
                kind: "organisation".into(),
                name: format!("Công ty TNHH Mẫu Số {}", i + 1),
                id_number: Some(id_number),
                phone: Some("0900000000".into()),
                email: Some(format!("doanhnghiep{}@example.com", i + 1)),
                address: Some("KCN Mẫu, tỉnh Mẫu".into()),
                language: None,
            },
            components,
            note: "Dữ liệu mẫu".into(),
            received_at: None,
            refused_reasons: None,
        };
        let ctx = Ctx {
            cal: &cal,
            state,
            principal: who,
            now,
        };
        let (_, created) = dossiers::create(conn, &ctx, &req, None, rand::random())?;
        let code = created["code"].as_str().unwrap_or_default().to_owned();
        let admin_ctx = Ctx {
            cal: &cal,
            state,
            principal: &admin,
            now,
        };
        for action in *actions {
            let body: ActionRequest = serde_json::from_value(match *action {
                "refuse" | "reject" | "stop" => {
                    json!({"reasons": ["Hồ sơ không đủ điều kiện (dữ liệu mẫu)"]})
                }
                "request_supplement" => {
                    json!({"reasons": ["Bổ sung bản vẽ"], "items": [def.checklist[0].code]})
                }
                "request_payment" => json!({"amount_vnd": 500000}),
                "apologize" => json!({"reasons": ["Cần thêm thời gian thẩm định"],
                    "new_due_at": (now + chrono::Duration::days(60)).to_rfc3339()}),
                "approve" => json!({"result_reference": format!("{}/GCN-BQL", i + 1)}),
                "deliver" => json!({"method": "counter", "satisfaction": 5}),
                _ => json!({}),
            })
            .map_err(AppError::internal)?;
            dossiers::act(conn, &admin_ctx, &code, action, &body, None)?;
        }
        made += 1;
    }
    Ok((plans.len(), made))
}

/// `motcua demo --dossiers N`: fills the database with `n` synthetic dossiers received over
/// `year` (and the two months before it), in a realistic mix of channels, states and
/// timeliness, for report benchmarks. Rows are written in multi-row INSERTs of generated
/// literals (no user input), so a million rows take about a minute; they carry no history.
pub fn generate_dossiers(
    conn: &mut DbConnection,
    state: &AppState,
    n: usize,
    year: i32,
) -> AppResult<usize> {
    use crate::db::to_db_time;
    use crate::domain::deadline::{self, Duration};
    use crate::domain::timeliness;
    use chrono::TimeZone;

    let cal = state.calendar.current(conn)?;
    let tz = cal.settings().timezone();
    let defs = parse_procedures(PROCEDURES_JSON)?;
    let mut versions = Vec::new();
    for d in &defs {
        let p = procedures::get(conn, &d.code)
            .map_err(|_| AppError::new(Code::DemoNoProcedures, "run `motcua demo` first"))?;
        versions.push(p);
    }
    let start = tz
        .with_ymd_and_hms(year, 1, 1, 0, 0, 0)
        .earliest()
        .ok_or_else(|| AppError::invalid_field("year", "out of range"))?
        .to_utc()
        - chrono::Duration::days(60);
    let span = 425 * 24 * 3600;
    let now = state.clock.now();
    let ts = |t: chrono::DateTime<chrono::Utc>| {
        format!("'{}'", to_db_time(t).format("%Y-%m-%d %H:%M:%S%.6f"))
    };
    let opt = |t: Option<chrono::DateTime<chrono::Utc>>| t.map_or("NULL".to_owned(), ts);
    let day = |t: chrono::DateTime<chrono::Utc>| {
        crate::domain::stats::day_number(t.with_timezone(&tz).date_naive())
    };
    let mut written = 0;
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let mut values = Vec::with_capacity(chunk.len());
        for &i in chunk {
            let r: u64 = rand::random();
            let p = &versions[i % versions.len()];
            let def = &p.definition;
            let received = start + chrono::Duration::seconds((r % span) as i64);
            let online = r % 10 < 4;
            let duration: Duration = def.duration_for(online);
            let due = deadline::due(&cal, received, duration);
            let length = (due.due_at - due.effective_start).num_seconds().max(3600);
            // Finished at 30 %–130 % of the allowed time: 3 % stopped, 93 % decided, 4 % stuck open
            // (and any not finished by now stays open).
            let roll = (r >> 8) % 100;
            let finish = received
                + chrono::Duration::seconds(length * (30 + ((r >> 16) % 100) as i64) / 100);
            let (st, finished) = match roll {
                0..=2 if finish < now => ("stopped", Some(finish)),
                3..=95 if finish < now => (
                    if (r >> 24).is_multiple_of(4) {
                        "resolved"
                    } else {
                        "delivered"
                    },
                    Some(finish),
                ),
                _ => (
                    [
                        "received",
                        "processing",
                        "processing",
                        "supplement_requested",
                        "awaiting_payment",
                        "withdrawal_requested",
                    ][((r >> 28) % 6) as usize],
                    None,
                ),
            };
            let r2: u64 = rand::random();
            // 5 % got an apology with a new appointment two days later (due_at_current).
            let due_current = if r2.is_multiple_of(20) {
                due.due_at + chrono::Duration::days(2)
            } else {
                due.due_at
            };
            // Waiting for a supplement or frozen by a withdrawal request since 20 %–150 % of the
            // allowed time: with time left, or already overdue when the clock stopped.
            let paused = matches!(st, "supplement_requested" | "withdrawal_requested")
                .then(|| {
                    received
                        + chrono::Duration::seconds(length * (20 + ((r2 >> 8) % 130) as i64) / 100)
                })
                .filter(|p| *p < now);
            let held = |d: chrono::DateTime<chrono::Utc>| {
                paused
                    .filter(|p| !timeliness::is_overdue(*p, d))
                    .map_or("NULL".to_owned(), |p| day(p).to_string())
            };
            // A stop is a withdrawal on request half of the time, else a supplement that lapsed.
            let withdrawn =
                (st == "stopped" && (r2 >> 20).is_multiple_of(2)) || st == "withdrawal_requested";
            let judged = finished.map(|f| timeliness::timeliness(tz, f, due.due_at).as_str());
            let judged_current =
                finished.map(|f| timeliness::timeliness(tz, f, due_current).as_str());
            let outcome = match (st, (r >> 32) % 10) {
                ("resolved" | "delivered", 0) => "'rejected'",
                ("resolved" | "delivered", _) => "'approved'",
                _ => "NULL",
            };
            let delivered = (st == "delivered").then(|| finish + chrono::Duration::hours(26));
            let code = format!("BENCH-{year}-{i:07}");
            let name = format!("Doanh nghiệp mẫu {}", i % 5000);
            values.push(format!(
                "('{id}','{code}','{pid}','{pcode}','{field}','{unit}','{st}',{outcome},'{channel}','nd118_2025','{{}}','{name}',NULL,'{search}','[]','','-',\
                 NULL,{received},{received},0,{paused_at},{due},{due_current},NULL,NULL,NULL,NULL,{supp},FALSE,{before},0,NULL,FALSE,\
                 {finished},{finished},{timeliness},{working},{digitised},{reused},NULL,{electronic},{paid},{delivered},NULL,{satisfaction},{rday},{fday},{dday},1,{received},{received},{received},\
                 {timeliness_current},{dcday},{held},{held_current})",
                id = uuid::Uuid::new_v4(),
                pid = p.version_id,
                pcode = def.code,
                field = def.field,
                unit = def.unit_code,
                channel = if online { "online" } else if r % 10 == 9 { "postal" } else { "direct" },
                search = format!("{code} {name}").to_lowercase(),
                received = ts(received),
                due = ts(due.due_at),
                due_current = ts(due_current),
                paused_at = opt(paused),
                before = if withdrawn { "'processing'" } else { "NULL" },
                timeliness_current = judged_current.map_or("NULL".to_owned(), |t| format!("'{t}'")),
                dcday = day(due_current),
                held = held(due.due_at),
                held_current = held(due_current),
                supp = i32::from((r >> 40).is_multiple_of(10)),
                finished = opt(finished),
                timeliness = judged.map_or("NULL".to_owned(), |t| format!("'{t}'")),
                working = finished.map_or("NULL".to_owned(), |f| deadline::working_time_between(&cal, received, f).num_seconds().to_string()),
                digitised = if (r >> 44) % 10 < 7 { "TRUE" } else { "FALSE" },
                reused = if (r >> 48) % 10 < 2 { "TRUE" } else { "FALSE" },
                electronic = if outcome == "'approved'" && (r >> 52).is_multiple_of(2) { "TRUE" } else { "FALSE" },
                paid = if def.fee_vnd > 0 { if (r >> 54).is_multiple_of(3) { "TRUE" } else { "FALSE" } } else { "NULL" },
                delivered = opt(delivered),
                rday = day(received),
                fday = finished.map_or("NULL".to_owned(), |f| day(f).to_string()),
                dday = day(due.due_at),
                satisfaction = if delivered.is_some() { (3 + (r >> 56) % 3).to_string() } else { "NULL".into() },
            ));
        }
        let sql = format!(
            "INSERT INTO dossiers (id, code, procedure_id, procedure_code, field, unit_code, state, outcome, channel, rule_regime, \
             applicant, applicant_name, applicant_id_number, search_text, components, note, lookup_key_hash, \
             submitted_at, received_at, clock_started_at, paused_seconds, paused_at, due_at, due_at_current, current_step, current_unit, \
             step_started_at, step_due_at, supplement_count, completion_asked, state_before_withdrawal, supplement_wait_seconds, apology, late_apology, \
             resolved_at, finished_at, timeliness, working_seconds, digitised, reused, result_reference, electronic_result, paid_online, \
             delivered_at, delivery_method, satisfaction, received_day, finished_day, due_day, version, last_event_at, created_at, updated_at, \
             timeliness_current, due_current_day, held_day, held_current_day) VALUES {}",
            values.join(",")
        );
        crate::db::write_tx(conn, |conn| {
            diesel::RunQueryDsl::execute(diesel::sql_query(sql), conn)
        })?;
        written += chunk.len();
    }
    Ok(written)
}
