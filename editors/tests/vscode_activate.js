// Runs the VS Code extension's `activate` (editors/vscode/extension.js) in node with fake `vscode`
// and `vscode-languageclient/node` modules, and prints what it did as JSON, for
// tests/vscode_package.rs. Usage: node vscode_activate.js EXTENSION_JS SERVER_PATH_SETTING
"use strict";

const Module = require("module");

const [extension, setting] = process.argv.slice(2);
const seen = { warnings: [], watchers: 0, clients: [] };
const vscode = {
  workspace: {
    getConfiguration: () => ({ get: (key, fallback) => (key === "path" ? setting : fallback) }),
    createFileSystemWatcher: () => {
      seen.watchers += 1;
      return { dispose() {} };
    },
  },
  window: {
    showWarningMessage: (message, ...items) => {
      seen.warnings.push({ message, items });
      return Promise.resolve(undefined);
    },
    showErrorMessage: (message) => {
      seen.warnings.push({ message, items: [] });
      return Promise.resolve(undefined);
    },
  },
  commands: { executeCommand: () => Promise.resolve() },
};
class LanguageClient {
  constructor(id, name, server, options) {
    seen.clients.push({ id, name, command: server.run.command, args: server.run.args, options });
  }
  start() {
    return Promise.resolve();
  }
  stop() {
    return Promise.resolve();
  }
  dispose() {}
}
const languageclient = { LanguageClient, TransportKind: { stdio: 0 } };

const load = Module._load;
Module._load = function (request, ...rest) {
  if (request === "vscode") {
    return vscode;
  }
  if (request === "vscode-languageclient/node") {
    return languageclient;
  }
  return load.call(this, request, ...rest);
};

require(extension)
  .activate({ subscriptions: [] })
  .then(() => process.stdout.write(JSON.stringify(seen)))
  .catch((e) => {
    console.error(e && e.stack ? e.stack : String(e));
    process.exit(1);
  });
