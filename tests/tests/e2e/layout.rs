//! The shape of the code, held by tests: modules point one way (no two import
//! each other, directly or around a loop), no module's code outgrows 300
//! lines, no test file 700, and `shared/src` keeps the ten homes its docs
//! name. These read the source, so they need no service.
//!
//! A module imports another when its code (tests aside) names a path into it:
//! `crate::a::b::Item`, `super::b::Item`, or a group `crate::{a, b::{c}}`. A
//! path to an item a folder's `mod.rs` re-exports (`pub use request::Origin`)
//! counts as a path into the file that defines it. A folder and the files in
//! it are one thing, not an import (`store/users.rs` using `super::Store` is
//! the folder's own code).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The workspace root (this crate lives in `tests/`).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

/// Every crate's source folder whose modules must not import in a loop.
const SOURCE_TREES: &[&str] = &[
    "shared/src",
    "functions/login/src",
    "functions/logout/src",
    "functions/graphql/src",
    "functions/authorizer/src",
    "tools/admin/src",
    "tests/src",
    "tests/tests/e2e",
];

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// `a::b` for `a/b.rs` and `a/b/mod.rs`; `` for `lib.rs`, `main.rs`.
fn module_of(tree: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(tree).expect("a file of the tree");
    let mut parts: Vec<String> = relative
        .with_extension("")
        .iter()
        .map(|part| part.to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts.join("::")
}

/// The code before the file's test module (by convention, at its end), with
/// line comments dropped.
fn code_of(source: &str) -> String {
    let code = match source.find("\n#[cfg(test)]") {
        Some(at) => &source[..at],
        None => source,
    };
    code.lines()
        .map(|line| match line.find("//") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The paths a use-tree starting at `text` names, each as its segments:
/// `a::{b, c::d}` gives `[a, b]` and `[a, c, d]`.
fn expand(text: &str) -> Vec<Vec<String>> {
    fn tree(chars: &[char], at: &mut usize, prefix: &[String], out: &mut Vec<Vec<String>>) {
        let mut path = prefix.to_vec();
        loop {
            while *at < chars.len() && chars[*at].is_whitespace() {
                *at += 1;
            }
            if *at < chars.len() && chars[*at] == '{' {
                *at += 1;
                loop {
                    tree(chars, at, &path, out);
                    while *at < chars.len() && chars[*at].is_whitespace() {
                        *at += 1;
                    }
                    match chars.get(*at) {
                        Some(',') => *at += 1,
                        Some('}') => {
                            *at += 1;
                            return;
                        }
                        _ => return,
                    }
                    while *at < chars.len() && chars[*at].is_whitespace() {
                        *at += 1;
                    }
                    if chars.get(*at) == Some(&'}') {
                        *at += 1;
                        return;
                    }
                }
            }
            let start = *at;
            while *at < chars.len() && (chars[*at].is_alphanumeric() || chars[*at] == '_') {
                *at += 1;
            }
            if start == *at {
                out.push(path);
                return;
            }
            path.push(chars[start..*at].iter().collect());
            if chars.get(*at) == Some(&':') && chars.get(*at + 1) == Some(&':') {
                *at += 2;
            } else {
                out.push(path);
                return;
            }
        }
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    tree(&chars, &mut 0, &[], &mut out);
    out
}

/// Each module's imports of other modules of the tree, ancestors and
/// descendants aside.
fn imports(tree: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let files = rust_files(tree);
    let code: BTreeMap<String, String> = files
        .iter()
        .map(|file| {
            let source = std::fs::read_to_string(file).expect("a readable file");
            (module_of(tree, file), code_of(&source))
        })
        .collect();
    // `pub use child::{Item, ..}` in a folder's own file: (folder, Item) -> child.
    let mut reexports: BTreeMap<(String, String), String> = BTreeMap::new();
    for (module, text) in &code {
        for (at, _) in text.match_indices("pub use ") {
            for path in expand(&text[at + "pub use ".len()..]) {
                let Some(first) = path.first() else { continue };
                let child = join(module, first);
                if code.contains_key(&child) {
                    if let Some(item) = path.last() {
                        reexports.insert((module.clone(), item.clone()), child);
                    }
                }
            }
        }
    }
    let resolve = |segments: &[String]| -> Option<String> {
        let mut module = String::new();
        let mut rest = segments;
        while let Some((first, tail)) = rest.split_first() {
            let next = join(&module, first);
            if code.contains_key(&next) {
                module = next;
            } else if let Some(child) = reexports.get(&(module.clone(), first.clone())) {
                module = child.clone();
            } else {
                break;
            }
            rest = tail;
        }
        Some(module)
    };
    let mut graph = BTreeMap::new();
    for (module, text) in &code {
        let mut targets = BTreeSet::new();
        let parent = module.rsplit_once("::").map_or("", |(parent, _)| parent);
        for (keyword, base) in [("crate::", ""), ("super::", parent)] {
            for (at, _) in text.match_indices(keyword) {
                let preceded = text[..at]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':');
                if preceded {
                    continue;
                }
                for path in expand(&text[at + keyword.len()..]) {
                    let mut segments: Vec<String> = split(base);
                    segments.extend(path);
                    if let Some(target) = resolve(&segments) {
                        let related = target == *module
                            || module.starts_with(&format!("{target}::"))
                            || target.starts_with(&format!("{module}::"))
                            || target.is_empty()
                            || module.is_empty();
                        if !related {
                            targets.insert(target);
                        }
                    }
                }
            }
        }
        graph.insert(module.clone(), targets);
    }
    graph
}

fn join(module: &str, child: &str) -> String {
    if module.is_empty() {
        child.to_owned()
    } else {
        format!("{module}::{child}")
    }
}

fn split(module: &str) -> Vec<String> {
    module
        .split("::")
        .filter(|part| !part.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The groups of modules that import each other around a loop (Tarjan's
/// strongly connected components of more than one module).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Walk<'g> {
        graph: &'g BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        found: Vec<Vec<String>>,
    }
    impl<'g> Walk<'g> {
        fn visit(&mut self, node: &'g str) {
            let n = self.index.len();
            self.index.insert(node, n);
            self.low.insert(node, n);
            self.stack.push(node);
            for next in self.graph.get(node).into_iter().flatten() {
                let next = next.as_str();
                if !self.index.contains_key(next) {
                    self.visit(next);
                    let low = self.low[node].min(self.low[next]);
                    self.low.insert(node, low);
                } else if self.stack.contains(&next) {
                    let low = self.low[node].min(self.index[next]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let mut group = Vec::new();
                while let Some(member) = self.stack.pop() {
                    group.push(member.to_owned());
                    if member == node {
                        break;
                    }
                }
                if group.len() > 1 {
                    group.sort();
                    self.found.push(group);
                }
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for node in graph.keys() {
        if !walk.index.contains_key(node.as_str()) {
            walk.visit(node);
        }
    }
    walk.found
}

#[test]
fn no_two_modules_import_each_other_in_any_crate() {
    for tree in SOURCE_TREES {
        let graph = imports(&root().join(tree));
        assert!(graph.len() > 1 || tree.contains("login") || tree.contains("logout"));
        assert_eq!(cycles(&graph), Vec::<Vec<String>>::new(), "in {tree}");
    }
}

#[test]
fn the_import_check_sees_a_cycle_through_a_group_and_a_reexport() {
    let dir = tempfile_dir("layout-cycle");
    std::fs::create_dir_all(dir.join("http")).unwrap();
    std::fs::write(dir.join("lib.rs"), "pub mod http;\npub mod app;\n").unwrap();
    std::fs::write(
        dir.join("http/mod.rs"),
        "pub mod request;\npub use request::Origin;\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("http/request.rs"),
        "use crate::{ids, app::{App}};\npub struct Origin;\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("app.rs"),
        "use crate::http::Origin; // via the re-export\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("ids.rs"),
        "\n#[cfg(test)]\nmod tests { use crate::app; }\n",
    )
    .unwrap();
    let graph = imports(&dir);
    assert_eq!(graph["app"], BTreeSet::from(["http::request".to_owned()]));
    assert_eq!(
        graph["http::request"],
        BTreeSet::from(["app".to_owned(), "ids".to_owned()])
    );
    // A test module's imports are not the module's.
    assert!(graph["ids"].is_empty());
    assert_eq!(
        cycles(&graph),
        vec![vec!["app".to_owned(), "http::request".to_owned()]]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

fn tempfile_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Lines of code before a file's test module.
fn code_lines(file: &Path) -> usize {
    let source = std::fs::read_to_string(file).expect("a readable file");
    match source.find("\n#[cfg(test)]") {
        Some(at) => source[..at].lines().count(),
        None => source.lines().count(),
    }
}

#[test]
fn no_module_has_more_than_300_lines_of_code_besides_its_tests() {
    let mut over = Vec::new();
    for tree in ["shared/src", "functions", "tools"] {
        for file in rust_files(&root().join(tree)) {
            let lines = code_lines(&file);
            if lines > 300 {
                over.push(format!("{} ({lines})", file.display()));
            }
        }
    }
    assert_eq!(over, Vec::<String>::new());
}

#[test]
fn no_test_file_has_more_than_700_lines() {
    let mut over = Vec::new();
    for file in rust_files(&root().join("tests")) {
        let lines = std::fs::read_to_string(&file)
            .expect("readable")
            .lines()
            .count();
        if lines > 700 {
            over.push(format!("{} ({lines})", file.display()));
        }
    }
    assert_eq!(over, Vec::<String>::new());
}

#[test]
fn the_shared_crate_has_the_ten_homes_its_docs_name() {
    let mut entries: Vec<String> = std::fs::read_dir(root().join("shared/src"))
        .expect("shared/src")
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name != "lib.rs")
        .collect();
    entries.sort();
    assert_eq!(
        entries,
        [
            "accounts",
            "auth",
            "error.rs",
            "http",
            "ids.rs",
            "runtime",
            "sessions",
            "settings",
            "store",
            "validate.rs"
        ]
    );
}
