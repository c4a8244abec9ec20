// Starts `lpc lsp` for `.lp` files when `lpc` can be found (the setting `lp.server.path`, else
// PATH). Without it the extension still gives highlighting, comments and brackets.
"use strict";

const fs = require("fs");
const path = require("path");
const vscode = require("vscode");

let client;

/** The `lpc` executable: the configured path, or the first `lpc` on PATH; undefined if none. */
function findLpc(configured) {
  const isFile = (p) => {
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return fs.statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (configured.includes(path.sep)) {
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
  const lpc = findLpc(config.get("path", "lpc"));
  if (!lpc) {
    console.log("lp: `lpc` not found on PATH; the language server is off (highlighting still works)");
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
      documentSelector: [{ scheme: "file", language: "lp" }],
      synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher("**/*.{lp,rs}") },
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
