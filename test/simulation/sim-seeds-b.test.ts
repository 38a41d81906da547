import { describe, it } from 'vitest';
import { expectSeedsPass } from './seeds.js';

describe('simulation', () => {
  it('seeds 151-300: no safety or liveness violation', () => expectSeedsPass(151, 300), 300_000);
});
