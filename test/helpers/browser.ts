// The dashboard in headless Chromium (Debian's `chromium` through playwright-core), signed in with a key: what the
// browser tests share. RIL_CHROMIUM names another binary.
import fs from 'node:fs';
import type { Browser, Page } from 'playwright-core';

export const CHROMIUM = process.env.RIL_CHROMIUM ?? '/usr/bin/chromium';

/** The reason to skip browser tests on this machine, or false. */
export const chromiumMissing: string | false = fs.existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (apt-get install chromium; scripts/ensure-deps.sh installs it)`;

/** Chromium flags that give headless Chromium a WebGPU adapter without a GPU (SwiftShader, on the CPU). */
export const SOFTWARE_WEBGPU = ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'];

/** Opens the dashboard at `url` and saves `key` in it, as a user does; resolves once the page shows the key's role.
 * `gpu`: flags that give the page a WebGPU adapter (SOFTWARE_WEBGPU) instead of --disable-gpu. */
export async function openDashboard(url: string, key: string, role = 'ADMIN', gpu?: string[]): Promise<{ browser: Browser; page: Page }> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', ...(gpu ?? ['--disable-gpu']), '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  page.setDefaultTimeout(30_000);
  await page.goto(`${url}/`);
  await page.fill('input[name="api-key"]', key);
  await page.click('#save-key');
  await page.waitForSelector(`#who >> text=${role}`);
  return { browser, page };
}

/** Records what the page requests from now on: every path (`fetched`, in order) and every origin other than blob:
 * and data: URLs' (`origins`); browser console errors go to `diagnostic`. */
export function watchRequests(page: Page, diagnostic: (line: string) => void): { fetched: string[]; origins: Set<string> } {
  const fetched: string[] = [];
  const origins = new Set<string>();
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.protocol !== 'blob:' && u.protocol !== 'data:') origins.add(u.origin);
    fetched.push(u.pathname);
  });
  page.on('console', (msg) => { if (msg.type() === 'error') diagnostic(`browser console: ${msg.text()}`); });
  return { fetched, origins };
}

/** Opens the dashboard's Try-it box on `deployment` with "Run on this device" ticked. */
export async function openTryIt(page: Page, url: string, deployment: string): Promise<void> {
  await page.goto(`${url}/#/deployments`);
  await page.waitForSelector('#try-it');
  await page.fill('input[name="try-deployment"]', deployment);
  await page.check('input[name="on-device"]');
}

/** Asks the Try-it box (opened by openTryIt) about one image: the server's answer and the on-device one, with what the
 * pane says about the device run (provider, where the files came from, timings). */
export async function askBoth(page: Page, image: string, question: string, timeoutMs = 120_000) {
  await page.setInputFiles('input[name="image"]', image);
  await page.fill('input[name="question"]', question);
  await page.click('#ask');
  await page.waitForSelector('#ondevice-answer[data-done="1"], #ondevice-pane[data-error="1"]', { timeout: timeoutMs });
  const error = await page.getAttribute('#ondevice-pane', 'data-error');
  if (error !== null) throw new Error(`on-device run failed: ${await page.textContent('#ondevice-status') ?? ''}`);
  await page.waitForSelector('#answer[data-done="1"]');
  return {
    device: JSON.parse((await page.getAttribute('#ondevice-answer', 'data-token-ids'))!) as number[],
    server: JSON.parse((await page.getAttribute('#answer', 'data-token-ids'))!) as number[],
    deviceText: await page.textContent('#ondevice-answer'),
    serverText: await page.textContent('#answer'),
    provider: await page.getAttribute('#ondevice-pane', 'data-provider'),
    source: await page.getAttribute('#ondevice-pane', 'data-source'),
    status: await page.textContent('#ondevice-status') ?? '',
    timings: await page.textContent('#ondevice-timings') ?? '',
  };
}
