/**
 * What a registry's instruments refuse: they never throw on a bad value (OpenTelemetry's API rule),
 * they drop it and count it here.
 */

/** Counts of what a registry dropped instead of throwing. One object per registry, shared by its instruments. */
export interface DropCounts {
  /** Values refused by an instrument: NaN, ±Infinity, a non-number, a negative counter or meter step. */
  values: number;
}

/** A drop counter nobody reads: for instruments built outside a registry. */
export function uncountedDrops(): DropCounts {
  return { values: 0 };
}
