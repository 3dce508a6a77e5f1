//! The `tern` command line: `serve`, `check-config`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tern::config;

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
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("TERN_LOG").unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Serve { config } => serve(config),
        Command::CheckConfig { config } => check(&config),
    }
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
