import { InvalidArgumentError } from 'commander'

/** Parses options such as --top and --batch. */
export function positiveInt(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number of at least 1')
  return n
}
