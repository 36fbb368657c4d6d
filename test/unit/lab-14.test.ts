// Lab 14's pure parts: the overlay (the mail node, the edge's NAT and security group, the MX
// record per fault), the per-seed faults, and the mailbox summary's parser.
import { describe, expect, it } from 'vitest';
import lab, {
  ALICE_PUBLIC,
  FAULTS,
  MAIL_PRIVATE,
  MAIL_PUBLIC,
  mailWorld,
  overTls,
  parseMboxSummary,
  receivedFrom,
} from '../../labs/14-email/lab.js';
import { varsFor } from '../../orchestrator/labs/lab.js';
import { canonicalWorld } from '../../orchestrator/world/world.js';
import { zoneFile } from '../../orchestrator/world/config.js';

const bobZone = (fault: (typeof FAULTS)[number]) =>
  zoneFile(mailWorld(canonicalWorld, fault).settings.zones.find((z) => z.name === 'bob.example')!);

describe('lab 14: email', () => {
  it('adds the mail node behind the edge with its own public address and port 25 let in', () => {
    const w = mailWorld(canonicalWorld, 'relay-denied');
    const mail = w.nodes.find((n) => n.name === 'mail');
    expect(mail?.role).toBe('mail');
    expect(mail?.interfaces[0]?.addresses).toEqual([`${MAIL_PRIVATE}/24`]);
    const edge = w.nodes.find((n) => n.name === 'edge')!;
    expect(edge.interfaces.find((i) => i.link === 'backbone')?.addresses).toContain(`${MAIL_PUBLIC}/24`);
    expect(edge.nat).toContainEqual({ kind: 'dnat', publicAddress: MAIL_PUBLIC, privateAddress: MAIL_PRIVATE });
    expect(edge.firewall?.allow).toContainEqual({ inLink: 'backbone', to: MAIL_PRIVATE, proto: 'tcp', ports: '25' });
    expect(bobZone('relay-denied')).toMatch(/^@ IN MX 10 mail\.bob\.example\.$/m);
    // The canonical world stays as it is.
    expect(canonicalWorld.nodes.some((n) => n.name === 'mail')).toBe(false);
  });

  it('breaks one step per fault: the MX record, the security group, or Postfix (a fault script)', () => {
    expect(bobZone('mx-wrong')).toMatch(/^@ IN MX 10 web\.bob\.example\.$/m);
    const sg = mailWorld(canonicalWorld, 'sg-port').nodes.find((n) => n.name === 'edge')!;
    expect(sg.firewall?.allow.find((r) => r.to === MAIL_PRIVATE)?.ports).toBe('587');
    for (const seed of ['seed-a', 'seed-d', 'x1', 'x2', 'x3', 'x4', 'x5', 'x6']) {
      const v = varsFor(lab, seed);
      const faults = lab.faults(v, lab.overlay!(canonicalWorld, v));
      expect(faults.length).toBe(v.fault === 'relay-denied' ? 1 : 0);
      expect(lab.task!(v).hand_subject).toBe(v.handSubject);
    }
    const seen = new Set(Array.from({ length: 40 }, (_, i) => varsFor(lab, `s${i}`).fault));
    expect([...seen].sort()).toEqual([...FAULTS].sort());
  });

  it("reads the mailbox summary: subject, size and Postfix's Received header", () => {
    const [hand, big] = parseMboxSummary(
      [
        'hello bob 1272\t358\tfrom alice (unknown [203.0.113.5]) by mail.bob.example (Postfix) with ESMTP id D3',
        'birthday 1669\t203625\tfrom x (unknown [203.0.113.5]) (using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384) by mail.bob.example (Postfix)',
        'forged\t10\tfrom home (unknown [192.168.1.1]) by mail.bob.example (Postfix)',
        '',
      ].join('\n'),
    );
    expect(hand).toMatchObject({ subject: 'hello bob 1272', bytes: 358 });
    expect(receivedFrom(hand!, ALICE_PUBLIC)).toBe(true);
    expect(overTls(hand!)).toBe(false);
    expect(overTls(big!)).toBe(true);
    expect(parseMboxSummary('garbage')).toEqual([]);
  });
});
