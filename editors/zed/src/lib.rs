//! The Zed extension for `.lp` files: the language server is `lpc lsp`, with the `lpc` on the
//! worktree's PATH, or the binary set in Zed's settings
//! (`"lsp": { "lpc": { "binary": { "path": "/path/to/lpc" } } }`).

use zed_extension_api::{self as zed, settings::LspSettings, LanguageServerId, Result, Worktree};

struct LpExtension;

impl zed::Extension for LpExtension {
    fn new() -> Self {
        LpExtension
    }

    fn language_server_command(
        &mut self,
        server: &LanguageServerId,
        worktree: &Worktree,
    ) -> Result<zed::Command> {
        let configured = LspSettings::for_worktree(server.as_ref(), worktree)
            .ok()
            .and_then(|settings| settings.binary)
            .and_then(|binary| binary.path);
        let command = configured
            .or_else(|| worktree.which("lpc"))
            .ok_or_else(|| {
                "`lpc` was not found on PATH, so the lp language server is off: install it \
             (`cargo install --path compiler` in the lp repository) or set \
             lsp.lpc.binary.path in Zed's settings"
                    .to_string()
            })?;
        Ok(zed::Command {
            command,
            args: vec!["lsp".into()],
            env: Vec::new(),
        })
    }
}

zed::register_extension!(LpExtension);
