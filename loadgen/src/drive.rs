//! The measurement loop shared by `send` and `bench`: redraws the progress line, takes one
//! timeline sample per second, and ends the run at its duration or message count.

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use crate::report::{Progress, Tick};
use crate::send::SendRun;

/// Parses `10`, `10s`, `500ms`, `2m` as a duration.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (digits, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(t.len()));
    let n: f64 = digits.parse().map_err(|_| format!("bad duration {text:?}"))?;
    let secs = match unit {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        _ => return Err(format!("bad duration unit in {text:?}")),
    };
    Ok(Duration::from_secs_f64(secs))
}

/// Runs until the send run is over; `delivered` is asked once per second (it may scrape).
pub fn drive(run: &SendRun, mut delivered: impl FnMut() -> Option<u64>) -> Vec<Tick> {
    let progress = Progress::new();
    let mut ticks = vec![Tick { t_s: 0.0, accepted: 0, delivered: 0, accept_mean_us: 0.0 }];
    let (mut last_accepted, mut last_latency) = (0, 0);
    let mut next_tick = Duration::from_secs(1);
    while !run.done() && !run.expired() {
        std::thread::sleep(Duration::from_millis(50));
        let t = run.started.elapsed();
        if t < next_tick {
            continue;
        }
        next_tick += Duration::from_secs(1);
        let accepted = run.stats.accepted.load(Relaxed);
        let latency = run.stats.latency_sum_us.load(Relaxed);
        let delivered_now = delivered();
        let n = accepted - last_accepted;
        let mean = if n > 0 { (latency - last_latency) as f64 / n as f64 } else { 0.0 };
        let last_t = ticks.last().map_or(0.0, |k| k.t_s);
        let rate = n as f64 / (t.as_secs_f64() - last_t).max(1e-3);
        progress.show(t.as_secs_f64(), accepted, delivered_now, rate);
        ticks.push(Tick {
            t_s: t.as_secs_f64(),
            accepted,
            delivered: delivered_now.unwrap_or(0),
            accept_mean_us: mean,
        });
        (last_accepted, last_latency) = (accepted, latency);
    }
    run.stop();
    progress.done();
    ticks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("10").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert!(parse_duration("x").is_err() && parse_duration("3h").is_err());
    }
}
