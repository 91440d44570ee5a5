/**
 * The date range control's part of a query: the `after:` and `before:` terms at its top level
 * (a whole token, not negated, not in a group). The control replaces them; everything else in the
 * query is the user's and stays as typed.
 */
const RANGE_TERM = /(^|\s)(?:after|before):[^\s()|"]*/gi

/** `query` with its range terms replaced by those of the months `from` to `to` ('YYYY-MM', both included; '' for open). */
export function withDateRange(query: string, from: string, to: string): string {
  let rest = query.replace(RANGE_TERM, '$1').replace(/\s+/g, ' ').trim()
  // The terms join the query by AND, which binds tighter than "|": `dog | cat` needs its group.
  if (hasTopLevelOr(rest)) rest = `(${rest})`
  const terms = [from && `after:${from}`, to && `before:${nextMonth(to)}`].filter(Boolean)
  return [rest, ...terms].filter(Boolean).join(' ')
}

/** The months the query's range terms cover, as the control shows them ('' where open). */
export function dateRangeOf(query: string): { from: string; to: string } {
  let from = ''
  let to = ''
  for (const match of query.matchAll(RANGE_TERM)) {
    const [field, value] = match[0].trim().toLowerCase().split(':')
    const month = /^(\d{4})-(\d{2})(?:-01)?$/.exec(value) ?? /^(\d{4})$/.exec(value)
    if (!month) continue
    if (field === 'after') from = `${month[1]}-${month[2] ?? '01'}`
    else to = previousMonth(`${month[1]}-${month[2] ?? '01'}`)
  }
  return { from, to }
}

function nextMonth(month: string): string {
  const [year, m] = month.split('-').map(Number)
  return m === 12 ? `${String(year + 1).padStart(4, '0')}-01` : `${String(year).padStart(4, '0')}-${String(m + 1).padStart(2, '0')}`
}

function previousMonth(month: string): string {
  const [year, m] = month.split('-').map(Number)
  return m === 1 ? `${String(year - 1).padStart(4, '0')}-12` : `${String(year).padStart(4, '0')}-${String(m - 1).padStart(2, '0')}`
}

/** Whether a "|" stands outside every group and phrase. */
function hasTopLevelOr(query: string): boolean {
  let depth = 0
  let quoted = false
  for (let i = 0; i < query.length; i++) {
    const c = query[i]
    if (quoted) {
      if (c === '\\') i++
      else if (c === '"') quoted = false
    } else if (c === '"') quoted = true
    else if (c === '(') depth++
    else if (c === ')') depth--
    else if (c === '|' && depth === 0) return true
  }
  return false
}
