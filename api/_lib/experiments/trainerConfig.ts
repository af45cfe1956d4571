// The trainer's config contract, generated from the Python dataclasses (`python3 -m ril_trainer schema` writes
// functions/trainer/config.schema.json; a test keeps the committed file in sync). Experiment configs are
// validated against it here, so a typo or an out-of-range value is refused before any GPU time is spent.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { badInput } from '../errors.js';
import { checkOutboundUrl, OutboundError, outboundPolicyOf, type OutboundSettings } from '../net/outbound.js';
import { checkSecretEnvName, type SecretSettings } from '../net/secrets.js';

export interface FieldSpec {
  type: 'integer' | 'number' | 'boolean' | 'string' | 'array' | 'object';
  default?: unknown;
  nullable?: boolean;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  enum?: unknown[];
  items?: 'integer' | 'number' | 'string' | 'boolean';
  /** A nested config: its own fields. Without it an object is free-form (e.g. model_overrides). */
  fields?: Record<string, FieldSpec>;
  doc?: string;
}

export interface TrainerSchema {
  fields: Record<string, FieldSpec>;
  /** Keys the platform sets from the experiment and run (algorithm, model, teachers, seed, ...). */
  platformKeys: string[];
  sizes?: string[];
}

export const SCHEMA_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../../functions/trainer/config.schema.json');

let cached: TrainerSchema | undefined;
export function trainerSchema(): TrainerSchema {
  if (!cached) {
    if (!fs.existsSync(SCHEMA_FILE)) throw new Error(`trainer config schema missing: ${SCHEMA_FILE} (cd functions/trainer && python3 -m ril_trainer schema > config.schema.json)`);
    cached = JSON.parse(fs.readFileSync(SCHEMA_FILE, 'utf8')) as TrainerSchema;
  }
  return cached;
}

function typeOk(spec: FieldSpec, v: unknown): boolean {
  switch (spec.type) {
    case 'integer': return Number.isInteger(v);
    case 'number': return typeof v === 'number' && Number.isFinite(v);
    case 'boolean': return typeof v === 'boolean';
    case 'string': return typeof v === 'string';
    case 'array': return Array.isArray(v) && (!spec.items || v.every((x) => typeOk({ type: spec.items! } as FieldSpec, x)));
    case 'object': return !!v && typeof v === 'object' && !Array.isArray(v);
  }
}

/** Validates `overrides` against `fields` and returns the full config with defaults filled in. Collects every problem. */
export function validateConfig(fields: Record<string, FieldSpec>, overrides: unknown, forbidden: string[] = [], prefix = ''): Record<string, unknown> {
  const problems: string[] = [];
  const out = fill(fields, overrides ?? {}, forbidden, prefix, problems);
  if (problems.length) throw badInput(`invalid config: ${problems.join('; ')}`, { problems });
  return out;
}

function fill(fields: Record<string, FieldSpec>, overrides: unknown, forbidden: string[], prefix: string, problems: string[]): Record<string, unknown> {
  if (!overrides || typeof overrides !== 'object' || Array.isArray(overrides)) {
    problems.push(`${prefix || 'config'} must be an object`);
    return {};
  }
  const given = overrides as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    const dotted = prefix + key;
    if (forbidden.includes(dotted)) problems.push(`${dotted} is set by the platform (experiment/run fields), not in config`);
    else if (!(key in fields)) problems.push(`unknown key ${dotted}`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(fields)) {
    const dotted = prefix + key;
    if (forbidden.includes(dotted)) continue;
    if (!(key in given)) {
      out[key] = spec.fields ? fill(spec.fields, {}, forbidden, `${dotted}.`, problems) : structuredClone(spec.default ?? null);
      continue;
    }
    const v = given[key];
    if (v === null) {
      if (spec.nullable) out[key] = null; else problems.push(`${dotted} must not be null`);
      continue;
    }
    if (spec.fields) { out[key] = fill(spec.fields, v, forbidden, `${dotted}.`, problems); continue; }
    if (!typeOk(spec, v)) { problems.push(`${dotted} must be ${spec.type}${spec.items ? ` of ${spec.items}` : ''}`); continue; }
    if (typeof v === 'number') {
      if (spec.minimum !== undefined && v < spec.minimum) { problems.push(`${dotted} must be >= ${spec.minimum}`); continue; }
      if (spec.exclusiveMinimum !== undefined && v <= spec.exclusiveMinimum) { problems.push(`${dotted} must be > ${spec.exclusiveMinimum}`); continue; }
      if (spec.maximum !== undefined && v > spec.maximum) { problems.push(`${dotted} must be <= ${spec.maximum}`); continue; }
    }
    if (spec.enum && !spec.enum.some((e) => JSON.stringify(e) === JSON.stringify(v))) { problems.push(`${dotted} must be one of ${spec.enum.map((e) => JSON.stringify(e)).join(', ')}`); continue; }
    out[key] = v;
  }
  return out;
}

export type OutboundConfigSettings = SecretSettings & OutboundSettings;

/**
 * The judge's endpoint and key variable, checked against the operator's allowlists: a config is written by an API
 * caller, and the trainer sends the named variable's value to the named URL. The trainer checks both again where it
 * makes the request (ril_trainer/outbound.py: DNS, pinned address, no redirects, caps); this is the early error.
 */
export function checkOutboundConfig(config: Record<string, unknown>, env: OutboundConfigSettings): void {
  const keyEnv = config.judge_api_key_env;
  if (typeof keyEnv === 'string' && keyEnv) checkSecretEnvName('judge_api_key_env', keyEnv, env);
  const endpoint = config.judge_endpoint;
  if (typeof endpoint === 'string' && endpoint) {
    try {
      checkOutboundUrl(endpoint, outboundPolicyOf(env));
    } catch (err) {
      if (err instanceof OutboundError) throw badInput(`judge_endpoint: ${err.message}`);
      throw err;
    }
  }
}
