import { describe, it } from 'vitest';
import { expectSeedsPass } from './seeds.js';

describe('simulation', () => {
  it('seeds 1-150: no safety or liveness violation', () => expectSeedsPass(1, 150), 300_000);
});
