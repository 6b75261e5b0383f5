//! The core's modules form no cycle: no two of them import each other,
//! directly or through others. Read from the sources (test modules, which
//! may use anything, are left out).

use std::collections::{BTreeMap, BTreeSet};

/// The modules `crate::…` paths in `code` name.
fn modules_named(code: &str, known: &BTreeSet<String>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `crate::{a, b::c, d}`: the first segment of each entry.
            let end = group.find('}').unwrap_or(group.len());
            for entry in group[..end].split(',') {
                let name: String = entry
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if known.contains(&name) {
                    found.insert(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if known.contains(&name) {
                found.insert(name);
            }
        }
    }
    found
}

fn without_tests(code: &str) -> &str {
    code.find("#[cfg(test)]\nmod ")
        .map_or(code, |at| &code[..at])
}

#[test]
fn no_two_core_modules_import_each_other() {
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
    let files: Vec<_> = std::fs::read_dir(src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    let known: BTreeSet<String> = files
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .filter(|m| m != "lib")
        .collect();
    assert!(known.len() > 10, "found the core's modules: {known:?}");
    let mut deps = BTreeMap::new();
    for path in &files {
        let module = path.file_stem().unwrap().to_string_lossy().into_owned();
        if module == "lib" {
            continue;
        }
        let code = std::fs::read_to_string(path).unwrap();
        let mut named = modules_named(without_tests(&code), &known);
        named.remove(&module);
        deps.insert(module, named);
    }
    // Depth-first search for a cycle, reporting the first one found.
    fn visit(
        m: &str,
        deps: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if let Some(at) = path.iter().position(|p| p == m) {
            panic!("import cycle: {} -> {m}", path[at..].join(" -> "));
        }
        if done.contains(m) {
            return;
        }
        path.push(m.to_string());
        for d in &deps[m] {
            visit(d, deps, path, done);
        }
        path.pop();
        done.insert(m.to_string());
    }
    let mut done = BTreeSet::new();
    for m in deps.keys() {
        visit(m, &deps, &mut Vec::new(), &mut done);
    }
    assert!(deps["lock"].contains("registry"), "the scan sees imports");
}
