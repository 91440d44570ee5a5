/**
 * The keyword benchmark end to end, through the app's own paths: Lightroom-style sidecars carrying
 * the code names on half of each class's photos, `import-xmp` (XmpService.importKeywords), the
 * engine's KeywordLearner, and the search service as `search <code name> --all` runs it. The photos
 * that carry a code name rank first (they are its examples), so each code name's AP is measured on
 * the other photos, next to the class word's own search on the same photos. Each split takes the
 * previous split's keywords off the photos (`remove-tag`), writes the sidecars anew and imports them.
 */
import { spawn } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { basename, dirname, extname, join } from 'node:path'
import { Engine } from '../src/main/engine/engine'
import { learnKeywordVector } from '../src/main/engine/tagging/keywordLearning'
import { MIN_LEARNING_EXAMPLES } from '../src/main/engine/tagging/keywordLearner'
import { sdlScore } from '../src/main/engine/tagging/scoreTags'
import { STORED_TOP } from '../src/main/engine/tagging/vocabularyScores'
import type { SearchHit } from '../src/shared/search'
import { prng } from '../test/helpers/prng'
import { averagePrecision, mean, median, shuffled, truncatedAveragePrecision } from './rankingMetrics'

/** Where the code names sit in the sidecars' keyword hierarchy, as a Lightroom user would file them. */
const PARENT = 'Code names'

export interface EndToEndSetup {
  /** A data folder whose library holds `photoDir`'s photos, indexed with the ConSE pack. */
  dataDir: string
  /** A folder of copies of the photos: the sidecars are written there. */
  photoDir: string
  /** The photos' COCO classes, by file name. */
  labels: Record<string, string[]>
  classes: string[]
  /** One per class, in the same order. */
  codeNames: string[]
  splits: number
  seedOffset: number
  firstSearchRuns: number
  /** This script, for the first searches each in a fresh process. */
  script: string
}

/** One code name in one split: its AP on the photos that do not carry it, by each way of ranking them. */
interface Measure {
  cls: string
  learned: boolean
  code: number
  word: number
  codeCut: number
  wordCut: number
  /** With the cut-off: photos beyond the carriers matched, and how many of them are of the class. */
  codeMatches: { photos: number; ofClass: number }
  wordMatches: { photos: number; ofClass: number }
  /** The class's photos among those ranked. */
  positives: number
  /** On each of those, the place the term's score takes among the photo's vocabulary scores (STORED_TOP + 1: past those stored); the cut-off is 10. */
  places: { code: number[]; word: number[] }
  /** The code name's learned vector applied by hand to the same photos: the search should rank them the same. */
  direct: number | null
  /** learnKeywordVector given the examples the KeywordLearner gives it (carriers; every other photo as a negative), also where it would not learn (fewer than MIN_LEARNING_EXAMPLES carriers). */
  anyCarriers: number
  /** The same, but without the class's held-out photos among the negatives (which the app cannot know). */
  cleanNegatives: number
  chance: number
}

/** The end-to-end section: runs it and prints its tables. */
export async function endToEnd(setup: EndToEndSetup): Promise<void> {
  const measures = await measureSplits(setup)
  const splitCount = setup.splits
  const learnedPerSplit = measures.filter((m) => m.learned).length / splitCount
  const perSplit = measures.length / splitCount
  console.log(
    `\nend to end: Lightroom sidecars (${PARENT}|<code name>, dc:subject) on half of each class's photos (rounded down), import-xmp, the KeywordLearner, then` +
      ` \`search <code name> --all\`; ${splitCount} seeded splits (seed offset ${setup.seedOffset}). Each code name's AP is measured on the photos that do not carry it` +
      ` (the carriers, its examples, rank first), the class word's (\`search '"<class>"' --all\`) on the same photos.`
  )
  console.log(
    `code names learned (${MIN_LEARNING_EXAMPLES}+ carriers): ${learnedPerSplit} of ${perSplit} per split; not learned (fewer carriers): ${perSplit - learnedPerSplit}` +
      ` (their search finds the carriers and ranks no other photo)`
  )
  const row = (name: string, t: Measure[], cut: boolean) => {
    const [c, w] = cut ? [mean(t.map((m) => m.codeCut)), mean(t.map((m) => m.wordCut))] : [mean(t.map((m) => m.code)), mean(t.map((m) => m.word))]
    return `| ${name} | ${new Set(t.map((m) => m.cls)).size} | ${c.toFixed(3)} | ${w.toFixed(3)} | ${mean(t.map((m) => m.chance)).toFixed(3)} | ${(c / w).toFixed(2)}x |`
  }
  const groups: Array<[string, Measure[]]> = [
    ['all (2+ photos)', measures],
    [`learned (${MIN_LEARNING_EXAMPLES}+ carriers)`, measures.filter((m) => m.learned)],
    ['not learned', measures.filter((m) => !m.learned)]
  ]
  const header = '| code names | classes | code name, searched | class word, searched | chance | code / word |\n|---|---|---|---|---|---|'
  console.log(`\nmean AP, --all (every photo ranked):\n${header}`)
  for (const [name, t] of groups) if (t.length) console.log(row(name, t, false))
  console.log(`\nmean AP with the per-photo cut-off (\`search <term>\`: its matches only; a photo it leaves out counts as not found):\n${header}`)
  for (const [name, t] of groups) if (t.length) console.log(row(name, t, true))
  const matched = (t: Measure[], side: 'codeMatches' | 'wordMatches') =>
    `${mean(t.map((m) => m[side].photos)).toFixed(1)} (${mean(t.map((m) => m[side].ofClass)).toFixed(1)} of the class)`
  const places = (t: Measure[], side: 'code' | 'word') => {
    const all = t.flatMap((m) => m.places[side])
    return `median place ${median(all)}, ${((100 * all.filter((p) => p <= 10).length) / all.length).toFixed(0)}% within 10`
  }
  for (const [name, t] of groups.slice(1)) {
    if (!t.length) continue
    console.log(
      `${name}: photos matched beyond the carriers, per search: code name ${matched(t, 'codeMatches')}, class word ${matched(t, 'wordMatches')}; the class has ${mean(t.map((m) => m.positives)).toFixed(1)} of the ${mean(t.map((m) => m.positives / m.chance)).toFixed(1)} photos ranked.` +
        ` On those of the class, the term's score among the photo's ${STORED_TOP} best vocabulary scores (${STORED_TOP + 1}: below them): code name ${places(t, 'code')}; class word ${places(t, 'word')}`
    )
  }

  const learned = measures.filter((m) => m.learned)
  const differing = learned.filter((m) => Math.abs(m.direct! - m.code) > 1e-9 || Math.abs(m.anyCarriers - m.code) > 1e-9).length
  console.log(
    `\nwiring: for the ${learned.length} learned code names over the splits, the search's order ${differing ? `differs in ${differing}` : 'is the same'} as that of the stored vector scored by hand, and of learnKeywordVector given the same examples`
  )
  console.log('by hand, learnKeywordVector on the same photos (mean AP; the class word searched, for comparison):')
  console.log('| code names | every other photo a negative (the app) | the held-out photos of the class not among the negatives | class word |\n|---|---|---|---|')
  for (const [name, t] of groups) {
    if (t.length)
      console.log(`| ${name} | ${mean(t.map((m) => m.anyCarriers)).toFixed(3)} | ${mean(t.map((m) => m.cleanNegatives)).toFixed(3)} | ${mean(t.map((m) => m.word)).toFixed(3)} |`)
  }

  const largest = largestClass(setup)
  const query = setup.codeNames[setup.classes.indexOf(largest)]
  const state = measures.findLast((m) => m.cls === largest)!.learned ? 'learned' : 'not learned'
  console.log(`\nfirst search after start, a code name ('${query}', ${state}), each run a fresh process on the data folder:`)
  console.log('| path | median ms | range ms | runs |\n|---|---|---|---|')
  for (const learnFirst of [false, true]) {
    const times: number[] = []
    for (let run = 0; run < setup.firstSearchRuns; run++) times.push(await timedFirstSearch(setup, query, learnFirst))
    const sorted = [...times].sort((a, b) => a - b)
    const path = learnFirst ? 'CLI (`search`: learnStale(), then the search)' : 'window (engine.search().search(query))'
    console.log(`| ${path} | ${median(sorted).toFixed(0)} | ${sorted[0].toFixed(0)} - ${sorted.at(-1)!.toFixed(0)} | ${sorted.length} |`)
  }
}

/** `--first-search-child`: one first search in this fresh process, its time printed as a JSON line. */
export async function firstSearchChild(dataDir: string, query: string, learnFirst: boolean): Promise<void> {
  const started = performance.now()
  const engine = new Engine({ dataDir, executionProvider: 'cpu' })
  if (learnFirst) await (await engine.keywordLearner()).learnStale()
  const { hits } = await (await engine.search()).search(query)
  const ms = performance.now() - started
  await engine.close()
  console.log(JSON.stringify({ ms, hits: hits.length, carriersFirst: hits[0]?.match.tagged === true }))
}

async function measureSplits(setup: EndToEndSetup): Promise<Measure[]> {
  const engine = new Engine({ dataDir: setup.dataDir, executionProvider: 'cpu' })
  try {
    const library = await engine.library()
    const manifest = await engine.manifest()
    const modelId = library.store.modelId(manifest)
    const photos = library.store.embeddedPhotoList(modelId).map((p) => ({ id: p.id, path: p.path, name: basename(p.path) }))
    const vectors = library.store.photosVectors(
      photos.map((p) => p.id),
      modelId
    )
    const [tagger, xmp, learner, search, { learnedKeywords }] = await Promise.all([engine.tagger(), engine.xmp(), engine.keywordLearner(), engine.search(), engine.repositories()])
    await learner.idle()
    const vocabulary = await tagger.baseVocabulary()
    const vocabularyScores = new Map([...library.store.vocabularyScores(modelId, vocabulary.id)].map((row) => [row.photoId, row.scores]))
    const placeAmongWords = (photo: { id: number }, score: number) => 1 + vocabularyScores.get(photo.id)!.filter((s) => s > score).length
    const measures: Measure[] = []
    let carried = new Map<string, typeof photos>()
    for (let split = 0; split < setup.splits; split++) {
      for (const [code, list] of carried) {
        const { failed } = await tagger.changeTag(
          list.map((p) => p.id),
          code,
          'remove-tag'
        )
        if (failed.length) throw new Error(`removing '${code}' failed: ${failed.map((f) => `${f.path}: ${f.reason}`).join('; ')}`)
      }
      const random = prng(9000 + setup.seedOffset + split)
      carried = new Map(
        setup.classes.map((cls, i) => {
          const mine = shuffled(
            photos.filter((p) => setup.labels[p.name].includes(cls)),
            random
          )
          return [setup.codeNames[i], mine.slice(0, Math.floor(mine.length / 2))]
        })
      )
      writeSidecars(photos, carried)
      const summary = await xmp.importKeywords()
      const expected = [...carried.values()].reduce((n, list) => n + list.length, 0)
      if (summary.imported !== expected || summary.skipped.length) {
        throw new Error(`import-xmp stored ${summary.imported} keywords, not ${expected}; skipped: ${JSON.stringify(summary.skipped.slice(0, 3))}`)
      }
      const report = await learner.idle()
      if (report.failed.length) throw new Error(`learning failed: ${JSON.stringify(report.failed)}`)
      const learnedKeys = new Set(learnedKeywords.learned(modelId).map((row) => row.key))
      for (const [i, cls] of setup.classes.entries()) {
        const code = setup.codeNames[i]
        const carriers = new Set(carried.get(code)!.map((p) => p.id))
        const others = photos.filter((p) => !carriers.has(p.id))
        const relevant = (p: { name: string }) => setup.labels[p.name].includes(cls)
        const ranked = async (query: string, all: boolean) => {
          const { hits } = await search.search(query, { all, limit: photos.length })
          return heldOut(hits, photos, carriers, query === code ? query : null)
        }
        const positives = others.filter(relevant).length
        const [codeAll, wordAll] = [await ranked(code, true), await ranked(`"${cls}"`, true)]
        const [codeCut, wordCut] = [await ranked(code, false), await ranked(`"${cls}"`, false)]
        const apOf = (hits: Array<{ name: string; score: number }>) =>
          averagePrecision(
            hits.map((h) => h.score),
            hits.map(relevant)
          )
        const learned = learnedKeys.has(code)
        const scoredBy = (w: Float32Array) =>
          averagePrecision(
            others.map((p) => sdlScore(vectors.get(p.id)!, manifest.rows, w).score),
            others.map(relevant)
          )
        const examples = (negatives: typeof photos) => ({
          positives: [...carriers].sort((a, b) => a - b).map((id) => vectors.get(id)!),
          negatives: negatives.map((p) => vectors.get(p.id)!),
          rows: manifest.rows,
          dim: manifest.dim
        })
        measures.push({
          cls,
          learned,
          code: apOf(codeAll),
          word: apOf(wordAll),
          codeCut: truncatedAveragePrecision(codeCut.map(relevant), positives),
          wordCut: truncatedAveragePrecision(wordCut.map(relevant), positives),
          codeMatches: { photos: codeCut.length, ofClass: codeCut.filter(relevant).length },
          wordMatches: { photos: wordCut.length, ofClass: wordCut.filter(relevant).length },
          positives,
          places: { code: codeAll.filter(relevant).map((h) => placeAmongWords(h, h.score)), word: wordAll.filter(relevant).map((h) => placeAmongWords(h, h.score)) },
          direct: learned ? scoredBy(learnedKeywords.vector(code, modelId)!) : null,
          anyCarriers: scoredBy(learnKeywordVector(examples(others)).vector),
          cleanNegatives: scoredBy(learnKeywordVector(examples(others.filter((p) => !relevant(p)))).vector),
          chance: positives / others.length
        })
      }
    }
    return measures
  } finally {
    await engine.close()
  }
}

/**
 * The hits that do not carry the code name, in the search's order. In the code name's own search
 * (`code`) the carriers must come first: anything else is a fault of the search, not a measure.
 */
function heldOut(hits: readonly SearchHit[], photos: ReadonlyArray<{ id: number; path: string; name: string }>, carriers: ReadonlySet<number>, code: string | null) {
  const byPath = new Map(photos.map((p) => [p.path, p]))
  const listed = hits.map((h) => ({ ...byPath.get(h.path)!, score: h.score }))
  const firstOther = listed.findIndex((h) => !carriers.has(h.id))
  const late = listed.slice(Math.max(0, firstOther)).filter((h) => carriers.has(h.id)).length
  if (code && firstOther >= 0 && late) throw new Error(`search '${code}' ranked ${late} of its carriers after other photos`)
  return listed.filter((h) => !carriers.has(h.id))
}

/** `photo.xmp` beside each photo that carries code names, as Lightroom Classic writes it; no sidecar beside the others. */
function writeSidecars(photos: ReadonlyArray<{ id: number; path: string }>, carried: ReadonlyMap<string, ReadonlyArray<{ id: number }>>): void {
  const codesOf = new Map<number, string[]>()
  for (const [code, list] of carried) for (const p of list) codesOf.set(p.id, [...(codesOf.get(p.id) ?? []), code])
  for (const photo of photos) {
    const sidecar = join(dirname(photo.path), `${basename(photo.path, extname(photo.path))}.xmp`)
    rmSync(sidecar, { force: true })
    const codes = codesOf.get(photo.id)
    if (codes) writeFileSync(sidecar, lightroomSidecar(codes))
  }
}

/** Code names are letters and digits: nothing to escape. */
function lightroomSidecar(codes: readonly string[]): string {
  const bag = (values: readonly string[]) => ['    <rdf:Bag>', ...values.map((v) => `     <rdf:li>${v}</rdf:li>`), '    </rdf:Bag>'].join('\n')
  return `<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Adobe XMP Core 7.0-c000 1.000000, 0000/00/00-00:00:00        ">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:lr="http://ns.adobe.com/lightroom/1.0/"
    xmp:Rating="0">
   <dc:subject>
${bag(codes)}
   </dc:subject>
   <lr:hierarchicalSubject>
${bag(codes.map((c) => `${PARENT}|${c}`))}
   </lr:hierarchicalSubject>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
`
}

function largestClass(setup: EndToEndSetup): string {
  const count = (cls: string) => Object.values(setup.labels).filter((classes) => classes.includes(cls)).length
  return setup.classes.reduce((best, cls) => (count(cls) > count(best) ? cls : best))
}

/** One first search in a fresh process, in ms (module loading left out, as bench/firstSearch.ts does). */
async function timedFirstSearch(setup: EndToEndSetup, query: string, learnFirst: boolean): Promise<number> {
  const args = ['--import', 'tsx', setup.script, '--first-search-child', setup.dataDir, '--query', query, ...(learnFirst ? ['--learn-first'] : [])]
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk))
    child.on('error', reject)
    child.on('close', (code, signal) => (code === 0 ? resolve(out) : reject(new Error(`the first search exited with ${signal ?? code}: ${err.slice(-2000)}`))))
  })
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as { ms: number; hits: number; carriersFirst: boolean }
  if (!result.hits || !result.carriersFirst) throw new Error(`the first search for '${query}' did not find its carriers first`)
  return result.ms
}
