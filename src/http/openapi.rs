//! The OpenAPI document, generated from the handlers and completed from the route table
//! (bearer security and the roles of each operation), and the two routes that serve it.

use std::sync::OnceLock;

use actix_web::HttpResponse;
use serde_json::{Value, json};
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, PathItem, SecurityRequirement};

use crate::error::PROBLEM_JSON;

use super::{
    Access, CONSOLE, ROUTES, admin, auth, calendar, console, dossiers, files, forms, notifications,
    ops, procedures, public, reports,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "motcua",
        description = "Bộ phận một cửa — one-stop-shop counter service"
    ),
    paths(
        ops::healthz,
        ops::readyz,
        openapi_json,
        docs_redirect,
        auth::login,
        auth::me,
        auth::change_password,
        admin::list_units,
        admin::create_unit,
        admin::list_users,
        admin::create_user,
        admin::get_user,
        admin::update_user,
        calendar::list_days,
        calendar::put_day,
        calendar::delete_day,
        calendar::list_changes,
        calendar::due,
        procedures::list_procedures,
        procedures::get_procedure,
        procedures::create_procedure,
        procedures::update_procedure,
        dossiers::create_dossier,
        dossiers::list_dossiers,
        dossiers::get_dossier,
        dossiers::perform_action,
        dossiers::add_components,
        dossiers::dossier_history,
        files::upload,
        files::reuse,
        files::list,
        files::download,
        forms::form,
        notifications::list_notifications,
        public::lookup,
        public::lookup_post,
        public::lookup_page,
        public::lookup_page_post,
        reports::bieu06,
        reports::indicators,
        reports::queue,
        console::asset,
        console::login_page,
        console::login,
        console::logout,
        console::queue::queue,
        console::intake::intake_page,
        console::intake::intake,
        console::dossier::dossier,
        console::dossier::dossier_due,
        console::dossier::dossier_action,
        console::dossier::dossier_form,
        console::dossier::dossier_upload,
        console::dossier::dossier_file,
        console::dashboard::dashboard,
        console::dashboard::dashboard_export,
        console::dashboard::admin,
        console::dashboard::admin_create_user,
        console::dashboard::admin_create_unit,
        console::dashboard::admin_calendar_day,
    ),
    components(schemas(
        crate::error::Problem,
        public::LookupForm,
        console::LoginForm,
        crate::clock::ApiTime
    ))
)]
struct ApiDoc;

fn operation_mut<'a>(
    item: &'a mut PathItem,
    method: &str,
) -> Option<&'a mut utoipa::openapi::path::Operation> {
    match method {
        "get" => item.get.as_mut(),
        "post" => item.post.as_mut(),
        "put" => item.put.as_mut(),
        "patch" => item.patch.as_mut(),
        "delete" => item.delete.as_mut(),
        _ => None,
    }
}

fn build() -> Document {
    let mut doc = ApiDoc::openapi();
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .build(),
        ),
    );
    components.add_security_scheme(
        "session",
        SecurityScheme::ApiKey(utoipa::openapi::security::ApiKey::Cookie(
            utoipa::openapi::security::ApiKeyValue::with_description(
                super::session::SESSION_COOKIE,
                "The console's page session (set by POST /console/login); state-changing \
                 requests with it also carry the session's CSRF token (`_csrf` or `X-CSRF-Token`).",
            ),
        )),
    );
    for route in ROUTES {
        let Some(item) = doc.paths.paths.get_mut(route.path) else {
            continue;
        };
        let Some(op) = operation_mut(item, route.method) else {
            continue;
        };
        let roles = match route.access {
            Access::Public => continue,
            Access::AnyUser => "any logged-in user".to_owned(),
            Access::Roles(roles) => roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        };
        let mut security = vec![SecurityRequirement::new("bearer", Vec::<String>::new())];
        if route.path.starts_with(CONSOLE) {
            security.push(SecurityRequirement::new("session", Vec::<String>::new()));
        }
        op.security = Some(security);
        let text = op.description.take().unwrap_or_default();
        op.description = Some(format!("{text}\n\n**Roles:** {roles}").trim().to_owned());
    }
    doc
}

/// The error answers each operation can give, from its shape: problem documents, each with
/// the status codes the service really answers (found missing by the schemathesis fuzz).
fn complete_responses(doc: &mut Value) {
    let problem = json!({"$ref": "#/components/schemas/Problem"});
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for op in item.values_mut() {
            let Some(op) = op.as_object_mut() else {
                continue;
            };
            let params: Vec<String> = op
                .get("parameters")
                .and_then(Value::as_array)
                .map(|ps| {
                    ps.iter()
                        .filter_map(|p| p["in"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let mut add: Vec<(&str, &str)> = Vec::new();
            if op.contains_key("security") {
                add.push(("401", "no token, or an invalid or expired one"));
                add.push(("403", "the caller's role may not use this operation"));
            }
            if op.contains_key("requestBody") {
                add.push(("400", "malformed body"));
                add.push(("413", "body too large"));
                add.push(("415", "wrong media type"));
                add.push(("422", "the body does not fit, or breaks a rule"));
            }
            if params.iter().any(|p| p == "query") {
                add.push(("400", "malformed query string"));
                add.push(("422", "a parameter breaks a rule"));
            }
            if params.iter().any(|p| p == "path") {
                add.push(("404", "no such resource"));
            }
            if params.iter().any(|p| p == "header") {
                add.push(("400", "malformed header"));
            }
            if path.starts_with("/api/v1/public/") || path == "/tra-cuu" {
                add.push(("429", "too many look-ups; see `Retry-After`"));
            }
            if path == "/tra-cuu" {
                add.push((
                    "404",
                    "no dossier with this code and key (the page says so)",
                ));
                add.push(("422", "a code or a key far too long (the page says so)"));
            }
            let responses = op
                .entry("responses")
                .or_insert_with(|| json!({}))
                .as_object_mut();
            let Some(responses) = responses else { continue };
            for (status, description) in add {
                responses
                    .entry(status)
                    .or_insert_with(|| json!({"description": description}));
            }
            for (status, resp) in responses.iter_mut() {
                let error = status.starts_with('4') || status.starts_with('5');
                // The page answers its own errors as HTML; a form it cannot parse is a problem.
                let page = path == "/tra-cuu" && matches!(status.as_str(), "404" | "422" | "429");
                if page {
                    resp["content"] = json!({"text/html": {}});
                } else if error {
                    resp["content"] = json!({PROBLEM_JSON: {"schema": problem.clone()}});
                }
            }
        }
    }
}

/// Merges `rule` into the JSON object at `pointer`, if it is there.
fn merge(doc: &mut Value, pointer: &str, rule: Value) {
    if let (Some(target), Value::Object(rule)) = (doc.pointer_mut(pointer), rule) {
        if let Value::Object(target) = target {
            target.extend(rule);
        } else {
            *target = Value::Object(rule);
        }
    }
}

/// Sets `required` and the schema of a query parameter of one operation.
fn query_param(doc: &mut Value, path: &str, name: &str, required: bool, schema: Value) {
    let Some(params) = doc["paths"][path]["get"]["parameters"].as_array_mut() else {
        return;
    };
    for p in params.iter_mut().filter(|p| p["name"] == name) {
        p["required"] = Value::Bool(required);
        p["schema"] = schema.clone();
    }
}

/// What the handlers check that the derived schemas do not say, so that the document and the
/// service agree (the schemathesis fuzz holds them together): required parameters, enums,
/// lengths and patterns. Rules that need the database (an existing unit, procedure, dossier)
/// cannot be said here; those answer 422 or 404.
fn tighten(doc: &mut Value) {
    let units = json!(["working_days", "working_hours", "calendar_days", "same_day"]);
    let duration = json!({
        "type": "object", "required": ["value", "unit"],
        "properties": {
            "value": {"type": "integer", "minimum": 0, "maximum": 10000},
            "unit": {"type": "string", "enum": units},
        }
    });
    doc["components"]["schemas"]["Duration"] = duration;
    let d = json!({"$ref": "#/components/schemas/Duration"});
    let s = "/components/schemas";
    for (pointer, value) in [
        ("ProcedureDefinition/properties/duration", d.clone()),
        (
            "ProcedureDefinition/properties/online_duration",
            json!({"oneOf": [d, {"type": "null"}]}),
        ),
        ("Step/properties/allowance", d.clone()),
    ] {
        if let Some(v) = doc.pointer_mut(&format!("{s}/{pointer}")) {
            *v = value;
        }
    }
    let email = json!({"pattern": r"^[^@\s]+@[^@\s.][^@\s]*\.[^@\s]*[^@\s.]$", "maxLength": 254});
    let password = json!({"minLength": 8, "maxLength": 1024});
    let rules = [
        (
            "Unit/properties/code",
            json!({"pattern": "^[A-Za-z0-9._-]{1,50}$"}),
        ),
        (
            "Unit/properties/name",
            json!({"minLength": 1, "maxLength": 300, "pattern": r"\S"}),
        ),
        ("Unit/properties/email", email.clone()),
        (
            "CreateUserRequest/properties/username",
            json!({"pattern": "^[a-z0-9._-]{3,64}$"}),
        ),
        ("CreateUserRequest/properties/password", password.clone()),
        (
            "CreateUserRequest/properties/full_name",
            json!({"maxLength": 200}),
        ),
        ("CreateUserRequest/properties/email", email.clone()),
        ("UpdateUserRequest/properties/password", password.clone()),
        (
            "UpdateUserRequest/properties/full_name",
            json!({"maxLength": 200}),
        ),
        ("UpdateUserRequest/properties/email", email.clone()),
        ("Applicant/properties/email", email),
        ("ChangePasswordRequest/properties/new_password", password),
        (
            "PutCalendarDay/properties/kind",
            json!({"enum": ["holiday", "compensatory_off", "swapped_off", "makeup_workday"]}),
        ),
        (
            "Applicant/properties/kind",
            json!({"enum": ["citizen", "organisation"]}),
        ),
        (
            "Applicant/properties/name",
            json!({"minLength": 1, "maxLength": 300, "pattern": r"\S"}),
        ),
        (
            "PutCalendarDay/properties/name",
            json!({"minLength": 1, "pattern": r"\S"}),
        ),
    ];
    for (pointer, rule) in rules {
        merge(doc, &format!("{s}/{pointer}"), rule);
    }
    let date = json!({"type": "string", "format": "date"});
    for path in ["/api/v1/reports/bieu-06", "/api/v1/reports/indicators"] {
        query_param(doc, path, "from", true, date.clone());
        query_param(doc, path, "to", true, date.clone());
    }
    let text = |values: &[&str]| json!({"type": "string", "enum": values});
    query_param(
        doc,
        "/api/v1/reports/bieu-06",
        "format",
        false,
        text(&["json", "csv", "xlsx"]),
    );
    query_param(
        doc,
        "/api/v1/reports/bieu-06",
        "group_by",
        false,
        text(&["field", "procedure", "unit", "none"]),
    );
    query_param(
        doc,
        "/api/v1/notifications",
        "status",
        false,
        text(&["pending", "sending", "sent", "failed"]),
    );
    query_param(
        doc,
        "/api/v1/dossiers",
        "channel",
        false,
        text(&["direct", "online", "postal"]),
    );
    query_param(
        doc,
        "/api/v1/calendar/due",
        "value",
        true,
        json!({"type": "integer", "minimum": 0, "maximum": 10000}),
    );
    query_param(
        doc,
        "/api/v1/calendar/due",
        "unit",
        true,
        json!({"type": "string", "enum": units}),
    );
    query_param(
        doc,
        "/api/v1/calendar/due",
        "start",
        false,
        json!({"type": "string", "format": "date-time"}),
    );
    query_param(
        doc,
        "/api/v1/calendar/days",
        "year",
        false,
        json!({"type": "integer", "minimum": 1, "maximum": 9999}),
    );
    let header = |doc: &mut Value, path: &str, method: &str, name: &str, schema: Value| {
        if let Some(params) = doc["paths"][path][method]["parameters"].as_array_mut() {
            for p in params.iter_mut().filter(|p| p["name"] == name) {
                p["schema"] = schema.clone();
            }
        }
    };
    header(
        doc,
        "/api/v1/dossiers",
        "post",
        "Idempotency-Key",
        json!({"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[!-~]+$"}),
    );
    for path in [
        "/api/v1/dossiers/{code}/actions/{action}",
        "/api/v1/dossiers/{code}/components",
    ] {
        header(
            doc,
            path,
            "post",
            "If-Match",
            json!({"type": "string", "pattern": "^(W/)?\"?[0-9]{1,9}\"?$"}),
        );
    }
    // Biểu 06 also answers CSV and XLSX (format=csv|xlsx).
    if let Some(content) =
        doc.pointer_mut("/paths/~1api~1v1~1reports~1bieu-06/get/responses/200/content")
    {
        content["text/csv"] = json!({"schema": {"type": "string"}});
        content["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"] =
            json!({"schema": {"type": "string", "format": "binary"}});
    }
    let lookup = json!({"type": "string", "minLength": 1, "maxLength": 64});
    query_param(doc, "/api/v1/public/lookup", "code", true, lookup.clone());
    query_param(doc, "/api/v1/public/lookup", "key", true, lookup.clone());
    for field in ["code", "key"] {
        merge(
            doc,
            &format!("{s}/LookupRequest/properties/{field}"),
            lookup.clone(),
        );
    }
}

fn finish(doc: Document) -> Document {
    let Ok(mut value) = serde_json::to_value(&doc) else {
        return doc;
    };
    tighten(&mut value);
    complete_responses(&mut value);
    serde_json::from_value(value).unwrap_or(doc)
}

/// Built once; the document is the same for the life of the process.
pub fn document() -> Document {
    static DOC: OnceLock<Document> = OnceLock::new();
    DOC.get_or_init(|| finish(build())).clone()
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "operations", responses((status = 200)))]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(document())
}

/// The interactive API docs: redirects to `/docs/` (`/docs` is what people type).
#[utoipa::path(get, path = "/docs", tag = "operations",
    responses((status = 308, description = "to `/docs/`, the interactive API docs")))]
pub async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((actix_web::http::header::LOCATION, "/docs/"))
        .finish()
}

/// Swagger UI at `/docs`, its files compiled into the binary (no CDN).
pub fn swagger_ui() -> utoipa_swagger_ui::SwaggerUi {
    utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}").url("/api/v1/openapi.json", document())
}
