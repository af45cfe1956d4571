// `ril serve` as a real child process (the fault and log tests kill it with SIGKILL and read its stdout):
// starts the CLI on a port of the kernel's choosing over the given RIL_HOME / DATABASE_URL and waits until /healthz answers.
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface ServeProcess {
  url: string;
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** SIGKILL, as a crash or an OOM kill would: no shutdown hook runs. */
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

export async function startServe(env: { home: string; databaseUrl?: string; extra?: Record<string, string> }, timeoutMs = 60_000): Promise<ServeProcess> {
  const childEnv: Record<string, string> = {
    // fixtures are written under the system temp folder, the import root of server-path imports
    PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', RIL_HOME: env.home, RIL_TS_WORKER_POLL_MS: '0', RIL_IMPORT_ROOT: os.tmpdir(),
    NODE_OPTIONS: '--no-warnings', ...(env.databaseUrl ? { DATABASE_URL: env.databaseUrl } : {}), ...(env.extra ?? {}),
  };
  // Port 0: the server binds a port of the kernel's choosing and prints it. (A port picked here and passed on could
  // be taken by another process, an outgoing connection's ephemeral port included, before `ril serve` binds it.)
  const child = spawn(process.execPath, [path.join(ROOT, 'clients', 'cli', 'bin', 'ril.js'), 'serve', '--port', '0'],
    { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { err += d; });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + timeoutMs;
  let url: string | undefined;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`ril serve exited (${child.exitCode}) before answering:\n${out}\n${err}`);
    url ??= /RIL platform on (http:\/\/\S+)/.exec(out)?.[1];
    try {
      if (url && (await fetch(`${url}/healthz`)).ok) break;
    } catch { /* not answering yet */ }
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`ril serve did not answer within ${timeoutMs} ms:\n${out}\n${err}`); }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url, child, stdout: () => out, stderr: () => err,
    async kill9() { if (child.exitCode === null && child.signalCode === null) { child.kill('SIGKILL'); await exited; } },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The JSON lines of a process's output (the request log), skipping the human-readable banner. */
export function jsonLines(text: string): Record<string, unknown>[] {
  return text.split('\n').filter((l) => l.startsWith('{')).flatMap((l) => {
    try { return [JSON.parse(l) as Record<string, unknown>]; } catch { return []; }
  });
}
