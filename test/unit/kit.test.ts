import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addressOf, addressesOf, cidrOf, heredoc, jsonLines, nonce, startService } from '../../labs/kit/index.js';
import { notItself } from '../../labs/kit/faults.js';
import { draws, drawsIndependently, rngFrom } from '../../orchestrator/labs/lab.js';
import { canonicalWorld } from '../../orchestrator/world/world.js';

describe('lab kit: the world', () => {
  it("finds a node's address on a link, or on its only link", () => {
    expect(addressOf(canonicalWorld, 'home', 'access')).toBe('203.0.113.5');
    expect(cidrOf(canonicalWorld, 'alice')).toBe('192.168.1.101/24');
    expect(addressesOf(canonicalWorld, 'edge', 'backbone')).toEqual(['198.51.100.2', '198.51.100.80']);
    expect(() => addressOf(canonicalWorld, 'home')).toThrow(/no address on a single link \(links: lan, access\)/);
    expect(() => addressOf(canonicalWorld, 'carol')).toThrow(/no node "carol"/);
  });
});

describe('lab kit: logs and faults', () => {
  it('reads JSON lines and skips the ones that do not parse', () => {
    expect(jsonLines('{"a":1}\nnot json\n{"a":2}\n{"a":')).toEqual([{ a: 1 }, { a: 2 }]);
  });
  it('writes a file exactly, even when it contains the here-document tag and shell syntax', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hn-kit-'));
    const content = "line $HOME `id`\nHURRYNET_EOF\n'quoted'\n";
    execFileSync('bash', ['-ec', heredoc(join(dir, 'sub', 'f.txt'), content, '0600')]);
    expect(readFileSync(join(dir, 'sub', 'f.txt'), 'utf8')).toBe(content);
  });
  it('makes fresh nonces', () => {
    expect(nonce()).toMatch(/^[0-9a-f]{8}$/);
    expect(nonce()).not.toBe(nonce());
  });
});

describe('the rule of variation', () => {
  const colours = ['red', 'green'];
  const make = (more: string[]) =>
    draws<{ colour: string; port: number; mode: string }>({
      colour: (r) => r.pick([...colours, ...more]),
      port: (r) => r.int(40000, 49999),
      // Conditional: only some learners get a mode, drawn from its own stream.
      mode: (r, d) => (d.colour === 'red' ? r.pick(['a', 'b']) : 'none'),
    });
  it('adding a choice to one list never changes another variable of any learner', () => {
    const before = make([]);
    const after = make(['blue', 'violet']);
    for (let i = 0; i < 200; i++) {
      const a = before(rngFrom(`x:${i}`));
      const b = after(rngFrom(`x:${i}`));
      expect(b.port).toBe(a.port);
      if (b.colour === a.colour) expect(b.mode).toBe(a.mode);
    }
  });
  it('is deterministic in the seed and marks the vary function as following the rule', () => {
    const vary = make([]);
    expect(vary(rngFrom('s'))).toEqual(vary(rngFrom('s')));
    expect(drawsIndependently(vary)).toBe(true);
    expect(drawsIndependently(() => ({}))).toBe(false);
  });
});

describe("a lab's own files", () => {
  it('are found per node under files/, and a folder for a node the world lacks is refused', async () => {
    const { mkdirSync, writeFileSync } = await import('node:fs');
    const { labFileTrees } = await import('../../orchestrator/labs/labrun.js');
    const dir = mkdtempSync(join(tmpdir(), 'hn-labfiles-'));
    mkdirSync(join(dir, 'files', 'web', 'srv'), { recursive: true });
    writeFileSync(join(dir, 'files', 'web', 'srv', 'x.txt'), 'x');
    const lab = { id: '99', dir } as Parameters<typeof labFileTrees>[0];
    expect(labFileTrees(lab, canonicalWorld)).toEqual([{ node: 'web', path: join(dir, 'files', 'web') }]);
    mkdirSync(join(dir, 'files', 'carol'));
    expect(() => labFileTrees(lab, canonicalWorld)).toThrow(/files\/carol names no node of its world/);
  });
});

describe('lab kit: restarting a service', () => {
  it('stops the old copy by a pattern that matches the service but not the fault script itself', () => {
    const f = startService('web', 'the streamer', {
      start: 'node /srv/stream/streamer.js',
      port: 5004,
      stopPattern: 'streamer.js',
    });
    const pattern = notItself('streamer.js');
    expect(pattern).toBe('[s]treamer.js');
    expect(f.script).toContain(`pkill -f '${pattern}'`);
    // pkill -f reads its pattern as a regular expression over whole command lines.
    expect(new RegExp(pattern).test('node /srv/stream/streamer.js')).toBe(true);
    expect(new RegExp(pattern).test(`bash -ec ${f.script}`)).toBe(false);
    expect(notItself('/usr/sbin/vsftpd')).toBe('/[u]sr/sbin/vsftpd');
  });
});
