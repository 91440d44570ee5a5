import { copyFileSync, mkdirSync, renameSync } from 'node:fs'
import { join, relative } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TagPhotosReport, TagUndoReport } from '../../src/shared/api'
import { type EngineApi, createEngineApi } from '../../src/main/engine/api/engineApi'
import { Engine } from '../../src/main/engine/engine'
import { addOnnxModel } from '../../src/main/engine/models/packBuilders'
import { HISTORY_STEPS } from '../../src/main/engine/tagging/tagHistory'
import type { PhotoTagRecord } from '../../src/main/engine/tagging/tagStore'
import { runCliCaptured } from '../helpers/runCliCaptured'
import { COCO_DIR, CONSE_ONNX, cocoPhotoNames, tempDir } from '../helpers/sharedData'

interface CliTagReport {
  tag: string
  action: string
  changed: Array<{ path: string; before: string | null; after: string | null }>
  unchanged: string[]
  failed: Array<{ path: string; reason: string }>
}

// Tagging many photos at once and undoing it, through the CLI and the API, on six COCO photos
// indexed with the ConSE pack (its suggestions come from the default vocabulary).
describe('tagging many photos as one action, undone and redone', () => {
  const tmp = tempDir()
  const dataDir = join(tmp.dir, 'data')
  const folder = join(tmp.dir, 'Photos')
  const names = cocoPhotoNames(6)
  const photo = (i: number) => join(folder, names[i])
  const cli = (...args: string[]) => runCliCaptured(['--data-dir', dataDir, '--ep', 'cpu', ...args])
  const json = async <T>(...args: string[]): Promise<T> => {
    const run = await cli('--json', ...args)
    expect(run.code, run.stderr).toBe(0)
    return JSON.parse(run.stdout) as T
  }
  let engine: Engine
  let api: EngineApi
  /** The vocabulary tag the tests decide on. */
  let tag: string

  const id = async (i: number) => (await engine.repositories()).photos.photoByPath(photo(i))!.id
  const record = async (i: number): Promise<PhotoTagRecord | undefined> => (await engine.repositories()).tags.photoTag(await id(i), tag)
  const records = (photos: number[]) => Promise.all(photos.map(record))

  beforeAll(async () => {
    mkdirSync(folder, { recursive: true })
    for (const name of names) copyFileSync(join(COCO_DIR, name), join(folder, name))
    engine = new Engine({ dataDir, executionProvider: 'cpu' })
    await addOnnxModel(engine.packs, { onnxPath: CONSE_ONNX, name: 'conse' })
    const library = await engine.library()
    library.addFolder(folder)
    expect(await library.index()).toMatchObject({ indexed: names.length, failed: 0 })
    // The tag among the 50 best suggestions of the most photos (photo 4's among them), so that the tests see it suggested.
    const suggested = new Map((await (await engine.tagger()).autotag(undefined, { top: 50 })).map((r) => [r.path, new Set(r.suggestions.map((s) => s.tag))]))
    const photosSuggesting = (t: string) => [...suggested.values()].filter((tags) => tags.has(t)).length
    tag = [...suggested.get(photo(4))!].sort((a, b) => photosSuggesting(b) - photosSuggesting(a))[0]
    expect(photosSuggesting(tag)).toBeGreaterThanOrEqual(4)
    api = createEngineApi(engine)
  }, 300_000)
  afterAll(async () => {
    await api.stop()
    await engine.close()
    tmp.cleanup()
  })

  it('accepts for three photos as one step, and undo puts back what each had, exactly', async () => {
    // Photo 0 had the tag rejected, photo 1 as the user's own, photo 2 nothing.
    expect((await cli('reject', photo(0), tag)).code).toBe(0)
    expect((await cli('add-tag', photo(1), tag)).code).toBe(0)
    const before = await records([0, 1, 2])
    expect(before.map((r) => r?.state)).toEqual(['rejected', 'user', undefined])

    const accepted = await json<CliTagReport>('accept', photo(0), photo(1), photo(2), '--tag', tag)
    expect(accepted.changed.map((c) => [c.path, c.before, c.after])).toEqual([
      [photo(0), 'rejected', 'accepted'],
      [photo(1), 'user', 'accepted'],
      [photo(2), null, 'accepted']
    ])
    const after = await records([0, 1, 2])
    expect(after.map((r) => r?.state)).toEqual(['accepted', 'accepted', 'accepted'])

    const undo = await cli('undo')
    expect(undo.code).toBe(0)
    expect(undo.stdout).toContain(`Undone: accept '${tag}' for 3 photos`)
    // State, source and date as they were; photo 2's tag, which the step made, is gone.
    expect(await records([0, 1, 2])).toEqual(before)

    const redo = await json<TagUndoReport>('redo')
    expect(redo.step).toMatchObject({ action: 'accept', tag })
    expect(redo.step!.changes).toHaveLength(3)
    expect(await records([0, 1, 2])).toEqual(after)

    // Undone again, then a new action: what redo would have applied is gone.
    expect((await cli('undo')).code).toBe(0)
    expect((await cli('accept', '--tag', tag, photo(3))).stdout).toContain(`Accepted '${tag}' for ${photo(3)}`)
    const nothing = await cli('redo')
    expect(nothing.code).toBe(0)
    expect(nothing.stdout).toMatch(/^Nothing to redo/)
    expect(await records([0, 1, 2])).toEqual(before)
    // Undo takes back the newest action, photo 3's accept, not the discarded batch.
    expect((await json<TagUndoReport>('undo')).step!.changes.map((c) => c.path)).toEqual([photo(3)])
    expect(await record(3)).toBeUndefined()
    expect(await records([0, 1, 2])).toEqual(before)
  })

  it('removes a tag without filing it as rejected, and undo puts it back', async () => {
    expect((await cli('accept', photo(4), tag)).code).toBe(0)
    const accepted = await record(4)
    const removed = await json<CliTagReport>('remove-tag', photo(4), photo(5), '--tag', tag)
    expect(removed.changed).toEqual([{ path: photo(4), before: 'accepted', after: null }])
    expect(removed.unchanged).toEqual([photo(5)])
    expect(await record(4)).toBeUndefined()
    const tags = await json<{ accepted: string[]; rejected: string[]; suggestions: Array<{ tag: string }> }>('tags', photo(4), '--top', '50')
    expect(tags.accepted).not.toContain(tag)
    expect(tags.rejected).not.toContain(tag)
    expect(tags.suggestions.map((s) => s.tag)).toContain(tag)
    expect((await cli('undo')).code).toBe(0)
    expect(await record(4)).toEqual(accepted)
    // The two-argument form works for remove-tag too.
    expect((await cli('remove-tag', photo(4), tag)).stdout).toContain(`Removed '${tag}' from ${photo(4)}`)
    expect(await record(4)).toBeUndefined()
  })

  it('reviews the photos a tag is suggested for, undecided, best first, as autotag ranks them', async () => {
    const top = 50
    const autotag = await json<Array<{ path: string; suggestions: Array<{ tag: string; score: number }> }>>('autotag', '--top', String(top))
    const expected = autotag.flatMap((r) => r.suggestions.filter((s) => s.tag === tag).map((s) => ({ path: r.path, score: s.score }))).sort((a, b) => b.score - a.score)
    const review = await json<Array<{ path: string; score: number }>>('review', tag, '--top', String(top))
    expect(review.length).toBeGreaterThanOrEqual(2)
    expect(review).toEqual(expected)
    for (let i = 1; i < review.length; i++) expect(review[i - 1].score).toBeGreaterThanOrEqual(review[i].score)
    // Decided photos (photo 0 rejected it, photo 1 has it as its own) are not among them.
    expect(review.map((r) => r.path)).not.toContain(photo(0))
    expect(review.map((r) => r.path)).not.toContain(photo(1))

    const [best] = review
    expect((await cli('accept', best.path, tag)).code).toBe(0)
    expect((await json<Array<{ path: string }>>('review', tag, '--top', String(top))).map((r) => r.path)).toEqual(review.slice(1).map((r) => r.path))
    expect((await cli('undo')).code).toBe(0)

    const unknown = await cli('review', 'qzxqzxq')
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain("'qzxqzxq' is not in the vocabulary")
  })

  it('takes paths relative to the current folder and ~ for the home folder', async () => {
    const cwd = process.cwd()
    const home = process.env.HOME
    try {
      process.chdir(folder)
      process.env.HOME = tmp.dir
      const report = await json<CliTagReport>('add-tag', names[4], join('~', relative(tmp.dir, photo(5))), '--tag', 'Summer House')
      expect(report.changed.map((c) => c.path)).toEqual([photo(4), photo(5)])
      const single = await cli('--json', 'add-tag', `~/${relative(tmp.dir, photo(2))}`, 'Summer House')
      expect(JSON.parse(single.stdout)).toEqual({ path: `~/${relative(tmp.dir, photo(2))}`, tag: 'Summer House', state: 'user' })
    } finally {
      process.chdir(cwd)
      process.env.HOME = home
    }
    expect(
      (await engine.repositories()).tags
        .photosWithTag('summer house')
        .map((p) => p.path)
        .sort()
    ).toEqual([photo(2), photo(4), photo(5)].sort())
  })

  it('names a photo not in the library with the reason, decides the others, and exits non-zero', async () => {
    const nowhere = join(tmp.dir, 'nowhere.jpg')
    const run = await cli('--json', 'reject', photo(2), nowhere, photo(3), '--tag', tag)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(`warning: ${nowhere} is not a photo of the library`)
    const report = JSON.parse(run.stdout) as CliTagReport
    expect(report.changed.map((c) => c.path)).toEqual([photo(2), photo(3)])
    expect(report.failed).toEqual([{ path: nowhere, reason: `${nowhere} is not a photo of the library` }])
    expect((await records([2, 3])).map((r) => r?.state)).toEqual(['rejected', 'rejected'])
    const untagged = await cli('accept', photo(2), photo(3), nowhere)
    expect(untagged.code).toBe(2)
    expect(untagged.stderr).toContain('name the tag with --tag')
    // The two-argument form fails as it always did.
    const single = await cli('accept', nowhere, tag)
    expect(single.code).toBe(1)
    expect(single.stderr).toContain(`error: ${nowhere} is not a photo of the library`)
    expect((await cli('undo')).code).toBe(0)
  })

  it('tags many photos through the API, each failure named, and the CLI undoes the window’s action', async () => {
    const ids = await Promise.all([2, 3, 4].map(id))
    const answer = await api.tagPhotos({ photos: [...ids, 999_999], tag, action: 'accept' })
    expect(answer.ok).toBe(true)
    const report = (answer as { value: TagPhotosReport }).value
    expect(report.step!.changes.map((c) => c.photo)).toEqual(ids)
    expect(report.failed).toEqual([expect.objectContaining({ photo: 999_999, path: null, reason: 'No photo 999999 in the library' })])
    expect(report.history.redo).toBe(0)
    const refused = await api.tagPhotos({ photos: [ids[0]], tag: 'qzxqzxq', action: 'reject' })
    expect(refused).toMatchObject({ ok: true, value: { step: null, failed: [{ reason: "'qzxqzxq' is not in the vocabulary" }] } })

    const undone = await json<TagUndoReport>('undo')
    expect(undone.step!.changes.map((c) => [c.photo, c.after])).toEqual(ids.map((i) => [i, 'accepted']))
    expect((await records([2, 3, 4])).map((r) => r?.state)).toEqual([undefined, undefined, undefined])
    const redone = await api.redoTagging()
    expect(redone).toMatchObject({ ok: true, value: { step: { action: 'accept', tag }, history: { redo: 0 } } })
    expect((await records([2, 3, 4])).map((r) => r?.state)).toEqual(['accepted', 'accepted', 'accepted'])
    expect(await api.undoTagging()).toMatchObject({ ok: true, value: { history: { redo: 1 } } })
  })

  it('restores a photo that went missing since, and leaves a tag changed since as it is', async () => {
    const tagger = await engine.tagger()
    const { tags } = await engine.repositories()
    const missingId = await id(5)
    await tagger.changeTag([missingId, await id(4)], tag, 'reject')
    renameSync(photo(5), join(tmp.dir, names[5]))
    expect((await (await engine.library()).index()).missing).toBe(1)
    // An import (here: the user's own keyword set outside the history) changes photo 4's tag after the step.
    tags.setPhotoTag(await id(4), tag, 'user')
    const changed = tags.photoTag(await id(4), tag)
    const undone = await tagger.undo()
    expect(undone.step!.changes.map((c) => c.photo)).toEqual([missingId])
    expect(undone.kept.map((c) => c.photo)).toEqual([await id(4)])
    expect(tags.photoTag(missingId, tag)).toBeUndefined()
    expect(tags.photoTag(await id(4), tag)).toEqual(changed)
    // A missing photo takes no new decisions.
    expect((await tagger.changeTag([missingId], tag, 'accept')).failed[0].reason).toMatch(/is missing/)
  })

  it(`keeps the last ${HISTORY_STEPS} steps`, async () => {
    const tagger = await engine.tagger()
    const photoId = await id(0)
    for (let i = 0; i <= HISTORY_STEPS; i++) await tagger.changeTag([photoId], 'Counter', i % 2 ? 'remove-tag' : 'add-tag')
    const { history } = await tagger.undo()
    expect(history).toEqual({ undo: HISTORY_STEPS - 1, redo: 1 })
  })
})
