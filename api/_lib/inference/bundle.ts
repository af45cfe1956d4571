// Student bundles on disk: a BUNDLE artifact is one blob, a (gzipped) tar of the bundle directory
// (manifest.json, prefill.onnx, decode.onnx, tokenizer.json; see ril_trainer/export.py). It is unpacked
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

export const BUNDLE_FORMAT = 'ril-student-bundle';
export const MODEL_FAMILY = 'ril-vlm-v1';
/** Bundle formats served: 2 (the decode graph takes an attention mask: batched decoding) and 1 (no mask: unbatched). */
export const FORMAT_VERSIONS = [1, 2];

export interface BundleManifest {
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
  if (m.format !== BUNDLE_FORMAT || !FORMAT_VERSIONS.includes(m.format_version)) {
    throw refuse(what, `format ${m.format} v${m.format_version}, expected ${BUNDLE_FORMAT} v${FORMAT_VERSIONS.join(' or v')}`);
  }
  if (m.model_family !== MODEL_FAMILY) throw refuse(what, `model family ${m.model_family}, expected ${MODEL_FAMILY}`);
  if (!m.files || !m.graphs?.prefill?.file || !m.graphs?.decode?.file || !m.kv_cache?.input_names || !m.tokenizer) {
    throw refuse(what, 'manifest.json lacks files, graphs, kv_cache or tokenizer');
  }
  const tokenizerFile = m.tokenizer.type === 'hf-tokenizer-json' ? m.tokenizer.file : undefined;
  if (m.tokenizer.type === 'hf-tokenizer-json' && !tokenizerFile) throw refuse(what, 'the tokenizer names no file');
  for (const f of [m.graphs.prefill.file, m.graphs.decode.file, ...(tokenizerFile ? [tokenizerFile] : [])]) {
    if (!m.files[f]) throw refuse(what, `${f} has no sha256 in the manifest`);
  }
  try {
    checkPreprocessingSpec(m.preprocessing);
  } catch (err) {
    throw refuse(what, (err as Error).message);
  }
  return m;
}

/** The summary stored as a BUNDLE artifact's metadata. */
export function manifestSummary(m: BundleManifest) {
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

/** Unpacks the archive (once) into `<bundlesDir>/<sha256>/` and returns the directory. `archive` may be a
 * function that opens it, so an already unpacked bundle is not read at all. */
export async function unpackBundle(archive: ArchiveSource | (() => Promise<ArchiveSource>), sha256: string, bundlesDir: string, maxBytes = DEFAULT_MAX_BUNDLE_BYTES): Promise<string> {
  const dir = path.join(bundlesDir, sha256);
  if (fs.existsSync(path.join(dir, 'manifest.json'))) return dir;
  const files = await bundleEntries(typeof archive === 'function' ? await archive() : archive, sha256.slice(0, 12), maxBytes);
  const tmp = path.join(bundlesDir, `.tmp-${sha256}-${process.pid}-${crypto.randomUUID()}`);
  try {
    for (const [name, data] of files) {
      const dest = path.join(tmp, name);
      await fsp.mkdir(path.dirname(dest), { recursive: true });
      await fsp.writeFile(dest, data);
    }
    try {
      await fsp.rename(tmp, dir);
    } catch (err) {
      if (!fs.existsSync(path.join(dir, 'manifest.json'))) throw err; // else: another request unpacked it first
    }
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
  return dir;
}

/** Loads an unpacked bundle, verifying every file's sha256 against the manifest. */
export function loadBundle(dir: string): Bundle {
  const what = path.basename(dir).slice(0, 12);
  const manifestPath = path.join(dir, 'manifest.json');
  if (!fs.existsSync(manifestPath)) throw refuse(what, 'manifest.json is missing');
  const manifest = parseManifest(fs.readFileSync(manifestPath, 'utf8'), what);
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
