import { termKey, type QueryNode } from './queryParser'

export interface TermScores {
  /** Relevance of the term, per photo. */
  score: Float32Array
  /** 1 where the term ranks within the photo's top N of the pack's vocabulary plus the term, else 0 (only 0 or 1). */
  applies: Uint8Array
  /** 1 where the photo carries the term as a keyword of the user's: it ranks before those the term's vector merely scores (0 or 1). */
  first?: Uint8Array
}

export interface EvaluateOptions {
  /** Return every photo, ranked, instead of only those that match. */
  all?: boolean
  /** Return only the best `limit` (selected without sorting the rest). */
  limit?: number
  /** Per date term of the query (by its text): 1 where the photo was captured in the term's range, else 0. */
  dates?: Map<string, Uint8Array>
  /** What ranks the photos, higher first, when the query has no word outside a NOT (only dates and exclusions): e.g. their recency. */
  order?: Float32Array
}

export interface QueryResult {
  /** Photo indices, best first. */
  matches: Uint32Array
  /** The relevance of each entry of `matches`. */
  relevance: Float32Array
  /** How many leading entries pass the exclusions; under `all` the rest are photos a negated term rules out. */
  kept: number
}

interface Context {
  terms: Map<string, TermScores>
  dates: Map<string, Uint8Array>
  photoCount: number
}

/**
 * What a query means, given per-photo term scores (computed elsewhere).
 *
 * For each photo p and node n:
 *   match(n):     term → applies; date → captured in its range; AND → all children match; OR →
 *                 any does; NOT x → !match(x).
 *   relevance(n): term → score; AND → min, OR → max, over the children that have a relevance;
 *                 NOT and date → none (they only filter). A root without one (parseQuery allows
 *                 that only with a date term) ranks by `order` instead.
 *   pass(n):      whether the query's exclusions hold, ignoring the positive terms' cut-off:
 *                 term → true; date → match; AND → all; OR → any; NOT x → !match(x).
 *   tier(n):      how many of the query's keywords the photo carries: term → first (0 without);
 *                 AND → sum, OR → max, over the children; NOT → 0.
 *
 * By default the result is the photos whose root matches, by tier (the photos the user gave a
 * keyword before those its vector merely scores), then relevance, best first.
 * With `all`, every photo is returned: first those that pass, then those a negated term rules out
 * or a date term rules out (an exclusion the user typed should not be outweighed by a high score elsewhere), each group by
 * tier, then relevance. In both, equal relevance is ordered by photo index (+0 and -0 are equal), and a NaN
 * relevance (which min and max propagate) ranks last.
 */
export function evaluateQuery(node: QueryNode, terms: Map<string, TermScores>, photoCount: number, opts: EvaluateOptions = {}): QueryResult {
  const limit = opts.limit ?? Infinity
  if (!(limit >= 0) || (limit !== Infinity && !Number.isInteger(limit))) throw new RangeError(`limit must be a non-negative integer, got ${limit}`)
  const ctx: Context = { terms, dates: opts.dates ?? new Map(), photoCount }

  // Filter first, with cheap byte operations, so relevance is computed only for the matches.
  // Under `all` every photo is a candidate, and null stands for that identity list.
  const candidates = opts.all ? null : photosWhere(matchFlags(node, ctx), photoCount)
  const relevance = relevanceAt(node, candidates, ctx) ?? orderAt(opts.order, candidates, ctx)
  if (!relevance) throw new Error('A query without a word outside a NOT ranks by `order`, which was not given')
  const keys = rankKeys(relevance)

  // Positions into the candidates, with their keys; under `all`, the photos a negated term rules out come second.
  const groups = rankGroups(opts.all ? passFlags(node, ctx) : null, tierAt(node, candidates, ctx), keys)
  const ranked: Uint32Array[] = []
  let remaining = limit
  let kept = 0
  for (const group of groups) {
    const best = rankBest(group.positions, group.keys, remaining)
    ranked.push(best)
    remaining -= best.length
    if (group.passes) kept += best.length
  }

  const count = ranked.reduce((sum, r) => sum + r.length, 0)
  const matches = new Uint32Array(count)
  const matchRelevance = new Float32Array(count)
  let i = 0
  for (const positions of ranked) {
    for (let p = 0; p < positions.length; p++, i++) {
      const j = positions[p]
      matches[i] = candidates ? candidates[j] : j
      matchRelevance[i] = relevance[j]
    }
  }
  return { matches, relevance: matchRelevance, kept }
}

function scoresOf(text: string, ctx: Context): TermScores {
  const key = termKey(text)
  const scores = ctx.terms.get(key)
  if (!scores) throw new Error(`No scores for the query term "${key}"`)
  if (scores.score.length < ctx.photoCount || scores.applies.length < ctx.photoCount) {
    throw new Error(`Scores for "${key}" cover fewer than ${ctx.photoCount} photos`)
  }
  return scores
}

function datesOf(text: string, ctx: Context): Uint8Array {
  const flags = ctx.dates.get(text)
  if (!flags) throw new Error(`No capture dates for the query term "${text}"`)
  if (flags.length < ctx.photoCount) throw new Error(`Capture dates for "${text}" cover fewer than ${ctx.photoCount} photos`)
  return flags
}

/** `order` at each of `photos` (null: every photo), as relevance: a fresh array. */
function orderAt(order: Float32Array | undefined, photos: Uint32Array | null, ctx: Context): Float32Array | null {
  if (!order) return null
  if (order.length < ctx.photoCount) throw new Error(`The order covers fewer than ${ctx.photoCount} photos`)
  return photos ? Float32Array.from(photos, (p) => order[p]) : order.slice(0, ctx.photoCount)
}

/** match(node) per photo. A term's own `applies` array (and a date term's flags) is returned as is: never write to the result. */
function matchFlags(node: QueryNode, ctx: Context): Uint8Array {
  const n = ctx.photoCount
  switch (node.kind) {
    case 'term':
      return scoresOf(node.text, ctx).applies
    case 'date':
      return datesOf(node.text, ctx)
    case 'not': {
      const child = matchFlags(node.child, ctx)
      const out = new Uint8Array(n)
      for (let i = 0; i < n; i++) out[i] = child[i] ^ 1
      return out
    }
    default: {
      const out = matchFlags(node.children[0], ctx).slice(0, n)
      for (let c = 1; c < node.children.length; c++) {
        const child = matchFlags(node.children[c], ctx)
        if (node.kind === 'and') for (let i = 0; i < n; i++) out[i] &= child[i]
        else for (let i = 0; i < n; i++) out[i] |= child[i]
      }
      return out
    }
  }
}

/** pass(node) per photo, or null where every photo passes (no NOT decides). Results are fresh arrays. */
function passFlags(node: QueryNode, ctx: Context): Uint8Array | null {
  switch (node.kind) {
    case 'term':
      return null
    case 'date':
      return datesOf(node.text, ctx).slice(0, ctx.photoCount)
    case 'not':
      return matchFlags(node, ctx)
    default: {
      const n = ctx.photoCount
      let out: Uint8Array | null = null
      for (const childNode of node.children) {
        const child = passFlags(childNode, ctx)
        if (node.kind === 'and') {
          if (!out) out = child
          else if (child) for (let i = 0; i < n; i++) out[i] &= child[i]
        } else {
          if (!child) return null // OR with a child every photo passes
          if (!out) out = child
          else for (let i = 0; i < n; i++) out[i] |= child[i]
        }
      }
      return out
    }
  }
}

/**
 * relevance(node) for each of `photos` (null: every photo), or null for a node without one (NOT).
 * Results are fresh arrays; terms under AND/OR fold straight from their scores, allocating nothing.
 */
function relevanceAt(node: QueryNode, photos: Uint32Array | null, ctx: Context): Float32Array | null {
  if (node.kind === 'not' || node.kind === 'date') return null
  if (node.kind === 'term') {
    const { score } = scoresOf(node.text, ctx)
    if (!photos) return score.slice(0, ctx.photoCount)
    const out = new Float32Array(photos.length)
    for (let j = 0; j < photos.length; j++) out[j] = score[photos[j]]
    return out
  }
  const min = node.kind === 'and'
  let out: Float32Array | null = null
  for (const child of node.children) {
    if (child.kind === 'not' || child.kind === 'date') continue
    // A group of dates alone has no relevance either: the next child may.
    if (!out) out = relevanceAt(child, photos, ctx)
    else if (child.kind === 'term') {
      const { score } = scoresOf(child.text, ctx)
      if (photos && min) for (let j = 0; j < out.length; j++) out[j] = Math.min(out[j], score[photos[j]])
      else if (photos) for (let j = 0; j < out.length; j++) out[j] = Math.max(out[j], score[photos[j]])
      else if (min) for (let j = 0; j < out.length; j++) out[j] = Math.min(out[j], score[j])
      else for (let j = 0; j < out.length; j++) out[j] = Math.max(out[j], score[j])
    } else {
      const values = relevanceAt(child, photos, ctx)
      if (!values) continue
      if (min) for (let j = 0; j < out.length; j++) out[j] = Math.min(out[j], values[j])
      else for (let j = 0; j < out.length; j++) out[j] = Math.max(out[j], values[j])
    }
  }
  return out
}

/** tier(node) for each of `photos` (null: every photo), or null where no term puts photos first. Results are fresh arrays. */
function tierAt(node: QueryNode, photos: Uint32Array | null, ctx: Context): Uint8Array | null {
  if (node.kind === 'not' || node.kind === 'date') return null
  if (node.kind === 'term') {
    const { first } = scoresOf(node.text, ctx)
    if (!first) return null
    return photos ? Uint8Array.from(photos, (p) => first[p]) : first.slice(0, ctx.photoCount)
  }
  let out: Uint8Array | null = null
  for (const child of node.children) {
    const tier = tierAt(child, photos, ctx)
    if (!tier) continue
    // A sum stays below 256: a query has at most MAX_QUERY_TERMS terms.
    if (!out) out = tier
    else if (node.kind === 'and') for (let j = 0; j < out.length; j++) out[j] += tier[j]
    else for (let j = 0; j < out.length; j++) out[j] = Math.max(out[j], tier[j])
  }
  return out
}

function identity(count: number): Uint32Array {
  const out = new Uint32Array(count)
  for (let i = 0; i < count; i++) out[i] = i
  return out
}

/** Photo indices, ascending, where `flags` is set. */
function photosWhere(flags: Uint8Array, photoCount: number): Uint32Array {
  let count = 0
  for (let i = 0; i < photoCount; i++) count += flags[i]
  const out = new Uint32Array(count)
  for (let i = 0, j = 0; i < photoCount; i++) if (flags[i]) out[j++] = i
  return out
}

/**
 * The candidates' positions (ascending) and keys in rank groups, best group first: under `all`,
 * the photos that pass before those a negated term rules out (`passes`), and within each, the
 * higher tiers first. With neither, one group of all.
 */
function rankGroups(pass: Uint8Array | null, tier: Uint8Array | null, keys: Uint32Array): Array<{ positions: Uint32Array; keys: Uint32Array; passes: boolean }> {
  const n = keys.length
  if (!pass && !tier) return [{ positions: identity(n), keys, passes: true }]
  let top = 0
  if (tier) for (let i = 0; i < n; i++) top = Math.max(top, tier[i])
  const tiers = top + 1
  const groupOf = new Uint16Array(n)
  const sizes = new Uint32Array(2 * tiers)
  for (let i = 0; i < n; i++) {
    const g = (pass && !pass[i] ? tiers : 0) + top - (tier ? tier[i] : 0)
    groupOf[i] = g
    sizes[g]++
  }
  const groups = Array.from(sizes, (size, g) => ({ positions: new Uint32Array(size), keys: new Uint32Array(size), passes: g < tiers }))
  const filled = new Uint32Array(groups.length)
  for (let i = 0; i < n; i++) {
    const group = groups[groupOf[i]]
    const at = filled[groupOf[i]]++
    group.positions[at] = i
    group.keys[at] = keys[i]
  }
  return groups
}

/**
 * The best `limit` of `positions` (ascending; `keys` aligned with them), best first. A heap when
 * few are wanted (O(n log limit), most rejected by one comparison with the heap's worst), else a
 * radix sort. Both arrays are used as scratch space.
 */
function rankBest(positions: Uint32Array, keys: Uint32Array, limit: number): Uint32Array {
  if (limit >= positions.length) return radixSort(keys, positions)
  // Past ~1/16 of the candidates, the heap's log factor costs more than sorting them all.
  if (limit > positions.length >>> 4) return radixSort(keys, positions).subarray(0, limit)
  const chosen = selectSmallest(keys, limit).sort()
  return radixSort(
    chosen.map((j) => keys[j]),
    chosen.map((j) => positions[j])
  )
}

/**
 * Unsigned keys that order like relevance descending: the IEEE bits of a float, made monotone.
 * Comparing keys rather than floats gives heap and sort one total order (+0 = -0, NaN last).
 */
function rankKeys(relevance: Float32Array): Uint32Array {
  const floats = new Float32Array(relevance.length)
  const bits = new Uint32Array(floats.buffer)
  for (let j = 0; j < relevance.length; j++) {
    const v = relevance[j]
    floats[j] = v === v ? v + 0 : -Infinity // v + 0 turns -0 into +0
    const b = bits[j]
    bits[j] = b & 0x80000000 ? b : ~b & 0x7fffffff
  }
  return bits
}

/** Positions of the `count` smallest keys, ties to the earlier position, in heap order. */
function selectSmallest(keys: Uint32Array, count: number): Uint32Array {
  const heap = new Uint32Array(count) // max-heap: the worst chosen position at the root
  const worse = (a: number, b: number) => keys[a] > keys[b] || (keys[a] === keys[b] && a > b)
  const siftDown = (size: number) => {
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      if (l >= size) return
      const c = l + 1 < size && worse(heap[l + 1], heap[l]) ? l + 1 : l
      if (!worse(heap[c], heap[i])) return
      const t = heap[i]
      heap[i] = heap[c]
      heap[c] = t
      i = c
    }
  }
  if (count === 0) return heap
  for (let j = 0; j < keys.length; j++) {
    if (j < count) {
      let i = j
      for (; i > 0 && worse(j, heap[(i - 1) >> 1]); i = (i - 1) >> 1) heap[i] = heap[(i - 1) >> 1]
      heap[i] = j
    } else if (keys[j] < keys[heap[0]]) {
      // A later position with an equal key is worse, so only a strictly smaller key gets in.
      heap[0] = j
      siftDown(count)
    }
  }
  return heap
}

/** Stable LSD radix sort of `values` by `keys` ascending, using both arguments as scratch space. */
function radixSort(keys: Uint32Array, values: Uint32Array): Uint32Array {
  const n = keys.length
  let k = keys
  let v = values
  let k2: Uint32Array = new Uint32Array(n)
  let v2: Uint32Array = new Uint32Array(n)
  const counts = new Uint32Array(2048)
  for (let shift = 0; shift < 32; shift += 11) {
    counts.fill(0)
    for (let i = 0; i < n; i++) counts[(k[i] >>> shift) & 0x7ff]++
    if (n === 0 || counts[(k[0] >>> shift) & 0x7ff] === n) continue // one digit for all: the pass is a no-op
    for (let d = 0, sum = 0; d < 2048; d++) {
      const c = counts[d]
      counts[d] = sum
      sum += c
    }
    for (let i = 0; i < n; i++) {
      const at = counts[(k[i] >>> shift) & 0x7ff]++
      k2[at] = k[i]
      v2[at] = v[i]
    }
    ;[k, k2] = [k2, k]
    ;[v, v2] = [v2, v]
  }
  return v
}
