// Builds the card into the integration's folder, where Home Assistant serves it from.
//   node build.mjs           write custom_components/nezha/frontend/nezha-fleet-card.js
//   node build.mjs --check   fail unless a fresh build is byte-identical to the committed file
//   node build.mjs --tests   bundle test/*.test.ts into dist-test/ for `node --test`
// Deterministic: pinned esbuild, no timestamps, no absolute paths, no source map.
import { build } from "esbuild";
import { readFile, readdir, rm, writeFile, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const output = join(here, "..", "custom_components", "nezha", "frontend", "nezha-fleet-card.js");

const card = {
  absWorkingDir: here,
  entryPoints: ["src/nezha-fleet-card.ts"],
  bundle: true,
  format: "esm",
  target: "es2021",
  minify: true,
  legalComments: "eof",
  charset: "utf8",
  write: false,
  logLevel: "warning",
};

async function buildCard() {
  const result = await build(card);
  return Buffer.from(result.outputFiles[0].contents);
}

const mode = process.argv[2];
if (mode === "--check") {
  const [fresh, committed] = await Promise.all([buildCard(), readFile(output).catch(() => null)]);
  if (!committed || !fresh.equals(committed)) {
    console.error(
      "custom_components/nezha/frontend/nezha-fleet-card.js does not match frontend/src: " +
        "run `npm ci && npm run build` in frontend/ and commit the result",
    );
    process.exit(1);
  }
  console.log(`the committed card matches its source (${committed.length} bytes)`);
} else if (mode === "--tests") {
  const out = join(here, "dist-test");
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  const tests = (await readdir(join(here, "test"))).filter((name) => name.endsWith(".test.ts"));
  await build({
    absWorkingDir: here,
    entryPoints: tests.map((name) => `test/${name}`),
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outdir: out,
    outExtension: { ".js": ".mjs" },
    logLevel: "warning",
  });
} else {
  const fresh = await buildCard();
  await mkdir(dirname(output), { recursive: true });
  await writeFile(output, fresh);
  console.log(`built ${output} (${fresh.length} bytes)`);
}
