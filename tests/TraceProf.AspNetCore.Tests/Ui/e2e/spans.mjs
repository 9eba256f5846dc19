// Walks the trace page's span table like a person: sign in, open the trace, read the spans of every service, see
// which is the slowest and the biggest hot spot, open one span's flame graph and find its hot method there.
// Run by UiBrowserTests; prints one JSON line with what it saw.
// Usage: node spans.mjs <baseUrl> <traceId> <hotMethod> <artefactDir> <chromiumPath>
import { chromium } from 'playwright-core';
import { join } from 'node:path';

const [baseUrl, traceId, hotMethod, artefactDir, executablePath] = process.argv.slice(2);
const result = { ok: false, steps: [], cspViolations: [], consoleErrors: [] };
const step = (name) => result.steps.push(name);

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-quic'],
});
try {
  const context = await browser.newContext({ viewport: { width: 1500, height: 900 } });
  const page = await context.newPage();
  page.on('console', (message) => {
    const text = message.text();
    if (/Content Security Policy/i.test(text)) result.cspViolations.push(text);
    else if (message.type() === 'error') result.consoleErrors.push(text);
  });

  await page.goto(`${baseUrl}/debug/ui/signin`);
  await page.getByLabel('Role').selectOption('admin');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname === '/debug/ui/');
  step('signed in as admin');

  await page.goto(`${baseUrl}/debug/ui/traces/${traceId}`);
  const table = page.locator('table#spans');
  await table.waitFor();
  const rows = table.locator('tbody tr');
  result.spans = await rows.evaluateAll((trs) => trs.map((tr) => ({
    service: tr.cells[0].innerText.trim(),
    spanId: tr.cells[1].innerText.trim(),
    route: tr.cells[2].innerText.trim(),
    duration: tr.cells[4].innerText.trim(),
    cpu: tr.cells[5].innerText.trim(),
    topFrame: tr.cells[10].querySelector('li code')?.innerText ?? '',
    slowest: tr.classList.contains('slowest'),
    hotSpot: tr.querySelector('li.hotspot') !== null,
  })));
  // The span table comes before the merged flame graph's link on the page.
  result.tableBeforeFlameGraph = await page.evaluate(() => {
    const t = document.querySelector('table#spans');
    const link = [...document.querySelectorAll('a')].find((a) => /cpu flame graph/.test(a.textContent));
    return !!t && !!link && (t.compareDocumentPosition(link) & Node.DOCUMENT_POSITION_FOLLOWING) !== 0;
  });
  step(`trace page: ${result.spans.length} span(s)`);
  await page.screenshot({ path: join(artefactDir, 'ui-spans.png'), fullPage: true });

  // Open the flame graph of the span whose top frame is the hot method.
  const target = rows.filter({ hasText: hotMethod }).first();
  result.openedSpan = await target.locator('td').nth(1).innerText();
  await target.locator('td').nth(1).getByRole('link').click();
  await page.waitForURL(/speedscope\/index\.html/);
  await page.getByText('Left Heavy').first().waitFor({ timeout: 120_000 });
  await page.getByText('Sandwich').first().click();
  const hot = page.getByText(hotMethod, { exact: false }).first();
  await hot.waitFor({ timeout: 60_000 });
  result.hotMethodText = await hot.innerText();
  await page.screenshot({ path: join(artefactDir, 'ui-span-sandwich.png') });
  step("the span's flame graph lists its hot method");
  result.ok = true;
} catch (error) {
  result.error = String(error?.stack ?? error);
} finally {
  await browser.close();
}

process.stdout.write(JSON.stringify(result) + '\n');
