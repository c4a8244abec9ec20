//! Compiles the generated parser (`src/parser.c`, committed: CI never needs the tree-sitter CLI)
//! and the external scanner for nested block comments (`src/scanner.c`).

fn main() {
    let src = std::path::Path::new("src");
    let mut build = cc::Build::new();
    build
        .std("c11")
        .include(src)
        .warnings(false)
        .file(src.join("parser.c"))
        .file(src.join("scanner.c"));
    #[cfg(target_env = "msvc")]
    build.flag("-utf-8");
    build.compile("tree-sitter-lp");
    for file in ["parser.c", "scanner.c", "tree_sitter/parser.h"] {
        println!("cargo:rerun-if-changed=src/{file}");
    }
}
