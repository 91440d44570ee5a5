import type { LibraryDatabase } from '../library/database'
import type { QualityLabel } from './keywordLearning'

/** A keyword's photos for one model: those that carry it and those it was rejected for, present and embedded, by ascending id. */
export interface KeywordExampleSet {
  key: string
  text: string
  positives: number[]
  rejected: number[]
}

export interface LearnedKeywordRow {
  key: string
  /** The keyword as spelled. */
  text: string
  vector: Float32Array
  examples: number
  quality: QualityLabel
  qualitySummary: string
  averagePrecision: number | null
  /** Its own cut-off (keywordThreshold.ts): the score from which a photo is taken to carry it; null when it could not be measured. */
  threshold: number | null
}

export interface NewLearnedKeyword {
  key: string
  vector: Float32Array
  examples: number
  quality: QualityLabel
  qualitySummary: string
  averagePrecision: number | null
  threshold: number | null
  signature: string
}

/** What search needs of a learned keyword. */
export interface LearnedTerm {
  vector: Float32Array
  threshold: number | null
}

/**
 * The SQL of learned keyword vectors (migrations 7 and 11): one per keyword and model, with what it was
 * learned from, for tagging/keywordLearner.ts, suggestions, search and `keywords list`.
 */
export class LearnedKeywordStore {
  constructor(private readonly db: LibraryDatabase) {}

  /**
   * The example sets of the keywords carried by at least `minPositives` photos that are there and
   * embedded by the model (of the keywords in `keys` only, when given).
   */
  exampleSets(modelId: number, minPositives: number, keys?: readonly string[]): KeywordExampleSet[] {
    const rows = this.db
      .prepare(
        `WITH eligible AS (
           SELECT t.tag FROM photo_tags t
             JOIN photos p ON p.id = t.photo_id AND p.missing_since IS NULL
             JOIN principal_vectors v ON v.photo_id = t.photo_id AND v.model_id = @modelId
           WHERE t.state IN ('accepted', 'user') AND (@keys IS NULL OR t.tag IN (SELECT value FROM json_each(@keys)))
           GROUP BY t.tag HAVING COUNT(*) >= @minPositives
         )
         SELECT t.tag AS key, k.text, t.photo_id AS id, t.state FROM eligible e
           JOIN keywords k ON k.key = e.tag
           JOIN photo_tags t ON t.tag = e.tag
           JOIN photos p ON p.id = t.photo_id AND p.missing_since IS NULL
           JOIN principal_vectors v ON v.photo_id = t.photo_id AND v.model_id = @modelId
         ORDER BY t.tag, t.photo_id`
      )
      .all({ modelId, minPositives, keys: keys ? JSON.stringify(keys) : null }) as Array<{ key: string; text: string; id: number; state: string }>
    const out: KeywordExampleSet[] = []
    for (const row of rows) {
      let set = out.at(-1)
      if (set?.key !== row.key) out.push((set = { key: row.key, text: row.text, positives: [], rejected: [] }))
      ;(row.state === 'rejected' ? set.rejected : set.positives).push(row.id)
    }
    return out
  }

  /** The signature each keyword learned for the model was learned from, by key. */
  signatures(modelId: number): Map<string, string> {
    const rows = this.db.prepare('SELECT keyword AS key, signature FROM learned_keywords WHERE model_id = ?').all(modelId) as Array<{ key: string; signature: string }>
    return new Map(rows.map((r) => [r.key, r.signature]))
  }

  /** Ids of every photo there that the model embedded, ascending: where negatives are drawn from. */
  embeddedPhotoIds(modelId: number): number[] {
    return this.db
      .prepare('SELECT v.photo_id AS id FROM principal_vectors v JOIN photos p ON p.id = v.photo_id WHERE v.model_id = ? AND p.missing_since IS NULL ORDER BY v.photo_id')
      .pluck()
      .all(modelId) as number[]
  }

  save(modelId: number, learned: NewLearnedKeyword): void {
    const { vector } = learned
    this.db
      .prepare(
        `INSERT OR REPLACE INTO learned_keywords (keyword, model_id, vector, examples, quality, quality_summary, average_precision, threshold, signature, learned_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
      )
      .run(
        learned.key,
        modelId,
        Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength),
        learned.examples,
        learned.quality,
        learned.qualitySummary,
        learned.averagePrecision,
        learned.threshold,
        learned.signature,
        new Date().toISOString()
      )
  }

  /** Forgets the model's vectors of keywords no longer carried by enough photos. */
  remove(modelId: number, keys: readonly string[]): void {
    this.db.prepare('DELETE FROM learned_keywords WHERE model_id = ? AND keyword IN (SELECT value FROM json_each(?))').run(modelId, JSON.stringify(keys))
  }

  /** Every keyword learned for the model, as spelled. */
  learned(modelId: number): LearnedKeywordRow[] {
    const rows = this.db
      .prepare(
        `SELECT l.keyword AS key, k.text, l.vector, l.examples, l.quality, l.quality_summary AS qualitySummary, l.average_precision AS averagePrecision, l.threshold
         FROM learned_keywords l JOIN keywords k ON k.key = l.keyword WHERE l.model_id = ? ORDER BY l.keyword`
      )
      .all(modelId) as Array<Omit<LearnedKeywordRow, 'vector'> & { vector: Buffer }>
    return rows.map((r) => ({ ...r, vector: float32(r.vector) }))
  }

  /** The vector learned for one keyword (by key) and model, if any. */
  vector(key: string, modelId: number): Float32Array | undefined {
    const blob = this.db.prepare('SELECT vector FROM learned_keywords WHERE keyword = ? AND model_id = ?').pluck().get(key, modelId) as Buffer | undefined
    return blob && float32(blob)
  }

  /** The vector and cut-off learned for one keyword (by key) and model, if any. */
  term(key: string, modelId: number): LearnedTerm | undefined {
    const row = this.db.prepare('SELECT vector, threshold FROM learned_keywords WHERE keyword = ? AND model_id = ?').get(key, modelId) as
      { vector: Buffer; threshold: number | null } | undefined
    return row && { vector: float32(row.vector), threshold: row.threshold }
  }
}

/** A copy: SQLite's buffer need not be aligned for a Float32Array view. */
function float32(blob: Buffer): Float32Array {
  const out = new Float32Array(blob.byteLength / 4)
  new Uint8Array(out.buffer).set(blob)
  return out
}
