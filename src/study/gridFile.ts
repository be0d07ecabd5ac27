/**
 * A study grid from a file (`tsml study --grid FILE`): JSON, or YAML (.yaml/.yml, parsed with js-yaml), holding the
 * fields of `StudyGridOptions`. Unknown keys are an error that suggests the key meant; every value is checked.
 */
import * as fs from "fs";
import { didYouMean } from "../util";
import type { StudyGridOptions } from "./study";

const KEYS: (keyof StudyGridOptions)[] = ["perDeviceBatch", "accumulation", "configurations", "devices", "learningRates", "seeds", "budget", "target"];
const BUDGET_KEYS = ["epochs", "examples", "steps"];
const TARGET_KEYS = ["loss", "devF1"];

function checkKeys(value: Record<string, unknown>, known: readonly string[], where: string): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) throw new Error(`${where}: unknown key "${key}"${didYouMean(key, known)}; the keys are ${known.join(", ")}`);
  }
}

function numbers(value: unknown, where: string, integer: boolean): number[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || list.some((v) => typeof v !== "number" || !(v > 0) || !Number.isFinite(v) || (integer && !Number.isInteger(v)))) {
    throw new Error(`${where} must be ${integer ? "a positive integer" : "a positive number"} or a non-empty list of them, got ${JSON.stringify(value)}`);
  }
  return list as number[];
}

function object(value: unknown, where: string): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error(`${where} must be an object, got ${JSON.stringify(value)}`);
  return value as Record<string, unknown>;
}

/** Checks a parsed grid (from a file or code) and returns it typed; `where` names the source in errors. */
export function parseStudyGrid(value: unknown, where: string): StudyGridOptions {
  const raw = object(value, where);
  checkKeys(raw, KEYS, where);
  const grid: StudyGridOptions = {};
  if (raw.perDeviceBatch !== undefined) grid.perDeviceBatch = numbers(raw.perDeviceBatch, `${where}: perDeviceBatch`, true);
  if (raw.accumulation !== undefined) grid.accumulation = numbers(raw.accumulation, `${where}: accumulation`, true);
  if (raw.learningRates !== undefined) grid.learningRates = numbers(raw.learningRates, `${where}: learningRates`, false);
  if (raw.devices !== undefined) grid.devices = numbers(raw.devices, `${where}: devices`, true)[0];
  if (raw.seeds !== undefined) grid.seeds = numbers(raw.seeds, `${where}: seeds`, true)[0];
  if (raw.configurations !== undefined) {
    if (!Array.isArray(raw.configurations)) throw new Error(`${where}: configurations must be a list of {perDeviceBatch, accumulation}`);
    grid.configurations = raw.configurations.map((c, i) => {
      const pair = object(c, `${where}: configurations[${i}]`);
      checkKeys(pair, ["perDeviceBatch", "accumulation"], `${where}: configurations[${i}]`);
      return {
        perDeviceBatch: numbers(pair.perDeviceBatch, `${where}: configurations[${i}].perDeviceBatch`, true)[0],
        accumulation: numbers(pair.accumulation ?? 1, `${where}: configurations[${i}].accumulation`, true)[0],
      };
    });
  }
  if (raw.budget !== undefined) {
    const budget = object(raw.budget, `${where}: budget`);
    checkKeys(budget, BUDGET_KEYS, `${where}: budget`);
    const keys = Object.keys(budget);
    if (keys.length !== 1) throw new Error(`${where}: budget must hold exactly one of ${BUDGET_KEYS.join(", ")}, got ${JSON.stringify(budget)}`);
    grid.budget = { [keys[0]]: numbers(budget[keys[0]], `${where}: budget.${keys[0]}`, true)[0] } as StudyGridOptions["budget"];
  }
  if (raw.target !== undefined) {
    const target = object(raw.target, `${where}: target`);
    checkKeys(target, TARGET_KEYS, `${where}: target`);
    grid.target = {};
    if (target.loss !== undefined) grid.target.loss = numbers(target.loss, `${where}: target.loss`, false)[0];
    if (target.devF1 !== undefined) grid.target.devF1 = numbers(target.devF1, `${where}: target.devF1`, false)[0];
  }
  return grid;
}

/** Reads and checks a grid file: JSON, or YAML by its extension. */
export function readStudyGridFile(file: string): StudyGridOptions {
  if (!fs.existsSync(file)) throw new Error(`--grid ${file}: no such file`);
  const text = fs.readFileSync(file, "utf8");
  let value: unknown;
  try {
    if (/\.ya?ml$/i.test(file)) {
      let yaml: { load(text: string): unknown };
      try {
        yaml = require("js-yaml") as typeof yaml;
      } catch {
        throw new Error("YAML grid files need the js-yaml package (npm install js-yaml); or write the grid as JSON");
      }
      value = yaml.load(text);
    } else value = JSON.parse(text);
  } catch (error) {
    throw new Error(`--grid ${file}: not valid ${/\.ya?ml$/i.test(file) ? "YAML" : "JSON"}: ${(error as Error).message.split("\n")[0]}`);
  }
  return parseStudyGrid(value, file);
}
