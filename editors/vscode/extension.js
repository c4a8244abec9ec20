// Starts `lpc lsp` for `.lp` files when `lpc` can be found (the setting `lp.server.path`, else
// PATH). Without it the extension still gives highlighting, comments and brackets.
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");
const vscode = require("vscode");

let client;

/** `~` or `~/…` (`~\…` on Windows) with the home directory in place of `~`. */
function expandHome(configured) {
  if (configured === "~") {
    return os.homedir();
  }
  if (configured.startsWith("~/") || (process.platform === "win32" && configured.startsWith("~\\"))) {
    return path.join(os.homedir(), configured.slice(2));
  }
  return configured;
}

/** The `lpc` executable: the configured path, or the first `lpc` on PATH; undefined if none. */
function findLpc(setting) {
  const configured = expandHome(setting.trim());
  const isFile = (p) => {
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return fs.statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (configured.includes("/") || configured.includes(path.sep)) {
    return isFile(configured) ? configured : undefined;
  }
  const exe = process.platform === "win32" ? [".exe", ""] : [""];
  for (const dir of (process.env.PATH || "").split(path.delimiter)) {
    for (const suffix of exe) {
      const candidate = path.join(dir, configured + suffix);
      if (dir && isFile(candidate)) {
        return candidate;
      }
    }
  }
  return undefined;
}

async function activate(context) {
  const config = vscode.workspace.getConfiguration("lp.server");
  if (!config.get("enable", true)) {
    return;
  }
  const setting = config.get("path", "lpc") || "lpc";
  const lpc = findLpc(setting);
  if (!lpc) {
    const where = setting === "lpc" ? "on PATH" : `at \`${setting}\` (the setting lp.server.path)`;
    const open = "Open Settings";
    vscode.window
      .showWarningMessage(
        `lp: \`lpc\` was not found ${where}, so the language server (diagnostics, completion, ` +
          "go to definition, …) is off; highlighting still works. Install lpc " +
          "(`cargo install --path compiler` in the lp repository) or set lp.server.path.",
        open
      )
      .then((choice) => {
        if (choice === open) {
          vscode.commands.executeCommand("workbench.action.openSettings", "lp.server.path");
        }
      });
    return;
  }
  let lc;
  try {
    lc = require("vscode-languageclient/node");
  } catch {
    vscode.window.showWarningMessage(
      "lp: run `npm install` in the extension folder to enable the `lpc lsp` language server"
    );
    return;
  }
  const server = { command: lpc, args: ["lsp"], transport: lc.TransportKind.stdio };
  client = new lc.LanguageClient(
    "lp",
    "lpc lsp",
    { run: server, debug: server },
    {
      documentSelector: [
        { scheme: "file", language: "lp" },
        { scheme: "untitled", language: "lp" },
      ],
      // No `synchronize.fileEvents` watcher here: `lpc lsp` registers its own (`**/*.rs`,
      // `**/Cargo.toml`) through the client, and a second one would report every change twice.
    }
  );
  context.subscriptions.push(client);
  await client.start();
}

async function deactivate() {
  if (client) {
    await client.stop();
  }
}

module.exports = { activate, deactivate };
