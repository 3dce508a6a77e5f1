//! `tern-loadgen`: the bundled load generator for tern — `bench` (self-contained, verified),
//! `tune` (a messages_per_connection sweep), `send` (load at any SMTP server) and `sink`
//! (a receiving server with fault injection). The work is in the library.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tern_loadgen::bench::{self, BenchArgs};
use tern_loadgen::send::cli::SendArgs;
use tern_loadgen::sink::cli::SinkArgs;

#[derive(Parser)]
#[command(name = "tern-loadgen", version, about = "Load generator, sink and tuning advisor for tern")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Self-contained benchmark: starts tern, sinks and a DNS responder, drives load, verifies.
    Bench(BenchArgs),
    /// The bench scenario once per messages_per_connection of 5, 10, 20, 50, 100, unlimited.
    Tune(BenchArgs),
    /// Drive SMTP load at any server.
    Send(SendArgs),
    /// A receiving SMTP server with fault injection.
    Sink(SinkArgs),
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Bench(args) => bench::run(&args),
        Command::Tune(args) => bench::tune(&args),
        Command::Send(args) => tern_loadgen::send::cli::run(&args).map_err(|e| e.to_string()),
        Command::Sink(args) => tern_loadgen::sink::cli::run(&args).map(|()| true).map_err(|e| e.to_string()),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("tern-loadgen: {e}");
            ExitCode::from(2)
        }
    }
}
