import type {
  DecidedTag,
  PhotoDetails,
  PhotoDetailsOptions,
  PhotoId,
  PhotoTagsState,
  Result,
  SdlTaggerApi,
  TagPhotosReport,
  TagPhotosRequest,
  TagUndoReport
} from '../../../shared/api'
import type { Engine } from '../engine'
import { SdlError } from '../errors'
import { decodePrincipalVectors } from '../library/float16'
import type { PhotoRow } from '../library/photoCatalog'
import type { PackManifest } from '../models/packManifest'
import type { AutoTagger } from '../tagging/autoTagger'
import { keywordKey } from '../tagging/keywordText'
import { scoreAllTags, sdlScore } from '../tagging/scoreTags'
import type { EventHub } from './eventHub'
import { toResult } from './result'

export const PHOTO_METHODS = ['getPhoto', 'acceptTag', 'rejectTag', 'addTag', 'tagPhotos', 'undoTagging', 'redoTagging'] as const

/** Nearest words shown per facet (principal vector). */
const FACET_WORDS = 5

/** One photo: its details, tags with scores, facets, and the user's decisions on its tags. */
export class PhotosApi implements Pick<SdlTaggerApi, (typeof PHOTO_METHODS)[number]> {
  constructor(
    private readonly engine: Engine,
    private readonly events: EventHub
  ) {}

  getPhoto(id: PhotoId, options: PhotoDetailsOptions = {}): Promise<Result<PhotoDetails>> {
    return toResult(async () => {
      const row = await this.photoRow(id)
      const { catalog, tags, photos } = await this.engine.repositories()
      const manifest = await this.engine.manifest().catch(() => null)
      const vectors = manifest && row.status === 'ok' ? catalog.vectors(row.id, photos.modelId(manifest)) : undefined
      const { folderId: _folderId, ...summary } = row
      if (!manifest || !vectors) {
        const decided = tags.photoTags(row.id).map((t) => ({ ...t, score: null, unseen: false }))
        return { ...summary, indexed: false, tags: { decided, suggestions: [], scale: null }, facets: [] }
      }
      const principal = decodePrincipalVectors(vectors)
      return {
        ...summary,
        indexed: true,
        tags: await this.tagsState(row.id, row.path, principal, manifest, options),
        facets: await (await this.engine.tagger()).describeFacets(principal, FACET_WORDS)
      }
    }, this.engine.dataDir)
  }

  acceptTag(id: PhotoId, tag: string): Promise<Result<PhotoTagsState>> {
    return this.decide(id, async (path) => (await this.engine.tagger()).accept(path, tag))
  }

  rejectTag(id: PhotoId, tag: string): Promise<Result<PhotoTagsState>> {
    return this.decide(id, async (path) => (await this.engine.tagger()).reject(path, tag))
  }

  addTag(id: PhotoId, tag: string): Promise<Result<PhotoTagsState>> {
    return this.decide(id, async (path) => void (await (await this.engine.tagger()).addTag(path, tag)))
  }

  tagPhotos(request: TagPhotosRequest): Promise<Result<TagPhotosReport>> {
    return this.changeTags((tagger) => tagger.changeTag(request.photos, request.tag, request.action))
  }

  undoTagging(): Promise<Result<TagUndoReport>> {
    return this.changeTags((tagger) => tagger.undo())
  }

  redoTagging(): Promise<Result<TagUndoReport>> {
    return this.changeTags((tagger) => tagger.redo())
  }

  /** A change to many photos' tags; the windows hear of it when a step was taken. */
  private changeTags<T extends { step: unknown }>(change: (tagger: AutoTagger) => Promise<T>): Promise<Result<T>> {
    return toResult(async () => {
      const report = await change(await this.engine.tagger())
      if (report.step) this.events.emit({ type: 'library-changed', change: 'tags' })
      return report
    }, this.engine.dataDir)
  }

  private async photoRow(id: PhotoId): Promise<PhotoRow> {
    const row = (await this.engine.repositories()).catalog.byId(id)
    if (!row) throw new SdlError(`No photo ${id} in the library`, 'It may have been deleted or its folder removed; reload the library.')
    return row
  }

  private decide(id: PhotoId, change: (path: string) => Promise<void>): Promise<Result<PhotoTagsState>> {
    return toResult(async () => {
      const row = await this.photoRow(id)
      if (row.missingSince) throw new SdlError(`${row.path} is missing (its file is gone)`, 'Put the file back in a library folder and index, then decide on its tags.')
      await change(row.path)
      this.events.emit({ type: 'library-changed', change: 'tags' })
      const { catalog, photos } = await this.engine.repositories()
      const manifest = await this.engine.manifest()
      const vectors = catalog.vectors(row.id, photos.modelId(manifest))!
      return this.tagsState(row.id, row.path, decodePrincipalVectors(vectors), manifest, {})
    }, this.engine.dataDir)
  }

  /** Decided tags with their scores, and the best undecided suggestions. */
  private async tagsState(photoId: number, path: string, principal: Float32Array, manifest: PackManifest, options: PhotoDetailsOptions): Promise<PhotoTagsState> {
    const settings = await this.engine.settings.get()
    const tagger = await this.engine.tagger()
    const suggestions = await tagger.suggestions(path, {
      top: options.top ?? settings.suggestionCount,
      minScore: options.minScore ?? settings.minScore ?? undefined
    })
    const vocab = await tagger.vocabulary()
    const scores = scoreAllTags(principal, manifest.rows, vocab)
    // Decided tags are spelled as the user wrote them; the vocabulary's may differ in case.
    const index = new Map(vocab.tags.map((t, i) => [keywordKey(t), i]))
    const lexicon = await tagger.lexicon()
    const decided: DecidedTag[] = (await this.engine.repositories()).tags.photoTags(photoId).map(({ tag, state }) => {
      const i = index.get(keywordKey(tag))
      if (i !== undefined) return { tag, state, score: scores[i], unseen: vocab.unseen.has(vocab.tags[i]) }
      // An own tag outside the vocabulary: scored the same way, from the lexicon's vector.
      const found = lexicon.lookup(tag)
      return { tag, state, score: found.ok ? sdlScore(principal, manifest.rows, found.vector).score : null, unseen: true }
    })
    return { decided, suggestions, scale: await tagger.scoreScale() }
  }
}
