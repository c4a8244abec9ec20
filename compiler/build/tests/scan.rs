//! `driver::scan`: which `.lp` files a package has, and what cargo must watch to notice that
//! set change without rerunning the build script on every build.

use lpc_build::driver::{scan, BlindDir};
use std::path::{Path, PathBuf};

/// Creates `files` (directories end with `/`) under `root`.
fn tree(root: &Path, files: &[&str]) {
    for file in files {
        let path = root.join(file);
        if file.ends_with('/') {
            std::fs::create_dir_all(&path).expect("dir");
        } else {
            std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
            std::fs::write(&path, "").expect("file");
        }
    }
}

fn paths(root: &Path, relative: &[&str]) -> Vec<PathBuf> {
    relative.iter().map(|p| root.join(p)).collect()
}

#[test]
fn a_package_without_target_or_hidden_directories_is_watched_whole() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    tree(
        root,
        &[
            "Cargo.toml",
            "a.lp",
            "src/lib.rs",
            "src/more/b.lp",
            "tests/t.rs",
            "data/",
        ],
    );
    let scan = scan(root);
    assert_eq!(scan.lp_files, paths(root, &["a.lp", "src/more/b.lp"]));
    assert_eq!(scan.watch, paths(root, &[""]));
    assert!(scan.blind.is_empty(), "{:?}", scan.blind);
}

#[test]
fn target_and_hidden_directories_are_neither_searched_nor_watched() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    tree(
        root,
        &[
            "Cargo.toml",
            "a.lp",
            "README.md",
            "src/lib.rs",
            "src/b.lp",
            "tests/t.rs",
            "target/debug/x.lp",
            ".git/y.lp",
            "lp/c.lp",
            "lp/.cache/z.lp",
        ],
    );
    let scan = scan(root);
    assert_eq!(scan.lp_files, paths(root, &["a.lp", "lp/c.lp", "src/b.lp"]));
    // The root and `lp/` hold a skipped directory: their `.lp` files are watched one by one,
    // their other subdirectories whole; other files (README.md) are not watched.
    assert_eq!(
        scan.watch,
        paths(root, &["a.lp", "lp/c.lp", "src", "tests"])
    );
    assert_eq!(
        scan.blind,
        [
            BlindDir {
                dir: root.to_path_buf(),
                because: root.join(".git"),
            },
            BlindDir {
                dir: root.join("lp"),
                because: root.join("lp/.cache"),
            },
        ]
    );
}

#[test]
fn a_directory_with_no_lp_file_is_not_blind() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    tree(root, &["Cargo.toml", "target/", "src/lib.rs", "src/a.lp"]);
    let scan = scan(root);
    assert_eq!(scan.watch, paths(root, &["src"]));
    assert!(scan.blind.is_empty(), "{:?}", scan.blind);
}

#[test]
fn a_symbolic_link_up_the_tree_is_followed_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    tree(root, &["Cargo.toml", "src/a.lp"]);
    std::os::unix::fs::symlink(root, root.join("src/up")).expect("link");
    assert_eq!(scan(root).lp_files, paths(root, &["src/a.lp"]));
}
