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
