//! The load run as Markdown: the settings, one row of figures per service,
//! the errors, the audit, and the waits for a free container.

use crate::audit::Audit;
use crate::locust::{Run, Settings};
use std::fmt::Write as _;
use std::time::Duration;

/// The routes in a session's order, as the locustfile names them.
const ROUTES: [&str; 4] = ["login", "me", "refresh", "logout"];

pub struct Outcome {
    pub service: String,
    pub hash: &'static str,
    pub run: Run,
    pub audit: Audit,
    /// Ours: per function, the waits for a free container, and how many
    /// containers had to be replaced.
    pub waits: Vec<(&'static str, Vec<Duration>, usize)>,
    /// CPU seconds used during the load.
    pub cpu: Cpu,
}

/// CPU seconds: the service's processes (our containers, or gunicorn's master
/// and workers), the database server, and this process (the front and the
/// Runtime API emulators: what API Gateway and Lambda do for ours).
/// `machine` is every core's busy time, whoever used it.
#[derive(Debug, Default, Clone)]
pub struct Cpu {
    pub service: f64,
    pub database: f64,
    pub front: f64,
    pub machine: f64,
    /// Seconds since a fixed start: over an interval, its wall time.
    pub wall: f64,
}

impl Cpu {
    pub fn now(service: impl Fn() -> f64) -> Cpu {
        Cpu {
            service: service(),
            database: crate::cpu::children_named("secantusd-py"),
            front: crate::cpu::own(),
            machine: crate::cpu::machine(),
            wall: crate::cpu::uptime(),
        }
    }

    pub fn since(&self, before: &Cpu) -> Cpu {
        Cpu {
            service: self.service - before.service,
            database: self.database - before.database,
            front: self.front - before.front,
            machine: self.machine - before.machine,
            wall: self.wall - before.wall,
        }
    }
}

pub struct Context<'a> {
    pub machine: String,
    pub date: String,
    pub containers: usize,
    pub workers: usize,
    pub accounts: usize,
    pub settings: &'a Settings,
}

fn pair(route: &crate::locust::Route) -> String {
    format!("{:.1} / {:.1}", route.quantile(0.5), route.quantile(0.95))
}

fn quantile_ms(samples: &[Duration], q: f64) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted
        .get(((sorted.len().max(1) - 1) as f64 * q).round() as usize)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

pub fn markdown(context: &Context, outcomes: &[Outcome]) -> String {
    let s = context.settings;
    let mut out = String::from("## Whole sessions under load (`scripts/load`)\n\n");
    let _ = writeln!(
        out,
        "{}, {}. Each service in turn: {} locust users (closed loop, no pause; spawned at {}/s) \
         for {} s, then every user finishes the session it is in. A session: login, `me`, `me`, \
         refresh, `me`, refresh, `me`, logout (8 requests; refresh is GraphQL `refresh_token`, \
         sent with the current access token). Ours: {} containers of each function (login, \
         logout, graphql; {} processes), each serving one event at a time behind an API Gateway \
         stand-in that queues a request while its route's containers are all busy. The package: \
         gunicorn, {} sync workers (one request at a time each). One SecantusDB server, a fresh \
         database per service, {} users seeded per service, all with one password hash \
         (column \"hash\": what login verifies).\n",
        context.machine,
        context.date,
        s.users,
        s.spawn_rate,
        s.seconds,
        context.containers,
        context.containers * 3,
        context.workers,
        context.accounts,
    );
    out.push_str(
        "| service | hash | sessions/s | login p50 / p95 | `me` p50 / p95 | refresh p50 / p95 \
         | logout p50 / p95 | requests | errors |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for o in outcomes {
        let requests: usize = o.run.routes.values().map(|r| r.times.len()).sum();
        let errors: usize = o.run.routes.values().map(|r| r.failures()).sum();
        let _ = writeln!(
            out,
            "| {} | {} | {:.2} | {} | {} | {} | {} | {requests} | {errors} |",
            o.service,
            o.hash,
            o.run.sessions_per_second(s.seconds),
            pair(o.run.route("login")),
            pair(o.run.route("me")),
            pair(o.run.route("refresh")),
            pair(o.run.route("logout")),
        );
    }
    out.push_str(
        "\nTimes in ms, as locust measured them (request sent to answer read, queueing \
         included). Sessions/s counts the sessions logged out within the fixed time.\n\n",
    );
    out.push_str(&cpu_table(outcomes));
    out.push_str(&errors(outcomes));
    out.push_str(&audit_table(outcomes));
    out.push_str(&waits(outcomes));
    out
}

fn cpu_table(outcomes: &[Outcome]) -> String {
    let mut out = String::from(
        "| service | CPU per session: service | database | front and emulators | locust \
         | machine busy | of it, other processes |\n|---|---|---|---|---|---|---|\n",
    );
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    for o in outcomes {
        let sessions = o.run.sessions.iter().filter(|s| s.ended).count().max(1) as f64;
        let per = |seconds: f64| format!("{:.0} ms", seconds * 1000.0 / sessions);
        let c = &o.cpu;
        let share = |seconds: f64| seconds / c.machine.max(f64::EPSILON) * 100.0;
        let ours = c.service + c.database + c.front + o.run.cpu;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {:.0} % | {:.0} % |",
            o.service,
            per(c.service),
            per(c.database),
            per(c.front),
            per(o.run.cpu),
            c.machine / c.wall.max(f64::EPSILON) / cores * 100.0,
            share((c.machine - ours).max(0.0)),
        );
    }
    out.push_str(
        "\nCPU time from `/proc` over the run, per session logged out. \"Machine busy\": every \
         core's busy time over the run's wall time; \"other processes\": the part of it none \
         of the run's processes used (other work on the machine; near 0 for a clean run).\n\n",
    );
    out
}

fn errors(outcomes: &[Outcome]) -> String {
    let mut out = String::from("Errors (non-2xx or GraphQL `errors`) by route and status: ");
    let mut lines = Vec::new();
    for o in outcomes {
        let mut parts = Vec::new();
        for route in ROUTES {
            for (status, count) in &o.run.route(route).errors {
                parts.push(format!("{route} {status}: {count}"));
            }
        }
        let listed = if parts.is_empty() {
            "none".to_owned()
        } else {
            parts.join(", ")
        };
        lines.push(format!("{}: {listed}", o.service));
    }
    out.push_str(&lines.join("; "));
    out.push_str(".\n\n");
    out
}

/// A row of the audit table: its label and how to read its value.
type AuditRow = (&'static str, fn(&Audit) -> String);

fn audit_table(outcomes: &[Outcome]) -> String {
    let mut out = String::from("Database audit after each run:\n\n| |");
    for o in outcomes {
        let _ = write!(out, " {} |", o.service);
    }
    out.push_str(&format!("\n|---|{}\n", "---|".repeat(outcomes.len())));
    let rows: [AuditRow; 10] = [
        ("sessions logged out / still open", |a| {
            format!("{} / {}", a.ended, a.open)
        }),
        ("whitelist entries / side documents at the end", |a| {
            format!("{} / {}", a.whitelist, a.side_documents)
        }),
        ("whitelist entries left by logged-out sessions", |a| {
            a.left_entries.to_string()
        }),
        ("… of them a pair a refresh had replaced", |a| {
            a.left_replaced.to_string()
        }),
        ("side documents left by logged-out sessions", |a| {
            a.left_side.to_string()
        }),
        ("refreshes answered 200", |a| a.refreshes.to_string()),
        (
            "… whose new tokens were refused next (lost rotation)",
            |a| a.lost_client.to_string(),
        ),
        ("open sessions whose last pair is not the stored one", |a| {
            a.lost_stored.to_string()
        }),
        ("entries or side documents of no session seen", |a| {
            a.unknown.to_string()
        }),
        (
            "side documents without entry, or entries without one",
            |a| a.orphans.map_or("n/a".to_owned(), |n| n.to_string()),
        ),
    ];
    for (label, value) in rows {
        let _ = write!(out, "| {label} |");
        for o in outcomes {
            let _ = write!(out, " {} |", value(&o.audit));
        }
        out.push('\n');
    }
    out.push_str("| verdict |");
    for o in outcomes {
        out.push_str(if o.audit.clean() {
            " clean |"
        } else {
            " **not clean** |"
        });
    }
    out.push_str(AUDIT_NOTE);
    out
}

const AUDIT_NOTE: &str = "\n\nThe users know each session's token ids (the JWTs' `uuid` \
claims) and whether its logout answered 200; the audit matches every `whitelist_token` \
entry and `session_meta` side document against them. A lost rotation is a refresh \
answered 200 whose new access token the next `me` refused, or whose new refresh token \
the next refresh refused. The package's refresh saves a new whitelist entry and leaves \
the old one (its `RefreshToken` use case; `side_by_side::a_refresh_at_the_package_\
leaves_the_old_pair_alive…` shows it), so each of its refreshes leaves an entry behind \
that its logout, which deletes the current entry only, doesn't remove: that pair's \
access token still passes its guard until it expires (60 minutes) and its refresh token \
still refreshes. Ours rotates the ids in place and logout deletes the entry and its side \
document together.\n\n";

fn waits(outcomes: &[Outcome]) -> String {
    let mut out = String::new();
    for o in outcomes.iter().filter(|o| !o.waits.is_empty()) {
        let parts: Vec<String> = o
            .waits
            .iter()
            .map(|(function, samples, replaced)| {
                format!(
                    "{function} {:.1} / {:.1} ms{}",
                    quantile_ms(samples, 0.5),
                    quantile_ms(samples, 0.95),
                    if *replaced > 0 {
                        format!(" ({replaced} containers replaced)")
                    } else {
                        String::new()
                    }
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "{}: wait for a free container, p50 / p95: {}.\n",
            o.service,
            parts.join(", ")
        );
    }
    out
}
