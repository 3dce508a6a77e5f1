//! The `tern` command line: `serve`, `check-config`, `gen-cert`, `user add`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tern::config;
use tern::security::{generate_self_signed, hash_password, users};

#[derive(Parser)]
#[command(name = "tern", version, about = "tern: a thread-per-core mail transfer agent for bulk relay")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the MTA (with no --config: the embedded default, 127.0.0.1:2525, ./tern-data).
    Serve {
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Validate a configuration file and print every problem with its key path.
    CheckConfig {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Write a self-signed certificate (cert.pem) and its key (key.pem) for trials.
    GenCert {
        /// The host name the certificate is for.
        #[arg(long, value_name = "FQDN")]
        name: String,
        /// The directory to write to (created when missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Manage the users file of inbound AUTH.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user: the password is prompted for on a terminal, else read from standard input
    /// (its first line).
    Add {
        name: String,
        /// The users file (default: `auth.users` of --config).
        #[arg(long, value_name = "FILE", conflicts_with = "config")]
        users: Option<PathBuf>,
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("TERN_LOG").unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match Cli::parse().command {
        Command::Serve { config } => serve(config),
        Command::CheckConfig { config } => check(&config),
        Command::GenCert { name, out } => report(gen_cert(&name, &out)),
        Command::User { command: UserCommand::Add { name, users, config } } => report(user_add(&name, users, config)),
    }
}

fn report(result: Result<String, String>) -> ExitCode {
    match result {
        Ok(done) => {
            println!("{done}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tern: {e}");
            ExitCode::FAILURE
        }
    }
}

fn gen_cert(name: &str, out: &std::path::Path) -> Result<String, String> {
    let (cert, key) = generate_self_signed(name).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let (cert_path, key_path) = (out.join("cert.pem"), out.join("key.pem"));
    std::fs::write(&cert_path, cert).map_err(|e| format!("cannot write {}: {e}", cert_path.display()))?;
    write_private(&key_path, key.as_bytes()).map_err(|e| format!("cannot write {}: {e}", key_path.display()))?;
    Ok(format!("wrote {} and {}", cert_path.display(), key_path.display()))
}

/// Writes a file only its owner can read.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().create(true).write(true).truncate(true).mode(0o600).open(path)?;
    file.write_all(bytes)
}

fn user_add(name: &str, users: Option<PathBuf>, config: Option<PathBuf>) -> Result<String, String> {
    let path = match (users, config) {
        (Some(path), _) => path,
        (None, Some(config)) => users_file_of(&config)?,
        (None, None) => return Err("give the users file with --users FILE or --config FILE".into()),
    };
    users::check_name(name).map_err(|e| e.to_string())?;
    let password = read_password().map_err(|e| format!("cannot read the password: {e}"))?;
    if password.is_empty() {
        return Err("the password must not be empty".into());
    }
    let hash = hash_password(password.as_bytes()).map_err(|e| e.to_string())?;
    users::append_user(&path, name, &hash).map_err(|e| e.to_string())?;
    Ok(format!("added {name} to {}", path.display()))
}

/// `auth.users` of a configuration file: the first virtual server that has one (each inherits
/// the site value unless it overrides it).
fn users_file_of(config: &std::path::Path) -> Result<PathBuf, String> {
    let config = config::load(config).map_err(|e| format!("invalid configuration:\n{e}"))?;
    config
        .virtual_servers
        .iter()
        .find_map(|vs| vs.auth.users.clone())
        .ok_or_else(|| "the configuration sets no auth.users".to_string())
}

/// Prompts on a terminal; otherwise reads the first line of standard input.
fn read_password() -> std::io::Result<String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Again: ")?;
        if first != again {
            return Err(std::io::Error::other("the passwords differ"));
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn serve(path: Option<PathBuf>) -> ExitCode {
    let loaded = match &path {
        Some(path) => config::load(path),
        None => config::parse(config::EMBEDDED_DEFAULT),
    };
    let config = match loaded {
        Ok(config) => config,
        Err(errors) => {
            let name = path.map_or("embedded default".into(), |p| p.display().to_string());
            eprintln!("tern: invalid configuration ({name}):\n{errors}");
            return ExitCode::from(2);
        }
    };
    match tern::runtime::run(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tern: {e}");
            ExitCode::FAILURE
        }
    }
}

fn check(path: &std::path::Path) -> ExitCode {
    match config::load(path) {
        Ok(_) => {
            println!("{}: OK", path.display());
            ExitCode::SUCCESS
        }
        Err(errors) => {
            println!("{errors}");
            eprintln!("{}: {} problem(s)", path.display(), errors.0.len());
            ExitCode::FAILURE
        }
    }
}
