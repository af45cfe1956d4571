// A deployment's live bundle, on the user's device: its manifest from GET /v1/deployments/<name>/bundle/manifest.json,
// then each file the family needs, downloaded once (progress: bytes received / the manifest's sizes), checked against
// the manifest's sha256 with crypto.subtle, and kept in the Cache API keyed by that sha256, so a second visit (or a
// new revision that shares files) reads them from the device. Files are fetched pinned to the sha256 the manifest
// names (?sha256=): if the live revision switches mid-download the server answers 409 and we start again from the
// manifest, rather than mixing two revisions' files.

/** The manifest fields every family has (the family's own runner reads the rest). */
export interface ManifestBase {
  format: string;
  format_version: number;
  model_family: string;
  files: Record<string, { sha256: string; bytes: number }>;
}

export interface Progress {
  /** Bytes of the needed files already here (from the cache or received). */
  received: number;
  total: number;
  /** The file being fetched, or null once all are here. */
  file: string | null;
}

export interface BundleFiles<M extends ManifestBase = ManifestBase> {
  manifest: M;
  revision: number;
  /** The bundle blob's sha256 (the live revision's artifact). */
  bundleSha: string;
  /** The variant the live revision serves (x-ril-variant; a Hugging Face bundle's, null for a built-in one). */
  variant: string | null;
  /** File name -> verified bytes. */
  files: Map<string, Uint8Array>;
  /** Bytes that came over the network this time (0: everything came from the cache). */
  downloadedBytes: number;
  /** Whether the Cache API was usable (it needs a secure context: https or localhost). */
  cacheable: boolean;
}

/** What GET manifest.json says: the manifest, and which live revision (and variant) answered. */
export interface ManifestHead<M extends ManifestBase = ManifestBase> {
  manifest: M;
  revision: number;
  bundleSha: string;
  variant: string | null;
}

export class BundleError extends Error {}

const CACHE = 'ril-bundle-files-v1';
/** The Cache API key of a file: its content, not its name or revision (revisions that share a file share the entry). */
const cacheKey = (sha256: string) => new Request(`${location.origin}/__ril-bundle-file/${sha256}`);

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

async function openCache(): Promise<Cache | null> {
  try {
    return typeof caches === 'undefined' ? null : await caches.open(CACHE);
  } catch {
    return null; // an insecure context or a browser that refuses storage: download every time
  }
}

export interface BundleStoreOptions {
  origin: string;
  apiKey: string;
  deployment: string;
  onProgress?: (p: Progress) => void;
}

export class BundleStore {
  constructor(private readonly opts: BundleStoreOptions) {}

  private url(file: string, sha256?: string) {
    const u = new URL(`/v1/deployments/${encodeURIComponent(this.opts.deployment)}/bundle/${file.split('/').map(encodeURIComponent).join('/')}`, this.opts.origin);
    if (sha256) u.searchParams.set('sha256', sha256);
    return u.href;
  }

  private async get(file: string, sha256?: string): Promise<Response> {
    const res = await fetch(this.url(file, sha256), { headers: { authorization: `Bearer ${this.opts.apiKey}` }, cache: sha256 ? 'default' : 'no-cache' });
    if (!res.ok) {
      let message = `${res.status} ${res.statusText}`;
      try { message = ((await res.json()) as { error?: { message?: string } }).error?.message ?? message; } catch { /* not JSON */ }
      throw Object.assign(new BundleError(`bundle file ${file}: ${message}`), { status: res.status });
    }
    return res;
  }

  /** The live manifest (always asked: it says which revision is live now). */
  async manifest<M extends ManifestBase>(): Promise<ManifestHead<M>> {
    const res = await this.get('manifest.json');
    const manifest = (await res.json()) as M;
    if (!manifest?.files || typeof manifest.files !== 'object') throw new BundleError('manifest.json lists no files');
    return { manifest, revision: Number(res.headers.get('x-ril-revision')), bundleSha: res.headers.get('x-ril-bundle-sha256') ?? '', variant: res.headers.get('x-ril-variant') };
  }

  /** The manifest and the named files, verified; downloads only what the cache lacks. One retry from the manifest
   * if the live revision switched while downloading. `first`: a manifest the caller has just read. */
  async load<M extends ManifestBase>(needed: (m: M, variant: string | null) => string[], first?: ManifestHead<M>): Promise<BundleFiles<M>> {
    for (let attempt = 0; ; attempt++) {
      const head = attempt === 0 && first ? first : await this.manifest<M>();
      try {
        return { ...head, ...(await this.files(head.manifest, needed(head.manifest, head.variant))) };
      } catch (err) {
        if ((err as { status?: number }).status !== 409 || attempt >= 1) throw err;
      }
    }
  }

  private async files(m: ManifestBase, names: string[]) {
    const cache = await openCache();
    for (const n of names) if (!m.files[n]) throw new BundleError(`the manifest does not list ${n}`);
    const total = names.reduce((s, n) => s + m.files[n].bytes, 0);
    let received = 0;
    let downloadedBytes = 0;
    const report = (file: string | null) => this.opts.onProgress?.({ received, total, file });
    const files = new Map<string, Uint8Array>();
    for (const name of names) {
      const { sha256, bytes } = m.files[name];
      const hit = await cache?.match(cacheKey(sha256));
      if (hit) {
        const data = new Uint8Array(await hit.arrayBuffer());
        // a cached entry is checked like a download: what reaches onnxruntime always matched the manifest
        if (data.length === bytes && (await sha256Hex(data)) === sha256) {
          files.set(name, data);
          received += bytes;
          report(name);
          continue;
        }
        await cache!.delete(cacheKey(sha256));
      }
      report(name);
      const data = await this.download(name, sha256, bytes, (n) => { received += n; downloadedBytes += n; report(name); });
      const actual = await sha256Hex(data);
      if (actual !== sha256) throw new BundleError(`${name}: sha256 ${actual.slice(0, 12)}… does not match the manifest's ${sha256.slice(0, 12)}…`);
      await cache?.put(cacheKey(sha256), new Response(data as Uint8Array<ArrayBuffer>, { headers: { 'content-type': 'application/octet-stream' } }));
      files.set(name, data);
    }
    report(null);
    return { files, downloadedBytes, cacheable: cache !== null };
  }

  /** One file's bytes, read as a stream so progress moves while it arrives. */
  private async download(name: string, sha256: string, bytes: number, onChunk: (n: number) => void): Promise<Uint8Array> {
    const res = await this.get(name, sha256);
    if (!res.body) return new Uint8Array(await res.arrayBuffer());
    const out = new Uint8Array(bytes);
    let at = 0;
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (at + value.length > bytes) throw new BundleError(`${name} is longer than the manifest's ${bytes} bytes`);
      out.set(value, at);
      at += value.length;
      onChunk(value.length);
    }
    if (at !== bytes) throw new BundleError(`${name} is ${at} bytes, the manifest says ${bytes}`);
    return out;
  }
}
