// Tokenizes `.lp` files with the VS Code extension's TextMate grammar, using the libraries VS
// Code itself uses (vscode-textmate + vscode-oniguruma), and prints the tokens as JSON:
//   { "<file>": [ [ [startByte, endByte, [scope, …]], … ] per line ] }
// Offsets are UTF-8 byte offsets within the line. Usage: node tokenize.js GRAMMAR FILE…
"use strict";

const fs = require("fs");
const path = require("path");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

async function main() {
  const [grammarPath, ...files] = process.argv.slice(2);
  const wasm = fs.readFileSync(path.join(path.dirname(require.resolve("vscode-oniguruma")), "onig.wasm"));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scopeName) =>
      scopeName === "source.lp"
        ? vsctm.parseRawGrammar(fs.readFileSync(grammarPath, "utf8"), grammarPath)
        : null,
  });
  const grammar = await registry.loadGrammar("source.lp");
  if (!grammar) {
    throw new Error(`no grammar with scope source.lp in ${grammarPath}`);
  }
  const out = {};
  for (const file of files) {
    let stack = vsctm.INITIAL;
    out[file] = fs
      .readFileSync(file, "utf8")
      .split("\n")
      .map((raw) => {
        const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
        const result = grammar.tokenizeLine(line, stack);
        stack = result.ruleStack;
        const bytes = (i) => Buffer.byteLength(line.slice(0, i), "utf8");
        return result.tokens.map((t) => [bytes(t.startIndex), bytes(Math.min(t.endIndex, line.length)), t.scopes]);
      });
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});
