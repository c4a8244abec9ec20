//! The Vim support (`editors/vim`), in Vim (`vim -es`) and in Neovim (`nvim --headless`): `.lp`
//! files get filetype `lp` and the ftplugin's options, every classified token of the corpus gets
//! its syntax group (`synIDattr(synID(line, col, 1), "name")`), and re-indenting (`gg=G`) a
//! file in `lpc fmt`'s layout changes nothing.

use lp_editors::{
    assert_no_mismatches, corpus, find_on_line, repo_root, require_tool, run_with_timeout, Class,
    Highlighter,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

struct Vim {
    name: &'static str,
    /// Per file: the syntax group of every byte of every line.
    groups: BTreeMap<PathBuf, Vec<Vec<String>>>,
}

/// Runs `program` headless on `files` with `editors/vim` on its runtimepath (filetype plugins,
/// indentation and syntax on), sourcing `script`, which writes `g:lp_out`; returns that text.
fn run_script(program: &Path, headless: &[&str], script: &str, files: &[PathBuf]) -> String {
    let out_dir = tempfile::tempdir().expect("a temporary directory");
    let out = out_dir.path().join("out.txt");
    let runtime = repo_root().join("editors/vim");
    let output_path = out.to_string_lossy().replace('\'', "''");
    run_with_timeout(
        Command::new(program)
            .args(headless)
            .args(["-u", "NONE", "-i", "NONE", "-n"])
            .arg("--cmd")
            .arg(format!("set runtimepath^={}", runtime.display()))
            .args(["--cmd", "filetype plugin indent on", "--cmd", "syntax on"])
            .arg("--cmd")
            .arg(format!("let g:lp_out = '{output_path}'"))
            .arg("-S")
            .arg(repo_root().join("editors/tests").join(script))
            .args(files),
        Duration::from_secs(120),
    );
    // `vim -es` prints nothing useful on stdout: the script writes a file.
    std::fs::read_to_string(&out)
        .unwrap_or_else(|e| panic!("{} wrote no {}: {e}", program.display(), out.display()))
}

/// The syntax group of every byte of every line of `files` (see `dump_syntax.vim`).
fn dump(
    program: &Path,
    headless: &[&str],
    files: &[PathBuf],
) -> BTreeMap<PathBuf, Vec<Vec<String>>> {
    let text = run_script(program, headless, "dump_syntax.vim", files);
    // Vim may shorten the names it prints (relative to its directory): files come in order.
    let mut sections: Vec<(String, Vec<Vec<String>>)> = Vec::new();
    for line in text.lines() {
        if let Some(header) = line.strip_prefix("FILE ") {
            sections.push((header.to_string(), Vec::new()));
        } else if let Some(options) = line.strip_prefix("OPTIONS ") {
            // ftplugin/lp.vim: comment toggling and continuation, 4-space indentation.
            assert_eq!(
                options,
                "// %s|s0:/*,mb: *,ex:*/,:///,://|4|1",
                "{}: ftplugin/lp.vim did not set commentstring|comments|shiftwidth|expandtab",
                program.display()
            );
        } else if let Some((_, lines)) = sections.last_mut() {
            lines.push(line.split(' ').map(String::from).collect());
        }
    }
    assert_eq!(
        sections.len(),
        files.len(),
        "{} reported {} of {} files",
        program.display(),
        sections.len(),
        files.len()
    );
    let mut groups = BTreeMap::new();
    for (file, (header, lines)) in files.iter().zip(sections) {
        let mut parts = header.rsplitn(3, ' ');
        let syntax = parts.next().unwrap_or("");
        let filetype = parts.next().unwrap_or("");
        assert_eq!(
            (filetype, syntax),
            ("lp", "lp"),
            "{}: `{}` is not detected as filetype lp with lp syntax",
            program.display(),
            file.display()
        );
        groups.insert(file.clone(), lines);
    }
    groups
}

impl Highlighter for Vim {
    fn name(&self) -> &'static str {
        self.name
    }

    fn at(&self, file: &Path, byte: usize) -> Option<String> {
        let text = std::fs::read_to_string(file).ok()?;
        let (line, col) = lp_editors::line_col(&text, byte);
        let group = self.groups.get(file)?.get(line - 1)?.get(col - 1)?;
        (!group.is_empty()).then(|| group.clone())
    }

    fn accepts(&self, class: Class, got: &str) -> bool {
        got == self.expected(class)
    }

    fn expected(&self, class: Class) -> &'static str {
        match class {
            Class::LineComment => "lpComment",
            Class::DocComment => "lpDocComment",
            Class::BlockComment => "lpBlockComment",
            Class::String => "lpString",
            Class::Escape => "lpEscape",
            Class::Integer => "lpNumber",
            Class::Float => "lpFloat",
            Class::Duration => "lpDuration",
            Class::DurationUnit => "lpDurationUnit",
            Class::Import => "lpInclude",
            Class::Item => "lpItem",
            Class::Kind => "lpKind",
            Class::Batch => "lpBatch",
            Class::Boolean => "lpBoolean",
            Class::Replica => "lpReplica",
            Class::ProgramName => "lpProgramName",
            Class::ParamName => "lpParamName",
            Class::ParamType => "lpParamType",
            Class::NodeName => "lpNodeName",
            Class::TypeName => "lpType",
            Class::FunctionName => "lpFunction",
        }
    }
}

fn check(program: &str, name: &'static str, headless: &[&str]) {
    let Some(path) = require_tool(program, name) else {
        return;
    };
    let files = corpus();
    let vim = Vim {
        name,
        groups: dump(&path, headless, &files),
    };
    assert_no_mismatches(&vim, &files);
}

#[test]
fn vim_highlights_every_classified_token_of_the_corpus() {
    check("vim", "Vim's syntax highlighting", &["-N", "-es"]);
}

#[test]
fn neovim_highlights_every_classified_token_of_the_corpus() {
    check("nvim", "Neovim's syntax highlighting", &["--headless"]);
}

/// Every corpus file already in `lpc fmt`'s layout is left unchanged by `gg=G`.
fn check_indent(program: &str, headless: &[&str]) {
    let Some(path) = require_tool(program, "Vim indentation") else {
        return;
    };
    let formatted: Vec<PathBuf> = corpus()
        .into_iter()
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            lpc::fmt::format(&text).is_ok_and(|formatted| formatted == text)
        })
        .collect();
    assert!(
        formatted.len() >= 5,
        "only {} corpus files are in lpc fmt's layout",
        formatted.len()
    );
    let report = run_script(&path, headless, "reindent.vim", &formatted);
    let changed: Vec<&str> = report
        .lines()
        .filter(|l| !(l.starts_with("FILE ") && l.ends_with(" 0")))
        .collect();
    assert_eq!(
        report.lines().filter(|l| l.starts_with("FILE ")).count(),
        formatted.len(),
        "{program} re-indented only some files:\n{report}"
    );
    assert!(
        changed.is_empty(),
        "{program}'s gg=G changes files that lpc fmt laid out:\n{}",
        changed.join("\n")
    );
}

#[test]
fn vim_keeps_lpc_fmt_indentation() {
    check_indent("vim", &["-N", "-es"]);
}

#[test]
fn neovim_keeps_lpc_fmt_indentation() {
    check_indent("nvim", &["--headless"]);
}

/// Chosen tokens of `corpus/keyword_names.lp`: `(line, text, group)`; when the text has `|`
/// marks, only the part between them is checked. Keyword-named arguments and fields are names,
/// and what a `use` imports is highlighted whatever its case.
const CHOSEN: &[(usize, &str, &str)] = &[
    (4, "use", "lpInclude"),
    (4, "fns", "lpNamespace"),
    (4, "::|tick|;", "lpUseFunction"),
    (5, "{|setup| as", "lpUseFunction"),
    (5, " |as| ", "lpInclude"),
    (5, "as |prepare|", "lpUseFunction"),
    (5, "Producer", "lpType"),
    (10, "(|node|:", "lpArgName"),
    (10, "|batch|: 2", "lpArgName"),
    (10, "|process|: 3", "lpArgName"),
    (10, "|group|: 4", "lpArgName"),
    (10, "|node| first", "lpItem"),
    (12, "process", "lpItem"),
    (17, "(|fn|:", "lpArgName"),
    (17, "= |fn| tick", "lpKind"),
    (17, "|param|:", "lpArgName"),
    (17, "|replicas|: replicas", "lpArgName"),
    (17, "replicas: |replicas|", "lpReplica"),
    (17, "true", "lpBoolean"),
    (18, "{ |node|:", "lpArgName"),
    (18, "|batch|: 2", "lpArgName"),
    (19, "|batch| work", "lpBatch"),
    (19, "|process|: 8", "lpArgName"),
];

fn check_chosen(program: &str, name: &'static str, headless: &[&str]) {
    let Some(path) = require_tool(program, name) else {
        return;
    };
    let file = repo_root().join("editors/tests/corpus/keyword_names.lp");
    let text = std::fs::read_to_string(&file).expect("corpus/keyword_names.lp");
    let vim = Vim {
        name,
        groups: dump(&path, headless, std::slice::from_ref(&file)),
    };
    let mut wrong = Vec::new();
    for &(line, needle, group) in CHOSEN {
        let Some(range) = find_on_line(&text, line, needle) else {
            wrong.push(format!("line {line} has no `{needle}`"));
            continue;
        };
        if let Some(got) = range
            .map(|byte| vim.at(&file, byte).unwrap_or_default())
            .find(|got| got != group)
        {
            wrong.push(format!(
                "keyword_names.lp:{line} `{needle}`: expected {group}, got {got:?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{name}:\n{}", wrong.join("\n"));
}

#[test]
fn vim_highlights_keyword_named_arguments_and_imported_functions() {
    check_chosen("vim", "Vim's syntax highlighting", &["-N", "-es"]);
}

#[test]
fn neovim_highlights_keyword_named_arguments_and_imported_functions() {
    check_chosen("nvim", "Neovim's syntax highlighting", &["--headless"]);
}
