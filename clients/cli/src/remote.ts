// Commands that talk to a running platform (experiments, deploy, infer) go through the SDK: RIL_API_URL (default
// http://127.0.0.1:$PORT) and RIL_API_KEY, or --api-url / --api-key on the command.
import type { Command } from 'commander';
import { RilClient } from '../../sdk/src/index.js';

export interface RemoteOptions { apiUrl?: string; apiKey?: string }

export function remoteOptions(cmd: Command): Command {
  return cmd
    .option('--api-url <url>', 'platform URL (default $RIL_API_URL or http://127.0.0.1:$PORT)')
    .option('--api-key <key>', 'API key (default $RIL_API_KEY)');
}

export function remote(opts: RemoteOptions = {}): RilClient {
  const url = opts.apiUrl ?? process.env.RIL_API_URL ?? `http://127.0.0.1:${process.env.PORT ?? 4000}`;
  const apiKey = opts.apiKey ?? process.env.RIL_API_KEY;
  if (!apiKey) throw Object.assign(new Error('no API key: set RIL_API_KEY (or pass --api-key)'), { extensions: { code: 'UNAUTHENTICATED' } });
  return new RilClient({ url, apiKey });
}

/**
 * Commands that work on either side (`datasets import`, `teachers fill`) go through the API only when one is named
 * (--api-url or RIL_API_URL); otherwise they open this machine's database like the other local commands.
 */
export const namesRemote = (opts: RemoteOptions = {}): boolean => Boolean(opts.apiUrl ?? process.env.RIL_API_URL);
