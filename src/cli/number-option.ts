// Numeric options of the commands that start simulated servers (sim, demo).

/**
 * The number given as `--name`, or undefined when it is not given. It must lie within
 * [min, max] and be whole unless `integer` is false; otherwise an Error names the option.
 */
export function numberOption(name: string, value: string | undefined, min: number, max: number, integer = true): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
    throw new Error(`--${name} must be ${integer ? 'an integer' : 'a number'} between ${min} and ${max}`);
  }
  return n;
}
