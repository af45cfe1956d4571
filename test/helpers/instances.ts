// Starts "instances" of the Vercel deployment as separate processes (./vercel-instance.ts), each on its own port,
// with the repository mounted read-only when the test runs as root (a private mount namespace through
// `unshare -m`; as another user the checkout is simply not writable by a `nobody`-like process, so we report
// which one applied). Only /tmp stays writable, as on Vercel.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface Instance { url: string; child: ChildProcess; readOnly: boolean; log(): string; stop(): Promise<void> }

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Whether this process can give a child a read-only view of the checkout. */
export function canMountReadOnly(): boolean {
  if (process.getuid?.() !== 0) return false;
  return spawnSync('unshare', ['-m', 'sh', '-c', `mount --bind "${ROOT}" "${ROOT}" && mount -o remount,ro,bind "${ROOT}"`]).status === 0;
}

export async function startInstance(env: Record<string, string>, opts: { port?: number; readOnly?: boolean } = {}): Promise<Instance> {
  const port = opts.port ?? await freePort();
  const readOnly = opts.readOnly ?? canMountReadOnly();
  const node = `exec "${process.execPath}" --no-warnings --import tsx test/helpers/vercel-instance.ts`;
  const child = readOnly
    ? spawn('unshare', ['-m', 'sh', '-c', `mount --bind "${ROOT}" "${ROOT}" && mount -o remount,ro,bind "${ROOT}" && ${node}`], { cwd: ROOT, env: { ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn('sh', ['-c', node], { cwd: ROOT, env: { ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d) => { log = (log + d).slice(-20_000); });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening (\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`instance exited (${code}) before listening:\n${log}`)));
  });
  return {
    url, child, readOnly, log: () => log,
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 3000).unref();
    }),
  };
}
