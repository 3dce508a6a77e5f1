//! `tern-loadgen`: the bundled load generator for tern. This first version only names the
//! subcommands that arrive with the load-generator issue (`bench`, `send`, `sink`).

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "tern-loadgen", version, about = "Load generator, sink and tuning advisor for tern")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Self-contained benchmark: starts tern, sinks and a DNS responder, drives load.
    Bench,
    /// Drive SMTP load at any server.
    Send,
    /// A receiving SMTP server with fault injection.
    Sink,
}

fn main() -> ExitCode {
    let name = match Cli::parse().command {
        Command::Bench => "bench",
        Command::Send => "send",
        Command::Sink => "sink",
    };
    eprintln!(
        "tern-loadgen {name}: not built yet; until then benchmark with Postfix's smtp-source (see docs/BENCHMARKS.md)"
    );
    ExitCode::from(2)
}
