// The journey's HTML page in a real browser (Debian's chromium through playwright-core): one lane
// per node, one row per packet, and a click on a packet opens its headers at every hop with the
// fields a router changed marked. Rendered from the recorded web journey (no Docker needed).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium } from './browser.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { journeyDocument } from '../../orchestrator/journey/document.js';
import { recordedRun } from '../fixtures/journey/recorded.js';
import { renderHtml } from '../../orchestrator/journey/views/html.js';

let browser: Browser;
let page: string;

beforeAll(async () => {
  const doc = journeyDocument(recordedRun('web'));
  page = join(mkdtempSync(join(tmpdir(), 'hn-journey-page-')), 'journey.html');
  writeFileSync(page, renderHtml(doc));
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

describe('the journey page', () => {
  it('shows a lane per node and opens a packet to its headers at every hop, changed fields marked', async () => {
    const context = await browser.newContext();
    const tab = await context.newPage();
    // Self-contained: any request beyond the file itself would be a bug.
    const requests: string[] = [];
    tab.on('request', (r) => requests.push(r.url()));
    await tab.goto(`file://${page}`);
    for (const node of ['alice', 'home', 'isp', 'edge', 'web']) {
      expect(await tab.locator('svg text', { hasText: node }).first().isVisible(), node).toBe(true);
    }
    const syn = tab.locator('details.packet', { hasText: 'SYN' }).first();
    expect(await syn.locator('table.hops').isVisible()).toBe(false);
    await syn.locator('summary').click();
    expect(await syn.locator('table.hops').isVisible()).toBe(true);
    // Home rewrote the source, the edge the destination: both cells are marked at their hop.
    const changed = await syn.locator('td.changed').allTextContents();
    expect(changed.join(' ')).toContain('203.0.113.5');
    expect(changed.join(' ')).toContain('10.0.1.10');
    expect(await syn.locator('.changes').textContent()).toMatch(
      /home: src ip 192\.168\.1\.101 → 203\.0\.113\.5 \(snat\)/,
    );
    expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
    await context.close();
  }, 60_000);
});
