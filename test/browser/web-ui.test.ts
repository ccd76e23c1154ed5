import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ListingSyncClient } from '../../src/client/index.ts';
import { makeProducts } from '../helpers/emulator.ts';
import { seedConnection, type SeededConnection } from '../helpers/fixtures.ts';
import { openStack, uniqueTaskQueue, withWorker, type TestStack } from '../helpers/stack.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = new URL('../../test-results/', import.meta.url).pathname;

describe('operators in the Temporal Web UI (headless Chromium)', function () {
  this.timeout(180_000);
  let stack: TestStack;
  let browser: Browser;
  let page: Page;
  let ok: SeededConnection;
  let denied: SeededConnection;
  let ui: string;

  before(async function () {
    ui = process.env.TEMPORAL_UI_URL ?? '';
    assert.ok(ui, 'TEMPORAL_UI_URL is set by scripts/test.sh');
    assert.ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM} (scripts/test.sh installs Debian's chromium)`);
    mkdirSync(SHOTS, { recursive: true });
    stack = await openStack();
    ok = await seedConnection(stack.db, {
      products: (a) => [...makeProducts(a, 'SaaSProduct', 7), ...makeProducts(a, 'ContainerProduct', 2)],
    });
    denied = await seedConnection(stack.db, { connection: { external_id: 'not-what-the-role-trusts' } });
    const tq = uniqueTaskQueue('ui');
    await withWorker(tq, async () => {
      const app = ListingSyncClient.fromClient(stack.client, tq);
      await app.syncConnectionNow(ok.connectionId);
      await app.syncConnectionNow(denied.connectionId).catch(() => undefined);
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1600, height: 1200 } });
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  async function openRunFromSearch(connectionId: string): Promise<string> {
    const query = encodeURIComponent(`ConnectionId = "${connectionId}"`);
    await page.goto(`${ui}/namespaces/default/workflows?query=${query}`);
    const link = page.locator(`a[href*="/workflows/sync-connection-${connectionId}/"]`).first();
    await link.waitFor({ timeout: 30_000 });
    await link.click();
    await page.waitForURL(/\/history/, { timeout: 30_000 });
    await page.getByText(`sync-connection-${connectionId}`).first().waitFor();
    return page.url();
  }

  it('finds a sync by connection id and shows its summary, activity summaries and counts', async () => {
    await openRunFromSearch(ok.connectionId);
    await page
      .getByText(`Sync AWS Marketplace listings of connection ${ok.connectionId}`)
      .first()
      .waitFor({ timeout: 30_000 });
    await page.getByText(`Reconcile 9 products of account ${ok.accountId}`).first().waitFor({ timeout: 30_000 });
    await page.getByText(`Assume the seller's role for connection ${ok.connectionId}`).first().waitFor();
    const text = await page.locator('body').innerText();
    assert.match(text, /"imported":\s*9/, 'the result counts are on the page');
    assert.match(text, /"total_aws":\s*9/);
    await page.screenshot({ path: `${SHOTS}ui-sync-succeeded.png`, fullPage: true });
  });

  it('shows a denied role as AssumeRoleDenied with the message to act on', async () => {
    await openRunFromSearch(denied.connectionId);
    // The Result panel renders only the lines in view; the failure's type is at its end, below the message.
    const result = page.locator('.cm-scroller').filter({ hasText: 'workflowExecutionFailedEventAttributes' });
    await result.waitFor({ timeout: 30_000 });
    await result.evaluate((el) => el.scrollTo(0, el.scrollHeight));
    await page.getByText('AssumeRoleDenied').first().waitFor({ timeout: 30_000 });
    const text = await page.locator('body').innerText();
    assert.match(text, /AWS denied AssumeRole on arn:aws:iam::\d{12}:role\/ListingSyncReadOnly/);
    assert.match(text, /trust policy/);
    await page.screenshot({ path: `${SHOTS}ui-sync-denied.png`, fullPage: true });
  });
});
