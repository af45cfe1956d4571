// Student bundles on disk: a BUNDLE artifact is one blob, a (gzipped) tar of the bundle directory. Two families:
// the built-in students' (manifest.json, prefill.onnx, decode.onnx, tokenizer.json; ril_trainer/export.py) and
// Hugging Face students' (format 3: transformers.js's layout, onnx/*.onnx + the model's own config, processor and
// tokenizer files; ril_trainer/export_hf.py, docs/hf-bundles.md). It is unpacked
// once into $RIL_HOME/bundles/<blob sha256>/ (temp dir + rename, so a reader never sees half a bundle),
// and every load re-checks the manifest's sha256 of each file: a bundle that fails is refused. Archives are
// gunzipped as streams with their unpacked size capped (RIL_MAX_BUNDLE_BYTES): a gzip bomb is refused at the cap.
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { badInput } from '../errors.js';
import { checkPreprocessingSpec, type PreprocessingSpec } from './spec.js';
import { readTar, TarTooLargeError } from '../archive/tar.js';
import type { TokenizerSpec } from './tokenizer.js';
import { HF_DTYPE_SUFFIX, HF_FORMAT_VERSION, HF_GRAPHS, HF_MODEL_FAMILY, hfGraphFile } from './hfGenerate.js';
import { sweepStaleTemp } from '../staleTemp.js';

export const BUNDLE_FORMAT = 'ril-student-bundle';
export const MODEL_FAMILY = 'ril-vlm-v1';
/** Built-in bundle formats served: 2 (the decode graph takes an attention mask: batched decoding) and 1 (no mask). */
export const FORMAT_VERSIONS = [1, 2];
// the Hugging Face family's constants live in the Node-free hfGenerate.ts (the browser's runner reads them too)
export { HF_DTYPE_SUFFIX, HF_FORMAT_VERSION, HF_GRAPHS, HF_MODEL_FAMILY, hfGraphFile } from './hfGenerate.js';

export interface BuiltinManifest {
  format: string;
  format_version: number;
  model_family: string;
  model_config: { size: string; image_size: number; channels: number; vocab_size: number; max_seq_len: number; n_layers: number; d_model: number };
  n_image_tokens: number;
  tokenizer: TokenizerSpec;
  preprocessing: PreprocessingSpec;
  kv_cache: { layers: number; heads: number; head_dim: number; dtype: string; input_names: string[]; output_names: string[]; new_slot_names?: string[] };
  graphs: { prefill: { file: string }; decode: { file: string } };
  files: Record<string, { sha256: string; bytes: number }>;
  source?: Record<string, unknown>;
}

export interface HfVariant {
  /** transformers.js dtype per graph (its `dtype` option). */
  sessions: Record<string, string>;
  /** Whether every graph loaded in onnxruntime's CPU provider at export time. */
  cpu?: boolean;
}

export interface HfManifest {
  format: string;
  format_version: number;
  model_family: typeof HF_MODEL_FAMILY;
  hf: { model_type: string; architecture: string; base_model?: string; transformers_version?: string; lora_merged?: boolean };
  variants: Record<string, HfVariant>;
  default_variant: string;
  generation: { eos_token_ids: number[]; pad_token_id?: number | null; max_position_embeddings: number };
  files: Record<string, { sha256: string; bytes: number }>;
  source?: Record<string, unknown>;
  parity?: Record<string, unknown>;
}

export type BundleManifest = BuiltinManifest | HfManifest;

export const isHfManifest = (m: BundleManifest): m is HfManifest => m.model_family === HF_MODEL_FAMILY;

export interface Bundle {
  dir: string;
  manifest: BundleManifest;
}

const refuse = (what: string, why: string) => badInput(`bundle ${what} refused: ${why}`);

/** Parses and checks a manifest's shape (not the files). */
export function parseManifest(text: string, what: string): BundleManifest {
  let m: BundleManifest;
  try {
    m = JSON.parse(text) as BundleManifest;
  } catch {
    throw refuse(what, 'manifest.json is not valid JSON');
  }
  if (m?.format === BUNDLE_FORMAT && m.model_family === HF_MODEL_FAMILY) return checkHfManifest(m as HfManifest, what);
  if (m?.format !== BUNDLE_FORMAT || !FORMAT_VERSIONS.includes(m.format_version)) {
    throw refuse(what, `format ${m?.format} v${m?.format_version}, expected ${BUNDLE_FORMAT} v${FORMAT_VERSIONS.join(' or v')} (model family ${MODEL_FAMILY}) or v${HF_FORMAT_VERSION} (${HF_MODEL_FAMILY})`);
  }
  if (m.model_family !== MODEL_FAMILY) throw refuse(what, `model family ${m.model_family}, expected ${MODEL_FAMILY} or ${HF_MODEL_FAMILY}`);
  const b = m as BuiltinManifest;
  if (!b.files || !b.graphs?.prefill?.file || !b.graphs?.decode?.file || !b.kv_cache?.input_names || !b.tokenizer) {
    throw refuse(what, 'manifest.json lacks files, graphs, kv_cache or tokenizer');
  }
  const tokenizerFile = b.tokenizer.type === 'hf-tokenizer-json' ? b.tokenizer.file : undefined;
  if (b.tokenizer.type === 'hf-tokenizer-json' && !tokenizerFile) throw refuse(what, 'the tokenizer names no file');
  for (const f of [b.graphs.prefill.file, b.graphs.decode.file, ...(tokenizerFile ? [tokenizerFile] : [])]) {
    if (!b.files[f]) throw refuse(what, `${f} has no sha256 in the manifest`);
  }
  try {
    checkPreprocessingSpec(b.preprocessing);
  } catch (err) {
    throw refuse(what, (err as Error).message);
  }
  return b;
}

/** A Hugging Face bundle's manifest: every variant's graphs, and the files transformers.js reads, are listed (and so
 * sha256-checked); nothing outside the listed files is ever opened. */
function checkHfManifest(m: HfManifest, what: string): HfManifest {
  if (m.format_version !== HF_FORMAT_VERSION) throw refuse(what, `format v${m.format_version} of ${HF_MODEL_FAMILY}, expected v${HF_FORMAT_VERSION}`);
  if (!m.files || typeof m.files !== 'object' || !m.variants || typeof m.variants !== 'object' || !m.hf?.model_type || !m.generation) {
    throw refuse(what, 'manifest.json lacks files, variants, hf or generation');
  }
  for (const name of Object.keys(m.files)) safeName(name);
  if (!m.variants[m.default_variant]) throw refuse(what, `default_variant ${m.default_variant} is not one of its variants`);
  const required = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'preprocessor_config.json'];
  for (const f of required) if (!m.files[f]) throw refuse(what, `${f} is not in the manifest's files`);
  for (const [name, v] of Object.entries(m.variants)) {
    for (const graph of HF_GRAPHS) {
      const dtype = v?.sessions?.[graph];
      if (!dtype || HF_DTYPE_SUFFIX[dtype] === undefined) throw refuse(what, `variant ${name} names no known dtype for ${graph}`);
      const file = hfGraphFile(graph, dtype);
      if (!m.files[file]) throw refuse(what, `variant ${name} needs ${file}, which is not in the manifest's files`);
    }
  }
  if (!Array.isArray(m.generation.eos_token_ids)) throw refuse(what, 'generation.eos_token_ids is not a list');
  return m;
}

/** The summary stored as a BUNDLE artifact's metadata. */
export function manifestSummary(m: BundleManifest) {
  if (isHfManifest(m)) {
    return {
      format: m.format, formatVersion: m.format_version, modelFamily: m.model_family, modelType: m.hf.model_type,
      architecture: m.hf.architecture, baseModel: m.hf.base_model ?? null, variants: Object.keys(m.variants),
      defaultVariant: m.default_variant, maxSeqLen: m.generation.max_position_embeddings, files: m.files,
      parity: m.parity ?? null, source: m.source ?? {},
    };
  }
  return {
    format: m.format, modelFamily: m.model_family, size: m.model_config.size, nImageTokens: m.n_image_tokens,
    imageSize: m.preprocessing.image_size, channels: m.preprocessing.channels, maxSeqLen: m.model_config.max_seq_len,
    files: m.files, source: m.source ?? {},
  };
}

/** RIL_MAX_BUNDLE_BYTES's default: the most a bundle archive may unpack to. */
export const DEFAULT_MAX_BUNDLE_BYTES = 1024 * 1024 * 1024;

/** A bundle archive: its bytes, or a stream of them (a blob read from the store). */
export type ArchiveSource = Buffer | Readable;

/** Reads the archive's entries, stripping one common top-level folder (`bundle/manifest.json`). */
export async function bundleEntries(archive: ArchiveSource, what: string, maxBytes = DEFAULT_MAX_BUNDLE_BYTES): Promise<Map<string, Buffer>> {
  let entries;
  try {
    entries = await readTar(archive, { maxUnpackedBytes: maxBytes });
  } catch (err) {
    if (err instanceof TarTooLargeError) throw refuse(what, `${err.message} (RIL_MAX_BUNDLE_BYTES)`);
    throw refuse(what, `not a tar archive of a bundle directory (${(err as Error).message})`);
  }
  const files = new Map(entries.map((e) => [e.path, e.data]));
  if (!files.has('manifest.json')) {
    const tops = new Set(entries.map((e) => e.path.split('/')[0]));
    const [top] = tops;
    if (tops.size === 1 && files.has(`${top}/manifest.json`)) {
      return new Map(entries.map((e) => [e.path.slice(top.length + 1), e.data]));
    }
    throw refuse(what, 'the archive has no manifest.json at its root');
  }
  return files;
}

/** Checks each file listed in the manifest against its sha256 and size. */
export function verifyFiles(m: BundleManifest, read: (name: string) => Buffer | undefined, what: string): void {
  for (const [name, { sha256, bytes }] of Object.entries(m.files)) {
    const data = read(name);
    if (!data) throw refuse(what, `${name} is listed in the manifest but missing`);
    const actual = crypto.createHash('sha256').update(data).digest('hex');
    if (actual !== sha256) throw refuse(what, `${name} sha256 ${actual} does not match the manifest's ${sha256}`);
    if (typeof bytes === 'number' && data.length !== bytes) throw refuse(what, `${name} is ${data.length} bytes, the manifest says ${bytes}`);
  }
}

/** Validates an archive without unpacking it: returns its manifest (throws BAD_USER_INPUT otherwise). */
export async function inspectArchive(archive: ArchiveSource, what: string, maxBytes = DEFAULT_MAX_BUNDLE_BYTES): Promise<BundleManifest> {
  const files = await bundleEntries(archive, what, maxBytes);
  const manifest = parseManifest(files.get('manifest.json')!.toString('utf8'), what);
  verifyFiles(manifest, (n) => files.get(n), what);
  return manifest;
}

/** Unpacks in flight in this process, by directory: concurrent first requests for one bundle share one unpack. */
const unpacking = new Map<string, Promise<string>>();

/** Unpacks the archive (once) into `<bundlesDir>/<sha256>/` and returns the directory. `archive` may be a
 * function that opens it, so an already unpacked bundle is not read at all. Only manifest.json and the files it
 * lists are written, each verified first (an unlisted entry, say gigabytes of zeros that compress to nothing, takes no
 * disk), and fsynced before the directory is renamed into place: a crash leaves a .tmp- folder, never a directory
 * that looks unpacked with truncated files in it. */
export async function unpackBundle(archive: ArchiveSource | (() => Promise<ArchiveSource>), sha256: string, bundlesDir: string, maxBytes = DEFAULT_MAX_BUNDLE_BYTES): Promise<string> {
  const dir = path.join(bundlesDir, sha256);
  if (fs.existsSync(path.join(dir, 'manifest.json'))) return dir;
  let pending = unpacking.get(dir);
  if (!pending) {
    pending = unpackOnce(archive, sha256, dir, bundlesDir, maxBytes).finally(() => unpacking.delete(dir));
    unpacking.set(dir, pending);
  }
  return pending;
}

async function unpackOnce(archive: ArchiveSource | (() => Promise<ArchiveSource>), sha256: string, dir: string, bundlesDir: string, maxBytes: number): Promise<string> {
  void sweepStaleTemp(bundlesDir, (name) => name.startsWith('.tmp-')); // unpacks a crashed process left (in the background)
  const what = sha256.slice(0, 12);
  const files = await bundleEntries(typeof archive === 'function' ? await archive() : archive, what, maxBytes);
  const manifestBytes = files.get('manifest.json')!;
  const manifest = parseManifest(manifestBytes.toString('utf8'), what);
  verifyFiles(manifest, (n) => files.get(n), what);
  const wanted: [string, Buffer][] = [['manifest.json', manifestBytes], ...Object.keys(manifest.files).map((n) => [safeName(n), files.get(n)!] as [string, Buffer])];
  const tmp = path.join(bundlesDir, `.tmp-${sha256}-${process.pid}-${crypto.randomUUID()}`);
  try {
    for (const [name, data] of wanted) {
      const dest = path.join(tmp, name);
      await fsp.mkdir(path.dirname(dest), { recursive: true });
      const fh = await fsp.open(dest, 'wx');
      try {
        await fh.writeFile(data);
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
    try {
      await fsp.rename(tmp, dir);
    } catch (err) {
      if (!fs.existsSync(path.join(dir, 'manifest.json'))) throw err; // else: another process unpacked it first
    }
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
  return dir;
}

const bundleWhat = (dir: string) => path.basename(dir).slice(0, 12);

/**
 * An unpacked bundle's manifest, parsed and checked (parseManifest) but with no file read or hashed: enough to learn
 * its family (which runtime loads it) or its variants. Nothing else of the bundle may be read on its strength; the
 * runtime's load (loadBundle) verifies every file before it opens one.
 */
export function readManifest(dir: string): BundleManifest {
  const what = bundleWhat(dir);
  const manifestPath = path.join(dir, 'manifest.json');
  if (!fs.existsSync(manifestPath)) throw refuse(what, 'manifest.json is missing');
  return parseManifest(fs.readFileSync(manifestPath, 'utf8'), what);
}

/** Loads an unpacked bundle, verifying every file's sha256 against the manifest. */
export function loadBundle(dir: string): Bundle {
  const what = bundleWhat(dir);
  const manifest = readManifest(dir);
  verifyFiles(manifest, (name) => {
    const p = path.join(dir, safeName(name));
    return fs.existsSync(p) ? fs.readFileSync(p) : undefined;
  }, what);
  return { dir, manifest };
}

function safeName(name: string): string {
  if (name.startsWith('/') || name.split('/').includes('..')) throw badInput(`unsafe file name in manifest: ${name}`);
  return name;
}
