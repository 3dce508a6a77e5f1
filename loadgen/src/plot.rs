//! `--plot FILE.svg` (pure): throughput (accepted and delivered per second) and mean accept
//! latency over time, as hand-written SVG polylines.

use std::fmt::Write;

use crate::report::Tick;

const W: f64 = 800.0;
const H: f64 = 220.0;
const PAD: f64 = 50.0;

/// Per-second rates from cumulative ticks: (t, accepted/s, delivered/s, mean accept ms).
fn rates(ticks: &[Tick]) -> Vec<(f64, f64, f64, f64)> {
    ticks
        .windows(2)
        .filter(|w| w[1].t_s > w[0].t_s)
        .map(|w| {
            let dt = w[1].t_s - w[0].t_s;
            let per = |a: u64, b: u64| b.saturating_sub(a) as f64 / dt;
            (
                w[1].t_s,
                per(w[0].accepted, w[1].accepted),
                per(w[0].delivered, w[1].delivered),
                w[1].accept_mean_us / 1000.0,
            )
        })
        .collect()
}

fn polyline(out: &mut String, points: &[(f64, f64)], top: f64, x_max: f64, y_max: f64, color: &str) {
    let coords: Vec<String> = points
        .iter()
        .map(|&(x, y)| format!("{:.1},{:.1}", PAD + x / x_max * (W - 2.0 * PAD), top + H - y / y_max * H))
        .collect();
    let _ =
        writeln!(out, r#"<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{}"/>"#, coords.join(" "));
}

fn panel(out: &mut String, top: f64, title: &str, y_max: f64) {
    let _ = writeln!(
        out,
        r##"<rect x="{PAD}" y="{top}" width="{}" height="{H}" fill="none" stroke="#999"/>"##,
        W - 2.0 * PAD
    );
    let _ = writeln!(out, r#"<text x="{PAD}" y="{}" font-size="13">{title} (max {y_max:.1})</text>"#, top - 6.0);
}

/// The SVG document for a run's timeline.
pub fn svg(ticks: &[Tick]) -> String {
    let r = rates(ticks);
    let x_max = r.last().map_or(1.0, |p| p.0).max(1e-9);
    let rate_max = r.iter().map(|p| p.1.max(p.2)).fold(1.0, f64::max);
    let lat_max = r.iter().map(|p| p.3).fold(0.001, f64::max);
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{}" font-family="sans-serif">"#,
        2.0 * H + 120.0
    );
    panel(&mut out, 30.0, "messages/s: accepted (blue), delivered (green)", rate_max);
    polyline(&mut out, &r.iter().map(|p| (p.0, p.1)).collect::<Vec<_>>(), 30.0, x_max, rate_max, "#1f77b4");
    polyline(&mut out, &r.iter().map(|p| (p.0, p.2)).collect::<Vec<_>>(), 30.0, x_max, rate_max, "#2ca02c");
    let top = H + 80.0;
    panel(&mut out, top, "mean accept latency, ms", lat_max);
    polyline(&mut out, &r.iter().map(|p| (p.0, p.3)).collect::<Vec<_>>(), top, x_max, lat_max, "#d62728");
    let _ = writeln!(out, r#"<text x="{}" y="{}" font-size="12">{x_max:.0} s</text>"#, W - PAD - 20.0, top + H + 18.0);
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_come_from_cumulative_ticks() {
        let t = |t_s, accepted, delivered| Tick { t_s, accepted, delivered, accept_mean_us: 500.0 };
        let r = rates(&[t(0.0, 0, 0), t(1.0, 100, 50), t(2.0, 300, 250)]);
        assert_eq!(r, [(1.0, 100.0, 50.0, 0.5), (2.0, 200.0, 200.0, 0.5)]);
        let doc = svg(&[t(0.0, 0, 0), t(1.0, 100, 50)]);
        assert!(doc.starts_with("<svg") && doc.matches("<polyline").count() == 3, "{doc}");
    }
}
