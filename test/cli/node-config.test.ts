import { isAbsolute } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadNodeConfig } from '../../src/cli/node-config.js';

function errorOf(env: Record<string, string>): string {
  try {
    loadNodeConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).code).toBe('ERR_CONFIG');
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('node configuration', () => {
  it('fills defaults from config/default.json with only NODE_ID set', () => {
    const c = loadNodeConfig({ NODE_ID: 'node-1' });
    expect(c).toMatchObject({
      nodeId: 'node-1',
      httpHost: '0.0.0.0',
      httpPort: 8080,
      grpcHost: '0.0.0.0',
      grpcPort: 9080,
      advertiseHost: '127.0.0.1',
      joinAddrs: [],
      partitions: 16,
      logLevel: 'info',
      tickMs: 100,
      electionTicks: 10,
      replaceAfterMs: 300_000,
    });
    expect(isAbsolute(c.dataDir)).toBe(true);
    expect(c.dataDir.endsWith('data/node-1')).toBe(true);
  });

  it('takes every override from the environment', () => {
    const c = loadNodeConfig({
      NODE_ID: 'n.2_x',
      HTTP_ADDR: '10.0.0.5:7000',
      GRPC_ADDR: ':7100',
      DATA_DIR: '/var/lib/taskraft',
      PARTITIONS: '64',
      LOG_LEVEL: 'debug',
      TICK_MS: '50',
      ELECTION_TICKS: '20',
      REPORT_INTERVAL_MS: '250',
      RECONCILE_INTERVAL_MS: '400',
      NODE_DOWN_AFTER_MS: '2000',
      REPLACE_AFTER_MS: '60000',
      REQUEST_TIMEOUT_MS: '5000',
    });
    expect(c).toMatchObject({
      nodeId: 'n.2_x',
      httpHost: '10.0.0.5',
      httpPort: 7000,
      grpcHost: '0.0.0.0',
      grpcPort: 7100,
      advertiseHost: '10.0.0.5',
      dataDir: '/var/lib/taskraft',
      partitions: 64,
      logLevel: 'debug',
      tickMs: 50,
      electionTicks: 20,
      reportIntervalMs: 250,
      reconcileIntervalMs: 400,
      nodeDownAfterMs: 2000,
      replaceAfterMs: 60_000,
      requestTimeoutMs: 5000,
    });
  });

  it('parses JOIN_ADDR lists: spaces, schemes, trailing slashes', () => {
    const c = loadNodeConfig({ NODE_ID: 'a', JOIN_ADDR: ' localhost:8080 , http://10.1.1.1:8081/, :8082' });
    expect(c.joinAddrs).toEqual(['localhost:8080', '10.1.1.1:8081', '127.0.0.1:8082']);
    expect(errorOf({ NODE_ID: 'a', JOIN_ADDR: 'localhost:8080,nope' })).toContain('JOIN_ADDR="nope"');
  });

  it('says GRPC_ADDR must be set when the default port would not exist', () => {
    expect(errorOf({ NODE_ID: 'a', HTTP_ADDR: ':65000' })).toContain('GRPC_ADDR');
    expect(loadNodeConfig({ NODE_ID: 'a', HTTP_ADDR: ':65000', GRPC_ADDR: ':9000' }).grpcPort).toBe(9000);
  });

  it('lists every bad setting in one error', () => {
    const msg = errorOf({ NODE_ID: 'bad id', HTTP_ADDR: 'x:99999', PARTITIONS: '1e3', TICK_MS: '12abc', LOG_LEVEL: 'loud', ELECTION_TICKS: '' });
    for (const name of ['NODE_ID', 'HTTP_ADDR', 'PARTITIONS', 'TICK_MS', 'LOG_LEVEL', 'ELECTION_TICKS']) expect(msg).toContain(name);
  });

  it('requires NODE_ID and bounds the numbers', () => {
    expect(errorOf({})).toContain('NODE_ID=""');
    expect(errorOf({ NODE_ID: 'a', PARTITIONS: '0' })).toContain('PARTITIONS="0": expected an integer from 1 to 1024');
    expect(errorOf({ NODE_ID: 'a', PARTITIONS: '1025' })).toContain('PARTITIONS');
    expect(errorOf({ NODE_ID: '-a' })).toContain('NODE_ID');
  });

  it('refuses a replacement window shorter than the node-down window', () => {
    expect(errorOf({ NODE_ID: 'a', NODE_DOWN_AFTER_MS: '5000', REPLACE_AFTER_MS: '1000' })).toContain('REPLACE_AFTER_MS');
  });

  it('advertises the bind host unless it is a wildcard, or ADVERTISE_HOST', () => {
    expect(loadNodeConfig({ NODE_ID: 'a', HTTP_ADDR: '[::1]:8080' }).httpHost).toBe('::1');
    expect(loadNodeConfig({ NODE_ID: 'a', HTTP_ADDR: '0.0.0.0:8080' }).advertiseHost).toBe('127.0.0.1');
    expect(loadNodeConfig({ NODE_ID: 'a', ADVERTISE_HOST: 'node-a.internal' }).advertiseHost).toBe('node-a.internal');
  });
});
