import type { PhotoId, TagAction, TagPhotosReport, TagStep, TagUndoReport } from '../../../shared/api'
import { api } from '../api/bridge'
import { plural } from '../lib/format'
import { attempt, showError, showNotice, store } from './store'

/** An action in words, as the notice after it says it: "Accepted ‘beach’ for 12 photos". */
export function describeStep(action: TagAction, tag: string, photos: number): string {
  const count = plural(photos, 'photo')
  switch (action) {
    case 'accept':
      return `Accepted ‘${tag}’ for ${count}`
    case 'reject':
      return `Rejected ‘${tag}’ for ${count}`
    case 'add-tag':
      return `Added ‘${tag}’ to ${count}`
    case 'remove-tag':
      return `Removed ‘${tag}’ from ${count}`
  }
}

function describe(step: TagStep): string {
  return describeStep(step.action, step.tag, step.changes.length)
}

const ACTION_VERBS: Record<TagAction, string> = { accept: 'Accepting', reject: 'Rejecting', 'add-tag': 'Adding', 'remove-tag': 'Removing' }

/** Says what a tagging action did, with an Undo; names the photos that could not take it. */
export function reportTagged(action: TagAction, report: TagPhotosReport): void {
  if (report.step) showNotice(describe(report.step), { label: 'Undo', run: () => void undoTagging() })
  else if (report.unchanged.length) showNotice(`Nothing to change: ${plural(report.unchanged.length, 'photo')} had ‘${report.tag}’ so already`)
  const [first, ...more] = report.failed
  if (first) {
    const also = more.length ? ` (and ${plural(more.length, 'more photo')})` : ''
    showError(`${ACTION_VERBS[action]} ‘${report.tag}’ for ${plural(report.failed.length, 'photo')}`, { message: `${first.reason}${also}`, hint: first.hint })
  }
}

/** One action on one tag for many photos, as one step that Ctrl+Z undoes; null when it could not run (the error is shown). */
export async function tagPhotos(photos: PhotoId[], tag: string, action: TagAction): Promise<TagPhotosReport | null> {
  const report = await attempt(`Tagging ${plural(photos.length, 'photo')}`, api.tagPhotos({ photos, tag, action }))
  if (!report) return null
  reportTagged(action, report)
  if (report.step) store.tagsVersion++
  return report
}

function reportHistory(report: TagUndoReport | null, undone: boolean): void {
  if (!report) return
  if (!report.step) {
    showNotice(undone ? 'Nothing to undo' : 'Nothing to redo')
    return
  }
  store.tagsVersion++
  const kept = report.kept.length ? `; ${plural(report.kept.length, 'photo')} changed since kept as they are` : ''
  showNotice(
    `${undone ? 'Undone' : 'Redone'}: ${describe(report.step).replace(/^\w/, (c) => c.toLowerCase())}${kept}`,
    undone ? { label: 'Redo', run: () => void redoTagging() } : { label: 'Undo', run: () => void undoTagging() }
  )
}

/** Takes back the last tagging action (of this window, another one or the CLI: the history is the library's). */
export async function undoTagging(): Promise<void> {
  reportHistory(await attempt('Undoing the last tagging action', api.undoTagging()), true)
}

export async function redoTagging(): Promise<void> {
  reportHistory(await attempt('Redoing the tagging action undone last', api.redoTagging()), false)
}
