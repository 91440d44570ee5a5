/** Ranking measures and seeded shuffles shared by the keyword benchmark's sections. */

export function averagePrecision(scores: readonly number[], relevant: readonly boolean[]): number {
  // Ties against the ranking: a positive counts every photo scoring at least as high above it.
  let sum = 0
  let total = 0
  scores.forEach((s, i) => {
    if (!relevant[i]) return
    total++
    let above = 0
    let positivesAbove = 0
    scores.forEach((t, j) => {
      if (j !== i && t >= s) [above, positivesAbove] = [above + 1, positivesAbove + (relevant[j] ? 1 : 0)]
    })
    sum += (positivesAbove + 1) / (above + 1)
  })
  return sum / total
}

/**
 * Average precision of a list cut short (a search's matches), over `relevantTotal` relevant items
 * in all: one the list left out counts as found at no precision.
 */
export function truncatedAveragePrecision(relevant: readonly boolean[], relevantTotal: number): number {
  let found = 0
  let sum = 0
  relevant.forEach((r, i) => {
    if (r) sum += ++found / (i + 1)
  })
  return sum / relevantTotal
}

export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[out[i], out[j]] = [out[j], out[i]]
  }
  return out
}

export const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
export const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
