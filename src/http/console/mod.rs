//! The staff console: server-rendered pages in Vietnamese (minijinja), enhanced with htmx
//! (vendored, served from the binary). Each page calls the same use cases as the API, and
//! each page route is a row of the one route table with its access (`http/mod.rs`).
//! This file: templates, the layout's context, static assets, refusals and failures shown as
//! pages in Vietnamese (`html_errors`), login and logout.

pub mod dashboard;
pub mod dossier;
pub mod intake;
pub mod queue;

pub use dashboard::{
    admin, admin_calendar_day, admin_create_unit, admin_create_user, dashboard, dashboard_export,
};
pub use dossier::{
    dossier, dossier_action, dossier_due, dossier_file, dossier_form, dossier_upload,
};
pub use intake::{intake, intake_page};
pub use queue::queue;

use std::sync::OnceLock;

use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use minijinja::Environment;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::access::{AnyUser, Caller};
use super::client::ClientIp;
use super::session::{self, Csrf};
use crate::app::AppState;
use crate::app::users::{self, LoginRequest, Principal};
use crate::auth::Role;
use crate::clock::ApiTime;
use crate::error::{AppError, AppResult, Code, PROBLEM_JSON};

/// htmx 2.0.11 from the npm registry (`npm pack htmx.org@2.0.11`, `dist/htmx.min.js`,
/// sha256 d6fdc75f…f717; 0BSD, `vendor/htmx/`). The version is in the name, so it is cached for a year.
const HTMX_NAME: &str = "htmx-2.0.11.min.js";
const HTMX: &str = include_str!("../../../vendor/htmx/htmx-2.0.11.min.js");
const CSS_NAME: &str = "console.css";
const CSS: &str = include_str!("../../../config/templates/console/console.css");

const TEMPLATES: &[(&str, &str)] = &[
    (
        "base.html",
        include_str!("../../../config/templates/console/base.html"),
    ),
    (
        "login.html",
        include_str!("../../../config/templates/console/login.html"),
    ),
    (
        "error.html",
        include_str!("../../../config/templates/console/error.html"),
    ),
    (
        "queue.html",
        include_str!("../../../config/templates/console/queue.html"),
    ),
    (
        "intake.html",
        include_str!("../../../config/templates/console/intake.html"),
    ),
    (
        "received.html",
        include_str!("../../../config/templates/console/received.html"),
    ),
    (
        "dossier.html",
        include_str!("../../../config/templates/console/dossier.html"),
    ),
    (
        "due.html",
        include_str!("../../../config/templates/console/due.html"),
    ),
    (
        "due_page.html",
        include_str!("../../../config/templates/console/due_page.html"),
    ),
    (
        "dashboard.html",
        include_str!("../../../config/templates/console/dashboard.html"),
    ),
    (
        "admin.html",
        include_str!("../../../config/templates/console/admin.html"),
    ),
];

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        // A missing value (JSON null) shows as nothing, not "none".
        env.set_formatter(|out, state, value| {
            if value.is_none() || value.is_undefined() {
                Ok(())
            } else {
                minijinja::escape_formatter(out, state, value)
            }
        });
        for (name, source) in TEMPLATES {
            // Compiled in; `every_template_compiles` fails the suite on a broken one.
            let _ = env.add_template(name, source);
        }
        env
    })
}

pub(super) fn role_label(role: Role) -> &'static str {
    match role {
        Role::Admin => "Quản trị",
        Role::Clerk => "Cán bộ tiếp nhận",
        Role::Officer => "Chuyên viên xử lý",
        Role::Leader => "Lãnh đạo",
        Role::Viewer => "Thống kê, giám sát",
        Role::Portal => "Cổng dịch vụ công",
    }
}

/// The menu: what this role may open.
fn nav(role: Role, current: &str) -> Vec<Value> {
    let mut items = vec![("/console", "Hàng đợi hồ sơ")];
    if matches!(role, Role::Admin | Role::Clerk) {
        items.push(("/console/intake", "Tiếp nhận hồ sơ"));
    }
    if matches!(role, Role::Admin | Role::Leader | Role::Viewer) {
        items.push(("/console/dashboard", "Thống kê"));
    }
    if role == Role::Admin {
        items.push(("/console/admin", "Quản trị"));
    }
    items.push(("/tra-cuu", "Tra cứu công khai"));
    items
        .into_iter()
        .map(|(href, label)| json!({"href": href, "label": label, "current": href == current}))
        .collect()
}

/// The layout's context: agency, the user and their menu, the CSRF token of the session.
pub(super) fn layout(
    state: &AppState,
    user: Option<&Principal>,
    csrf: &Csrf,
    title: &str,
    current: &str,
) -> Map<String, Value> {
    let mut ctx = Map::new();
    ctx.insert("agency_name".into(), json!(state.settings.agency.name));
    ctx.insert("title".into(), json!(title));
    ctx.insert("csrf".into(), json!(csrf.0));
    ctx.insert("assets".into(), json!({"css": CSS_NAME, "htmx": HTMX_NAME}));
    if let Some(p) = user {
        ctx.insert(
            "user".into(),
            json!({"username": p.username, "role_label": role_label(p.role), "unit_code": p.unit_code}),
        );
        ctx.insert("nav".into(), json!(nav(p.role, current)));
    }
    ctx
}

pub(super) fn render_html(template: &str, ctx: Map<String, Value>) -> AppResult<String> {
    env()
        .get_template(template)
        .and_then(|t| t.render(minijinja::value::Serde(Value::Object(ctx))))
        .map_err(AppError::internal)
}

pub(super) fn render(
    status: StatusCode,
    template: &str,
    ctx: Map<String, Value>,
) -> AppResult<HttpResponse> {
    let html = render_html(template, ctx)?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(html))
}

/// A redirect after a successful post (the browser then loads the page with GET).
/// The chosen one of a page's fixed options (tab, period), or `default` for anything else.
pub(super) fn choice(value: Option<&str>, options: &[(&str, &str)], default: &str) -> String {
    value
        .filter(|v| options.iter().any(|(k, _)| k == v))
        .unwrap_or(default)
        .to_owned()
}

pub(super) fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to.to_owned()))
        .finish()
}

/// A time as staff read it, in the agency's zone.
pub(super) fn when<T: Into<ApiTime>>(t: Option<T>) -> Option<String> {
    t.map(|t| t.into().local().format("%H:%M %d/%m/%Y").to_string())
}

/// The Vietnamese message for a problem code (what the person should understand and do).
pub(super) fn message_vi(code: Code) -> &'static str {
    match code {
        Code::AuthUnauthorized => {
            "Bạn chưa đăng nhập hoặc phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại."
        }
        Code::AuthForbidden => "Bạn không có quyền thực hiện thao tác này.",
        Code::AuthCsrf => {
            "Biểu mẫu thiếu mã xác thực của phiên làm việc (có thể trang đã cũ). Vui lòng tải lại trang rồi gửi lại."
        }
        Code::AuthThrottled => "Đăng nhập sai quá nhiều lần. Vui lòng chờ ít phút rồi thử lại.",
        Code::DossierNotFound => "Không tìm thấy hồ sơ (hoặc hồ sơ không thuộc đơn vị của bạn).",
        Code::DossierIllegalTransition => {
            "Tình trạng hiện tại của hồ sơ không cho phép thao tác này."
        }
        Code::DossierConcurrentChange | Code::DossierStale => {
            "Người khác vừa xử lý hồ sơ này trước bạn. Trang đã được tải lại với tình trạng mới nhất; hãy xem lại trước khi thao tác."
        }
        Code::DossierLastStep => "Đây là bước cuối của quy trình: hãy phê duyệt hoặc từ chối.",
        Code::DossierSupplementLimit => "Thủ tục này không cho phép yêu cầu bổ sung thêm lần nữa.",
        Code::DossierAlreadyApologized => "Hồ sơ này đã có văn bản xin lỗi, hẹn lại.",
        Code::DossierCompletionAlreadyAsked => "Đã yêu cầu hoàn thiện hồ sơ này.",
        Code::DossierMissingItems => "Hồ sơ còn thiếu thành phần bắt buộc.",
        Code::DossierUnknownAction => "Không có thao tác này.",
        Code::ValidationFailed | Code::RequestInvalidBody => {
            "Thông tin nhập chưa hợp lệ; xem các trường được đánh dấu."
        }
        Code::NotFound | Code::RouteNotFound | Code::RequestBadPath => "Không tìm thấy trang.",
        Code::DatabaseUnavailable => {
            "Tạm thời không kết nối được cơ sở dữ liệu. Vui lòng thử lại sau ít giây."
        }
        Code::RequestTooLarge => "Tệp hoặc biểu mẫu quá lớn.",
        Code::Internal => "Đã có lỗi hệ thống; yêu cầu chưa được thực hiện. Vui lòng thử lại.",
        _ => "Không thực hiện được yêu cầu.",
    }
}

/// The label of a field as the page shows it.
pub(super) fn field_label(field: &str) -> String {
    let label = match field {
        "applicant.name" => "Họ tên / tên tổ chức",
        "applicant.kind" => "Loại người nộp",
        "applicant.email" => "Thư điện tử",
        "procedure_code" => "Thủ tục",
        "refused_reasons" => "Lý do từ chối tiếp nhận",
        "reasons" => "Lý do",
        "items" => "Thành phần cần bổ sung",
        "to_step" => "Bước chuyển đến",
        "amount_vnd" => "Số tiền (đồng)",
        "new_due_at" => "Ngày hẹn trả mới",
        "applicant_deadline" => "Hạn bổ sung của người nộp",
        "method" => "Hình thức trả kết quả",
        "satisfaction" => "Mức độ hài lòng",
        "result_reference" => "Số văn bản kết quả",
        "from" => "Từ ngày",
        "to" => "Đến ngày",
        "username" => "Tên đăng nhập",
        "full_name" => "Họ tên",
        "role" => "Vai trò",
        "unit_code" => "Đơn vị",
        "email" => "Thư điện tử",
        "code" => "Mã",
        "name" => "Tên",
        "date" => "Ngày",
        "kind" => "Loại ngày",
        "password" => "Mật khẩu",
        "version" => "Phiên bản hồ sơ",
        other if other.starts_with("components") => "Thành phần hồ sơ",
        other => return other.to_owned(),
    };
    label.to_owned()
}

/// A field's message in Vietnamese where the rule's wording is a common one.
pub(super) fn field_message_vi(message: &str) -> String {
    let m = message.trim();
    let vi = match m {
        "required" | "is required" | "must not be empty" => "bắt buộc phải nhập",
        "must give at least one reason" => "phải nêu ít nhất một lý do",
        "is not an email address" => "không phải địa chỉ thư điện tử",
        "must be positive" => "phải là số dương",
        "must be counter, post or electronic" => {
            "phải là trả tại quầy, qua bưu chính hoặc trực tuyến"
        }
        "must be 1 to 5" => "phải từ 1 đến 5",
        "must name at least one checklist item" => "phải chọn ít nhất một thành phần",
        "must be later than now and than the current appointment" => {
            "phải sau thời điểm hiện tại và sau ngày hẹn đang có"
        }
        "must be a whole number" => "phải là số nguyên",
        "must be a date and time" => "phải là ngày giờ hợp lệ",
        _ => return m.to_owned(),
    };
    vi.to_owned()
}

/// A problem as the page's alert: the message and each field with its label.
pub(super) fn problem_vi(p: &crate::error::Problem) -> Value {
    let fields: Vec<Value> = p
        .errors
        .iter()
        .map(|(name, message)| {
            json!({"name": name, "label": field_label(name), "message": field_message_vi(message)})
        })
        .collect();
    json!({"message": message_vi(p.code), "fields": fields, "code": p.code.as_str()})
}

/// Page routes answer problems as pages: the problem+json a handler, an extractor or
/// `access::enforce` produced becomes the error page in Vietnamese, with the same status.
pub async fn html_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let res = next.call(req).await?;
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON));
    if !is_problem {
        return Ok(res.map_into_boxed_body());
    }
    let status = res.status();
    let retry_after = res.headers().get(header::RETRY_AFTER).cloned();
    let (req, res) = res.into_parts();
    let bytes = body::to_bytes(res.into_body()).await.unwrap_or_default();
    let problem: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let code = Code::ALL
        .iter()
        .copied()
        .find(|c| problem["code"] == c.as_str())
        .unwrap_or(Code::HttpError);
    let fields: Vec<Value> = problem["errors"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(name, msg)| {
                    json!({"name": name, "label": field_label(name),
                           "message": field_message_vi(msg.as_str().unwrap_or_default())})
                })
                .collect()
        })
        .unwrap_or_default();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let mut principal = req.extensions().get::<Principal>().cloned();
    // A refusal by role comes before the user is read: read them for the page's header.
    if principal.is_none()
        && let (Some(state), Some(token)) = (&state, session::session_token(&req))
        && let Ok(claims) = state.tokens.verify(&token)
    {
        principal = state
            .run(move |conn| users::authenticate(conn, &claims))
            .await
            .ok();
    }
    let csrf = match (&state, session::session_token(&req)) {
        (Some(s), Some(t)) => Csrf(s.tokens.csrf_token(&t)),
        _ => Csrf::default(),
    };
    let html = state.as_ref().and_then(|state| {
        let mut ctx = layout(state, principal.as_ref(), &csrf, "Thông báo", "");
        ctx.insert("heading".into(), json!(heading_vi(status)));
        ctx.insert(
            "problem".into(),
            json!({"message": message_vi(code), "fields": fields}),
        );
        ctx.insert("login".into(), json!(status == StatusCode::UNAUTHORIZED));
        render_html("error.html", ctx).ok()
    });
    let mut out = HttpResponse::build(status);
    out.content_type("text/html; charset=utf-8");
    if let Some(v) = retry_after {
        out.insert_header((header::RETRY_AFTER, v));
    }
    let out = match html {
        Some(html) => out.body(html),
        None => out.body(bytes),
    };
    Ok(ServiceResponse::new(req, out))
}

fn heading_vi(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => "Cần đăng nhập",
        403 => "Không có quyền",
        404 => "Không tìm thấy",
        409 | 412 => "Hồ sơ đã thay đổi",
        422 => "Thông tin chưa hợp lệ",
        429 => "Vui lòng chờ",
        500..=599 => "Lỗi hệ thống",
        _ => "Không thực hiện được",
    }
}

/// The vendored script and the stylesheet, from the binary.
#[utoipa::path(get, path = "/console/static/{file}", tag = "console",
    params(("file" = String, Path, description = "`htmx-2.0.11.min.js` or `console.css`")),
    responses((status = 200, description = "the file"), (status = 404)))]
pub async fn asset(path: web::Path<String>) -> AppResult<HttpResponse> {
    match path.as_str() {
        HTMX_NAME => Ok(HttpResponse::Ok()
            .content_type("text/javascript; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
            .body(HTMX)),
        CSS_NAME => Ok(HttpResponse::Ok()
            .content_type("text/css; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
            .body(CSS)),
        _ => Err(AppError::new(Code::NotFound, "No such file.")),
    }
}

/// The login form.
#[utoipa::path(get, path = "/console/login", tag = "console",
    responses((status = 200, content_type = "text/html")))]
pub async fn login_page(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let mut ctx = layout(&state, None, &Csrf::default(), "Đăng nhập", "");
    ctx.insert("username".into(), json!(""));
    render(StatusCode::OK, "login.html", ctx)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct LoginForm {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
}

/// Logs in with the same use case as `POST /api/v1/auth/login` (throttle, audit) and keeps
/// the token in the session cookie; a failure shows the form again with the username kept.
#[utoipa::path(post, path = "/console/login", tag = "console",
    request_body(content = LoginForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "to /console, with the session cookie"),
        (status = 401, content_type = "text/html"), (status = 403, content_type = "text/html",
            description = "`auth.csrf`: the form was posted from another site"),
        (status = 429, content_type = "text/html")))]
pub async fn login(
    state: web::Data<AppState>,
    client: ClientIp,
    req: HttpRequest,
    form: web::Form<LoginForm>,
) -> AppResult<HttpResponse> {
    if session::posted_from_another_site(&req) {
        return Err(AppError::new(
            Code::AuthCsrf,
            "This login form was sent from another site; open the login page and log in there.",
        ));
    }
    let LoginForm { username, password } = form.into_inner();
    let req = LoginRequest {
        username: username.clone(),
        password,
    };
    match users::login(&state, req, client.0).await {
        Ok(resp) => {
            let max_age = (resp.expires_at.utc() - state.clock.now())
                .num_seconds()
                .max(0);
            let secure = !state.settings.server.plain_http_cookies;
            Ok(HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/console"))
                .insert_header((
                    header::SET_COOKIE,
                    session::set_cookie(&resp.access_token, max_age, secure),
                ))
                .finish())
        }
        Err(AppError::Problem(p))
            if matches!(p.code, Code::AuthUnauthorized | Code::AuthThrottled) =>
        {
            let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::UNAUTHORIZED);
            let mut ctx = layout(&state, None, &Csrf::default(), "Đăng nhập", "");
            ctx.insert("username".into(), json!(username));
            let message = if p.code == Code::AuthThrottled {
                message_vi(p.code)
            } else {
                "Sai tên đăng nhập hoặc mật khẩu."
            };
            ctx.insert("problem".into(), json!({"message": message, "fields": []}));
            let mut resp = render(status, "login.html", ctx)?;
            if let Some(s) = p.retry_after
                && let Ok(v) = header::HeaderValue::from_str(&s.to_string())
            {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Ok(resp)
        }
        Err(e) => Err(e),
    }
}

/// Ends the page session in this browser.
#[utoipa::path(post, path = "/console/logout", tag = "console",
    responses((status = 303, description = "to the login page, the cookie cleared")))]
pub async fn logout(state: web::Data<AppState>, _caller: Caller<AnyUser>) -> HttpResponse {
    let secure = !state.settings.server.plain_http_cookies;
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/console/login"))
        .insert_header((header::SET_COOKIE, session::clear_cookie(secure)))
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles() {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    #[test]
    fn every_problem_code_has_a_heading_and_a_message() {
        for code in Code::ALL {
            assert!(!message_vi(*code).is_empty());
            let status = StatusCode::from_u16(code.status()).unwrap();
            assert!(!heading_vi(status).is_empty());
        }
        assert_eq!(field_label("applicant.name"), "Họ tên / tên tổ chức");
        assert_eq!(field_message_vi("required"), "bắt buộc phải nhập");
    }
}
