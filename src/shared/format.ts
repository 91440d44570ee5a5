/** Formatting shared by the command line and the window, so both show one size the same way. */

/** Decimal units (1 MB = 1,000,000 bytes), matching how model hubs and browsers list file sizes. */
export function formatBytes(bytes: number): string {
  if (bytes < 999.5) return `${Math.round(bytes)} B`
  const units = ['KB', 'MB', 'GB', 'TB']
  let value = bytes / 1000
  let i = 0
  // 999.96 would print as "1000.0 KB"; move up a unit at the point where rounding would get there.
  while (value >= 999.95 && i < units.length - 1) {
    value /= 1000
    i++
  }
  return `${value.toFixed(1)} ${units[i]}`
}
