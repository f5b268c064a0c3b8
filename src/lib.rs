//! motcua — the one-stop-shop counter (Bộ phận một cửa) of a Vietnamese public agency.
//!
//! Layers point inwards: `http` → `app` → `domain`; `app` → `db`. The binary (`main.rs`) only
//! parses the command line and calls [`startup`].

pub mod app;
pub mod auth;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod metrics;
pub mod notify;
pub mod startup;
pub mod storage;
