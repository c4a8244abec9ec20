//! The documentation stays true to the code:
//!
//! - every snippet in `docs/*.md` and `README.md` marked `<!-- snippet: PATH -->` or
//!   `<!-- snippet: PATH#ANCHOR -->` matches its source (the whole file, or the lines between
//!   `ANCHOR: name` and `ANCHOR_END: name` comments, anchor lines left out and dedented);
//!   `LP_UPDATE_DOCS=1` rewrites the snippets from their sources instead;
//! - every excerpt marked `<!-- excerpt: PATH -->` appears in its source, line for line
//!   (dedented): a file that cannot hold anchors, such as a snapshot of generated code;
//! - every code block of the guide, shell commands aside, is such a snippet, and its commands
//!   name real packages and files;
//! - the language reference lists every diagnostic code, and the launch page every launcher flag
//!   and value the program binaries accept;
//! - relative links in the docs point at files that exist.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use lp_tests::support::{run, workspace};

/// A fenced code block of a Markdown file.
#[derive(Debug)]
struct Block {
    /// Its info string (`rust`, `sh`, or empty).
    lang: String,
    /// The 1-based line of its opening fence.
    line: usize,
    /// The lines between the fences, joined with `\n` (no trailing newline).
    content: String,
    /// Byte range of `content` in the file (empty at the line after the fence when empty).
    range: std::ops::Range<usize>,
    /// `PATH` or `PATH#ANCHOR` from a `<!-- snippet: … -->` line right before the fence.
    snippet: Option<String>,
    /// `PATH` from an `<!-- excerpt: … -->` line right before the fence.
    excerpt: Option<String>,
}

fn blocks(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut offset = 0;
    let mut previous: Option<&str> = None;
    let mut open: Option<(String, usize, usize, Option<&str>)> = None;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let bare = line.trim_end_matches('\n');
        match &open {
            None if bare.starts_with("```") => {
                let lang = bare.trim_start_matches('`').trim().to_string();
                open = Some((lang, i + 1, offset + line.len(), previous));
            }
            Some((lang, start_line, start, marker)) if bare == "```" => {
                let range = *start..offset.max(*start);
                let marked = |kind: &str| {
                    marker
                        .and_then(|p| p.trim().strip_prefix(kind))
                        .and_then(|p| p.strip_suffix("-->"))
                        .map(|p| p.trim().to_string())
                };
                blocks.push(Block {
                    lang: lang.clone(),
                    line: *start_line,
                    content: text[range.clone()].trim_end_matches('\n').to_string(),
                    range,
                    snippet: marked("<!-- snippet:"),
                    excerpt: marked("<!-- excerpt:"),
                });
                open = None;
            }
            _ => {}
        }
        previous = Some(bare);
        offset += line.len();
    }
    blocks
}

/// Whether a line is an `ANCHOR:`/`ANCHOR_END:` comment (`//` or `#`), and for which name.
fn anchor(line: &str) -> Option<(bool, &str)> {
    let comment = line.trim();
    let comment = comment
        .strip_prefix("//")
        .or_else(|| comment.strip_prefix('#'))?
        .trim();
    if let Some(name) = comment.strip_prefix("ANCHOR_END:") {
        return Some((false, name.trim()));
    }
    comment
        .strip_prefix("ANCHOR:")
        .map(|name| (true, name.trim()))
}

/// The text a snippet `PATH[#ANCHOR]` stands for, or why there is none.
fn region(spec: &str) -> Result<String, String> {
    let (path, name) = match spec.split_once('#') {
        Some((path, name)) => (path, Some(name)),
        None => (spec, None),
    };
    let source = std::fs::read_to_string(workspace().join(path))
        .map_err(|e| format!("cannot read `{path}`: {e}"))?;
    let lines: Vec<&str> = source.lines().collect();
    let (from, to) = match name {
        None => (0, lines.len()),
        Some(name) => {
            let find = |start: bool| {
                lines
                    .iter()
                    .position(|l| anchor(l) == Some((start, name)))
                    .ok_or_else(|| {
                        let which = if start { "ANCHOR" } else { "ANCHOR_END" };
                        format!("`{path}` has no `{which}: {name}` comment")
                    })
            };
            (find(true)? + 1, find(false)?)
        }
    };
    let kept: Vec<&str> = lines
        .get(from..to)
        .ok_or_else(|| format!("`{path}`: `ANCHOR_END` before `ANCHOR` for `{spec}`"))?
        .iter()
        .copied()
        .filter(|l| anchor(l).is_none())
        .collect();
    Ok(dedent(&kept).join("\n").trim_matches('\n').to_string())
}

/// Lines without their common indentation.
fn dedent<'a>(lines: &[&'a str]) -> Vec<&'a str> {
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    lines
        .iter()
        .map(|l| l.get(indent..).unwrap_or(""))
        .collect()
}

/// Whether the lines of `excerpt` appear in `source`, one after another (each side dedented).
fn contains_excerpt(source: &str, excerpt: &str) -> bool {
    let source: Vec<&str> = source.lines().collect();
    let wanted: Vec<&str> = excerpt.lines().collect();
    let wanted = dedent(&wanted);
    !wanted.is_empty()
        && source
            .windows(wanted.len())
            .any(|window| dedent(window) == wanted)
}

/// The Markdown files whose snippets are checked.
fn documents() -> Vec<PathBuf> {
    let mut docs: Vec<PathBuf> = std::fs::read_dir(workspace().join("docs"))
        .expect("docs/ is readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.push(workspace().join("README.md"));
    docs.sort();
    docs
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn doc(name: &str) -> String {
    read(&workspace().join("docs").join(name))
}

#[test]
fn snippets_match_their_sources() {
    let update = std::env::var("LP_UPDATE_DOCS").as_deref() == Ok("1");
    let mut problems = Vec::new();
    let mut count = 0;
    for path in documents() {
        let text = read(&path);
        let mut updated = text.clone();
        // Back to front, so earlier ranges stay valid while rewriting.
        for block in blocks(&text).iter().rev() {
            let shown = path.strip_prefix(workspace()).unwrap_or(&path);
            let at = format!("{}:{}", shown.display(), block.line);
            if let Some(source) = &block.excerpt {
                count += 1;
                match std::fs::read_to_string(workspace().join(source)) {
                    Ok(text) if contains_excerpt(&text, &block.content) => {}
                    Ok(_) => problems.push(format!(
                        "{at}: this excerpt is not in `{source}` (copy it from there):\n{}",
                        block.content
                    )),
                    Err(e) => problems.push(format!("{at}: cannot read `{source}`: {e}")),
                }
                continue;
            }
            let Some(spec) = &block.snippet else { continue };
            count += 1;
            match region(spec) {
                Err(e) => problems.push(format!("{at}: {e}")),
                Ok(expected) if expected == block.content => {}
                Ok(expected) if update => {
                    let mut content = expected;
                    content.push('\n');
                    updated.replace_range(block.range.clone(), &content);
                }
                Ok(expected) => problems.push(format!(
                    "{at}: the snippet of `{spec}` differs from its source \
                     (LP_UPDATE_DOCS=1 rewrites it)\n--- in the doc\n{}\n--- in the source\n{expected}",
                    block.content
                )),
            }
        }
        if update && updated != text {
            std::fs::write(&path, updated).expect("the doc is writable");
        }
    }
    assert!(count >= 15, "expected the guide's snippets, found {count}");
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// The snippet reader itself: anchors found, anchor lines left out, dedented.
#[test]
fn regions_are_dedented_and_leave_anchor_lines_out() {
    let part = region("examples/mapreduce/src/mapper.rs#map").expect("the anchor exists");
    assert!(part.starts_with("/// Maps files"), "{part}");
    assert!(part.ends_with('}') && !part.contains("ANCHOR"), "{part}");
    let whole = region("examples/mapreduce/src/mapper.rs").expect("the file exists");
    assert!(whole.contains("pub struct Mapper") && !whole.contains("ANCHOR"));
    let missing = region("examples/mapreduce/src/mapper.rs#nothing").expect_err("no such anchor");
    assert!(missing.contains("no `ANCHOR: nothing`"), "{missing}");
}

#[test]
fn every_guide_code_block_is_a_snippet() {
    let guide = doc("guide.md");
    let unmarked: Vec<String> = blocks(&guide)
        .iter()
        .filter(|b| b.snippet.is_none() && b.excerpt.is_none() && b.lang != "sh")
        .map(|b| {
            format!(
                "docs/guide.md:{}: a `{}` block that is not a snippet",
                b.line, b.lang
            )
        })
        .collect();
    assert!(unmarked.is_empty(), "{}", unmarked.join("\n"));
}

/// The package names of the workspace's members.
fn packages() -> BTreeSet<String> {
    let manifest = read(&workspace().join("Cargo.toml"));
    let members = manifest
        .split_once("members = [")
        .and_then(|(_, rest)| rest.split_once(']'))
        .map(|(members, _)| members)
        .expect("the workspace lists its members");
    members
        .split(',')
        .map(|m| m.trim().trim_matches('"'))
        .filter(|m| !m.is_empty())
        .map(|member| {
            let manifest = read(&workspace().join(member).join("Cargo.toml"));
            manifest
                .lines()
                .find_map(|l| l.strip_prefix("name = \""))
                .and_then(|l| l.strip_suffix('"'))
                .unwrap_or_else(|| panic!("`{member}/Cargo.toml` has no package name"))
                .to_string()
        })
        .collect()
}

#[test]
fn shell_commands_name_real_packages_and_files() {
    let packages = packages();
    let mut problems = Vec::new();
    for name in ["guide.md", "launch.md"] {
        for block in blocks(&doc(name)).iter().filter(|b| b.lang == "sh") {
            let words: Vec<&str> = block
                .content
                .lines()
                .filter(|l| !l.trim_start().starts_with('#'))
                .flat_map(str::split_whitespace)
                .collect();
            for pair in words.windows(2) {
                if pair[0] == "-p" && !packages.contains(pair[1]) {
                    let at = format!("docs/{name}:{}", block.line);
                    problems.push(format!("{at}: no package `{}`", pair[1]));
                }
            }
            for word in words.iter().filter(|w| w.ends_with(".lp")) {
                if !workspace().join(word).is_file() {
                    problems.push(format!("docs/{name}:{}: no file `{word}`", block.line));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_language_reference_lists_every_diagnostic_code() {
    let language = doc("language.md");
    let listed: BTreeSet<&str> = language
        .lines()
        .filter_map(|l| l.strip_prefix("| "))
        .filter_map(|l| l.split_once(" |").map(|(code, _)| code))
        .filter(|code| {
            code.len() == 5
                && (code.starts_with('E') || code.starts_with('W'))
                && code[1..].chars().all(|c| c.is_ascii_digit())
        })
        .collect();
    let codes: BTreeSet<&str> = lpc_build::diag::Code::ALL
        .iter()
        .map(|c| c.as_str())
        .collect();
    let missing: Vec<&&str> = codes.difference(&listed).collect();
    assert!(
        missing.is_empty(),
        "docs/language.md does not list {missing:?}"
    );
    for extra in listed.difference(&codes) {
        let row = language
            .lines()
            .find(|l| l.starts_with(&format!("| {extra} |")))
            .unwrap_or_default();
        assert!(
            row.contains("retired"),
            "docs/language.md lists `{extra}`, which is not in the catalogue and not marked retired"
        );
    }
}

#[test]
fn the_launch_page_lists_every_launcher_flag_and_value() {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kinds"));
    command.arg("--help");
    let out = run(command, Duration::from_secs(60));
    assert_eq!(out.status, Some(0), "{out:#?}");
    let help = out.stdout.replace('\n', " ");
    let launch = doc("launch.md");
    let mut expected: BTreeSet<String> = help
        .split_whitespace()
        .filter(|w| w.starts_with("--lp_"))
        .map(|w| {
            w.trim_end_matches(|c: char| !c.is_alphanumeric() && c != '_')
                .to_string()
        })
        .collect();
    for values in help.split("[possible values: ").skip(1) {
        let values = values.split(']').next().unwrap_or_default();
        expected.extend(values.split(',').map(|v| v.trim().to_string()));
    }
    assert!(
        expected.contains("--lp_launch_type") && expected.contains("local_mp"),
        "{help}"
    );
    let missing: Vec<&String> = expected
        .iter()
        .filter(|flag| !launch.contains(&format!("`{flag}")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/launch.md does not mention {missing:?}"
    );
}

/// Documents written elsewhere that links may point at before they are merged.
const PENDING: &[&str] = &["docs/cluster.md"];

#[test]
fn relative_links_point_at_files() {
    let mut problems = Vec::new();
    for path in documents() {
        let text = read(&path);
        let dir = path.parent().expect("a doc is in a directory");
        for target in text.split("](").skip(1).filter_map(|t| t.split(')').next()) {
            let file = target.split('#').next().unwrap_or_default();
            if file.is_empty() || file.contains("://") || file.starts_with("mailto:") {
                continue;
            }
            let resolved = dir.join(file);
            let relative = resolved.canonicalize().ok().and_then(|p| {
                p.strip_prefix(workspace().canonicalize().ok()?)
                    .ok()
                    .map(Path::to_path_buf)
            });
            if relative.is_none() {
                let pending = PENDING.iter().any(|p| resolved.ends_with(p));
                if !pending {
                    problems.push(format!("{}: broken link `{target}`", path.display()));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
