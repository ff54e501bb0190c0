//! The bench's one report: the Markdown body that `scripts/bench` puts into
//! docs/benchmark.md and, unchanged, into the README, and the chart.

use crate::sides::{Guard, Side, ROUTES};
use std::fmt::Write as _;
use std::time::Duration;

pub struct Report {
    pub machine: String,
    pub date: String,
    pub commit: String,
    /// Ours in bcrypt mode, the package, ours by default: in that order.
    pub sides: Vec<Side>,
    pub guard: Guard,
    /// Login start-up with settings from the environment, from Secrets Manager.
    pub secrets: (Duration, Duration),
    /// Each package's zip size per architecture, as `scripts/package` left them.
    pub packages: Vec<(&'static str, Vec<(String, u64)>)>,
}

/// The zips `scripts/package` built under `target`: per architecture, each
/// function's `bootstrap.zip` size in bytes (an architecture not built is left out).
pub fn package_sizes(target: &std::path::Path) -> Vec<(&'static str, Vec<(String, u64)>)> {
    let mut out = Vec::new();
    for (arch, dir) in [("x86_64", "lambda"), ("arm64", "lambda-arm64")] {
        let Ok(entries) = std::fs::read_dir(target.join(dir)) else {
            continue;
        };
        let mut sizes: Vec<(String, u64)> = entries
            .flatten()
            .filter_map(|entry| {
                let size = std::fs::metadata(entry.path().join("bootstrap.zip"))
                    .ok()?
                    .len();
                Some((entry.file_name().to_string_lossy().into_owned(), size))
            })
            .collect();
        sizes.sort();
        if !sizes.is_empty() {
            out.push((arch, sizes));
        }
    }
    out
}

/// 4390721 as "4,390,721".
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

impl Report {
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        out.push_str("### One request at a time (`scripts/bench`)\n\n");
        let _ = writeln!(
            out,
            "Measured by `scripts/bench` on {} at commit {}: {}. Warm requests, 40 per \
             route and service, one after another; start-up is process start to the \
             first poll for an event (median of 10 per function).\n",
            self.date, self.commit, self.machine
        );
        out.push_str(
            "| route | service | user's hash | p50 | p95 | start-up | peak RSS | DB commands |\n\
             |---|---|---|---|---|---|---|---|\n",
        );
        for (i, route) in ROUTES.iter().enumerate() {
            for side in &self.sides {
                let r = &side.routes[i];
                let _ = writeln!(
                    out,
                    "| {route} | {} | {} | {:.1} ms | {:.1} ms | {:.1} ms | {:.0} MiB | {} |",
                    side.name,
                    side.hash_name,
                    ms(r.quantile(0.5)),
                    ms(r.quantile(0.95)),
                    ms(side.startup),
                    side.peak_mib[i],
                    r.commands
                );
            }
        }
        let g = &self.guard;
        let _ = writeln!(
            out,
            "| authorizer (TOKEN event) | Rust functions | (none checked) | {:.1} ms | {:.1} ms | {:.1} ms | {:.0} MiB | {} |\n",
            ms(g.route.quantile(0.5)),
            ms(g.route.quantile(0.95)),
            ms(g.startup),
            g.peak_mib,
            g.route.commands
        );
        out.push_str(
            "Login apart from its hash, in the same run: the median time of the warm \
             logins' password checks, as each service timed its own in the process that \
             served them (ours: its debug line `password check timed`, the hop to the \
             blocking pool included; the package: its `bcrypt.checkpw` call, wrapped by \
             the bench's host app), against the login's p50.\n\n\
             | service | user's hash | password check | login p50 | login outside the check |\n\
             |---|---|---|---|---|\n",
        );
        for side in &self.sides {
            let login = side.routes[0].quantile(0.5);
            let _ = writeln!(
                out,
                "| {} | {} | {:.1} ms | {:.1} ms | {:.1} ms |",
                side.name,
                side.hash_name,
                ms(side.verify),
                ms(login),
                ms(login) - ms(side.verify)
            );
        }
        let _ = writeln!(
            out,
            "\nLogin start-up with the settings read from Secrets Manager (moto on \
             loopback): {:.1} ms, against {:.1} ms from the environment (median of 20 each).",
            ms(self.secrets.1),
            ms(self.secrets.0)
        );
        if !self.packages.is_empty() {
            out.push_str("\nPackages (zip, bytes; `scripts/package` fails any over 6 MiB):\n\n");
            let names: Vec<&str> = self.packages[0].1.iter().map(|(n, _)| n.as_str()).collect();
            let _ = writeln!(out, "| architecture | {} |", names.join(" | "));
            let _ = writeln!(out, "|---|{}", "---|".repeat(names.len()));
            for (arch, sizes) in &self.packages {
                let cells: Vec<String> = sizes.iter().map(|(_, size)| thousands(*size)).collect();
                let _ = writeln!(out, "| {arch} | {} |", cells.join(" | "));
            }
        }
        out
    }

    /// Horizontal bars of p50 per route, each route on its own scale (login is
    /// two orders of magnitude slower than the rest).
    pub fn svg(&self) -> String {
        let (width, bar_max, left) = (760.0, 400.0, 150.0);
        let colours = ["#d9541e", "#3572a5", "#f0a07a"];
        let mut body = String::new();
        let mut y = 60.0;
        for (i, route) in ROUTES.iter().enumerate() {
            let p50 = |side: &Side| ms(side.routes[i].quantile(0.5));
            let top = self.sides.iter().map(p50).fold(0.0, f64::max);
            let _ = writeln!(
                body,
                r#"<text x="10" y="{}" font-weight="bold">{}</text>"#,
                y + 18.0,
                route.replace('`', "")
            );
            for (s, side) in self.sides.iter().enumerate() {
                let value = p50(side);
                let length = (value / top * bar_max).max(1.0);
                let bar_y = y + s as f64 * 24.0;
                let _ = writeln!(
                    body,
                    r#"<rect x="{left}" y="{bar_y}" width="{length:.1}" height="18" fill="{}"/><text x="{:.1}" y="{:.1}">{value:.1} ms</text>"#,
                    colours[s % colours.len()],
                    left + length + 6.0,
                    bar_y + 14.0
                );
            }
            y += 24.0 * self.sides.len() as f64 + 20.0;
        }
        for (s, side) in self.sides.iter().enumerate() {
            let _ = writeln!(
                body,
                r#"<rect x="10" y="{:.1}" width="14" height="14" fill="{}"/><text x="30" y="{:.1}">{} ({} user)</text>"#,
                y + s as f64 * 20.0,
                colours[s % colours.len()],
                y + s as f64 * 20.0 + 12.0,
                side.name,
                side.hash_name
            );
        }
        let height = y + self.sides.len() as f64 * 20.0 + 10.0;
        format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height:.0}" font-family="sans-serif" font-size="13">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="24" font-size="15" font-weight="bold">Warm request, median (p50): Rust functions vs flask-auth-service-mongo 0.1.8</text>
<text x="10" y="42" fill="#555">{}, {}; each route on its own scale</text>
{body}</svg>
"##,
            self.machine, self.date
        )
    }
}

pub fn machine() -> String {
    format!(
        "{}, database and services on loopback",
        e2e::machine::cores_and_cpu()
    )
}
