/** Assertion helpers for fleetwatch errors. */
import { expect } from 'vitest';
import { FleetwatchError } from '../../src/errors.js';

/** Await `p`, expect it to reject with a FleetwatchError, and return that error. */
export async function rejection(p: Promise<unknown>): Promise<FleetwatchError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(FleetwatchError);
    return err as FleetwatchError;
  }
  return expect.fail('expected a rejection');
}

/** Call `fn`, expect it to throw a FleetwatchError, and return that error. */
export function thrown(fn: () => unknown): FleetwatchError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FleetwatchError);
    return err as FleetwatchError;
  }
  return expect.unreachable('did not throw') as never;
}
