//! The OpenAPI document, generated from the handlers and completed from the route table
//! (bearer security and the roles of each operation).

use std::sync::OnceLock;

use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, PathItem, SecurityRequirement};

use super::{
    Access, ROUTES, admin, auth, calendar, dossiers, files, forms, notifications, ops, procedures,
    public, reports,
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
        ops::openapi_json,
        ops::docs_redirect,
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
        dossiers::dossier_history,
        files::upload,
        files::reuse,
        files::list,
        files::download,
        forms::form,
        notifications::list_notifications,
        public::lookup,
        public::lookup_page,
        reports::bieu06,
        reports::indicators,
        reports::queue,
    ),
    components(schemas(crate::error::Problem))
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
        op.security = Some(vec![SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
        let text = op.description.take().unwrap_or_default();
        op.description = Some(format!("{text}\n\n**Roles:** {roles}").trim().to_owned());
    }
    doc
}

/// Built once; the document is the same for the life of the process.
pub fn document() -> Document {
    static DOC: OnceLock<Document> = OnceLock::new();
    DOC.get_or_init(build).clone()
}
