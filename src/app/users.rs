//! Accounts: login, the current user, password change, and administration.

use chrono::{DateTime, Utc};

use crate::clock::ApiTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use std::net::IpAddr;
use std::time::Instant;

use crate::auth::{self, MIN_PASSWORD_LEN};
use crate::db::users::{UserChanges, UserRow};
use crate::db::{self, DbConnection, from_db_time, to_db_time, units, users};
use crate::domain::email::valid_email;
use crate::domain::role::Role;
use crate::error::{AppError, AppResult, Code, FieldErrors};

use super::throttle::{self, Throttled};
use super::{AppState, Page, PageRequest};

/// A user as the API shows it (never the password hash).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: String,
    pub username: String,
    pub full_name: String,
    pub email: Option<String>,
    pub role: Role,
    pub unit_code: Option<String>,
    pub active: bool,
    pub created_at: ApiTime,
    pub updated_at: ApiTime,
}

impl User {
    fn from_row(row: UserRow) -> AppResult<Self> {
        Ok(User {
            role: row
                .role
                .parse()
                .map_err(|e| AppError::internal(format!("user {}: {e}", row.id)))?,
            id: row.id,
            username: row.username,
            full_name: row.full_name,
            email: row.email,
            unit_code: row.unit_code,
            active: row.active,
            created_at: from_db_time(row.created_at).into(),
            updated_at: from_db_time(row.updated_at).into(),
        })
    }
}

/// Who is calling: the verified token's user, as the database has it now.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: String,
    pub username: String,
    pub role: Role,
    pub unit_code: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    pub expires_at: ApiTime,
    pub user: User,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateUserRequest {
    pub username: String,
    pub password: String,
    #[serde(default)]
    pub full_name: String,
    pub email: Option<String>,
    pub role: Role,
    pub unit_code: Option<String>,
    #[serde(default = "default_true")]
    pub active: bool,
}

fn default_true() -> bool {
    true
}

/// Partial update; absent fields stay as they are, `null` clears `email` / `unit_code`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct UpdateUserRequest {
    pub password: Option<String>,
    pub full_name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    pub role: Option<Role>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub unit_code: Option<Option<String>>,
    pub active: Option<bool>,
}

/// Tells "absent" (None) from "null" (Some(None)).
fn double_option<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

pub fn normalise_username(u: &str) -> String {
    u.trim().to_lowercase()
}

fn valid_username(u: &str) -> bool {
    (3..=64).contains(&u.len())
        && u.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
}

fn check_password(errors: &mut FieldErrors, field: &str, password: &str) {
    errors.check(
        password.chars().count() >= MIN_PASSWORD_LEN,
        field,
        "must be at least 8 characters",
    );
    errors.check(password.chars().count() <= 1024, field, "is too long");
}

fn hash(password: &str) -> AppResult<String> {
    auth::hash_password(password).map_err(|e| AppError::internal(format!("password hash: {e}")))
}

/// Checks the unit rules of a role: officers and leaders belong to an existing unit.
fn check_unit(
    conn: &mut DbConnection,
    errors: &mut FieldErrors,
    role: Role,
    unit_code: Option<&str>,
) -> AppResult<()> {
    match unit_code {
        Some(code) if units::find_unit(conn, code)?.is_none() => {
            errors.add("unit_code", format!("unknown unit {code:?}"));
        }
        Some(_) => {}
        None if role.needs_unit() => {
            errors.add("unit_code", format!("is required for role {role}"))
        }
        None => {}
    }
    Ok(())
}

/// Logs in. Refused with 429 while the username or the address is blocked (no password is
/// checked then); argon2 runs off the pool (no connection held); every failure is an audit
/// event with the username and the address, never the password.
pub async fn login(
    state: &AppState,
    req: LoginRequest,
    client: IpAddr,
) -> AppResult<LoginResponse> {
    let username = normalise_username(&req.username);
    let throttle = &state.logins;
    if let Err(t) = throttle.check(&username, client, Instant::now()) {
        let by = match t {
            Throttled::Username(_) => "username",
            Throttled::Address(_) => "address",
        };
        tracing::warn!(audit = "login", user.name = ?username, client.ip = %client, throttled.by = by, result = "throttled", "login refused: too many failures");
        return Err(throttled(t.wait()));
    }
    let u = username.clone();
    let row = state
        .run(move |conn| Ok(users::find_user_by_username(conn, &u)?))
        .await?;
    let ok = throttle
        .verify(req.password, row.as_ref().map(|r| r.password_hash.clone()))
        .await?;
    let row = match row {
        Some(row) if ok && row.active => row,
        // One answer for unknown user, wrong password and disabled account.
        _ => {
            let block = throttle.fail(&username, client, Instant::now());
            tracing::warn!(audit = "login", user.name = ?username, client.ip = %client, blocked.seconds = block.map(|b| b.as_secs()), result = "failed", "login failed");
            return Err(AppError::unauthorized("Wrong username or password."));
        }
    };
    throttle.succeed(&username);
    let user = User::from_row(row.clone())?;
    let (access_token, expires_at) = state
        .tokens
        .issue(&row.id, user.role, row.token_version)
        .map_err(AppError::internal)?;
    tracing::info!(audit = "login", user.name = %user.username, client.ip = %client, result = "ok", "login");
    Ok(LoginResponse {
        access_token,
        token_type: "Bearer",
        expires_at: expires_at.into(),
        user,
    })
}

fn throttled(wait: std::time::Duration) -> AppError {
    AppError::new(
        Code::AuthThrottled,
        "Too many failed attempts; wait before trying again.",
    )
    .with_retry_after(throttle::retry_after(wait))
}

/// Turns verified claims into the caller, refusing tokens of disabled users or issued before
/// the user's last password, role or status change.
pub fn authenticate(conn: &mut DbConnection, claims: &auth::Claims) -> AppResult<Principal> {
    let row = users::find_user_by_id(conn, &claims.sub)?
        .filter(|r| r.active && r.token_version == claims.tv)
        .ok_or_else(|| AppError::unauthorized("The token is no longer valid; log in again."))?;
    let user = User::from_row(row)?;
    Ok(Principal {
        user_id: user.id,
        username: user.username,
        role: user.role,
        unit_code: user.unit_code,
    })
}

pub fn get_user(conn: &mut DbConnection, username: &str) -> AppResult<User> {
    let row = users::find_user_by_username(conn, &normalise_username(username))?
        .ok_or_else(|| AppError::new(Code::UserNotFound, format!("No user {username:?}.")))?;
    User::from_row(row)
}

pub fn get_user_by_id(conn: &mut DbConnection, id: &str) -> AppResult<User> {
    let row = users::find_user_by_id(conn, id)?
        .ok_or_else(|| AppError::new(Code::UserNotFound, "No such user."))?;
    User::from_row(row)
}

/// Checks the current password first (argon2 off the pool, counted by the login throttle),
/// hashes the new one, and only then opens the write transaction, which refuses if the
/// password or the sessions changed in between.
pub async fn change_password(
    state: &AppState,
    principal: &Principal,
    req: ChangePasswordRequest,
    client: IpAddr,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let mut errors = FieldErrors::default();
    check_password(&mut errors, "new_password", &req.new_password);
    errors.into_result()?;
    let throttle = &state.logins;
    if let Err(t) = throttle.check(&principal.username, client, Instant::now()) {
        tracing::warn!(audit = "password_change", user.name = %principal.username, client.ip = %client, result = "throttled", "password change refused: too many failures");
        return Err(throttled(t.wait()));
    }
    let id = principal.user_id.clone();
    let row = state
        .run(move |conn| {
            users::find_user_by_id(conn, &id)?.ok_or_else(|| {
                AppError::unauthorized("The token is no longer valid; log in again.")
            })
        })
        .await?;
    if !throttle
        .verify(req.current_password, Some(row.password_hash.clone()))
        .await?
    {
        throttle.fail(&principal.username, client, Instant::now());
        tracing::warn!(audit = "password_change", user.name = %principal.username, client.ip = %client, result = "failed", "password change: wrong current password");
        return Err(
            AppError::new(Code::AuthWrongPassword, "The current password is wrong.")
                .with_field("current_password", "is wrong"),
        );
    }
    let new_hash = throttle.hash(req.new_password).await?;
    state
        .run(move |conn| {
            db::write_tx(conn, |conn| {
                let now_row = users::find_user_by_id(conn, &row.id)?.ok_or_else(|| {
                    AppError::unauthorized("The token is no longer valid; log in again.")
                })?;
                if now_row.password_hash != row.password_hash
                    || now_row.token_version != row.token_version
                {
                    return Err(AppError::new(
                        Code::AuthChangedMeanwhile,
                        "The account changed during the request; try again.",
                    ));
                }
                users::update_user(
                    conn,
                    &row.id,
                    &UserChanges {
                        password_hash: Some(new_hash),
                        token_version: Some(row.token_version + 1),
                        updated_at: Some(to_db_time(now)),
                        ..Default::default()
                    },
                )?;
                Ok(())
            })
        })
        .await?;
    tracing::info!(audit = "password_change", user.name = %principal.username, client.ip = %client, result = "ok", "password changed");
    Ok(())
}

pub fn list_users(conn: &mut DbConnection, page: PageRequest) -> AppResult<Page<User>> {
    let (rows, total) = users::list_users(conn, page.offset(), page.per_page)?;
    Ok(Page {
        items: rows
            .into_iter()
            .map(User::from_row)
            .collect::<AppResult<_>>()?,
        total,
        page: page.page,
        per_page: page.per_page,
    })
}

/// Creates a user, hashing the password here (CLI, bootstrap, demo). The API hashes off the
/// pool first and calls [`create_user_with_hash`].
pub fn create_user(
    conn: &mut DbConnection,
    req: &CreateUserRequest,
    now: DateTime<Utc>,
) -> AppResult<User> {
    let hash = password_acceptable(&req.password)
        .then(|| hash(&req.password))
        .transpose()?;
    create_user_with_hash(conn, req, hash, now)
}

/// Whether a password passes the rules, so that it is worth hashing.
pub fn password_acceptable(password: &str) -> bool {
    let mut errors = FieldErrors::default();
    check_password(&mut errors, "password", password);
    errors.into_result().is_ok()
}

/// `password_hash` is `None` exactly when the password breaks the rules (then this answers
/// the 422 with every field's problem).
pub fn create_user_with_hash(
    conn: &mut DbConnection,
    req: &CreateUserRequest,
    password_hash: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<User> {
    let username = normalise_username(&req.username);
    let mut errors = FieldErrors::default();
    errors.check(
        valid_username(&username),
        "username",
        "must be 3–64 characters: letters, digits, '.', '_' or '-'",
    );
    check_password(&mut errors, "password", &req.password);
    if let Some(e) = &req.email {
        errors.check(valid_email(e), "email", "is not an email address");
    }
    errors.check(
        req.full_name.chars().count() <= 200,
        "full_name",
        "is too long",
    );
    db::write_tx(conn, |conn| {
        check_unit(conn, &mut errors, req.role, req.unit_code.as_deref())?;
        errors.into_result()?;
        let password_hash =
            password_hash.ok_or_else(|| AppError::internal("create_user: no password hash"))?;
        let row = UserRow {
            id: uuid::Uuid::new_v4().to_string(),
            username: username.clone(),
            password_hash,
            full_name: req.full_name.trim().to_owned(),
            email: req.email.clone(),
            role: req.role.as_str().to_owned(),
            unit_code: req.unit_code.clone(),
            active: req.active,
            token_version: 0,
            created_at: to_db_time(now),
            updated_at: to_db_time(now),
        };
        users::insert_user(conn, &row).map_err(|e| {
            if db::is_unique_violation(&e) {
                AppError::new(
                    Code::UserExists,
                    format!("User {username:?} already exists."),
                )
            } else {
                e.into()
            }
        })?;
        User::from_row(row)
    })
}

/// Changes a user; `password_hash` is the new password's hash when `req.password` is set
/// (hashed by the caller, off the pool).
pub fn update_user(
    conn: &mut DbConnection,
    username: &str,
    req: &UpdateUserRequest,
    password_hash: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<User> {
    let mut errors = FieldErrors::default();
    if let Some(p) = &req.password {
        check_password(&mut errors, "password", p);
    }
    if let Some(Some(e)) = &req.email {
        errors.check(valid_email(e), "email", "is not an email address");
    }
    if let Some(n) = &req.full_name {
        errors.check(n.chars().count() <= 200, "full_name", "is too long");
    }
    db::write_tx(conn, |conn| {
        let row = users::find_user_by_username(conn, &normalise_username(username))?
            .ok_or_else(|| AppError::new(Code::UserNotFound, format!("No user {username:?}.")))?;
        let current_role: Role = row.role.parse().map_err(AppError::internal)?;
        let role = req.role.unwrap_or(current_role);
        let unit = match &req.unit_code {
            Some(u) => u.clone(),
            None => row.unit_code.clone(),
        };
        check_unit(conn, &mut errors, role, unit.as_deref())?;
        errors.into_result()?;
        if req.password.is_some() != password_hash.is_some() {
            return Err(AppError::internal("update_user: password without its hash"));
        }
        let stays_admin = role == Role::Admin && req.active.unwrap_or(row.active);
        if current_role == Role::Admin && row.active && !stays_admin {
            users::lock_admins(conn)?;
            if users::count_active_admins(conn)? <= 1 {
                return Err(AppError::new(
                    Code::UserLastAdmin,
                    "This is the last active admin: make another admin first.",
                ));
            }
        }
        // Anything that changes what the user may do or who may log in ends their sessions.
        let revokes = password_hash.is_some()
            || role != current_role
            || req.active == Some(false)
            || (req.unit_code.is_some() && unit != row.unit_code);
        let changes = UserChanges {
            password_hash,
            full_name: req.full_name.as_ref().map(|s| s.trim().to_owned()),
            email: req.email.clone(),
            role: req.role.map(|r| r.as_str().to_owned()),
            unit_code: req.unit_code.clone(),
            active: req.active,
            token_version: revokes.then_some(row.token_version + 1),
            updated_at: Some(to_db_time(now)),
        };
        users::update_user(conn, &row.id, &changes)?;
        get_user_by_id(conn, &row.id)
    })
}

/// `bootstrap.admin_password`: creates user `admin` when there is no user at all.
pub fn bootstrap_admin(
    conn: &mut DbConnection,
    password: &str,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    if users::count_users(conn)? > 0 {
        return Ok(false);
    }
    create_user(
        conn,
        &CreateUserRequest {
            username: "admin".into(),
            password: password.into(),
            full_name: "Quản trị hệ thống".into(),
            email: None,
            role: Role::Admin,
            unit_code: None,
            active: true,
        },
        now,
    )?;
    Ok(true)
}
