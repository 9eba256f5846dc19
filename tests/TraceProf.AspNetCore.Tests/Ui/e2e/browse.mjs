// Walks TraceProf's browser UI like a person: open the pprof index, sign in from its hint, follow its link to the
// UI, filter by a trace id, open the flame graph, find the hot method. Every console message of type error, every
// CSP violation and every uncaught page error is collected (with the URL it came from) for the test to judge. Run by UiBrowserTests; prints one JSON line with what it saw and how long each step took.
// Usage: node browse.mjs <baseUrl> <traceId> <hotMethod> <artefactDir> <chromiumPath>
import { chromium } from 'playwright-core';
import { join } from 'node:path';

const [baseUrl, traceId, hotMethod, artefactDir, executablePath] = process.argv.slice(2);
const result = { ok: false, steps: [], timingsMs: {}, cspViolations: [], consoleErrors: [], pageErrors: [] };
const step = (name) => result.steps.push(name);

// The machine's network is closed: these flags keep chromium from reaching for Google's services at start.
// playwright gives the browser a fresh, temporary profile of its own.
const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-quic'],
});
try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 800 } });
  const page = await context.newPage();
  page.on('console', (message) => {
    const text = message.text();
    if (/Content Security Policy/i.test(text)) result.cspViolations.push(text);
    else if (message.type() === 'error') result.consoleErrors.push({ text, url: message.location()?.url ?? '' });
  });
  page.on('pageerror', (error) => result.pageErrors.push(String(error?.message ?? error)));

  // 1. Without a role the UI answers with a sign-in prompt (a browser cannot send X-Debug-Role).
  const first = await page.goto(`${baseUrl}/debug/ui/?traceId=${traceId}`);
  result.firstStatus = first.status();
  step(`opened /debug/ui/: ${first.status()}`);

  // 2. So does the pprof index: the UI's sign-in hint (HTML), not problem+json; signing in from there comes back.
  const index = await page.goto(`${baseUrl}/debug/pprof/`);
  result.indexStatus = index.status();
  result.indexContentType = index.headers()['content-type'];
  step(`opened /debug/pprof/: ${index.status()} ${result.indexContentType}`);
  await page.getByRole('link', { name: 'sign in' }).click();
  await page.getByLabel('Role').selectOption('admin');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname === '/debug/pprof/');
  step('signed in as admin, back on the pprof index');
  // Styled by the UI's stylesheet (system-ui font), and linking the UI.
  result.indexFont = await page.evaluate(() => getComputedStyle(document.body).fontFamily);
  result.indexRows = await page.locator('tbody tr').count();
  await page.screenshot({ path: join(artefactDir, 'pprof-index.png'), fullPage: true });
  await page.getByRole('link', { name: 'browser UI' }).click();
  await page.waitForURL((url) => url.pathname === '/debug/ui/');
  step('followed the index to the UI');

  // 3. Filter by the trace id, as a person pasting it from a log.
  await page.getByLabel('Trace id').fill(traceId.toUpperCase());
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL((url) => url.searchParams.get('traceId') !== null);
  const rows = page.locator('tbody tr');
  result.rows = await rows.count();
  result.rowText = await rows.first().innerText();
  step(`filtered: ${result.rows} row(s)`);
  await page.screenshot({ path: join(artefactDir, 'ui-list.png'), fullPage: true });

  // 4. Open the flame graph: speedscope fetches the profile with the session cookie and draws it on a canvas.
  const started = Date.now();
  await rows.first().getByRole('link', { name: /Flame graph/ }).click();
  await page.waitForURL(/speedscope\/index\.html/);
  await page.getByText('Left Heavy').first().waitFor({ timeout: 120_000 });
  await page.locator('canvas').first().waitFor({ timeout: 120_000 });
  result.timingsMs.profileShown = Date.now() - started;
  step('speedscope loaded the profile');
  await page.getByText('Left Heavy').first().click();
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(artefactDir, 'ui-flamegraph.png') });

  // 5. The canvas is opaque to the DOM; the sandwich view lists every function as text, heaviest first.
  await page.getByText('Sandwich').first().click();
  const hot = page.getByText(hotMethod, { exact: false }).first();
  await hot.waitFor({ timeout: 60_000 });
  result.timingsMs.hotMethodListed = Date.now() - started;
  result.hotMethodText = await hot.innerText();
  await hot.click();
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(artefactDir, 'ui-sandwich.png') });
  step('hot method listed in the sandwich view');
  result.ok = true;
} catch (error) {
  result.error = String(error?.stack ?? error);
} finally {
  await browser.close();
}

process.stdout.write(JSON.stringify(result) + '\n');
