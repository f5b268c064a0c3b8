//! The `motcua` command line: serve, migrate, create-user, demo, import.

use std::io::{IsTerminal, Read};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use motcua::app::users::{self, CreateUserRequest};
use motcua::clock::Clock;
use motcua::config::Settings;
use motcua::domain::role::Role;
use motcua::startup;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "motcua",
    version,
    about = "Bộ phận một cửa — one-stop-shop counter service"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run pending migrations, then serve HTTP and run the background jobs until SIGTERM/SIGINT.
    Serve,
    /// Run pending migrations and exit.
    Migrate,
    /// Load demo data: units, one user per role, sample procedures, dossiers in every state.
    /// The users' passwords are published in the README, so outside MOTCUA_ENV=dev this needs
    /// --with-published-passwords.
    Demo {
        /// Create the demo accounts, whose passwords are published, outside MOTCUA_ENV=dev.
        #[arg(long)]
        with_published_passwords: bool,
        /// Also generate this many synthetic dossiers (report benchmarks).
        #[arg(long)]
        dossiers: Option<usize>,
        /// The year the synthetic dossiers are received in.
        #[arg(long, default_value_t = 2025)]
        year: i32,
    },
    /// Load or update data from a file.
    Import {
        #[command(subcommand)]
        what: ImportWhat,
    },
    /// Create a user; the password is read from standard input.
    CreateUser {
        #[arg(long)]
        username: String,
        #[arg(long)]
        role: Role,
        #[arg(long)]
        unit: Option<String>,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        full_name: Option<String>,
        /// Read the password from standard input (required: passwords never go on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum ImportWhat {
    /// Procedures from a JSON file (an array, in the API's shape); new versions where changed.
    Procedures { file: std::path::PathBuf },
    /// Paper-era dossiers from a CSV file (header in docs/import.md) or a JSON file (`.json`:
    /// an array in the API's field names), keeping their codes. The whole file is checked
    /// first (errors name the row and column; nothing is written), then written in batches;
    /// codes already present are skipped, so it can be run again. Sends no email.
    Dossiers { file: std::path::PathBuf },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("motcua: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let settings = Settings::from_environment()?;
    match cli.command {
        Command::Serve => serve(settings),
        Command::Migrate => {
            let pool = startup::open_pool(&settings)?;
            let ran = startup::migrate(&pool)?;
            println!("{ran} migration(s) applied");
            Ok(())
        }
        Command::Demo {
            dossiers,
            year,
            with_published_passwords,
        } => {
            if !settings.is_dev() && !with_published_passwords {
                return Err(format!(
                    "demo creates accounts whose passwords are published in the README; \
                     MOTCUA_ENV is {:?}, not \"dev\": refusing (pass --with-published-passwords \
                     to load them anyway)",
                    settings.env
                )
                .into());
            }
            let state = startup::build_state(settings, Clock::System)?;
            let mut conn = state.pool.get()?;
            println!("{}", motcua::app::demo::load(&mut conn, &state)?);
            if let Some(n) = dossiers {
                let started = std::time::Instant::now();
                let made = motcua::app::demo::generate_dossiers(&mut conn, &state, n, year)?;
                println!(
                    "generated {made} dossiers in {:.1} s",
                    started.elapsed().as_secs_f64()
                );
            }
            Ok(())
        }
        Command::Import {
            what: ImportWhat::Procedures { file },
        } => {
            let text = std::fs::read_to_string(&file)?;
            let defs = motcua::app::demo::parse_procedures(&text)?;
            let state = startup::build_state(settings, Clock::System)?;
            let mut conn = state.pool.get()?;
            let changed = motcua::app::demo::import_procedures(&mut conn, &state, "import", &defs)?;
            println!(
                "{} procedure(s) read, {changed} created or changed",
                defs.len()
            );
            Ok(())
        }
        Command::Import {
            what: ImportWhat::Dossiers { file },
        } => {
            let text = std::fs::read_to_string(&file)?;
            let format = motcua::app::import::Format::of(&file);
            let state = startup::build_state(settings, Clock::System)?;
            let mut conn = state.pool.get()?;
            let report = motcua::app::import::import_dossiers(&mut conn, &state, &text, format)?;
            println!(
                "{} dossier(s) read, {} imported, {} already present",
                report.read, report.created, report.skipped
            );
            Ok(())
        }
        Command::CreateUser {
            username,
            role,
            unit,
            email,
            full_name,
            password_stdin: _,
        } => {
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password)?;
            let password = password.trim_end_matches(['\r', '\n']).to_owned();
            let pool = startup::open_pool(&settings)?;
            startup::migrate(&pool)?;
            let mut conn = pool.get()?;
            let user = users::create_user(
                &mut conn,
                &CreateUserRequest {
                    username,
                    password,
                    full_name: full_name.unwrap_or_default(),
                    email,
                    role,
                    unit_code: unit,
                    active: true,
                },
                Clock::System.now(),
            )?;
            println!("created user {} ({})", user.username, user.role);
            Ok(())
        }
    }
}

fn serve(settings: Settings) -> Result<(), Box<dyn std::error::Error>> {
    let addr = (settings.server.host.clone(), settings.server.port);
    let listener = std::net::TcpListener::bind(addr)?;
    actix_web::rt::System::new().block_on(async move {
        let service = startup::start(settings, Clock::System, listener)?;
        tracing::info!(server.addr = %service.addr, "serving");
        service.run_until_signal().await?;
        Ok::<_, Box<dyn std::error::Error>>(())
    })?;
    tracing::info!("stopped");
    Ok(())
}
