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

/** `n` distinct free ports (all held open until all are picked, so no two are the same). The caller binds them
 * later: only where a port must be known before its process starts (an instance's RIL_PUBLIC_URL); otherwise pass
 * port 0 and read the bound one. */
export async function freePorts(n: number): Promise<number[]> {
  const servers = Array.from({ length: n }, () => net.createServer());
  await Promise.all(servers.map((srv) => new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()))));
  const ports = servers.map((srv) => (srv.address() as net.AddressInfo).port);
  await Promise.all(servers.map((srv) => new Promise<void>((r) => srv.close(() => r()))));
  return ports;
}


/** Whether this process can give a child a read-only view of the checkout. */
export function canMountReadOnly(): boolean {
  if (process.getuid?.() !== 0) return false;
  return spawnSync('unshare', ['-m', 'sh', '-c', `mount --bind "${ROOT}" "${ROOT}" && mount -o remount,ro,bind "${ROOT}"`]).status === 0;
}

export async function startInstance(env: Record<string, string>, opts: { port?: number; readOnly?: boolean } = {}): Promise<Instance> {
  const port = opts.port ?? 0; // 0: the instance binds a port of the kernel's choosing and prints its URL
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
