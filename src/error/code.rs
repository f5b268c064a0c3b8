//! Every problem `code` the service answers with, and the HTTP status it goes with. The text
//! on the wire (`code`, and `type` = `urn:motcua:problem:{code}`) is [`Code::as_str`];
//! `docs/errors.md` says what each one means (a unit test checks that it lists them all).
//! A leaf module: every layer may name a code, and nothing here knows HTTP beyond the number.

macro_rules! codes {
    ($($(#[$meta:meta])* $variant:ident = $text:literal => $status:literal,)*) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Code {
            $($(#[$meta])* $variant,)*
        }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The stable machine code, e.g. `dossier.illegal_transition`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $text,)*
                }
            }

            /// The HTTP status of a problem with this code.
            pub fn status(self) -> u16 {
                match self {
                    $(Code::$variant => $status,)*
                }
            }
        }
    };
}

codes! {
    Internal = "internal" => 500,
    /// Stands in for a non-problem error response (its own status is kept).
    HttpError = "http.error" => 500,
    NotFound = "not_found" => 404,
    DatabaseUnavailable = "database.unavailable" => 503,
    ValidationFailed = "validation.failed" => 422,

    RequestBadHeader = "request.bad_header" => 400,
    RequestBadMultipart = "request.bad_multipart" => 400,
    RequestBadQuery = "request.bad_query" => 400,
    RequestMalformedJson = "request.malformed_json" => 400,
    RequestUnreadableBody = "request.unreadable_body" => 400,
    RequestBadPath = "request.bad_path" => 404,
    RequestTooLarge = "request.too_large" => 413,
    RequestContentType = "request.content_type" => 415,
    RequestInvalidBody = "request.invalid_body" => 422,
    RouteNotFound = "route.not_found" => 404,
    RouteMethodNotAllowed = "route.method_not_allowed" => 405,

    AuthUnauthorized = "auth.unauthorized" => 401,
    AuthForbidden = "auth.forbidden" => 403,
    AuthCsrf = "auth.csrf" => 403,
    AuthChangedMeanwhile = "auth.changed_meanwhile" => 409,
    AuthWrongPassword = "auth.wrong_password" => 422,
    AuthThrottled = "auth.throttled" => 429,

    UserNotFound = "user.not_found" => 404,
    UserExists = "user.exists" => 409,
    UserLastAdmin = "user.last_admin" => 409,
    UnitExists = "unit.exists" => 409,

    ProcedureNotFound = "procedure.not_found" => 404,
    ProcedureExists = "procedure.exists" => 409,
    ProcedureInvalid = "procedure.invalid" => 422,
    ProcedureBadFile = "procedure.bad_file" => 422,

    CalendarBadDate = "calendar.bad_date" => 404,
    CalendarDayNotFound = "calendar.day_not_found" => 404,
    CalendarInvalidDay = "calendar.invalid_day" => 422,

    DossierNotFound = "dossier.not_found" => 404,
    DossierUnknownAction = "dossier.unknown_action" => 404,
    DossierIllegalTransition = "dossier.illegal_transition" => 409,
    DossierConcurrentChange = "dossier.concurrent_change" => 409,
    DossierLastStep = "dossier.last_step" => 409,
    DossierSupplementLimit = "dossier.supplement_limit" => 409,
    DossierCompletionAlreadyAsked = "dossier.completion_already_asked" => 409,
    DossierAlreadyApologized = "dossier.already_apologized" => 409,
    DossierStale = "dossier.stale" => 412,
    DossierMissingItems = "dossier.missing_items" => 422,
    IdempotencyRace = "idempotency.race" => 409,
    IdempotencyKeyReused = "idempotency.key_reused" => 422,

    ComponentNotFound = "component.not_found" => 404,
    FileNotFound = "file.not_found" => 404,
    FileExists = "file.exists" => 409,
    FileTooLarge = "file.too_large" => 413,
    FileMediaType = "file.media_type" => 415,
    StorageFull = "storage.full" => 507,
    StorageReadOnly = "storage.read_only" => 503,
    ReuseNotFound = "reuse.not_found" => 404,
    ReuseNoIdentity = "reuse.no_identity" => 422,

    FormNotFound = "form.not_found" => 404,
    FormNotApplicable = "form.not_applicable" => 409,

    LookupNotFound = "lookup.not_found" => 404,
    LookupMissing = "lookup.missing" => 422,
    LookupTooLong = "lookup.too_long" => 422,
    LookupRateLimited = "lookup.rate_limited" => 429,
    LookupCodeLocked = "lookup.code_locked" => 429,

    DemoNoProcedures = "demo.no_procedures" => 422,
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_dotted_lower_case() {
        let mut seen = std::collections::BTreeSet::new();
        for c in Code::ALL {
            assert!(seen.insert(c.as_str()), "{c:?} twice");
            assert!(
                c.as_str()
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch == '_' || ch == '.'),
                "{c:?}"
            );
            assert!((400..600).contains(&c.status()), "{c:?}");
        }
    }

    /// `docs/errors.md` has a table row `| `code` | status | meaning |` for every code.
    #[test]
    fn docs_list_every_code_with_its_status_and_meaning() {
        let doc = include_str!("../../docs/errors.md");
        for c in Code::ALL {
            let prefix = format!("| `{}` | {} | ", c.as_str(), c.status());
            let row = doc.lines().find(|l| l.starts_with(&prefix));
            let meaning = row.map(|r| r[prefix.len()..].trim_end_matches('|').trim());
            assert!(
                meaning.is_some_and(|m| !m.is_empty()),
                "docs/errors.md lacks a row starting {prefix:?} with a meaning"
            );
        }
    }
}
