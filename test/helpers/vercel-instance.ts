// One "instance" of the Vercel deployment, for tests and the cold-start benchmark: a node:http server that routes
// like Vercel does from vercel.json (rewrites, then /api/<path> -> api/<path>.ts with [param] segments, then the
// static files of `outputDirectory`) and calls each function's default export through the (req, res) contract of
// @vercel/node. Functions are imported on their first request, as a cold instance does. Run as a child process:
//   PORT=0 node --import tsx test/helpers/vercel-instance.ts      -> prints `listening <url>` on stdout
// RIL_ONLY_FUNCTION=api/graphql.ts serves one function only (the cold-start benchmark).
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { functionEntries } from './functionEntries.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const config = JSON.parse(fs.readFileSync(path.join(ROOT, 'vercel.json'), 'utf8')) as {
  rewrites?: { source: string; destination: string }[]; outputDirectory?: string;
};

type Fn = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;

/** Each function with the path it answers: `[x]` in a file name matches one path segment. */
const functions = functionEntries(ROOT)
  .filter((f) => !process.env.RIL_ONLY_FUNCTION || f === process.env.RIL_ONLY_FUNCTION)
  .map((file) => ({ file, re: new RegExp(`^/${file.replace(/\.ts$/, '').replace(/\[[^/\]]+\]/g, '[^/]+')}$`) }));

/** `/blobs/:sha256` -> a regex and a function building the destination. */
const rewrites = (config.rewrites ?? []).map((r) => {
  const names: string[] = [];
  const re = new RegExp(`^${r.source.replace(/:([a-zA-Z0-9_]+)/g, (_m, n) => { names.push(n); return '([^/]+)'; })}$`);
  return { re, to: (m: RegExpExecArray) => names.reduce((d, n, i) => d.replace(`:${n}`, m[i + 1]), r.destination) };
});

const loaded = new Map<string, Promise<Fn>>();
const load = (file: string) => {
  let fn = loaded.get(file);
  if (!fn) {
    fn = import(pathToFileURL(path.join(ROOT, file)).href).then((m) => m.default as Fn);
    loaded.set(file, fn);
  }
  return fn;
};

const STATIC_TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  let pathname = url.pathname;
  for (const r of rewrites) {
    const m = r.re.exec(pathname);
    if (m) { pathname = r.to(m); break; }
  }
  const fn = functions.find((f) => f.re.test(pathname));
  if (fn) {
    // Vercel hands the function the rewritten path; the query string is kept.
    req.url = pathname + url.search;
    try {
      await (await load(fn.file))(req, res);
    } catch (err) {
      console.error(`[instance] ${fn.file} threw:`, err);
      if (!res.headersSent) res.writeHead(500).end('function crashed');
    }
    return;
  }
  const dir = path.join(ROOT, config.outputDirectory ?? 'public');
  const file = path.join(dir, pathname === '/' ? 'index.html' : pathname);
  if ((req.method === 'GET' || req.method === 'HEAD') && file.startsWith(dir + path.sep) && fs.existsSync(file) && fs.statSync(file).isFile()) {
    res.writeHead(200, { 'content-type': STATIC_TYPES[path.extname(file)] ?? 'application/octet-stream' });
    return void res.end(req.method === 'HEAD' ? undefined : fs.readFileSync(file));
  }
  res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'NOT_FOUND', message: `no route for ${pathname}` } }));
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const { port } = server.address() as import('node:net').AddressInfo;
  process.stdout.write(`listening http://127.0.0.1:${port}\n`);
});
process.on('SIGTERM', () => { server.closeAllConnections(); server.close(() => process.exit(0)); });
