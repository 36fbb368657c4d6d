import { describe, expect, it } from 'vitest';
import {
  allocateSubnets,
  contains,
  firstHost,
  formatIp,
  networkOf,
  overlaps,
  parseCidr,
  parseIp,
} from '../../orchestrator/world/addresses.js';

describe('IPv4 arithmetic', () => {
  it('parses and formats addresses', () => {
    expect(parseIp('192.168.1.101')).toBe(3232235877);
    expect(formatIp(parseIp('198.51.100.80'))).toBe('198.51.100.80');
    expect(formatIp(parseIp('255.255.255.255'))).toBe('255.255.255.255');
  });
  it('rejects malformed addresses and prefixes', () => {
    expect(() => parseIp('300.1.1.1')).toThrow(/not an IPv4/);
    expect(() => parseIp('1.2.3')).toThrow(/not an IPv4/);
    expect(() => parseCidr('10.0.0.0/33')).toThrow(/not an IPv4 prefix/);
    expect(() => parseCidr('10.0.0.0')).toThrow(/not an IPv4 prefix/);
  });
  it('answers prefix questions', () => {
    expect(contains('192.168.1.0/24', '192.168.1.101')).toBe(true);
    expect(contains('192.168.1.0/24', '192.168.2.1')).toBe(false);
    expect(contains('0.0.0.0/0', '203.0.113.5')).toBe(true);
    expect(networkOf('10.0.1.10/24')).toBe('10.0.1.0/24');
    expect(overlaps('10.250.0.0/16', '10.250.3.16/28')).toBe(true);
    expect(overlaps('10.250.0.0/28', '10.250.0.16/28')).toBe(false);
    expect(firstHost('10.250.0.16/28')).toBe('10.250.0.17');
  });
});

describe('subnet pool', () => {
  it('hands out consecutive free /28s', () => {
    expect(allocateSubnets('10.250.0.0/16', [], 3)).toEqual(['10.250.0.0/28', '10.250.0.16/28', '10.250.0.32/28']);
  });
  it('skips anything that overlaps a network already on the engine, ours or not', () => {
    const taken = ['10.250.0.0/28', '10.250.0.32/27', '172.17.0.0/16'];
    expect(allocateSubnets('10.250.0.0/16', taken, 2)).toEqual(['10.250.0.16/28', '10.250.0.64/28']);
  });
  it('says what to do when the pool is full', () => {
    expect(() => allocateSubnets('10.250.0.0/26', ['10.250.0.0/27'], 3)).toThrow(
      /no room for 3 more networks.*hurrynet stop --all/,
    );
  });
});

describe('subnet pool spreading', () => {
  it('starts from another place in the pool when asked, wrapping around', () => {
    expect(allocateSubnets('10.250.0.0/26', [], 2, 28, 3)).toEqual(['10.250.0.48/28', '10.250.0.0/28']);
  });
});
