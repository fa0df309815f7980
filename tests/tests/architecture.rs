//! ARCHITECTURE.md's rules, checked on the source tree (native, no wrangler):
//! every top-level module is on the code map, the top-level modules of each
//! crate import each other without cycles, and only the auth layer builds
//! storage scopes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The crates whose `src/` is checked, as named in the code map's headings.
const CRATES: [&str; 3] = ["worker", "shared", "durable-objects"];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The top-level modules of a crate: each `.rs` file (other than `lib.rs`
/// and `main.rs`) and each directory directly under `src/`.
fn top_level_modules(src: &Path) -> BTreeSet<String> {
    let mut tops = BTreeSet::new();
    for entry in std::fs::read_dir(src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            tops.insert(name);
        } else if let Some(stem) = name.strip_suffix(".rs") {
            if stem != "lib" && stem != "main" {
                tops.insert(stem.to_owned());
            }
        }
    }
    tops
}

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The text with `//` comments (doc comments included) removed.
fn strip_comments(text: &str) -> String {
    let lines = text.split('\n');
    let code = lines.map(|line| line.find("//").map_or(line, |i| &line[..i]));
    code.collect::<Vec<_>>().join("\n")
}

fn is_ident(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'
}

/// The top-level modules a file's code names: `crate::x` paths and the
/// members of `use crate::{x, y::z}` groups.
fn named_modules(code: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        let name: String = rest.chars().take_while(|c| is_ident(*c)).collect();
        if name.starts_with(|c: char| !c.is_ascii_digit()) {
            names.insert(name);
        }
    }
    for (at, _) in code.match_indices("crate::{") {
        let before = code[..at].trim_end_matches(char::is_whitespace);
        let spaced = before.len() < at;
        let group = &code[at + "crate::{".len()..];
        if let (true, true, Some(end)) = (spaced, before.ends_with("use"), group.find('}')) {
            let parts = group[..end].split(|c: char| c == ',' || c.is_whitespace());
            names.extend(parts.map(|p| p.split("::").next().unwrap().to_owned()));
        }
    }
    names
}

/// Which top-level modules each top-level module imports.
type Graph = BTreeMap<String, BTreeSet<String>>;

fn add_edges(graph: &mut Graph, top: &str, text: &str) {
    let names = named_modules(&strip_comments(text));
    let targets: Vec<String> = names
        .into_iter()
        .filter(|n| n != top && graph.contains_key(n))
        .collect();
    if let Some(edges) = graph.get_mut(top) {
        edges.extend(targets);
    }
}

fn module_graph(src: &Path) -> Graph {
    let mut graph: Graph = top_level_modules(src)
        .into_iter()
        .map(|t| (t, BTreeSet::new()))
        .collect();
    let mut files = Vec::new();
    rust_files(src, &mut files);
    for file in files {
        let first = file.strip_prefix(src).unwrap().components().next().unwrap();
        let first = first.as_os_str().to_string_lossy();
        let top = first.strip_suffix(".rs").unwrap_or(&first);
        add_edges(&mut graph, top, &read(&file));
    }
    graph
}

/// The strongly connected components of more than one module (Tarjan).
fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    #[derive(Default)]
    struct Tarjan<'g> {
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        found: Vec<Vec<String>>,
    }
    fn strong<'g>(t: &mut Tarjan<'g>, graph: &'g Graph, v: &'g str) {
        let i = t.index.len();
        t.index.insert(v, i);
        t.low.insert(v, i);
        t.stack.push(v);
        t.on_stack.insert(v);
        for w in &graph[v] {
            if !t.index.contains_key(w.as_str()) {
                strong(t, graph, w);
                t.low.insert(v, t.low[v].min(t.low[w.as_str()]));
            } else if t.on_stack.contains(w.as_str()) {
                t.low.insert(v, t.low[v].min(t.index[w.as_str()]));
            }
        }
        if t.low[v] == t.index[v] {
            let mut component = Vec::new();
            loop {
                let w = t.stack.pop().unwrap();
                t.on_stack.remove(w);
                component.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                t.found.push(component);
            }
        }
    }
    let mut t = Tarjan::default();
    for v in graph.keys() {
        if !t.index.contains_key(v.as_str()) {
            strong(&mut t, graph, v);
        }
    }
    t.found
}

/// The section of ARCHITECTURE.md's code map for one crate.
fn code_map_section(doc: &str, krate: &str) -> String {
    let map = &doc[doc
        .find("## Code map")
        .expect("ARCHITECTURE.md has a code map")..];
    let heading = format!("### `{krate}/`");
    let start = map.find(&heading).unwrap_or_else(|| panic!("no {heading}"));
    let section = &map[start + heading.len()..];
    let end = section.find("\n#").unwrap_or(section.len());
    section[..end].to_owned()
}

/// Whether `text` names `module` as `module.rs` or `module/` (not as the tail
/// of a longer name or path, e.g. `limiter_client.rs` does not name `client`).
fn names_module(text: &str, module: &str) -> bool {
    text.match_indices(module).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = &text[at + module.len()..];
        let starts = before.is_none_or(|c| !(c.is_alphanumeric() || "_-./".contains(c)));
        let rs = after.strip_prefix(".rs");
        let ends = rs.is_some_and(|r| !r.starts_with(|c: char| c.is_alphanumeric() || c == '_'));
        starts && (ends || after.starts_with('/'))
    })
}

#[test]
fn every_top_level_module_is_on_the_code_map() {
    let doc = read(&repo().join("ARCHITECTURE.md"));
    let mut missing = Vec::new();
    for krate in CRATES {
        let section = code_map_section(&doc, krate);
        let src = repo().join(krate).join("src");
        for module in top_level_modules(&src) {
            if !names_module(&section, &module) {
                let file = src.join(format!("{module}.rs"));
                let entry = if file.exists() { ".rs" } else { "/" };
                missing.push(format!("{krate}/src/{module}{entry}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "not in ARCHITECTURE.md's code map (as `name.rs` or `name/` under the crate's heading): {}",
        missing.join(", ")
    );
}

/// The rule of the handbook's `tools/module_cycles.py`, ported so the
/// repository checks itself.
#[test]
fn top_level_modules_import_each_other_without_cycles() {
    let mut found = Vec::new();
    for krate in CRATES {
        for cycle in cycles(&module_graph(&repo().join(krate).join("src"))) {
            found.push(format!("{krate}/src: cycle: {}", cycle.join(" <-> ")));
        }
    }
    assert!(found.is_empty(), "import cycles:\n{}", found.join("\n"));
}

/// The checker itself finds a cycle (edges from `crate::` paths and `use`
/// groups; comments ignored).
#[test]
fn the_cycle_checker_finds_cycles() {
    let mut graph: Graph = ["a", "b", "c", "d"]
        .into_iter()
        .map(|m| (m.to_owned(), BTreeSet::new()))
        .collect();
    add_edges(&mut graph, "a", "fn f() { crate::b::g() }");
    add_edges(&mut graph, "b", "use crate::{\n    c::X,\n    d,\n};");
    add_edges(&mut graph, "c", "use crate::a; // crate::d");
    add_edges(&mut graph, "d", "/// crate::a\nuse agentgate_shared::x;");
    assert_eq!(cycles(&graph), vec![vec!["a", "b", "c"]]);
    assert!(graph["d"].is_empty());
}

/// `TenantScope::new` / `EntityScope::new` are called only by the auth layer,
/// the scope module itself and the storage conformance suite.
#[test]
fn storage_scopes_are_built_only_by_auth() {
    let src = repo().join("worker/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut outside = Vec::new();
    for file in files {
        let rel = file
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let code = strip_comments(&read(&file));
        let is_scope_module =
            code.contains("struct TenantScope") || code.contains("struct EntityScope");
        let allowed =
            rel.starts_with("auth/") || is_scope_module || rel == "storage/conformance.rs";
        if !allowed && (code.contains("TenantScope::new") || code.contains("EntityScope::new")) {
            outside.push(format!("worker/src/{rel}"));
        }
    }
    assert!(
        outside.is_empty(),
        "storage scopes built outside worker/src/auth/: {}",
        outside.join(", ")
    );
}
