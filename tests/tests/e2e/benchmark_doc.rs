//! The README's Performance report is the one `scripts/bench` wrote to
//! docs/benchmark.md, not a copy pasted by hand (or edited since).

use std::path::PathBuf;

const START: &str = "<!-- benchmark: from docs/benchmark.md, written by scripts/bench -->\n";
const END: &str = "<!-- end of benchmark -->";
const HEADER: &str =
    "# Benchmark\n\n<!-- written by scripts/bench; README.md shows the same text -->\n\n";

fn read(path: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

#[test]
fn the_readme_shows_the_benchmark_report() {
    let report = read("docs/benchmark.md");
    let body = report
        .strip_prefix(HEADER)
        .expect("docs/benchmark.md starts with the header scripts/bench writes");
    let readme = read("README.md");
    assert_eq!(
        readme.matches(START).count(),
        1,
        "one start marker in README.md"
    );
    let shown = readme
        .split(START)
        .nth(1)
        .and_then(|rest| rest.split(END).next())
        .expect("an end marker after the start marker");
    assert_eq!(
        shown, body,
        "README.md's benchmark report differs from docs/benchmark.md: run scripts/bench"
    );
}
