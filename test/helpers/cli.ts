// Runs the `ril` bin as a child process (asynchronously: the test process may be serving the API it talks to).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { REPO } from './python.js';

export interface CliResult { code: number | null; stdout: string; stderr: string }

/** `env` is added to this process's environment; a value of undefined removes the variable. `nodeArgs` go to node
 * before the bin (e.g. a preload). The bin runs the compiled CLI when it is up to date, else the sources
 * (clients/cli/bin/ril.js; RIL_CLI_FROM_SOURCE=1 or RIL_CLI_DIST=<dir> choose). */
export function runCli(args: string[], env: Record<string, string | undefined> = {}, nodeArgs: string[] = []): Promise<CliResult> {
  const merged: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete merged[k]; else merged[k] = v;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...nodeArgs, path.join(REPO, 'clients', 'cli', 'bin', 'ril.js'), ...args], { env: merged, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
