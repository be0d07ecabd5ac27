/** `tsml doctor`: what this install has — backend and why, versions, Jupyter and the kernel, chart fonts. */
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";
import type { Command } from "../command";
import { parseArgs } from "../args";
import { coreCount, describeBackend, describeBlas, initBackend } from "../../backend";
import { findJupyter, installedKernelspecs, JUPYTER_INSTALL_HINT, KERNELSPEC_NAME } from "../../kernel";
import { tsmlPackageRoot, tsmlPackageVersion } from "../../package";
import { chartFontFiles } from "../../plots";

/** One line of the report: a label, the finding and whether it is fine. */
interface Finding {
  label: string;
  value: string;
  ok: boolean;
}

/** A package's version read from its package.json (found on disk: ESM-only packages hide it from require). */
function packageVersion(name: string): string {
  for (const base of require.resolve.paths(name) ?? []) {
    const file = path.join(base, name, "package.json");
    if (fs.existsSync(file)) return (JSON.parse(fs.readFileSync(file, "utf8")) as { version: string }).version;
  }
  return "not installed";
}

function systemFonts(): string {
  try {
    const families = execFileSync("fc-list", [":", "family"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    const count = new Set(families.split("\n").filter(Boolean)).size;
    return `${count} system font families (fc-list); charts do not need them`;
  } catch {
    return "no fc-list (system fonts unknown); charts do not need them";
  }
}

/** Collects every finding; never throws, a missing piece is a finding. */
export async function doctorFindings(): Promise<Finding[]> {
  const findings: Finding[] = [];
  try {
    const backend = await initBackend();
    findings.push({ label: "backend", value: describeBackend(backend), ok: true });
    const coreType = process.env.OPENBLAS_CORETYPE
      ? `; OPENBLAS_CORETYPE=${process.env.OPENBLAS_CORETYPE} is set, which makes OpenBLAS use that CPU's kernels`
      : "";
    findings.push({
      label: "native BLAS",
      value: !backend.blas
        ? `not used by the ${backend.name} backend`
        : backend.blas.active
          ? `${describeBlas(backend)}; ${backend.threads} of ${coreCount()} cores (TSML_THREADS)${coreType}`
          : `${describeBlas(backend)}. Fix: ${backend.blas.fix}`,
      ok: backend.blas?.active !== false,
    });
  } catch (e) {
    findings.push({ label: "backend", value: `failed to start: ${(e as Error).message}`, ok: false });
  }
  const root = tsmlPackageRoot();
  findings.push({ label: "tsml", value: `${tsmlPackageVersion()} at ${root}`, ok: true });
  findings.push({ label: "node", value: `${process.version} (${process.execPath})`, ok: true });
  for (const name of ["@tensorflow/tfjs-core", "@tensorflow/tfjs-backend-wasm", "tfjs-node-native", "tslab", "danfojs-node", "vega", "vega-lite"]) {
    const version = packageVersion(name);
    const optional = name === "tfjs-node-native";
    findings.push({
      label: name,
      value: optional && version === "not installed" ? "not installed (optional: native backend, needs internet at install)" : version,
      ok: version !== "not installed" || optional,
    });
  }
  const jupyter = findJupyter();
  findings.push({
    label: "jupyter",
    value: jupyter ? `jupyter_client ${jupyter.jupyterClientVersion} (${jupyter.python})` : `not found. ${JUPYTER_INSTALL_HINT}`,
    ok: jupyter !== undefined,
  });
  if (jupyter) {
    const spec = installedKernelspecs().find((k) => k.name === KERNELSPEC_NAME);
    findings.push({
      label: "kernel",
      value: spec ? `"${spec.displayName}" installed at ${spec.resourceDir}` : `not installed: run \`npx tsml kernel install --user\``,
      ok: spec !== undefined,
    });
  }
  const fonts = chartFontFiles();
  const missing = fonts.filter((f) => !fs.existsSync(f));
  findings.push({
    label: "chart fonts",
    value: missing.length ? `missing ${missing.join(", ")}` : `${fonts.map((f) => path.basename(f)).join(", ")} (npm dejavu-fonts-ttf)`,
    ok: missing.length === 0,
  });
  findings.push({ label: "system fonts", value: systemFonts(), ok: true });
  return findings;
}

/** The `tsml doctor` subcommand. */
export const command: Command = {
  summary: "show the backend in use and why, versions, Jupyter and kernel status, chart fonts",
  run: async (argv) => {
    const { options } = parseArgs(argv, { json: "boolean", help: "boolean" });
    if (options.help) {
      console.log("usage: tsml doctor [--json]");
      return 0;
    }
    const findings = await doctorFindings();
    if (options.json) console.log(JSON.stringify(findings, null, 2));
    else for (const f of findings) console.log(`${f.ok ? "ok  " : "MISS"} ${f.label.padEnd(30)} ${f.value}`);
    return 0;
  },
};
