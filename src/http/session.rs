//! The console's page session: the same signed token as the API's bearer tokens, held in an
//! `HttpOnly; SameSite=Strict` cookie (`Secure` unless `server.plain_http_cookies`), and the
//! CSRF token bound to it that every state-changing console form carries. `access::enforce`
//! checks both for every page route; the API never reads the cookie.

use actix_web::dev::{Payload, ServiceRequest};
use actix_web::http::{Method, header};
use actix_web::web::{self, Bytes, BytesMut};
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use futures_util::StreamExt;

use crate::app::AppState;
use crate::error::{AppError, Code};

pub const SESSION_COOKIE: &str = "motcua_session";
/// The form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "_csrf";
/// The header htmx requests (and scripts) may carry it in instead.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The longest console form read to find the token (checklists, notes: far less).
const MAX_FORM_BYTES: usize = 256 * 1024;

/// The session token from the request's `Cookie` headers.
pub fn session_token(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// `Set-Cookie` for a new session that lasts as long as its token.
pub fn set_cookie(token: &str, max_age_seconds: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_seconds}{secure}"
    )
}

/// `Set-Cookie` that ends the session in the browser.
pub fn clear_cookie(secure: bool) -> String {
    set_cookie("", 0, secure)
}

/// Whether a browser says this request comes from a page of another site. The login form has
/// no session to bind a CSRF token to, so it is checked this way instead (login CSRF: another
/// site logging the victim's browser into the attacker's account). Browsers send
/// `Sec-Fetch-Site`; older ones at least `Origin` on a form post. A request with neither is
/// not a browser's form (a script, a test) and cannot carry a victim's cookies anyway.
pub fn posted_from_another_site(req: &HttpRequest) -> bool {
    let headers = req.headers();
    if let Some(site) = headers.get("sec-fetch-site") {
        return !matches!(site.to_str(), Ok("same-origin" | "none"));
    }
    match headers.get(header::ORIGIN).map(|v| v.to_str()) {
        None => false,
        Some(Ok(origin)) => {
            let host = req.connection_info().host().to_owned();
            origin.split_once("://").map(|(_, authority)| authority) != Some(host.as_str())
        }
        Some(Err(_)) => true,
    }
}

/// Methods that change something: they need the CSRF token.
pub fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Set by [`check_csrf`] once the token matched; the `Caller` extractor refuses a cookie
/// session's state-changing request without it, so a page route fails closed even if it were
/// served without the middleware.
#[derive(Clone, Copy, Debug)]
pub struct CsrfChecked;

fn csrf_refused() -> AppError {
    AppError::new(
        Code::AuthCsrf,
        "This form lacks the CSRF token of your session; reload the page and send it again.",
    )
}

/// The `_csrf` value of an `application/x-www-form-urlencoded` body.
fn form_field(body: &[u8]) -> Option<String> {
    field_of(std::str::from_utf8(body).ok()?)
}

/// The `_csrf` value of a query string or an urlencoded form.
fn field_of(encoded: &str) -> Option<String> {
    web::Query::<Vec<(String, String)>>::from_query(encoded)
        .ok()?
        .into_inner()
        .into_iter()
        .find(|(k, _)| k == CSRF_FIELD)
        .map(|(_, v)| v)
}

/// Checks the CSRF token of a state-changing request made with the session cookie: from the
/// `X-CSRF-Token` header, the query (multipart uploads) or the urlencoded form, which is read
/// here and handed on to the handler unchanged.
pub async fn check_csrf(
    req: &mut ServiceRequest,
    state: &AppState,
    session: &str,
) -> Result<(), AppError> {
    let mut given = req
        .headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if given.is_none() {
        given = field_of(req.query_string());
    }
    let urlencoded = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if given.is_none() && urlencoded {
        let mut payload = req.take_payload();
        let mut body = BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|_| {
                AppError::new(Code::RequestUnreadableBody, "The form could not be read.")
            })?;
            if body.len() + chunk.len() > MAX_FORM_BYTES {
                return Err(AppError::new(
                    Code::RequestTooLarge,
                    "The form is too large.",
                ));
            }
            body.extend_from_slice(&chunk);
        }
        let body: Bytes = body.freeze();
        given = form_field(&body);
        req.set_payload(bytes_payload(body));
    }
    match given {
        Some(t) if state.tokens.csrf_matches(session, &t) => Ok(()),
        _ => Err(csrf_refused()),
    }
}

fn bytes_payload(body: Bytes) -> Payload {
    let stream = futures_util::stream::once(async move { Ok(body) });
    Payload::Stream {
        payload: Box::pin(stream),
    }
}

/// The CSRF token of the request's page session, for the forms a page renders (empty when
/// the request came with a bearer token, which needs none).
#[derive(Clone, Debug, Default)]
pub struct Csrf(pub String);

impl FromRequest for Csrf {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = match (req.app_data::<web::Data<AppState>>(), session_token(req)) {
            (Some(state), Some(session)) => state.tokens.csrf_token(&session),
            _ => String::new(),
        };
        std::future::ready(Ok(Csrf(token)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn the_session_cookie_is_found_among_others_and_set_strictly() {
        let req = TestRequest::default()
            .insert_header((header::COOKIE, "a=1; motcua_session=tok.en.x; b=2"))
            .to_http_request();
        assert_eq!(session_token(&req).as_deref(), Some("tok.en.x"));
        let none = TestRequest::default()
            .insert_header((header::COOKIE, "motcua_session_x=1"))
            .to_http_request();
        assert_eq!(session_token(&none), None);
        let c = set_cookie("t", 60, true);
        for part in [
            "HttpOnly",
            "SameSite=Strict",
            "Secure",
            "Max-Age=60",
            "Path=/",
        ] {
            assert!(c.contains(part), "{c}");
        }
        assert!(!set_cookie("t", 60, false).contains("Secure"));
        assert!(clear_cookie(true).contains("Max-Age=0"));
    }

    #[test]
    fn the_token_is_read_from_the_form() {
        assert_eq!(
            form_field(b"note=x&_csrf=abc%20d&y=2").as_deref(),
            Some("abc d")
        );
        assert_eq!(form_field(b"note=x"), None);
    }
}
