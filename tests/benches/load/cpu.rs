//! CPU time, from `/proc`: on a machine the load saturates, the CPU each
//! service spends per session is the like-for-like cost.

/// (pid, parent pid, command name, CPU seconds used so far) of every process.
fn processes() -> Vec<(u32, u32, String, f64)> {
    // SAFETY: sysconf only reads a constant of the system.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    let mut all = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid ...`: comm may hold spaces and parentheses.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = stat[open + 1..close].to_owned();
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        let number = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
        if let (Some(ppid), Some(user), Some(system)) = (number(1), number(11), number(12)) {
            all.push((pid, ppid as u32, comm, (user + system) / ticks));
        }
    }
    all
}

/// CPU seconds used so far by the processes `pick` accepts, given as
/// (pid, parent pid, command name), and by their descendants.
pub fn seconds(pick: impl Fn(u32, u32, &str) -> bool) -> f64 {
    let all = processes();
    let mut chosen: Vec<u32> = all
        .iter()
        .filter(|(pid, ppid, comm, _)| pick(*pid, *ppid, comm))
        .map(|(pid, ..)| *pid)
        .collect();
    let mut at = 0;
    while at < chosen.len() {
        let parent = chosen[at];
        for (pid, ppid, ..) in &all {
            if *ppid == parent && !chosen.contains(pid) {
                chosen.push(*pid);
            }
        }
        at += 1;
    }
    all.iter()
        .filter(|(pid, ..)| chosen.contains(pid))
        .map(|(.., cpu)| cpu)
        .sum()
}

/// CPU seconds of this process's children named `comm` (and theirs).
pub fn children_named(comm: &str) -> f64 {
    children_named_any(&[comm])
}

/// CPU seconds of this process's children named any of `comms` (and theirs).
pub fn children_named_any(comms: &[&str]) -> f64 {
    let me = std::process::id();
    seconds(|_, ppid, name| ppid == me && comms.contains(&name))
}

/// CPU seconds of process `pid` and its descendants.
pub fn tree(pid: u32) -> f64 {
    seconds(|p, _, _| p == pid)
}

/// CPU seconds of this process (the front and the Runtime API emulators).
pub fn own() -> f64 {
    let me = std::process::id();
    processes()
        .iter()
        .find(|(pid, ..)| *pid == me)
        .map_or(0.0, |(.., cpu)| *cpu)
}

/// CPU seconds every core of the machine has been busy so far (`/proc/stat`:
/// all but idle and I/O wait), whoever used them.
pub fn machine() -> f64 {
    // SAFETY: sysconf only reads a constant of the system.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(line) = stat.lines().find(|l| l.starts_with("cpu ")) else {
        return 0.0;
    };
    let fields: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest is within user).
    let busy: f64 = fields
        .iter()
        .take(8)
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4)
        .map(|(_, v)| v)
        .sum();
    busy / ticks
}

/// Seconds since the machine booted (`/proc/uptime`), the clock the CPU
/// times are kept on.
pub fn uptime() -> f64 {
    std::fs::read_to_string("/proc/uptime")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}
