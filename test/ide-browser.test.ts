import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from './support/server.js';

/** Debian's chromium: CI installs it (.ci/run); without it this file fails rather than skips. */
const CHROMIUM = '/usr/bin/chromium';
/** generous: a loaded 2-core machine parses Altair's 3 MB of script slowly */
const WAIT_MS = 20_000;
const TEST_MS = 120_000;

let server: TestServer;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) to run the IDE's browser test`);
  [server, browser] = await Promise.all([
    startTestServer(),
    chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    }),
  ]);
});

afterAll(async () => {
  // the browser first: its open subscriptions would hold Berth's drain
  await browser?.close();
  await server?.stop();
});

/** Whether a URL stays on this machine: the test server, or no network at all (data:, blob:). */
function staysLocal(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  return ['data:', 'blob:', 'about:'].includes(protocol) || ['127.0.0.1', 'localhost', '[::1]'].includes(hostname);
}

/**
 * A page in a fresh browser profile, with what would make it unfit for a newcomer collected as it happens: a console
 * error (a Content-Security-Policy violation among them), an uncaught exception, a request (from the page or its
 * workers) leaving this machine.
 */
async function openWatched(url: string, prepare?: (context: BrowserContext) => Promise<unknown>): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  await prepare?.(context);
  const problems: string[] = [];
  context.on('request', (request) => {
    if (!staysLocal(request.url())) problems.push(`request to ${request.url()}`);
  });
  const page = await context.newPage();
  page.on('websocket', (socket) => {
    if (!staysLocal(socket.url())) problems.push(`WebSocket to ${socket.url()}`);
  });
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`uncaught: ${err.message}`));
  await page.goto(url);
  return { page, problems };
}

/** The IDE, its first screen shown; `prepare` readies the browser context further. */
async function openIde(prepare?: (context: BrowserContext) => Promise<unknown>): Promise<{ page: Page; problems: string[] }> {
  const opened = await openWatched(server.berth.url, async (context) => {
    // a profile past the 50 requests after which Altair asks for a donation (its counter in localStorage)
    await context.addInitScript(() => localStorage.setItem('altair:db:dac', JSON.stringify({ value: 50 })));
    await prepare?.(context);
  });
  await opened.page.locator('.cm-line', { hasText: 'login(usernameOrEmail' }).waitFor({ timeout: WAIT_MS });
  return opened;
}

/** An operation's ► button, shown above it in the query editor. */
function sendButton(page: Page, operation: string): Locator {
  return page.locator('.query-editor__line-widget', { hasText: `Send ${operation}` });
}

/** Presses an operation's ► button, as a user runs one of several. */
async function send(page: Page, operation: string): Promise<void> {
  await sendButton(page, operation).click({ timeout: WAIT_MS });
}

/** Waits until the result pane shows `text`. */
async function resultShows(page: Page, text: string): Promise<string> {
  const result = page.locator('app-query-result .cm-content', { hasText: text }).first();
  await result.waitFor({ timeout: WAIT_MS });
  return result.innerText();
}

/** Creates an env through the API, as someone else working on Berth would while the IDE is watching. */
async function createEnv(name: string): Promise<void> {
  const res = await server.gql(`mutation ($name: String!) { createEnv(input: { name: $name }) { id } }`, { name }, await server.adminAuth());
  expect(res.errors).toBeUndefined();
}

describe('the GraphQL IDE in a browser', () => {
  test('a newcomer follows the first screen: logs in, sets the header, runs a query and a subscription that receives an event', async () => {
    const { page, problems } = await openIde();

    // 1. the password goes between the quotes of the Login mutation the first screen offers
    await page.locator('.cm-line', { hasText: 'login(usernameOrEmail' }).click();
    // from the end of `password: "") {`, back over `") {`
    await page.keyboard.press('End');
    for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowLeft');
    await page.keyboard.insertText(ADMIN_PASSWORD);
    await send(page, 'mutation Login');
    // 2. the token, copied from the result
    const login = await resultShows(page, '"accessToken"');
    const token = /"accessToken":\s*"([^"]+)"/.exec(login)?.[1];
    expect(token).toBeDefined();

    // 3. Set Headers: Authorization: Bearer <token>
    await page.locator('[track-id=show_set_headers]').click();
    await page.locator('.cm-content[aria-placeholder="Header key"]').last().click();
    await page.keyboard.insertText('Authorization');
    await page.locator('.cm-content[aria-placeholder="Header value"]').last().click();
    await page.keyboard.insertText(`Bearer ${token}`);
    await page.getByRole('button', { name: 'Done' }).click();

    // 4. a query, as the admin
    await send(page, 'query Me');
    await resultShows(page, '"username": "admin"');

    // and a subscription over graphql-ws with the same token: it opens, then shows an env created meanwhile
    await send(page, 'subscription Events');
    await resultShows(page, '"LIVE"');
    await createEnv('seen-by-the-ide');
    const event = await resultShows(page, 'seen-by-the-ide');
    expect(event).toMatch(/"operation": "INSERT"/);

    // by now the vendor's prompts would have come up: the AI assistant, donations, Altair Cloud's sign-in
    await expect(page.getByText(/Altair AI|Donate|Upgrade to Pro|Sign in/i).filter({ visible: true }).count()).resolves.toBe(0);
    expect(problems).toEqual([]);
    await page.context().close();
  }, TEST_MS);

  test('on a busy machine the first screen still shows the ► button above each of its operations', async () => {
    // The editor parses in slices of a few milliseconds by the page's clock. A clock that leaps 25 ms at each reading
    // ends every slice after one step, as a loaded machine does: Altair as released drew the buttons from the first
    // slice's partial tree and never again (src/server/ide.ts, sendButtonsFollowTheParse). The clock runs true again
    // once the first screen shows: leaping on, it would also use up the parser's budget of background work, which
    // then waits 30 s.
    const { page, problems } = await openIde((context) =>
      context.addInitScript(() => {
        const now = Date.now;
        const clock = globalThis as { leaping?: boolean };
        let ahead = 0;
        clock.leaping = true;
        Date.now = () => now() + (ahead += clock.leaping ? 25 : 0);
      }),
    );
    await page.evaluate(() => ((globalThis as { leaping?: boolean }).leaping = false));
    for (const operation of ['mutation Login', 'query Me', 'subscription Events']) await sendButton(page, operation).waitFor({ timeout: WAIT_MS });
    expect(problems).toEqual([]);
    await page.context().close();
  }, TEST_MS);

  test("the Auth tab's bearer token reaches subscriptions too", async () => {
    const { page, problems } = await openIde();
    const token = (await server.adminAuth()).authorization.replace(/^Bearer /, '');

    await page.getByRole('tab', { name: 'Auth' }).click();
    await page.locator('app-authorization-editor nz-select').click();
    await page.getByText('Bearer Token', { exact: true }).click();
    await page.locator('app-authorization-bearer .cm-content').click();
    await page.keyboard.insertText(token);
    await page.getByRole('tab', { name: 'Query' }).click();

    await send(page, 'subscription Events');
    await resultShows(page, '"LIVE"');
    await createEnv('seen-through-the-auth-tab');
    await resultShows(page, 'seen-through-the-auth-tab');

    expect(problems).toEqual([]);
    await page.context().close();
  }, TEST_MS);
});

describe("the REST API's reference page in a browser", () => {
  test('shows the routes of the OpenAPI document, from local files, under its Content-Security-Policy; a route can be tried', async () => {
    const { page, problems } = await openWatched(`${new URL(server.berth.url).origin}/api/v2/docs/`);
    await page.getByText('Platz API v2 (served by Berth)').first().waitFor({ timeout: WAIT_MS });
    // the operations of one family, from the document
    const envs = page.locator('.opblock-summary-path', { hasText: /^\/api\/v2\/envs$/ });
    await envs.first().waitFor({ timeout: WAIT_MS });
    expect(await page.locator('.opblock-tag', { hasText: 'Envs' }).count()).toBe(1);
    // a public route tried from the page reaches the server
    await page.locator('.opblock-summary-path', { hasText: /^\/status$/ }).click();
    await page.getByRole('button', { name: 'Try it out' }).click();
    await page.getByRole('button', { name: 'Execute' }).click();
    await page.locator('.live-responses-table .response-col_status', { hasText: '200' }).waitFor({ timeout: WAIT_MS });
    expect(problems).toEqual([]);
    await page.context().close();
  }, TEST_MS);
});
