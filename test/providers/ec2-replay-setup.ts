import { afterAll, afterEach, beforeAll } from 'vitest';
import { ec2 } from '../../src/providers/ec2.js';
import { type ReplayServer, recordingSleep, startReplayServer } from './server.js';

type Ec2Settings = Partial<Parameters<typeof ec2>[0]>;

/**
 * A replay server for an EC2 suite (started before, closed after, its request log cleared after
 * each test) and `provider()`, an `ec2()` on it with a recording sleep: `settings(url)` gives the
 * suite's credentials and endpoint, `extra` a test's own options.
 */
export function ec2ReplaySetup(
  handle: Parameters<typeof startReplayServer>[0],
  settings: (url: string) => Ec2Settings,
) {
  const replay = {
    server: undefined as unknown as ReplayServer,
    provider(extra: Ec2Settings = {}) {
      const sleeper = recordingSleep();
      const p = ec2({
        id: 'aws-replay',
        region: 'eu-west-1',
        ...settings(replay.server.url),
        http: { sleep: sleeper.sleep, random: () => 0 },
        ...extra,
      });
      return { p, waits: sleeper.waits };
    },
  };
  beforeAll(async () => {
    replay.server = await startReplayServer(handle);
  });
  afterAll(() => replay.server.close());
  afterEach(() => {
    replay.server.requests.length = 0;
  });
  return replay;
}
