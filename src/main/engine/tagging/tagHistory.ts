import type { PhotoTagState, TagAction, TagHistoryState, TagStep, TagStepChange } from '../../../shared/api'
import type { LibraryDatabase } from '../library/database'
import { keywordKey } from './keywordText'
import type { PhotoTagRecord, TagSource, TagStore } from './tagStore'

/** Steps kept: undo goes back at most this many actions, the oldest being forgotten first. */
export const HISTORY_STEPS = 200

/** A photo as a tagging action checks it: where it is, whether its file is there, whether the model has embedded it. */
export interface TaggablePhoto {
  path: string
  missing: boolean
  indexed: boolean
}

/** What undo or redo did: the step's changes it put back, and those it left because the tag changed since. */
export interface StepTaken {
  step: TagStep
  kept: TagStepChange[]
}

interface StepRow {
  id: number
  action: TagAction
  tag: string
  text: string
  createdAt: string
}

interface ChangeRow {
  photoId: number
  path: string
  beforeState: PhotoTagState | null
  beforeSource: TagSource | null
  beforeCreatedAt: string | null
  afterState: PhotoTagState | null
  afterSource: TagSource | null
  afterCreatedAt: string | null
}

/**
 * The tagging history (migration 9): every tagging action is one step holding each photo tag it
 * changed, whole, before and after, so that undo and redo put back exactly what was there and
 * nothing else. It lives in the library, so every window and the CLI share one history. Photo
 * tags are written through TagStore, the one writer of photo_tags.
 */
export class TagHistory {
  constructor(
    private readonly db: LibraryDatabase,
    private readonly tags: TagStore
  ) {}

  /** The photos of these ids that the library has (missing ones too), with what an action needs to know. */
  photos(ids: readonly number[], modelId: number): Map<number, TaggablePhoto> {
    const lookup = this.db.prepare(
      `SELECT path, missing_since IS NOT NULL AS missing,
              status = 'ok' AND EXISTS (SELECT 1 FROM principal_vectors v WHERE v.photo_id = photos.id AND v.model_id = ?) AS indexed
       FROM photos WHERE id = ?`
    )
    const out = new Map<number, TaggablePhoto>()
    for (const id of ids) {
      const row = lookup.get(modelId, id) as { path: string; missing: number; indexed: number } | undefined
      if (row) out.set(id, { path: row.path, missing: Boolean(row.missing), indexed: Boolean(row.indexed) })
    }
    return out
  }

  /**
   * Gives `tag` the state `state` on each photo (null: forgets the decision), in one transaction
   * recorded as one step; the redo branch goes. A photo that has it in that state already is left
   * as it is (its date too) and is not part of the step. `step` is null when nothing changed.
   */
  apply(action: TagAction, tag: string, photoIds: readonly number[], state: PhotoTagState | null): { step: TagStep | null; unchanged: number[] } {
    return this.db
      .transaction(() => {
        const changes: Array<{ photoId: number; before: PhotoTagRecord | undefined; after: PhotoTagRecord | undefined }> = []
        const unchanged: number[] = []
        for (const photoId of new Set(photoIds)) {
          const before = this.tags.photoTag(photoId, tag)
          if ((before?.state ?? null) === state) {
            unchanged.push(photoId)
            continue
          }
          if (state) this.tags.setPhotoTag(photoId, tag, state)
          else this.tags.removePhotoTag(photoId, tag)
          changes.push({ photoId, before, after: this.tags.photoTag(photoId, tag) })
        }
        if (!changes.length) return { step: null, unchanged }
        this.db.prepare('DELETE FROM tag_history_steps WHERE undone = 1').run()
        const stepId = Number(
          this.db.prepare('INSERT INTO tag_history_steps (action, tag, created_at) VALUES (?, ?, ?)').run(action, keywordKey(tag), new Date().toISOString()).lastInsertRowid
        )
        const insert = this.db.prepare(
          `INSERT INTO tag_history_changes (step_id, photo_id, before_state, before_source, before_created_at, after_state, after_source, after_created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
        )
        for (const { photoId, before, after } of changes) insert.run(stepId, photoId, ...recordColumns(before), ...recordColumns(after))
        this.db.prepare('DELETE FROM tag_history_steps WHERE id <= (SELECT id FROM tag_history_steps ORDER BY id DESC LIMIT 1 OFFSET ?)').run(HISTORY_STEPS)
        return { step: toStep(this.stepRow(stepId)!, this.changeRows(stepId)), unchanged }
      })
      .immediate()
  }

  /** Puts back what the newest step not undone changed; null when there is none. */
  undo(): StepTaken | null {
    return this.take('undo')
  }

  /** Applies again the step undone last; null when there is none (nothing undone, or an action came since). */
  redo(): StepTaken | null {
    return this.take('redo')
  }

  state(): TagHistoryState {
    const row = this.db.prepare('SELECT COALESCE(SUM(undone = 0), 0) AS undo, COALESCE(SUM(undone = 1), 0) AS redo FROM tag_history_steps').get() as TagHistoryState
    return { undo: row.undo, redo: row.redo }
  }

  /**
   * Undo puts each photo's tag back as it was before the step, redo as the step left it; a tag
   * that changed since (keywords imported from sidecars, say) is left as it is, so that
   * undo never takes away what the step did not do.
   */
  private take(direction: 'undo' | 'redo'): StepTaken | null {
    return this.db
      .transaction(() => {
        const id = this.db
          .prepare(direction === 'undo' ? 'SELECT MAX(id) AS id FROM tag_history_steps WHERE undone = 0' : 'SELECT MIN(id) AS id FROM tag_history_steps WHERE undone = 1')
          .get() as { id: number | null }
        const row = id.id === null ? undefined : this.stepRow(id.id)
        if (!row) return null
        const put: ChangeRow[] = []
        const kept: ChangeRow[] = []
        for (const change of this.changeRows(row.id)) {
          const [from, to] = direction === 'undo' ? [afterRecord(change), beforeRecord(change)] : [beforeRecord(change), afterRecord(change)]
          if (!sameRecord(this.tags.photoTag(change.photoId, row.tag), from)) {
            kept.push(change)
            continue
          }
          this.tags.restorePhotoTag(change.photoId, row.tag, to)
          put.push(change)
        }
        this.db.prepare('UPDATE tag_history_steps SET undone = ? WHERE id = ?').run(direction === 'undo' ? 1 : 0, row.id)
        return { step: toStep(row, put), kept: kept.map(toChange) }
      })
      .immediate()
  }

  private stepRow(id: number): StepRow | undefined {
    return this.db.prepare('SELECT s.id, s.action, s.tag, k.text, s.created_at AS createdAt FROM tag_history_steps s JOIN keywords k ON k.key = s.tag WHERE s.id = ?').get(id) as
      StepRow | undefined
  }

  private changeRows(stepId: number): ChangeRow[] {
    return this.db
      .prepare(
        `SELECT c.photo_id AS photoId, p.path, c.before_state AS beforeState, c.before_source AS beforeSource, c.before_created_at AS beforeCreatedAt,
                c.after_state AS afterState, c.after_source AS afterSource, c.after_created_at AS afterCreatedAt
         FROM tag_history_changes c JOIN photos p ON p.id = c.photo_id WHERE c.step_id = ? ORDER BY p.path`
      )
      .all(stepId) as ChangeRow[]
  }
}

function recordColumns(record: PhotoTagRecord | undefined): [string | null, string | null, string | null] {
  return record ? [record.state, record.source, record.createdAt] : [null, null, null]
}

function beforeRecord(c: ChangeRow): PhotoTagRecord | undefined {
  return c.beforeState ? { state: c.beforeState, source: c.beforeSource!, createdAt: c.beforeCreatedAt! } : undefined
}

function afterRecord(c: ChangeRow): PhotoTagRecord | undefined {
  return c.afterState ? { state: c.afterState, source: c.afterSource!, createdAt: c.afterCreatedAt! } : undefined
}

function sameRecord(a: PhotoTagRecord | undefined, b: PhotoTagRecord | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.state === b.state && a.source === b.source && a.createdAt === b.createdAt)
}

function toChange(c: ChangeRow): TagStepChange {
  return { photo: c.photoId, path: c.path, before: c.beforeState, after: c.afterState }
}

function toStep(row: StepRow, changes: readonly ChangeRow[]): TagStep {
  return { action: row.action, tag: row.text, at: row.createdAt, changes: changes.map(toChange) }
}
