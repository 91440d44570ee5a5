import { InvalidArgumentError } from 'commander'

/** Parses options such as --top and --batch. */
export function positiveInt(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number of at least 1')
  return n
}

/** Parses an age in days: `30d`, `30` or `0`. */
export function ageInDays(value: string): number {
  const match = /^(\d+)d?$/.exec(value.trim())
  if (!match) throw new InvalidArgumentError('must be a number of days, such as 30d')
  return Number(match[1])
}
